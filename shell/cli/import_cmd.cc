// tink import: recorded agent runs (OpenHands, SWE-agent, OTLP GenAI spans, our JSONL) appended as
// events. Each FILE is read whole, mapped (engine/import/import.h, docs/import.md) and appended as
// ONE atomic batch: a file is either wholly imported or not at all. Event ids are derived from the
// source, so importing a file again writes nothing ("already imported").
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "engine/engine.h"
#include "engine/import/import.h"
#include "schema/schema.h"
#include "shell/cli/commands.h"
#include "shell/cli/common.h"

namespace tink::cli {
namespace {

using nlohmann::json;

struct ImportFlags {
  std::string format, base, run, select, root;
  std::vector<std::string> files;
  bool json = false, dry_run = false;
};

// Paths the run's own file events touch (not the --base copies), in order of first appearance.
std::vector<std::string> FilesTouched(const engine::import::ImportedRun& r) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const schema::EventInput& e : r.events) {
    if (!e.type.starts_with("file.")) continue;
    json d = json::parse(e.data_json, nullptr, /*allow_exceptions=*/false);
    if (!d.is_object() || d.value("base", false)) continue;
    for (const char* key : {"path", "to"}) {
      auto it = d.find(key);
      if (it != d.end() && it->is_string() && seen.insert(it->get<std::string>()).second) {
        out.push_back(it->get<std::string>());
      }
    }
  }
  return out;
}

std::string Join(const std::vector<std::string>& v, const char* sep) {
  std::string s;
  for (const std::string& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

void PrintWarnings(const std::string& file, const std::vector<engine::import::ImportedRun>& runs) {
  for (const auto& r : runs) {
    for (const std::string& w : r.warnings) {
      std::fprintf(stderr, "tink import: %s: run %s: warning: %s\n", file.c_str(), r.run.c_str(),
                   w.c_str());
    }
  }
}

// Prints one file's outcome. lsns: one per event of all runs in order (empty for a dry run).
void Report(const std::string& file, const std::vector<engine::import::ImportedRun>& runs,
            const std::vector<log::Lsn>& lsns, bool duplicate, bool dry_run, bool as_json) {
  size_t total = 0;
  for (const auto& r : runs) total += r.events.size();
  if (as_json) {
    json out = {{"file", file}, {"duplicate", duplicate}, {"dry_run", dry_run}};
    json arr = json::array();
    size_t at = 0;
    for (const auto& r : runs) {
      json jr = {{"run", r.run}, {"source_id", r.source_id}, {"events", r.events.size()}};
      if (!lsns.empty() && !r.events.empty()) {
        jr["first_lsn"] = lsns[at];
        jr["last_lsn"] = lsns[at + r.events.size() - 1];
      }
      at += r.events.size();
      jr["files"] = FilesTouched(r);
      jr["warnings"] = r.warnings;
      jr["final_patch"] = r.final_patch.has_value();
      arr.push_back(std::move(jr));
    }
    out["runs"] = std::move(arr);
    std::printf("%s\n", out.dump(-1, ' ', false, json::error_handler_t::replace).c_str());
    return;
  }
  if (duplicate) {
    std::vector<std::string> ids;
    ids.reserve(runs.size());
    for (const auto& r : runs) ids.push_back(r.run);
    std::printf("%s: already imported (run %s, %zu events)\n", file.c_str(),
                Join(ids, ", ").c_str(), total);
    return;
  }
  size_t at = 0;
  for (const auto& r : runs) {
    std::string lsn;
    if (!lsns.empty() && !r.events.empty()) {
      lsn = ", LSN " + std::to_string(lsns[at]) + ".." +
            std::to_string(lsns[at + r.events.size() - 1]);
    }
    at += r.events.size();
    std::vector<std::string> files = FilesTouched(r);
    std::string warned;
    if (!r.warnings.empty()) {
      warned = "; " + std::to_string(r.warnings.size()) + " warning" +
               (r.warnings.size() == 1 ? "" : "s") + " (stderr)";
    }
    std::printf("%s: run %s: %zu events %s%s; files: %s%s\n", file.c_str(), r.run.c_str(),
                r.events.size(), dry_run ? "checked (dry run, nothing appended)" : "appended",
                lsn.c_str(), files.empty() ? "none" : Join(files, ", ").c_str(), warned.c_str());
  }
}

int Run(const GlobalOptions& global, const ImportFlags& f) {
  engine::import::Options opt;
  opt.format = f.format;
  opt.run = f.run;
  opt.base_dir = f.base;
  opt.select = f.select;
  opt.root = f.root;
  if (std::error_code ec; !f.base.empty() && !std::filesystem::is_directory(f.base, ec)) {
    // ec: a symlink loop or a path through a file (ELOOP, ENOTDIR) is not a directory either.
    return Fail("import", Status::InvalidArgument("--base " + f.base + ": not a directory" +
                                                  (ec ? " (" + ec.message() + ")" : "")));
  }

  std::unique_ptr<engine::Engine> eng;
  size_t imported = 0;  // files appended (or found already imported) so far
  // A failure names the file; files before it stay imported, and the message says so.
  auto fail = [&](const std::string& file, const Status& s) {
    int code = Fail("import", s);
    if (imported > 0) {
      std::fprintf(stderr,
                   "tink import: nothing of %s was stored; the %zu file%s before it stay%s "
                   "imported\n",
                   file.c_str(), imported, imported == 1 ? "" : "s", imported == 1 ? "s" : "");
    }
    if (eng) (void)eng->Close();
    return code;
  };

  for (const std::string& file : f.files) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) {
      const bool odd = ec && ec != std::errc::no_such_file_or_directory;  // ELOOP, ENOTDIR
      return fail(file,
                  Status::InvalidArgument(file + ": " + (odd ? ec.message() : "no such file")));
    }
    auto runs = engine::import::ImportFile(file, opt);
    if (!runs.ok()) return fail(file, runs.status());
    std::vector<schema::EventInput> events;
    for (auto& r : *runs) {
      // Moved, not copied (a large file's events are most of the memory), and moved back after
      // the append for the report.
      events.insert(events.end(), std::make_move_iterator(r.events.begin()),
                    std::make_move_iterator(r.events.end()));
    }
    auto give_back = [&] {
      for (size_t at = 0; auto& r : *runs) {
        for (schema::EventInput& e : r.events) e = std::move(events[at++]);
      }
    };
    if (events.empty()) return fail(file, Status::InvalidArgument(file + ": no events"));
    if (f.dry_run) {
      for (size_t i = 0; i < events.size(); ++i) {
        auto enc = schema::EncodeEvent(events[i]);
        if (!enc.ok()) {
          return fail(file, enc.status().WithContext(file + ": event " + std::to_string(i + 1) +
                                                     " (id " + events[i].id + ")"));
        }
      }
      give_back();
      if (!f.json) PrintWarnings(file, *runs);
      Report(file, *runs, {}, false, true, f.json);
      continue;
    }
    if (!eng) {
      auto opened = engine::Engine::Open(global.StorePath(), engine::EngineOptions{});
      if (!opened.ok()) return fail(file, opened.status());
      eng = std::move(opened).value();
      if (eng->recovery().torn_tail) {
        std::fprintf(stderr, "tink import: recovered: %s\n", eng->recovery().ToString().c_str());
      }
    }
    auto res = eng->Append(events);
    give_back();
    if (!res.ok()) return fail(file, res.status().WithContext(file));
    ++imported;
    if (!res->duplicate && !f.json) PrintWarnings(file, *runs);
    Report(file, *runs, res->lsns, res->duplicate, false, f.json);
  }
  if (eng) {
    Status closed = eng->Close();
    if (!closed.ok()) return Fail("import", closed);
  }
  return 0;
}

}  // namespace

