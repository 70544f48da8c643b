// Verification of models/pk-oral-1cpt.xml and models/pk-oral-2cpt.xml
// against their analytic solutions, and of the theophylline protocol:
// reading the data, building each subject's dosing, and the SBML model
// reproducing the pooled SciPy fit (same predictions, same residual sum of
// squares, a local minimum of the SBML-computed objective).

#include <gtest/gtest.h>

#include <cmath>

#include "model_util.h"
#include "pk_protocol.h"

namespace soma::validation {
namespace {

namespace fs = std::filesystem;

const fs::path kTheoph = fs::path(SOMA_SHARED_DIR) / "clinical" / "pk" / "theoph.csv";
const fs::path kFit = fs::path(SOMA_SOURCE_DIR) / "tests" / "validation" / "data" / "theoph_pooled_fit.json";

Result<sim::SimulationResult> SimulateDose(const model::Model& m, double dose, double end, int steps) {
  model::Model copy = m;
  Status s = SetParameter(copy, "dose", dose);
  if (!s.ok()) return s;
  sim::SimulationOptions o;
  o.end = end;
  o.steps = steps;
  o.integrator = sim::IntegratorOptionsForAccuracy(kAnalyticAbs, kAnalyticRel);
  return SimulateWith(copy, {}, o, {{"C"}});
}

TEST(PkOralModels, OneCompartmentEqualsTheBatemanFunction) {
  auto m = LoadModel(BundledModel("pk-oral-1cpt.xml"));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  // The shipped defaults, a fast-absorption and a flip-flop case (ka < ke).
  const std::vector<std::array<double, 3>> cases = {
      {*ParameterValue(*m, "lKe"), *ParameterValue(*m, "lKa"), *ParameterValue(*m, "lCl")},
      {std::log(0.2), std::log(3.0), std::log(0.05)},
      {std::log(0.5), std::log(0.1), std::log(0.2)}};
  for (const auto& [lke, lka, lcl] : cases) {
    model::Model c = *m;
    ASSERT_TRUE(SetParameter(c, "lKe", lke).ok());
    ASSERT_TRUE(SetParameter(c, "lKa", lka).ok());
    ASSERT_TRUE(SetParameter(c, "lCl", lcl).ok());
    auto r = SimulateDose(c, 4.5, 48.0, 192);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    for (size_t i = 0; i < r->rows; ++i) {
      const double t = r->at(i, 0), ref = OneCompartmentOral(4.5, t, lke, lka, lcl);
      ASSERT_TRUE(Within(r->at(i, 1), ref, kAnalyticAbs, kAnalyticRel))
          << "t = " << t << ": " << r->at(i, 1) << " vs " << ref;
    }
  }
}

TEST(PkOralModels, TwoCompartmentEqualsTheClosedForm) {
  auto m = LoadModel(BundledModel("pk-oral-2cpt.xml"));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  TwoCompartmentParameters shipped{*ParameterValue(*m, "lKa"), *ParameterValue(*m, "lCl"), *ParameterValue(*m, "lV1"),
                                   *ParameterValue(*m, "lQ"), *ParameterValue(*m, "lV2")};
  for (const TwoCompartmentParameters& p :
       {shipped, TwoCompartmentParameters{std::log(1.2), std::log(0.1), std::log(0.3), std::log(0.4), std::log(1.5)}}) {
    model::Model c = *m;
    for (const auto& [id, v] : {std::pair{"lKa", p.lKa}, std::pair{"lCl", p.lCl}, std::pair{"lV1", p.lV1},
                                std::pair{"lQ", p.lQ}, std::pair{"lV2", p.lV2}}) {
      ASSERT_TRUE(SetParameter(c, id, v).ok());
    }
    auto r = SimulateDose(c, 3.0, 48.0, 192);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    for (size_t i = 0; i < r->rows; ++i) {
      const double t = r->at(i, 0), ref = TwoCompartmentOral(3.0, t, p);
      ASSERT_TRUE(Within(r->at(i, 1), ref, kAnalyticAbs, kAnalyticRel))
          << "t = " << t << ": " << r->at(i, 1) << " vs " << ref;
    }
  }
}

TEST(PkOralModels, LaterDosesThroughTheInputScheduleSuperpose) {
  // Linear kinetics: a second dose at 12 h adds a shifted Bateman curve.
  auto m = LoadModel(BundledModel("pk-oral-1cpt.xml"));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const double lke = *ParameterValue(*m, "lKe"), lka = *ParameterValue(*m, "lKa"), lcl = *ParameterValue(*m, "lCl");
  sim::SimulationOptions o;
  o.end = 24.0;
  o.steps = 96;
  o.integrator = sim::IntegratorOptionsForAccuracy(kAnalyticAbs, kAnalyticRel);
  model::Model c = *m;
  ASSERT_TRUE(SetParameter(c, "dose", 4.0).ok());
  auto r = SimulateWith(c, {{.time = 12.0, .target = "A_depot", .value = 2.0, .mode = sim::InputChange::Mode::kAdd}},
                        o, {{"C"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  for (size_t i = 0; i < r->rows; ++i) {
    const double t = r->at(i, 0);
    double ref = OneCompartmentOral(4.0, t, lke, lka, lcl);
    if (t >= 12.0) ref += OneCompartmentOral(2.0, t - 12.0, lke, lka, lcl);
    ASSERT_TRUE(Within(r->at(i, 1), ref, kAnalyticAbs, kAnalyticRel)) << "t = " << t;
  }
}

class TheophyllineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kTheoph)) GTEST_SKIP() << "no " << kTheoph;
    auto s = ReadTheophylline(kTheoph);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    subjects_ = std::move(*s);
    auto f = ReadPooledFits(kFit);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    fits_ = std::move(*f);
    auto m = LoadModel(BundledModel("pk-oral-1cpt.xml"));
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    one_ = std::move(*m);
  }
  std::vector<TheophSubject> subjects_;
  PooledFits fits_;
  model::Model one_;
};

TEST_F(TheophyllineTest, TwelveSubjectsAndTheirDosing) {
  ASSERT_EQ(subjects_.size(), 12u);
  size_t n = 0;
  for (const TheophSubject& s : subjects_) {
    n += s.time_h.size();
    auto dosing = SubjectDosing(s);
    ASSERT_EQ(dosing.size(), 1u);
    EXPECT_EQ(dosing[0].time, 0.0);
    EXPECT_EQ(dosing[0].target, "A_depot");
    EXPECT_EQ(dosing[0].value, s.dose_mg_per_kg);
    EXPECT_EQ(dosing[0].mode, sim::InputChange::Mode::kAdd);
  }
  EXPECT_EQ(static_cast<int>(n), fits_.observations);
  EXPECT_EQ(subjects_.front().id, "1");
  EXPECT_DOUBLE_EQ(subjects_.front().dose_mg_per_kg, 4.02);
}

TEST_F(TheophyllineTest, SubjectSimulationEqualsTheBatemanFunction) {
  const auto& p = fits_.one_compartment.parameters;
  for (const TheophSubject& s : subjects_) {
    auto c = SimulateSubject(one_, s, p);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    for (size_t i = 0; i < c->size(); ++i) {
      const double ref = OneCompartmentOral(s.dose_mg_per_kg, s.time_h[i], p.at("lKe"), p.at("lKa"), p.at("lCl"));
      EXPECT_TRUE(Within((*c)[i], ref, 1e-8, 1e-7)) << "subject " << s.id << " t = " << s.time_h[i];
    }
  }
}

TEST_F(TheophyllineTest, SbmlModelReproducesThePooledFit) {
  const auto& p = fits_.one_compartment.parameters;
  auto rss = PooledResidualSumOfSquares(one_, subjects_, p);
  ASSERT_TRUE(rss.ok()) << rss.status().ToString();
  EXPECT_TRUE(Within(*rss, fits_.one_compartment.rss, 0.0, kFitRel)) << *rss << " vs " << fits_.one_compartment.rss;
  // A local minimum of the SBML-computed objective: a step of one standard
  // error's tenth in any log-parameter raises it.
  for (const auto& [id, value] : p) {
    for (double sign : {-1.0, 1.0}) {
      auto q = p;
      q[id] = value + sign * 0.1 * fits_.one_compartment.standard_errors.at(id);
      auto moved = PooledResidualSumOfSquares(one_, subjects_, q);
      ASSERT_TRUE(moved.ok()) << moved.status().ToString();
      EXPECT_GT(*moved, *rss) << id << (sign > 0 ? " +" : " -");
    }
  }
  // The shipped defaults are this fit (SBML keeps 15 significant digits).
  for (const auto& [id, value] : p) EXPECT_TRUE(Within(*ParameterValue(one_, id), value, 0.0, 1e-13)) << id;
}

TEST_F(TheophyllineTest, PredictionsOfTheFitScript) {
  auto two = LoadModel(BundledModel("pk-oral-2cpt.xml"));
  ASSERT_TRUE(two.ok()) << two.status().ToString();
  for (const auto& pr : fits_.predictions) {
    const auto& p1 = fits_.one_compartment.parameters;
    const auto& p2 = fits_.two_compartment.parameters;
    EXPECT_TRUE(Within(OneCompartmentOral(pr.dose, pr.time, p1.at("lKe"), p1.at("lKa"), p1.at("lCl")),
                       pr.one_compartment, 1e-12, kFitRel));
    EXPECT_TRUE(Within(TwoCompartmentOral(pr.dose, pr.time, {p2.at("lKa"), p2.at("lCl"), p2.at("lV1"), p2.at("lQ"),
                                                             p2.at("lV2")}),
                       pr.two_compartment, 1e-12, kFitRel));
  }
  TheophSubject s{.id = "two-compartment check", .dose_mg_per_kg = fits_.predictions.front().dose};
  for (const auto& pr : fits_.predictions) {
    if (pr.dose != s.dose_mg_per_kg) continue;
    s.time_h.push_back(pr.time);
    s.conc_mg_per_L.push_back(pr.two_compartment);
  }
  auto c = SimulateSubject(*two, s, fits_.two_compartment.parameters);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  for (size_t i = 0; i < c->size(); ++i) {
    EXPECT_TRUE(Within((*c)[i], s.conc_mg_per_L[i], 1e-8, 1e-6)) << "t = " << s.time_h[i];
  }
}

}  // namespace
}  // namespace soma::validation
