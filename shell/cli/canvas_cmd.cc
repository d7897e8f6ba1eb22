// tink canvas: the files each run's agent wrote (the canvas projection, docs/canvas.md) as of any
// point: list, read, diff, blame, export as files or as a git history, and verify against a
// recorded final patch.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "engine/canvas_git.h"
#include "engine/engine.h"
#include "projections/canvas.h"
#include "schema/schema.h"
#include "shell/cli/commands.h"
#include "shell/cli/common.h"
#include "shell/cli/patch_compare.h"

namespace tink::cli {
namespace {

using projections::CanvasReader;
using projections::Lsn;

struct CanvasFlags {
  std::string run, as_of, from, to, path, dir, out, expect;
  bool json = false, stat = false;
};

// An open store and one snapshot of its projections, as `tink tasks` opens it: read-only, never
// taking the writer's lock (beside a writer the snapshot lags it by about a second).
struct Session {
  std::unique_ptr<engine::Engine> engine;
  std::unique_ptr<projections::StateReader> reader;
  std::unique_ptr<CanvasReader> canvas;
};

Result<Session> OpenSession(const GlobalOptions& global) {
  Session s;
  ASSIGN_OR_RETURN(s.engine, OpenForReading("canvas", global.StorePath()));
  ASSIGN_OR_RETURN(s.reader, s.engine->NewReader());
  s.canvas = std::make_unique<CanvasReader>(*s.reader);
  return s;
}

// --as-of/--from/--to as an LSN of the canvas; an LSN past what it has applied is an error.
Result<Lsn> ResolvePoint(CanvasReader& canvas, const std::string& text, const char* flag) {
  auto at = ParseAsOf(text);
  if (!at.ok()) return at.status().WithContext(flag);
  if (at->kind == projections::AsOf::Kind::kLsn && at->value > canvas.head()) {
    return Status::InvalidArgument(std::string(flag) + ": LSN " + std::to_string(at->value) +
                                   " is past the canvas's last LSN " +
                                   std::to_string(canvas.head()));
  }
  return canvas.Resolve(*at);
}

Status CheckRun(CanvasReader& canvas, const std::string& run, Lsn lsn) {
  if (run.empty()) return Status::InvalidArgument("--run is required");
  ASSIGN_OR_RETURN(std::vector<std::string> runs, canvas.Runs(lsn));
  if (std::find(runs.begin(), runs.end(), run) == runs.end()) {
    return Status::NotFound("run '" + run + "' has no canvas (no file events) as of LSN " +
                            std::to_string(lsn));
  }
  return Status::Ok();
}

// The common start of every subcommand: open, resolve --as-of (or `point`), check --run (not
// for anomalies: a run whose every file event was refused has anomalies and no canvas).
Result<Lsn> Prepare(Session* s, const GlobalOptions& global, const CanvasFlags& f,
                    const std::string& point, const char* flag, bool need_run = true) {
  ASSIGN_OR_RETURN(*s, OpenSession(global));
  ASSIGN_OR_RETURN(Lsn lsn, ResolvePoint(*s->canvas, point, flag));
  if (need_run) RETURN_IF_ERROR(CheckRun(*s->canvas, f.run, lsn));
  return lsn;
}

void PrintJson(const nlohmann::ordered_json& j) { std::printf("%s\n", j.dump().c_str()); }

int Ls(const GlobalOptions& g, const CanvasFlags& f) {
  Session s;
  auto lsn = Prepare(&s, g, f, f.as_of, "--as-of");
  if (!lsn.ok()) return Fail("canvas ls", lsn.status());
  auto tree = s.canvas->Tree(f.run, *lsn);
  if (!tree.ok()) return Fail("canvas ls", tree.status());
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  if (!f.json) std::printf("%-6s %10s %8s %-16s %s\n", "MODE", "SIZE", "LSN", "TASK", "PATH");
  for (const auto& v : *tree) {
    if (f.json) {
      out.push_back({{"path", v.path},
                     {"mode", v.mode},
                     {"size", v.size},
                     {"lsn", v.lsn},
                     {"task", v.task},
                     {"type", v.type},
                     {"base", v.base}});
    } else {
      std::printf("%-6s %10llu %8llu %-16s %s\n", v.mode.c_str(),
                  static_cast<unsigned long long>(v.size), static_cast<unsigned long long>(v.lsn),
                  v.task.c_str(), v.path.c_str());
    }
  }
  if (f.json) PrintJson(out);
  return 0;
}

int Cat(const GlobalOptions& g, const CanvasFlags& f) {
  Session s;
  auto lsn = Prepare(&s, g, f, f.as_of, "--as-of");
  if (!lsn.ok()) return Fail("canvas cat", lsn.status());
  auto content = s.canvas->ReadFile(f.run, f.path, *lsn);
  if (!content.ok()) return Fail("canvas cat", content.status());
  if (!content->has_value()) {
    return Fail("canvas cat", Status::NotFound("no file '" + f.path + "' in run '" + f.run +
                                               "' as of LSN " + std::to_string(*lsn)));
  }
  std::fwrite((*content)->data(), 1, (*content)->size(), stdout);
  return 0;
}

// `git diff --stat`-like summary of a diff.
void PrintStat(const std::string& diff) {
  std::vector<PatchFile> files = ParsePatch(diff);
  uint64_t total_add = 0, total_del = 0;
  size_t width = 0;
  for (const PatchFile& pf : files) width = std::max(width, pf.path.size());
  for (const PatchFile& pf : files) {
    uint64_t add = 0, del = 0;
    for (const PatchHunk& h : pf.hunks) {
      for (const std::string& l : h.lines) {
        add += l[0] == '+';
        del += l[0] == '-';
      }
    }
    total_add += add;
    total_del += del;
    std::printf(" %-*s | %5llu %s%s\n", static_cast<int>(width), pf.path.c_str(),
                static_cast<unsigned long long>(add) + static_cast<unsigned long long>(del),
                std::string(std::min<uint64_t>(add, 40), '+').c_str(),
                std::string(std::min<uint64_t>(del, 40), '-').c_str());
  }
  std::printf(" %zu file%s changed, %llu insertion%s(+), %llu deletion%s(-)\n", files.size(),
              files.size() == 1 ? "" : "s", static_cast<unsigned long long>(total_add),
              total_add == 1 ? "" : "s", static_cast<unsigned long long>(total_del),
              total_del == 1 ? "" : "s");
}

int Diff(const GlobalOptions& g, const CanvasFlags& f) {
  Session s;
  auto to = Prepare(&s, g, f, f.to, "--to");
  if (!to.ok()) return Fail("canvas diff", to.status());
  Result<Lsn> from = Lsn{0};
  if (f.from.empty()) {
    from = s.canvas->BasePoint(f.run, *to);
  } else {
    from = ResolvePoint(*s.canvas, f.from, "--from");
  }
  if (!from.ok()) return Fail("canvas diff", from.status());
  auto diff = s.canvas->Diff(f.run, *from, *to);
  if (!diff.ok()) return Fail("canvas diff", diff.status());
  if (f.stat) {
    PrintStat(*diff);
  } else {
    std::fwrite(diff->data(), 1, diff->size(), stdout);
  }
  return 0;
}

int Blame(const GlobalOptions& g, const CanvasFlags& f) {
  Session s;
  auto lsn = Prepare(&s, g, f, f.as_of, "--as-of");
  if (!lsn.ok()) return Fail("canvas blame", lsn.status());
  auto lines = s.canvas->Blame(f.run, f.path, *lsn);
  if (!lines.ok()) return Fail("canvas blame", lines.status());
  if (f.json) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& l : *lines) {
      out.push_back({{"line", l.line},
                     {"lsn", l.lsn},
                     {"task", l.task},
                     {"type", l.type},
                     {"path", l.path},
                     {"text", l.text}});
    }
    PrintJson(out);
    return 0;
  }
  size_t wl = 1, wt = 1, wy = 1;
  for (const auto& l : *lines) {
    wl = std::max(wl, std::to_string(l.lsn).size());
    wt = std::max(wt, l.task.size());
    wy = std::max(wy, l.type.size());
  }
  for (const auto& l : *lines) {
    std::printf("%*llu %-*s %-*s | %s\n", static_cast<int>(wl),
                static_cast<unsigned long long>(l.lsn), static_cast<int>(wt), l.task.c_str(),
                static_cast<int>(wy), l.type.c_str(), l.text.c_str());
  }
  return 0;
}

