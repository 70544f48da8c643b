// Trials: define a virtual population and the scenarios, start the trial as
// a job, watch its progress (cancel), then see the outcome summaries, the
// distribution of each outcome over the population (histograms from the
// result's members.csv), percentile bands over time (bands.csv, when the
// result has it) and sensitivity indices as bar charts: the server's Sobol
// (first and total order with bootstrap intervals) or Morris (mu*, sigma)
// indices when the trial asked for them, else Spearman rank correlation of
// each sampled parameter with the outcome over the members.

import { request } from "../api/client";
import { cancelJob, jobErrorText, jobResult, jobsAvailable, startJob, waitForJob, type Job, type TrialResult, type TrialSensitivity } from "../api/jobs";
import { barChart, histogram, timeChart } from "../charts/charts";
import { parseBandsCsv, parseMembersCsv, spearman, type MembersTable } from "../lib/stats.js";
import { me } from "../session";
import { field, formatNumber, h, message } from "../ui/dom";
import { listTwins, twinsAvailable } from "../api/twins";
import type { RouteMatch } from "../router";
import { modelPicker } from "./model_picker";
import { TEMPLATES, cloneScenario } from "./scenario_editor";
import { progressView } from "./whatif";

interface ParamRow {
  name: string;
  distribution: "lognormal" | "normal" | "uniform";
  a: number; // median | mean | lower
  b: number; // cv | sd | upper
}

const DEFAULT_PARAMS: ParamRow[] = [
  { name: "Vmx", distribution: "lognormal", a: 0.031319, b: 0.3 },
  { name: "kp3", distribution: "lognormal", a: 0.01208, b: 0.3 },
  { name: "m30", distribution: "lognormal", a: 0.23169, b: 0.3 },
];

function paramSpec(p: ParamRow): Record<string, unknown> {
  if (p.distribution === "lognormal") return { distribution: "lognormal", median: p.a, cv: p.b };
  if (p.distribution === "normal") return { distribution: "normal", mean: p.a, sd: p.b };
  return { distribution: "uniform", lower: p.a, upper: p.b };
}

