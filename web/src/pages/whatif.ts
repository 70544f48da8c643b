// What-if: edit scenarios and compare them on one model, side by side:
// overlaid trajectories (with bands when the result has them) and a table
// of outcome metrics with differences from the baseline (the first
// scenario). Runs as a "scenario-compare" job (docs/api.md, Jobs).

import { timeChart } from "../charts/charts";
import { jobErrorText, jobResult, jobsAvailable, startJob, waitForJob, type CompareResult, type Job } from "../api/jobs";
import { me } from "../session";
import { field, formatNumber, h, message } from "../ui/dom";
import { modelPicker } from "./model_picker";
import { TEMPLATES, cloneScenario, scenarioEditor, type Scenario } from "./scenario_editor";

const STORE = "soma.whatif.scenarios";

function loadScenarios(): Scenario[] {
  try {
    const s = JSON.parse(sessionStorage.getItem(STORE) ?? "null") as Scenario[] | null;
    if (Array.isArray(s) && s.length) return s;
  } catch {
    /* fall through to the templates */
  }
  return [cloneScenario(TEMPLATES["t1d-standard-day"]), cloneScenario(TEMPLATES["t1d-reduced-bolus"])];
}

export function progressView(): { el: HTMLElement; update: (job: Job) => void } {
  const bar = h("progress", { max: 1, value: 0, "aria-label": "Job progress" });
  const text = h("span", { class: "muted" }, "");
  const el = h("div", { class: "progress", role: "status", "aria-live": "polite" }, bar, text);
  return {
    el,
    update: (job) => {
      bar.value = job.progress ?? 0;
      const pct = Math.round((job.progress ?? 0) * 100);
      const eta = job.eta_seconds !== null && job.eta_seconds !== undefined ? `, about ${Math.ceil(job.eta_seconds)} s left` : "";
      const count = job.total ? ` (${job.done ?? 0} of ${job.total})` : "";
      const stopping = job.cancel_requested && job.state === "running" ? ", stopping" : "";
      text.textContent = ` ${job.state} ${pct}%${count}${job.state === "running" ? eta : ""}${stopping}`;
    },
  };
}

export async function whatIfPage(main: HTMLElement): Promise<void> {
  main.append(h("h1", {}, "What-if: compare scenarios"));
  if (!(await jobsAvailable())) {
    main.append(message("info", "This server has no jobs API (/v1/jobs), so scenarios cannot be run from the browser yet."));
    return;
  }
  if (!me()) {
    main.append(message("info", "Sign in to run scenarios (running a comparison needs a contributor account)."), h("a", { href: "/signin?next=/what-if", "data-link": true }, "Sign in"));
    return;
  }
  const scenarios = loadScenarios();
  const picker = await modelPicker("t1d-uva-padova");
  const editors = h("div", { class: "scenario-grid" });
  const renderEditors = () => {
    editors.replaceChildren(
      ...scenarios.map((s, i) =>
        scenarioEditor(s, i, scenarios.length > 1 ? () => { scenarios.splice(i, 1); renderEditors(); } : null),
      ),
    );
  };
  renderEditors();
  const template = h("select", {}, ...Object.keys(TEMPLATES).map((t) => h("option", { value: t }, t)));
  const status = h("div", { "aria-live": "polite" });
  const results = h("section", { class: "results", "aria-label": "Comparison" });
  const runButton = h("button", { type: "submit", class: "primary" }, "Run comparison");
  const form = h(
    "form",
    {
      onsubmit: async (e: Event) => {
        e.preventDefault();
        sessionStorage.setItem(STORE, JSON.stringify(scenarios));
        runButton.disabled = true;
        results.replaceChildren();
        const progress = progressView();
        status.replaceChildren(progress.el);
        try {
          const job = await startJob({ kind: "scenario-compare", model: { id: picker.value(), version: "latest" }, scenarios, title: "What-if comparison" });
          const done = await waitForJob(job.id, progress.update, { cancelled: false });
          if (done.state !== "succeeded") {
            status.replaceChildren(message("error", `The comparison ${done.state}: ${jobErrorText(done)}`));
            return;
          }
          const result = await jobResult<CompareResult>(done.id);
          status.replaceChildren(message("success", `Compared ${result.scenarios.length} scenarios on ${result.model.id}.`));
          renderComparison(results, result);
        } catch (err) {
          status.replaceChildren(message("error", `Cannot run the comparison: ${(err as Error).message}`));
        } finally {
          runButton.disabled = false;
        }
      },
    },
    picker.el,
    editors,
    h(
      "p",
      { class: "row" },
      field("Add a scenario from", template),
      h("button", { type: "button", onclick: () => { scenarios.push(cloneScenario(TEMPLATES[template.value])); renderEditors(); } }, "Add scenario"),
      runButton,
    ),
  );
  main.append(form, status, results);
}

export function renderComparison(el: HTMLElement, result: CompareResult): void {
  const runs = result.scenarios;
  const variables = [...new Set(runs.flatMap((r) => r.columns.slice(1)))];
  const timeCol = runs[0]?.columns[0] ?? "time";
  const chartBox = h("div", { class: "charts" });
  const varSelect = h("select", {}, ...variables.map((v) => h("option", { value: v }, v)));
  const draw = () => {
    chartBox.replaceChildren();
    const v = varSelect.value;
    timeChart(chartBox, {
      title: `${v} under each scenario`,
      xLabel: timeCol,
      yLabel: v,
      lines: runs.map((r) => {
        const c = r.columns.indexOf(v);
        const band = r.bands?.[v];
        return {
          label: r.scenario,
          x: r.rows.map((row) => row[0]),
          y: r.rows.map((row) => (c >= 0 ? row[c] : null)),
          lower: band?.lower,
          upper: band?.upper,
          bandLabel: band ? `${r.scenario} ${band.level ?? "band"}` : undefined,
        };
      }),
    });
  };
  varSelect.addEventListener("change", draw);

  const outcomeNames = [...new Set(runs.flatMap((r) => Object.keys(r.outcomes)))];
  const base = runs[0];
  const table = h(
    "table",
    { class: "outcomes" },
    h("caption", {}, `Outcome metrics (difference from the baseline “${base?.scenario ?? ""}” in brackets)`),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Outcome"), ...runs.map((r) => h("th", { scope: "col" }, r.scenario)))),
    h(
      "tbody",
      {},
      ...outcomeNames.map((o) =>
        h(
          "tr",
          {},
          h("th", { scope: "row" }, o),
          ...runs.map((r, i) => {
            const v = r.outcomes[o];
            const b = base?.outcomes[o];
            const diff = i > 0 && v !== null && v !== undefined && b !== null && b !== undefined ? ` (${v - b >= 0 ? "+" : ""}${formatNumber(v - b)})` : "";
            return h("td", { class: "num" }, `${formatNumber(v ?? null)}${diff}`);
          }),
        ),
      ),
    ),
  );
  el.replaceChildren(h("h2", {}, "Results"), h("div", { class: "compare-layout" }, h("div", {}, field("Variable", varSelect), chartBox), table));
  draw();
}
