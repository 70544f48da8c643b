// An editor for one therapy scenario (soma.scenario/1, docs/scenarios.md):
// name, output grid, parameter overrides and interventions (meals, boluses,
// infusions, settings) as labelled form rows, plus the full JSON for
// anything the form does not cover. Edits write straight into `scenario`.

import standardDay from "../../../scenarios/t1d-standard-day.json";
import reducedBolus from "../../../scenarios/t1d-reduced-bolus.json";
import { field, h, message } from "../ui/dom";

export type Scenario = Record<string, unknown> & {
  name?: string;
  start?: number;
  end?: number;
  steps?: number;
  method?: string;
  parameters?: Record<string, number>;
  interventions?: Intervention[];
  outputs?: string[];
};
export type Intervention = Record<string, unknown> & { type: string };

/** The bundled example scenarios (scenarios/*.json of this source tree). */
export const TEMPLATES: Record<string, Scenario> = {
  "t1d-standard-day": standardDay as Scenario,
  "t1d-reduced-bolus": reducedBolus as Scenario,
};

export function cloneScenario(s: Scenario): Scenario {
  return JSON.parse(JSON.stringify(s)) as Scenario;
}

const FIELDS: Record<string, string[]> = {
  meal: ["time", "grams"],
  bolus: ["time", "target", "amount"],
  infusion: ["start", "duration", "target", "rate"],
  set: ["time", "target", "value"],
};
const LABELS: Record<string, string> = {
  time: "Time",
  grams: "Carbohydrate (g)",
  target: "Target symbol",
  amount: "Amount",
  start: "Start",
  duration: "Duration",
  rate: "Rate",
  value: "Value",
};

// The integration methods a scenario may name (docs/scenarios.md, "method").
const METHODS: Record<string, string> = {
  auto: "auto (Adams, BDF when stiff, Runge-Kutta between close events)",
  bdf: "bdf (stiff models)",
  adams: "adams (non-stiff models)",
  rk45: "rk45 (explicit Runge-Kutta, Dormand-Prince 5(4))",
};

function numberInput(value: unknown, onChange: (v: number) => void, label: string, step = "any"): HTMLInputElement {
  const input = h("input", { type: "number", step, value: value === undefined ? "" : String(value), "aria-label": label, class: "num" });
  input.addEventListener("change", () => onChange(Number(input.value)));
  return input;
}

