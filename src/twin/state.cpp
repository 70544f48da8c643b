// JSON form of a twin's state.

#include "twin/state.h"

namespace soma::twin {

const TwinEvent& TwinState::AddEvent(std::string type, double t, Json data) {
  events.push_back({next_seq++, std::move(type), t, std::move(data)});
  return events.back();
}

Json ToJson(const TwinEvent& e) {
  return {{"seq", e.seq}, {"type", e.type}, {"time", e.time}, {"data", e.data}};
}

Json ToJson(const TwinObservation& o) {
  return {{"time", o.time}, {"unix", o.unix_time}, {"loinc", o.loinc}, {"symbol", o.symbol},
          {"value", o.value}, {"unit", o.unit}};
}

Json ToJson(const TwinState& s) {
  Json members = Json::array();
  for (const Member& m : s.members) members.push_back({{"theta", m.theta}, {"y", m.y}, {"carried", m.carried}});
  Json obs = Json::array();
  for (const auto& o : s.observations) obs.push_back(ToJson(o));
  Json events = Json::array();
  for (const auto& e : s.events) events.push_back(ToJson(e));
  return {{"schema", "soma.twin-state/1"},
          {"subject", s.subject},
          {"origin", s.origin},
          {"time", s.time},
          {"ensemble", {{"size", s.members.size()}, {"parameters", s.parameter_ids}, {"states", s.state_ids},
                        {"carried", s.carried_ids}, {"updates", s.updates}, {"members", members}}},
          {"estimate", s.estimate},
          {"fit", s.fit},
          {"history", {{"observations", obs}, {"interventions", s.interventions}}},
          {"events", events},
          {"next_seq", s.next_seq},
          {"issues", s.issues}};
}

namespace {

template <typename T>
Status Read(const Json& j, const char* key, T* out, const std::string& path) {
  if (!j.is_object() || !j.contains(key)) return InvalidArgument(path + "." + key + ": required");
  try {
    *out = j.at(key).get<T>();
  } catch (const std::exception&) {
    return InvalidArgument(path + "." + key + ": wrong type");
  }
  return Status::Ok();
}

}  // namespace

Result<TwinState> TwinStateFromJson(const Json& j) {
  TwinState s;
  const std::string p = "state";
  if (!j.is_object()) return InvalidArgument("state: must be an object");
  std::string schema;
  SOMA_RETURN_IF_ERROR(Read(j, "schema", &schema, p));
  if (schema != "soma.twin-state/1") return InvalidArgument("state.schema = '" + schema + "': must be soma.twin-state/1");
  SOMA_RETURN_IF_ERROR(Read(j, "subject", &s.subject, p));
  SOMA_RETURN_IF_ERROR(Read(j, "origin", &s.origin, p));
  SOMA_RETURN_IF_ERROR(Read(j, "time", &s.time, p));
  if (!j.contains("ensemble")) return InvalidArgument("state.ensemble: required");
  const Json& e = j.at("ensemble");
  SOMA_RETURN_IF_ERROR(Read(e, "parameters", &s.parameter_ids, p + ".ensemble"));
  SOMA_RETURN_IF_ERROR(Read(e, "states", &s.state_ids, p + ".ensemble"));
  SOMA_RETURN_IF_ERROR(Read(e, "carried", &s.carried_ids, p + ".ensemble"));
  SOMA_RETURN_IF_ERROR(Read(e, "updates", &s.updates, p + ".ensemble"));
  if (!e.contains("members") || !e.at("members").is_array()) return InvalidArgument("state.ensemble.members: must be an array");
  for (size_t i = 0; i < e.at("members").size(); ++i) {
    const Json& m = e.at("members")[i];
    std::string mp = "state.ensemble.members[" + std::to_string(i) + "]";
    Member mem;
    SOMA_RETURN_IF_ERROR(Read(m, "theta", &mem.theta, mp));
    SOMA_RETURN_IF_ERROR(Read(m, "y", &mem.y, mp));
    SOMA_RETURN_IF_ERROR(Read(m, "carried", &mem.carried, mp));
    if (mem.theta.size() != s.parameter_ids.size() || mem.carried.size() != s.carried_ids.size() ||
        (!mem.y.empty() && mem.y.size() != s.state_ids.size())) {
      return InvalidArgument(mp + ": sizes do not match the ensemble's parameters, states and carried values");
    }
    s.members.push_back(std::move(mem));
  }
  s.estimate = j.value("estimate", Json::object());
  s.fit = j.value("fit", Json());
  if (!j.contains("history")) return InvalidArgument("state.history: required");
  const Json& h = j.at("history");
  if (!h.contains("observations") || !h.at("observations").is_array()) {
    return InvalidArgument("state.history.observations: must be an array");
  }
  for (size_t i = 0; i < h.at("observations").size(); ++i) {
    const Json& o = h.at("observations")[i];
    std::string op = "state.history.observations[" + std::to_string(i) + "]";
    TwinObservation ob;
    SOMA_RETURN_IF_ERROR(Read(o, "time", &ob.time, op));
    SOMA_RETURN_IF_ERROR(Read(o, "unix", &ob.unix_time, op));
    SOMA_RETURN_IF_ERROR(Read(o, "loinc", &ob.loinc, op));
    SOMA_RETURN_IF_ERROR(Read(o, "symbol", &ob.symbol, op));
    SOMA_RETURN_IF_ERROR(Read(o, "value", &ob.value, op));
    SOMA_RETURN_IF_ERROR(Read(o, "unit", &ob.unit, op));
    s.observations.push_back(std::move(ob));
  }
  s.interventions = h.value("interventions", Json::array());
  if (!s.interventions.is_array()) return InvalidArgument("state.history.interventions: must be an array");
  for (const Json& ev : j.value("events", Json::array())) {
    TwinEvent te;
    SOMA_RETURN_IF_ERROR(Read(ev, "seq", &te.seq, "state.events[]"));
    SOMA_RETURN_IF_ERROR(Read(ev, "type", &te.type, "state.events[]"));
    SOMA_RETURN_IF_ERROR(Read(ev, "time", &te.time, "state.events[]"));
    te.data = ev.value("data", Json::object());
    s.events.push_back(std::move(te));
  }
  SOMA_RETURN_IF_ERROR(Read(j, "next_seq", &s.next_seq, p));
  s.issues = j.value("issues", Json::array());
  return s;
}

}  // namespace soma::twin
