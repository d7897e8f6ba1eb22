// Streams and expected versions (Engine::Append with AppendOptions::expected): any / no_stream /
// exists / exact on one thread, a Conflict writes nothing, and under many concurrent writers on
// one stream every version is won by exactly one append.
#include <gtest/gtest.h>

#include <atomic>
#include <regex>
#include <thread>

#include "engine/engine.h"
#include "engine/engine_test_util.h"
#include "support/temp_dir.h"

namespace tink::engine {
namespace {

using test::Note;

AppendOptions Expect(Expected::Kind kind, uint64_t version = 0) {
  AppendOptions o;
  o.expected = Expected{kind, version};
  return o;
}
AppendOptions Exact(uint64_t v) { return Expect(Expected::Kind::kExact, v); }

Result<AppendOutcome> Put(Engine& e, std::vector<schema::EventInput> batch,
                          const AppendOptions& o = {}) {
  return e.Append(batch, o);
}

// "stream 'S' is at version A, expected X" -> A (-1: no_stream, -2: not that message).
int64_t ActualVersion(const Status& s) {
  static const std::regex re("stream '[^']*' is at version (no_stream|[0-9]+), expected ");
  std::smatch m;
  const std::string& msg = s.message();
  if (!std::regex_search(msg, m, re)) return -2;
  return m[1] == "no_stream" ? -1 : std::stoll(m[1]);
}

class EngineStreamsTest : public ::testing::TestWithParam<bool> {
 protected:
  // The parameter: whether the tail thread runs. Without it the stream versions of everything
  // appended since open come only from the engine's pending list.
  void SetUp() override {
    EngineOptions o = test::Fast();
    o.tail = GetParam();
    auto e = Engine::Open(tmp_.Sub("s"), o);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    eng_ = std::move(e).value();
  }
  testing::TempDir tmp_;
  std::unique_ptr<Engine> eng_;
};

TEST_P(EngineStreamsTest, NoStreamExistsAndExactOnOneThread) {
  Engine& e = *eng_;
  // exists on a stream with no events: Conflict naming no_stream, nothing written.
  auto r = Put(e, {Note("a", "x")}, Expect(Expected::Kind::kExists));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsConflict()) << r.status().ToString();
  EXPECT_EQ(ActualVersion(r.status()), -1) << r.status().ToString();
  EXPECT_EQ(e.log().LastLsn(), 0u);

  // exact 0 on a new stream: Conflict too (version 0 is the first event's).
  r = Put(e, {Note("a", "x")}, Exact(0));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsConflict());
  EXPECT_EQ(e.log().LastLsn(), 0u);

  r = Put(e, {Note("a", "v0")}, Expect(Expected::Kind::kNoStream));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->lsns, std::vector<Lsn>{1});

  r = Put(e, {Note("a", "x")}, Expect(Expected::Kind::kNoStream));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsConflict());
  EXPECT_EQ(ActualVersion(r.status()), 0) << r.status().ToString();
  EXPECT_NE(r.status().message().find("expected no_stream"), std::string::npos)
      << r.status().ToString();
  EXPECT_EQ(e.log().LastLsn(), 1u) << "a Conflict must write nothing";

  // Another stream in between does not move a's version.
  ASSERT_TRUE(Put(e, {Note("b", "b0"), Note("b", "b1")}).ok());

  r = Put(e, {Note("a", "v1")}, Expect(Expected::Kind::kExists));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // Three events in one batch with exact 1: versions 2, 3, 4.
  r = Put(e, {Note("a", "v2"), Note("a", "v3"), Note("a", "v4")}, Exact(1));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->lsns, (std::vector<Lsn>{5, 6, 7}));

  const Lsn before = e.log().LastLsn();
  for (uint64_t wrong : {0u, 1u, 3u, 5u, 100u}) {
    r = Put(e, {Note("a", "x")}, Exact(wrong));
    ASSERT_FALSE(r.ok()) << "exact " << wrong;
    EXPECT_TRUE(r.status().IsConflict()) << r.status().ToString();
    EXPECT_EQ(ActualVersion(r.status()), 4) << r.status().ToString();
    EXPECT_NE(r.status().message().find("expected " + std::to_string(wrong)), std::string::npos)
        << r.status().ToString();
  }
  r = Put(e, {Note("b", "x")}, Expect(Expected::Kind::kNoStream));
  EXPECT_EQ(ActualVersion(r.status()), 1) << r.status().ToString();
  EXPECT_EQ(e.log().LastLsn(), before) << "a Conflict must write nothing";

  r = Put(e, {Note("a", "v5")}, Exact(4));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  r = Put(e, {Note("b", "b2")}, Exact(1));
  ASSERT_TRUE(r.ok()) << r.status().ToString();

  // The versions the engine enforced are those of the log.
  const auto all = test::ReadAll(e);
  EXPECT_EQ(test::VersionOf(all, "a"), std::optional<uint64_t>(5));
  EXPECT_EQ(test::VersionOf(all, "b"), std::optional<uint64_t>(2));
  uint64_t v = 0;
  for (const auto& l : all) {
    if (l.stream == "a") {
      EXPECT_EQ(l.data["text"], "v" + std::to_string(v++));
    }
  }
}

