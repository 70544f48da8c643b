// Statistics for trial results, in plain JavaScript (with stats.d.ts) so
// `node --test` checks them without a TypeScript step (test/stats.test.mjs).

/** Ranks 1..n with ties given their average rank (as scipy.stats.rankdata). */
export function ranks(values) {
  const idx = values.map((v, i) => [v, i]).sort((a, b) => a[0] - b[0]);
  const r = new Array(values.length);
  let i = 0;
  while (i < idx.length) {
    let j = i;
    while (j + 1 < idx.length && idx[j + 1][0] === idx[i][0]) j += 1;
    const avg = (i + j) / 2 + 1;
    for (let k = i; k <= j; k += 1) r[idx[k][1]] = avg;
    i = j + 1;
  }
  return r;
}

/** Pearson correlation; NaN when either side has no variance or n < 2. */
export function pearson(x, y) {
  const n = x.length;
  if (n < 2 || y.length !== n) return NaN;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i += 1) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i += 1) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  if (sxx === 0 || syy === 0) return NaN;
  return sxy / Math.sqrt(sxx * syy);
}

/**
 * Spearman's rank correlation of x and y over the pairs where both are
 * finite (a global sensitivity index for sampled populations: the monotone
 * association of a parameter with an outcome, in [-1, 1]).
 */
export function spearman(x, y) {
  const xs = [];
  const ys = [];
  for (let i = 0; i < x.length; i += 1) {
    if (Number.isFinite(x[i]) && Number.isFinite(y[i])) {
      xs.push(x[i]);
      ys.push(y[i]);
    }
  }
  return pearson(ranks(xs), ranks(ys));
}

/** Splits one CSV line (no quoted commas: Soma's CSVs replace them). */
function splitLine(line) {
  return line.split(",");
}

/**
 * members.csv of a trial -> {parameters: {name: number[]}, outcomes:
 * {"scenario.outcome": number[]}, errors: string[]} using the trial's
 * scenario names to tell outcome columns from parameter columns. Empty
 * cells (failed members) are NaN.
 */
export function parseMembersCsv(text, scenarioNames) {
  const lines = text.split(/\r?\n/).filter((l) => l.length > 0);
  if (!lines.length) return { parameters: {}, outcomes: {}, errors: [] };
  const header = splitLine(lines[0]);
  const parameters = {};
  const outcomes = {};
  const errors = [];
  const kinds = header.map((name) => {
    if (name === "member" || name === "name") return "skip";
    if (name === "error") return "error";
    if (scenarioNames.some((s) => name.startsWith(`${s}.`))) return "outcome";
    return "parameter";
  });
  header.forEach((name, c) => {
    if (kinds[c] === "parameter") parameters[name] = [];
    if (kinds[c] === "outcome") outcomes[name] = [];
  });
  for (const line of lines.slice(1)) {
    const cells = splitLine(line);
    header.forEach((name, c) => {
      const cell = cells[c] ?? "";
      if (kinds[c] === "error") {
        if (cell) errors.push(cell);
        return;
      }
      if (kinds[c] === "skip") return;
      const v = cell === "" ? NaN : Number(cell);
      (kinds[c] === "parameter" ? parameters : outcomes)[name].push(v);
    });
  }
  return { parameters, outcomes, errors };
}

/** bands.csv of a trial (scenario,variable,time,p5,p50,...) -> {scenario: {variable: {times, percentiles: {p5: []}}}}. */
export function parseBandsCsv(text) {
  const lines = text.split(/\r?\n/).filter((l) => l.length > 0);
  const out = {};
  if (!lines.length) return out;
  const header = splitLine(lines[0]);
  const pcols = header.slice(3);
  for (const line of lines.slice(1)) {
    const cells = splitLine(line);
    const [scenario, variable, time] = cells;
    out[scenario] ??= {};
    out[scenario][variable] ??= { times: [], percentiles: Object.fromEntries(pcols.map((p) => [p, []])) };
    const band = out[scenario][variable];
    band.times.push(Number(time));
    pcols.forEach((p, k) => band.percentiles[p].push(cells[3 + k] === "" ? NaN : Number(cells[3 + k])));
  }
  return out;
}
