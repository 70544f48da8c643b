// The twins API as documented in docs/twins.md ("HTTP API"), added by a
// parallel branch: Twin, TwinSummary, Forecast and the SSE event stream
// /v1/twins/{id}/events. Calls go through `requestJson` until this build's
// openapi.json has the routes.

import { requestJson, serverRoutes, storedToken } from "./client";
import type { Page } from "./types";

/** An estimate: the ensemble's (mean, median) or the fit's (value, identifiable, at_bound). */
export interface TwinParameterEstimate {
  id: string;
  mean?: number;
  value?: number;
  median?: number;
  lower95: number;
  upper95: number;
  identifiable?: boolean;
  at_bound?: boolean;
  /** The fit's profile likelihood interval, when the fit was asked for it (`"profile": true`). */
  profile?: { lower95: number; upper95: number; lower_open: boolean; upper_open: boolean; threshold?: number; points?: [number, number][] };
}

export interface TwinEvent {
  seq: number;
  type: "observation" | "forecast" | "alert" | "fit" | string;
  time: number;
  data: Record<string, unknown>;
}

export interface Twin {
  id: string;
  title?: string;
  owner: string;
  visibility: string;
  version: number;
  definition: {
    title?: string;
    time_unit_seconds?: number;
    observations?: { loinc: string; symbol: string; unit: string }[];
    alerts?: { name: string; symbol: string; below?: number; above?: number; within: number; probability?: number }[];
    forecast?: { horizon?: number; step?: number; quantiles?: number[] };
    inputs?: { meal?: unknown; doses?: { name: string; kind: "bolus" | "infusion"; unit: string }[] };
  };
  subject: string;
  time: number;
  time_unix: number;
  estimate: { method?: string; parameters: TwinParameterEstimate[] } | null;
  fit: { method?: string; converged?: boolean; report?: string; parameters?: TwinParameterEstimate[] } | null;
  observations: number;
  interventions: number;
  /** The last assimilated value per observed symbol. */
  latest: Record<string, { value: number; unit: string; time: number; unix: number }>;
  events: TwinEvent[];
  ensemble_size?: number;
  issue_count?: number;
}

/** List items carry only the resource fields (reading each twin's state would audit a read per item). */
export interface TwinSummary {
  id: string;
  title: string;
  owner: string;
  visibility: string;
  version: number;
  updated_ms: number;
}

export interface ForecastSeries {
  times: number[];
  times_unix?: number[];
  mean: number[];
  quantiles: number[][];
}

export interface Forecast {
  twin: string;
  start: number;
  start_unix?: number;
  horizon: number;
  step: number;
  quantiles: number[];
  series: Record<string, ForecastSeries>;
  alerts: { name: string; symbol: string; probability: number; first_time: number | null; message: string }[];
}

/** The twin's history: observations and interventions, from state.json of its latest version. */
export interface TwinHistory {
  observations: { time: number; symbol: string; value: number; unit: string; loinc?: string }[];
  interventions: { type: string; time?: number; start?: number; duration?: number; grams?: number; amount?: number; rate?: number; target?: string }[];
}

export async function twinsAvailable(): Promise<boolean> {
  return (await serverRoutes()).has("/v1/twins");
}

export const listTwins = () => requestJson<Page<TwinSummary>>("/v1/twins?limit=100");
export const getTwin = (id: string) => requestJson<Twin>(`/v1/twins/${encodeURIComponent(id)}`);
export const forecastTwin = (id: string, body: { horizon?: number; step?: number }) =>
  requestJson<Forecast>(`/v1/twins/${encodeURIComponent(id)}/forecast`, { method: "POST", body: JSON.stringify(body) });

