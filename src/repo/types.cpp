#include "repo/types.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace soma::repo {
namespace {

template <typename E, size_t N>
Result<E> ParseEnum(std::string_view name, const std::array<std::pair<std::string_view, E>, N>& table,
                    std::string_view what) {
  for (const auto& [n, e] : table) {
    if (n == name) return e;
  }
  std::string expected;
  for (const auto& [n, e] : table) {
    if (!expected.empty()) expected += ", ";
    expected += n;
  }
  return InvalidArgument(std::string(what) + " '" + std::string(name) + "': must be one of " +
                         expected);
}

constexpr std::array<std::pair<std::string_view, ResourceKind>, 8> kKinds = {{
    {"model", ResourceKind::kModel},
    {"dataset", ResourceKind::kDataset},
    {"twin", ResourceKind::kTwin},
    {"scenario", ResourceKind::kScenario},
    {"trial", ResourceKind::kTrial},
    {"evidence", ResourceKind::kEvidence},
    {"document", ResourceKind::kDocument},
    {"result", ResourceKind::kResult},
}};
constexpr std::array<std::pair<std::string_view, Visibility>, 3> kVisibilities = {{
    {"public", Visibility::kPublic},
    {"group", Visibility::kGroup},
    {"private", Visibility::kPrivate},
}};
constexpr std::array<std::pair<std::string_view, Role>, 4> kRoles = {{
    {"reader", Role::kReader},
    {"contributor", Role::kContributor},
    {"curator", Role::kCurator},
    {"admin", Role::kAdmin},
}};
constexpr std::array<std::pair<std::string_view, SortOrder>, 5> kSorts = {{
    {"relevance", SortOrder::kRelevance},
    {"updated", SortOrder::kUpdated},
    {"title", SortOrder::kTitle},
    {"created", SortOrder::kCreated},
    {"rating", SortOrder::kRating},
}};

template <typename E, size_t N>
std::string_view NameOf(E e, const std::array<std::pair<std::string_view, E>, N>& table) {
  for (const auto& [n, v] : table) {
    if (v == e) return n;
  }
  return "?";
}

bool IsOrcid(std::string_view s) {
  // 0000-0002-1825-0097: four groups of four, the last character may be X.
  if (s.size() != 19) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i % 5 == 4) {
      if (s[i] != '-') return false;
    } else if (!std::isdigit(static_cast<unsigned char>(s[i])) && !(i == 18 && s[i] == 'X')) {
      return false;
    }
  }
  return true;
}

bool IsReference(std::string_view s) {
  if (s.rfind("doi:10.", 0) == 0 && s.find('/') != std::string_view::npos) return true;
  if (s.rfind("pubmed:", 0) == 0 && s.size() > 7) {
    return std::all_of(s.begin() + 7, s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
  }
  return false;
}

bool IsSpdxLike(std::string_view s) {
  if (s.empty() || s.size() > 100) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '+' ||
           c == ' ' || c == '(' || c == ')';
  });
}

}  // namespace

std::string_view ToString(ResourceKind kind) { return NameOf(kind, kKinds); }
std::string_view ToString(Visibility visibility) { return NameOf(visibility, kVisibilities); }
std::string_view ToString(Role role) { return NameOf(role, kRoles); }
Result<ResourceKind> ParseResourceKind(std::string_view name) { return ParseEnum(name, kKinds, "kind"); }
Result<Visibility> ParseVisibility(std::string_view name) {
  return ParseEnum(name, kVisibilities, "visibility");
}
Result<Role> ParseRole(std::string_view name) { return ParseEnum(name, kRoles, "role"); }
Result<SortOrder> ParseSortOrder(std::string_view name) { return ParseEnum(name, kSorts, "sort"); }

Status ValidateMetadata(const Metadata& m) {
  auto blank = [](const std::string& s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
  };
  if (blank(m.title)) return InvalidArgument("metadata.title: must not be empty");
  if (m.title.size() > 300) return InvalidArgument("metadata.title: longer than 300 characters");
  for (size_t i = 0; i < m.creators.size(); ++i) {
    const Creator& c = m.creators[i];
    std::string at = "metadata.creators[" + std::to_string(i) + "]";
    if (blank(c.name)) return InvalidArgument(at + ".name: must not be empty");
    if (!c.orcid.empty() && !IsOrcid(c.orcid)) {
      return InvalidArgument(at + ".orcid = '" + c.orcid +
                             "': expected an ORCID iD like 0000-0002-1825-0097");
    }
  }
  if (!m.license.empty() && !IsSpdxLike(m.license)) {
    return InvalidArgument("metadata.license = '" + m.license +
                           "': expected an SPDX licence id such as CC-BY-4.0");
  }
  for (size_t i = 0; i < m.scales.size(); ++i) {
    if (std::find(std::begin(kScales), std::end(kScales), m.scales[i]) == std::end(kScales)) {
      return InvalidArgument("metadata.scales[" + std::to_string(i) + "] = '" + m.scales[i] +
                             "': must be one of cell, tissue, organ, body, population");
    }
  }
  for (size_t i = 0; i < m.references.size(); ++i) {
    if (!IsReference(m.references[i])) {
      return InvalidArgument("metadata.references[" + std::to_string(i) + "] = '" +
                             m.references[i] + "': expected doi:10.xxxx/... or pubmed:NNN");
    }
  }
  if (!m.credibility_level.empty() && m.credibility_level != "low" &&
      m.credibility_level != "medium" && m.credibility_level != "high") {
    return InvalidArgument("metadata.credibility_level = '" + m.credibility_level +
                           "': must be empty or one of low, medium, high");
  }
  return Status::Ok();
}

}  // namespace soma::repo
