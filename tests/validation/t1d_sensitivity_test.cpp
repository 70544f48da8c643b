// Forward sensitivities of the UVA/Padova model through a day of meals and
// insulin (events at fixed times, and the continuous switches of renal
// excretion and max(EGP, 0) accepted with assume_continuous_switches)
// against central finite differences of full simulations.
//
// Tolerance: |dBG/dp - FD| <= 2e-3 * max_t |FD| + 1e-6 at every 10th minute;
// the finite differences use relative steps of 1e-4 and CVODES at rel 1e-10,
// so their own error is far smaller.

#include <cmath>
#include <filesystem>

#include <gtest/gtest.h>

#include "formats/sbml/sbml_import.h"
#include "sim/compiled_model.h"
#include "sim/sensitivity.h"
#include "sim/simulator.h"
#include "t1d_protocol.h"

namespace fs = std::filesystem;

namespace soma::validation {
namespace {

TEST(T1dSensitivityTest, DayOfMealsMatchesFiniteDifferences) {
  const fs::path clinical = fs::path(SOMA_SHARED_DIR) / "clinical" / "simglucose";
  if (!fs::exists(clinical)) GTEST_SKIP() << "no " << clinical;
  auto patients = ReadVirtualPatients(clinical);
  ASSERT_TRUE(patients.ok()) << patients.status().ToString();
  auto imported = formats::LoadSbmlFile(fs::path(SOMA_SOURCE_DIR) / "models" / "t1d-uva-padova.xml");
  ASSERT_TRUE(imported.ok());
  const VirtualPatient& patient = (*patients)[10];  // adult#001
  model::Model m = imported->model;
  ASSERT_TRUE(Personalise(patient, m).ok());
  DayProtocol protocol;
  protocol.end = 720.0;  // the first two meals
  ASSERT_TRUE(sim::ApplyInputSchedule(DayInputs(patient, protocol), {0.0, protocol.end}, m).ok());
  auto cm = sim::CompiledModel::Compile(m);
  ASSERT_TRUE(cm.ok()) << cm.status().ToString();

  const std::vector<std::string> params = {"Vmx", "kp3", "kabs"};
  sim::SimulationOptions o;
  o.end = protocol.end;
  o.steps = 72;
  o.integrator.rel_tol = 1e-10;
  o.integrator.abs_tol = 1e-10;
  // The right-hand side switches on states (renal excretion at Gp = ke2,
  // max(EGP, 0)): with the jump at each crossing computed, and with it skipped
  // because the definition asserts the right-hand side is continuous there.
  // Both must match the differences (the jumps are zero up to the solver's
  // error at continuous switches).
  auto general = sim::PlanSensitivities(*cm, {{"BG"}}, params);
  ASSERT_TRUE(general.ok()) << general.status().ToString();
  auto with_jumps = sim::SimulateWithSensitivities(**general, o);
  ASSERT_TRUE(with_jumps.ok()) << with_jumps.status().ToString();
  sim::SensitivityCompileOptions compile;
  compile.assume_continuous_switches = true;
  auto plan = sim::PlanSensitivities(*cm, {{"BG"}}, params, compile);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  auto sens = sim::SimulateWithSensitivities(**plan, o);
  ASSERT_TRUE(sens.ok()) << sens.status().ToString();

  for (size_t k = 0; k < params.size(); ++k) {
    const double p = patient.values.at(params[k]), h = 1e-4 * p;
    sim::SimulationOptions up = o, down = o;
    up.overrides = {{params[k], p + h}};
    down.overrides = {{params[k], p - h}};
    auto a = sim::Simulator(*cm).Simulate(up, {{"BG"}});
    auto b = sim::Simulator(*cm).Simulate(down, {{"BG"}});
    ASSERT_TRUE(a.ok() && b.ok());
    std::vector<double> fd(a->rows);
    double scale = 0.0;
    for (size_t r = 0; r < a->rows; ++r) {
      fd[r] = (a->at(r, 1) - b->at(r, 1)) / (2 * h);
      scale = std::max(scale, std::abs(fd[r]));
    }
    ASSERT_GT(scale, 0.0) << params[k];
    for (size_t r = 0; r < a->rows; ++r) {
      EXPECT_LE(std::abs(sens->at(r, 0, k) - fd[r]), 2e-3 * scale + 1e-6)
          << params[k] << " at t = " << a->at(r, 0) << ": " << sens->at(r, 0, k) << " vs FD " << fd[r];
      EXPECT_LE(std::abs(with_jumps->at(r, 0, k) - fd[r]), 2e-3 * scale + 1e-6)
          << params[k] << " (jumps computed) at t = " << a->at(r, 0) << ": " << with_jumps->at(r, 0, k) << " vs FD "
          << fd[r];
    }
  }
}

}  // namespace
}  // namespace soma::validation