export async function trialsPage(main: HTMLElement, match?: RouteMatch): Promise<void> {
  main.append(h("h1", {}, "In-silico trials"));
  if (!(await jobsAvailable())) {
    main.append(message("info", "This server has no jobs API (/v1/jobs), so trials cannot be run from the browser yet."));
    return;
  }
  if (!me()) {
    main.append(message("info", "Sign in to run a trial (it needs a contributor account)."), h("a", { href: "/signin?next=/trials", "data-link": true }, "Sign in"));
    return;
  }
  const picker = await modelPicker("t1d-uva-padova");
  const name = h("input", { type: "text", value: "web-trial" });
  const size = h("input", { type: "number", min: 2, max: 10000, step: 1, value: 16 });
  const seed = h("input", { type: "number", step: 1, value: 2026 });
  const sampling = h("select", {}, h("option", { value: "latin_hypercube" }, "Latin hypercube"), h("option", { value: "monte_carlo" }, "Monte Carlo"));
  const sensMethod = h("select", {}, h("option", { value: "" }, "none (rank correlation from the members)"), h("option", { value: "morris" }, "Morris elementary effects"), h("option", { value: "sobol" }, "Sobol indices"));
  const sensRuns = h("input", { type: "number", min: 2, step: 1, value: 10 });
  const sensRunsField = field("Morris trajectories / Sobol samples", sensRuns, "Morris: trajectories × (inputs + 1) runs; Sobol: samples × (inputs + 2) runs, per scenario.");
  // The population: drawn from the distributions below, or a patient twin's
  // posterior ensemble (one member per ensemble member; the server reads
  // the twin with your rights). /trials?twin=ID preselects a twin.
  const source = h("select", {}, h("option", { value: "" }, "Drawn from distributions (below)"));
  const wanted = match?.query.get("twin") ?? "";
  if (await twinsAvailable()) {
    try {
      for (const t of (await listTwins()).items) {
        source.append(h("option", { value: t.id, selected: t.id === wanted }, `Posterior of twin ${t.id}${t.title ? ` (${t.title})` : ""}`));
      }
    } catch {
      /* no twins readable: distributions only */
    }
  }
  const scenarioBoxes = Object.keys(TEMPLATES).map((t) => h("label", { class: "facet-value" }, h("input", { type: "checkbox", value: t, checked: true }), ` ${t}`));
  const params = DEFAULT_PARAMS.map((p) => ({ ...p }));
  const paramTable = h("tbody");
  const renderParams = () => {
    paramTable.replaceChildren(
      ...params.map((p, i) => {
        const nm = h("input", { type: "text", value: p.name, "aria-label": `Parameter ${i + 1} symbol`, class: "sym" });
        nm.addEventListener("change", () => (p.name = nm.value.trim()));
        const dist = h("select", { "aria-label": `Parameter ${i + 1} distribution` }, ...["lognormal", "normal", "uniform"].map((d) => h("option", { value: d, selected: d === p.distribution }, d)));
        dist.addEventListener("change", () => { p.distribution = dist.value as ParamRow["distribution"]; renderParams(); });
        const labels = p.distribution === "lognormal" ? ["median", "CV"] : p.distribution === "normal" ? ["mean", "SD"] : ["lower", "upper"];
        const a = h("input", { type: "number", step: "any", value: p.a, "aria-label": `Parameter ${i + 1} ${labels[0]}`, class: "num" });
        a.addEventListener("change", () => (p.a = Number(a.value)));
        const b = h("input", { type: "number", step: "any", value: p.b, "aria-label": `Parameter ${i + 1} ${labels[1]}`, class: "num" });
        b.addEventListener("change", () => (p.b = Number(b.value)));
        return h(
          "tr",
          {},
          h("td", {}, nm),
          h("td", {}, dist),
          h("td", {}, h("span", { class: "muted" }, `${labels[0]} `), a),
          h("td", {}, h("span", { class: "muted" }, `${labels[1]} `), b),
          h("td", {}, h("button", { type: "button", class: "small", "aria-label": `Remove parameter ${i + 1}`, onclick: () => { params.splice(i, 1); renderParams(); } }, "Remove")),
        );
      }),
    );
  };
  renderParams();

  const drawn = h(
    "div",
    {},
    h("div", { class: "row" }, field("Population size", size), field("Seed", seed), field("Sampling", sampling)),
    h("div", { class: "row" }, field("Sensitivity analysis", sensMethod), sensRunsField),
    h(
      "table",
      { class: "interventions" },
      h("caption", {}, "Population: parameters varied across members"),
      paramTable,
    ),
    h("p", { class: "row" }, h("button", { type: "button", class: "small", onclick: () => { params.push({ name: "", distribution: "lognormal", a: 1, b: 0.2 }); renderParams(); } }, "Add parameter")),
  );
  const status = h("div", { "aria-live": "polite" });
  const results = h("section", { class: "results", "aria-label": "Trial results" });
  const start = h("button", { type: "submit", class: "primary" }, "Start trial");
  const form = h(
    "form",
    {
      onsubmit: async (e: Event) => {
        e.preventDefault();
        const chosen = scenarioBoxes.map((l) => l.querySelector("input")!).filter((b) => b.checked).map((b) => cloneScenario(TEMPLATES[b.value]));
        if (!chosen.length) {
          status.replaceChildren(message("error", "Choose at least one scenario."));
          return;
        }
        const trial = {
          schema: "soma.trial/1",
          name: name.value.trim() || "web-trial",
          scenarios: chosen,
          population: source.value
            ? { twin: source.value }
            : {
                size: Number(size.value),
                seed: Number(seed.value),
                sampling: sampling.value,
                parameters: Object.fromEntries(params.filter((p) => p.name).map((p) => [p.name, paramSpec(p)])),
              },
          percentiles: [5, 25, 50, 75, 95],
          ...(source.value ? {} : sensMethod.value === "morris"
            ? { sensitivity: { method: "morris", trajectories: Number(sensRuns.value), levels: 4, seed: Number(seed.value) } }
            : sensMethod.value === "sobol"
              ? { sensitivity: { method: "sobol", samples: Number(sensRuns.value), bootstrap: 100, confidence: 0.95, seed: Number(seed.value) } }
              : {}),
        };
        start.disabled = true;
        results.replaceChildren();
        const progress = progressView();
        const signal = { cancelled: false };
        let job: Job | null = null;
        const cancel = h("button", { type: "button", onclick: async () => { if (!job) return; signal.cancelled = true; try { await cancelJob(job.id); } catch (err) { status.append(message("error", `Cancel failed: ${(err as Error).message}`)); } } }, "Cancel trial");
        status.replaceChildren(progress.el, cancel);
        try {
          job = await startJob({ kind: "trial", model: { id: picker.value(), version: "latest" }, trial, title: trial.name });
          const done = await waitForJob(job.id, progress.update, { cancelled: false });
          cancel.remove();
          if (done.state !== "succeeded") {
            status.replaceChildren(message(done.state === "cancelled" ? "info" : "error", `The trial ${done.state}${done.state === "cancelled" ? "." : `: ${jobErrorText(done)}`}`));
            return;
          }
          const summary = await jobResult<TrialResult>(done.id);
          status.replaceChildren(message("success", `Trial finished: ${summary.members} members, ${summary.failed} failed.`));
          await renderTrial(results, summary, done);
        } catch (err) {
          status.replaceChildren(message("error", `Cannot run the trial: ${(err as Error).message}`));
        } finally {
          start.disabled = false;
        }
      },
    },
    picker.el,
    h("div", { class: "row" }, field("Trial name", name), field("Population", source)),
    drawn,
    h("fieldset", {}, h("legend", {}, "Scenarios (the first checked is the baseline)"), ...scenarioBoxes),
    h("p", { class: "row" }, start),
  );
  const showSource = () => {
    // A twin's posterior is the population: nothing to draw, and the
    // server's sensitivity methods need independent distributions.
    drawn.hidden = source.value !== "";
  };
  source.addEventListener("change", showSource);
  showSource();
  main.append(form, status, results);
}

