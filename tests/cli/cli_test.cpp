// The `soma` command's contract, exercised on the real binary: output shape,
// column selection, errors with a non-zero exit and no partial output.

#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "../run_command.h"

namespace {

namespace fs = std::filesystem;

using soma::test::CommandResult;

// stdout and stderr together.
CommandResult Soma(const std::string& args) {
  return soma::test::RunShell(std::string(SOMA_BINARY) + " " + args + " 2>&1");
}

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string line;
  while (std::getline(ss, line)) out.push_back(line);
  return out;
}

fs::path TempFile(const std::string& name, const std::string& content) {
  fs::path p = fs::temp_directory_path() / ("soma_cli_test_" + name);
  std::ofstream(p) << content;
  return p;
}

const std::string kModel = std::string(SOMA_SOURCE_DIR) + "/models/bergman-minimal.xml";

TEST(CliTest, SimulatePrintsHeaderAndStepsPlusOneRows) {
  CommandResult r = Soma("simulate " + kModel + " --start 0 --end 60 --steps 6 --vars G,I");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 8u) << r.out;
  EXPECT_EQ(lines[0], "time,G,I");
  EXPECT_EQ(lines[1].substr(0, 2), "0,");
  EXPECT_EQ(lines[7].substr(0, 3), "60,");
  // The insulin bolus at t = 30 adds 50 to I (7 before): the row at t = 30
  // shows the state after the event.
  EXPECT_NE(lines[4].find(",57"), std::string::npos) << lines[4];
}

// gzip files (as BioModels and model archives often hold them) read like the
// XML inside, whatever their name; a cut file is a clear error that names it
// once, with no rows printed.
TEST(CliTest, GzippedModelsSimulateAndCheckLikeThePlainFile) {
  const fs::path gz = fs::temp_directory_path() / "soma_cli_test_bergman.xml.gz";
  const fs::path unnamed = fs::temp_directory_path() / "soma_cli_test_bergman_gz";
  ASSERT_EQ(soma::test::RunShell("gzip -c " + kModel + " > " + gz.string() + " && cp " + gz.string() + " " +
                                 unnamed.string()).exit_code, 0);
  const std::string args = " --start 0 --end 60 --steps 6 --vars G,I";
  CommandResult plain = Soma("simulate " + kModel + args);
  ASSERT_EQ(plain.exit_code, 0) << plain.out;
  for (const fs::path& p : {gz, unnamed}) {
    CommandResult r = Soma("simulate " + p.string() + args);
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_EQ(r.out, plain.out);
    CommandResult check = Soma("check " + p.string());
    EXPECT_EQ(check.exit_code, 0) << check.out;
    EXPECT_NE(check.out.find("0 error(s)"), std::string::npos) << check.out;
  }
  const fs::path cut = fs::temp_directory_path() / "soma_cli_test_cut.xml.gz";
  ASSERT_EQ(soma::test::RunShell("head -c 200 " + gz.string() + " > " + cut.string()).exit_code, 0);
  CommandResult r = Soma("simulate " + cut.string() + args);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find(cut.string() + ": gzip data is truncated"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(cut.string() + ": " + cut.string()), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("time,"), std::string::npos) << r.out;
  CommandResult check = Soma("check " + cut.string());
  EXPECT_NE(check.exit_code, 0);
  EXPECT_NE(check.out.find("gzip data is truncated"), std::string::npos) << check.out;
}

// A COMBINE/OMEX archive (as BioModels and model repositories hand them
// out, here zipped by the zip tool) simulates and checks as its master SBML
// file; an archive whose model cannot be chosen is an error listing them.
TEST(CliTest, CombineArchivesSimulateAsTheirMasterModel) {
  const fs::path dir = fs::temp_directory_path() / "soma_cli_test_omex";
  fs::remove_all(dir);
  fs::create_directories(dir / "models");
  fs::copy_file(kModel, dir / "models" / "bergman.xml");
  fs::copy_file(kModel, dir / "models" / "copy.xml");
  const std::string sbml = "http://identifiers.org/combine.specifications/sbml";
  auto manifest = [&](const std::string& copy_master) {
    return std::string("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                       "<omexManifest xmlns=\"http://identifiers.org/combine.specifications/omex-manifest\">\n"
                       "  <content location=\".\" format=\"http://identifiers.org/combine.specifications/omex\"/>\n"
                       "  <content location=\"./models/copy.xml\" format=\"") +
           sbml + "\"" + copy_master + "/>\n  <content location=\"./models/bergman.xml\" format=\"" + sbml +
           ".level-3.version-1\" master=\"true\"/>\n</omexManifest>\n";
  };
  std::ofstream(dir / "manifest.xml") << manifest("");
  ASSERT_EQ(soma::test::RunShell("cd " + dir.string() + " && zip -q -r model.omex manifest.xml models").exit_code, 0);
  const std::string args = " --start 0 --end 60 --steps 6 --vars G,I";
  CommandResult plain = Soma("simulate " + kModel + args);
  ASSERT_EQ(plain.exit_code, 0) << plain.out;
  CommandResult r = Soma("simulate " + (dir / "model.omex").string() + args);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out, plain.out);
  CommandResult check = Soma("check " + (dir / "model.omex").string());
  EXPECT_EQ(check.exit_code, 0) << check.out;
  EXPECT_NE(check.out.find("0 error(s)"), std::string::npos) << check.out;
  // Two masters: which model is meant cannot be told.
  std::ofstream(dir / "manifest.xml") << manifest(" master=\"true\"");
  ASSERT_EQ(soma::test::RunShell("cd " + dir.string() + " && rm model.omex && zip -q -r model.omex manifest.xml models")
                .exit_code, 0);
  CommandResult two = Soma("simulate " + (dir / "model.omex").string() + args);
  EXPECT_NE(two.exit_code, 0);
  EXPECT_NE(two.out.find("several SBML files as master (./models/copy.xml, ./models/bergman.xml)"), std::string::npos)
      << two.out;
  EXPECT_EQ(two.out.find("soma-archive-"), std::string::npos) << two.out;  // no temporary folder named
  // An archive whose model is itself an archive is refused (a zip may
  // contain itself).
  std::ofstream(dir / "manifest.xml") << manifest("");
  ASSERT_EQ(soma::test::RunShell("cd " + dir.string() + " && rm model.omex && zip -q -r model.omex manifest.xml models && "
                                 "cp model.omex models/bergman.xml && rm model.omex && "
                                 "zip -q -r model.omex manifest.xml models").exit_code, 0);
  CommandResult nested = Soma("simulate " + (dir / "model.omex").string() + args);
  EXPECT_NE(nested.exit_code, 0);
  EXPECT_NE(nested.out.find("model.omex:models/bergman.xml: the archive's model is itself a zip archive"),
            std::string::npos) << nested.out;
  fs::remove_all(dir);
}

