// libFuzzer target for clinical-data intake: formats::IngestFhir (and, when
// the first byte is '#', formats::IngestCsvTimeSeries) on arbitrary bytes.
// Must never crash, hang or report undefined behaviour. Checks, aborting on
// any violation:
//   * every patient in the output has consent (require_consent = true) and a
//     pseudonym of the form "psn-" + 32 hex digits;
//   * observations, doses and meals are sorted by time; doses end >= start;
//   * ToJson succeeds and never contains the node secret (unless the input does).
//
//   build-fuzz/bin/fhir_ingest_fuzz CORPUS -max_total_time=300 -max_len=4096

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "formats/fhir/csv_ingest.h"
#include "formats/fhir/fhir_ingest.h"

namespace {

constexpr std::string_view kSecret = "fuzz-node-secret-0123456789";

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "fhir_ingest_fuzz: %s\n", what);
  std::abort();
}

void Check(const soma::formats::ClinicalBundle& b, std::string_view input) {
  for (const auto& p : b.patients) {
    if (!p.consent) Fail("patient without consent in the output");
    if (p.pseudonym.size() != 36 || p.pseudonym.rfind("psn-", 0) != 0 ||
        p.pseudonym.find_first_not_of("0123456789abcdef", 4) != std::string::npos) {
      Fail("malformed pseudonym");
    }
    auto by_time = [](const auto& a, const auto& c) { return a.time < c.time; };
    if (!std::is_sorted(p.observations.begin(), p.observations.end(), by_time)) Fail("observations unsorted");
    if (!std::is_sorted(p.meals.begin(), p.meals.end(), by_time)) Fail("meals unsorted");
    if (!std::is_sorted(p.doses.begin(), p.doses.end(), [](const auto& a, const auto& c) { return a.start < c.start; })) {
      Fail("doses unsorted");
    }
    for (const auto& d : p.doses) {
      if (d.end < d.start) Fail("dose ends before it starts");
      if (!d.amount && !d.rate) Fail("dose with neither amount nor rate");
    }
  }
  const std::string json = soma::formats::ToJson(b);
  // (Input text such as units and displays is copied through by design, so
  // the check only holds for inputs that do not contain the secret.)
  if (input.find(kSecret) == std::string_view::npos && json.find(kSecret) != std::string::npos) {
    Fail("node secret in the output");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  if (!input.empty() && input.front() == '#') {
    soma::formats::CsvIngestOptions o;
    o.node_secret = std::string(kSecret);
    o.consented_patients = {"p1", "urn:oid:1.2|42"};
    o.max_bytes = 1 << 16;
    auto r = soma::formats::IngestCsvTimeSeries(input, o);
    if (r.ok()) Check(*r, input);
    return 0;
  }
  soma::formats::FhirIngestOptions o;
  o.node_secret = std::string(kSecret);
  o.observation_units = {{"99504-3", "mg/dL"}, {"15074-8", "mg/dL"}};
  o.max_bytes = 1 << 16;
  auto r = soma::formats::IngestFhir(input, o);
  if (r.ok()) Check(*r, input);
  return 0;
}