/** What-if (POST /v1/twins/{id}/whatif): forecasts from the twin's time under plans of meals and doses. */
export type WhatIfAction = { meal: number; in: number } | { dose: string; amount?: number; rate?: number; unit: string; in: number; for?: number };
export interface WhatIf {
  twin: string;
  version: number;
  scenarios: (Forecast & { name: string; interventions: unknown[] })[];
}
export const whatIfTwin = (id: string, body: { horizon?: number; step?: number; scenarios: { name: string; actions?: WhatIfAction[] }[] }) =>
  requestJson<WhatIf>(`/v1/twins/${encodeURIComponent(id)}/whatif`, { method: "POST", body: JSON.stringify(body) });

/** A personalisation job (POST /v1/twins/{id}/fit; GET /v1/twins/{id}/fit/{job}). */
export interface TwinFitJob {
  id: string;
  state: "queued" | "running" | "done" | "failed" | string;
  progress: number;
  message?: string;
  error?: { code: string; detail: string };
}
export const startTwinFit = (id: string, body: { multistart?: number; profile?: boolean }) =>
  requestJson<TwinFitJob>(`/v1/twins/${encodeURIComponent(id)}/fit`, { method: "POST", body: JSON.stringify(body) });
export const getTwinFit = (id: string, job: string) =>
  requestJson<TwinFitJob>(`/v1/twins/${encodeURIComponent(id)}/fit/${encodeURIComponent(job)}`);

/** The history from time 0 to the twin's time replayed with its personalised parameters (no observation noise in the band). */
export const hindcastTwin = (id: string, step?: number) =>
  requestJson<Forecast>(`/v1/twins/${encodeURIComponent(id)}/hindcast${step ? `?step=${step}` : ""}`);

export async function twinHistory(id: string): Promise<TwinHistory> {
  const state = await requestJson<{ history?: TwinHistory }>(`/v1/resources/${encodeURIComponent(id)}/versions/latest/files/state.json`);
  return { observations: state.history?.observations ?? [], interventions: state.history?.interventions ?? [] };
}

/**
 * Subscribes to the twin's server-sent events. EventSource cannot send an
 * Authorization header, so the stream is read with fetch (same SSE format:
 * id/event/data lines, ": keep-alive" comments) and reconnects with
 * Last-Event-ID after a drop. Returns a function that stops it.
 */
export function subscribeTwinEvents(
  id: string,
  onEvent: (e: TwinEvent) => void,
  onStatus: (status: "open" | "closed" | "error", detail?: string) => void,
): () => void {
  const controller = new AbortController();
  let lastId = "";
  let stopped = false;
  const run = async () => {
    while (!stopped) {
      try {
        const headers: Record<string, string> = { Accept: "text/event-stream" };
        const token = storedToken();
        if (token) headers.Authorization = `Bearer ${token}`;
        if (lastId) headers["Last-Event-ID"] = lastId;
        const response = await fetch(`/v1/twins/${encodeURIComponent(id)}/events`, { headers, signal: controller.signal });
        if (!response.ok || !response.body) {
          onStatus("error", `HTTP ${response.status}`);
          if (response.status === 401 || response.status === 403 || response.status === 404) return;
        } else {
          onStatus("open");
          const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
          let buffer = "";
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            buffer += value;
            let end: number;
            while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
              const block = buffer.slice(0, end);
              buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, "");
              const parsed = parseSseBlock(block);
              if (!parsed) continue;
              if (parsed.id) lastId = parsed.id;
              try {
                const ev = JSON.parse(parsed.data) as TwinEvent;
                if (!ev.type && parsed.event) ev.type = parsed.event;
                onEvent(ev);
              } catch {
                onStatus("error", "an event's data was not JSON");
              }
            }
          }
          onStatus("closed");
        }
      } catch (e) {
        if (stopped) return;
        onStatus("error", (e as Error).message);
      }
      await new Promise((r) => setTimeout(r, 2000));
    }
  };
  void run();
  return () => {
    stopped = true;
    controller.abort();
  };
}

export function parseSseBlock(block: string): { id: string; event: string; data: string } | null {
  let id = "";
  let event = "message";
  const data: string[] = [];
  for (const line of block.split(/\r?\n/)) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "id") id = value;
    else if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  return data.length ? { id, event, data: data.join("\n") } : null;
}
