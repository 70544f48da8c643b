#include "server/dossier.h"

#include <array>

namespace soma::server {
namespace {

int FactorLevel(const std::string& v) {
  static constexpr std::array<std::string_view, 3> kLevels = {"low", "medium", "high"};
  for (size_t i = 0; i < kLevels.size(); ++i) {
    if (v == kLevels[i]) return static_cast<int>(i);
  }
  return -1;
}

Status Text(const nlohmann::json& j, const char* key, std::string* out) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string() || it->get<std::string>().empty()) {
    return InvalidArgument(std::string("dossier.") + key + ": required, a non-empty string");
  }
  *out = it->get<std::string>();
  return Status::Ok();
}

}  // namespace

std::string ModelRiskLabel(int level) {
  static constexpr std::array<const char*, 5> kNames = {"1 (lowest)", "2 (low)", "3 (medium)", "4 (high)",
                                                        "5 (highest)"};
  return level >= 1 && level <= 5 ? kNames[static_cast<size_t>(level - 1)] : "unknown";
}

Result<Dossier> ParseDossier(std::string_view json_text) {
  nlohmann::json j = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return ParseError("dossier: not a JSON object");
  if (j.value("format", "") != "soma.dossier/1") {
    return InvalidArgument("dossier.format: must be \"soma.dossier/1\"");
  }
  Dossier d;
  SOMA_RETURN_IF_ERROR(Text(j, "model", &d.model));
  SOMA_RETURN_IF_ERROR(Text(j, "question_of_interest", &d.question_of_interest));
  SOMA_RETURN_IF_ERROR(Text(j, "context_of_use", &d.context_of_use));
  SOMA_RETURN_IF_ERROR(Text(j, "model_influence", &d.model_influence));
  SOMA_RETURN_IF_ERROR(Text(j, "decision_consequence", &d.decision_consequence));
  SOMA_RETURN_IF_ERROR(Text(j, "credibility_level", &d.credibility_level));
  const int influence = FactorLevel(d.model_influence), consequence = FactorLevel(d.decision_consequence);
  if (influence < 0) return InvalidArgument("dossier.model_influence: must be low, medium or high");
  if (consequence < 0) return InvalidArgument("dossier.decision_consequence: must be low, medium or high");
  if (FactorLevel(d.credibility_level) < 0) return InvalidArgument("dossier.credibility_level: must be low, medium or high");
  auto ev = j.find("evidence");
  if (ev == j.end() || !ev->is_array()) return InvalidArgument("dossier.evidence: required, a list of file names");
  for (size_t i = 0; i < ev->size(); ++i) {
    const auto& e = (*ev)[i];
    if (!e.is_string() || e.get<std::string>().empty() || e.get<std::string>().find('/') != std::string::npos) {
      return InvalidArgument("dossier.evidence[" + std::to_string(i) + "]: must be a file name");
    }
    d.evidence.push_back(e.get<std::string>());
  }
  if (j.contains("model_risk")) return InvalidArgument("dossier.model_risk: derived, must not be written");
  d.model_risk = influence + consequence + 1;
  j["model_risk"] = {{"level", d.model_risk}, {"label", ModelRiskLabel(d.model_risk)},
                     {"rule", "V&V 40 risk map: model influence x decision consequence"}};
  d.document = std::move(j);
  return d;
}

}  // namespace soma::server
