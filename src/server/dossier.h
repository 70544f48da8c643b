#pragma once
// Credibility dossiers of models (format "soma.dossier/1", one JSON file per
// model; the bundled ones are models/dossiers/*.json), in the spirit of ASME
// V&V 40-2018: the question of interest and context of use, the model's
// influence on the decision and the consequence of a wrong decision (each
// "low", "medium" or "high"), which give the model risk, the credibility
// level claimed, and the verification and validation evidence (files named
// in "evidence", e.g. generated reports).
//
// The model risk is not written in the file: it is derived from the two
// factors as in V&V 40's risk map, level = influence + consequence + 1 on
// the scale low = 0, medium = 1, high = 2, giving 1 (lowest) .. 5 (highest).

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace soma::server {

struct Dossier {
  std::string model;                 // resource id of the model it is about
  std::string question_of_interest;
  std::string context_of_use;
  std::string model_influence;       // low | medium | high
  std::string decision_consequence;  // low | medium | high
  std::string credibility_level;     // low | medium | high
  std::vector<std::string> evidence; // file names
  nlohmann::json document;           // the whole file, with "model_risk" added
  int model_risk = 0;                // 1..5, derived
};

// Parses and checks a dossier. Errors (kInvalidArgument / kParseError) name
// the field: unknown format, missing text fields, a factor not in
// low|medium|high, evidence not a list of file names.
Result<Dossier> ParseDossier(std::string_view json_text);

// "1 (lowest)" .. "5 (highest)".
std::string ModelRiskLabel(int level);

}  // namespace soma::server
