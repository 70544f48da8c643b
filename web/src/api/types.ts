// Shapes of the JSON the API returns. The OpenAPI document (openapi.json,
// generated from the server's route table) describes routes and parameters
// but its responses are plain "object"s, so the bodies are written down here
// from src/repo/json.cpp (ToJson of each repository type).

export type Role = "reader" | "contributor" | "curator" | "admin";
export type Visibility = "public" | "group" | "private";

export interface Creator {
  name: string;
  orcid?: string;
}

export interface Metadata {
  title: string;
  description: string;
  creators: Creator[];
  license: string;
  keywords: string[];
  organ_systems: string[];
  diseases: string[];
  scales: string[];
  context_of_use: string;
  references: string[];
  annotations: string[];
  credibility_level: string; // "", "low", "medium", "high"
}

export interface Resource {
  id: string;
  kind: string;
  owner: string;
  visibility: Visibility;
  group: string;
  created_ms: number;
  updated_ms: number;
  version_count: number;
  latest_version: string;
  metadata: Metadata;
  rating: number;
  review_count: number;
}

export interface Provenance {
  derived_from: string[];
  validated_by: string[];
  generated_by: string;
  software_version: string;
  inputs: string[];
}

export interface FileEntry {
  path: string;
  sha256: string;
  size: number;
  media_type: string;
}

export interface Version {
  resource_id: string;
  hash: string;
  number: number;
  message: string;
  author: string;
  created_ms: number;
  metadata: Metadata;
  provenance: Provenance;
  files: FileEntry[];
}

export interface Page<T> {
  items: T[];
  total: number;
  limit?: number;
  offset?: number;
  next_offset?: number | null;
}

export interface FacetCount {
  value: string;
  count: number;
}

export interface SearchResult extends Page<Resource> {
  facets: Record<string, FacetCount[]>;
  query: string;
}

export interface Feedback {
  id: string;
  resource_id: string;
  kind: "comment" | "review";
  author: string;
  text: string;
  rating: number;
  hidden: boolean;
  moderation_note: string;
  created_ms: number;
}

export interface User {
  name: string;
  role: Role;
  groups: string[];
  created_ms: number;
}

/** GET /v1/me (src/server/json_codec.cpp ToJson(Principal)). */
export interface Me {
  user: string; // "" when anonymous
  anonymous: boolean;
  role: Role | "anonymous";
  groups: string[];
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
}