void SetupImport(CLI::App* cmd, GlobalOptions* global, RunFn* run) {
  auto f = std::make_shared<ImportFlags>();
  AddStoreOption(cmd, global);
  cmd->add_option("--format", f->format, "Format of the files: openhands, swe-agent, otlp, jsonl")
      ->required()
      ->check(CLI::IsMember(engine::import::Formats()));
  cmd->add_option("files", f->files, "Recording files to import")->required();
  cmd->add_option("--base", f->base,
                  "Directory with the repository's files before the run (imported first as "
                  "file.write with base: true, so edits become diffs); one run only");
  cmd->add_option("--run", f->run, "Run id to use instead of the source's; one run only");
  cmd->add_option("--select", f->select,
                  "Import only the run with this source id (e.g. an OpenHands instance_id)");
  cmd->add_option("--root", f->root,
                  "The repository root inside the recording (default: guessed per format, e.g. "
                  "/workspace/<owner>__<repo>__<version> for OpenHands evaluation output)");
  cmd->add_flag("--json", f->json, "Print one JSON object per file instead of text lines");
  cmd->add_flag("--dry-run", f->dry_run, "Read, map and check every event; append nothing");
  cmd->footer(
      "Formats:\n"
      "  openhands  OpenHands evaluation output (JSON Lines, one run per record: instance_id,\n"
      "             instruction, history, error, test_result.git_patch) or a JSON list of\n"
      "             OpenHands events (one run named after the file)\n"
      "  swe-agent  a SWE-agent .traj file (one run)\n"
      "  otlp       OpenTelemetry GenAI spans as JSON (one run per trace)\n"
      "  jsonl      Tinkerbell's own envelopes, one per line, as `tink append` reads them;\n"
      "             grouped by their \"run\"; ids kept (missing ones become <file stem>/<line>)\n"
      "Each FILE is appended as one atomic batch. Ids come from the source, so importing a file\n"
      "again writes nothing and prints \"already imported\". Edits become file events only when\n"
      "the recording shows they took effect; shell commands are never replayed (a warning names\n"
      "the ones that change files). A bad file exits 2 with nothing of it stored; files before\n"
      "it stay imported. See docs/import.md.");
  *run = [global, f] { return Run(*global, *f); };
}

}  // namespace tink::cli
