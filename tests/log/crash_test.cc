// kill -9 at random moments while four threads append with `always`: every acknowledged event is
// present, intact, in order, gapless after each reopen; nothing on disk is garbage; VerifyLog is
// clean. tests/stress/crash_stress.cc runs the same cycle hundreds of times.
#include <gtest/gtest.h>

#include "support/crash_harness.h"
#include "support/temp_dir.h"

namespace tink::testing {
namespace {

TEST(CrashTest, AckedEventsSurviveSigkill) {
  TempDir tmp;
  CrashHarness h(tmp.Sub("log"), 20261125);
  uint64_t acked = 0;
  for (int cycle = 1; cycle <= 5; ++cycle) {
    const CrashCycle c = h.RunCycle(/*threads=*/4, /*max_kill_ms=*/200);
    ASSERT_TRUE(c.error.empty()) << "cycle " << cycle << ": " << c.error;
    EXPECT_EQ(c.lost, 0u) << "cycle " << cycle;
    EXPECT_GE(c.last_lsn, h.total_acked()) << "cycle " << cycle;
    acked += c.acked_this_cycle;
  }
  EXPECT_GT(acked, 0u) << "the children must have appended something";
  EXPECT_EQ(h.total_acked(), acked) << "an LSN was acknowledged twice";
}

}  // namespace
}  // namespace tink::testing
