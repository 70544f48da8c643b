// Stand-ins for API routes that this server does not have yet (the twins
// and jobs routes are built on other branches), answering in the shapes
// their documentation gives (docs/twins.md "HTTP API", docs/api.md "Jobs").
// They let the e2e test drive the twin dashboard, what-if and trial pages
// through the browser; the numbers are synthetic and only the UI is under
// test. Used only for routes missing from the live /v1/openapi.json.

const json = (route, body, status = 200) => route.fulfill({ status, contentType: "application/json", body: JSON.stringify(body) });

/** Adds the missing paths to the live openapi.json the page reads. */
export async function mockOpenApi(page, extraPaths) {
  await page.route("**/v1/openapi.json", async (route) => {
    const response = await route.fetch();
    const doc = await response.json();
    for (const p of extraPaths) doc.paths[p] ??= { get: { summary: "e2e stand-in (documented shape)" } };
    await json(route, doc);
  });
}

export async function mockTwins(page) {
  const definition = {
    schema: "soma.twin/1",
    title: "T1D twin (e2e stand-in)",
    time_unit_seconds: 60,
    observations: [{ loinc: "99504-3", symbol: "CGM", unit: "mg/dL" }],
    alerts: [{ name: "hypo-30min", symbol: "CGM", below: 70, within: 30, probability: 0.2 }],
    forecast: { horizon: 120, step: 5, quantiles: [0.05, 0.5, 0.95] },
  };
  const obs = Array.from({ length: 25 }, (_, i) => ({ time: i * 20, unix: 1714636800 + i * 1200, loinc: "99504-3", symbol: "CGM", value: 120 + 40 * Math.sin(i / 4), unit: "mg/dL" }));
  const twin = {
    id: "twin-e2e",
    title: definition.title,
    owner: "alice",
    visibility: "private",
    version: 3,
    definition,
    subject: "psn-3f2a9c",
    time: 480,
    time_unix: 1714665600,
    estimate: { method: "enkf", parameters: [{ id: "Vmx", mean: 0.034, median: 0.033, lower95: 0.027, upper95: 0.041 }, { id: "kp3", mean: 0.012, median: 0.012, lower95: 0.009, upper95: 0.015 }] },
    fit: null,
    observations: obs.length,
    interventions: 2,
    latest: { CGM: { value: 108.0, unit: "mg/dL", time: 480, unix: 1714665600 } },
    ensemble_size: 40,
    issue_count: 0,
    events: [{ seq: 1, type: "observation", time: 480, data: {} }],
  };
  const times = Array.from({ length: 25 }, (_, i) => 480 + i * 5);
  const mean = times.map((t, i) => 130 - i * 2.2);
  const forecast = {
    twin: "twin-e2e",
    start: 480,
    horizon: 120,
    step: 5,
    quantiles: [0.05, 0.5, 0.95],
    series: { CGM: { times, mean, quantiles: [mean.map((m, i) => m - 8 - i), mean, mean.map((m, i) => m + 8 + i)] } },
    alerts: [],
  };
  await page.route("**/v1/twins?*", (r) => json(r, { items: [{ id: "twin-e2e", title: definition.title, owner: "alice", visibility: "private", version: 3, updated_ms: 1714665600000 }], total: 1, limit: 100, offset: 0, next_offset: null }));
  await page.route("**/v1/twins/twin-e2e", (r) => json(r, twin));
  await page.route("**/v1/twins/twin-e2e/forecast", (r) => json(r, forecast));
  await page.route("**/v1/resources/twin-e2e/versions/latest/files/state.json", (r) =>
    json(r, { schema: "soma.twin-state/1", history: { observations: obs, interventions: [{ type: "meal", time: 420, grams: 45 }, { type: "bolus", time: 420, target: "Isc1", amount: 351.8 }] } }),
  );
  let served = 0;
  await page.route("**/v1/twins/twin-e2e/events", (r) => {
    served += 1;
    const body =
      served === 1
        ? `: keep-alive\n\nid: 2\nevent: alert\ndata: {"seq": 2, "type": "alert", "time": 485.0, "data": {"name": "hypo-30min", "probability": 0.35, "message": "CGM below 70 within 30 with probability 0.35"}}\n\n`
        : ": keep-alive\n\n";
    return r.fulfill({ status: 200, contentType: "text/event-stream", body });
  });
}

