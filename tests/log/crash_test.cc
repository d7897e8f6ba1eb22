// kill -9 at random moments while four threads append with `always`: every acknowledged event is
// present, intact, in order, gapless after each reopen. tests/stress/crash_stress runs hundreds.
#include <gtest/gtest.h>

#include "support/crash_harness.h"
#include "support/temp_dir.h"

namespace tink::testing {
namespace {

TEST(CrashTest, AckedEventsSurviveSigkill) {
  TempDir tmp;
  CrashHarness h(tmp.Sub("log"), 20261125);
  uint64_t acked = 0;
  for (int cycle = 0; cycle < 6; ++cycle) {
    CrashCycle c = h.RunCycle();
    ASSERT_TRUE(c.error.empty()) << "cycle " << cycle << ": " << c.error;
    EXPECT_EQ(c.lost, 0u) << "cycle " << cycle;
    EXPECT_GE(c.last_lsn, h.total_acked());
    acked += c.acked_this_cycle;
  }
  EXPECT_GT(acked, 0u) << "the children must have appended something";
}

}  // namespace
}  // namespace tink::testing
