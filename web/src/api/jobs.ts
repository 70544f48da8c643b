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
  title?: string;
  owner: string;
  cancel_requested?: boolean;
  created_ms?: number;
  started_ms?: number | null;
  finished_ms?: number | null;
  model: { id: string; version: string };
  /** 0..1 = done / total (members of a trial, scenarios of a comparison). */
  progress: number;
  done?: number;
  total?: number;
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
  /** When the trial asked for "sensitivity" (docs/trials.md, "Sensitivity of the outcomes"). */
  sensitivity?: TrialSensitivity;
  model?: { id: string; version: string };
}

/** Global sensitivity indices, one value per input (in `inputs` order). */
export interface SensitivityOutcome {
  scenario: string;
  outcome: string;
  // Sobol
  first?: number[];
  first_low?: number[];
  first_high?: number[];
  total?: number[];
  total_low?: number[];
  total_high?: number[];
  // Morris
  mu?: number[];
  mu_star?: number[];
  sigma?: number[];
  mean?: number;
  variance?: number;
  error?: string;
}

export interface TrialSensitivity {
  method: "sobol" | "morris";
  inputs: string[];
  runs: number;
  failed_runs: number;
  outcomes: SensitivityOutcome[];
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
