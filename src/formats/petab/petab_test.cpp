#include "formats/petab/petab.h"

#include <cmath>
#include <fstream>
#include <numbers>

#include <gtest/gtest.h>

#include "formats/petab/petab_test_data.h"

namespace soma::formats::petab {
namespace {

// x' = a - k x with a = 0 unless a condition sets it: x = 5 exp(-k t).
using testing::kProductionDecaySbml;

// Nominal values at CVODES rel 1e-10, abs 1e-14 (comparisons with analytic values to 1e-7).
Result<infer::Evaluation> EvaluateTightly(const infer::EstimationProblem& problem) {
  infer::EstimationOptions o;
  o.rel_tol = 1e-10;
  o.abs_tol = 1e-14;
  return infer::Evaluate(problem, problem.NominalValues(), o);
}

class PetabTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("soma_petab_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    Write("model.xml", kProductionDecaySbml);
    Write("problem.yaml",
          "format_version: 1\nparameter_file: parameters.tsv\nproblems:\n- condition_files: [conditions.tsv]\n"
          "  measurement_files: [measurements.tsv]\n  observable_files: [observables.tsv]\n  sbml_files: [model.xml]\n");
    Write("conditions.tsv", "conditionId\tx\nc1\t5\nc2\tx0_c2\n");
    // obs_scaled = scale * x (scale from observableParameters), log10 noise with
    // sd noiseParameter1; obs_lin: x with proportional noise formula.
    Write("observables.tsv",
          "observableId\tobservableFormula\tnoiseFormula\tobservableTransformation\tnoiseDistribution\n"
          "obs_scaled\tobservableParameter1_obs_scaled * x\tnoiseParameter1_obs_scaled\tlog10\tnormal\n"
          "obs_lin\tx\t0.1 * obs_lin + sd_abs\tlin\tlaplace\n");
    WriteParameters(/*estimate_x0_c2=*/false);
    Write("measurements.tsv",
          "observableId\tsimulationConditionId\tmeasurement\ttime\tobservableParameters\tnoiseParameters\n"
          "obs_scaled\tc1\t7.0\t1\tscale\tsd\n"
          "obs_scaled\tc1\t4.5\t2\tscale\tsd\n"
          "obs_scaled\tc2\t9.0\t1\t3\t0.2\n"
          "obs_lin\tc2\t3.0\t2\t\t\n");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Write(const std::string& name, const std::string& text) { std::ofstream(dir_ / name) << text; }
  void WriteParameters(bool estimate_x0_c2) {
    Write("parameters.tsv", std::string("parameterId\tparameterScale\tlowerBound\tupperBound\tnominalValue\testimate\n"
                                        "k\tlog10\t0.001\t10\t0.5\t1\n"
                                        "scale\tlog10\t0.01\t100\t2\t1\n"
                                        "sd\tlog10\t0.001\t1\t0.1\t1\n"
                                        "sd_abs\tlin\t0\t1\t0.05\t0\n"
                                        "x0_c2\tlin\t1\t20\t8\t") +
                                (estimate_x0_c2 ? "1\n" : "0\n"));
  }

  std::filesystem::path dir_;
};

TEST_F(PetabTest, NominalSimulationAndNllhMatchHandComputation) {
  auto imp = LoadPetab(dir_ / "problem.yaml");
  ASSERT_TRUE(imp.ok()) << imp.status().ToString();
  EXPECT_EQ(imp->problem.parameters.size(), 3u);
  EXPECT_EQ(imp->problem.experiments.size(), 2u);
  infer::EstimationOptions o;
  o.rel_tol = 1e-10;
  o.abs_tol = 1e-12;
  auto ev = infer::Evaluate(imp->problem, imp->problem.NominalValues(), o);
  ASSERT_TRUE(ev.ok()) << ev.status().ToString();
  Table t = SimulationTable(*imp, *ev);
  ASSERT_EQ(t.rows.size(), 4u);
  const double k = 0.5;
  const double sim[4] = {2 * 5 * std::exp(-k), 2 * 5 * std::exp(-2 * k), 3 * 8 * std::exp(-k), 8 * std::exp(-2 * k)};
  const double meas[4] = {7.0, 4.5, 9.0, 3.0};
  const double sd[4] = {0.1, 0.1, 0.2, 0.1 * sim[3] + 0.05};
  double nllh = 0;
  const double pi = std::numbers::pi, ln10 = std::numbers::ln10;
  for (int i = 0; i < 4; ++i) {
    // |x - ref| <= 1e-7 |ref|: the integrator runs at rel 1e-10.
    EXPECT_NEAR(std::stod(t.rows[i].back()), sim[i], 1e-7 * sim[i]) << "row " << i;
    if (i < 3) {
      nllh += 0.5 * std::log(2 * pi * sd[i] * sd[i]) + std::log(meas[i] * ln10) +
              0.5 * std::pow((std::log10(meas[i]) - std::log10(sim[i])) / sd[i], 2);
    } else {
      nllh += std::log(2 * sd[i]) + std::abs(meas[i] - sim[i]) / sd[i];
    }
  }
  EXPECT_NEAR(ev->nllh, nllh, 1e-6);
  EXPECT_EQ(t.columns.back(), "simulation");
}

TEST_F(PetabTest, FitRecoversParametersOfNoiseFreeData) {
  // Data generated at k = 0.3, scale = 1.5 (obs_scaled on c1 only).
  std::string rows = "observableId\tsimulationConditionId\tmeasurement\ttime\tobservableParameters\tnoiseParameters\n";
  for (double t : {0.5, 1.0, 2.0, 3.0, 5.0})
    rows += "obs_scaled\tc1\t" + std::to_string(1.5 * 5 * std::exp(-0.3 * t)) + "\t" + std::to_string(t) +
            "\tscale\t0.05\n";
  Write("measurements.tsv", rows);
  auto imp = LoadPetab(dir_ / "problem.yaml");
  ASSERT_TRUE(imp.ok()) << imp.status().ToString();
  infer::EstimationOptions o;
  o.starts = 4;
  auto s = infer::Estimate(imp->problem, o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  // sd is not used by these rows: it must come out non-identifiable.
  EXPECT_NEAR(s->estimates[0].value, 0.3, 1e-4);  // std::to_string keeps 6 decimals
  EXPECT_NEAR(s->estimates[1].value, 1.5, 1e-3);
  EXPECT_FALSE(s->estimates[2].identifiable);
}

TEST_F(PetabTest, PreequilibrationSimulatesAndFitsAlsoWithAResetSpeciesEstimated) {
  // x decays to 0 in the pre-equilibration; condition c2 then resets x to
  // x0_c2 = 8: x(2) = 8 exp(-2 k). A condition that does not set x (c3)
  // starts from the steady state 0.
  Write("conditions.tsv", "conditionId\tx\nc1\t5\nc2\tx0_c2\nc3\t\n");
  Write("measurements.tsv",
        "observableId\tpreequilibrationConditionId\tsimulationConditionId\tmeasurement\ttime\tnoiseParameters\n"
        "obs_lin\tc1\tc2\t3.0\t2\t\n"
        "obs_lin\tc1\tc3\t1.0\t1\t\n");
  auto imp = LoadPetab(dir_ / "problem.yaml");
  ASSERT_TRUE(imp.ok()) << imp.status().ToString();
  auto ev = EvaluateTightly(imp->problem);
  ASSERT_TRUE(ev.ok()) << ev.status().ToString();
  EXPECT_NEAR(ev->predictions[0][0], 8 * std::exp(-2 * 0.5), 1e-7);
  EXPECT_NEAR(ev->predictions[1][0], 0.0, 1e-7);
  // Only obs_lin is measured: k from 8 exp(-2 k) = 3 (c3's 0 does not depend on k).
  auto fit = infer::Estimate(imp->problem);
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  EXPECT_EQ(fit->estimates[0].id, "k");
  EXPECT_NEAR(fit->estimates[0].value, std::log(8.0 / 3.0) / 2, 1e-4);

  // A species set to an estimated value after the pre-equilibration: its
  // start value's sensitivity enters the fit. Only the product x0_c2 exp(-2 k)
  // is determined by the data, and the fit reproduces it.
  WriteParameters(/*estimate_x0_c2=*/true);
  imp = LoadPetab(dir_ / "problem.yaml");
  ASSERT_TRUE(imp.ok()) << imp.status().ToString();
  fit = infer::Estimate(imp->problem);
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  ASSERT_EQ(fit->estimates[3].id, "x0_c2");
  EXPECT_NEAR(fit->estimates[3].value * std::exp(-2 * fit->estimates[0].value), 3.0, 1e-3);
}

TEST_F(PetabTest, SpeciesWithAnInitialAssignmentRestartsFromItsConditionValueAfterPreequilibration) {
  // As PreequilibrationSimulatesAndFits..., but x has an initial assignment
  // (x = 2 k): a condition sets it through helper parameters, and it must
  // still restart from the condition's value (8) after the pre-equilibration.
  std::string sbml = kProductionDecaySbml;
  const std::string close = "</listOfReactions>";
  sbml.insert(sbml.find(close) + close.size(),
              "<listOfInitialAssignments><initialAssignment symbol=\"x\"><math xmlns=\"http://www.w3.org/1998/Math/MathML\">"
              "<apply><times/><cn>2</cn><ci>k</ci></apply></math></initialAssignment></listOfInitialAssignments>");
  Write("model.xml", sbml);
  Write("conditions.tsv", "conditionId\tx\nc1\t5\nc2\tx0_c2\n");
  Write("measurements.tsv",
        "observableId\tpreequilibrationConditionId\tsimulationConditionId\tmeasurement\ttime\tnoiseParameters\n"
        "obs_lin\tc1\tc2\t3.0\t2\t\n");
  auto imp = LoadPetab(dir_ / "problem.yaml");
  ASSERT_TRUE(imp.ok()) << imp.status().ToString();
  ASSERT_EQ(imp->problem.experiments.size(), 1u);
  EXPECT_EQ(imp->problem.experiments[0].reset_species, std::vector<std::string>{"x"});
  auto ev = EvaluateTightly(imp->problem);
  ASSERT_TRUE(ev.ok()) << ev.status().ToString();
  EXPECT_NEAR(ev->predictions[0][0], 8 * std::exp(-2 * 0.5), 1e-7);
}

TEST_F(PetabTest, ParameterActingOnlyInThePreequilibrationIsFitted) {
  // x' = a - k x. The pre-equilibration sets a to the estimated a_pre (steady
  // state a_pre / k); the simulation sets a = 0, so x = (a_pre / k) exp(-k t)
  // and a_pre reaches the data only through the pre-equilibrated state. Data
  // from a_pre = 3, k = 0.4 without noise: the fit recovers both (and both
  // are identifiable), which needs d x / d a_pre = exp(-k t) / k carried
  // from the pre-equilibration into the simulation.
  Write("conditions.tsv", "conditionId\ta\npre\ta_pre\nmain\t0\n");
  Write("observables.tsv",
        "observableId\tobservableFormula\tnoiseFormula\tobservableTransformation\tnoiseDistribution\n"
        "obs_x\tx\t0.05\tlin\tnormal\n");
  Write("parameters.tsv",
        "parameterId\tparameterScale\tlowerBound\tupperBound\tnominalValue\testimate\n"
        "k\tlog10\t0.01\t10\t0.5\t1\n"
        "a_pre\tlog10\t0.01\t100\t2\t1\n");
  std::string rows = "observableId\tpreequilibrationConditionId\tsimulationConditionId\tmeasurement\ttime\n";
  for (double t : {0.5, 1.0, 2.0, 3.0, 5.0})
    rows += "obs_x\tpre\tmain\t" + std::to_string(3 / 0.4 * std::exp(-0.4 * t)) + "\t" + std::to_string(t) + "\n";
  Write("measurements.tsv", rows);
  auto imp = LoadPetab(dir_ / "problem.yaml");
  ASSERT_TRUE(imp.ok()) << imp.status().ToString();
  auto ev = EvaluateTightly(imp->problem);
  ASSERT_TRUE(ev.ok()) << ev.status().ToString();
  EXPECT_NEAR(ev->predictions[0][0], 2 / 0.5 * std::exp(-0.5 * 0.5), 1e-7);
  infer::EstimationOptions o;
  o.starts = 2;
  auto fit = infer::Estimate(imp->problem, o);
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  ASSERT_EQ(fit->estimates[1].id, "a_pre");
  // The data carry 6 decimals (std::to_string): 1e-4 relative.
  EXPECT_NEAR(fit->estimates[0].value, 0.4, 1e-4 * 0.4);
  EXPECT_NEAR(fit->estimates[1].value, 3.0, 1e-4 * 3.0);
  EXPECT_TRUE(fit->estimates[0].identifiable);
  EXPECT_TRUE(fit->estimates[1].identifiable);

  // The same with the model parameter a itself estimated: the
  // pre-equilibration leaves it alone, the simulation condition sets it to 0.
  Write("conditions.tsv", "conditionId\ta\npre\t\nmain\t0\n");
  Write("parameters.tsv",
        "parameterId\tparameterScale\tlowerBound\tupperBound\tnominalValue\testimate\n"
        "k\tlog10\t0.01\t10\t0.5\t1\n"
        "a\tlog10\t0.01\t100\t2\t1\n");
  imp = LoadPetab(dir_ / "problem.yaml");
  ASSERT_TRUE(imp.ok()) << imp.status().ToString();
  fit = infer::Estimate(imp->problem, o);
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  ASSERT_EQ(fit->estimates[1].id, "a");
  EXPECT_NEAR(fit->estimates[0].value, 0.4, 1e-4 * 0.4);
  EXPECT_NEAR(fit->estimates[1].value, 3.0, 1e-4 * 3.0);
  EXPECT_TRUE(fit->estimates[1].identifiable);
}

TEST_F(PetabTest, LaplaceFamilyPriorsAreRead) {
  Write("parameters.tsv",
        "parameterId\tparameterScale\tlowerBound\tupperBound\tnominalValue\testimate\tobjectivePriorType\t"
        "objectivePriorParameters\n"
        "k\tlog10\t0.001\t10\t0.5\t1\tlogLaplace\t-1;0.5\n"
        "scale\tlog10\t0.01\t100\t2\t1\tparameterScaleLaplace\t0.3;0.2\n"
        "sd\tlin\t0.001\t1\t0.1\t1\tlaplace\t0.1;0.05\n"
        "sd_abs\tlin\t0\t1\t0.05\t0\t\t\n"
        "x0_c2\tlin\t1\t20\t8\t0\t\t\n");
  auto imp = LoadPetab(dir_ / "problem.yaml");
  ASSERT_TRUE(imp.ok()) << imp.status().ToString();
  ASSERT_TRUE(imp->prior_status.ok()) << imp->prior_status.ToString();
  const auto& ps = imp->problem.parameters;
  ASSERT_EQ(ps.size(), 3u);
  EXPECT_EQ(ps[0].prior.kind, infer::Prior::Kind::kLogLaplace);
  EXPECT_EQ(ps[1].prior.kind, infer::Prior::Kind::kParameterScaleLaplace);
  EXPECT_EQ(ps[2].prior.kind, infer::Prior::Kind::kLaplace);
  EXPECT_EQ(ps[2].prior.a, 0.1);
  EXPECT_EQ(ps[2].prior.b, 0.05);
  auto fit = infer::Estimate(imp->problem);
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
}

TEST_F(PetabTest, UnknownObservableIsNamed) {
  Write("measurements.tsv", "observableId\tsimulationConditionId\tmeasurement\ttime\nnope\tc1\t1\t1\n");
  auto imp = LoadPetab(dir_ / "problem.yaml");
  ASSERT_FALSE(imp.ok());
  EXPECT_NE(imp.status().message().find("'nope'"), std::string::npos);
  EXPECT_NE(imp.status().message().find("row 2"), std::string::npos);
}

}  // namespace
}  // namespace soma::formats::petab