TEST(CliTest, SimulateWithNativeCodeGivesTheSameTable) {
  const std::string args = "simulate " + std::string(SOMA_SOURCE_DIR) +
                           "/models/t1d-uva-padova.xml --end 600 --steps 60 --summary";
  CommandResult plain = Soma(args + " -o " + TempFile("plain.csv", "").string());
  CommandResult native = Soma(args + " --native-code -o " + TempFile("native.csv", "").string());
  ASSERT_EQ(plain.exit_code, 0) << plain.out;
  ASSERT_EQ(native.exit_code, 0) << native.out;
  EXPECT_NE(plain.out.find("bytecode interpreter"), std::string::npos) << plain.out;
  if (native.out.find("no LLVM JIT") == std::string::npos) {
    EXPECT_NE(native.out.find("native code (LLVM"), std::string::npos) << native.out;
    // With an empty cache LLVM compiles the model; the next run takes it from there.
    const fs::path cache = fs::temp_directory_path() / ("soma_cli_jit_cache_" + std::to_string(::getpid()));
    fs::remove_all(cache);
    const std::string run = "SOMA_CACHE_DIR=" + cache.string() + " SOMA_JIT_CACHE=on " + std::string(SOMA_BINARY) +
                            " " + args + " --native-code -o " + TempFile("cached.csv", "").string() + " 2>&1";
    CommandResult first = soma::test::RunShell(run), second = soma::test::RunShell(run);
    EXPECT_NE(first.out.find("native code (LLVM; modules compiled: 1, from the cache: 0)"), std::string::npos)
        << first.out;
    EXPECT_NE(second.out.find("native code (LLVM; modules compiled: 0, from the cache: 1)"), std::string::npos)
        << second.out;
    fs::remove_all(cache);
  }
  std::ifstream a(fs::temp_directory_path() / "soma_cli_test_plain.csv");
  std::ifstream b(fs::temp_directory_path() / "soma_cli_test_native.csv");
  const std::string x((std::istreambuf_iterator<char>(a)), std::istreambuf_iterator<char>());
  const std::string y((std::istreambuf_iterator<char>(b)), std::istreambuf_iterator<char>());
  EXPECT_EQ(Lines(x).size(), 62u);
  EXPECT_EQ(x, y);
}

TEST(CliTest, SimulateSuiteCaseMatchesExpectedResults) {
  const std::string dir = std::string(SOMA_SHARED_DIR) + "/sbml-test-suite/semantic/00002/";
  if (!fs::exists(dir)) GTEST_SKIP() << "no SBML Test Suite";
  // The default method and the explicit Runge-Kutta one (--method rk45,
  // which --summary names).
  for (const std::string method : {"", " --method rk45"}) {
    SCOPED_TRACE("method:" + method);
    CommandResult r = Soma("simulate " + dir + "00002-sbml-l3v2.xml --start 0 --end 5 --steps 50 --vars S1,S2 "
                           "--amount S1,S2 --abs 1e-6 --rel 1e-4 --summary" + method);
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_EQ(r.out.find("Dormand-Prince") != std::string::npos, !method.empty()) << r.out;
    std::vector<std::string> got;
    for (const std::string& l : Lines(r.out)) {
      if (!l.empty() && (std::isdigit(static_cast<unsigned char>(l[0])) || l.rfind("time", 0) == 0)) got.push_back(l);
    }
    std::ifstream f(dir + "00002-results.csv");
    std::string line;
    std::getline(f, line);
    size_t row = 1;
    while (std::getline(f, line)) {
      ASSERT_LT(row, got.size());
      double e[3], x[3];
      ASSERT_EQ(std::sscanf(line.c_str(), "%lf,%lf,%lf", &e[0], &e[1], &e[2]), 3);
      ASSERT_EQ(std::sscanf(got[row].c_str(), "%lf,%lf,%lf", &x[0], &x[1], &x[2]), 3);
      for (int k = 0; k < 3; ++k) // The case's own tolerances (00002-settings.txt).
        EXPECT_LE(std::abs(x[k] - e[k]), 1e-6 + 1e-4 * std::abs(e[k])) << "row " << row;
      ++row;
    }
    EXPECT_EQ(row, got.size());
  }
  CommandResult bad = Soma("simulate " + dir + "00002-sbml-l3v2.xml --method euler");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.out.find("euler"), std::string::npos) << bad.out;
}

TEST(CliTest, JsonOutputToFile) {
  fs::path out = fs::temp_directory_path() / "soma_cli_test_out.json";
  fs::remove(out);
  CommandResult r = Soma("simulate " + kModel + " --end 10 --steps 2 --vars G --format json -o " + out.string());
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::ifstream f(out);
  std::stringstream ss;
  ss << f.rdbuf();
  EXPECT_NE(ss.str().find("\"columns\""), std::string::npos);
  EXPECT_NE(ss.str().find("\"G\""), std::string::npos);
}

