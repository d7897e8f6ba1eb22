// tink log: events in LSN order, as text or as JSON lines (the DESIGN.md §4 view).
// --stream/--run/--type read the matching index projection and --since/--until the time index
// (engine::Engine::Scan), not the whole log.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>
#include <nlohmann/json.hpp>

#include "engine/engine.h"
#include "schema/schema.h"
#include "shell/cli/commands.h"
#include "shell/cli/common.h"

namespace tink::cli {
namespace {

struct LogFlags {
  uint64_t from = 1, to = 0;
  std::string stream, type, run, since, until;
  bool json = false;
  bool explain = false;
  bool follow = false;
};

// One human line: LSN, time, type, stream, data (shortened on a terminal).
void PrintText(const std::string& json, bool shorten) {
  auto j = nlohmann::ordered_json::parse(json);
  std::string data = j["data"].dump();
  if (shorten && data.size() > 160) data = data.substr(0, 157) + "...";
  std::printf("%-6s %s  %-16s %-24s %s\n", std::to_string(j["lsn"].get<uint64_t>()).c_str(),
              j["time"].get<std::string>().c_str(), j["type"].get<std::string>().c_str(),
              j["stream"].get<std::string>().c_str(), data.c_str());
}

int Run(const GlobalOptions& global, const LogFlags& f) {
  if (f.to != 0 && f.to < f.from) {
    return Fail("log", Status::InvalidArgument("--to is before --from"));
  }
  engine::LogQuery q;
  q.from = f.from;
  q.to = f.to == 0 ? UINT64_MAX : f.to;
  q.stream = f.stream;
  q.run = f.run;
  q.type = f.type;
  if (!f.since.empty()) {
    auto t = schema::ParseTime(f.since);
    if (!t.ok()) return Fail("log", t.status().WithContext("--since"));
    q.since_ns = *t;
    q.has_since = true;
  }
  if (!f.until.empty()) {
    auto t = schema::ParseTime(f.until);
    if (!t.ok()) return Fail("log", t.status().WithContext("--until"));
    q.until_ns = *t;
    q.has_until = true;
  }
  // Read-only, with or without --follow: a reader never takes the lock a writer needs, and the
  // index scans read from the log whatever the projections' snapshot lacks.
  auto eng = OpenForReading("log", global.StorePath());
  if (!eng.ok()) return Fail("log", eng.status());
  const bool tty = ::isatty(1) == 1;
  Status print_error;
  auto print = [&](const log::LogRecord& r) {
    q.from = r.lsn + 1;
    auto json = schema::EventToJson(r.lsn, r.time_ns, r.payload);
    if (!json.ok()) {
      print_error = json.status().WithContext("LSN " + std::to_string(r.lsn));
      return false;
    }
    if (f.json) {
      std::fwrite(json->data(), 1, json->size(), stdout);
      std::fputc('\n', stdout);
    } else {
      PrintText(*json, tty);
    }
    return true;
  };
  while (true) {
    engine::ScanStats stats;
    Status s = (*eng)->Scan(q, print, &stats);
    if (!print_error.ok()) return Fail("log", print_error);
    if (!s.ok()) return Fail("log", s);
    if (f.explain) {
      std::fprintf(stderr, "index: %s, index entries: %llu, records read: %llu, unindexed tail: %llu\n",
                   stats.index.empty() ? "none (log scan)" : stats.index.c_str(),
                   static_cast<unsigned long long>(stats.index_lsns),
                   static_cast<unsigned long long>(stats.records_read),
                   static_cast<unsigned long long>(stats.tail_scanned));
    }
    if (!f.follow) break;
    // Tail: everything up to the current end was printed; continue after it.
    q.from = std::max(q.from, (*eng)->log().LastLsn() + 1);
    if (f.to != 0 && q.from > f.to) break;
    if (std::fflush(stdout) != 0) return Fail("log", Status::IOError("writing to stdout failed"));
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    Status refreshed = (*eng)->log().Refresh();
    if (!refreshed.ok()) return Fail("log", refreshed);
  }
  if (std::fflush(stdout) != 0) return Fail("log", Status::IOError("writing to stdout failed"));
  return 0;
}

}  // namespace

void SetupLog(CLI::App* cmd, GlobalOptions* global, RunFn* run) {
  auto f = std::make_shared<LogFlags>();
  AddStoreOption(cmd, global);
  cmd->add_option("--from", f->from, "First LSN (default 1)")->check(CLI::PositiveNumber);
  cmd->add_option("--to", f->to, "Last LSN (default: the end)");
  cmd->add_option("--stream", f->stream, "Only events of this stream");
  cmd->add_option("--type", f->type, "Only events of this type");
  cmd->add_option("--run", f->run, "Only events of this run");
  cmd->add_option("--since", f->since, "Only events recorded at or after this time (ISO 8601)");
  cmd->add_option("--until", f->until, "Only events recorded at or before this time (ISO 8601)");
  cmd->add_flag("--explain", f->explain,
                "Also print (to stderr) which index answered and how many records were read");
  cmd->add_flag("--json", f->json, "One JSON object per line, exactly the documented event view");
  cmd->add_flag("--follow,-f", f->follow,
                "Keep running and print events as other processes append them (Ctrl-C ends)");
  *run = [global, f] { return Run(*global, *f); };
}

}  // namespace tink::cli