int Export(const GlobalOptions& g, const CanvasFlags& f) {
  Session s;
  auto lsn = Prepare(&s, g, f, f.as_of, "--as-of");
  if (!lsn.ok()) return Fail("canvas export", lsn.status());
  auto res = engine::ExportTree(*s.reader, f.run, *lsn, f.dir);
  if (!res.ok()) return Fail("canvas export", res.status());
  for (const std::string& skip : res->skipped) {
    std::fprintf(stderr, "tink canvas export: skipped %s\n", skip.c_str());
  }
  std::printf("exported %llu file%s (%s) of run %s as of LSN %llu to %s%s\n",
              static_cast<unsigned long long>(res->files), res->files == 1 ? "" : "s",
              HumanBytes(res->bytes).c_str(), f.run.c_str(),
              static_cast<unsigned long long>(res->lsn), f.dir.c_str(),
              res->replaced ? " (replacing the earlier export)" : "");
  return 0;
}

int Git(const GlobalOptions& g, const CanvasFlags& f) {
  Session s;
  auto lsn = Prepare(&s, g, f, f.to, "--to");
  if (!lsn.ok()) return Fail("canvas git", lsn.status());
  engine::GitExportOptions opts;
  opts.to = *lsn;
  auto res = engine::ExportGit(*s.reader, f.run, f.out, opts);
  if (!res.ok()) return Fail("canvas git", res.status());
  for (const std::string& skip : res->skipped) {
    std::fprintf(stderr, "tink canvas git: skipped %s\n", skip.c_str());
  }
  if (f.json) {
    PrintJson({{"run", f.run},
               {"dir", f.out},
               {"created", res->created},
               {"up_to_date", res->up_to_date},
               {"commits_added", res->commits_added},
               {"from_lsn", res->from},
               {"to_lsn", res->to},
               {"base_lsn", res->base_lsn},
               {"head", res->head},
               {"base_commit", res->base_commit},
               {"skipped", res->skipped}});
  } else if (res->up_to_date) {
    std::printf("%s is up to date: run %s at LSN %llu, HEAD %s\n", f.out.c_str(), f.run.c_str(),
                static_cast<unsigned long long>(res->to), res->head.c_str());
  } else {
    std::printf("%s %llu commit%s to %s (run %s, changes after LSN %llu up to %llu), HEAD %s\n",
                res->created ? "wrote" : "added",
                static_cast<unsigned long long>(res->commits_added),
                res->commits_added == 1 ? "" : "s", f.out.c_str(), f.run.c_str(),
                static_cast<unsigned long long>(res->from),
                static_cast<unsigned long long>(res->to), res->head.c_str());
  }
  return 0;
}