TEST(CliTest, OutputToAPipeIsWrittenInPlaceNotReplaced) {
  // -o /dev/null or a FIFO must receive the output and stay what it is (an
  // atomic rename would put a regular file in its place).
  fs::path dir = fs::temp_directory_path() / ("soma_cli_fifo_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path fifo = dir / "pipe";
  const fs::path got = dir / "got.csv";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  soma::test::CommandResult r = soma::test::RunShell(
      "timeout 20 cat " + fifo.string() + " > " + got.string() + " & " + std::string(SOMA_BINARY) + " simulate " + kModel +
      " --end 10 --steps 2 --vars G -o " + fifo.string() + " 2>&1; s=$?; wait; exit $s");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(fs::is_fifo(fifo));
  EXPECT_FALSE(fs::exists(dir / "pipe.tmp"));
  std::ifstream f(got);
  std::string header;
  std::getline(f, header);
  EXPECT_EQ(header, "time,G");
  // A directory is an error naming it, and stays untouched.
  CommandResult d = Soma("simulate " + kModel + " --end 10 --steps 2 -o " + dir.string());
  EXPECT_EQ(d.exit_code, 1);
  EXPECT_NE(d.out.find("is a directory"), std::string::npos) << d.out;
  EXPECT_TRUE(fs::is_directory(dir));
  fs::remove_all(dir);
}

TEST(CliTest, UnknownVariableFailsWithoutOutput) {
  fs::path out = fs::temp_directory_path() / "soma_cli_test_none.csv";
  fs::remove(out);
  CommandResult r = Soma("simulate " + kModel + " --end 10 --steps 2 --vars G,nonexistent -o " + out.string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("nonexistent"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(out));
}

TEST(CliTest, MalformedXmlGivesLineNumbersAndNonZeroExit) {
  fs::path bad = TempFile("bad.xml", "<?xml version=\"1.0\"?>\n<sbml xmlns=\"http://www.sbml.org/sbml/level3/version2/core\" level=\"3\" version=\"2\">\n<model id=\"m\">\n<listOfSpecies>\n</model>\n</sbml>\n");
  CommandResult r = Soma("simulate " + bad.string() + " --end 1 --steps 1");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("line"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("time,"), std::string::npos) << "no partial output expected: " << r.out;
}

TEST(CliTest, CheckReportsValidModel) {
  CommandResult r = Soma("check " + kModel);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("0 error(s)"), std::string::npos) << r.out;
  CommandResult j = Soma("check --json " + kModel);
  EXPECT_EQ(j.exit_code, 0) << j.out;
  EXPECT_NE(j.out.find("\"errors\": 0"), std::string::npos) << j.out;
}

TEST(CliTest, BadOptionsAreUsageErrors) {
  // Readable rules, not CLI11's range "0.000000 to 1797693134862315708...".
  CommandResult r = Soma("simulate " + kModel + " --steps 0");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("--steps: must be > 0, got 0"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("179769"), std::string::npos) << r.out;
  CommandResult abs = Soma("simulate " + kModel + " --abs x");
  EXPECT_EQ(abs.exit_code, 2);
  EXPECT_NE(abs.out.find("--abs: 'x' is not a number"), std::string::npos) << abs.out;
  CommandResult r2 = Soma("simulate " + kModel + " --end -5 --steps 3");
  EXPECT_EQ(r2.exit_code, 1);
  EXPECT_NE(r2.out.find("SimulationOptions::end"), std::string::npos) << r2.out;
  // More output rows than a table in memory may hold: refused up front
  // (it aborted with std::bad_alloc).
  CommandResult big = Soma("simulate " + kModel + " --steps 2000000000");
  EXPECT_EQ(big.exit_code, 1);
  EXPECT_NE(big.out.find("SimulationOptions::steps = 2e+09; must be <= 10000000"), std::string::npos) << big.out;
}

// A command that runs out of memory says so and exits 1, leaving no partial
// output (it aborted with std::bad_alloc). 10^7 rows of G, X, I (400 MB of
// values) under a 300 MB address-space limit (a small run needs under 200).
TEST(CliTest, OutOfMemoryIsAMessageNotAnAbort) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer reserves more address space than the limit allows";
#else
  const fs::path out = TempFile("huge.csv", "");
  fs::remove(out);
  CommandResult r = soma::test::RunShell("ulimit -v 300000 && " + std::string(SOMA_BINARY) + " simulate " + kModel +
                                         " --vars G,X,I --end 10 --steps 10000000 -o " + out.string() + " 2>&1");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("soma: out of memory"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(out));
#endif
}

TEST(CliTest, SensitivitiesPrintDerivativeColumns) {
  CommandResult r = Soma("sensitivities " + kModel + " --params p1,n --vars G,I --end 60 --steps 6 --rel 1e-8");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 8u) << r.out;
  EXPECT_EQ(lines[0], "time,G,I,dG/dp1,dG/dn,dI/dp1,dI/dn");
  // I = Ib until the bolus at t = 30, then Ib + 50 exp(-n (t - 30)):
  // dI/dn = -50 (t - 30) exp(-n (t - 30)) and dI/dp1 = 0.
  for (size_t row = 1; row < lines.size(); ++row) {
    double v[7];
    ASSERT_EQ(std::sscanf(lines[row].c_str(), "%lf,%lf,%lf,%lf,%lf,%lf,%lf", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
                          &v[6]),
              7)
        << lines[row];
    const double t = v[0];
    const double exact = t <= 30 ? 0.0 : -50 * (t - 30) * std::exp(-0.14 * (t - 30));
    // |x - ref| <= 1e-6 + 1e-5 |ref|.
    EXPECT_LE(std::abs(v[6] - exact), 1e-6 + 1e-5 * std::abs(exact)) << lines[row];
    EXPECT_LE(std::abs(v[5]), 1e-9) << lines[row];
  }
}