export async function mockJobs(page) {
  const jobs = new Map();
  let n = 0;
  await page.route("**/v1/jobs", async (route) => {
    if (route.request().method() !== "POST") return json(route, { items: [...jobs.values()].map((j) => j.job), total: jobs.size });
    const req = route.request().postDataJSON();
    n += 1;
    const id = `job-e2e-${n}`;
    const total = req.kind === "trial" ? req.trial.population.size : req.scenarios.length;
    const job = { id, kind: req.kind, title: req.title ?? "", state: "queued", cancel_requested: false, owner: "alice", model: { id: req.model.id, version: "0".repeat(64) }, progress: 0, done: 0, total, eta_seconds: null, created_ms: Date.now(), started_ms: null, finished_ms: null, result: null, error: null };
    jobs.set(id, { job, req, polls: 0 });
    return json(route, job, 202);
  });
  await page.route("**/v1/jobs/*", async (route) => {
    const id = decodeURIComponent(new URL(route.request().url()).pathname.split("/")[3]);
    const entry = jobs.get(id);
    if (!entry) return json(route, { type: "urn:soma:error:not-found", title: "Not Found", status: 404, detail: `job '${id}' not found` }, 404);
    if (route.request().method() === "DELETE") {
      entry.job.state = "cancelled";
      return json(route, entry.job, 202);
    }
    entry.polls += 1;
    if (entry.job.state !== "cancelled") {
      entry.job.state = entry.polls < 3 ? "running" : "succeeded";
      entry.job.progress = Math.min(1, entry.polls / 3);
      entry.job.done = Math.round(entry.job.progress * entry.job.total);
      entry.job.eta_seconds = entry.polls < 3 ? 3 - entry.polls : 0;
      if (entry.job.state === "succeeded") entry.job.result = `result-${id}`;
    }
    return json(route, entry.job);
  });
  await page.route("**/v1/jobs/*/result", async (route) => {
    const id = decodeURIComponent(new URL(route.request().url()).pathname.split("/")[3]);
    const { req } = jobs.get(id);
    if (req.kind === "scenario-compare") {
      return json(route, {
        kind: "scenario-compare",
        model: { id: req.model.id, version: "0".repeat(64) },
        scenarios: req.scenarios.map((s, k) => {
          const rows = Array.from({ length: 49 }, (_, i) => [i * 30, 120 + 30 * Math.sin(i / 6) + 10 * k, 100 + 25 * Math.sin(i / 6) + 10 * k, 15 + k]);
          return { scenario: s.name, columns: ["time", "BG", "CGM", "I"], rows, outcomes: { time_in_range: 0.8 - 0.1 * k, mean_BG: 131 + 10 * k, max_BG: 190 + 12 * k } };
        }),
      });
    }
    const sc = req.trial.scenarios.map((s) => s.name);
    const outcome = (s, name, mean) => ({ scenario: s, outcome: name, n: req.trial.population.size, mean, sd: mean * 0.1, percentiles: { p5: mean * 0.85, p25: mean * 0.93, p50: mean, p75: mean * 1.07, p95: mean * 1.15 } });
    return json(route, {
      trial: req.trial.name,
      members: req.trial.population.size,
      failed: 0,
      scenarios: sc,
      outcomes: sc.flatMap((s, k) => [outcome(s, "time_in_range", 0.75 - 0.05 * k), outcome(s, "mean_BG", 135 + 8 * k)]),
      differences_from_baseline: sc.slice(1).flatMap((s) => [outcome(s, "time_in_range", -0.05), outcome(s, "mean_BG", 8)]),
      model: { id: req.model.id, version: "0".repeat(64) },
      ...(req.trial.sensitivity?.method === "sobol"
        ? {
            sensitivity: {
              method: "sobol",
              inputs: Object.keys(req.trial.population.parameters),
              runs: req.trial.sensitivity.samples * (Object.keys(req.trial.population.parameters).length + 2),
              failed_runs: 0,
              outcomes: sc.flatMap((s) =>
                ["time_in_range", "mean_BG"].map((o) => {
                  const d = Object.keys(req.trial.population.parameters).length;
                  const first = Array.from({ length: d }, (_, i) => 0.6 / (i + 1));
                  return { scenario: s, outcome: o, first, first_low: first.map((v) => v - 0.05), first_high: first.map((v) => v + 0.05), total: first.map((v) => v + 0.1), total_low: first.map((v) => v + 0.05), total_high: first.map((v) => v + 0.15), mean: 1, variance: 1 };
                }),
              ),
            },
          }
        : {}),
    });
  });
  await page.route("**/v1/resources/result-*/versions/latest/files/*", async (route) => {
    const url = new URL(route.request().url());
    const id = url.pathname.split("/")[3].replace(/^result-/, "");
    const { req } = jobs.get(id);
    const sc = req.trial.scenarios.map((s) => s.name);
    const params = Object.keys(req.trial.population.parameters);
    if (url.pathname.endsWith("/members.csv")) {
      const header = ["member", "name", ...params, ...sc.flatMap((s) => [`${s}.time_in_range`, `${s}.mean_BG`]), "error"];
      const lines = [header.join(",")];
      for (let m = 0; m < req.trial.population.size; m += 1) {
        const p = params.map((_, j) => 0.02 + 0.01 * (((m * (j + 3)) % 7) / 7));
        lines.push([m, "", ...p, ...sc.flatMap((_, k) => [0.7 + 0.2 * p[0] * 10 - 0.05 * k, 150 - 500 * p[0] + 8 * k]), ""].join(","));
      }
      return route.fulfill({ status: 200, contentType: "text/csv", body: lines.join("\n") + "\n" });
    }
    if (url.pathname.endsWith("/bands.csv")) {
      const lines = ["scenario,variable,time,p5,p25,p50,p75,p95"];
      for (const [k, s] of sc.entries()) for (let i = 0; i <= 48; i += 1) { const m = 120 + 30 * Math.sin(i / 6) + 8 * k; lines.push([s, "BG", i * 30, m - 25, m - 10, m, m + 10, m + 25].join(",")); }
      return route.fulfill({ status: 200, contentType: "text/csv", body: lines.join("\n") + "\n" });
    }
    return json(route, { type: "urn:soma:error:not-found", title: "Not Found", status: 404, detail: "no such file" }, 404);
  });
}
