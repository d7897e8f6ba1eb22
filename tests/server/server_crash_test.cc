// kill -9 of `tink serve` under load (issue 13), the short version of tink_server_crash_stress
// (tests/stress/server_crash_stress.cc): 5 rounds on one store, each starting the daemon on what
// the last kill left, appending from 8 clients (TCP and UNIX socket, keep-alive, re-sending
// batches of unknown fate and acknowledged ones) and SIGKILLing it once 150 batches were
// acknowledged. Every round checks (support/server_crash_harness.h) that each acknowledged event
// is in the log by id at its LSN, none twice, batches whole, re-sends answered with the original
// LSNs, every event a follower was shown kept at its LSN; at the end the daemon is stopped with
// SIGTERM (exit 0) and `tink verify` and `tink replay --check` exit 0.
//
// $TINK_SERVER_CRASH_ROUNDS / $TINK_SERVER_CRASH_SEED run more (or other) rounds by hand.
#include <gtest/gtest.h>

#include <cstdlib>

#include "server/server_test_util.h"
#include "support/server_crash_harness.h"

namespace tink::testing {
namespace {

TEST(ServerCrashTest, KillNineUnderLoadKeepsEveryAcknowledgedEvent) {
  const char* rounds_env = std::getenv("TINK_SERVER_CRASH_ROUNDS");
  const char* seed_env = std::getenv("TINK_SERVER_CRASH_SEED");
  const int rounds = rounds_env ? std::atoi(rounds_env) : 5;
  const uint32_t seed = seed_env ? static_cast<uint32_t>(std::atol(seed_env)) : 20261213u;
  TempDir tmp;
  ServerCrashOptions o;
  o.tink_bin = kTinkBin;
  ServerCrashHarness h(tmp.Sub("store"), tmp.path(), seed, o);
  uint64_t acked = 0, resent = 0, duplicate_acks = 0, followed = 0;
  for (int i = 1; i <= rounds; ++i) {
    const ServerCrashRound r = h.RunRound();
    ASSERT_TRUE(r.ok()) << "seed " << seed << ", round " << i << ":\n" << r.Describe();
    acked += r.acked;
    resent += r.resent;
    duplicate_acks += r.duplicate_acks;
    followed += r.followed;
  }
  const ServerCrashRound f = h.Finish();
  EXPECT_TRUE(f.ok()) << "after " << rounds << " rounds:\n" << f.Describe();
  EXPECT_EQ(f.exit_code, 0);
  // The rounds did something worth checking.
  EXPECT_GT(h.acked_ids(), 0u);
  EXPECT_GT(resent, 0u);
  EXPECT_GT(duplicate_acks, 0u);
  EXPECT_GT(followed, 0u);
  std::printf(
      "server crash: seed %u, %d rounds, %llu ids acknowledged (%llu acknowledgements, "
      "%llu re-sends, %llu duplicates), %llu events followed, last LSN %llu\n",
      seed, rounds, static_cast<unsigned long long>(h.acked_ids()),
      static_cast<unsigned long long>(acked), static_cast<unsigned long long>(resent),
      static_cast<unsigned long long>(duplicate_acks), static_cast<unsigned long long>(followed),
      static_cast<unsigned long long>(f.last_lsn));
}

}  // namespace
}  // namespace tink::testing