TEST(CliTest, SensitivitiesJsonAndErrors) {
  fs::path out = fs::temp_directory_path() / "soma_cli_test_sens.json";
  fs::remove(out);
  CommandResult r = Soma("sensitivities " + kModel + " --params Gb --vars G --steps 4 --format json -o " + out.string());
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::ifstream f(out);
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("\"dG/dGb\""), std::string::npos) << text;

  CommandResult unknown = Soma("sensitivities " + kModel + " --params nope --vars G");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.out.find("'nope'"), std::string::npos) << unknown.out;

  // The bolus triggered by glucose instead of time (a state event) is
  // supported, and so is a delayed one. Central finite differences of
  // `soma simulate` (p1 = 0.03 +- 3e-5, rel 1e-10) are the reference, within
  // 1e-3. G >= 30 fires at the start (a time that does not move): the bolus
  // executes at t = 1, dG/dp1(3) = -438.238. G <= 240 fires at a time that
  // moves with p1 and so does the execution one minute later, with the
  // value of I + 50 from the trigger time: dG/dp1(6) = -818.226 and
  // dI/dp1(6) = -336.876 (I jumps at a moving time).
  std::ifstream in(kModel);
  std::string xml((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string time_symbol =
      "<csymbol encoding=\"text\" definitionURL=\"http://www.sbml.org/sbml/symbols/time\"> time </csymbol>";
  ASSERT_NE(xml.find(time_symbol), std::string::npos);
  xml.replace(xml.find(time_symbol), time_symbol.size(), "<ci> G </ci>");
  fs::path state_event = TempFile("state_event.xml", xml);
  CommandResult state = Soma("sensitivities " + state_event.string() + " --params p1 --vars G");
  EXPECT_EQ(state.exit_code, 0) << state.out;
  EXPECT_NE(state.out.find("time,G,dG/dp1"), std::string::npos) << state.out;
  auto last_row = [](const std::string& csv, const std::string& time) {
    const size_t at = csv.rfind("\n" + time + ",");
    std::vector<double> cells;
    if (at == std::string::npos) return cells;
    std::stringstream row(csv.substr(at + 1, csv.find('\n', at + 1) - at - 1));
    for (std::string cell; std::getline(row, cell, ',');) cells.push_back(std::stod(cell));
    return cells;
  };
  const std::string end_trigger = "</trigger>";
  ASSERT_NE(xml.find(end_trigger), std::string::npos);
  xml.insert(xml.find(end_trigger) + end_trigger.size(),
             "<delay><math xmlns=\"http://www.w3.org/1998/Math/MathML\"><cn> 1 </cn></math></delay>");
  fs::path delayed = TempFile("delayed_event.xml", xml);
  CommandResult fixed = Soma("sensitivities " + delayed.string() + " --params p1 --vars G --end 3 --steps 3 --rel 1e-10");
  EXPECT_EQ(fixed.exit_code, 0) << fixed.out;
  std::vector<double> row = last_row(fixed.out, "3");
  ASSERT_EQ(row.size(), 3u) << fixed.out;
  EXPECT_NEAR(row[2], -438.238, 1e-3) << fixed.out;
  const std::string geq30 = "<geq/>\n              <ci> G </ci>\n              <cn type=\"integer\"> 30 </cn>";
  ASSERT_NE(xml.find(geq30), std::string::npos);
  xml.replace(xml.find(geq30), geq30.size(), "<leq/><ci> G </ci><cn type=\"integer\"> 240 </cn>");
  fs::path moving = TempFile("moving_delayed_event.xml", xml);
  CommandResult moved = Soma("sensitivities " + moving.string() + " --params p1 --vars G I --end 6 --steps 2 --rel 1e-10");
  EXPECT_EQ(moved.exit_code, 0) << moved.out;
  row = last_row(moved.out, "6");
  ASSERT_EQ(row.size(), 5u) << moved.out;
  EXPECT_NEAR(row[3], -818.226, 1e-3) << moved.out;
  EXPECT_NEAR(row[4], -336.876, 1e-3) << moved.out;
  // A delay that changes with the state would move the execution by its own
  // derivative: reported rather than computed wrongly.
  const std::string one = "<delay><math xmlns=\"http://www.w3.org/1998/Math/MathML\"><cn> 1 </cn></math></delay>";
  xml.replace(xml.find(one), one.size(),
              "<delay><math xmlns=\"http://www.w3.org/1998/Math/MathML\"><apply><divide/><ci> G </ci><cn> 100 </cn>"
              "</apply></math></delay>");
  fs::path state_delay = TempFile("state_delay_event.xml", xml);
  CommandResult unsupported = Soma("sensitivities " + state_delay.string() + " --params p1 --vars G");
  EXPECT_EQ(unsupported.exit_code, 1);
  EXPECT_NE(unsupported.out.find("the delay of event 'insulin_bolus' changes with time, the state or the parameters"),
            std::string::npos)
      << unsupported.out;
  EXPECT_EQ(unsupported.out.find("time,G"), std::string::npos) << unsupported.out;  // no partial output
}

TEST(CliTest, SteadyStateOfBergmanIsTheBasalState) {
  // G' = -(p1 + X) G + p1 Gb, X' = -p2 X + p3 (I - Ib), I' = -n (I - Ib):
  // G = Gb = 90, X = 0, I = Ib = 7. The insulin bolus event at t = 30 is
  // ignored. With |dy/dt| <= 1e-12 + 1e-10 |y| the error is at most about
  // |dy/dt| / rate: 3e-7 for G (p1 = 0.03), 5e-9 for I (n = 0.14), less for X.
  fs::path out = fs::temp_directory_path() / "soma_cli_test_steady.csv";
  fs::remove(out);
  CommandResult r = Soma("steady-state " + kModel + " --vars G,X,I --abs 1e-12 --rel 1e-10 -o " + out.string());
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("newton"), std::string::npos) << r.out;  // the summary on stderr
  EXPECT_NE(r.out.find("stable (max real part of eigenvalues"), std::string::npos) << r.out;
  std::ifstream f(out);
  std::stringstream ss;
  ss << f.rdbuf();
  auto lines = Lines(ss.str());
  ASSERT_EQ(lines.size(), 2u) << ss.str();
  EXPECT_EQ(lines[0], "G,X,I");
  double g = 0, x = 0, i = 0;
  ASSERT_EQ(std::sscanf(lines[1].c_str(), "%lf,%lf,%lf", &g, &x, &i), 3) << lines[1];
  EXPECT_LE(std::abs(g - 90.0), 1e-6) << g;
  EXPECT_LE(std::abs(x), 1e-9) << x;
  EXPECT_LE(std::abs(i - 7.0), 1e-8) << i;

  // Default columns: no species, so the non-constant parameters G, X, I.
  CommandResult j = Soma("steady-state " + kModel + " --method integration --format json");
  ASSERT_EQ(j.exit_code, 0) << j.out;
  EXPECT_NE(j.out.find("\"columns\""), std::string::npos) << j.out;
  EXPECT_NE(j.out.find("\"I\""), std::string::npos) << j.out;
  EXPECT_NE(j.out.find("\"method\": \"integration"), std::string::npos) << j.out;

  CommandResult unknown = Soma("steady-state " + kModel + " --vars G,nope");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.out.find("nope"), std::string::npos) << unknown.out;
  EXPECT_EQ(unknown.out.find("G,"), std::string::npos) << "no partial output expected: " << unknown.out;
}

