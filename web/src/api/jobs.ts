// The jobs API (scenario comparisons and trials), as documented in
// docs/api.md "Jobs". These routes are added by a parallel branch; until
// this build's openapi.json has them the calls go through `requestJson`
// (same auth and problem handling) and pages check `serverRoutes()` first.

import { requestJson, serverRoutes } from "./client";

export type JobState = "queued" | "running" | "succeeded" | "failed" | "cancelled";

export interface Job {
  id: string;
  kind: "scenario-compare" | "trial";
  state: JobState;
  owner: string;
  created: string;
  model: { id: string; version: string };
  progress: number;
  eta_seconds: number | null;
  result: string | null;
  error: { title?: string; detail?: string } | string | null;
}

export interface ScenarioRunResult {
  scenario: string;
  columns: string[];
  rows: number[][];
  outcomes: Record<string, number | null>;
  /** Present when the server reports bands (e.g. from an ensemble): per variable lower/upper rows. */
  bands?: Record<string, { lower: number[]; upper: number[]; level?: string }>;
}

export interface CompareResult {
  kind: string;
  model: { id: string; version: string };
  scenarios: ScenarioRunResult[];
}

export interface OutcomeSummary {
  scenario: string;
  outcome: string;
  n: number;
  mean: number;
  sd: number;
  percentiles: Record<string, number | null>;
}

export interface TrialResult {
  trial: string;
  members: number;
  failed: number;
  scenarios: string[];
  outcomes: OutcomeSummary[];
  differences_from_baseline: OutcomeSummary[];
  /** Optional, when the server includes them: sensitivity indices per outcome. */
  sensitivity?: unknown;
}

export async function jobsAvailable(): Promise<boolean> {
  return (await serverRoutes()).has("/v1/jobs");
}

export function startJob(body: Record<string, unknown>): Promise<Job> {
  return requestJson<Job>("/v1/jobs", { method: "POST", body: JSON.stringify(body) });
}

export function getJob(id: string): Promise<Job> {
  return requestJson<Job>(`/v1/jobs/${encodeURIComponent(id)}`);
}

export function cancelJob(id: string): Promise<unknown> {
  return requestJson(`/v1/jobs/${encodeURIComponent(id)}`, { method: "DELETE" });
}

export function jobResult<T>(id: string): Promise<T> {
  return requestJson<T>(`/v1/jobs/${encodeURIComponent(id)}/result`);
}

export function jobErrorText(job: Job): string {
  if (!job.error) return job.state;
  if (typeof job.error === "string") return job.error;
  return job.error.detail || job.error.title || job.state;
}

/** Polls a job until it leaves queued/running, reporting each state. */
export async function waitForJob(id: string, onUpdate: (job: Job) => void, signal: { cancelled: boolean }): Promise<Job> {
  let delay = 300;
  for (;;) {
    const job = await getJob(id);
    onUpdate(job);
    if (job.state !== "queued" && job.state !== "running") return job;
    if (signal.cancelled) return job;
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(2000, delay * 1.5);
  }
}