async function resultFile(resultId: string, file: string): Promise<string | null> {
  try {
    return await (await request(`/v1/resources/${encodeURIComponent(resultId)}/versions/latest/files/${file}`)).text();
  } catch {
    return null;
  }
}

export async function renderTrial(el: HTMLElement, s: TrialResult, job: Job): Promise<void> {
  // "p5", "p25", ... in numeric order (JSON objects arrive with sorted keys: p25 before p5).
  const pcols = [...new Set(s.outcomes.flatMap((o) => Object.keys(o.percentiles)))].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
  const summaryTable = (rows: typeof s.outcomes, caption: string) =>
    h(
      "table",
      { class: "outcomes" },
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, ...["Scenario", "Outcome", "n", "mean", "SD", ...pcols].map((c) => h("th", { scope: "col" }, c)))),
      h(
        "tbody",
        {},
        ...rows.map((o) =>
          h("tr", {}, h("td", {}, o.scenario), h("th", { scope: "row" }, o.outcome), h("td", { class: "num" }, String(o.n)), h("td", { class: "num" }, formatNumber(o.mean)), h("td", { class: "num" }, formatNumber(o.sd)), ...pcols.map((p) => h("td", { class: "num" }, formatNumber(o.percentiles[p] ?? null)))),
        ),
      ),
    );
  el.replaceChildren(h("h2", {}, `Results of ${s.trial}`));
  if (job.result) el.append(h("p", {}, "Stored as ", h("a", { href: `/resources/${encodeURIComponent(job.result)}`, "data-link": true }, job.result), "."));
  el.append(summaryTable(s.outcomes, "Outcomes over the population"));
  if (s.differences_from_baseline.length) el.append(summaryTable(s.differences_from_baseline, "Paired differences from the baseline"));

  const membersCsv = job.result ? await resultFile(job.result, "members.csv") : null;
  const bandsCsv = job.result ? await resultFile(job.result, "bands.csv") : null;
  const outcomeNames = [...new Set(s.outcomes.map((o) => o.outcome))];
  const outcomeSelect = h("select", {}, ...outcomeNames.map((o) => h("option", { value: o }, o)));
  const dists = h("div", { class: "charts two" });
  const members: MembersTable | null = membersCsv ? parseMembersCsv(membersCsv, s.scenarios) : null;
  const drawDists = () => {
    dists.replaceChildren();
    const o = outcomeSelect.value;
    if (!members) {
      dists.append(message("info", "The result has no members.csv, so distributions and sensitivities cannot be drawn."));
      return;
    }
    histogram(dists, { title: `Distribution of ${o} over the population`, xLabel: o, groups: s.scenarios.map((sc) => ({ label: sc, values: members.outcomes[`${sc}.${o}`] ?? [] })) });
    if (!s.sensitivity) {
      const names = Object.keys(members.parameters);
      const sc = s.scenarios[0];
      const y = members.outcomes[`${sc}.${o}`] ?? [];
      barChart(dists, {
        title: `Sensitivity of ${o} (${sc}): Spearman rank correlation over the members`,
        categories: names,
        values: names.map((n) => spearman(members.parameters[n], y)),
        label: "Spearman ρ",
        yLabel: "ρ",
        range: [-1, 1],
      });
    }
  };
  const sensBox = h("div", { class: "charts two" });
  const drawSensitivity = () => {
    sensBox.replaceChildren();
    if (s.sensitivity) renderSensitivity(sensBox, s.sensitivity, outcomeSelect.value);
  };
  outcomeSelect.addEventListener("change", () => {
    drawDists();
    drawSensitivity();
  });
  el.append(h("h3", {}, "Distributions and sensitivity"), field("Outcome", outcomeSelect), dists, sensBox);
  drawDists();
  drawSensitivity();

  if (bandsCsv) {
    const bands = parseBandsCsv(bandsCsv);
    const vars = [...new Set(Object.values(bands).flatMap((b) => Object.keys(b)))];
    const varSelect = h("select", {}, ...vars.map((v) => h("option", { value: v }, v)));
    const box = h("div", { class: "charts" });
    const drawBands = () => {
      box.replaceChildren();
      const v = varSelect.value;
      timeChart(box, {
        title: `${v}: median with 5–95th percentile band`,
        xLabel: "time",
        yLabel: v,
        lines: Object.entries(bands)
          .filter(([, b]) => b[v])
          .map(([sc, b]) => ({ label: `${sc} median`, x: b[v].times, y: b[v].percentiles.p50 ?? [], lower: b[v].percentiles.p5, upper: b[v].percentiles.p95, bandLabel: `${sc} 5–95%` })),
      });
    };
    varSelect.addEventListener("change", drawBands);
    el.append(h("h3", {}, "Percentile bands over time"), field("Variable", varSelect), box);
    drawBands();
  } else {
    el.append(h("h3", {}, "Percentile bands over time"), message("info", "The result has no bands.csv (percentile bands over time)."));
  }
}

