// Twins: the list of twins the caller may read, and one twin's dashboard:
// observations, the personalised model over the past (the hindcast: mean
// with the band of parameter uncertainty, to judge the fit against the data),
// forecast (mean with prediction bands) from the twin's time,
// interventions on the timeline, parameter estimates with 95 % intervals,
// alerts, and live updates from the twin's server-sent events
// (docs/twins.md, "HTTP API").

import t1dCgmDefinition from "../../../twins/t1d-cgm.json";
import { ApiError, requestJson } from "../api/client";
import {
  whatIfTwin,
  type WhatIf,
  type WhatIfAction,
  forecastTwin,
  getTwinFit,
  startTwinFit,
  hindcastTwin,
  getTwin,
  listTwins,
  subscribeTwinEvents,
  twinHistory,
  twinsAvailable,
  type Forecast,
  type Twin,
  type TwinEvent,
  type TwinHistory,
  type TwinParameterEstimate,
} from "../api/twins";
import { timeChart, type Marker } from "../charts/charts";
import { navigate, type RouteMatch } from "../router";
import { me } from "../session";
import { field, formatDate, formatNumber, h, message } from "../ui/dom";

async function guard(main: HTMLElement, title: string): Promise<boolean> {
  main.append(h("h1", {}, title));
  if (!(await twinsAvailable())) {
    main.append(message("info", "This server has no twins API (/v1/twins)."));
    return false;
  }
  if (!me()) {
    main.append(message("info", "Twins hold patient data: sign in to see the twins you may read."), h("a", { href: `/signin?next=${encodeURIComponent(location.pathname)}`, "data-link": true }, "Sign in"));
    return false;
  }
  return true;
}

// Twin definitions the UI offers (the repository's twins/ folder, built in).
const DEFINITIONS: Record<string, unknown> = {
  "Type 1 diabetes, UVA/Padova model with CGM (twins/t1d-cgm.json)": t1dCgmDefinition,
};

/** What POST /v1/twins takes from the form (docs/twins.md, "HTTP API"). */
interface NewTwin {
  id?: string;
  definition: unknown;
  bundle?: unknown;
  csv?: string;
  visibility: string;
}

