// Validation of models/t1d-uva-padova.xml against the simglucose reference
// trajectories (../shared/clinical/simglucose-reference; see the MANIFEST
// there): for each reference patient, BG and CGM within 0.5 mg/dL at every
// minute of the open-loop day, plasma insulin and the 13 states within the
// tolerances of t1d_protocol.h. All 30 virtual patients must simulate the day
// and stay physiologically plausible. Skipped when ../shared is absent.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "formats/sbml/sbml_import.h"
#include "sim/compiled_model.h"
#include "sim/simulator.h"
#include "t1d_protocol.h"

namespace soma::validation {
namespace {

namespace fs = std::filesystem;

const fs::path kClinical = fs::path(SOMA_SHARED_DIR) / "clinical";
const fs::path kModel = fs::path(SOMA_SOURCE_DIR) / "models" / "t1d-uva-padova.xml";

class T1dReferenceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto imported = formats::LoadSbmlFile(kModel);
    ASSERT_TRUE(imported.ok()) << imported.status().ToString();
    model_ = new model::Model(imported->model);
    if (!fs::exists(kClinical / "simglucose" / "vpatient_params.csv")) return;
    auto patients = ReadVirtualPatients(kClinical / "simglucose");
    ASSERT_TRUE(patients.ok()) << patients.status().ToString();
    patients_ = new std::vector<VirtualPatient>(std::move(*patients));
  }
  static void TearDownTestSuite() {
    delete model_;
    delete patients_;
    model_ = nullptr;
    patients_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(model_, nullptr);
    if (patients_ == nullptr) GTEST_SKIP() << "no clinical data under " << kClinical;
  }

  static model::Model* model_;
  static std::vector<VirtualPatient>* patients_;
};

model::Model* T1dReferenceTest::model_ = nullptr;
std::vector<VirtualPatient>* T1dReferenceTest::patients_ = nullptr;

TEST_F(T1dReferenceTest, ThirtyPatientsInTheTable) { EXPECT_EQ(patients_->size(), 30u); }

TEST_F(T1dReferenceTest, ReferencePatientsReproduceBloodGlucose) {
  int compared = 0;
  for (const VirtualPatient& p : *patients_) {
    std::string file = p.name;
    std::replace(file.begin(), file.end(), '#', '_');
    const fs::path ref_path = kClinical / "simglucose-reference" / (file + ".csv");
    if (!fs::exists(ref_path)) continue;
    SCOPED_TRACE(p.name);
    auto ref = ReadReference(ref_path);
    ASSERT_TRUE(ref.ok()) << ref.status().ToString();
    auto sim = SimulateDay(*model_, p, DayProtocol{});
    ASSERT_TRUE(sim.ok()) << sim.status().ToString();
    auto c = Compare(*sim, *ref);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_TRUE(c->passed) << c->first_failure;
    EXPECT_LE(c->max_bg_error, kGlucoseTolerance.abs);
    ++compared;
  }
  EXPECT_EQ(compared, 10) << "reference trajectories found";
}

TEST_F(T1dReferenceTest, AllPatientsSimulateThePlausibleDay) {
  for (const VirtualPatient& p : *patients_) {
    SCOPED_TRACE(p.name);
    auto sim = SimulateDay(*model_, p, DayProtocol{});
    ASSERT_TRUE(sim.ok()) << sim.status().ToString();
    EXPECT_EQ(sim->summary.termination, "reached end time");
    for (size_t i = 0; i < sim->rows; ++i) {
      const double bg = sim->at(i, 1);
      ASSERT_TRUE(bg >= 20.0 && bg <= 600.0) << "BG " << bg << " mg/dL at t = " << sim->at(i, 0);
    }
  }
}

TEST_F(T1dReferenceTest, ModelDefaultsAreAdult001AtBasalSteadyState) {
  // The model file as shipped: adult#001's parameters and initial state, the
  // basal insulin rate, no meal; glucose stays at the patient's basal Gb.
  auto it =
      std::find_if(patients_->begin(), patients_->end(), [](const auto& p) { return p.name == "adult#001"; });
  ASSERT_NE(it, patients_->end());
  for (const model::Parameter& q : model_->parameters) {
    if (q.constant) {
      EXPECT_EQ(q.value, it->values.at(q.id)) << q.id;
    }
  }
  auto compiled = sim::CompiledModel::Compile(*model_);
  ASSERT_TRUE(compiled.ok()) << compiled.status().ToString();
  auto sim = sim::Simulator(*compiled).Simulate(DayOptions(DayProtocol{}), {{"BG"}, {"insulin_rate"}});
  ASSERT_TRUE(sim.ok()) << sim.status().ToString();
  for (size_t i = 0; i < sim->rows; i += 60) {
    EXPECT_NEAR(sim->at(i, 1), it->values.at("Gb"), 1e-3) << "t = " << sim->at(i, 0);
    EXPECT_EQ(sim->at(i, 2), it->values.at("u2ss"));
  }
}

TEST(T1dModelTest, NegativeClippedStatesStayPut) {
  // simglucose sets the rate of Gp, Gt, Ip, Il, Isc1, Isc2 and Gs to 0 while
  // the state is negative; X, I1 and Id are not clipped.
  auto imported = formats::LoadSbmlFile(kModel);
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  model::Model m = imported->model;
  for (model::Species& s : m.species) {
    if (s.id == "Isc2" || s.id == "Gs") s.initial_amount = -1.0;
  }
  auto compiled = sim::CompiledModel::Compile(m);
  ASSERT_TRUE(compiled.ok()) << compiled.status().ToString();
  sim::SimulationOptions o = DayOptions(DayProtocol{.end = 60.0});
  auto r = sim::Simulator(*compiled).Simulate(o, {{"Isc2"}, {"Gs"}, {"Ip"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->at(r->rows - 1, 1), -1.0);
  EXPECT_EQ(r->at(r->rows - 1, 2), -1.0);
  EXPECT_LT(r->at(r->rows - 1, 3), r->at(0, 3));  // Ip loses the monomeric insulin input
}

TEST(T1dProtocolTest, DayInputsFollowTheSimglucoseStepRules) {
  VirtualPatient p;
  p.name = "test";
  p.values = {{"BW", 60.0}, {"u2ss", 1.0}};
  p.carb_ratio = 10.0;
  auto changes = DayInputs(p, DayProtocol{.end = 20.0, .meals = {{5.0, 12.0}}});
  auto value_at = [&](const std::string& target, double t) {
    double v = NAN;
    for (const auto& c : changes) {
      if (c.target == target && c.time <= t) v = c.value;
    }
    return v;
  };
  EXPECT_DOUBLE_EQ(value_at("insulin_rate", 0), 1.0);                 // basal u2ss
  EXPECT_DOUBLE_EQ(value_at("insulin_rate", 5), (0.01 + 1.2) * 100);  // 12 g / 10 g/U within one minute
  EXPECT_DOUBLE_EQ(value_at("insulin_rate", 6), 1.0);
  EXPECT_EQ(value_at("meal_rate", 4), 0.0);
  EXPECT_EQ(value_at("meal_rate", 5), 5000.0);  // 5 g/min
  EXPECT_EQ(value_at("meal_rate", 7), 2000.0);  // the last 2 g
  EXPECT_EQ(value_at("meal_rate", 8), 0.0);
  EXPECT_EQ(value_at("meal_ingested", 5), 5000.0);  // eaten by the end of the minute
  EXPECT_EQ(value_at("meal_ingested", 6), 10000.0);
  EXPECT_EQ(value_at("meal_ingested", 19), 12000.0);  // kept until the next meal
}

}  // namespace
}  // namespace soma::validation