// A two-reaction fbc v2 model: uptake of A in [0, 4], export of A maximised.
std::string FbcModel(const std::string& uptake_lower) {
  return R"(<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" xmlns:fbc="http://www.sbml.org/sbml/level3/version1/fbc/version2"
      level="3" version="2" fbc:required="false">
  <model id="m" fbc:strict="true">
    <listOfCompartments><compartment id="c" size="1" constant="true"/></listOfCompartments>
    <listOfSpecies><species id="A" compartment="c" initialAmount="0" hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/></listOfSpecies>
    <listOfParameters>
      <parameter id="lo" value=")" + uptake_lower + R"(" constant="true"/>
      <parameter id="zero" value="0" constant="true"/>
      <parameter id="four" value="4" constant="true"/>
    </listOfParameters>
    <listOfReactions>
      <reaction id="up" reversible="false" fbc:lowerFluxBound="lo" fbc:upperFluxBound="four">
        <listOfProducts><speciesReference species="A" stoichiometry="1" constant="true"/></listOfProducts>
      </reaction>
      <reaction id="out" reversible="false" fbc:lowerFluxBound="zero" fbc:upperFluxBound="four">
        <listOfReactants><speciesReference species="A" stoichiometry="2" constant="true"/></listOfReactants>
      </reaction>
    </listOfReactions>
    <fbc:listOfObjectives fbc:activeObjective="growth">
      <fbc:objective fbc:id="growth" fbc:type="maximize">
        <fbc:listOfFluxObjectives><fbc:fluxObjective fbc:reaction="out" fbc:coefficient="1"/></fbc:listOfFluxObjectives>
      </fbc:objective>
    </fbc:listOfObjectives>
  </model>
</sbml>)";
}

TEST(CliTest, FbaPrintsFluxesAndObjective) {
  fs::path model = TempFile("fba.xml", FbcModel("0"));
  fs::path out = fs::temp_directory_path() / "soma_cli_test_fba.csv";
  CommandResult r = Soma("fba " + model.string() + " -o " + out.string());
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("optimal"), std::string::npos) << r.out;  // status on stderr
  std::ifstream f(out);
  std::stringstream ss;
  ss << f.rdbuf();
  auto lines = Lines(ss.str());
  ASSERT_EQ(lines.size(), 2u) << ss.str();
  EXPECT_EQ(lines[0], "up,out,growth");
  double up = 0, export_flux = 0, objective = 0;
  ASSERT_EQ(std::sscanf(lines[1].c_str(), "%lf,%lf,%lf", &up, &export_flux, &objective), 3) << lines[1];
  // Uptake 4 feeds export 2 (stoichiometry 2); the objective is the export.
  EXPECT_LE(std::abs(up - 4), 1e-9);
  EXPECT_LE(std::abs(export_flux - 2), 1e-9);
  EXPECT_LE(std::abs(objective - 2), 1e-9);

  CommandResult j = Soma("fba " + model.string() + " --format json");
  ASSERT_EQ(j.exit_code, 0) << j.out;
  EXPECT_NE(j.out.find("\"status\": \"optimal\""), std::string::npos) << j.out;
  EXPECT_NE(j.out.find("\"growth\""), std::string::npos) << j.out;
}

// A species in a compartment of size 0 has no concentration (0/0): the
// column says NaN (one spelling, not "nan" or "-nan") and a warning names
// it with the first time, where the run said nothing before.
TEST(CliTest, NotANumberOutputsAreWrittenAsNaNAndWarned) {
  fs::path model = TempFile("zero_size.xml", R"(<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">
  <model id="zero_size">
    <listOfCompartments><compartment id="c" spatialDimensions="3" size="0" constant="true"/></listOfCompartments>
    <listOfSpecies><species id="S" compartment="c" initialConcentration="1" hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/></listOfSpecies>
  </model>
</sbml>
)");
  CommandResult r = soma::test::RunShell(std::string(SOMA_BINARY) + " simulate " + model.string() +
                                         " --end 1 --steps 2 2>/dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(Lines(r.out), (std::vector<std::string>{"time,S", "0,NaN", "0.5,NaN", "1,NaN"})) << r.out;
  CommandResult w = Soma("simulate " + model.string() + " --end 1 --steps 2 -o /dev/null");
  EXPECT_NE(w.out.find("soma: warning: 'S' is not a number (NaN) from t = 0"), std::string::npos) << w.out;
}

TEST(CliTest, InputsThatAreNotRegularFilesAreRefusedAtOnce) {
  // /dev/zero passes CLI11's "existing file" check and never ends: it was
  // read until memory ran out.
  for (const std::string& cmd : {std::string("simulate /dev/zero --end 1"),
                                 "scenario run /dev/zero --model " + kModel,
                                 "trial run /dev/zero --model " + kModel + " --out /tmp/soma_cli_dev_zero"}) {
    CommandResult r = Soma(cmd);
    EXPECT_EQ(r.exit_code, 1) << cmd << ": " << r.out;
    EXPECT_NE(r.out.find("'/dev/zero': not a regular file"), std::string::npos) << cmd << ": " << r.out;
  }
}

TEST(CliTest, NegativeZeroIsWrittenAsZero) {
  // m = -1 * S with S = 0 is -0 in IEEE arithmetic; "%g" wrote "-0".
  fs::path model = TempFile("negative_zero.xml", R"(<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">
  <model id="negative_zero">
    <listOfParameters>
      <parameter id="S" value="0" constant="true"/>
      <parameter id="m" constant="false"/>
    </listOfParameters>
    <listOfRules>
      <assignmentRule variable="m">
        <math xmlns="http://www.w3.org/1998/Math/MathML"><apply><times/><cn> -1 </cn><ci> S </ci></apply></math>
      </assignmentRule>
    </listOfRules>
  </model>
</sbml>
)");
  CommandResult r = Soma("simulate " + model.string() + " --end 1 --steps 1 --vars m");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(Lines(r.out), (std::vector<std::string>{"time,m", "0,0", "1,0"})) << r.out;
}

TEST(CliTest, FbaReportsInfeasibleModels) {
  // Uptake bounds [10, 4]: no flux satisfies them; an outcome, not an error.
  fs::path model = TempFile("fba_infeasible.xml", FbcModel("10"));
  CommandResult r = Soma("fba " + model.string());
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("infeasible"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("'up'"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("NaN"), std::string::npos) << r.out;

  CommandResult missing = Soma("fba " + kModel);  // no fbc data
  EXPECT_EQ(missing.exit_code, 1) << missing.out;
  EXPECT_NE(missing.out.find("flux balance"), std::string::npos) << missing.out;
}

}  // namespace

namespace scenario_cli {

const std::string kT1d = std::string(SOMA_SOURCE_DIR) + "/models/t1d-uva-padova.xml";
const std::string kStandard = std::string(SOMA_SOURCE_DIR) + "/scenarios/t1d-standard-day.json";
const std::string kReduced = std::string(SOMA_SOURCE_DIR) + "/scenarios/t1d-reduced-bolus.json";

TEST(CliScenarioTest, CompareShowsOutcomesAndDifferences) {
  CommandResult r = Soma("scenario compare " + kStandard + " " + kReduced + " --model " + kT1d);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto lines = Lines(r.out);
  ASSERT_GE(lines.size(), 7u);
  EXPECT_EQ(lines[0], "outcome,t1d-standard-day,t1d-reduced-bolus,t1d-reduced-bolus - t1d-standard-day");
  // Less insulin for the same meals: more time above 180 mg/dL and a higher mean.
  for (const std::string& line : lines) {
    if (line.rfind("mean_BG,", 0) == 0 || line.rfind("time_above_180,", 0) == 0) {
      double diff = std::stod(line.substr(line.rfind(',') + 1));
      EXPECT_GT(diff, 0.0) << line;
    }
  }
}

TEST(CliScenarioTest, RunWritesTheTrajectoryAndBadScenariosFailCleanly) {
  fs::path out = fs::temp_directory_path() / "soma_cli_test_scenario.csv";
  fs::remove(out);
  CommandResult r = Soma("scenario run " + kStandard + " --model " + kT1d + " -o " + out.string() + " --summary");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("outcome time_in_range = "), std::string::npos) << r.out;
  // The solver summary: the meals and boluses restart the integrator.
  EXPECT_NE(r.out.find("Simulation summary"), std::string::npos) << r.out;
  const size_t restarts = r.out.find("integrator restarts");
  ASSERT_NE(restarts, std::string::npos) << r.out;
  EXPECT_GT(std::stol(r.out.substr(r.out.find_first_of("0123456789", restarts))), 10) << r.out;
  std::ifstream in(out);
  std::string header;
  std::getline(in, header);
  EXPECT_EQ(header, "time,BG,CGM,I");
  int rows = 0;
  for (std::string line; std::getline(in, line);) ++rows;
  EXPECT_EQ(rows, 289);

  fs::remove(out);
  fs::path bad = TempFile("bad_scenario.json", R"({"name": "x", "end": 10,
      "interventions": [{"type": "infusion", "target": "insulin_rate", "rate": 1, "start": 1}]})");
  r = Soma("scenario run " + bad.string() + " --model " + kT1d + " -o " + out.string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("interventions[0].duration: required"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(out));
}

}  // namespace scenario_cli

