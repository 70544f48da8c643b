// Routes for search and community feedback.

#include "server/routes.h"

namespace soma::server {

namespace {

Result<Reply> JsonReply(Result<Json> r, int status = 200) {
  if (!r.ok()) return r.status();
  return Reply::FromJson(*r, status);
}

}  // namespace

void AddDiscoveryRoutes(ApiService& s, std::vector<Route>* routes) {
  std::vector<QueryDoc> search_query = {
      {"q", "Free text over metadata and model content (species, parameter ... names)"},
      {"sort", "relevance (default), updated, title, created or rating"},
      {"limit", "Page size, 1-100 (default 20)", "integer"},
      {"offset", "Items to skip (default 0)", "integer"},
  };
  for (std::string_view facet : repo::kFacetNames) {
    search_query.push_back({std::string(facet),
                            "Facet filter: any of these values (repeat or comma-separate)", "string", true});
  }
  routes->push_back({
      .method = "GET", .path = "/v1/search", .operation_id = "search",
      .summary = "Full-text search with facet counts over resources visible to the caller",
      .tag = "search", .access = "anyone (counts and facets include only what the caller may read)",
      .query = search_query,
      .handler = [&s](const Call& c) { return JsonReply(s.Search(c.principal, c.Query())); }});
  routes->push_back({
      .method = "GET", .path = "/v1/resources/{id}/feedback", .operation_id = "listFeedback",
      .summary = "Comments and reviews (hidden ones only for curators and admins)", .tag = "feedback",
      .access = "anyone who may read the resource",
      .handler = [&s](const Call& c) { return JsonReply(s.ListFeedback(c.principal, c.Path(0))); }});
  routes->push_back({
      .method = "POST", .path = "/v1/resources/{id}/feedback", .operation_id = "addFeedback",
      .summary = "Add a comment or a review with a rating 1-5", .tag = "feedback",
      .access = "signed-in users who may read the resource", .body_types = {"application/json"},
      .success = 201,
      .handler = [&s](const Call& c) -> Result<Reply> {
        SOMA_ASSIGN_OR_RETURN(Json body, ParseJsonObject(c.http.body));
        return JsonReply(s.AddFeedback(c.principal, c.Path(0), body), 201);
      }});
  routes->push_back({
      .method = "POST", .path = "/v1/feedback/{id}/moderation", .operation_id = "moderateFeedback",
      .summary = "Hide or show a comment or review", .tag = "feedback", .access = "curator, admin",
      .body_types = {"application/json"},
      .handler = [&s](const Call& c) -> Result<Reply> {
        SOMA_ASSIGN_OR_RETURN(Json body, ParseJsonObject(c.http.body));
        return JsonReply(s.Moderate(c.principal, c.Path(0), body));
      }});
}

}  // namespace soma::server
