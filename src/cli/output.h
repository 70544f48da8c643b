#pragma once
// Writing command results: whole-or-nothing file output (temporary file then
// rename) so that a failed command never leaves partial output.

#include <string>

#include "core/status.h"
#include "sim/options.h"

namespace soma::cli {

// CSV: header "time,ID,..." then one row per output time.
std::string FormatCsv(const sim::SimulationResult& r);

// A number as the CSV writers spell it: 15 significant digits, "NaN" for
// any NaN (printf gives "nan" or "-nan"), and 0 for a negative zero (an
// artefact of signs, e.g. -k * 0, that "%g" prints as "-0").
void AppendCsvNumber(std::string& out, double v);
// JSON: {"columns": [...], "rows": [[...], ...], "summary": {...}}.
std::string FormatJson(const sim::SimulationResult& r);

// Writes `text` to `path` atomically (a temporary file renamed over it), or
// to stdout when path is empty or "-". A path that is a device, pipe or
// socket (/dev/null, /dev/stdout, a FIFO) is written in place, never
// replaced; a directory is an error.
Status WriteOutput(const std::string& path, const std::string& text);

}  // namespace soma::cli