/** The server's Sobol or Morris indices of one outcome, per scenario, as bar charts. */
function renderSensitivity(box: HTMLElement, sens: TrialSensitivity, outcome: string): void {
  const rows = sens.outcomes.filter((o) => o.outcome === outcome);
  if (!rows.length) {
    box.append(message("info", `No sensitivity indices for ${outcome}.`));
    return;
  }
  for (const r of rows) {
    if (r.error) {
      box.append(message("error", `Sensitivity of ${outcome} (${r.scenario}): ${r.error}`));
      continue;
    }
    if (sens.method === "sobol" && r.first && r.total) {
      const sobolBars = (order: string, label: string, values: number[], low?: number[], high?: number[]) =>
        barChart(box, {
          title: `Sobol ${order} ${label} of ${outcome} (${r.scenario}), bootstrap interval`,
          categories: sens.inputs,
          values,
          errors: low && high ? { low, high } : undefined,
          label,
          yLabel: label,
          range: [Math.min(0, ...(low ?? values)), Math.max(1, ...(high ?? values))],
        });
      sobolBars("first-order", "S1", r.first, r.first_low, r.first_high);
      sobolBars("total-order", "ST", r.total, r.total_low, r.total_high);
    } else if (r.mu_star) {
      barChart(box, { title: `Morris μ* of ${outcome} (${r.scenario})`, categories: sens.inputs, values: r.mu_star, label: "μ*", yLabel: "μ*" });
      if (r.sigma) barChart(box, { title: `Morris σ of ${outcome} (${r.scenario})`, categories: sens.inputs, values: r.sigma, label: "σ", yLabel: "σ" });
    }
  }
  box.append(h("p", { class: "muted" }, `${sens.method === "sobol" ? "Sobol" : "Morris"} on ${sens.runs} runs (${sens.failed_runs} failed).`));
}
