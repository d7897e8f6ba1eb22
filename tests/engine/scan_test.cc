// Engine::Scan against a brute-force filter over the whole log: random events over several
// streams, runs and types, random queries combining stream/run/type/since/until/from/to. The
// answer must be exactly the brute-force one, in LSN order, and the stats must show the index
// doing the work (one filter: every record read is a match).
#include <gtest/gtest.h>

#include <random>

#include "engine/engine.h"
#include "engine/engine_test_util.h"
#include "support/temp_dir.h"

namespace tink::engine {
namespace {

using test::Logged;

const std::vector<std::string> kStreams = {"run/1", "run/1/task/1", "run/2/task/9", "memo",
                                           "other/stream"};
const std::vector<std::string> kRuns = {"", "1", "2", "r-3"};
const std::vector<std::string> kTypes = {"note", "myapp.alpha", "myapp.beta", "x.deploy"};

// Appends `batches` random batches of 1..6 events.
void AppendRandom(Engine& e, std::mt19937& rng, int batches) {
  for (int b = 0; b < batches; ++b) {
    std::vector<schema::EventInput> batch;
    const int n = 1 + static_cast<int>(rng() % 6);
    for (int i = 0; i < n; ++i) {
      const std::string type = kTypes[rng() % kTypes.size()];
      nlohmann::json data;
      if (type == "note") {
        data["text"] = "n" + std::to_string(rng() % 1000);
      } else {
        data["k"] = static_cast<int>(rng() % 1000);
      }
      batch.push_back(test::Event(kStreams[rng() % kStreams.size()], type, data, "",
                                  kRuns[rng() % kRuns.size()]));
    }
    auto r = e.Append(batch);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
}

std::vector<Lsn> BruteForce(const std::vector<Logged>& all, const LogQuery& q) {
  std::vector<Lsn> out;
  for (const Logged& l : all) {
    if (l.lsn < q.from || l.lsn > q.to) continue;
    if (!q.stream.empty() && l.stream != q.stream) continue;
    if (!q.run.empty() && l.run != q.run) continue;
    if (!q.type.empty() && l.type != q.type) continue;
    if (q.has_since && l.time_ns < q.since_ns) continue;
    if (q.has_until && l.time_ns > q.until_ns) continue;
    out.push_back(l.lsn);
  }
  return out;
}

std::string Describe(const LogQuery& q) {
  std::string s = "from=" + std::to_string(q.from) + " to=" + std::to_string(q.to);
  if (!q.stream.empty()) s += " stream=" + q.stream;
  if (!q.run.empty()) s += " run=" + q.run;
  if (!q.type.empty()) s += " type=" + q.type;
  if (q.has_since) s += " since=" + std::to_string(q.since_ns);
  if (q.has_until) s += " until=" + std::to_string(q.until_ns);
  return s;
}

LogQuery RandomQuery(std::mt19937& rng, const std::vector<Logged>& all) {
  LogQuery q;
  auto pct = [&](int p) { return static_cast<int>(rng() % 100) < p; };
  auto some_time = [&] {
    const int64_t t = all[rng() % all.size()].time_ns;
    return t + static_cast<int64_t>(rng() % 3) - 1;  // exactly a record time, or just beside it
  };
  if (pct(35)) q.stream = kStreams[rng() % kStreams.size()];
  if (pct(30)) q.run = kRuns[1 + rng() % (kRuns.size() - 1)];
  if (pct(30)) q.type = kTypes[rng() % kTypes.size()];
  if (pct(30)) {
    q.has_since = true;
    q.since_ns = some_time();
  }
  if (pct(30)) {
    q.has_until = true;
    q.until_ns = some_time();
  }
  if (pct(20)) q.from = 1 + rng() % all.size();
  if (pct(20)) q.to = 1 + rng() % (all.size() + 5);
  if (pct(3)) q.stream = "no-such-stream";
  return q;
}

bool OneIndexFilter(const LogQuery& q) {
  const int n = !q.stream.empty() + !q.run.empty() + !q.type.empty();
  return n == 1 && !q.has_since && !q.has_until && q.from == 1 && q.to == UINT64_MAX;
}

// Runs `count` random queries; `lagging`: the state is behind the log by the last events.
void CompareRandomQueries(Engine& e, std::mt19937& rng, int count, Lsn indexed) {
  const std::vector<Logged> all = test::ReadAll(e);
  ASSERT_FALSE(all.empty());
  const Lsn head = all.back().lsn;
  int with_one_filter = 0;
  for (int i = 0; i < count; ++i) {
    LogQuery q = RandomQuery(rng, all);
    if (i < 12) {  // make sure every single-filter shape is covered
      q = LogQuery{};
      if (i % 3 == 0) q.stream = kStreams[i % kStreams.size()];
      if (i % 3 == 1) q.run = kRuns[1 + i % (kRuns.size() - 1)];
      if (i % 3 == 2) q.type = kTypes[i % kTypes.size()];
    }
    const std::vector<Lsn> want = BruteForce(all, q);
    std::vector<Lsn> got;
    ScanStats st;
    Status s = e.Scan(
        q,
        [&](const log::LogRecord& r) {
          got.push_back(r.lsn);
          return true;
        },
        &st);
    ASSERT_TRUE(s.ok()) << s.ToString() << " for " << Describe(q);
    ASSERT_EQ(got, want) << Describe(q);

    const std::string want_index = !q.stream.empty()              ? "stream"
                                   : !q.run.empty()               ? "run"
                                   : !q.type.empty()              ? "type"
                                   : (q.has_since || q.has_until) ? "time"
                                                                  : "";
    // (A range that comes out empty, from the LSN bounds or the time index, needs no index; nor
    // does one that starts past what the indexes have applied.)
    if (!want.empty() && q.from <= indexed) {
      EXPECT_EQ(st.index, want_index) << Describe(q);
    }
    if (OneIndexFilter(q)) {
      ++with_one_filter;
      const uint64_t indexed_matches =
          std::count_if(want.begin(), want.end(), [&](Lsn l) { return l <= indexed; });
      EXPECT_EQ(st.index_lsns, indexed_matches) << Describe(q);
      EXPECT_EQ(st.tail_scanned, head - indexed) << Describe(q);
      if (indexed == head) {
        EXPECT_EQ(st.records_read, want.size())
            << "the index must name only matches: " << Describe(q);
      }
    }
    // The time index turns since/until into an exact LSN range: nothing outside it is read.
    if (q.stream.empty() && q.run.empty() && q.type.empty() && indexed == head && q.from == 1 &&
        q.to == UINT64_MAX) {
      EXPECT_EQ(st.records_read, want.size()) << Describe(q);
    }
  }
  EXPECT_GE(with_one_filter, 12);
}

class EngineScanTest : public ::testing::Test {
 protected:
  testing::TempDir tmp_;
  std::string store_ = tmp_.Sub("s");
};

TEST_F(EngineScanTest, MatchesBruteForceWithIndexesCurrent) {
  auto e = Engine::Open(store_, test::Fast());
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  std::mt19937 rng(7);
  AppendRandom(**e, rng, 150);
  ASSERT_TRUE((*e)->WaitForProjections((*e)->log().LastLsn(), std::chrono::seconds(60)));
  CompareRandomQueries(**e, rng, 400, (*e)->log().LastLsn());
}

// Without the tail thread the indexes stop at the open; what follows is read from the log.
TEST_F(EngineScanTest, MatchesBruteForceWithIndexesBehind) {
  std::mt19937 rng(11);
  {
    auto e = Engine::Open(store_, test::Fast());
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    AppendRandom(**e, rng, 100);
    ASSERT_TRUE((*e)->Close().ok());
  }
  EngineOptions o = test::Fast();
  o.tail = false;
  auto e = Engine::Open(store_, o);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  const Lsn indexed = (*e)->log().LastLsn();
  AppendRandom(**e, rng, 40);
  ASSERT_EQ((*e)->ProjectionsApplied(), indexed);
  ASSERT_GT((*e)->log().LastLsn(), indexed);
  CompareRandomQueries(**e, rng, 300, indexed);
}

TEST_F(EngineScanTest, StopsWhenTheCallbackSaysSo) {
  auto e = Engine::Open(store_, test::Fast());
  ASSERT_TRUE(e.ok());
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE((*e)->Append(std::vector<schema::EventInput>{
                                 test::Note(i % 2 ? "odd" : "even", std::to_string(i))})
                    .ok());
  }
  ASSERT_TRUE((*e)->WaitForProjections(20, std::chrono::seconds(60)));
  for (const std::string stream : {"", "odd"}) {
    LogQuery q;
    q.stream = stream;
    std::vector<Lsn> got;
    ASSERT_TRUE((*e)->Scan(q,
                           [&](const log::LogRecord& r) {
                             got.push_back(r.lsn);
                             return got.size() < 3;
                           })
                    .ok());
    EXPECT_EQ(got, stream.empty() ? (std::vector<Lsn>{1, 2, 3}) : (std::vector<Lsn>{2, 4, 6}));
  }
}

}  // namespace
}  // namespace tink::engine
