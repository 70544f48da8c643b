#include "cardio_protocol.h"

#include <algorithm>
#include <cmath>

#include "model_util.h"
#include "sim/simulator.h"

namespace soma::validation {
namespace {

// Beat metrics over grid rows [first, last] (inclusive, one beat).
BeatMetrics Measure(const sim::SimulationResult& r, size_t first, size_t last, size_t p_ao, size_t p_vc,
                    size_t v_lv, double hr) {
  BeatMetrics m;
  m.sbp = -INFINITY;
  m.dbp = INFINITY;
  m.edv = -INFINITY;
  m.esv = INFINITY;
  double area = 0.0, driving = 0.0;
  for (size_t i = first; i <= last; ++i) {
    m.sbp = std::max(m.sbp, r.at(i, p_ao));
    m.dbp = std::min(m.dbp, r.at(i, p_ao));
    m.edv = std::max(m.edv, r.at(i, v_lv));
    m.esv = std::min(m.esv, r.at(i, v_lv));
    if (i > first) {
      const double dt = r.at(i, 0) - r.at(i - 1, 0);
      area += 0.5 * dt * (r.at(i, p_ao) + r.at(i - 1, p_ao));
      driving += 0.5 * dt * (r.at(i, p_ao) - r.at(i, p_vc) + r.at(i - 1, p_ao) - r.at(i - 1, p_vc));
    }
  }
  const double duration = r.at(last, 0) - r.at(first, 0);
  m.map = area / duration;
  m.mean_driving_pressure = driving / duration;
  m.sv = m.edv - m.esv;
  m.ef = m.sv / m.edv;
  m.co = m.sv * hr / 1000.0;
  return m;
}

}  // namespace

Result<CardioRun> SimulateCardio(const model::Model& model, const CardioScenario& scenario) {
  model::Model m = model;
  auto r_sys = ParameterValue(m, "R_sys");
  if (!r_sys.ok()) return r_sys.status();
  CardioRun run;
  run.heart_rate = scenario.heart_rate;
  run.r_sys = *r_sys * scenario.r_sys_factor;
  Status s = SetParameter(m, "HR", scenario.heart_rate);
  if (s.ok()) s = SetParameter(m, "R_sys", run.r_sys);
  if (!s.ok()) return s;

  // Beats start at k T (the phase starts at 0). Run N whole beats and half a
  // beat more, so the beat events of beat N have fired before the end.
  const double period = 60.0 / scenario.heart_rate;
  const int beats = static_cast<int>(std::ceil(scenario.settle / period)) + 2;
  sim::SimulationOptions o;
  o.start = 0.0;
  o.end = (beats + 0.5) * period;
  o.steps = static_cast<int>((beats + 0.5) * scenario.points_per_beat);
  o.integrator.rel_tol = 1e-8;
  o.integrator.abs_tol = 1e-8;
  const std::vector<sim::OutputVariable> outputs = {{"P_ao"}, {"P_vc"}, {"V_lv"}, {"V_total"}, {"SBP"},
                                                    {"DBP"},  {"MAP"},  {"EDV"},  {"ESV"},     {"SV"},
                                                    {"EF"},   {"CO"}};
  auto r = SimulateWith(m, {}, o, outputs);
  if (!r.ok()) return r.status();
  run.simulated_seconds = o.end;
  run.wall_seconds = r->summary.integration_seconds;
  run.summary = r->summary.BriefReport();

  const size_t ppb = static_cast<size_t>(scenario.points_per_beat);
  const size_t last_end = static_cast<size_t>(beats) * ppb;
  run.last = Measure(*r, last_end - ppb, last_end, 1, 2, 3, scenario.heart_rate);
  run.previous = Measure(*r, last_end - 2 * ppb, last_end - ppb, 1, 2, 3, scenario.heart_rate);
  const double v0 = r->at(0, 4);
  for (size_t i = 0; i < r->rows; ++i) run.max_volume_drift = std::max(run.max_volume_drift, std::abs(r->at(i, 4) - v0));

  const size_t end = r->rows - 1;
  run.model.sbp = r->at(end, 5);
  run.model.dbp = r->at(end, 6);
  run.model.map = r->at(end, 7);
  run.model.edv = r->at(end, 8);
  run.model.esv = r->at(end, 9);
  run.model.sv = r->at(end, 10);
  run.model.ef = r->at(end, 11);
  run.model.co = r->at(end, 12);
  return run;
}

const std::vector<NormalRange>& NormalAdultRanges() {
  static const std::vector<NormalRange> kRanges = {
      {"SBP", "mmHg", 90.0, 140.0,
       "below the 140 mmHg threshold of grade 1 hypertension (Williams B et al. 2018 ESC/ESH Guidelines for the "
       "management of arterial hypertension, Eur Heart J 2018;39:3021-3104) and above the 90 mmHg "
       "conventional threshold of hypotension"},
      {"DBP", "mmHg", 60.0, 90.0,
       "below the 90 mmHg threshold of grade 1 hypertension (Williams et al. 2018, ibid.) and above 60 mmHg, "
       "the conventional lower limit of normal"},
      {"MAP", "mmHg", 70.0, 105.0,
       "normal resting mean arterial pressure (Klabunde RE, Cardiovascular Physiology Concepts, 2nd ed., "
       "Lippincott Williams & Wilkins 2011, ch. 5)"},
      {"CO", "L/min", 4.0, 8.0,
       "normal resting adult cardiac output (Klabunde 2011, ch. 4; Hall JE, Guyton and Hall Textbook of "
       "Medical Physiology, 13th ed., Elsevier 2016, ch. 20)"},
      {"SV", "ml", 50.0, 100.0, "normal resting adult stroke volume (Klabunde 2011, ch. 4)"},
      {"EF", "fraction", 0.52, 0.74,
       "normal 2D-echocardiographic LV ejection fraction, men 52-72 %, women 54-74 % (Lang RM et al. "
       "Recommendations for cardiac chamber quantification by echocardiography in adults, J Am Soc "
       "Echocardiogr 2015;28:1-39)"},
      {"EDV", "ml", 46.0, 150.0,
       "normal 2D-echocardiographic LV end-diastolic volume, women 46-106 ml, men 62-150 ml (Lang et al. "
       "2015)"},
      {"ESV", "ml", 14.0, 61.0,
       "normal 2D-echocardiographic LV end-systolic volume, women 14-42 ml, men 21-61 ml (Lang et al. "
       "2015)"},
  };
  return kRanges;
}

double MetricValue(const BeatMetrics& m, const std::string& q) {
  if (q == "SBP") return m.sbp;
  if (q == "DBP") return m.dbp;
  if (q == "MAP") return m.map;
  if (q == "SV") return m.sv;
  if (q == "EF") return m.ef;
  if (q == "CO") return m.co;
  if (q == "EDV") return m.edv;
  if (q == "ESV") return m.esv;
  return NAN;
}

}  // namespace soma::validation
