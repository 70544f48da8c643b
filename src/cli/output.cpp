#include "cli/output.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

namespace soma::cli {

void AppendCsvNumber(std::string& out, double v) {
  // One spelling whatever the sign bit, the one pandas, R and spreadsheets read.
  if (std::isnan(v)) {
    out += "NaN";
    return;
  }
  if (v == 0) v = 0.0;  // -0 == 0: written as 0
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  out += buf;
}

std::string FormatCsv(const sim::SimulationResult& r) {
  std::string out;
  for (size_t c = 0; c < r.columns.size(); ++c) {
    if (c > 0) out += ',';
    out += r.columns[c];
  }
  out += '\n';
  for (size_t row = 0; row < r.rows; ++row) {
    for (size_t c = 0; c < r.columns.size(); ++c) {
      if (c > 0) out += ',';
      AppendCsvNumber(out, r.at(row, c));
    }
    out += '\n';
  }
  return out;
}

std::string FormatJson(const sim::SimulationResult& r) {
  nlohmann::json j;
  j["columns"] = r.columns;
  nlohmann::json rows = nlohmann::json::array();
  for (size_t row = 0; row < r.rows; ++row) {
    nlohmann::json line = nlohmann::json::array();
    for (size_t c = 0; c < r.columns.size(); ++c) {
      double v = r.at(row, c);
      // JSON has no NaN/Inf: they become null.
      line.push_back(std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr));
    }
    rows.push_back(std::move(line));
  }
  j["rows"] = std::move(rows);
  const auto& s = r.summary;
  j["summary"] = {{"steps", s.integrator.steps},
                  {"rhs_evaluations", s.integrator.rhs_evaluations},
                  {"jacobian_evaluations", s.integrator.jacobian_evaluations},
                  {"events_fired", s.events_fired},
                  {"roots_found", s.roots_found},
                  {"error_test_failures", s.integrator.error_test_failures},
                  {"nonlinear_convergence_failures", s.integrator.nonlinear_convergence_failures},
                  {"setup_seconds", s.setup_seconds},
                  {"integration_seconds", s.integration_seconds},
                  {"termination", s.termination}};
  return j.dump(1) + "\n";
}

namespace {

Status WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) return IoError("cannot write '" + path.string() + "'");
  f.write(text.data(), static_cast<std::streamsize>(text.size()));
  f.flush();
  if (!f) return IoError("writing '" + path.string() + "' failed");
  return Status::Ok();
}

}  // namespace

Status WriteOutput(const std::string& path, const std::string& text) {
  if (path.empty() || path == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    return Status::Ok();
  }
  namespace fs = std::filesystem;
  fs::path target(path);
  std::error_code ec;
  const fs::file_status st = fs::status(target, ec);
  if (!ec && fs::exists(st) && !fs::is_regular_file(st)) {
    if (fs::is_directory(st)) return IoError("cannot write '" + path + "': it is a directory");
    // A device, pipe or socket (/dev/null, /dev/stdout, a FIFO): written in
    // place. Renaming a file over it would replace it, /dev/null included.
    return WriteFile(target, text);
  }
  fs::path tmp = target;
  tmp += ".tmp";
  if (Status s = WriteFile(tmp, text); !s.ok()) {
    fs::remove(tmp, ec);  // no partial output left behind
    return s;
  }
  fs::rename(tmp, target, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return IoError("cannot move output into place at '" + path + "'");
  }
  return Status::Ok();
}

}  // namespace soma::cli
