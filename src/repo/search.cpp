// Search: full text (SQLite FTS5 / PostgreSQL tsvector) over metadata and
// indexed model content, facet filters and counts, sorting and pagination —
// all under the caller's visibility condition, so invisible resources never
// appear in items, totals or facet counts.

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "repo/json.h"
#include "repo/repository_impl.h"
#include "repo/search_postgres.h"

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
  // The same pairs once more as "facet=value" lines in one column, so facet
  // counts take one pass over the matching resources without a join.
  std::string packed;
  for (const auto& [facet, value] : facets) {
    if (facet == "owner") continue;
    packed += facet + "=" + value + "\n";
  }
  SOMA_RETURN_IF_ERROR(db.Exec("UPDATE resources SET facets = ? WHERE id = ?", {packed, r.id}));
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
    // FTS5 rows share the resource's rowid: its `id` column is not indexed,
    // so finding the row by id would scan the whole index on every update.
    SOMA_RETURN_IF_ERROR(db.Exec(
        "DELETE FROM resources_fts WHERE rowid = (SELECT rowid FROM resources WHERE id = ?)", {r.id}));
    return db.Exec(
        "INSERT INTO resources_fts (rowid, id, title, body) VALUES ((SELECT rowid FROM resources "
        "WHERE id = ?), ?, ?, ?)",
        {r.id, r.id, m.title, body});
  }
  return db.Exec(
      "INSERT INTO resources_fts (id, document) VALUES (?, setweight(to_tsvector('simple', ?), "
      "'A') || to_tsvector('simple', ?)) ON CONFLICT (id) DO UPDATE SET document = "
      "EXCLUDED.document",
      {r.id, PostgresSearchText(m.title), PostgresSearchText(body)});
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
  // Total and facet counts in one pass over the matching rows' packed facets.
  SOMA_ASSIGN_OR_RETURN(auto facet_rows, db->Query("SELECT r.facets" + from + where, params));
  result.total = static_cast<int>(facet_rows.size());
  std::map<std::string, std::map<std::string, int>> counts;
  for (const SqlRow& row : facet_rows) {
    const std::string& packed = std::get<std::string>(row.values[0]);
    size_t start = 0;
    while (start < packed.size()) {
      size_t nl = packed.find('\n', start);
      if (nl == std::string::npos) nl = packed.size();
      size_t eq = packed.find('=', start);
      if (eq != std::string::npos && eq < nl) {
        ++counts[packed.substr(start, eq - start)][packed.substr(eq + 1, nl - eq - 1)];
      }
      start = nl + 1;
    }
  }
  for (const auto& [name, values] : counts) {
    auto& out = result.facets[name];
    for (const auto& [value, n] : values) out.push_back({value, n});
    std::sort(out.begin(), out.end(), [](const FacetCount& a, const FacetCount& b) {
      return a.count != b.count ? a.count > b.count : a.value < b.value;
    });
  }

  std::string order;
  switch (q.sort) {
    case SortOrder::kRelevance:
      order = matching ? "m.score ASC, r.updated_ms DESC" : "r.updated_ms DESC";
      break;
    case SortOrder::kUpdated: order = "r.updated_ms DESC"; break;
    case SortOrder::kTitle: order = "LOWER(r.title) ASC"; break;
    case SortOrder::kCreated: order = "r.created_ms DESC"; break;
    case SortOrder::kRating: order = "r.rating DESC, r.updated_ms DESC"; break;
  }
  // The page's ids first (a narrow sort), then their full rows.
  std::vector<SqlValue> page_params = params;
  page_params.emplace_back(std::int64_t{q.limit});
  page_params.emplace_back(std::int64_t{q.offset});
  SOMA_ASSIGN_OR_RETURN(auto id_rows, db->Query("SELECT r.id" + from + where + " ORDER BY " + order +
                                                    ", r.id LIMIT ? OFFSET ?",
                                                page_params));
  std::vector<std::string> non_public;
  if (!id_rows.empty()) {
    std::string in;
    std::vector<SqlValue> ids;
    for (const SqlRow& row : id_rows) {
      in += in.empty() ? "?" : ", ?";
      ids.emplace_back(row.Text(0));
    }
    SOMA_ASSIGN_OR_RETURN(auto rows, db->Query(std::string("SELECT ") + kResourceColumns +
                                                   " FROM resources r WHERE r.id IN (" + in + ")",
                                               ids));
    std::map<std::string, Resource> by_id;
    for (const SqlRow& row : rows) {
      SOMA_ASSIGN_OR_RETURN(Resource r, DecodeResource(row));
      by_id.emplace(r.id, std::move(r));
    }
    for (const SqlRow& row : id_rows) {
      auto it = by_id.find(row.Text(0));
      if (it == by_id.end()) continue;
      if (it->second.visibility != Visibility::kPublic) non_public.push_back(it->first);
      result.items.push_back(std::move(it->second));
    }
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
