// Routes for patient twins (/v1/twins, docs/twins.md), including the
// server-sent-events stream of a twin's observation, forecast and alert events.

#include <chrono>
#include <memory>

#include "server/routes.h"
#include "server/twin_service.h"

namespace soma::server {

namespace {

using SteadyClock = std::chrono::steady_clock;

Result<Reply> JsonReply(Result<Json> r, int status = 200) {
  if (!r.ok()) return r.status();
  return Reply::FromJson(*r, status);
}

Result<Json> BodyOrEmpty(const Call& c) {
  if (c.http.body.empty()) return Json::object();
  return ParseJsonObject(c.http.body);
}

Result<std::int64_t> IntParam(const Params& q, const char* name, std::int64_t def, std::int64_t lo, std::int64_t hi) {
  auto v = GetParam(q, name);
  if (!v) return def;
  try {
    size_t used = 0;
    long long x = std::stoll(*v, &used);
    if (used != v->size() || x < lo || x > hi) throw std::out_of_range(name);
    return x;
  } catch (const std::exception&) {
    return InvalidArgument(std::string(name) + " = '" + *v + "': must be an integer in " + std::to_string(lo) + ".." +
                           std::to_string(hi));
  }
}

std::string SseMessage(const twin::TwinEvent& e) {
  return "id: " + std::to_string(e.seq) + "\nevent: " + e.type + "\ndata: " + twin::ToJson(e).dump() + "\n\n";
}

struct StreamState {
  std::vector<twin::TwinEvent> replay;
  std::int64_t last = 0;
  std::int64_t limit = 0;  // 0: unlimited
  std::int64_t sent = 0;
  SteadyClock::time_point deadline;
};

Result<Reply> EventStream(ApiService& s, const Call& c) {
  SOMA_ASSIGN_OR_RETURN(TwinService * twins, s.twins());
  SOMA_RETURN_IF_ERROR(CheckKnownParams(c.Query(), {"since", "limit", "timeout"}));
  const std::string id = c.Path(0);
  std::int64_t since = -1;
  if (c.http.has_header("Last-Event-ID")) {
    Params h = {{"Last-Event-ID", c.http.get_header_value("Last-Event-ID")}};
    SOMA_ASSIGN_OR_RETURN(since, IntParam(h, "Last-Event-ID", -1, 0, INT64_MAX));
  }
  SOMA_ASSIGN_OR_RETURN(since, IntParam(c.Query(), "since", since, 0, INT64_MAX));
  SOMA_ASSIGN_OR_RETURN(std::int64_t limit, IntParam(c.Query(), "limit", 0, 0, 1000000));
  SOMA_ASSIGN_OR_RETURN(std::int64_t timeout, IntParam(c.Query(), "timeout", 300, 1, 3600));
  // Authorised (and audited) read of the stored events.
  SOMA_ASSIGN_OR_RETURN(auto past, twins->Events(c.principal, id, since < 0 ? 0 : since));
  auto st = std::make_shared<StreamState>();
  if (since < 0) {
    st->last = past.empty() ? 0 : past.back().seq;  // only new events
  } else {
    st->last = since;
    st->replay = std::move(past);
  }
  st->limit = limit;
  st->deadline = SteadyClock::now() + std::chrono::seconds(timeout);
  Reply r;
  r.content_type = "text/event-stream";
  r.headers.emplace("Cache-Control", "no-cache");
  r.headers.emplace("X-Accel-Buffering", "no");
  r.stream = [twins, id, st](size_t, httplib::DataSink& sink) -> bool {
    auto send = [&](const twin::TwinEvent& e) {
      std::string m = SseMessage(e);
      st->last = std::max(st->last, e.seq);
      ++st->sent;
      return sink.write(m.data(), m.size());
    };
    auto finished = [&] { return st->limit > 0 && st->sent >= st->limit; };
    const std::string hello = ": soma twin events\n\n";
    if (!sink.write(hello.data(), hello.size())) return false;
    for (const auto& e : st->replay) {
      if (finished()) break;
      if (!send(e)) return false;
    }
    st->replay.clear();
    auto last_write = SteadyClock::now();
    while (!finished() && SteadyClock::now() < st->deadline && !twins->stopping()) {
      if (!sink.is_writable()) return false;
      for (const auto& e : twins->WaitForEvents(id, st->last, 1000)) {
        if (e.seq <= st->last) continue;
        if (finished()) break;
        if (!send(e)) return false;
        last_write = SteadyClock::now();
      }
      if (SteadyClock::now() - last_write > std::chrono::seconds(15)) {
        const std::string ka = ": keep-alive\n\n";
        if (!sink.write(ka.data(), ka.size())) return false;
        last_write = SteadyClock::now();
      }
    }
    sink.done();
    return true;
  };
  return r;
}

}  // namespace

void AddTwinRoutes(ApiService& s, std::vector<Route>* routes) {
  const std::string tag = "twins";
  routes->push_back({
      .method = "POST", .path = "/v1/twins", .operation_id = "createTwin",
      .summary = "Create a patient twin from a definition and a FHIR bundle (pseudonymised on intake)", .tag = tag,
      .access = "contributor, curator, admin", .body_types = {"application/json"}, .success = 201,
      .handler = [&s](const Call& c) -> Result<Reply> {
        SOMA_ASSIGN_OR_RETURN(TwinService * t, s.twins());
        SOMA_ASSIGN_OR_RETURN(Json body, ParseJsonObject(c.http.body));
        return JsonReply(t->Create(c.principal, body), 201);
      }});
  routes->push_back({
      .method = "GET", .path = "/v1/twins", .operation_id = "listTwins",
      .summary = "Twins the caller may read, newest first", .tag = tag,
      .access = "anyone (anonymous callers see public twins only)",
      .query = {{"limit", "Page size, 1-100 (default 20)", "integer"}, {"offset", "Items to skip (default 0)", "integer"}},
      .handler = [&s](const Call& c) -> Result<Reply> {
        SOMA_ASSIGN_OR_RETURN(TwinService * t, s.twins());
        return JsonReply(t->List(c.principal, c.Query()));
      }});
  routes->push_back({
      .method = "GET", .path = "/v1/twins/{id}", .operation_id = "getTwin",
      .summary = "A twin: definition, estimate, latest data and events", .tag = tag,
      .access = "anyone who may read the twin (reads of private twins are audited)",
      .handler = [&s](const Call& c) -> Result<Reply> {
        SOMA_ASSIGN_OR_RETURN(TwinService * t, s.twins());
        return JsonReply(t->Get(c.principal, c.Path(0)));
      }});
  routes->push_back({
      .method = "POST", .path = "/v1/twins/{id}/observations", .operation_id = "observeTwin",
      .summary = "Assimilate new data (a FHIR bundle, {csv}, or JSON observations, meals and doses)", .tag = tag,
      .access = "owner, curators who may read it, admin", .body_types = {"application/json", "application/fhir+json"},
      .handler = [&s](const Call& c) -> Result<Reply> {
        SOMA_ASSIGN_OR_RETURN(TwinService * t, s.twins());
        SOMA_ASSIGN_OR_RETURN(Json body, ParseJsonObject(c.http.body));
        return JsonReply(t->Observe(c.principal, c.Path(0), body));
      }});
  routes->push_back({
      .method = "POST", .path = "/v1/twins/{id}/forecast", .operation_id = "forecastTwin",
      .summary = "Forecast with prediction intervals; evaluates the alert rules and records their events", .tag = tag,
      .access = "owner, curators who may read it, admin", .body_types = {"application/json"},
      .handler = [&s](const Call& c) -> Result<Reply> {
        SOMA_ASSIGN_OR_RETURN(TwinService * t, s.twins());
        SOMA_ASSIGN_OR_RETURN(Json body, BodyOrEmpty(c));
        return JsonReply(t->Forecast(c.principal, c.Path(0), body));
      }});
  routes->push_back({
      .method = "POST", .path = "/v1/twins/{id}/whatif", .operation_id = "whatIfTwin",
      .summary = "What-if: forecasts from the twin's time under several plans of meals and doses, side by side "
                 "(nothing is recorded)",
      .tag = tag, .access = "signed-in callers who may read the twin (reads of private twins are audited)",
      .body_types = {"application/json"}, .rate_limited = true,
      .handler = [&s](const Call& c) -> Result<Reply> {
        SOMA_ASSIGN_OR_RETURN(TwinService * t, s.twins());
        SOMA_ASSIGN_OR_RETURN(Json body, BodyOrEmpty(c));
        return JsonReply(t->WhatIf(c.principal, c.Path(0), body));
      }});
  routes->push_back({
      .method = "GET", .path = "/v1/twins/{id}/hindcast", .operation_id = "hindcastTwin",
      .summary = "The twin's history replayed with its personalised parameters (mean and parameter-uncertainty "
                 "band from time 0 to the twin's time), to compare with the observations",
      .tag = tag, .access = "anyone who may read the twin (reads of private twins are audited)",
      .query = {{"step", "Output step in model time units (default: the definition's forecast step, at most 2000 "
                         "intervals)", "number"}},
      .handler = [&s](const Call& c) -> Result<Reply> {
        SOMA_ASSIGN_OR_RETURN(TwinService * t, s.twins());
        return JsonReply(t->Hindcast(c.principal, c.Path(0), c.Query()));
      }});
  routes->push_back({
      .method = "POST", .path = "/v1/twins/{id}/fit", .operation_id = "fitTwin",
      .summary = "Start a MAP personalisation job", .tag = tag,
      .access = "owner, curators who may read it, admin", .body_types = {"application/json"}, .success = 202,
      .handler = [&s](const Call& c) -> Result<Reply> {
        SOMA_ASSIGN_OR_RETURN(TwinService * t, s.twins());
        SOMA_ASSIGN_OR_RETURN(Json body, BodyOrEmpty(c));
        return JsonReply(t->StartFit(c.principal, c.Path(0), body), 202);
      }});
  routes->push_back({
      .method = "GET", .path = "/v1/twins/{id}/fit/{job}", .operation_id = "getTwinFitJob",
      .summary = "A fit job's state and progress", .tag = tag,
      .access = "anyone who may read the twin",
      .handler = [&s](const Call& c) -> Result<Reply> {
        SOMA_ASSIGN_OR_RETURN(TwinService * t, s.twins());
        return JsonReply(t->GetJob(c.principal, c.Path(0), c.Path(1)));
      }});
  routes->push_back({
      .method = "GET", .path = "/v1/twins/{id}/posterior", .operation_id = "getTwinPosterior",
      .summary = "The personalised parameters' posterior ensemble as a population table (CSV) for trials",
      .tag = tag, .access = "anyone who may read the twin (reads of private twins are audited)",
      .response_type = "text/csv",
      .handler = [&s](const Call& c) -> Result<Reply> {
        SOMA_ASSIGN_OR_RETURN(TwinService * t, s.twins());
        SOMA_ASSIGN_OR_RETURN(std::string csv, t->Posterior(c.principal, c.Path(0)));
        Reply r;
        r.content_type = "text/csv";
        r.body = std::move(csv);
        return r;
      }});
  routes->push_back({
      .method = "GET", .path = "/v1/twins/{id}/events", .operation_id = "twinEvents",
      .summary = "Server-sent events: observation, forecast, alert (past ones after `since` first)", .tag = tag,
      .access = "anyone who may read the twin",
      .query = {{"since", "Replay stored events with seq > since (default: only new events)", "integer"},
                {"limit", "Close the stream after this many events", "integer"},
                {"timeout", "Close the stream after this many seconds (1-3600, default 300)", "integer"}},
      .response_type = "text/event-stream", .rate_limited = true,
      .handler = [&s](const Call& c) { return EventStream(s, c); }});
}

}  // namespace soma::server
