// Checks the trial statistics against SciPy 1.10 (Debian 12):
//   scipy.stats.spearmanr(x, y).correlation and scipy.stats.rankdata(v)
// computed once with /usr/bin/python3 (values below); tolerance 1e-12 absolute.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseBandsCsv, parseMembersCsv, ranks, spearman } from "../src/lib/stats.js";

const close = (a, b, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test("ranks average ties like scipy.stats.rankdata", () => {
  assert.deepEqual(ranks([3, 1, 4, 1, 5, 9, 2, 6]), [4.0, 1.5, 5.0, 1.5, 6.0, 8.0, 3.0, 7.0]);
});

test("spearman matches scipy.stats.spearmanr", () => {
  const x = [0.031, 0.027, 0.045, 0.019, 0.052, 0.038, 0.027, 0.061];
  const y = [142.0, 150.5, 131.2, 171.9, 125.0, 139.4, 149.0, 120.3];
  close(spearman(x, y), -0.9940297973880049);
  close(spearman([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [2, 1, 4, 3, 7, 8, 5, 6, 10, 9]), 0.8666666666666665);
  // NaNs (failed members) are left out pairwise; a constant side has no correlation.
  close(spearman([1, 2, NaN, 3], [1, 2, 5, 3]), 1);
  assert.ok(Number.isNaN(spearman([1, 1, 1], [1, 2, 3])));
});

test("members.csv splits parameters from scenario outcomes", () => {
  const csv = "member,name,Vmx,kp3,a.tir,a.mean,b.tir,b.mean,error\n0,,0.03,0.01,0.8,140,0.7,150,\n1,,0.04,0.02,,,,,solver failed; t=3\n";
  const t = parseMembersCsv(csv, ["a", "b"]);
  assert.deepEqual(Object.keys(t.parameters), ["Vmx", "kp3"]);
  assert.deepEqual(Object.keys(t.outcomes), ["a.tir", "a.mean", "b.tir", "b.mean"]);
  assert.deepEqual(t.parameters.Vmx, [0.03, 0.04]);
  assert.equal(t.outcomes["b.mean"][0], 150);
  assert.ok(Number.isNaN(t.outcomes["b.mean"][1]));
  assert.deepEqual(t.errors, ["solver failed; t=3"]);
});

test("bands.csv groups by scenario and variable", () => {
  const csv = "scenario,variable,time,p5,p50,p95\na,BG,0,100,120,140\na,BG,5,101,121,141\nb,BG,0,90,110,130\n";
  const b = parseBandsCsv(csv);
  assert.deepEqual(b.a.BG.times, [0, 5]);
  assert.deepEqual(b.a.BG.percentiles.p95, [140, 141]);
  assert.deepEqual(b.b.BG.percentiles.p5, [90]);
});
