// A record whose checksum is valid but whose payload is not an event (only a foreign or broken
// writer can put one there) is never skipped in silence: the projections count it, a filtered
// scan fails naming its LSN, and VerifyStore names segment, offset and LSN.
#include <gtest/gtest.h>

#include "engine/engine.h"
#include "engine/engine_test_util.h"
#include "support/temp_dir.h"

namespace tink::engine {
namespace {

TEST(UndecodableTest, IsCountedReportedAndNeverSkippedInSilence) {
  testing::TempDir tmp;
  const std::string store = tmp.Sub("s");
  {
    auto e = Engine::Open(store, EngineOptions{});
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE((*e)->Append(std::vector<schema::EventInput>{test::Note("a", "n")}).ok());
    }
  }
  {
    // Straight into the log, bypassing the engine's validation.
    auto log = log::Log::Open(LogDir(store), log::LogOptions{});
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE((*log)->Append(std::string(64, 'x')).ok());
    ASSERT_TRUE((*log)->Append(std::string(64, 'y')).ok());
  }
  auto e = Engine::Open(store, EngineOptions{});
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ((*e)->ProjectionsApplied(), 5u);
  EXPECT_EQ((*e)->undecodable_events(), 2u) << "passed over without a count";

  LogQuery q;
  q.type = "note";
  std::vector<Lsn> seen;
  Status s = (*e)->Scan(q, [&](const log::LogRecord& r) {
    seen.push_back(r.lsn);
    return true;
  });
  EXPECT_TRUE(s.IsCorruption()) << "a filtered scan left LSN 4 out in silence: " << s.ToString();
  EXPECT_NE(s.message().find("LSN 4"), std::string::npos) << s.ToString();
  ASSERT_TRUE((*e)->Close().ok());

  auto v = VerifyStore(store);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  ASSERT_EQ(v->problems.size(), 2u);
  EXPECT_EQ(v->problems[0].lsn, 4u);
  EXPECT_EQ(v->problems[0].segment, "00000000000000000001.seg");
  EXPECT_GT(v->problems[0].offset, log::kSegmentHeaderSize);
  EXPECT_NE(v->problems[0].what.find("does not decode"), std::string::npos);
  EXPECT_EQ(v->problems[1].lsn, 5u);
}

}  // namespace
}  // namespace tink::engine