TEST_P(EngineStreamsTest, ExpectedVersionWithSeveralStreamsIsInvalidArgument) {
  Engine& e = *eng_;
  ASSERT_TRUE(Put(e, {Note("a", "a0")}).ok());
  for (const AppendOptions& o :
       {Exact(0), Expect(Expected::Kind::kExists), Expect(Expected::Kind::kNoStream)}) {
    auto r = Put(e, {Note("a", "x"), Note("a", "y"), Note("c", "z")}, o);
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
    EXPECT_NE(r.status().message().find("event 3"), std::string::npos) << r.status().ToString();
    EXPECT_NE(r.status().message().find("'c'"), std::string::npos) << r.status().ToString();
  }
  EXPECT_EQ(e.log().LastLsn(), 1u);
  // With any, several streams in one batch are fine.
  auto r = Put(e, {Note("a", "x"), Note("c", "z")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(e.log().LastLsn(), 3u);
}

TEST_P(EngineStreamsTest, VersionsSurviveReopen) {
  ASSERT_TRUE(Put(*eng_, {Note("a", "0"), Note("a", "1")}, Expect(Expected::Kind::kNoStream)).ok());
  ASSERT_TRUE(eng_->Close().ok());
  eng_.reset();
  EngineOptions o = test::Fast();
  o.tail = GetParam();
  auto e = Engine::Open(tmp_.Sub("s"), o);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  auto r = Put(**e, {Note("a", "x")}, Exact(0));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(ActualVersion(r.status()), 1) << r.status().ToString();
  EXPECT_TRUE(Put(**e, {Note("a", "2")}, Exact(1)).ok());
  EXPECT_TRUE(Put(**e, {Note("a", "3")}, Exact(2)).ok());
  EXPECT_EQ(test::CheckProblems(**e), "");
}

// N threads each loop: read the stream's version v, append with expected exactly v. Every
// version must be won by exactly one append; every loser gets Conflict naming a newer version.
TEST_P(EngineStreamsTest, ConcurrentWritersWinEachVersionExactlyOnce) {
  Engine& e = *eng_;
  const std::string stream = "contended";
  constexpr int kThreads = 8;
  constexpr uint64_t kTarget = 240;
  ASSERT_TRUE(Put(e, {Note(stream, "t-1 exp=none")}, Expect(Expected::Kind::kNoStream)).ok());
  std::atomic<uint64_t> won{1};
  std::atomic<uint64_t> conflicts{0};
  std::atomic<bool> go{false};
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t) {
    ts.emplace_back([&, t] {
      while (!go.load()) std::this_thread::yield();
      std::optional<uint64_t> guess;  // from the last Conflict, else read from the state
      while (won.load() < kTarget) {
        uint64_t v = 0;
        if (guess) {
          v = *guess;
        } else {
          auto reader = e.NewReader();
          if (!reader.ok()) {
            errors[t] = reader.status().ToString();
            return;
          }
          auto cur = projections::StreamVersion(**reader, stream);
          if (!cur.ok()) {
            errors[t] = cur.status().ToString();
            return;
          }
          v = cur->value_or(0);  // the state may not have the first event yet
        }
        guess.reset();
        auto r = e.Append(std::vector<schema::EventInput>{Note(
                              stream, "t" + std::to_string(t) + " exp=" + std::to_string(v))},
                          Exact(v));
        if (r.ok()) {
          won.fetch_add(1);
          continue;
        }
        if (!r.status().IsConflict()) {
          errors[t] = "not a Conflict: " + r.status().ToString();
          return;
        }
        conflicts.fetch_add(1);
        const int64_t actual = ActualVersion(r.status());
        // Versions only grow and v was true at some earlier moment: the actual one is newer.
        if (actual <= static_cast<int64_t>(v)) {
          errors[t] = "Conflict for exact " + std::to_string(v) + " names version " +
                      std::to_string(actual) + ": " + r.status().ToString();
          return;
        }
        // Without the tail thread the state never moves: only the Conflict says where it is.
        if (actual % 2 == 0 || !GetParam()) guess = static_cast<uint64_t>(actual);
      }
    });
  }
  go = true;
  for (auto& t : ts) t.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(errors[t], "") << "thread " << t;

  const uint64_t k = won.load();
  ASSERT_GE(k, kTarget);
  const auto all = test::ReadAll(e);
  ASSERT_EQ(all.size(), k) << "successes and events in the log differ";
  // Version i was appended with expected i-1: exactly one winner per version, no gap.
  for (uint64_t i = 1; i < all.size(); ++i) {
    const std::string text = all[i].data["text"];
    EXPECT_EQ(text.substr(text.find(" exp=") + 5), std::to_string(i - 1)) << "LSN " << all[i].lsn;
  }
  EXPECT_GT(conflicts.load(), 0u) << "eight writers on one stream never conflicted";

  if (GetParam()) {
    ASSERT_TRUE(e.WaitForProjections(e.log().LastLsn(), std::chrono::seconds(60)));
  }
  auto last = Put(e, {Note(stream, "final")}, Exact(k - 2));
  ASSERT_FALSE(last.ok());
  EXPECT_EQ(ActualVersion(last.status()), static_cast<int64_t>(k - 1)) << last.status().ToString();
  EXPECT_TRUE(Put(e, {Note(stream, "final")}, Exact(k - 1)).ok());
  EXPECT_EQ(test::CheckProblems(e), "");
}

INSTANTIATE_TEST_SUITE_P(Tail, EngineStreamsTest, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "Tail" : "NoTail"; });

}  // namespace
}  // namespace tink::engine
