// TSV tables and the YAML file of a PEtab problem.

#include <fstream>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "formats/petab/petab.h"

namespace soma::formats::petab {

int Table::Column(std::string_view name) const {
  for (size_t i = 0; i < columns.size(); ++i)
    if (columns[i] == name) return static_cast<int>(i);
  return -1;
}

const std::string& Table::Cell(size_t row, std::string_view column) const {
  static const std::string kEmpty;
  const int c = Column(column);
  if (c < 0 || static_cast<size_t>(c) >= rows[row].size()) return kEmpty;
  return rows[row][c];
}

namespace {

std::vector<std::string> SplitTabs(const std::string& line) {
  std::vector<std::string> cells;
  std::string cell;
  std::istringstream in(line);
  while (std::getline(in, cell, '\t')) cells.push_back(cell);
  if (!line.empty() && line.back() == '\t') cells.emplace_back();
  for (std::string& c : cells) {
    while (!c.empty() && (c.back() == ' ' || c.back() == '\r')) c.pop_back();
    size_t b = 0;
    while (b < c.size() && c[b] == ' ') ++b;
    c.erase(0, b);
  }
  return cells;
}

}  // namespace

Result<Table> ReadTsv(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return NotFound("PEtab table " + path.string() + " does not exist");
  std::ifstream in(path);
  if (!in) return IoError("cannot read " + path.string());
  Table t;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line_no == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);  // UTF-8 byte order mark
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    std::vector<std::string> cells = SplitTabs(line);
    if (t.columns.empty()) {
      t.columns = std::move(cells);
      continue;
    }
    if (cells.size() > t.columns.size())
      return ParseError(path.string() + ":" + std::to_string(line_no) + ": " + std::to_string(cells.size()) +
                        " cells, but the header has " + std::to_string(t.columns.size()) + " columns");
    cells.resize(t.columns.size());
    t.rows.push_back(std::move(cells));
  }
  if (t.columns.empty()) return ParseError(path.string() + ": empty table (no header row)");
  return t;
}

Status WriteTsv(const std::filesystem::path& path, const Table& table) {
  std::ofstream out(path);
  if (!out) return IoError("cannot write " + path.string());
  auto write_row = [&](const std::vector<std::string>& cells) {
    for (size_t i = 0; i < cells.size(); ++i) out << (i ? "\t" : "") << cells[i];
    out << '\n';
  };
  write_row(table.columns);
  for (const auto& r : table.rows) write_row(r);
  out.close();
  if (!out) return IoError("writing " + path.string() + " failed");
  return Status::Ok();
}

Result<PetabFiles> ReadPetabYaml(const std::filesystem::path& yaml) {
  std::error_code ec;
  if (!std::filesystem::exists(yaml, ec)) return NotFound("PEtab file " + yaml.string() + " does not exist");
  const std::filesystem::path dir = std::filesystem::absolute(yaml).parent_path();
  PetabFiles f;
  f.yaml = std::filesystem::absolute(yaml);
  try {
    YAML::Node root = YAML::LoadFile(yaml.string());
    if (!root.IsMap()) return ParseError(yaml.string() + ": expected a YAML mapping at the top");
    const std::string version = root["format_version"] ? root["format_version"].as<std::string>() : "";
    if (version != "1" && version != "1.0.0" && version != "1.0")
      return Unsupported(yaml.string() + ": format_version '" + version + "' (only PEtab v1 is supported)");
    if (!root["parameter_file"]) return ParseError(yaml.string() + ": no parameter_file");
    if (root["parameter_file"].IsSequence()) {
      if (root["parameter_file"].size() != 1)
        return Unsupported(yaml.string() + ": several parameter files");
      f.parameters = dir / root["parameter_file"][0].as<std::string>();
    } else {
      f.parameters = dir / root["parameter_file"].as<std::string>();
    }
    const YAML::Node problems = root["problems"];
    if (!problems || !problems.IsSequence() || problems.size() == 0)
      return ParseError(yaml.string() + ": no problems");
    if (problems.size() != 1) return Unsupported(yaml.string() + ": " + std::to_string(problems.size()) +
                                                 " problems in one file (one is supported)");
    const YAML::Node p = problems[0];
    auto list = [&](const char* key, std::vector<std::filesystem::path>& out) -> Status {
      if (!p[key]) return ParseError(yaml.string() + ": problem has no " + key);
      for (const auto& n : p[key]) out.push_back(dir / n.as<std::string>());
      if (out.empty()) return ParseError(yaml.string() + ": " + key + " is empty");
      return Status::Ok();
    };
    std::vector<std::filesystem::path> sbml;
    const char* model_key = p["sbml_files"] ? "sbml_files" : "model_files";
    if (!p[model_key]) return ParseError(yaml.string() + ": problem has no sbml_files");
    for (const auto& n : p[model_key]) sbml.push_back(dir / n.as<std::string>());
    if (sbml.size() != 1)
      return Unsupported(yaml.string() + ": " + std::to_string(sbml.size()) + " SBML files (one is supported)");
    f.sbml = sbml[0];
    SOMA_RETURN_IF_ERROR(list("condition_files", f.conditions));
    SOMA_RETURN_IF_ERROR(list("measurement_files", f.measurements));
    SOMA_RETURN_IF_ERROR(list("observable_files", f.observables));
  } catch (const YAML::Exception& e) {
    return ParseError(yaml.string() + ": " + e.what());
  }
  return f;
}

}  // namespace soma::formats::petab
