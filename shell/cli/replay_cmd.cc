// tink replay: rebuild projections from the log, or (--check) rebuild them aside and compare.
#include <chrono>
#include <cstdio>

#include "engine/engine.h"
#include "shell/cli/commands.h"
#include "shell/cli/common.h"

namespace tink::cli {
namespace {

struct ReplayFlags {
  std::string projection;
  uint64_t to = 0;
  bool check = false;
  bool json = false;
};

int Run(const GlobalOptions& global, const ReplayFlags& f) {
  if (f.check && (!f.projection.empty() || f.to != 0)) {
    return Fail("replay", Status::InvalidArgument("--check rebuilds every projection to the head; "
                                                  "it takes no --projection or --to"));
  }
  engine::EngineOptions opts;
  opts.access = engine::Access::kAuto;  // never creates a store; writable if the lock is free
  opts.tail = false;
  opts.catch_up = f.check;  // a rebuild starts from nothing anyway
  Progress catchup("catching up");
  opts.replay_progress = [&](uint64_t d, uint64_t t) { catchup.Update(d, t); };
  auto eng = engine::Engine::Open(global.StorePath(), opts);
  if (!eng.ok()) return Fail("replay", eng.status());
  if (!(*eng)->writable()) {
    return Fail("replay", Status::IOError("the store is locked by another process; replay needs "
                                          "it for writing"));
  }
  for (const std::string& r : (*eng)->state_resets()) {
    std::fprintf(stderr, "tink replay: %s\n", r.c_str());
  }
  const auto t0 = std::chrono::steady_clock::now();
  const log::Lsn head = (*eng)->log().LastLsn();
  if (f.check) {
    Progress bar("replaying into a scratch state");
    auto res = (*eng)->Check([&](uint64_t d, uint64_t t) { bar.Update(d, t); });
    if (!res.ok()) return Fail("replay", res.status());
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    int different = 0;
    std::string names;
    if (f.json) std::printf("{\"lsn\":%llu,\"projections\":[", static_cast<unsigned long long>(head));
    bool first = true;
    for (const engine::CheckResult& r : *res) {
      if (!r.equal()) {
        ++different;
        names += (names.empty() ? "" : ", ") + r.projection;
      }
      if (f.json) {
        std::printf("%s{\"name\":\"%s\",\"lsn\":%llu,\"equal\":%s,\"live\":\"%s\",\"replay\":\"%s\"}",
                    first ? "" : ",", r.projection.c_str(), static_cast<unsigned long long>(r.lsn),
                    r.equal() ? "true" : "false", r.live_digest.c_str(), r.replay_digest.c_str());
        first = false;
      } else {
        std::printf("%-10s %-9s at LSN %llu  %s%s%s\n", r.projection.c_str(),
                    r.equal() ? "equal" : "DIFFERENT", static_cast<unsigned long long>(r.lsn),
                    r.live_digest.c_str(), r.equal() ? "" : " != ",
                    r.equal() ? "" : r.replay_digest.c_str());
      }
    }
    if (f.json) std::printf("],\"equal\":%s}\n", different == 0 ? "true" : "false");
    if (different > 0) {
      std::fprintf(stderr,
                   "tink replay: projection state differs from a fresh replay: %s (run tink "
                   "replay to rebuild it)\n",
                   names.c_str());
      return static_cast<int>(Exit::kCorruption);
    }
    if (!f.json) {
      std::printf("%zu projections equal to a fresh replay of %llu events (%.2f s)\n", res->size(),
                  static_cast<unsigned long long>(head), secs);
    }
    return 0;
  }
  Progress bar("replaying");
  Status s = (*eng)->Replay(f.projection, f.to, [&](uint64_t d, uint64_t t) { bar.Update(d, t); });
  if (!s.ok()) return Fail("replay", s);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const log::Lsn to = f.to == 0 ? head : std::min<log::Lsn>(f.to, head);
  Status closed = (*eng)->Close();
  if (!closed.ok()) return Fail("replay", closed);
  const double rate = secs > 0 ? static_cast<double>(to) / secs : 0;
  if (f.json) {
    std::printf("{\"projection\":\"%s\",\"to\":%llu,\"events\":%llu,\"seconds\":%.3f,"
                "\"events_per_second\":%.0f}\n",
                f.projection.empty() ? "all" : f.projection.c_str(),
                static_cast<unsigned long long>(to), static_cast<unsigned long long>(to), secs, rate);
  } else {
    std::printf("rebuilt %s from %llu events in %.2f s (%.0f events/s)%s\n",
                f.projection.empty() ? "every projection" : f.projection.c_str(),
                static_cast<unsigned long long>(to), secs, rate,
                to < head ? "; the state stays at that LSN until the next writer opens the store"
                          : "");
  }
  if (const uint64_t bad = (*eng)->undecodable_events(); bad > 0) {
    std::fprintf(stderr,
                 "tink replay: %llu events do not decode and were passed over by every "
                 "projection; `tink verify` names them\n",
                 static_cast<unsigned long long>(bad));
    return static_cast<int>(Exit::kCorruption);
  }
  return 0;
}

}  // namespace

void SetupReplay(CLI::App* cmd, GlobalOptions* global, RunFn* run) {
  auto f = std::make_shared<ReplayFlags>();
  AddStoreOption(cmd, global);
  cmd->add_option("--projection", f->projection,
                  "Rebuild only this projection (ids, streams, runs, types, times, scheduler)");
  cmd->add_option("--to", f->to, "Stop at this LSN (default: the end of the log)");
  cmd->add_flag("--check", f->check,
                "Rebuild every projection into a scratch state and compare digests with the live "
                "one: exit 0 equal, 3 different (naming the projection)");
  cmd->add_flag("--json", f->json, "One JSON object with the result");
  cmd->footer("Projection state (STORE/state) is derived from the log: replay rebuilds it from "
              "scratch. Progress is shown on a terminal.");
  *run = [global, f] { return Run(*global, *f); };
}

}  // namespace tink::cli
