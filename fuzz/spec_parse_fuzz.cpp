// libFuzzer target for the JSON documents users write: scenarios
// (scenario::ParseScenarioText, then RunScenario on the bundled UVA/Padova
// T1D model), when the first byte is 'T' twin definitions
// (twin::ParseTwinDefinitionText), and when it is 'R' trials
// (scenario::ParseTrial, scenario paths resolved against trials/, then
// member 0 run by RunTrialMembers). Must never crash, hang or report
// undefined behaviour. Checks, aborting on any violation:
//   * a scenario that runs gives steps + 1 rows and one value per outcome;
//   * a twin definition that parses survives ToJson and a second parse
//     unchanged (the JSON of both is equal);
//   * a trial that parses has at least one member, and each member's drawn
//     parameters and covariates are the same on a second draw (bit for bit,
//     NaN included); a member that runs has one outcome list per scenario.
// Runs are bounded (at most 2000 output steps, 400 input changes, a time span
// of 1e5 and 20000 integrator steps per interval) so that a long but valid
// scenario is not a hang.
//
//   build-fuzz/bin/spec_parse_fuzz CORPUS -max_total_time=300 -max_len=4096

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "formats/sbml/sbml_import.h"
#include "scenario/scenario.h"
#include "scenario/trial.h"
#include "twin/definition.h"

namespace {

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "spec_parse_fuzz: %s\n", what);
  std::abort();
}

const soma::model::Model& T1dModel() {
  static const soma::model::Model model = [] {
    auto m = soma::formats::LoadSbmlFile(SOMA_SOURCE_DIR "/models/t1d-uva-padova.xml");
    if (!m.ok()) Fail("cannot load models/t1d-uva-padova.xml");
    return m->model;
  }();
  return model;
}

// Bounds that keep a long but valid scenario from looking like a hang.
bool Runnable(const soma::scenario::Scenario& s) {
  return s.steps <= 2000 && s.changes.size() <= 400 && s.end - s.start <= 1e5;
}

void Scenario(std::string_view text) {
  auto s = soma::scenario::ParseScenarioText(text);
  if (!s.ok()) return;
  if (!Runnable(*s)) return;
  soma::sim::SimulationOptions o;
  o.integrator.max_steps = 20000;
  auto run = soma::scenario::RunScenario(*s, T1dModel(), o);
  if (!run.ok()) return;
  if (run->trajectory.rows != static_cast<size_t>(s->steps) + 1) Fail("scenario rows != steps + 1");
  if (run->outcomes.size() != s->outcomes.size()) Fail("one outcome value per outcome expected");
  (void)soma::scenario::ToJson(*run).dump();
}

void TwinDefinition(std::string_view text) {
  auto d = soma::twin::ParseTwinDefinitionText(text);
  if (!d.ok()) return;
  const soma::twin::Json first = soma::twin::ToJson(*d);
  auto again = soma::twin::ParseTwinDefinition(first);
  if (!again.ok()) Fail("a parsed twin definition does not parse again from its own JSON");
  if (soma::twin::ToJson(*again) != first) Fail("twin definition JSON changed on the round trip");
}

bool SameBits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

void Trial(std::string_view text) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return;
  auto t = soma::scenario::ParseTrial(j, SOMA_SOURCE_DIR "/trials");
  if (!t.ok()) return;
  const int size = soma::scenario::PopulationSize(*t);
  if (size < 1) Fail("a parsed trial has no members");
  for (int k = 0; k < std::min(size, 8); ++k) {
    const auto a = soma::scenario::MemberParameters(*t, k), b = soma::scenario::MemberParameters(*t, k);
    if (a.size() != b.size()) Fail("a member's parameters differ between two draws");
    for (size_t i = 0; i < a.size(); ++i)
      if (a[i].first != b[i].first || !SameBits(a[i].second, b[i].second))
        Fail("a member's parameters differ between two draws");
    const auto ca = soma::scenario::MemberCovariates(*t, k), cb = soma::scenario::MemberCovariates(*t, k);
    if (ca.size() != cb.size()) Fail("a member's covariates differ between two draws");
    for (size_t i = 0; i < ca.size(); ++i)
      if (!SameBits(ca[i], cb[i])) Fail("a member's covariates differ between two draws");
  }
  for (const auto& s : t->scenarios)
    if (!Runnable(s)) return;
  soma::scenario::TrialOptions o;
  o.threads = 1;
  o.members = {0};
  o.native_code_simulations = -1;
  o.simulation.integrator.max_steps = 20000;
  auto run = soma::scenario::RunTrialMembers(*t, T1dModel(), o);
  if (!run.ok()) return;
  if (run->size() != 1 || (*run)[0].member != 0) Fail("member 0 asked for, another result given");
  if ((*run)[0].ok && (*run)[0].outcomes.size() != t->scenarios.size()) Fail("one outcome list per scenario expected");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  if (!input.empty() && input[0] == 'T') {
    TwinDefinition(input.substr(1));
  } else if (!input.empty() && input[0] == 'R') {
    Trial(input.substr(1));
  } else {
    Scenario(input);
  }
  return 0;
}
