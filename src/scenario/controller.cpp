#include "scenario/controller.h"

#include <cmath>
#include <unordered_set>

#include "expr/parse.h"
#include "sim/input_schedule.h"

namespace soma::scenario {
using expr::Expr;
using expr::Op;
using nlohmann::json;

namespace {

bool IsIdentifier(const std::string& s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char ch : s) {
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_')) return false;
  }
  return true;
}

Result<double> Number(const json& j, const char* key, const std::string& path, std::optional<double> fallback) {
  auto it = j.find(key);
  if (it == j.end()) {
    if (fallback) return *fallback;
    return InvalidArgument(path + "." + key + ": required");
  }
  if (!it->is_number() || !std::isfinite(it->get<double>())) {
    return InvalidArgument(path + "." + key + ": must be a finite number");
  }
  return it->get<double>();
}

Result<Expr> Expression(const json& j, const char* key, const std::string& path) {
  auto it = j.find(key);
  if (it == j.end()) return InvalidArgument(path + "." + key + ": required");
  if (it->is_number()) return Expr::Number(it->get<double>());
  if (!it->is_string()) return InvalidArgument(path + "." + key + ": must be an expression (text) or a number");
  auto e = expr::ParseExpression(it->get<std::string>());
  if (!e.ok()) return e.status().WithContext(path + "." + key + " = '" + it->get<std::string>() + "'");
  return *e;
}

Status CheckKeys(const json& j, const std::string& path, std::initializer_list<const char*> keys) {
  if (!j.is_object()) return InvalidArgument(path + ": must be a JSON object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool known = false;
    for (const char* k : keys) known = known || it.key() == k;
    if (!known) return InvalidArgument(path + "." + it.key() + ": unknown field");
  }
  return Status::Ok();
}

}  // namespace

Result<Controller> ParseController(const json& j, const std::string& path, double window_start,
                                   double window_end) {
  SOMA_RETURN_IF_ERROR(CheckKeys(j, path, {"name", "every", "start", "end", "when", "action"}));
  Controller c;
  if (!j.contains("name") || !j["name"].is_string() || !IsIdentifier(j["name"].get<std::string>())) {
    return InvalidArgument(path + ".name: required, an identifier ([A-Za-z_][A-Za-z0-9_]*)");
  }
  c.name = j["name"];
  SOMA_ASSIGN_OR_RETURN(c.every, Number(j, "every", path, std::nullopt));
  if (!(c.every > 0)) return InvalidArgument(path + ".every: must be > 0");
  SOMA_ASSIGN_OR_RETURN(c.start, Number(j, "start", path, window_start));
  SOMA_ASSIGN_OR_RETURN(c.end, Number(j, "end", path, window_end));
  if (c.start < window_start || c.end > window_end || c.end < c.start) {
    return InvalidArgument(path + ": start and end must satisfy scenario start <= start <= end <= scenario end");
  }
  if ((c.end - c.start) / c.every > 1e6) return InvalidArgument(path + ".every: more than 1000000 samples");
  if (j.contains("when")) {
    SOMA_ASSIGN_OR_RETURN(c.when, Expression(j, "when", path));
  } else {
    c.when = Expr::Leaf(Op::kTrue);
  }
  if (!j.contains("action")) return InvalidArgument(path + ".action: required");
  const json& a = j["action"];
  const std::string ap = path + ".action";
  if (!a.is_object() || !a.contains("type") || !a["type"].is_string()) {
    return InvalidArgument(ap + ".type: required (bolus or set)");
  }
  const std::string type = a["type"];
  if (type == "bolus") {
    SOMA_RETURN_IF_ERROR(CheckKeys(a, ap, {"type", "target", "amount"}));
    c.action = Controller::Action::kBolus;
    SOMA_ASSIGN_OR_RETURN(c.value, Expression(a, "amount", ap));
  } else if (type == "set") {
    SOMA_RETURN_IF_ERROR(CheckKeys(a, ap, {"type", "target", "value"}));
    c.action = Controller::Action::kSet;
    SOMA_ASSIGN_OR_RETURN(c.value, Expression(a, "value", ap));
  } else {
    return InvalidArgument(ap + ".type = '" + type + "': must be bolus or set");
  }
  if (!a.contains("target") || !a["target"].is_string()) return InvalidArgument(ap + ".target: required");
  c.target = a["target"];
  return c;
}

