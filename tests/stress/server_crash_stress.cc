// The long version of tests/server/server_crash_test.cc: kill -9 of `tink serve` under load,
// many rounds on one store (support/server_crash_harness.h), then a SIGTERM stop, `tink verify`
// and `tink replay --check`. Run by hand:
//
//   build/tests/stress/tink_server_crash_stress --rounds 200 [--seed S] [--clients 8]
//       [--min-acks 150] [--dir D] [--tink build/shell/tink]
//
// Prints every problem as `round N: ...`, a line every 10 rounds, and a summary; exit 0 only if
// nothing was lost, duplicated or mismatched (otherwise the store is kept and its path printed).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "support/server_crash_harness.h"
#include "support/temp_dir.h"

int main(int argc, char** argv) {
  int rounds = 50;
  uint32_t seed = 1;
  std::string dir, tink = TINK_BIN;
  tink::testing::ServerCrashOptions o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
    if (v == nullptr) {
      std::fprintf(stderr, "tink_server_crash_stress: %s needs a value\n", a.c_str());
      return 1;
    }
    if (a == "--rounds") {
      rounds = std::atoi(v);
    } else if (a == "--seed") {
      seed = static_cast<uint32_t>(std::atol(v));
    } else if (a == "--clients") {
      o.clients = std::atoi(v);
    } else if (a == "--min-acks") {
      o.min_acks = std::atoi(v);
    } else if (a == "--dir") {
      dir = v;
    } else if (a == "--tink") {
      tink = v;
    } else {
      std::fprintf(stderr, "tink_server_crash_stress: unknown flag %s\n", a.c_str());
      return 1;
    }
    ++i;
  }
  o.tink_bin = tink;
  tink::testing::TempDir tmp;
  const std::string work = dir.empty() ? tmp.path() : dir;
  tink::testing::ServerCrashHarness h(work + "/store", work, seed, o);
  uint64_t acked = 0, resent = 0, dups = 0, lost = 0, duplicated = 0, mismatch = 0, followed = 0,
           unstable = 0;
  bool failed = false;
  for (int i = 1; i <= rounds; ++i) {
    const tink::testing::ServerCrashRound r = h.RunRound();
    acked += r.acked;
    resent += r.resent;
    dups += r.duplicate_acks;
    lost += r.lost;
    duplicated += r.duplicated;
    mismatch += r.retry_mismatch;
    followed += r.followed;
    unstable += r.unstable_follows;
    if (!r.ok()) {
      failed = true;
      std::printf("round %d: ERROR %s", i, r.Describe().c_str());
      if (!r.fatal.empty()) break;
    }
    if (i % 10 == 0) {
      std::printf("round %d: %llu ids acknowledged, last LSN %llu\n", i,
                  static_cast<unsigned long long>(h.acked_ids()),
                  static_cast<unsigned long long>(r.last_lsn));
      std::fflush(stdout);
    }
  }
  const tink::testing::ServerCrashRound f = h.Finish();
  lost += f.lost;
  duplicated += f.duplicated;
  unstable += f.unstable_follows;
  if (!f.ok()) {
    failed = true;
    std::printf("finish: ERROR %s", f.Describe().c_str());
  }
  std::printf(
      "rounds=%d acked=%llu resent=%llu duplicate_acks=%llu lost=%llu duplicated=%llu "
      "retry_mismatch=%llu followed=%llu unstable_follows=%llu last_lsn=%llu sigterm_exit=%d\n",
      rounds, static_cast<unsigned long long>(acked), static_cast<unsigned long long>(resent),
      static_cast<unsigned long long>(dups), static_cast<unsigned long long>(lost),
      static_cast<unsigned long long>(duplicated), static_cast<unsigned long long>(mismatch),
      static_cast<unsigned long long>(followed), static_cast<unsigned long long>(unstable),
      static_cast<unsigned long long>(f.last_lsn), f.exit_code);
  if (failed && dir.empty()) {
    // Keep the evidence: move the store out of the temporary folder.
    const std::string kept = "/tmp/tink-server-crash-" + std::to_string(seed);
    std::rename((work + "/store").c_str(), kept.c_str());
    std::printf("store kept at %s\n", kept.c_str());
  }
  return failed ? 1 : 0;
}
