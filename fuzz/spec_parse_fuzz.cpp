// libFuzzer target for the JSON documents users write: scenarios
// (scenario::ParseScenarioText, then RunScenario on the bundled UVA/Padova
// T1D model) and, when the first byte is 'T', twin definitions
// (twin::ParseTwinDefinitionText). Must never crash, hang or report
// undefined behaviour. Checks, aborting on any violation:
//   * a scenario that runs gives steps + 1 rows and one value per outcome;
//   * a twin definition that parses survives ToJson and a second parse
//     unchanged (the JSON of both is equal).
// Runs are bounded (at most 2000 output steps, 400 input changes, a time span
// of 1e5 and 20000 integrator steps per interval) so that a long but valid
// scenario is not a hang.
//
//   build-fuzz/bin/spec_parse_fuzz CORPUS -max_total_time=300 -max_len=4096

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "formats/sbml/sbml_import.h"
#include "scenario/scenario.h"
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

void Scenario(std::string_view text) {
  auto s = soma::scenario::ParseScenarioText(text);
  if (!s.ok()) return;
  if (s->steps > 2000 || s->changes.size() > 400 || !(s->end - s->start <= 1e5)) return;
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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  if (!input.empty() && input[0] == 'T') {
    TwinDefinition(input.substr(1));
  } else {
    Scenario(input);
  }
  return 0;
}
