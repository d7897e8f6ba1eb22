// tink log: events in LSN order, as text or as JSON lines (the DESIGN.md §4 view).
// Filters by stream/type/run scan and decode every event in range; indexes arrive with the
// projections (issue 3) and replace the scan.
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
  std::string stream, type, run;
  bool json = false;
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
  engine::EngineOptions opts;
  opts.read_only = true;
  auto eng = engine::Engine::Open(global.StorePath(), opts);
  if (!eng.ok()) return Fail("log", eng.status());
  const bool tty = ::isatty(1) == 1;
  log::Lsn next = f.from;
  while (true) {
    auto it = (*eng)->Read(next);
    for (; it->Valid(); it->Next()) {
      const log::LogRecord& r = it->record();
      if (f.to != 0 && r.lsn > f.to) return 0;
      next = r.lsn + 1;
      if (!f.stream.empty() || !f.type.empty() || !f.run.empty()) {
        auto view = schema::DecodeEvent(r.payload);
        if (!view.ok()) {
          return Fail("log", view.status().WithContext("LSN " + std::to_string(r.lsn)));
        }
        if ((!f.stream.empty() && view->stream != f.stream) ||
            (!f.type.empty() && view->type != f.type) || (!f.run.empty() && view->run != f.run)) {
          continue;
        }
      }
      auto json = schema::EventToJson(r.lsn, r.time_ns, r.payload);
      if (!json.ok()) {
        return Fail("log", json.status().WithContext("LSN " + std::to_string(r.lsn)));
      }
      if (f.json) {
        std::fwrite(json->data(), 1, json->size(), stdout);
        std::fputc('\n', stdout);
      } else {
        PrintText(*json, tty);
      }
    }
    if (!it->status().ok()) return Fail("log", it->status());
    if (!f.follow) break;
    // Tail: flush what we have, wait, and pick up what the writer process appended meanwhile.
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
  cmd->add_flag("--json", f->json, "One JSON object per line, exactly the documented event view");
  cmd->add_flag("--follow,-f", f->follow,
                "Keep running and print events as other processes append them (Ctrl-C ends)");
  *run = [global, f] { return Run(*global, *f); };
}

}  // namespace tink::cli
