// The API client: openapi-fetch over the types openapi-typescript generates
// from openapi.json (the server's own /v1/openapi.json), so a path or query
// parameter the server does not have is a compile error. The token of the
// signed-in user (sessionStorage) is sent as a Bearer header on every call.

import createClient, { type Middleware } from "openapi-fetch";
import type { paths } from "./schema";
import type { Problem } from "./types";

const TOKEN_KEY = "soma.token";

export function storedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function storeToken(token: string | null): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export function authHeaders(): Record<string, string> {
  const t = storedToken();
  return t ? { Authorization: `Bearer ${t}` } : {};
}

/** An API error: the problem document's fields, or the bare HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
  ) {
    super(detail ? `${title}: ${detail}` : title);
  }
}

const auth: Middleware = {
  onRequest({ request }) {
    const token = storedToken();
    if (token && !request.headers.has("Authorization")) request.headers.set("Authorization", `Bearer ${token}`);
    return request;
  },
};

export const api = createClient<paths>({ baseUrl: window.location.origin });
api.use(auth);

function toApiError(response: Response, error: unknown): ApiError {
  const p = (error ?? {}) as Partial<Problem>;
  return new ApiError(response.status, p.title ?? response.statusText ?? "Error", p.detail ?? "");
}

/**
 * The body of a successful openapi-fetch call as `T`, or throws ApiError.
 * (The document declares response bodies only as "object"; types.ts has the shapes.)
 */
export async function body<T>(call: Promise<{ data?: unknown; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) throw toApiError(response, error);
  return data as T;
}

/** A raw fetch (for routes not in this build's openapi.json, and for files) with auth and problem errors. */
export async function request(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  for (const [k, v] of Object.entries(authHeaders())) if (!headers.has(k)) headers.set(k, v);
  const response = await fetch(path, { ...init, headers });
  if (!response.ok) {
    let problem: unknown = null;
    try {
      problem = await response.json();
    } catch {
      problem = null;
    }
    throw toApiError(response, problem);
  }
  return response;
}

export async function requestJson<T>(path: string, init: RequestInit = {}): Promise<T> {
  const headers = new Headers(init.headers);
  if (init.body && !headers.has("Content-Type")) headers.set("Content-Type", "application/json");
  const response = await request(path, { ...init, headers });
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** Which routes the server has (from its live /v1/openapi.json), cached per page load. */
let routesPromise: Promise<Set<string>> | null = null;
export function serverRoutes(): Promise<Set<string>> {
  routesPromise ??= fetch("/v1/openapi.json")
    .then((r) => (r.ok ? r.json() : { paths: {} }))
    .then((doc: { paths?: Record<string, unknown> }) => new Set(Object.keys(doc.paths ?? {})));
  return routesPromise;
}
