// Iteration from any LSN, across segment boundaries, concurrently with writers; time lookups.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <set>
#include <thread>

#include "log/log.h"
#include "log_test_util.h"
#include "support/temp_dir.h"

namespace tink::log {
namespace {

TEST(IteratorTest, FromEveryLsnAcrossManySegments) {
  testing::TempDir tmp;
  auto log = Log::Open(tmp.path(), SmallSegments(4096));
  ASSERT_TRUE(log.ok());
  const int n = 400;
  for (int i = 1; i <= n; ++i) ASSERT_TRUE((*log)->Append(Payload(i, 50 + i % 90)).ok());
  const LogStats st = (*log)->Stats();
  EXPECT_EQ(st.records, static_cast<uint64_t>(n));
  EXPECT_GT(st.segments.size(), 10u);
  EXPECT_EQ(st.first_lsn, 1u);
  EXPECT_EQ(st.last_lsn, static_cast<uint64_t>(n));
  for (size_t i = 0; i + 1 < st.segments.size(); ++i) {
    EXPECT_TRUE(st.segments[i].sealed);
    EXPECT_EQ(st.segments[i].last_lsn + 1, st.segments[i + 1].first_lsn);
  }
  for (Lsn from = 1; from <= n + 1; ++from) {
    Status s;
    auto recs = ReadAll(**log, &s, from);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_EQ(recs.size(), n - from + 1) << "from " << from;
    for (size_t k = 0; k < recs.size(); ++k) {
      ASSERT_EQ(recs[k].lsn, from + k);
      ASSERT_EQ(recs[k].payload, Payload(from + k, 50 + (from + k) % 90));
    }
  }
  uint64_t seg_records = 0;
  for (const SegmentInfo& seg : st.segments) seg_records += seg.last_lsn + 1 - seg.first_lsn;
  EXPECT_EQ(seg_records, static_cast<uint64_t>(n));
  EXPECT_LE(st.first_time_ns, st.last_time_ns);
  EXPECT_GT(st.first_time_ns, 0);
  // Past the end and before the start.
  EXPECT_FALSE((*log)->NewIterator(n + 1)->Valid());
  EXPECT_TRUE((*log)->NewIterator(n + 50)->status().ok());
  EXPECT_EQ(ReadAll(**log, nullptr, 0).size(), static_cast<size_t>(n));

  // The same after reopening, when sealed segments' indexes come from their footers.
  log->reset();
  auto again = Log::Open(tmp.path(), SmallSegments(4096));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  const LogStats st2 = (*again)->Stats();
  EXPECT_EQ(st2.records, st.records);
  EXPECT_EQ(st2.segments.size(), st.segments.size());
  EXPECT_EQ(st2.first_time_ns, st.first_time_ns);
  EXPECT_EQ(st2.last_time_ns, st.last_time_ns);
  for (Lsn from = 1; from <= n; ++from) {
    auto it = (*again)->NewIterator(from);
    ASSERT_TRUE(it->Valid()) << from;
    ASSERT_EQ(it->record().lsn, from);
    ASSERT_EQ(it->record().payload, Payload(from, 50 + from % 90));
  }
  for (Lsn from : {1, 2, 57, 199, 200, 399, 400}) {
    auto recs = ReadAll(**again, nullptr, from);
    ASSERT_EQ(recs.size(), n - from + 1);
    EXPECT_EQ(recs.front().lsn, from);
    EXPECT_EQ(recs.back().lsn, static_cast<Lsn>(n));
  }
}

// A writer's payload: "w<writer>-<i>|" and then a fill that depends on both, so a reader can
// check every byte of every record it is given.
std::string WriterPayload(int w, int i) {
  std::string p = "w" + std::to_string(w) + "-" + std::to_string(i) + "|";
  p.resize(60 + (i % 5) * 30, static_cast<char>('a' + (w * 7 + i) % 26));
  return p;
}

bool WellFormed(std::string_view p) {
  int w = 0, i = 0, n = 0;
  const std::string s(p);
  if (std::sscanf(s.c_str(), "w%d-%d|%n", &w, &i, &n) != 2 || n == 0) return false;
  return s == WriterPayload(w, i);
}

TEST(IteratorTest, ReaderConcurrentWithWritersSeesGaplessCompletePrefixes) {
  testing::TempDir tmp;
  auto opened = Log::Open(tmp.path(), SmallSegments(8192));
  ASSERT_TRUE(opened.ok());
  Log& log = **opened;
  constexpr int kWriters = 4, kPerWriter = 300;
  std::atomic<bool> done{false};
  std::atomic<int> bad{0}, passes{0};
  std::string first_problem;
  auto problem = [&](const std::string& what) {
    if (bad++ == 0) first_problem = what;
  };
  std::thread reader([&] {
    bool last_pass = false;
    while (!last_pass) {
      last_pass = done.load();
      // Everything visible before the iterator starts must come out of it.
      const Lsn visible = log.LastLsn();
      Lsn expect = 1;
      auto it = log.NewIterator(1);
      for (; it->Valid(); it->Next()) {
        const LogRecord& r = it->record();
        if (r.lsn != expect++) problem("gap: LSN " + std::to_string(r.lsn));
        if (!WellFormed(r.payload)) problem("bad payload at LSN " + std::to_string(r.lsn));
      }
      if (!it->status().ok()) problem(it->status().ToString());
      if (expect - 1 < visible) problem("iterator stopped before the visible LSN");
      ++passes;
    }
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kPerWriter; ++i) {
        const std::string p = WriterPayload(w, i);
        if (i % 10 == 0) {
          std::vector<std::string_view> batch = {p, p, p};
          auto r = log.Append(batch);
          if (!r.ok() || r->last_lsn != r->first_lsn + 2) problem("batch append");
        } else if (!log.Append(p).ok()) {
          problem("append");
        }
      }
    });
  }
  for (auto& t : writers) t.join();
  done = true;
  reader.join();
  EXPECT_EQ(bad.load(), 0) << first_problem;
  EXPECT_GE(passes.load(), 1);
  const std::vector<Rec> all = ReadAll(log);
  EXPECT_EQ(all.size(), static_cast<size_t>(kWriters * (kPerWriter + 2 * kPerWriter / 10)));
  std::multiset<std::string> seen;
  for (const Rec& r : all) seen.insert(r.payload);
  for (int w = 0; w < kWriters; ++w) {
    for (int i = 0; i < kPerWriter; ++i) {
      EXPECT_EQ(seen.count(WriterPayload(w, i)), i % 10 == 0 ? 3u : 1u) << w << "/" << i;
    }
  }
  // A batch's records are adjacent.
  for (size_t k = 0; k < all.size(); ++k) {
    int w = 0, i = 0;
    std::sscanf(all[k].payload.c_str(), "w%d-%d|", &w, &i);
    if (i % 10 != 0) continue;
    ASSERT_LT(k + 2, all.size());
    EXPECT_EQ(all[k + 1].payload, all[k].payload);
    EXPECT_EQ(all[k + 2].payload, all[k].payload);
    k += 2;
  }
}

