#include "composition_protocol.h"

#include <algorithm>
#include <cmath>

#include "model_util.h"

namespace soma::validation {
namespace {

sim::SimulationOptions Grid(double start, double end, int steps) {
  sim::SimulationOptions o;
  o.start = start;
  o.end = end;
  o.steps = steps;
  o.integrator.rel_tol = 1e-8;
  o.integrator.abs_tol = 1e-9;
  return o;
}

std::vector<double> ColumnValues(const sim::SimulationResult& r, size_t col) {
  std::vector<double> v(r.rows);
  for (size_t i = 0; i < r.rows; ++i) v[i] = r.at(i, col);
  return v;
}

}  // namespace

Result<TwinRun> SimulateTwin(const model::Model& whole_patient, const CompositionScenario& sc) {
  model::Model m = whole_patient;
  const double on = sc.coupled ? 1.0 : 0.0;
  Status s = SetParameter(m, "coupling_hr", on);
  if (s.ok()) s = SetParameter(m, "coupling_drug", on);
  if (!s.ok()) return s;
  auto r = SimulateWith(m,
                        {{.time = 0.0, .target = "metabolism__meal_rate", .value = sc.meal_rate},
                         {.time = sc.exercise_start, .target = "HR", .value = sc.exercise_hr},
                         {.time = sc.meal_end, .target = "metabolism__meal_rate", .value = 0.0}},
                        Grid(0.0, sc.end, sc.steps),
                        {{"heart__P_ao"}, {"BG"}, {"C_drug"}, {"R_sys"}, {"HR_glucose"}, {"metabolism__Y"}, {"MAP"}});
  if (!r.ok()) return r.status();
  TwinRun run;
  run.time_s = ColumnValues(*r, 0);
  run.p_ao = ColumnValues(*r, 1);
  run.bg = ColumnValues(*r, 2);
  run.c_drug = ColumnValues(*r, 3);
  run.r_sys = ColumnValues(*r, 4);
  run.hr_glucose = ColumnValues(*r, 5);
  run.y = ColumnValues(*r, 6);
  run.map_end = r->at(r->rows - 1, 7);
  run.wall_seconds = r->summary.integration_seconds;
  return run;
}

Result<TwinRun> SimulateParts(const model::Model& heart, const model::Model& metabolism, const model::Model& drug,
                              const CompositionScenario& sc) {
  TwinRun run;
  auto h = SimulateWith(heart, {{.time = sc.exercise_start, .target = "HR", .value = sc.exercise_hr}},
                        Grid(0.0, sc.end, sc.steps), {{"P_ao"}, {"R_sys"}, {"MAP"}});
  if (!h.ok()) return h.status().WithContext("heart");
  auto g = SimulateWith(metabolism,
                        {{.time = 0.0, .target = "meal_rate", .value = sc.meal_rate},
                         {.time = sc.meal_end / 60.0, .target = "meal_rate", .value = 0.0}},
                        Grid(0.0, sc.end / 60.0, sc.steps), {{"BG"}, {"HR"}, {"Y"}});
  if (!g.ok()) return g.status().WithContext("metabolism");
  auto d = SimulateWith(drug, {}, Grid(0.0, sc.end / 3600.0, sc.steps), {{"C"}});
  if (!d.ok()) return d.status().WithContext("drug");
  run.time_s = ColumnValues(*h, 0);
  run.p_ao = ColumnValues(*h, 1);
  run.r_sys = ColumnValues(*h, 2);
  run.map_end = h->at(h->rows - 1, 3);
  run.bg = ColumnValues(*g, 1);
  run.hr_glucose = ColumnValues(*g, 2);
  run.y = ColumnValues(*g, 3);
  run.c_drug = ColumnValues(*d, 1);
  run.wall_seconds = h->summary.integration_seconds + g->summary.integration_seconds + d->summary.integration_seconds;
  return run;
}

RunDifference MaxDifference(const TwinRun& a, const TwinRun& b) {
  RunDifference d;
  const size_t n = std::min(a.time_s.size(), b.time_s.size());
  for (size_t i = 0; i < n; ++i) {
    d.p_ao = std::max(d.p_ao, std::abs(a.p_ao[i] - b.p_ao[i]));
    d.bg = std::max(d.bg, std::abs(a.bg[i] - b.bg[i]));
    d.c_drug = std::max(d.c_drug, std::abs(a.c_drug[i] - b.c_drug[i]));
    d.y = std::max(d.y, std::abs(a.y[i] - b.y[i]));
  }
  if (a.time_s.size() != b.time_s.size()) d.p_ao = d.bg = d.c_drug = d.y = INFINITY;
  return d;
}

}  // namespace soma::validation
