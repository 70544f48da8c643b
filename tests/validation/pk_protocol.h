#pragma once
// Pharmacokinetic validation protocol: the analytic solutions of the oral
// one- and two-compartment models (the references the SBML models are
// verified against), the theophylline data of ../shared/clinical/pk (read
// into subjects whose dosing becomes an input schedule, so that a fit by the
// estimation module can simulate each subject), and the pooled fit written
// by scripts/validation/theoph_pooled_fit.py.

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "model/model.h"
#include "sim/input_schedule.h"

namespace soma::validation {

// Bateman function, R's SSfol: concentration (mg/L) at time t (h) after an
// oral dose (mg/kg) at t = 0, with ke = exp(lKe), ka = exp(lKa) (1/h),
// Cl = exp(lCl) (L/h/kg); ka != ke.
double OneCompartmentOral(double dose, double t, double lKe, double lKa, double lCl);

// Two-compartment oral model with central elimination, closed form (sum of
// three exponentials; ka distinct from both disposition rates).
struct TwoCompartmentParameters {
  double lKa = 0.0, lCl = 0.0, lV1 = 0.0, lQ = 0.0, lV2 = 0.0;  // natural logs of 1/h, L/h/kg, L/kg
};
double TwoCompartmentOral(double dose, double t, const TwoCompartmentParameters& p);

// One subject of theoph.csv.
struct TheophSubject {
  std::string id;               // "1" .. "12"
  double weight_kg = 0.0;
  double dose_mg_per_kg = 0.0;  // oral dose at t = 0
  std::vector<double> time_h;
  std::vector<double> conc_mg_per_L;
};

// Reads theoph.csv ("Subject","Wt","Dose","Time","conc"), subjects in file
// order. Errors: kIoError (unreadable), kParseError (file, line, column).
Result<std::vector<TheophSubject>> ReadTheophylline(const std::filesystem::path& csv);

// The subject's dosing as input changes of the oral models: the dose added
// to the depot species A_depot at t = 0.
std::vector<sim::InputChange> SubjectDosing(const TheophSubject& subject);

// A copy of an oral model (pk-oral-1cpt.xml or pk-oral-2cpt.xml) ready to
// simulate the subject: its default dose set to 0, the parameters in
// `parameters` (by id, e.g. lKe) set, the subject's dosing applied over
// [0, last observation]. Errors: an unknown parameter, or the schedule's.
Result<model::Model> SubjectModel(const model::Model& oral_model, const TheophSubject& subject,
                                  const std::map<std::string, double>& parameters);

// Model concentrations C at the subject's observation times.
Result<std::vector<double>> SimulateSubject(const model::Model& oral_model, const TheophSubject& subject,
                                            const std::map<std::string, double>& parameters);

// Residual sum of squares of the model against every observation of every
// subject (the pooled objective).
Result<double> PooledResidualSumOfSquares(const model::Model& oral_model, const std::vector<TheophSubject>& subjects,
                                          const std::map<std::string, double>& parameters);

// tests/validation/data/theoph_pooled_fit.json.
struct PooledFit {
  std::map<std::string, double> parameters;       // log-parameters by id
  std::map<std::string, double> standard_errors;  // asymptotic, from the Jacobian
  double rss = 0.0;
  double residual_sd = 0.0;
};
struct PooledFits {
  PooledFit one_compartment, two_compartment;
  int observations = 0, subjects = 0;
  std::string method;
  struct Prediction {
    double dose = 0.0, time = 0.0, one_compartment = 0.0, two_compartment = 0.0;
  };
  std::vector<Prediction> predictions;
};
Result<PooledFits> ReadPooledFits(const std::filesystem::path& json);

// Tolerances: SBML simulation against the analytic solutions, and against
// the SciPy fit's numbers.
inline constexpr double kAnalyticAbs = 1e-9;  // mg/L
inline constexpr double kAnalyticRel = 1e-7;
inline constexpr double kFitRel = 1e-6;       // RSS and predictions vs the SciPy fit

// Two-stage population estimate: the one-compartment oral model (lKe, lKa,
// lCl on their own scale, bounds [-6, 3]; additive normal noise with its SD
// estimated on a log scale) fitted to each subject by soma::infer (MAP
// without priors = maximum likelihood, `starts` Latin-hypercube starts), then
// the mean of the individual estimates. The model is symmetric in ka and ke
// (the flip-flop ambiguity: swapping them leaves C(t) and Cl unchanged); as
// nlme's SSfol and pharmacokinetic practice do, the mirror image with
// ka > ke is reported.
struct SubjectFit {
  std::string id;
  std::map<std::string, double> estimates;  // lKe, lKa, lCl, sigma (mg/L)
  double nllh = 0.0;
  bool converged = false;
  bool at_bound = false;
  std::string termination;
};
struct TwoStageFit {
  std::vector<SubjectFit> subjects;
  std::map<std::string, double> mean, sd;  // over subjects, lKe, lKa, lCl
  int converged = 0;
  double seconds = 0.0;
};
Result<TwoStageFit> FitTwoStage(const model::Model& oral_model, const std::vector<TheophSubject>& subjects,
                                int starts = 8);

// tests/validation/data/theoph_nlme.json: R nlme's mixed-effects fit of the
// same model (scripts/validation/theoph_nlme.R).
struct NlmeReference {
  std::string tool;
  std::map<std::string, double> fixed, fixed_se, random_sd;
  double residual_sd = 0.0;
};
Result<NlmeReference> ReadNlmeReference(const std::filesystem::path& json);

}  // namespace soma::validation