TEST(IteratorTest, LsnAtTimeAndWaitFor) {
  testing::TempDir tmp;
  auto log = Log::Open(tmp.path(), SmallSegments(4096));
  ASSERT_TRUE(log.ok());
  std::vector<int64_t> times;
  for (int i = 0; i < 200; ++i) {
    auto r = (*log)->Append(Payload(i));
    ASSERT_TRUE(r.ok());
    times.push_back(r->time_ns);
  }
  for (size_t i = 0; i < times.size(); i += 7) {
    const Lsn at = (*log)->LsnAtTime(times[i]);
    // The first LSN whose time is >= t: equal times share the earliest LSN.
    size_t first = i;
    while (first > 0 && times[first - 1] >= times[i]) --first;
    EXPECT_EQ(at, first + 1) << i;
  }
  EXPECT_EQ((*log)->LsnAtTime(times.back() + 1), 201u);
  EXPECT_EQ((*log)->LsnAtTime(0), 1u);
  const Lsn mid = (*log)->LsnAtTime(times[123]);

  // After a reopen the sealed segments answer from their footers' time index.
  log->reset();
  log = Log::Open(tmp.path(), SmallSegments(4096));
  ASSERT_TRUE(log.ok());
  EXPECT_EQ((*log)->LsnAtTime(times[123]), mid);
  EXPECT_EQ((*log)->LsnAtTime(0), 1u);
  EXPECT_EQ((*log)->LsnAtTime(times.back() + 1), 201u);

  EXPECT_TRUE((*log)->WaitFor(200, std::chrono::milliseconds(0)));
  EXPECT_FALSE((*log)->WaitFor(201, std::chrono::milliseconds(20)));
  std::thread t([&] { ASSERT_TRUE((*log)->Append("late").ok()); });
  EXPECT_TRUE((*log)->WaitFor(201, std::chrono::seconds(30)));
  t.join();
}

}  // namespace
}  // namespace tink::log