int Verify(const GlobalOptions& g, const CanvasFlags& f) {
  Session s;
  auto lsn = Prepare(&s, g, f, "", "--as-of");
  if (!lsn.ok()) return Fail("canvas verify", lsn.status());
  std::FILE* in = std::fopen(f.expect.c_str(), "rb");
  if (in == nullptr) {
    return Fail("canvas verify", Status::InvalidArgument("cannot read --expect " + f.expect));
  }
  std::string expected;
  char buf[65536];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, in)) > 0;) expected.append(buf, n);
  std::fclose(in);
  auto base = s.canvas->BasePoint(f.run, *lsn);
  if (!base.ok()) return Fail("canvas verify", base.status());
  auto diff = s.canvas->Diff(f.run, *base, *lsn);
  if (!diff.ok()) return Fail("canvas verify", diff.status());

  std::vector<PatchFile> want = ParsePatch(NormalizePatch(expected));
  std::vector<PatchFile> have = ParsePatch(NormalizePatch(*diff));
  if (want.empty() && !NormalizePatch(expected).empty()) {
    return Fail("canvas verify", Status::InvalidArgument(f.expect + " holds no file diff"));
  }
  PatchDifference d = ComparePatches(want, have);
  if (d.equal) {
    size_t hunks = 0;
    for (const PatchFile& pf : want) hunks += pf.hunks.size();
    std::printf("canvas matches %s (%zu file%s, %zu hunk%s)\n", f.expect.c_str(), want.size(),
                want.size() == 1 ? "" : "s", hunks, hunks == 1 ? "" : "s");
    return 0;
  }
  std::printf("canvas of run %s (base LSN %llu to LSN %llu) differs from %s\n", f.run.c_str(),
              static_cast<unsigned long long>(*base), static_cast<unsigned long long>(*lsn),
              f.expect.c_str());
  std::printf("%s: %s\n", d.path.c_str(), d.what.c_str());
  if (!d.expected_line.empty() || !d.actual_line.empty()) {
    std::printf("first differing line:\n  expected: %s\n  canvas:   %s\n", d.expected_line.c_str(),
                d.actual_line.c_str());
  }
  std::printf("--- expected (%s)\n%s", f.expect.c_str(),
              d.expected.empty() ? "(nothing)\n" : d.expected.c_str());
  std::printf("+++ canvas\n%s", d.actual.empty() ? "(nothing)\n" : d.actual.c_str());
  std::fprintf(stderr, "tink canvas verify: %s differs (%s)\n", d.path.c_str(), d.what.c_str());
  return static_cast<int>(Exit::kCorruption);  // "differs", as tink replay --check
}

