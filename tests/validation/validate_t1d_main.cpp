// Writes the validation evidence of models/t1d-uva-padova.xml as Markdown:
// for each reference patient the largest deviations from the simglucose
// reference day, for the held-out patients the plausibility of the same day.
// Every number in the report is computed here.
//
//   soma_validate_t1d [--out REPORT.md] [--traces DIR] [--clinical DIR] [--model SBML]
//
// --traces writes DIR/<patient>.csv (time_min, BG_mg_dL, CGM_mg_dL) for every
// patient, for plots. Exit status: 0 all within tolerance, 1 a failure,
// 2 bad usage, 77 no clinical data (skipped).

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "formats/sbml/sbml_import.h"
#include "t1d_protocol.h"

namespace fs = std::filesystem;
using namespace soma::validation;  // NOLINT(google-build-using-namespace)

namespace {

struct Args {
  fs::path out, traces;
  fs::path clinical = fs::path(SOMA_SHARED_DIR) / "clinical";
  fs::path model = fs::path(SOMA_SOURCE_DIR) / "models" / "t1d-uva-padova.xml";
};

bool ParseArgs(int argc, char** argv, Args& a) {
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    if (i + 1 >= argc) return false;
    if (k == "--out")
      a.out = argv[++i];
    else if (k == "--traces")
      a.traces = argv[++i];
    else if (k == "--clinical")
      a.clinical = argv[++i];
    else if (k == "--model")
      a.model = argv[++i];
    else
      return false;
  }
  return true;
}

std::string Fixed(double v, int digits) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(digits) << v;
  return s.str();
}

std::string Sci(double v) {
  std::ostringstream s;
  s << std::scientific << std::setprecision(2) << v;
  return s.str();
}

std::string FileStem(std::string name) {
  std::replace(name.begin(), name.end(), '#', '_');
  return name;
}

