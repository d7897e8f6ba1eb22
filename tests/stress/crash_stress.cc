// tink_crash_stress --cycles N [--dir D] [--seed S]: the crash test at scale (not run by ctest).
// Prints one line per 10 cycles and a summary: cycles=N acked=X lost=0 torn_tails=T.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "support/crash_harness.h"
#include "support/temp_dir.h"

int main(int argc, char** argv) {
  int cycles = 200;
  uint32_t seed = 1;
  std::string dir;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--cycles")) cycles = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--dir")) dir = argv[i + 1];
    else if (!std::strcmp(argv[i], "--seed")) seed = static_cast<uint32_t>(std::atoi(argv[i + 1]));
  }
  tink::testing::TempDir tmp;
  if (dir.empty()) dir = tmp.Sub("log");
  tink::testing::CrashHarness h(dir, seed);
  uint64_t lost = 0, torn = 0, acked = 0;
  for (int c = 1; c <= cycles; ++c) {
    tink::testing::CrashCycle r = h.RunCycle();
    if (!r.error.empty()) {
      std::printf("cycle %d: ERROR %s\n", c, r.error.c_str());
      return 1;
    }
    lost += r.lost;
    torn += r.torn_tail;
    acked += r.acked_this_cycle;
    if (c % 10 == 0) {
      std::printf("cycle %d: last_lsn=%llu acked_total=%llu lost=%llu\n", c,
                  static_cast<unsigned long long>(r.last_lsn),
                  static_cast<unsigned long long>(acked), static_cast<unsigned long long>(lost));
      std::fflush(stdout);
    }
  }
  std::printf("cycles=%d acked=%llu lost=%llu torn_tails=%llu\n", cycles,
              static_cast<unsigned long long>(acked), static_cast<unsigned long long>(lost),
              static_cast<unsigned long long>(torn));
  return lost == 0 ? 0 : 1;
}
