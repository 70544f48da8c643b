#pragma once
// A twin's state (docs/twins.md, "State"): the ensemble the filter carries,
// the estimate derived from it, and the pseudonymous history of data,
// interventions and events. Serialised as state.json in every twin version.
//
// Nothing here holds a patient identifier: `subject` is the keyed pseudonym
// of formats/fhir/pseudonym.h.
//
// Thread safety: plain values.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace soma::twin {

using Json = nlohmann::json;

// One ensemble member.
struct Member {
  std::vector<double> theta;    // log of the personalised parameters (definition order)
  std::vector<double> y;        // ODE states in the compiled model's order
  std::vector<double> carried;  // event-driven values (input rates) at `time`
};

// One assimilated (or refused) measurement.
struct TwinObservation {
  double time = 0;             // model time units since the twin's origin
  std::int64_t unix_time = 0;  // seconds
  std::string loinc;
  std::string symbol;
  double value = 0;
  std::string unit;
};

struct TwinEvent {
  std::int64_t seq = 0;  // 1, 2, ... within the twin
  std::string type;      // "observation", "forecast", "alert", "fit"
  double time = 0;       // model time
  Json data;
};

struct TwinState {
  std::string subject;          // "psn-..." pseudonym, or "" for synthetic data
  std::int64_t origin = 0;      // Unix seconds of model time 0
  double time = 0;              // model time of the ensemble
  std::vector<std::string> parameter_ids;  // personalised, definition order
  std::vector<std::string> state_ids;      // ODE states
  std::vector<std::string> carried_ids;
  std::vector<Member> members;
  std::int64_t updates = 0;     // filter updates so far (selects random streams)
  Json estimate = Json::object();
  Json fit;                     // null until a fit ran
  std::vector<TwinObservation> observations;
  Json interventions = Json::array();  // scenario-format interventions, model time
  std::vector<TwinEvent> events;
  std::int64_t next_seq = 1;
  Json issues = Json::array();  // intake issues (never identifying values)

  // Appends an event and returns it.
  const TwinEvent& AddEvent(std::string type, double time, Json data);
};

Json ToJson(const TwinState& s);
Result<TwinState> TwinStateFromJson(const Json& j);  // kInvalidArgument naming the field

Json ToJson(const TwinEvent& e);
Json ToJson(const TwinObservation& o);

}  // namespace soma::twin