export function scenarioEditor(scenario: Scenario, index: number, onRemove: (() => void) | null): HTMLElement {
  const box = h("section", { class: "scenario-editor", "aria-label": `Scenario ${index + 1}` });
  const methodSelect = () => {
    const current = scenario.method ?? "auto";
    const select = h("select", { "aria-label": "Integration method" },
      ...Object.entries(METHODS).map(([m, text]) => h("option", { value: m, selected: m === current }, text)));
    select.addEventListener("change", () => {
      // "auto" is the default: left out of the JSON.
      if (select.value === "auto") delete scenario.method;
      else scenario.method = select.value;
      render();
    });
    return select;
  };
  const render = () => {
    const interventions = (scenario.interventions ??= []);
    const name = h("input", { type: "text", value: scenario.name ?? `scenario-${index + 1}` });
    name.addEventListener("change", () => (scenario.name = name.value.trim()));
    const grid = h(
      "div",
      { class: "row" },
      field("End (model time)", numberInput(scenario.end, (v) => (scenario.end = v), "End (model time)")),
      field("Output steps", numberInput(scenario.steps, (v) => (scenario.steps = v), "Output steps", "1")),
      field("Integration method", methodSelect()),
    );
    const rows = interventions.map((iv, i) => {
      const type = h("select", { "aria-label": `Intervention ${i + 1} type` }, ...Object.keys(FIELDS).map((t) => h("option", { value: t, selected: t === iv.type }, t)));
      type.addEventListener("change", () => {
        interventions[i] = { type: type.value };
        render();
      });
      // Each value with its name visible above it (the row's columns differ by type).
      const cells = (FIELDS[iv.type] ?? []).map((f) => {
        const label = `Intervention ${i + 1} ${LABELS[f] ?? f}`;
        let input: HTMLInputElement;
        if (f === "target") {
          input = h("input", { type: "text", value: String(iv.target ?? ""), "aria-label": label, class: "sym" });
          input.addEventListener("change", () => (iv.target = input.value.trim()));
        } else {
          input = numberInput(iv[f], (v) => (iv[f] = v), label);
        }
        return h("span", { class: "cell" }, h("span", { class: "cell-label", "aria-hidden": "true" }, LABELS[f] ?? f), input);
      });
      const known = new Set(FIELDS[iv.type] ?? []);
      known.add("type");
      const extra = Object.keys(iv).filter((k) => !known.has(k));
      return h(
        "li",
        { class: "iv" },
        h("span", { class: "cell" }, h("span", { class: "cell-label", "aria-hidden": "true" }, `#${i + 1}`), type),
        ...cells,
        extra.length ? h("span", { class: "muted" }, `+ ${extra.join(", ")} (JSON)`) : null,
        h("button", { type: "button", class: "small", "aria-label": `Remove intervention ${i + 1}`, onclick: () => { interventions.splice(i, 1); render(); } }, "Remove"),
      );
    });
    const params = Object.entries((scenario.parameters ??= {}));
    const paramRows = params.map(([k, v]) =>
      h(
        "li",
        {},
        h("label", {}, `${k} `, numberInput(v, (x) => (scenario.parameters![k] = x), `Parameter ${k}`)),
        h("button", { type: "button", class: "small", "aria-label": `Remove parameter ${k}`, onclick: () => { delete scenario.parameters![k]; render(); } }, "Remove"),
      ),
    );
    const newParam = h("input", { type: "text", placeholder: "symbol", "aria-label": "New parameter symbol", class: "sym" });
    const json = h("textarea", { rows: 8, class: "json", "aria-label": `Scenario ${index + 1} as JSON` });
    json.value = JSON.stringify(scenario, null, 1);
    const jsonStatus = h("div", { "aria-live": "polite" });
    box.replaceChildren(
      h("header", { class: "row" }, field("Scenario name", name), onRemove ? h("button", { type: "button", class: "small", onclick: onRemove }, "Remove scenario") : null),
      grid,
      h("h4", {}, "Interventions (model time units)"),
      h("ol", { class: "iv-list" }, ...rows),
      h(
        "p",
        { class: "row" },
        ...Object.keys(FIELDS).map((t) =>
          h("button", { type: "button", class: "small", onclick: () => { interventions.push({ type: t, ...(t === "meal" ? { time: 0, grams: 50 } : { time: 0 }) }); render(); } }, `Add ${t}`),
        ),
      ),
      h("h4", {}, "Parameter overrides"),
      h("ul", { class: "params" }, ...paramRows),
      h(
        "p",
        { class: "row" },
        newParam,
        h("button", { type: "button", class: "small", onclick: () => { if (newParam.value.trim()) { scenario.parameters![newParam.value.trim()] = 0; render(); } } }, "Add parameter"),
      ),
      h(
        "details",
        {},
        h("summary", {}, "Edit as JSON"),
        json,
        h(
          "button",
          {
            type: "button",
            class: "small",
            onclick: () => {
              try {
                const parsed = JSON.parse(json.value) as Scenario;
                for (const k of Object.keys(scenario)) delete scenario[k];
                Object.assign(scenario, parsed);
                render();
              } catch (e) {
                jsonStatus.replaceChildren(message("error", `Not valid JSON: ${(e as Error).message}`));
              }
            },
          },
          "Apply JSON",
        ),
        jsonStatus,
      ),
    );
  };
  render();
  return box;
}