async function readJsonFile(file: File, what: string): Promise<unknown> {
  const text = await file.text();
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${what} '${file.name}' is not JSON: ${(e as Error).message}`);
  }
}

/**
 * Creating a twin: a definition (built in or uploaded) and the patient's
 * first data, a FHIR R4 Bundle (JSON: Patient, Consent, Observations,
 * MedicationAdministrations) or a CSV of observations. The server
 * pseudonymises the patient on entry, checks consent, and fits the twin to
 * the data; the new twin's dashboard opens when it is ready.
 */
function newTwinForm(): HTMLElement {
  const id = h("input", { type: "text", pattern: "[a-z0-9][a-z0-9._\\-]{0,99}", placeholder: "chosen by the server when empty", autocomplete: "off" });
  const template = h(
    "select",
    {},
    ...Object.keys(DEFINITIONS).map((k) => h("option", { value: k }, k)),
    h("option", { value: "" }, "Upload a definition (JSON)…"),
  );
  const definitionFile = h("input", { type: "file", accept: ".json,application/json" });
  const definitionField = field("Definition file", definitionFile, "A soma.twin/1 JSON document (docs/twin.schema.json).");
  definitionField.hidden = true;
  template.addEventListener("change", () => {
    definitionField.hidden = template.value !== "";
  });
  const dataFile = h("input", { type: "file", accept: ".json,.csv,application/json,application/fhir+json,text/csv", required: true });
  const visibility = h(
    "select",
    {},
    h("option", { value: "private" }, "private: you (and administrators)"),
    h("option", { value: "public" }, "public: everyone who may read twins"),
  );
  const status = h("div", { role: "status", "aria-live": "polite" });
  for (const input of [dataFile, definitionFile, template]) input.addEventListener("change", () => status.replaceChildren());
  const submit = h("button", { type: "submit", class: "primary" }, "Create twin");
  const form = h(
    "form",
    {
      class: "new-twin",
      "aria-label": "New twin",
      onsubmit: async (e: Event) => {
        e.preventDefault();
        status.replaceChildren();
        const body: NewTwin = { definition: null, visibility: visibility.value };
        try {
          if (template.value) {
            body.definition = structuredClone(DEFINITIONS[template.value]);
          } else {
            const file = definitionFile.files?.[0];
            if (!file) throw new Error("Choose a definition file, or one of the built-in definitions.");
            body.definition = await readJsonFile(file, "The definition file");
          }
          const data = dataFile.files?.[0];
          if (!data) throw new Error("Choose the patient's data: a FHIR Bundle (JSON) or a CSV file.");
          if (/\.csv$/i.test(data.name) || data.type === "text/csv") body.csv = await data.text();
          else body.bundle = await readJsonFile(data, "The data file");
          if (id.value.trim()) body.id = id.value.trim();
        } catch (err) {
          status.append(message("error", (err as Error).message));
          return;
        }
        submit.disabled = true;
        status.append(message("info", "Creating the twin: pseudonymising the patient, checking consent, fitting the model to the data…"));
        try {
          const twin = await requestJson<Twin>("/v1/twins", { method: "POST", body: JSON.stringify(body) });
          navigate(`/twins/${encodeURIComponent(twin.id)}`);
        } catch (err) {
          status.replaceChildren(message("error", `Cannot create the twin: ${(err as Error).message}`));
        } finally {
          submit.disabled = false;
        }
      },
    },
    h("h2", {}, "New twin"),
    field("Definition", template, "The model, the observations it maps (LOINC codes), inputs, parameters to personalise, alerts."),
    definitionField,
    field("Patient data", dataFile, "A FHIR R4 Bundle (JSON) with the Patient, an active Consent and Observations, or a CSV of observations."),
    field("Twin id", id, "Lowercase letters, digits, '.', '_' and '-', starting with a letter or digit; up to 100 characters."),
    field("Visibility", visibility),
    h("p", { class: "row" }, submit),
    status,
  );
  return form;
}

export async function twinsPage(main: HTMLElement): Promise<void> {
  if (!(await guard(main, "Patient twins"))) return;
  try {
    const page = await listTwins();
    if (!page.items.length) {
      main.append(h("p", {}, "No twins are visible to you yet. Create one below (or with `soma twin create`)."), newTwinForm());
      return;
    }
    main.append(
      h(
        "table",
        {},
        h("thead", {}, h("tr", {}, ...["Twin", "Owner", "Visibility", "Version", "Updated"].map((c) => h("th", { scope: "col" }, c)))),
        h(
          "tbody",
          {},
          ...page.items.map((t) =>
            h(
              "tr",
              {},
              h("td", {}, h("a", { href: `/twins/${encodeURIComponent(t.id)}`, "data-link": true }, t.title || t.id)),
              h("td", {}, t.owner),
              h("td", {}, t.visibility),
              h("td", {}, String(t.version)),
              h("td", {}, formatDate(t.updated_ms)),
            ),
          ),
        ),
      ),
      newTwinForm(),
    );
  } catch (e) {
    main.append(message("error", `Cannot list twins: ${(e as Error).message}`));
  }
}

function interventionMarkers(history: TwinHistory): Marker[] {
  return history.interventions.map((iv) => {
    const t = iv.time ?? iv.start ?? 0;
    const what = iv.type === "meal" ? `meal ${iv.grams ?? ""} g` : iv.type === "bolus" ? `bolus ${formatNumber(iv.amount ?? null)}` : iv.type === "infusion" ? `infusion ${formatNumber(iv.rate ?? null)}` : iv.type;
    return { x: t, label: what, color: iv.type === "meal" ? "#a16207" : "#7e22ce" };
  });
}

function estimatesTable(params: TwinParameterEstimate[], caption: string): HTMLElement {
  return h(
    "table",
    { class: "estimates" },
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, ...["Parameter", "Estimate", "95 % interval", ""].map((c) => h("th", { scope: "col" }, c)))),
    h(
      "tbody",
      {},
      ...params.map((p) => {
        const est = p.mean ?? p.value ?? NaN;
        // Each interval drawn on its own relative scale (the parameters have different units).
        const span = p.upper95 - p.lower95 || Math.abs(est) || 1;
        const from = p.lower95 - span * 0.25;
        const width = span * 1.5;
        const pct = (x: number) => `${(((x - from) / width) * 100).toFixed(1)}%`;
        return h(
          "tr",
          {},
          h("th", { scope: "row" }, p.id, p.identifiable === false ? h("span", { class: "badge cred-low" }, " not identifiable") : null, p.at_bound ? h("span", { class: "badge" }, " at bound") : null),
          h("td", { class: "num" }, formatNumber(est)),
          h(
            "td",
            { class: "num" },
            `${formatNumber(p.lower95)} – ${formatNumber(p.upper95)}`,
            p.profile
              ? h(
                  "div",
                  { class: "muted", title: "Profile likelihood 95 % interval; 'open' where the data do not bound the parameter before its bound" },
                  `profile: ${p.profile.lower_open ? "open ≤ " : ""}${formatNumber(p.profile.lower95)} – ${p.profile.upper_open ? "open ≥ " : ""}${formatNumber(p.profile.upper95)}`,
                )
              : null,
          ),
          h(
            "td",
            { class: "interval", "aria-hidden": "true" },
            h("span", { class: "interval-bar", style: `left:${pct(p.lower95)};width:${(((p.upper95 - p.lower95) / width) * 100).toFixed(1)}%` }),
            Number.isFinite(est) ? h("span", { class: "interval-dot", style: `left:${pct(est)}` }) : null,
          ),
        );
      }),
    ),
  );
}

export async function twinPage(main: HTMLElement, match: RouteMatch): Promise<void> {
  const id = match.params[0];
  if (!(await guard(main, "Twin"))) return;
  const head = main.querySelector("h1") as HTMLElement;
  const live = h("p", { class: "live muted", role: "status" }, "Live updates: connecting…");
  const alertsEl = h("section", { "aria-labelledby": "alerts-h", class: "alerts" }, h("h2", { id: "alerts-h" }, "Alerts"));
  const alertList = h("ul", { class: "alert-list" });
  alertsEl.append(alertList);
  const charts = h("section", { "aria-labelledby": "traj-h" }, h("h2", { id: "traj-h" }, "Observations and forecast"));
  const chartBox = h("div", { class: "charts" });
  charts.append(chartBox);
  const estimatesEl = h("section", { "aria-labelledby": "est-h" }, h("h2", { id: "est-h" }, "Parameter estimates"));
  const info = h("section", { class: "twin-info" });
  const eventsEl = h("ol", { class: "event-log", "aria-label": "Event log" });
  const status = h("div", { "aria-live": "polite" });
  const horizon = h("input", { type: "number", min: 1, step: "any", "aria-label": "Forecast horizon (model time units)", class: "num" });
  const forecastButton = h("button", { type: "button" }, "Forecast");
  // Personalisation: a MAP fit to the whole history as a server job, with
  // profile likelihood intervals on request; progress while it runs.
  const withProfile = h("input", { type: "checkbox" }) as HTMLInputElement;
  const fitButton = h("button", { type: "button" }, "Personalise");
  const fitProgress = h("progress", { max: 1, value: 0, hidden: true, "aria-label": "Personalisation progress" }) as HTMLProgressElement;
  const fitStatus = h("span", { class: "muted", role: "status" });
  const fitEl = h("p", { class: "row" }, fitButton, h("label", {}, withProfile, " with profile likelihood intervals"), fitProgress, fitStatus);
  // A therapy comparison over what is known about this patient: a trial
  // whose population is the twin's posterior ensemble.
  const trialLink = h("p", {}, h("a", { href: `/trials?twin=${encodeURIComponent(id)}`, "data-link": true }, "Run a trial on this twin's posterior"));
  // What-if: "no action" against a plan (a meal and/or an insulin bolus in
  // clinical units, some minutes from now), forecast side by side from the
  // twin's time (POST /v1/twins/{id}/whatif; nothing is recorded).
  const wiMeal = h("input", { type: "number", min: 0, step: "any", value: 60, class: "num" }) as HTMLInputElement;
  const wiBolus = h("input", { type: "number", min: 0, step: "any", value: 6, class: "num" }) as HTMLInputElement;
  const wiIn = h("input", { type: "number", min: 0, step: "any", value: 10, class: "num" }) as HTMLInputElement;
  const wiButton = h("button", { type: "button" }, "Compare plans");
  const wiResult = h("div", { class: "charts", "aria-live": "polite" });
  const whatIfEl = h(
    "section",
    { "aria-labelledby": "wi-h" },
    h("h2", { id: "wi-h" }, "What-if"),
    h("p", { class: "row" }, field("Meal (g carbohydrate)", wiMeal), field("Insulin bolus (U)", wiBolus), field("In (model time units from now)", wiIn), wiButton),
    wiResult,
  );
  main.append(live, status, info, h("div", { class: "twin-grid" }, h("div", {}, charts, h("p", { class: "row" }, h("label", {}, "Horizon ", horizon), forecastButton), whatIfEl), h("div", {}, alertsEl, estimatesEl, fitEl, trialLink, h("h2", {}, "Events"), eventsEl)));

  let twin: Twin;
  let history: TwinHistory = { observations: [], interventions: [] };
  let forecast: Forecast | null = null;
  let hindcast: Forecast | null = null;
  const addAlert = (text: string, when: string) => {
    alertList.prepend(h("li", { role: "alert", class: "alert" }, h("strong", {}, "Alert: "), text, h("span", { class: "muted" }, ` · ${when}`)));
  };

  const draw = () => {
    chartBox.replaceChildren();
    const symbols = new Set<string>([...history.observations.map((o) => o.symbol), ...Object.keys(forecast?.series ?? {}), ...Object.keys(hindcast?.series ?? {})]);
    const markers = interventionMarkers(history);
    const q = forecast?.quantiles ?? [];
    const lowIdx = q.length ? 0 : -1;
    const highIdx = q.length - 1;
    for (const sym of symbols) {
      const obs = history.observations.filter((o) => o.symbol === sym);
      const series = forecast?.series[sym];
      const fitted = hindcast?.series[sym];
      const hq = hindcast?.quantiles ?? [];
      const unit = obs[0]?.unit ?? twin.definition.observations?.find((o) => o.symbol === sym)?.unit ?? "";
      const thresholds = (twin.definition.alerts ?? [])
        .filter((a) => a.symbol === sym)
        .map((a) => ({ y: (a.below ?? a.above) as number, label: `${a.name} (${a.below !== undefined ? "below" : "above"} ${a.below ?? a.above})` }))
        .filter((t) => Number.isFinite(t.y));
      timeChart(chartBox, {
        title: `${sym}${unit ? ` (${unit})` : ""}: observations, ${fitted ? "the personalised model over the past, " : ""}forecast and ${q.length ? `${Math.round(q[lowIdx] * 100)}–${Math.round(q[highIdx] * 100)} % prediction band` : "no forecast yet"}`,
        xLabel: "model time",
        yLabel: `${sym}${unit ? ` [${unit}]` : ""}`,
        now: twin.time,
        markers,
        thresholds,
        lines: [
          { label: `${sym} observed`, x: obs.map((o) => o.time), y: obs.map((o) => o.value), points: true, color: "#111827" },
          ...(fitted
            ? [
                {
                  label: `${sym} personalised model (past)`,
                  x: fitted.times,
                  y: fitted.mean,
                  lower: hq.length ? fitted.quantiles[0] : undefined,
                  upper: hq.length ? fitted.quantiles[hq.length - 1] : undefined,
                  bandLabel: `${Math.round((hq[0] ?? 0) * 100)}–${Math.round((hq[hq.length - 1] ?? 1) * 100)} % parameter uncertainty`,
                  color: "#b45309",
                },
              ]
            : []),
          ...(series
            ? [
                {
                  label: `${sym} forecast mean`,
                  x: series.times,
                  y: series.mean,
                  lower: lowIdx >= 0 ? series.quantiles[lowIdx] : undefined,
                  upper: highIdx >= 0 ? series.quantiles[highIdx] : undefined,
                  bandLabel: `${Math.round((q[lowIdx] ?? 0) * 100)}–${Math.round((q[highIdx] ?? 1) * 100)} % prediction`,
                  color: "#1f5fa8",
                },
              ]
            : []),
        ],
      });
    }
    if (!symbols.size) chartBox.append(h("p", {}, "No observations yet."));
  };

  const load = async () => {
    twin = await getTwin(id);
    history = await twinHistory(id).catch(() => history);
    // The past replayed with the personalised parameters; a server without
    // the route, or a twin without history, leaves the chart without it.
    hindcast = twin.time > 0 ? await hindcastTwin(id).catch(() => null) : null;
    const title = twin.title || twin.definition.title;
    head.textContent = title ? `${title} (${twin.id})` : `Twin ${twin.id}`;
    document.title = `${head.textContent} · Soma`;
    if (!horizon.value) horizon.value = String(twin.definition.forecast?.horizon ?? 120);
    info.replaceChildren(
      h(
        "dl",
        { class: "meta inline" },
        h("dt", {}, "Subject"), h("dd", {}, twin.subject),
        h("dt", {}, "Owner"), h("dd", {}, twin.owner),
        h("dt", {}, "Version"), h("dd", {}, String(twin.version)),
        h("dt", {}, "Twin time"), h("dd", {}, `${formatNumber(twin.time)}${twin.time_unix ? ` (${formatDate(twin.time_unix * 1000)})` : ""}`),
        h("dt", {}, "Observations"), h("dd", {}, String(twin.observations)),
        h("dt", {}, "Interventions"), h("dd", {}, String(twin.interventions)),
        ...Object.entries(twin.latest ?? {}).flatMap(([sym, l]) => [h("dt", {}, `Latest ${sym}`), h("dd", {}, `${formatNumber(l.value)} ${l.unit} at t = ${formatNumber(l.time)}`)]),
        twin.issue_count ? h("dt", {}, "Intake issues") : null,
        twin.issue_count ? h("dd", {}, String(twin.issue_count)) : null,
      ),
    );
    const est = twin.fit?.parameters ?? twin.estimate?.parameters ?? [];
    estimatesEl.replaceChildren(
      h("h2", { id: "est-h" }, "Parameter estimates"),
      est.length ? estimatesTable(est, twin.fit?.parameters ? `Fit (${twin.fit.method ?? "MAP"}, Laplace 95 % interval${twin.fit.converged === false ? "; did not converge" : ""})` : `Ensemble estimate (${twin.estimate?.method ?? "EnKF"}, 95 % interval)`) : h("p", {}, "No personalised parameters."),
    );
    // The fit's profile likelihoods, when it computed them: objective above
    // the optimum against each parameter, with the 95 % threshold.
    const profiled = (twin.fit?.parameters ?? []).filter((p) => p.profile?.points?.length);
    if (profiled.length) {
      const box = h("div", { class: "charts" });
      estimatesEl.append(h("details", {}, h("summary", {}, "Profile likelihoods"), box));
      for (const p of profiled) {
        const pts = p.profile!.points!;
        timeChart(box, {
          title: `Profile likelihood of ${p.id}`,
          xLabel: p.id,
          yLabel: "Δ objective",
          height: 180,
          lines: [{ label: "profile", x: pts.map((q) => q[0]), y: pts.map((q) => q[1]), points: true, color: "#1f5fa8" }],
          thresholds: [{ y: p.profile!.threshold ?? 1.92, label: "95 % threshold", color: "#c0392b" }],
        });
      }
    }
    eventsEl.replaceChildren(...[...(twin.events ?? [])].reverse().map(eventItem));
    for (const e of twin.events ?? []) if (e.type === "alert") addAlert(alertText(e), `t = ${formatNumber(e.time)}`);
    draw();
  };

  const runForecast = async () => {
    forecastButton.disabled = true;
    try {
      forecast = await forecastTwin(id, { horizon: Number(horizon.value) || undefined });
      status.replaceChildren(message("success", `Forecast from t = ${formatNumber(forecast.start)} over ${formatNumber(forecast.horizon)}.`));
      for (const a of forecast.alerts) addAlert(a.message, "forecast");
      draw();
    } catch (e) {
      const denied = e instanceof ApiError && (e.status === 403 || e.status === 401);
      status.replaceChildren(message(denied ? "info" : "error", denied ? "You may read this twin but not run forecasts on it." : `Forecast failed: ${(e as Error).message}`));
    } finally {
      forecastButton.disabled = false;
    }
  };
  forecastButton.addEventListener("click", () => void runForecast());

  const runWhatIf = async () => {
    const actions: WhatIfAction[] = [];
    const when = Math.max(0, Number(wiIn.value) || 0);
    const grams = Number(wiMeal.value) || 0;
    const units = Number(wiBolus.value) || 0;
    const bolus = twin.definition.inputs?.doses?.find((d) => d.kind === "bolus");
    if (grams > 0) actions.push({ meal: grams, in: when });
    if (units > 0) {
      if (!bolus) {
        wiResult.replaceChildren(message("error", "This twin's definition maps no bolus dose."));
        return;
      }
      actions.push({ dose: bolus.name, amount: units, unit: "U", in: when });
    }
    const plan = [grams > 0 ? `${formatNumber(grams)} g` : "", units > 0 ? `${formatNumber(units)} U` : ""].filter(Boolean).join(" + ") || "nothing";
    wiButton.disabled = true;
    try {
      const w: WhatIf = await whatIfTwin(id, {
        horizon: Number(horizon.value) || undefined,
        scenarios: [{ name: "no action" }, { name: `plan: ${plan} in ${formatNumber(when)}`, actions }],
      });
      wiResult.replaceChildren();
      const [base, planned] = w.scenarios;
      for (const sym of Object.keys(planned.series)) {
        const band = (f: typeof base) => ({ lower: f.series[sym].quantiles[0], upper: f.series[sym].quantiles[f.series[sym].quantiles.length - 1] });
        const peak = (f: typeof base) => Math.max(...f.series[sym].mean);
        const low = (f: typeof base) => Math.min(...f.series[sym].mean);
        timeChart(wiResult, {
          title: `What-if ${sym}: no action (peak ${formatNumber(peak(base))}, low ${formatNumber(low(base))}) against ${planned.name} (peak ${formatNumber(peak(planned))}, low ${formatNumber(low(planned))})`,
          xLabel: "model time",
          yLabel: sym,
          now: base.start,
          lines: [
            { label: "no action", x: base.series[sym].times, y: base.series[sym].mean, ...band(base), bandLabel: "no action band", color: "#6b7280" },
            { label: planned.name, x: planned.series[sym].times, y: planned.series[sym].mean, ...band(planned), bandLabel: `${planned.name} band`, color: "#1f5fa8" },
          ],
        });
      }
      const alerts = planned.alerts.map((a) => a.message);
      if (alerts.length) wiResult.append(message("info", `With the plan: ${alerts.join("; ")}`));
    } catch (e) {
      wiResult.replaceChildren(message("error", `What-if failed: ${(e as Error).message}`));
    } finally {
      wiButton.disabled = false;
    }
  };
  wiButton.addEventListener("click", () => void runWhatIf());

  const runFit = async () => {
    fitButton.disabled = true;
    fitProgress.hidden = false;
    fitProgress.value = 0;
    fitStatus.textContent = "Starting…";
    try {
      let job = await startTwinFit(id, { profile: withProfile.checked });
      while (job.state === "queued" || job.state === "running") {
        fitProgress.value = job.progress ?? 0;
        fitStatus.textContent = job.message || job.state;
        await new Promise((r) => setTimeout(r, 500));
        job = await getTwinFit(id, job.id);
      }
      if (job.state !== "done") throw new Error(job.error?.detail ?? job.message ?? job.state);
      fitStatus.textContent = "Personalised.";
      await load();
    } catch (e) {
      const denied = e instanceof ApiError && (e.status === 403 || e.status === 401);
      fitStatus.textContent = "";
      status.replaceChildren(message(denied ? "info" : "error", denied ? "You may read this twin but not personalise it." : `Personalisation failed: ${(e as Error).message}`));
    } finally {
      fitButton.disabled = false;
      fitProgress.hidden = true;
    }
  };
  fitButton.addEventListener("click", () => void runFit());

  try {
    await load();
  } catch (e) {
    const notFound = e instanceof ApiError && e.status === 404;
    main.replaceChildren(h("h1", {}, notFound ? "Twin not found" : "Cannot load this twin"), message("error", notFound ? `No twin “${id}” is visible to you.` : (e as Error).message));
    return;
  }
  await runForecast();

  const stop = subscribeTwinEvents(
    id,
    (e: TwinEvent) => {
      eventsEl.prepend(eventItem(e));
      if (e.type === "alert") addAlert(alertText(e), `t = ${formatNumber(e.time)}`);
      if (e.type === "observation" || e.type === "fit") void load().then(runForecast);
      if (e.type === "forecast") void load();
    },
    (s, detail) => {
      live.textContent = s === "open" ? "Live updates: connected" : s === "closed" ? "Live updates: reconnecting…" : `Live updates: ${detail ?? "error"}`;
    },
  );
  // Stop streaming when the page is left (the router replaces <main>'s children).
  const observer = new MutationObserver(() => {
    if (!main.contains(live)) {
      stop();
      observer.disconnect();
    }
  });
  observer.observe(main, { childList: true });
}

function alertText(e: TwinEvent): string {
  const d = e.data as { message?: string; name?: string; probability?: number };
  return d.message ?? `${d.name ?? "alert"}${d.probability !== undefined ? ` (p = ${formatNumber(d.probability)})` : ""}`;
}

function eventItem(e: TwinEvent): HTMLElement {
  return h("li", { class: `ev ev-${e.type}` }, h("span", { class: "badge" }, e.type), ` #${e.seq} at t = ${formatNumber(e.time)}`, e.type === "alert" ? ` — ${alertText(e)}` : "");
}