int Anomalies(const GlobalOptions& g, const CanvasFlags& f) {
  Session s;
  auto lsn = Prepare(&s, g, f, f.as_of, "--as-of", /*need_run=*/false);
  if (!lsn.ok()) return Fail("canvas anomalies", lsn.status());
  auto an =
      s.canvas->Anomalies(f.run.empty() ? std::nullopt : std::optional<std::string>(f.run), *lsn);
  if (!an.ok()) return Fail("canvas anomalies", an.status());
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto& a : *an) {
    if (f.json) {
      out.push_back({{"lsn", a.lsn},
                     {"run", a.run},
                     {"task", a.task},
                     {"type", a.type},
                     {"path", a.path},
                     {"reason", a.reason}});
    } else {
      std::printf("%-7llu %-20s %-12s %-12s %-24s %s\n", static_cast<unsigned long long>(a.lsn),
                  a.run.c_str(), a.task.c_str(), a.type.c_str(), a.path.c_str(), a.reason.c_str());
    }
  }
  if (f.json) PrintJson(out);
  return 0;
}

int Runs(const GlobalOptions& g, const CanvasFlags& f) {
  Session s;
  auto lsn = Prepare(&s, g, f, f.as_of, "--as-of", /*need_run=*/false);
  if (!lsn.ok()) return Fail("canvas runs", lsn.status());
  auto runs = s.canvas->Runs(*lsn);
  if (!runs.ok()) return Fail("canvas runs", runs.status());
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  if (!f.json) std::printf("%-32s %8s %6s %8s\n", "RUN", "BASE", "FILES", "CHANGES");
  for (const std::string& run : *runs) {
    auto base = s.canvas->BasePoint(run, *lsn);
    auto tree = s.canvas->Tree(run, *lsn);
    auto changes = s.canvas->Changes(run, 0, *lsn);
    if (!base.ok()) return Fail("canvas runs", base.status());
    if (!tree.ok()) return Fail("canvas runs", tree.status());
    if (!changes.ok()) return Fail("canvas runs", changes.status());
    if (f.json) {
      out.push_back({{"run", run},
                     {"base_lsn", *base},
                     {"files", tree->size()},
                     {"changes", changes->size()}});
    } else {
      std::printf("%-32s %8llu %6zu %8zu\n", run.c_str(), static_cast<unsigned long long>(*base),
                  tree->size(), changes->size());
    }
  }
  if (f.json) PrintJson(out);
  return 0;
}

constexpr const char* kAsOfHelp =
    "An LSN, an ISO 8601 time (the last event recorded at or before it), or now (default)";

CLI::App* Sub(CLI::App* cmd, GlobalOptions* global, const char* name, const char* help) {
  CLI::App* sub = cmd->add_subcommand(name, help);
  AddStoreOption(sub, global);
  return sub;
}

}  // namespace

