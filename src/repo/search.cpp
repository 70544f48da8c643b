// Search: full text (SQLite FTS5 / PostgreSQL tsvector) over metadata and
// indexed model content, facet filters and counts, sorting and pagination —
// all under the caller's visibility condition, so invisible resources never
// appear in items, totals or facet counts.

#include <algorithm>
#include <cctype>
#include <set>

#include "repo/json.h"
#include "repo/repository_impl.h"

namespace soma::repo {
namespace {

// Lowercased word tokens of a free-text query (bytes >= 0x80 are kept so
// that UTF-8 words survive); at most 16.
std::vector<std::string> Tokens(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    if (!cur.empty() && out.size() < 16) out.push_back(cur);
    cur.clear();
  };
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || u >= 0x80) {
      cur += static_cast<char>(std::tolower(u));
    } else {
      flush();
    }
  }
  flush();
  return out;
}

// Every token as a prefix, all required.
std::string MatchExpression(Dialect d, const std::vector<std::string>& tokens) {
  std::string s;
  for (const std::string& t : tokens) {
    if (d == Dialect::kSqlite) {
      if (!s.empty()) s += ' ';
      s += '"' + t + "\"*";
    } else {
      if (!s.empty()) s += " & ";
      s += t + ":*";
    }
  }
  return s;
}

void AddFacet(std::vector<std::pair<std::string, std::string>>& f, const char* name,
              const std::string& value) {
  if (!value.empty()) f.emplace_back(name, value);
}

}  // namespace

