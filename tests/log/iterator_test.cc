// Iteration from any LSN, across segment boundaries, concurrently with writers; time lookups.
#include <gtest/gtest.h>

#include <atomic>
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
  // The same after reopening, when sealed segments' indexes come from their footers.
  log->reset();
  auto again = Log::Open(tmp.path(), SmallSegments(4096));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  for (Lsn from : {1, 2, 57, 199, 200, 399, 400}) {
    auto recs = ReadAll(**again, nullptr, from);
    ASSERT_EQ(recs.size(), n - from + 1);
    EXPECT_EQ(recs.front().lsn, from);
  }
}

TEST(IteratorTest, ReaderConcurrentWithWritersSeesGaplessCompletePrefixes) {
  testing::TempDir tmp;
  auto opened = Log::Open(tmp.path(), SmallSegments(8192));
  ASSERT_TRUE(opened.ok());
  Log& log = **opened;
  constexpr int kWriters = 4, kPerWriter = 300;
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  std::thread reader([&] {
    while (!done.load()) {
      Lsn expect = 1;
      auto it = log.NewIterator(1);
      for (; it->Valid(); it->Next()) {
        const auto& r = it->record();
        // Each payload names itself: "w<writer>-<i>|" padded; intact and in LSN order.
        if (r.lsn != expect++ || r.payload.size() < 4 || r.payload[0] != 'w') ++bad;
      }
      if (!it->status().ok()) ++bad;
    }
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kPerWriter; ++i) {
        std::string p = "w" + std::to_string(w) + "-" + std::to_string(i) + "|";
        p.resize(60 + (i % 5) * 30, '.');
        if (i % 10 == 0) {
          std::vector<std::string_view> batch = {p, p, p};
          if (!log.Append(batch).ok()) ++bad;
        } else if (!log.Append(p).ok()) {
          ++bad;
        }
      }
    });
  }
  for (auto& t : writers) t.join();
  done = true;
  reader.join();
  EXPECT_EQ(bad.load(), 0);
  std::multiset<std::string> seen;
  for (const Rec& r : ReadAll(log)) seen.insert(r.payload.substr(0, r.payload.find('|')));
  for (int w = 0; w < kWriters; ++w) {
    for (int i = 0; i < kPerWriter; ++i) {
      const std::string id = "w" + std::to_string(w) + "-" + std::to_string(i);
      EXPECT_EQ(seen.count(id), i % 10 == 0 ? 3u : 1u) << id;
    }
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

  EXPECT_TRUE((*log)->WaitFor(200, std::chrono::milliseconds(0)));
  EXPECT_FALSE((*log)->WaitFor(201, std::chrono::milliseconds(20)));
  std::thread t([&] { ASSERT_TRUE((*log)->Append("late").ok()); });
  EXPECT_TRUE((*log)->WaitFor(201, std::chrono::seconds(30)));
  t.join();
}

}  // namespace
}  // namespace tink::log