void SetupCanvas(CLI::App* cmd, GlobalOptions* global, RunFn* run) {
  auto f = std::make_shared<CanvasFlags>();
  AddStoreOption(cmd, global);
  cmd->require_subcommand(1);
  cmd->footer(
      "The canvas is the tree of files each run's agent wrote, folded from file.write/patch/"
      "delete/rename events (docs/canvas.md). Exit codes: 0 ok, 2 unknown run, path or LSN or a "
      "directory that may not be written, 3 verify found a difference.");

  CLI::App* ls = Sub(cmd, global, "ls", "Files of a run as of a point: mode, size, LSN, task");
  ls->add_option("--run", f->run, "The run")->required();
  ls->add_option("--as-of", f->as_of, kAsOfHelp);
  ls->add_flag("--json", f->json, "One JSON array of {path, mode, size, lsn, task, type, base}");

  CLI::App* cat = Sub(cmd, global, "cat", "Print a file's content as of a point");
  cat->add_option("--run", f->run, "The run")->required();
  cat->add_option("path", f->path, "Path relative to the run's root")->required();
  cat->add_option("--as-of", f->as_of, kAsOfHelp);

  CLI::App* diff = Sub(cmd, global, "diff",
                       "git diff between two points (default: the run's base point to now)");
  diff->add_option("--run", f->run, "The run")->required();
  diff->add_option("--from", f->from, "From this point (default: the run's base point)");
  diff->add_option("--to", f->to, "To this point (default: now)");
  diff->add_flag("--stat", f->stat, "Changed files with added/removed line counts instead");
  diff->footer("Exit 0 whether or not there are differences (as git diff without --exit-code).");

  CLI::App* blame =
      Sub(cmd, global, "blame", "Which event (LSN, task, type) last wrote each line of a file");
  blame->add_option("--run", f->run, "The run")->required();
  blame->add_option("path", f->path, "Path relative to the run's root")->required();
  blame->add_option("--as-of", f->as_of, kAsOfHelp);
  blame->add_flag("--json", f->json, "One JSON array of {line, lsn, task, type, path, text}");

  CLI::App* exp = Sub(cmd, global, "export", "Write the run's files as of a point into DIR");
  exp->add_option("--run", f->run, "The run")->required();
  exp->add_option("--as-of", f->as_of, kAsOfHelp);
  exp->add_option("dir", f->dir, "Directory: new, empty, or an earlier export (replaced)")
      ->required();
  exp->footer(std::string("DIR gets a ") + engine::kTreeMarker +
              " file naming the run and LSN; a non-empty DIR without one is refused (exit 2).");

  CLI::App* git = Sub(cmd, global, "git",
                      "Export the run as a git repository: a base commit, then one commit per "
                      "file-changing event (incremental)");
  git->add_option("--run", f->run, "The run")->required();
  git->add_option("--out", f->out,
                  "Repository directory: new, empty, or an earlier export of "
                  "this run (only new changes are added)")
      ->required();
  git->add_option("--to", f->to, "Export changes up to this point (default: now)");
  git->add_flag("--json", f->json, "One JSON object: commits added, HEAD, LSN range");
  git->footer(
      "refs/heads/main (HEAD) has one commit per change, authored by the task at the event's "
      "time; refs/tink/base is the base commit, so `git diff refs/tink/base HEAD` is `tink "
      "canvas diff`.");

  CLI::App* verify = Sub(cmd, global, "verify",
                         "Compare the run's diff from its base with a recorded final patch");
  verify->add_option("--run", f->run, "The run")->required();
  verify->add_option("--expect", f->expect, "The recorded patch (git diff format)")->required();
  verify->footer(
      "Line endings, a leading empty line, a missing final newline, abbreviated blob ids and hunk "
      "context text are normalised (docs/canvas.md). Exit 0 equal; 3 different, printing the "
      "first differing file and hunk from both sides.");

  CLI::App* anomalies = Sub(cmd, global, "anomalies",
                            "File events the canvas refused: patches that do not apply, bad "
                            "paths, deletes of missing files");
  anomalies->add_option("--run", f->run, "Only this run");
  anomalies->add_option("--as-of", f->as_of, kAsOfHelp);
  anomalies->add_flag("--json", f->json, "One JSON array of {lsn, run, task, type, path, reason}");

  CLI::App* runs = Sub(cmd, global, "runs", "Runs that have a canvas, with base point and counts");
  runs->add_option("--as-of", f->as_of, kAsOfHelp);
  runs->add_flag("--json", f->json, "One JSON array of {run, base_lsn, files, changes}");

  *run = [global, f, ls, cat, diff, blame, exp, git, verify, anomalies, runs]() -> int {
    if (ls->parsed()) return Ls(*global, *f);
    if (cat->parsed()) return Cat(*global, *f);
    if (diff->parsed()) return Diff(*global, *f);
    if (blame->parsed()) return Blame(*global, *f);
    if (exp->parsed()) return Export(*global, *f);
    if (git->parsed()) return Git(*global, *f);
    if (verify->parsed()) return Verify(*global, *f);
    if (anomalies->parsed()) return Anomalies(*global, *f);
    if (runs->parsed()) return Runs(*global, *f);
    return static_cast<int>(Exit::kUsage);
  };
}

}  // namespace tink::cli