Status IndexResource(Database& db, const Resource& r, const std::string& index_text) {
  const Metadata& m = r.metadata;
  std::vector<std::pair<std::string, std::string>> facets;
  AddFacet(facets, "kind", std::string(ToString(r.kind)));
  AddFacet(facets, "visibility", std::string(ToString(r.visibility)));
  AddFacet(facets, "owner", r.owner);
  AddFacet(facets, "license", m.license.empty() ? "none" : m.license);
  AddFacet(facets, "credibility", m.credibility_level.empty() ? "none" : m.credibility_level);
  for (const auto& v : m.organ_systems) AddFacet(facets, "organ", v);
  for (const auto& v : m.diseases) AddFacet(facets, "disease", v);
  for (const auto& v : m.scales) AddFacet(facets, "scale", v);
  SOMA_RETURN_IF_ERROR(db.Exec("DELETE FROM resource_facets WHERE resource_id = ?", {r.id}));
  for (const auto& [facet, value] : facets) {
    SOMA_RETURN_IF_ERROR(db.Exec(
        "INSERT INTO resource_facets (resource_id, facet, value) VALUES (?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        {r.id, facet, value}));
  }
  std::string body = r.id + " " + std::string(ToString(r.kind)) + " " + m.description + " " +
                     m.context_of_use;
  auto add_all = [&body](const std::vector<std::string>& v) {
    for (const auto& s : v) body += " " + s;
  };
  for (const Creator& c : m.creators) body += " " + c.name + " " + c.orcid;
  add_all(m.keywords);
  add_all(m.organ_systems);
  add_all(m.diseases);
  add_all(m.scales);
  add_all(m.references);
  add_all(m.annotations);
  body += " " + index_text;
  if (db.dialect() == Dialect::kSqlite) {
    SOMA_RETURN_IF_ERROR(db.Exec("DELETE FROM resources_fts WHERE id = ?", {r.id}));
    return db.Exec("INSERT INTO resources_fts (id, title, body) VALUES (?, ?, ?)",
                   {r.id, m.title, body});
  }
  return db.Exec(
      "INSERT INTO resources_fts (id, document) VALUES (?, setweight(to_tsvector('simple', ?), "
      "'A') || to_tsvector('simple', ?)) ON CONFLICT (id) DO UPDATE SET document = "
      "EXCLUDED.document",
      {r.id, m.title, body});
}

Result<SearchResult> Repository::Search(const Principal& p, const SearchQuery& q) {
  if (q.limit < 1 || q.limit > 100) return InvalidArgument("limit: must be 1-100");
  if (q.offset < 0) return InvalidArgument("offset: must be >= 0");
  std::set<std::string> known(std::begin(kFacetNames), std::end(kFacetNames));
  known.insert("owner");
  for (const auto& [name, values] : q.filters) {
    if (!known.count(name)) {
      return InvalidArgument("filter '" + name +
                             "': unknown facet (kind, organ, disease, license, scale, "
                             "credibility, visibility, owner)");
    }
  }
  SOMA_ASSIGN_OR_RETURN(auto db, impl_->pool.Acquire());
  Dialect d = db->dialect();

  // FROM ... [JOIN match] WHERE ...: shared by the page, the total and facets.
  std::vector<SqlValue> params;
  std::string from = " FROM resources r";
  std::vector<std::string> tokens = Tokens(q.text);
  bool matching = !tokens.empty();
  if (matching) {
    if (d == Dialect::kSqlite) {
      from += " JOIN (SELECT id AS fid, bm25(resources_fts, 0.0, 10.0, 1.0) AS score "
              "FROM resources_fts WHERE resources_fts MATCH ?) m ON m.fid = r.id";
    } else {
      from += " JOIN (SELECT id AS fid, -ts_rank(document, to_tsquery('simple', ?)) AS score "
              "FROM resources_fts WHERE document @@ to_tsquery('simple', ?)) m ON m.fid = r.id";
      params.emplace_back(MatchExpression(d, tokens));
    }
    params.emplace_back(MatchExpression(d, tokens));
  }
  std::string where = " WHERE r.deleted = 0 AND " + VisibleCondition(p, params);
  for (const auto& [name, values] : q.filters) {
    if (values.empty()) continue;
    where += " AND r.id IN (SELECT resource_id FROM resource_facets WHERE facet = ? AND value IN (";
    params.emplace_back(name);
    for (size_t i = 0; i < values.size(); ++i) {
      where += i ? ", ?" : "?";
      params.emplace_back(values[i]);
    }
    where += "))";
  }

  SearchResult result;
  SOMA_ASSIGN_OR_RETURN(auto count, db->Query("SELECT COUNT(*)" + from + where, params));
  result.total = static_cast<int>(count[0].Int(0));

  std::string order;
  switch (q.sort) {
    case SortOrder::kRelevance:
      order = matching ? "m.score ASC, r.updated_ms DESC" : "r.updated_ms DESC";
      break;
    case SortOrder::kUpdated: order = "r.updated_ms DESC"; break;
    case SortOrder::kTitle: order = "LOWER(r.title) ASC"; break;
    case SortOrder::kCreated: order = "r.created_ms DESC"; break;
    case SortOrder::kRating:
      order = "(SELECT AVG(rating) FROM feedback fb WHERE fb.resource_id = r.id AND fb.kind = "
              "'review' AND fb.hidden = 0) DESC NULLS LAST, r.updated_ms DESC";
      break;
  }
  std::vector<SqlValue> page_params = params;
  page_params.emplace_back(std::int64_t{q.limit});
  page_params.emplace_back(std::int64_t{q.offset});
  SOMA_ASSIGN_OR_RETURN(
      auto rows, db->Query(std::string("SELECT ") + kResourceColumns + from + where +
                               " ORDER BY " + order + ", r.id LIMIT ? OFFSET ?",
                           page_params));
  std::vector<std::string> non_public;
  for (const SqlRow& row : rows) {
    SOMA_ASSIGN_OR_RETURN(Resource r, DecodeResource(row));
    if (r.visibility != Visibility::kPublic) non_public.push_back(r.id);
    result.items.push_back(std::move(r));
  }

  SOMA_ASSIGN_OR_RETURN(
      auto facet_rows,
      db->Query("SELECT f.facet, f.value, COUNT(*) FROM resource_facets f JOIN resources r ON "
                "r.id = f.resource_id" +
                    from.substr(std::string(" FROM resources r").size()) + where +
                    " AND f.facet <> 'owner' GROUP BY f.facet, f.value",
                params));
  for (const SqlRow& row : facet_rows) {
    result.facets[row.Text(0)].push_back({row.Text(1), static_cast<int>(row.Int(2))});
  }
  for (auto& [name, counts] : result.facets) {
    std::sort(counts.begin(), counts.end(), [](const FacetCount& a, const FacetCount& b) {
      return a.count != b.count ? a.count > b.count : a.value < b.value;
    });
  }

  if (!non_public.empty()) {
    SOMA_ASSIGN_OR_RETURN(Transaction tx, Transaction::Write(*db));
    SOMA_RETURN_IF_ERROR(AppendAudit(*db, p.user, "resource.list", "search",
                                     nlohmann::json{{"query", q.text}, {"ids", non_public}}.dump()));
    SOMA_RETURN_IF_ERROR(tx.Commit());
  }
  return result;
}

}  // namespace soma::repo