std::vector<double> SampleTimes(const Controller& c) {
  std::vector<double> t;
  const double slack = 1e-9 * std::max(1.0, std::abs(c.end));
  for (long k = 0;; ++k) {
    const double tk = c.start + static_cast<double>(k) * c.every;
    if (tk > c.end + slack) break;
    t.push_back(std::min(tk, c.end));
  }
  return t;
}

Status ApplyControllers(const std::vector<Controller>& controllers, model::Model& model) {
  model::Model m = model;
  std::unordered_set<std::string> taken = sim::TakenIds(m);
  for (size_t ci = 0; ci < controllers.size(); ++ci) {
    const Controller& c = controllers[ci];
    const std::string where = "controllers[" + std::to_string(ci) + "] '" + c.name + "'";
    // The target must be one an input event may change: reuse the input
    // schedule's checks on a scratch copy.
    {
      model::Model scratch = m;
      Status s = sim::ApplyInputSchedule({{.time = c.start, .target = c.target, .value = 0.0}}, {c.start, c.end},
                                         scratch);
      if (!s.ok()) return Status(s.code(), where + ".action.target: " + s.message());
    }
    std::string last = c.name + "_last_action";
    while (taken.count(last)) last += "_";
    taken.insert(last);
    Expr when = expr::Substitute(c.when, "last_action", Expr::Symbol(last));
    Expr value = expr::Substitute(c.value, "last_action", Expr::Symbol(last));
    Status unknown = Status::Ok();
    auto check = [&](const std::string& field) {
      return [&, field](const std::string& name) {
        if (unknown.ok() && name != last && model::KindOf(m, name) == model::SymbolKind::kNone) {
          unknown = NotFound(where + "." + field + ": the model has no symbol '" + name + "'");
        }
      };
    };
    expr::ForEachSymbol(when, check("when"));
    expr::ForEachSymbol(value, check(c.action == Controller::Action::kBolus ? "action.amount" : "action.value"));
    SOMA_RETURN_IF_ERROR(unknown);
    m.parameters.push_back({.id = last, .name = where + ": time of the last action", .value = -1e300,
                            .constant = false});
    const Expr target = Expr::Symbol(c.target);
    Expr assigned = c.action == Controller::Action::kBolus
                        ? Expr::Apply(Op::kPlus, {target, Expr::Apply(Op::kPiecewise, {value, when, Expr::Number(0.0)})})
                        : Expr::Apply(Op::kPiecewise, {value, when, target});
    size_t serial = 0;
    for (double tk : SampleTimes(c)) {
      model::Event ev;
      do {
        ev.id = "controller_" + c.name + "_" + std::to_string(serial++);
      } while (taken.count(ev.id));
      taken.insert(ev.id);
      ev.name = where + " at t = " + std::to_string(tk);
      ev.trigger = Expr::Apply(Op::kGe, {Expr::Leaf(Op::kTime), Expr::Number(tk)});
      ev.trigger_initial_value = false;
      ev.persistent = true;
      ev.use_values_from_trigger_time = false;
      ev.priority = Expr::Number(-static_cast<double>(m.events.size()));
      ev.assignments.push_back({c.target, assigned});
      ev.assignments.push_back(
          {last, Expr::Apply(Op::kPiecewise, {Expr::Number(tk), when, Expr::Symbol(last)})});
      m.events.push_back(std::move(ev));
    }
  }
  model = std::move(m);
  return Status::Ok();
}

}  // namespace soma::scenario
