// The short version of tink_engine_crash_stress (tests/stress/engine_crash_stress.cc), run by
// ctest: a few dozen kill -9 cycles with a fixed seed against one store, each child appending
// agent events with client ids from several threads and re-sending batches with the same ids;
// after every kill the store is reopened and checked (support/crash_harness_engine.h): no
// acknowledged id lost, none twice in the log, every re-send answered with the original LSN,
// every projection equal to a fresh replay (Engine::Check, and Engine::Replay every 5 cycles),
// VerifyLog clean. The seed fixes the harness's choices, not the moments the kills land.
// KillNineCyclesWithConcurrentResends adds re-sends racing the original append.
//
// $TINK_ENGINE_STRESS_CYCLES / $TINK_ENGINE_STRESS_SEED run more (or other) cycles by hand.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "engine/engine.h"
#include "support/crash_harness_engine.h"
#include "support/temp_dir.h"

namespace tink::testing {
namespace {

EngineCrashOptions Options() {
  EngineCrashOptions o;
  o.child_program = ENGINE_CRASH_STRESS_BIN;
  o.threads = 3;
  o.max_kill_ms = 120;
  o.segment_size = 128 << 10;
  o.replay_every = 5;
  o.check_every = 1;
  return o;
}

std::string Describe(const EngineCrashCycle& r) {
  std::string s = r.fatal.empty() ? "" : "fatal: " + r.fatal + "\n";
  s += "lost=" + std::to_string(r.lost) +
       " (only acknowledged as duplicates: " + std::to_string(r.lost_dup_only) +
       ") duplicated=" + std::to_string(r.duplicated) +
       " retry_mismatch=" + std::to_string(r.retry_mismatch) +
       " replay_mismatch=" + std::to_string(r.replay_mismatch) + "\n";
  for (const std::string& p : r.problems) s += p + "\n";
  return s;
}

// Runs the cycles; fails at the first cycle whose checks found anything.
void RunStress(bool inflight_resends, uint32_t default_seed) {
  const char* cycles_env = std::getenv("TINK_ENGINE_STRESS_CYCLES");
  const char* seed_env = std::getenv("TINK_ENGINE_STRESS_SEED");
  const int cycles = cycles_env ? std::atoi(cycles_env) : 20;
  const uint32_t seed = seed_env ? static_cast<uint32_t>(std::atol(seed_env)) : default_seed;
  TempDir tmp;
  EngineCrashOptions o = Options();
  o.inflight_resends = inflight_resends;
  EngineCrashHarness h(tmp.Sub("store"), seed, o);
  uint64_t acks = 0, resends = 0, duplicate_acks = 0, torn = 0, checks = 0, replays = 0;
  for (int c = 1; c <= cycles; ++c) {
    const EngineCrashCycle r = h.RunCycle();
    ASSERT_TRUE(r.ok()) << "seed " << seed << ", cycle " << c << ":\n" << Describe(r);
    acks += r.acked;
    resends += r.resends;
    duplicate_acks += r.duplicate_acks;
    torn += r.torn_tail;
    checks += r.checked;
    replays += r.replayed;
  }
  // The stress must have done something worth checking: acknowledged appends, re-sends answered
  // as duplicates, a check after every kill and an in-place replay every 5 cycles.
  EXPECT_GT(h.acked_ids(), 0u);
  EXPECT_GT(resends, 0u);
  EXPECT_GT(duplicate_acks, 0u);
  EXPECT_EQ(checks, static_cast<uint64_t>(cycles));
  EXPECT_EQ(replays, static_cast<uint64_t>(cycles / 5));
  std::printf(
      "engine crash stress: seed %u, %d cycles, %llu ids acknowledged, %llu acknowledgements "
      "(%llu re-sends, %llu duplicates), %llu torn tails\n",
      seed, cycles, static_cast<unsigned long long>(h.acked_ids()),
      static_cast<unsigned long long>(acks), static_cast<unsigned long long>(resends),
      static_cast<unsigned long long>(duplicate_acks), static_cast<unsigned long long>(torn));
}

// Re-sends of batches acknowledged before (in this child or an earlier one) and of batches whose
// fate an earlier kill left unknown.
TEST(EngineCrashStressTest, KillNineCycles) { RunStress(false, 20261214u); }

// Also re-sends, from another thread, the batch a writer has in flight: the duplicate must not be
// acknowledged before the original append is durable (a kill in between loses an acknowledged
// id, reported as "only ever acknowledged as a duplicate").
TEST(EngineCrashStressTest, KillNineCyclesWithConcurrentResends) { RunStress(true, 20261215u); }

// The checker itself: cutting acknowledged events off the log between two cycles (as a log that
// lost acknowledged writes would) must be reported as lost.
TEST(EngineCrashStressTest, ReportsAcknowledgedEventsCutFromTheLog) {
  TempDir tmp;
  const std::string store = tmp.Sub("store");
  EngineCrashOptions o = Options();
  o.max_kill_ms = 300;  // long enough that the child acknowledges appends (checked below)
  o.replay_every = 0;
  o.inflight_resends = false;  // this test is about the checker, not that race
  EngineCrashHarness h(store, 7, o);
  for (int c = 0; c < 10 && h.acked_ids() < 20; ++c) {
    const EngineCrashCycle r = h.RunCycle();
    ASSERT_TRUE(r.ok()) << Describe(r);
  }
  ASSERT_GE(h.acked_ids(), 20u) << "ten children acknowledged too little to cut";
  auto cut = engine::TruncateStoreAt(store, 1);
  ASSERT_TRUE(cut.ok()) << cut.status().ToString();
  const EngineCrashCycle r = h.RunCycle();
  EXPECT_FALSE(r.ok());
  EXPECT_GT(r.lost, 0u) << Describe(r);
  EXPECT_EQ(r.duplicated, 0u) << Describe(r);
}

}  // namespace
}  // namespace tink::testing