void WriteTrace(const fs::path& path, const soma::sim::SimulationResult& r) {
  std::ofstream f(path);
  f << "time_min,BG_mg_dL,CGM_mg_dL\n" << std::setprecision(12);
  for (size_t i = 0; i < r.rows; ++i) f << r.at(i, 0) << "," << r.at(i, 1) << "," << r.at(i, 2) << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!ParseArgs(argc, argv, args)) {
    std::cerr
        << "usage: soma_validate_t1d [--out REPORT.md] [--traces DIR] [--clinical DIR] [--model SBML]\n";
    return 2;
  }
  if (!fs::exists(args.clinical / "simglucose" / "vpatient_params.csv")) {
    std::cerr << "no clinical data under " << args.clinical << ": skipped\n";
    return 77;
  }
  auto imported = soma::formats::LoadSbmlFile(args.model);
  if (!imported.ok()) {
    std::cerr << imported.status().ToString() << "\n";
    return 1;
  }
  auto patients = ReadVirtualPatients(args.clinical / "simglucose");
  if (!patients.ok()) {
    std::cerr << patients.status().ToString() << "\n";
    return 1;
  }
  if (!args.traces.empty()) fs::create_directories(args.traces);

  const DayProtocol protocol;
  const soma::sim::SimulationOptions options = DayOptions(protocol);
  std::ostringstream reference_rows, heldout_rows;
  int reference_pass = 0, reference_total = 0, heldout_pass = 0, heldout_total = 0;
  double worst_bg = 0.0;
  bool ok = true;
  for (const VirtualPatient& p : *patients) {
    auto sim = SimulateDay(imported->model, p, protocol);
    if (!sim.ok()) {
      std::cerr << sim.status().ToString() << "\n";
      ok = false;
      continue;
    }
    if (!args.traces.empty()) WriteTrace(args.traces / (FileStem(p.name) + ".csv"), *sim);
    const fs::path ref_path = args.clinical / "simglucose-reference" / (FileStem(p.name) + ".csv");
    if (fs::exists(ref_path)) {
      ++reference_total;
      auto ref = ReadReference(ref_path);
      auto c = ref.ok() ? Compare(*sim, *ref) : soma::Result<Comparison>(ref.status());
      if (!c.ok()) {
        std::cerr << p.name << ": " << c.status().ToString() << "\n";
        ok = false;
        continue;
      }
      reference_pass += c->passed;
      ok = ok && c->passed;
      worst_bg = std::max(worst_bg, c->max_bg_error);
      reference_rows << "| " << p.name << " | " << Sci(c->max_bg_error) << " | " << c->max_bg_error_time
                     << " | " << Sci(c->max_cgm_error) << " | " << Sci(c->max_insulin_error) << " | "
                     << c->worst_state << " " << Fixed(c->worst_state_ratio, 3) << " | "
                     << (c->passed ? "pass" : "FAIL: " + c->first_failure) << " |\n";
    } else {
      ++heldout_total;
      double lo = INFINITY, hi = -INFINITY;
      for (size_t i = 0; i < sim->rows; ++i) {
        lo = std::min(lo, sim->at(i, 1));
        hi = std::max(hi, sim->at(i, 1));
      }
      const bool plausible = lo >= 20.0 && hi <= 600.0;
      heldout_pass += plausible;
      ok = ok && plausible;
      heldout_rows << "| " << p.name << " | " << Fixed(lo, 1) << " | " << Fixed(hi, 1) << " | "
                   << (plausible ? "pass" : "FAIL") << " |\n";
    }
  }

  std::ostringstream md;
  md << "# Verification evidence: type 1 diabetes glucose-insulin model (UVA/Padova)\n\n"
     << "Generated by `build/bin/soma_validate_t1d --out docs/validation/t1d-uva-padova.md`; every number\n"
     << "below is computed by that command (the CTest test `t1d_validation_report` writes the same report\n"
     << "into the build tree, and `t1d_reference_test` enforces the tolerances).\n\n"
     << "## What this evidence is, and is not\n\n"
     << "- Context of use: in-silico testing of insulin and meal scenarios on the 30 simglucose virtual\n"
     << "  patients (UVA/Padova S2008 structure); not for decisions about a real patient.\n"
     << "- This is code-to-code verification: Soma's SBML encoding, input schedule and solver against an\n"
     << "  independent implementation of the same equations (simglucose). It shows the equations, units,\n"
     << "  clipping rules and meal/insulin protocol are encoded as published there; it is not validation of\n"
     << "  the physiology against clinical data, which rests on the cited papers.\n"
     << "- Not included: the S2013/S2017 extensions (glucagon, hypoglycaemia-dependent insulin action,\n"
     << "  intraday insulin sensitivity), CGM sensor noise and pump discretisation.\n\n"
     << "## What is compared\n\n"
     << "- Model: `models/t1d-uva-padova.xml` (Dalla Man 2007 meal model with subcutaneous insulin and CGM,\n"
     << "  type 1 form of Kovatchev 2009 / Dalla Man 2014, as in simglucose), personalised per patient from\n"
     << "  `../shared/clinical/simglucose/vpatient_params.csv` (all constant parameters and x0).\n"
     << "- Reference: `../shared/clinical/simglucose-reference/*.csv`, simglucose's own patient model\n"
     << "  (SciPy dopri5) on one open-loop day; see `../shared/clinical/MANIFEST.md`.\n"
     << "- Day: t = 0.." << protocol.end << " min, basal insulin u2ss; meals of";
  for (const Meal& m : protocol.meals) md << " " << m.grams << " g at " << m.time << " min;";
  md << " eaten at " << protocol.eat_rate << " g/min; a CHO/CR bolus within each meal's first minute;\n"
     << "  inputs applied with `soma::sim::ApplyInputSchedule` (piecewise constant per minute).\n"
     << "- Solver: CVODES BDF, rel_tol " << options.integrator.rel_tol << ", abs_tol "
     << options.integrator.abs_tol << ", output every minute, exact SBML event semantics.\n"
     << "- Acceptance (|x - ref| <= abs + rel |ref| at every minute): BG and CGM abs "
     << kGlucoseTolerance.abs << " mg/dL; plasma insulin I abs " << kInsulinTolerance.abs << " pmol/L + rel "
     << kInsulinTolerance.rel << "; each state x1..x13 abs " << kStateTolerance.abs
     << " (its own unit) + rel " << kStateTolerance.rel << ".\n\n"
     << "## Reference patients (" << reference_pass << " of " << reference_total << " within tolerance)\n\n"
     << "Largest BG deviation over all reference patients: " << Sci(worst_bg) << " mg/dL.\n\n"
     << "| patient | max abs dBG (mg/dL) | at t (min) | max abs dCGM (mg/dL) | max abs dI (pmol/L) "
        "| worst state: error / tolerance | verdict |\n"
     << "|---|---:|---:|---:|---:|---|---|\n"
     << reference_rows.str() << "\n"
     << "## Held-out patients (" << heldout_pass << " of " << heldout_total << " plausible)\n\n"
     << "No reference trajectory is given for these patients; the same day must run without solver failure\n"
     << "and keep BG within 20-600 mg/dL.\n\n"
     << "| patient | min BG (mg/dL) | max BG (mg/dL) | verdict |\n|---|---:|---:|---|\n"
     << heldout_rows.str();
  if (args.out.empty()) {
    std::cout << md.str();
  } else {
    if (args.out.has_parent_path()) fs::create_directories(args.out.parent_path());
    std::ofstream f(args.out);
    f << md.str();
    if (!f) {
      std::cerr << "cannot write " << args.out << "\n";
      return 1;
    }
  }
  return ok ? 0 : 1;
}