namespace trial_cli {

TEST(CliTrialTest, RunWritesResultsAndResumeSkipsFinishedMembers) {
  const std::string model = std::string(SOMA_SOURCE_DIR) + "/models/bergman-minimal.xml";
  fs::path dir = fs::temp_directory_path() / "soma_cli_trial";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "trial.json") << R"({"name": "small", "scenarios": [
      {"name": "base", "end": 60, "steps": 60, "outputs": ["G"],
       "outcomes": [{"name": "gmax", "variable": "G", "metric": "max"}]}],
    "population": {"size": 6, "seed": 1, "parameters": {"p1": {"distribution": "lognormal", "median": 0.03, "cv": 0.2}}}})";
  fs::path out = dir / "out";
  CommandResult r = Soma("trial run " + (dir / "trial.json").string() + " --model " + model + " --out " +
                         out.string() + " --threads 2");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("6 members, 0 failed"), std::string::npos) << r.out;
  for (const char* f : {"summary.json", "members.csv", "bands.csv", "progress.json"}) {
    EXPECT_TRUE(fs::exists(out / f)) << f;
  }
  EXPECT_EQ(Lines(Soma("trial status " + out.string()).out)[0], R"({"done":6,"state":"finished","total":6})");
  std::ifstream members(out / "members.csv");
  std::string first_run((std::istreambuf_iterator<char>(members)), std::istreambuf_iterator<char>());
  r = Soma("trial run " + (dir / "trial.json").string() + " --model " + model + " --out " + out.string() +
           " --resume --threads 1");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("6 members done"), std::string::npos) << r.out;
  std::ifstream again(out / "members.csv");
  std::string second_run((std::istreambuf_iterator<char>(again)), std::istreambuf_iterator<char>());
  EXPECT_EQ(first_run, second_run);
  EXPECT_EQ(Soma("trial results " + (dir / "missing").string()).exit_code, 1);
  // Native code (LLVM) gives the same files; 6 members run interpreted by
  // default (auto: native from 64 simulations, members x scenarios).
  r = Soma("trial run " + (dir / "trial.json").string() + " --model " + model + " --out " + (dir / "native").string() +
           " --native-code on");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::ifstream native(dir / "native" / "members.csv");
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(native)), std::istreambuf_iterator<char>()), first_run);
  EXPECT_NE(Soma("trial run " + (dir / "trial.json").string() + " --model " + model + " --native-code sometimes")
                .exit_code, 0);
  // A scenario file the trial names is part of what --resume checks: edited
  // after the run, its checkpoint is refused (and kept).
  std::ofstream(dir / "scenario.json") << R"({"name": "base", "end": 60, "steps": 60, "outputs": ["G"],
       "outcomes": [{"name": "gmax", "variable": "G", "metric": "max"}]})";
  std::ofstream(dir / "named.json") << R"({"name": "named", "scenarios": ["scenario.json"],
    "population": {"size": 6, "seed": 1, "parameters": {"p1": {"distribution": "lognormal", "median": 0.03, "cv": 0.2}}}})";
  const std::string named = "trial run " + (dir / "named.json").string() + " --model " + model + " --out " +
                            (dir / "named").string();
  ASSERT_EQ(Soma(named).exit_code, 0);
  std::ofstream(dir / "scenario.json", std::ios::app) << "\n";
  const auto size = fs::file_size(dir / "named" / "checkpoint.bin");
  r = Soma(named + " --resume");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("was written for other inputs"), std::string::npos) << r.out;
  EXPECT_EQ(fs::file_size(dir / "named" / "checkpoint.bin"), size);
  fs::remove_all(dir);
}

