// ImportFile dispatch and the helpers the format readers share.
#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/import/import.h"
#include "schema/schema.h"

namespace tink::engine::import {

const std::vector<std::string>& Formats() {
  static const std::vector<std::string> formats = {"openhands", "swe-agent", "otlp", "jsonl"};
  return formats;
}

Result<std::vector<ImportedRun>> ImportFile(const std::string& path, const Options& opt) {
  Result<std::vector<ImportedRun>> runs = Status::InvalidArgument("");
  if (opt.format == "openhands") {
    runs = ImportOpenHands(path, opt);
  } else if (opt.format == "swe-agent") {
    runs = ImportSweAgent(path, opt);
  } else if (opt.format == "otlp") {
    runs = ImportOtlp(path, opt);
  } else if (opt.format == "jsonl") {
    runs = ImportJsonl(path, opt);
  } else {
    return Status::InvalidArgument("unknown format '" + opt.format +
                                   "' (formats: openhands, swe-agent, otlp, jsonl)");
  }
  if (!runs.ok()) return runs.status();
  if (!opt.select.empty()) {
    std::vector<ImportedRun> picked;
    for (ImportedRun& r : *runs) {
      if (r.source_id == opt.select || r.run == opt.select) picked.push_back(std::move(r));
    }
    if (picked.empty()) {
      return Status::InvalidArgument(path + ": no run '" + opt.select + "' in the file");
    }
    runs = std::move(picked);
  }
  if ((!opt.run.empty() || !opt.base_dir.empty()) && runs->size() > 1) {
    return Status::InvalidArgument(path + ": holds " + std::to_string(runs->size()) +
                                   " runs; --run and --base need one (pick it with --select)");
  }
  // What the recording did that no event replays (a shell command that edits files, a span with
  // no path) is kept in the log too, as notes on the run, so a report can say why the canvas
  // differs from the recording.
  for (ImportedRun& r : *runs) {
    for (size_t i = 0; i < r.warnings.size(); ++i) {
      schema::EventInput e;
      e.id = r.run + "/import-warning/" + std::to_string(i + 1);
      e.stream = "run/" + r.run;
      e.type = "note";
      e.run = r.run;
      e.data_json = nlohmann::json({{"kind", "import_warning"}, {"text", r.warnings[i]}}).dump();
      r.events.push_back(std::move(e));
    }
  }
  return runs;
}

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError(path + ": " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Status::IOError(path + ": read failed");
  return ss.str();
}

std::string FileStem(const std::string& path) {
  size_t slash = path.find_last_of('/');
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  size_t dot = name.find('.');
  return dot == std::string::npos || dot == 0 ? name : name.substr(0, dot);
}

std::string RelativeTo(std::string_view path, std::string_view root) {
  while (root.size() > 1 && root.back() == '/') root.remove_suffix(1);
  if (!root.empty() && path.starts_with(root) &&
      (path.size() == root.size() || path[root.size()] == '/' || root == "/")) {
    std::string_view rest = path.substr(root.size());
    while (rest.starts_with("/")) rest.remove_prefix(1);
    return std::string(rest);
  }
  return std::string(path);
}

int64_t ParseSourceTime(std::string_view iso) {
  if (iso.empty()) return 0;
  std::string s(iso);
  // No zone designator after the time: the recording's times are UTC.
  size_t t = s.find('T');
  if (t != std::string::npos) {
    std::string_view tail = std::string_view(s).substr(t);
    if (tail.find('Z') == std::string_view::npos && tail.find('+') == std::string_view::npos &&
        tail.find('-') == std::string_view::npos) {
      s += 'Z';
    }
  }
  auto ns = schema::ParseTime(s);
  return ns.ok() ? *ns : 0;
}

}  // namespace tink::engine::import
