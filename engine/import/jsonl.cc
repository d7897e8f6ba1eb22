// Our own JSONL envelopes (exactly what `tink append` reads from stdin), grouped into runs.
//
// Each non-blank line is one envelope, checked as `tink append` checks it
// (schema::ParseEnvelopeJson and schema::EncodeEvent). Events keep their order and their ids; an
// event without an id gets
// "<file stem>/<line>", so importing the same file again is a no-op.
#include <map>
#include <unordered_map>

#include "engine/import/import.h"
#include "schema/schema.h"

namespace tink::engine::import {

namespace {

std::string Where(const std::string& path, size_t record, size_t line) {
  return path + ": record " + std::to_string(record) + " (line " + std::to_string(line) + ")";
}

// "run/<from>" and "run/<from>/..." become "run/<to>...".
std::string RewriteStream(const std::string& stream, const std::string& from,
                          const std::string& to) {
  const std::string prefix = "run/" + from;
  if (from.empty() || !stream.starts_with(prefix)) return stream;
  if (stream.size() != prefix.size() && stream[prefix.size()] != '/') return stream;
  return "run/" + to + stream.substr(prefix.size());
}

}  // namespace

Result<std::vector<ImportedRun>> ImportJsonl(const std::string& path, const Options& opt) {
  if (!opt.base_dir.empty()) {
    return Status::InvalidArgument(path +
                                   ": --base does not apply to jsonl (the file is events "
                                   "already; add file.write events with base: true instead)");
  }
  if (!opt.root.empty()) {
    return Status::InvalidArgument(path +
                                   ": --root does not apply to jsonl (paths are already "
                                   "relative to the run's root)");
  }
  ASSIGN_OR_RETURN(std::string text, ReadWholeFile(path));
  const std::string stem = FileStem(path);
  std::vector<ImportedRun> runs;
  std::map<std::string, size_t, std::less<>> run_index;
  std::unordered_map<std::string, size_t> id_record;  // id -> record that first used it
  size_t record = 0, line = 0;
  for (size_t i = 0; i < text.size();) {
    size_t end = text.find('\n', i);
    if (end == std::string::npos) end = text.size();
    std::string_view ln(text.data() + i, end - i);
    ++line;
    i = end + 1;
    if (!ln.empty() && ln.back() == '\r') ln.remove_suffix(1);
    if (ln.find_first_not_of(" \t") == std::string_view::npos) continue;
    ++record;
    Result<schema::EventInput> e = schema::ParseEnvelopeJson(ln);
    if (e.ok()) {
      // Type and data are checked here as `tink append` checks them, so a bad line fails the
      // file before anything is appended.
      Result<std::string> enc = schema::EncodeEvent(*e);
      if (!enc.ok()) e = enc.status();
    }
    if (!e.ok()) return e.status().WithContext(Where(path, record, line));
    schema::EventInput ev = std::move(e).value();
    if (ev.id.empty()) ev.id = stem + "/" + std::to_string(line);
    auto [seen, fresh] = id_record.emplace(ev.id, record);
    if (!fresh) {
      return Status::InvalidArgument(Where(path, record, line) + ": field 'id': '" + ev.id +
                                     "' repeats the id of record " + std::to_string(seen->second));
    }
    auto [it, added] = run_index.emplace(ev.run, runs.size());
    if (added) {
      ImportedRun r;
      r.run = ev.run;
      r.source_id = ev.run;
      runs.push_back(std::move(r));
    }
    runs[it->second].events.push_back(std::move(ev));
  }
  if (runs.empty()) return Status::InvalidArgument(path + ": no events (empty file)");

  if (!opt.select.empty()) {
    auto it = run_index.find(opt.select);
    if (it == run_index.end()) {
      std::string names;
      for (const ImportedRun& r : runs) names += (names.empty() ? "'" : ", '") + r.run + "'";
      return Status::InvalidArgument(path + ": no run '" + opt.select +
                                     "' in the file (runs: " + names + ")");
    }
    ImportedRun picked = std::move(runs[it->second]);
    runs.clear();
    runs.push_back(std::move(picked));
  }
  if (!opt.run.empty()) {
    if (runs.size() > 1) {
      return Status::InvalidArgument(path + ": holds " + std::to_string(runs.size()) +
                                     " runs; --run needs one (pick it with --select)");
    }
    ImportedRun& r = runs.front();
    for (schema::EventInput& ev : r.events) {
      ev.stream = RewriteStream(ev.stream, r.run, opt.run);
      ev.run = opt.run;
    }
    r.run = opt.run;
  }
  return runs;
}

}  // namespace tink::engine::import