// A run killed with SIGKILL keeps the members it had finished (the
// checkpoint is appended while the trial runs, not only at its end), and
// --resume completes it to the same files as a run never interrupted.
TEST(CliTrialTest, KilledRunResumesToTheFilesOfAnUninterruptedRun) {
  const std::string root = SOMA_SOURCE_DIR;
  fs::path dir = fs::temp_directory_path() / ("soma_cli_trial_kill_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const int total = 1000;
  std::ofstream(dir / "trial.json") << R"({"name": "killed", "scenarios": [")" + root +
                                           R"(/scenarios/t1d-standard-day.json"],
    "population": {"size": )" + std::to_string(total) +
                                           R"(, "seed": 3, "parameters": {
      "Vmx": {"distribution": "lognormal", "median": 0.031319, "cv": 0.3}}}})";
  const std::string run = std::string(SOMA_BINARY) + " trial run " + (dir / "trial.json").string() + " --model " +
                          root + "/models/t1d-uva-padova.xml";
  const fs::path killed = dir / "killed", whole = dir / "whole";
  const std::string checkpoint = (killed / "checkpoint.bin").string();
  // Killed as soon as the checkpoint holds more than its 24-byte header
  // (one thread: about a second for all members, the first records come
  // after 0.1 s; with 240 members the run sometimes finished before the
  // kill).
  CommandResult r = soma::test::RunShell(
      run + " --out " + killed.string() + " --threads 1 > /dev/null 2>&1 & p=$!; i=0; while [ \"$(stat -c %s " +
      checkpoint + " 2>/dev/null || echo 0)\" -le 24 ] && [ $i -lt 3000 ]; do sleep 0.01; i=$((i+1)); done; " +
      "kill -9 $p; wait $p");
  EXPECT_FALSE(fs::exists(killed / "summary.json"));
  // A checkpoint of another trial file is refused, and kept.
  const std::string edited = (dir / "edited.json").string();
  fs::copy_file(dir / "trial.json", edited);
  std::ofstream(edited, std::ios::app) << "\n";
  const auto size = fs::file_size(checkpoint);
  r = soma::test::RunShell(std::string(SOMA_BINARY) + " trial run " + edited + " --model " + root +
                           "/models/t1d-uva-padova.xml --out " + killed.string() + " --resume 2>&1");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("was written for other inputs"), std::string::npos) << r.out;
  EXPECT_EQ(fs::file_size(checkpoint), size);
  // So is the JSON-lines checkpoint of an earlier Soma, by name.
  fs::create_directories(dir / "old");
  std::ofstream(dir / "old" / "members.jsonl") << R"({"member": 0, "ok": true})" << "\n";
  r = soma::test::RunShell(run + " --out " + (dir / "old").string() + " --resume 2>&1");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("members.jsonl' is the checkpoint of an earlier Soma"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(dir / "old" / "members.jsonl"));
  r = soma::test::RunShell(run + " --out " + killed.string() + " --resume --threads 2 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto said = r.out.find("resuming killed: ");
  ASSERT_NE(said, std::string::npos) << r.out;
  const int kept = std::atoi(r.out.c_str() + said + 17);
  EXPECT_GT(kept, 0) << r.out;
  EXPECT_LT(kept, total) << "the run finished before it was killed";
  r = soma::test::RunShell(run + " --out " + whole.string() + " --threads 2 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  for (const char* f : {"summary.json", "members.csv", "bands.csv"}) {
    std::ifstream a(killed / f), b(whole / f);
    std::string x((std::istreambuf_iterator<char>(a)), std::istreambuf_iterator<char>());
    std::string y((std::istreambuf_iterator<char>(b)), std::istreambuf_iterator<char>());
    EXPECT_FALSE(x.empty()) << f;
    EXPECT_EQ(x, y) << f;
  }
  EXPECT_EQ(Lines(Soma("trial status " + killed.string()).out)[0],
            R"({"done":)" + std::to_string(total) + R"(,"state":"finished","total":)" + std::to_string(total) + "}");
  fs::remove_all(dir);
}

}  // namespace trial_cli

