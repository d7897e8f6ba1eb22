// tink_crash_stress --cycles N [--dir D] [--seed S] [--threads T] [--max-kill-ms M]: the crash
// test at scale (not run by ctest). Each cycle forks a child that appends with `always` from T
// threads, SIGKILLs it after 5..M ms, reopens and checks every acknowledged record. Prints a
// line per 10 cycles and a summary `cycles=N acked=X lost=0 torn_tails=T`; exit code 0 only if
// nothing was lost and every check passed.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "support/crash_harness.h"
#include "support/temp_dir.h"

int main(int argc, char** argv) {
  int cycles = 200, threads = 4, max_kill_ms = 200;
  uint32_t seed = 1;
  std::string dir;
  for (int i = 1; i < argc; i += 2) {
    const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
    if (v != nullptr && !std::strcmp(argv[i], "--cycles")) {
      cycles = std::atoi(v);
    } else if (v != nullptr && !std::strcmp(argv[i], "--dir")) {
      dir = v;
    } else if (v != nullptr && !std::strcmp(argv[i], "--seed")) {
      seed = static_cast<uint32_t>(std::strtoul(v, nullptr, 10));
    } else if (v != nullptr && !std::strcmp(argv[i], "--threads")) {
      threads = std::atoi(v);
    } else if (v != nullptr && !std::strcmp(argv[i], "--max-kill-ms")) {
      max_kill_ms = std::atoi(v);
    } else {
      std::fprintf(stderr,
                   "usage: %s --cycles N [--dir D] [--seed S] [--threads T] [--max-kill-ms M]\n",
                   argv[0]);
      return 2;
    }
  }
  if (cycles < 1 || threads < 1 || max_kill_ms < 5) {
    std::fprintf(stderr, "cycles and threads must be >= 1, max-kill-ms >= 5\n");
    return 2;
  }
  tink::testing::TempDir tmp;  // used when no --dir is given; removed at exit
  if (dir.empty()) dir = tmp.Sub("log");
  tink::testing::CrashHarness h(dir, seed);
  unsigned long long lost = 0, torn = 0, acked = 0;
  for (int c = 1; c <= cycles; ++c) {
    const tink::testing::CrashCycle r = h.RunCycle(threads, max_kill_ms);
    if (!r.error.empty() || r.lost > 0) {
      std::printf("cycle %d: ERROR %s\n", c,
                  r.error.empty() ? (std::to_string(r.lost) + " acked records lost").c_str()
                                  : r.error.c_str());
      lost += r.lost;
      std::printf("cycles=%d acked=%llu lost=%llu torn_tails=%llu FAILED (log kept in %s)\n", c,
                  acked, lost, torn, dir.c_str());
      std::fflush(stdout);
      std::_Exit(1);  // keep the evidence: skip the TempDir cleanup
    }
    lost += r.lost;
    torn += r.torn_tail;
    acked += r.acked_this_cycle;
    if (c % 10 == 0) {
      std::printf("cycle %d: last_lsn=%llu acked=%llu lost=%llu torn_tails=%llu\n", c,
                  static_cast<unsigned long long>(r.last_lsn), acked, lost, torn);
      std::fflush(stdout);
    }
  }
  std::printf("cycles=%d acked=%llu lost=%llu torn_tails=%llu\n", cycles, acked, lost, torn);
  return 0;
}
