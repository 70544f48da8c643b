// Forward sensitivities on the SBML Test Suite's time courses, against
// central finite differences of the plain simulator: every case whose model
// SimulateWithSensitivities supports, for up to four of its declared values
// (global parameters, compartment sizes, species' initial values, local
// parameters). The suite's models cover SBML's constructs (rules, events,
// varying compartments, conversion factors, piecewise ...); the hand-written
// models of src/sim/sensitivity_test.cpp cover only some of them.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "formats/sbml/sbml_import.h"
#include "sim/sensitivity.h"
#include "sim/simulator.h"
#include "suite_case.h"

namespace soma::suite {
namespace {

const std::filesystem::path kRoot = SOMA_SHARED_DIR "/sbml-test-suite/semantic";

// Declared values that may be sensitivity parameters: finite and nonzero (a
// relative finite-difference step needs a scale).
std::vector<std::pair<std::string, double>> Candidates(const model::Model& m) {
  std::vector<std::pair<std::string, double>> out;
  auto usable = [](const std::optional<double>& v) { return v && std::isfinite(*v) && *v != 0.0; };
  for (const model::Parameter& p : m.parameters) {
    if (usable(p.value)) out.emplace_back(p.id, *p.value);
  }
  for (const model::Compartment& c : m.compartments) {
    if (usable(c.size)) out.emplace_back(c.id, *c.size);
  }
  for (const model::Species& s : m.species) {
    if (usable(s.initial_amount)) out.emplace_back(s.id, *s.initial_amount);
    if (usable(s.initial_concentration)) out.emplace_back(s.id, *s.initial_concentration);
  }
  for (const model::Reaction& r : m.reactions) {
    for (const model::Parameter& p : r.local_parameters) {
      if (usable(p.value)) out.emplace_back(r.id + "." + p.id, *p.value);
    }
  }
  return out;
}

struct Mismatch {
  std::string where;
  double excess = 0;
};

TEST(SbmlTestSuiteSensitivities, MatchCentralFiniteDifferences) {
  std::vector<std::filesystem::path> cases = ListCases(kRoot);
  if (cases.empty()) GTEST_SKIP() << "no SBML Test Suite at " << kRoot;
  int checked = 0, unsupported = 0, rough = 0;
  std::vector<Mismatch> mismatches;
  for (const auto& dir : cases) {
    auto info = ReadCase(dir);
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    if (info->test_type != "TimeCourse") continue;
    auto imported = formats::LoadSbmlFile(ModelFile(*info));
    if (!imported.ok()) continue;
    auto compiled = sim::CompiledModel::Compile(imported->model);
    if (!compiled.ok()) continue;
    std::shared_ptr<const sim::CompiledModel> cm = std::move(compiled).value();
    const std::vector<sim::OutputVariable> outputs = CaseOutputs(*info, *cm);
    sim::SimulationOptions opt;
    opt.start = info->settings.start;
    opt.end = info->settings.start + info->settings.duration;
    opt.steps = info->settings.steps;
    // Tight, so that the finite differences' own error (the integration
    // error divided by the step h = 1e-4 |p|) stays below the tolerance of
    // the comparison: 1e-3 relative plus 1e-5 of the output's largest
    // magnitude per unit of the parameter (at abs_tol 1e-14 the suite's
    // micromolar models, 00066, fail by the finite differences' noise).
    opt.integrator.rel_tol = 1e-11;
    opt.integrator.abs_tol = 1e-16;
    // The parameters one at a time: the first four that can be one.
    std::vector<std::pair<std::string, double>> params;
    Status refused;
    for (const auto& candidate : Candidates(imported->model)) {
      if (params.size() == 4) break;
      auto plan = sim::PlanSensitivities(cm, outputs, {candidate.first});
      if (plan.ok()) params.push_back(candidate);
      else if (plan.status().code() == ErrorCode::kUnsupported) refused = plan.status();
    }
    if (params.empty()) {
      // The model has a construct sensitivities refuse (delay(), floor of
      // a state, ...), or no declared value.
      if (!refused.ok()) ++unsupported;
      continue;
    }
    std::vector<std::string> ids;
    for (const auto& p : params) ids.push_back(p.first);
    auto sens = sim::SimulateWithSensitivities(cm, opt, outputs, ids);
    if (!sens.ok()) {
      // Refused during the run (several events at a moving time, ...):
      // named, never a wrong number.
      EXPECT_EQ(sens.status().code(), ErrorCode::kUnsupported) << info->id << ": " << sens.status().ToString();
      std::printf("%s: %s\n", info->id.c_str(), sens.status().ToString().c_str());
      ++unsupported;
      continue;
    }
    sim::Simulator simulator(cm);
    for (size_t k = 0; k < params.size(); ++k) {
      const auto& [id, value] = params[k];
      const double h = 1e-4 * std::abs(value);
      auto at = [&](double v) {
        sim::SimulationOptions o = opt;
        o.overrides = {{id, v}};
        return simulator.Simulate(o, outputs);
      };
      auto mid = at(value), plus = at(value + h), minus = at(value - h), plus2 = at(value + 2 * h),
           minus2 = at(value - 2 * h);
      if (!mid.ok() || !plus.ok() || !minus.ok() || !plus2.ok() || !minus2.ok()) continue;
      const auto& base = sens->trajectory;
      for (size_t j = 0; j < outputs.size(); ++j) {
        double scale = 0;
        for (size_t r = 0; r < base.rows; ++r) scale = std::max(scale, std::abs(base.at(r, j + 1)));
        for (size_t r = 0; r < base.rows; ++r) {
          const double fd = (plus->at(r, j + 1) - minus->at(r, j + 1)) / (2 * h);
          const double fd2 = (plus2->at(r, j + 1) - minus2->at(r, j + 1)) / (4 * h);
          const double forward = (plus->at(r, j + 1) - mid->at(r, j + 1)) / h;
          const double backward = (mid->at(r, j + 1) - minus->at(r, j + 1)) / h;
          const double s = sens->at(r, j, k);
          if (!std::isfinite(fd) || !std::isfinite(s)) continue;
          // Where the two step sizes or the one-sided differences disagree,
          // the output is not smooth in the parameter here (an event at or
          // crossing an output time): no reference.
          const double tol = 1e-3 * std::abs(fd) + 1e-5 * (scale + 1e-12) / std::abs(value);
          if (std::abs(fd - fd2) > tol || std::abs(forward - backward) > 10 * tol) {
            ++rough;
            continue;
          }
          const double excess = std::abs(s - fd) / tol;
          if (excess > 1) {
            char buf[256];
            std::snprintf(buf, sizeof buf, "%s d%s/d%s at t = %g: %.8g, finite differences %.8g", info->id.c_str(),
                          outputs[j].id.c_str(), id.c_str(), base.at(r, 0), s, fd);
            mismatches.push_back({buf, excess});
            r = base.rows;  // one per output and parameter
          }
        }
      }
    }
    ++checked;
  }
  for (const Mismatch& m : mismatches) std::printf("%s (%.3g x tolerance)\n", m.where.c_str(), m.excess);
  std::printf("%d cases checked, %d unsupported by sensitivities, %d points not smooth\n", checked, unsupported,
              rough);
  EXPECT_TRUE(mismatches.empty());
  // The development part (2026-12-06): 1119 cases checked, 45 refused
  // (delay(), floor of a state, several events at one moving time, a
  // condition touched rather than crossed, fast reactions that hold nothing).
  EXPECT_GE(checked, 1100);
}

}  // namespace
}  // namespace soma::suite