// `soma twin` on a local data folder: create from a FHIR bundle, add CSV
// data, forecast as CSV, show.
TEST(CliTwinTest, CreateObserveForecastShow) {
  fs::path dir = fs::temp_directory_path() / ("soma_cli_twin_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const std::string patient = R"({"resourceType": "Patient", "id": "p1",
    "identifier": [{"system": "urn:oid:2.16.840.1.113883.2.4.6.3", "value": "999911120"}],
    "name": [{"family": "Quixotic", "given": ["Zebulon"]}], "birthDate": "1971-04-23"})";
  const std::string consent = R"({"resourceType": "Consent", "id": "c1", "status": "active",
    "patient": {"reference": "Patient/p1"}, "provision": {"type": "permit"}})";
  std::string entries = "{\"resource\": " + patient + "}, {\"resource\": " + consent + "}";
  for (int k = 0; k < 6; ++k) {
    char t[32];
    std::snprintf(t, sizeof t, "2024-05-02T06:%02d:00Z", 5 * k);
    entries += R"(, {"resource": {"resourceType": "Observation", "id": "o)" + std::to_string(k) +
               R"(", "status": "final", "code": {"coding": [{"system": "http://loinc.org", "code": "99504-3"}]},
      "subject": {"reference": "Patient/p1"}, "effectiveDateTime": ")" + std::string(t) +
               R"(", "valueQuantity": {"value": )" + std::to_string(120 + k) +
               R"(, "system": "http://unitsofmeasure.org", "code": "mg/dL"}}})";
  }
  fs::path bundle = TempFile("twin_bundle.json", R"({"resourceType": "Bundle", "type": "collection", "entry": [)" +
                                                     entries + "]}");
  fs::path csv = TempFile("twin_cgm.csv",
                          "patient,time,loinc,value,unit\n"
                          "urn:oid:2.16.840.1.113883.2.4.6.3|999911120,2024-05-02T06:30:00Z,99504-3,7.0,mmol/L\n"
                          "urn:oid:2.16.840.1.113883.2.4.6.3|999911120,2024-05-02T06:35:00Z,99504-3,7.1,mmol/L\n");
  const std::string data = " --data " + dir.string();
  const std::string def = std::string(SOMA_SOURCE_DIR) + "/twins/t1d-cgm.json";
  CommandResult c = Soma("twin create --model t1d-uva-padova.xml --definition " + def + " --bundle " +
                         bundle.string() + " --id t1" + data);
  ASSERT_EQ(c.exit_code, 0) << c.out;
  EXPECT_NE(c.out.find("t1 ("), std::string::npos) << c.out;
  EXPECT_EQ(c.out.find("Quixotic"), std::string::npos);
  EXPECT_EQ(c.out.find("999911120"), std::string::npos);

  CommandResult o = Soma("twin observe t1 --csv " + csv.string() + data);
  ASSERT_EQ(o.exit_code, 0) << o.out;
  EXPECT_NE(o.out.find("assimilated 2 observation(s)"), std::string::npos) << o.out;

  CommandResult f = Soma("twin forecast t1 --horizon 60 --step 10" + data);
  ASSERT_EQ(f.exit_code, 0) << f.out;
  auto lines = Lines(f.out);
  ASSERT_GE(lines.size(), 8u) << f.out;
  EXPECT_EQ(lines[0], "symbol,time_unix,time,mean,q0.05,q0.25,q0.5,q0.75,q0.95");
  int cgm_rows = 0;
  for (const auto& l : lines) cgm_rows += l.rfind("CGM,", 0) == 0;
  EXPECT_EQ(cgm_rows, 7);  // model time 35, 45, ..., 95 min

  // What-if: two plans side by side, CSV rows led by the plan's name; the
  // meal's plan predicts a higher glucose peak. Nothing is recorded: the
  // twin's version is the same before and after.
  fs::path plans = TempFile("twin_plans.json", R"({"horizon": 120, "step": 10, "scenarios": [
    {"name": "nothing"},
    {"name": "meal, 60 g", "actions": [{"meal": 60, "in": 5}]}]})");
  const std::string version_before = Soma("twin show t1 --json" + data).out;
  CommandResult w = Soma("twin whatif t1 " + plans.string() + data);
  ASSERT_EQ(w.exit_code, 0) << w.out;
  auto wlines = Lines(w.out);
  ASSERT_FALSE(wlines.empty());
  EXPECT_EQ(wlines[0], "scenario,symbol,time_unix,time,mean,q0.05,q0.25,q0.5,q0.75,q0.95");
  std::map<std::string, double> peak;
  for (const auto& l : wlines) {
    if (l.rfind("nothing,BG,", 0) != 0 && l.rfind("\"meal, 60 g\",BG,", 0) != 0) continue;
    const bool meal = l[0] == '"';
    std::stringstream cells(meal ? l.substr(l.find("\",") + 2) : l.substr(l.find(',') + 1));
    std::string cell;
    for (int k = 0; k < 4; ++k) std::getline(cells, cell, ',');  // symbol, time_unix, time, mean
    double& p = peak[meal ? "meal" : "nothing"];
    p = std::max(p, std::stod(cell));
  }
  ASSERT_EQ(peak.size(), 2u) << w.out;
  EXPECT_GT(peak["meal"], peak["nothing"] + 20) << w.out;
  EXPECT_EQ(Soma("twin show t1 --json" + data).out, version_before);
  fs::path bad_plans = TempFile("twin_bad_plans.json", R"({"scenarios": [{"name": "x", "actions": [{"dose": "aspirin", "amount": 1, "unit": "U", "in": 0}]}]})");
  CommandResult wb = Soma("twin whatif t1 " + bad_plans.string() + data);
  EXPECT_NE(wb.exit_code, 0);
  EXPECT_NE(wb.out.find("scenarios[0].actions[0].dose"), std::string::npos) << wb.out;

  // The history (model time 0 to the twin's time, 35) replayed with the
  // personalised parameters: CGM rows at 0, 10, 20, 30, 35.
  CommandResult hc = Soma("twin hindcast t1 --step 10" + data);
  ASSERT_EQ(hc.exit_code, 0) << hc.out;
  auto hlines = Lines(hc.out);
  ASSERT_FALSE(hlines.empty());
  EXPECT_EQ(hlines[0], "symbol,time_unix,time,mean,q0.05,q0.25,q0.5,q0.75,q0.95");
  std::vector<std::string> cgm_times;
  for (const auto& l : hlines) {
    if (l.rfind("CGM,", 0) != 0) continue;
    std::stringstream cells(l);
    std::string cell;
    for (int k = 0; k < 3; ++k) std::getline(cells, cell, ',');
    cgm_times.push_back(cell);
  }
  EXPECT_EQ(cgm_times, (std::vector<std::string>{"0", "10", "20", "30", "35"})) << hc.out;
  EXPECT_NE(Soma("twin hindcast t1 --format xml" + data).exit_code, 0);

  // Personalisation with profile likelihood intervals (the fit's JSON on
  // standard output, progress on standard error).
  CommandResult fit = soma::test::RunShell(std::string(SOMA_BINARY) + " twin fit t1 --profile" + data + " 2>/dev/null");
  ASSERT_EQ(fit.exit_code, 0) << fit.out;
  size_t profiles = 0;
  for (size_t at = fit.out.find("\"profile\": {"); at != std::string::npos; at = fit.out.find("\"profile\": {", at + 1))
    ++profiles;
  EXPECT_EQ(profiles, 2u) << fit.out;  // Vmx and kp3
  EXPECT_NE(fit.out.find("\"upper_open\""), std::string::npos) << fit.out;

  CommandResult s = Soma("twin show t1 --json" + data);
  ASSERT_EQ(s.exit_code, 0) << s.out;
  EXPECT_NE(s.out.find("\"observations\": 8"), std::string::npos) << s.out;

  // The posterior as a population table that `soma trial` reads: one row
  // per ensemble member (40 in the definition), positive values.
  fs::path table = dir / "posterior.csv";
  CommandResult p = Soma("twin posterior t1 -o " + table.string() + data);
  ASSERT_EQ(p.exit_code, 0) << p.out;
  std::ifstream in(table);
  std::string header, row;
  std::getline(in, header);
  EXPECT_EQ(header, "member,Vmx,kp3");
  int rows = 0;
  while (std::getline(in, row)) {
    ++rows;
    const auto comma = row.find(',');
    ASSERT_NE(comma, std::string::npos);
    EXPECT_GT(std::stod(row.substr(comma + 1)), 0.0) << row;
  }
  EXPECT_EQ(rows, 40);
  fs::path trial = TempFile("twin_trial.json", R"({"schema": "soma.trial/1", "name": "posterior-trial",
    "scenarios": [")" + std::string(SOMA_SOURCE_DIR) + R"(/scenarios/t1d-standard-day.json"],
    "population": {"table": ")" + table.string() + R"(", "columns": {"Vmx": "Vmx", "kp3": "kp3"}}})");
  CommandResult t = Soma("trial run " + trial.string() + " --model " + std::string(SOMA_SOURCE_DIR) +
                         "/models/t1d-uva-padova.xml --threads 1 --out " + (dir / "trial").string());
  ASSERT_EQ(t.exit_code, 0) << t.out;
  EXPECT_TRUE(fs::exists(dir / "trial" / "summary.json"));

  CommandResult bad = Soma("twin observe t1" + data);
  EXPECT_EQ(bad.exit_code, 2) << bad.out;
  fs::remove_all(dir);
}
