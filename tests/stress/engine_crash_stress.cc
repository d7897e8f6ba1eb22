// tink_engine_crash_stress --cycles N [--dir D] [--seed S] [--threads T] [--max-kill-ms M]
//     [--segment-size B] [--check-every C] [--replay-every R] [--stop-on-failure]
//     [--no-inflight-resends]
// The engine-level kill -9 stress (not run by ctest; tests/engine/engine_crash_stress_test.cc is
// its short version). Each cycle execs this program as a child (--engine-child) that appends
// agent events with client ids through engine::Engine from T writer threads plus a thread that
// re-sends batches with the same ids; the parent SIGKILLs it after 5..M ms, reopens the store and
// checks it (support/crash_harness_engine.h). Prints a line per 10 cycles, one per problem, and
// the summary
//   cycles=N acked=X lost=0 duplicated=0 replay_mismatch=0 torn_tails=T ...
// Exit code 0 only if every count is zero and no check found anything; otherwise the store is
// kept and its path printed. A first open of --dir creates it; a reused one is continued.
#include <unistd.h>

#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "support/crash_harness_engine.h"
#include "support/temp_dir.h"

int main(int argc, char** argv) {
  if (argc >= 2 && !std::strcmp(argv[1], "--engine-child")) {
    tink::testing::EngineCrashChildMain(argc, argv);
  }
  int cycles = 200;
  uint32_t seed = 1;
  std::string dir;
  bool stop_on_failure = false;
  tink::testing::EngineCrashOptions o;
  for (int i = 1; i < argc; i += 2) {
    const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
    if (!std::strcmp(argv[i], "--stop-on-failure")) {
      stop_on_failure = true;
      --i;
    } else if (!std::strcmp(argv[i], "--no-inflight-resends")) {
      o.inflight_resends = false;
      --i;
    } else if (v != nullptr && !std::strcmp(argv[i], "--cycles")) {
      cycles = std::atoi(v);
    } else if (v != nullptr && !std::strcmp(argv[i], "--dir")) {
      dir = v;
    } else if (v != nullptr && !std::strcmp(argv[i], "--seed")) {
      seed = static_cast<uint32_t>(std::strtoul(v, nullptr, 10));
    } else if (v != nullptr && !std::strcmp(argv[i], "--threads")) {
      o.threads = std::atoi(v);
    } else if (v != nullptr && !std::strcmp(argv[i], "--max-kill-ms")) {
      o.max_kill_ms = std::atoi(v);
    } else if (v != nullptr && !std::strcmp(argv[i], "--segment-size")) {
      o.segment_size = std::strtoull(v, nullptr, 10);
    } else if (v != nullptr && !std::strcmp(argv[i], "--check-every")) {
      o.check_every = std::atoi(v);
    } else if (v != nullptr && !std::strcmp(argv[i], "--replay-every")) {
      o.replay_every = std::atoi(v);
    } else {
      std::fprintf(stderr,
                   "usage: %s --cycles N [--dir D] [--seed S] [--threads T] [--max-kill-ms M] "
                   "[--segment-size B] [--check-every C] [--replay-every R] [--stop-on-failure] "
                   "[--no-inflight-resends]\n",
                   argv[0]);
      return 2;
    }
  }
  if (cycles < 1 || o.threads < 1 || o.max_kill_ms < 5 || o.check_every < 0 || o.replay_every < 0) {
    std::fprintf(stderr, "cycles and threads must be >= 1, max-kill-ms >= 5\n");
    return 2;
  }
  char self[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) {
    std::fprintf(stderr, "cannot find this program's path (/proc/self/exe)\n");
    return 4;
  }
  o.child_program.assign(self, static_cast<size_t>(n));
  tink::testing::TempDir tmp;  // used when no --dir is given; removed at exit
  if (dir.empty()) dir = tmp.Sub("store");

  tink::testing::EngineCrashHarness h(dir, seed, o);
  unsigned long long acks = 0, resends = 0, dup_acks = 0, lost = 0, lost_dup_only = 0,
                     duplicated = 0, retry_mismatch = 0, replay_mismatch = 0, torn = 0,
                     problems = 0, checks = 0, replays = 0, in_open = 0;
  const auto start = std::chrono::steady_clock::now();
  const auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  int c = 1;
  bool fatal = false;
  for (; c <= cycles; ++c) {
    const tink::testing::EngineCrashCycle r = h.RunCycle();
    acks += r.acked;
    resends += r.resends;
    dup_acks += r.duplicate_acks;
    lost += r.lost;
    lost_dup_only += r.lost_dup_only;
    duplicated += r.duplicated;
    retry_mismatch += r.retry_mismatch;
    replay_mismatch += r.replay_mismatch;
    torn += r.torn_tail;
    checks += r.checked;
    replays += r.replayed;
    in_open += r.killed_in_open;
    problems += r.problems.size();
    for (const std::string& p : r.problems) std::printf("cycle %d: ERROR %s\n", c, p.c_str());
    if (!r.fatal.empty()) {
      std::printf("cycle %d: FATAL %s\n", c, r.fatal.c_str());
      fatal = true;
    }
    if (c % 10 == 0 || fatal) {
      std::printf(
          "cycle %d: last_lsn=%llu acked=%llu lost=%llu duplicated=%llu replay_mismatch=%llu "
          "torn_tails=%llu resends=%llu duplicate_acks=%llu checks=%llu replays=%llu "
          "seconds=%.1f\n",
          c, static_cast<unsigned long long>(r.last_lsn),
          static_cast<unsigned long long>(h.acked_ids()), lost, duplicated, replay_mismatch, torn,
          resends, dup_acks, checks, replays, seconds());
    }
    std::fflush(stdout);
    if (fatal || (stop_on_failure && !r.ok())) break;
  }
  const bool failed = fatal || problems > 0 || lost > 0 || duplicated > 0 || retry_mismatch > 0 ||
                      replay_mismatch > 0;
  std::printf(
      "cycles=%d acked=%llu lost=%llu duplicated=%llu replay_mismatch=%llu torn_tails=%llu "
      "retry_mismatch=%llu lost_dup_only=%llu problems=%llu acks=%llu resends=%llu "
      "duplicate_acks=%llu checks=%llu replays=%llu kills_in_open=%llu inflight_resends=%d seed=%u "
      "seconds=%.1f%s\n",
      c > cycles ? cycles : c, static_cast<unsigned long long>(h.acked_ids()), lost, duplicated,
      replay_mismatch, torn, retry_mismatch, lost_dup_only, problems, acks, resends, dup_acks,
      checks, replays, in_open, o.inflight_resends ? 1 : 0, seed, seconds(),
      failed ? (" FAILED (store kept in " + dir + ")").c_str() : "");
  std::fflush(stdout);
  if (failed) std::_Exit(1);  // keep the evidence: skip the TempDir cleanup
  return 0;
}
