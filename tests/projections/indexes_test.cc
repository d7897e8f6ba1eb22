// The index projections (projections/indexes.h): ids, streams (gapless versions from 0), runs,
// types and times, with their lookups checked against brute force over random events applied in
// random batches; and time -> LSN resolution (StateReader::LsnAtOrBefore, Resolve).
#include "projections/indexes.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "projections_test_util.h"
#include "support/temp_dir.h"

namespace tink::projections {
namespace {

using testing::EventLog;
using testing::Input;
using testing::Must;
using testing::OpenState;
using Json = nlohmann::json;

std::vector<Lsn> Collect(const std::function<Status(const LsnFn&)>& scan, int stop_after = -1) {
  std::vector<Lsn> out;
  Status s = scan([&](Lsn l) {
    out.push_back(l);
    return stop_after < 0 || static_cast<int>(out.size()) < stop_after;
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

std::vector<Lsn> Filter(const std::vector<Lsn>& all, Lsn from, Lsn to) {
  std::vector<Lsn> out;
  for (Lsn l : all) {
    if (l >= from && l <= to) out.push_back(l);
  }
  return out;
}

// Random events over streams, runs and types whose names are prefixes of one another.
class IndexesTest : public ::testing::Test {
 protected:
  const std::vector<std::string> streams_ = {"a", "ab", "a/b", "b", "run/r/task/1", "é", "a b"};
  const std::vector<std::string> runs_ = {"", "r", "r1", "r/x", "q"};
  const std::vector<std::string> types_ = {"note", "my.custom", "my.custom2", "tool.call"};

  void Generate(size_t n, uint64_t seed) {
    std::mt19937_64 rng(seed);
    int64_t t = 1'700'000'000'000'000'000;
    for (size_t i = 0; i < n; ++i) {
      const std::string& stream = streams_[rng() % streams_.size()];
      const std::string& run = runs_[rng() % runs_.size()];
      const std::string& type = types_[rng() % types_.size()];
      Json data = type == "note" ? Json{{"text", "x"}} : Json::object();
      // Record times never decrease; many repeat.
      if (rng() % 3 == 0) t += 1 + static_cast<int64_t>(rng() % 5);
      const Lsn lsn = log_.Add(Input(type, run, data, 0, stream, "id-" + std::to_string(i)), t);
      by_stream_[stream].push_back(lsn);
      if (!run.empty()) by_run_[run].push_back(lsn);
      by_type_[type].push_back(lsn);
      times_.push_back(t);
    }
  }

  Status ApplyRandomBatches(StateStore* st, uint64_t seed) {
    std::mt19937_64 rng(seed);
    return log_.ApplyInBatches(st, 1, log_.last(), [&] { return 1 + rng() % 64; });
  }

  tink::testing::TempDir dir_;
  EventLog log_;
  std::map<std::string, std::vector<Lsn>> by_stream_, by_run_, by_type_;
  std::vector<int64_t> times_;  // times_[lsn - 1]
};

TEST_F(IndexesTest, IdsMapEachIdToItsLsn) {
  Generate(300, 1);
  auto st = OpenState(dir_.path());
  ASSERT_TRUE(ApplyRandomBatches(st->store.get(), 2).ok());
  StateReader r(st->store.get());
  for (Lsn l = 1; l <= log_.last(); ++l) {
    auto got = Must(LookupId(r, "id-" + std::to_string(l - 1)));
    ASSERT_EQ(got, std::optional<Lsn>(l));
  }
  EXPECT_FALSE(Must(LookupId(r, "id-300")).has_value());
  EXPECT_FALSE(Must(LookupId(r, "id-")).has_value());
  EXPECT_FALSE(Must(LookupId(r, "")).has_value());
}

TEST_F(IndexesTest, RepeatedIdAnswerIsIndependentOfBatching) {
  // The engine never writes an id twice; a log written by other means may. indexes.cc: the
  // repeat "gets the later LSN for it, deterministically" -- whatever the batch boundaries.
  const int64_t t = 1'000;
  log_.Add(Input("note", "r", Json{{"text", "1"}}, 0, "s", "dup"), t);
  log_.Add(Input("note", "r", Json{{"text", "2"}}, 0, "s", "other"), t);
  log_.Add(Input("note", "r", Json{{"text", "3"}}, 0, "s", "dup"), t);
  log_.Add(Input("note", "r", Json{{"text", "4"}}, 0, "s", "x"), t);
  log_.Add(Input("note", "r", Json{{"text", "5"}}, 0, "s", "dup"), t);
  std::vector<std::optional<Lsn>> answers;
  for (size_t batch : {1, 2, 3, 5}) {
    tink::testing::TempDir d;
    auto st = OpenState(d.path());
    ASSERT_TRUE(log_.ApplyInBatches(st->store.get(), 1, 5, [&] { return batch; }).ok());
    StateReader r(st->store.get());
    answers.push_back(Must(LookupId(r, "dup")));
    EXPECT_EQ(Must(LookupId(r, "other")), std::optional<Lsn>(2));
  }
  for (const auto& a : answers) EXPECT_EQ(a, std::optional<Lsn>(5)) << "the later LSN";
}

TEST_F(IndexesTest, StreamVersionsAreGaplessFromZero) {
  Generate(600, 3);
  auto st = OpenState(dir_.path());
  ASSERT_TRUE(ApplyRandomBatches(st->store.get(), 4).ok());
  StateReader r(st->store.get());
  for (const auto& [stream, lsns] : by_stream_) {
    SCOPED_TRACE(stream);
    // Version v of the stream is its v-th event: from_version = v yields exactly lsns[v..].
    EXPECT_EQ(Must(StreamVersion(r, stream)), std::optional<uint64_t>(lsns.size() - 1));
    EXPECT_EQ(Collect([&](const LsnFn& fn) { return StreamLsns(r, stream, 0, 0, UINT64_MAX, fn); }),
              lsns);
    for (uint64_t v : {uint64_t{1}, uint64_t{lsns.size() / 2}, uint64_t{lsns.size() - 1},
                       uint64_t{lsns.size()}, uint64_t{lsns.size() + 10}}) {
      std::vector<Lsn> want(lsns.begin() + std::min<size_t>(v, lsns.size()), lsns.end());
      EXPECT_EQ(
          Collect([&](const LsnFn& fn) { return StreamLsns(r, stream, v, 0, UINT64_MAX, fn); }),
          want)
          << "from version " << v;
    }
  }
  EXPECT_FALSE(Must(StreamVersion(r, "nope")).has_value());
  EXPECT_FALSE(Must(StreamVersion(r, "")).has_value());
  // A stream name that is a prefix of others ("a" of "ab", "a/b", "a b") sees only its own.
  EXPECT_EQ(Must(StreamVersion(r, "a")), std::optional<uint64_t>(by_stream_["a"].size() - 1));
}

TEST_F(IndexesTest, StreamVersionsContinueAcrossReopen) {
  Generate(400, 5);
  {
    auto st = OpenState(dir_.path());
    ASSERT_TRUE(log_.ApplyTo(st->store.get(), 1, 150).ok());
  }
  // A reopened StreamsIndex has no cache: it reads each stream's last version back.
  auto st = OpenState(dir_.path());
  ASSERT_TRUE(log_.ApplyInBatches(st->store.get(), 151, log_.last(), [] { return 37; }).ok());
  StateReader r(st->store.get());
  for (const auto& [stream, lsns] : by_stream_) {
    EXPECT_EQ(Collect([&](const LsnFn& fn) { return StreamLsns(r, stream, 0, 0, UINT64_MAX, fn); }),
              lsns)
        << stream;
  }
  // Same state as one store fed everything at once.
  tink::testing::TempDir other;
  auto once = OpenState(other.path());
  ASSERT_TRUE(log_.ApplyTo(once->store.get(), 1, log_.last()).ok());
  for (const char* p : testing::kAllProjectionNames) {
    EXPECT_EQ(Must(st->store->Digest(p)), Must(once->store->Digest(p))) << p;
  }
}

TEST_F(IndexesTest, LsnLookupsHonourBounds) {
  Generate(600, 6);
  auto st = OpenState(dir_.path());
  ASSERT_TRUE(ApplyRandomBatches(st->store.get(), 7).ok());
  StateReader r(st->store.get());
  std::mt19937_64 rng(8);
  std::vector<std::pair<Lsn, Lsn>> bounds = {{0, UINT64_MAX}, {1, 1},     {600, 600},
                                             {601, 700},      {300, 200}, {0, 0}};
  for (int i = 0; i < 20; ++i) {
    Lsn a = rng() % 620, b = rng() % 620;
    if (a > b) std::swap(a, b);
    bounds.emplace_back(a, b);
  }
  size_t hits = 0;
  for (const auto& [from, to] : bounds) {
    for (const auto& [run, lsns] : by_run_) {
      const auto got = Collect([&](const LsnFn& fn) { return RunLsns(r, run, from, to, fn); });
      EXPECT_EQ(got, Filter(lsns, from, to)) << "run " << run << " [" << from << ", " << to << "]";
      hits += got.size();
    }
    for (const auto& [type, lsns] : by_type_) {
      EXPECT_EQ(Collect([&](const LsnFn& fn) { return TypeLsns(r, type, from, to, fn); }),
                Filter(lsns, from, to))
          << "type " << type << " [" << from << ", " << to << "]";
    }
    for (const auto& [stream, lsns] : by_stream_) {
      EXPECT_EQ(Collect([&](const LsnFn& fn) { return StreamLsns(r, stream, 0, from, to, fn); }),
                Filter(lsns, from, to))
          << "stream " << stream << " [" << from << ", " << to << "]";
    }
  }
  EXPECT_GT(hits, 1000u);
  // Events without a run are not in the runs index; unknown names have nothing.
  EXPECT_TRUE(Collect([&](const LsnFn& fn) { return RunLsns(r, "", 0, UINT64_MAX, fn); }).empty());
  EXPECT_TRUE(
      Collect([&](const LsnFn& fn) { return TypeLsns(r, "my", 0, UINT64_MAX, fn); }).empty());
  // Early stop.
  EXPECT_EQ(Collect([&](const LsnFn& fn) { return RunLsns(r, "r", 0, UINT64_MAX, fn); }, 3).size(),
            3u);
  // ListRuns: every run with its first LSN, in ordered-string order of the run id.
  std::vector<std::pair<std::string, Lsn>> runs, want;
  ASSERT_TRUE(ListRuns(r, [&](std::string_view run, Lsn first) {
                runs.emplace_back(std::string(run), first);
                return true;
              }).ok());
  for (const auto& [run, lsns] : by_run_) want.emplace_back(run, lsns.front());
  EXPECT_EQ(runs, want);
}

TEST_F(IndexesTest, TimesResolveToLastLsnAtOrBefore) {
  // Times with repeats: 100 100 100 200 200 300 (LSN 1..6) then 300 again in a later batch.
  for (int64_t t : {100, 100, 100, 200, 200, 300})
    log_.Add(Input("note", "r", Json{{"text", "x"}}, 0, "s"), t);
  log_.Add(Input("note", "r", Json{{"text", "x"}}, 0, "s"), 300);
  log_.Add(Input("note", "r", Json{{"text", "x"}}, 0, "s"), 450);
  auto st = OpenState(dir_.path());
  ASSERT_TRUE(log_.ApplyTo(st->store.get(), 1, 6).ok());
  ASSERT_TRUE(log_.ApplyTo(st->store.get(), 7, 7).ok());
  {
    StateReader r(st->store.get());
    const std::vector<std::pair<int64_t, Lsn>> want = {
        {INT64_MIN, 0}, {-5, 0},  {-1, 0},  {0, 0},   {99, 0},  {100, 3},      {150, 3},
        {199, 3},       {200, 5}, {299, 5}, {300, 7}, {301, 7}, {INT64_MAX, 7}};
    for (const auto& [t, lsn] : want) {
      EXPECT_EQ(Must(r.LsnAtOrBefore(t)), lsn) << "time " << t;
      EXPECT_EQ(Must(r.Resolve(AsOf::AtTime(t), "times")), lsn) << "time " << t;
    }
    // Resolve clamps to the projection's applied position; the head is that position.
    EXPECT_EQ(Must(r.Resolve(AsOf::Head(), "times")), 7u);
    EXPECT_EQ(Must(r.Resolve(AsOf::AtLsn(4), "times")), 4u);
    EXPECT_EQ(Must(r.Resolve(AsOf::AtLsn(99), "times")), 7u);
    EXPECT_EQ(Must(r.Resolve(AsOf::AtLsn(99), "no-such-projection")), 0u);
  }
  // The scheduler behind the times index: a time resolves to at most the scheduler's position.
  ASSERT_TRUE(st->store->Drop("scheduler").ok());
  ASSERT_TRUE(log_.ApplyTo(st->store.get(), 1, 4).ok());  // only the scheduler needs these
  ASSERT_TRUE(log_.ApplyTo(st->store.get(), 8, 8).ok() == false) << "a gap for the scheduler";
  StateReader r(st->store.get());
  EXPECT_EQ(r.applied("scheduler"), 4u);
  EXPECT_EQ(r.applied("times"), 7u);
  EXPECT_EQ(Must(r.Resolve(AsOf::AtTime(300), "scheduler")), 4u);
  EXPECT_EQ(Must(r.Resolve(AsOf::AtTime(150), "scheduler")), 3u);
  EXPECT_EQ(Must(r.Resolve(AsOf::Head(), "scheduler")), 4u);
}

TEST_F(IndexesTest, TimesMatchBruteForceOverRandomTimes) {
  Generate(800, 9);
  auto st = OpenState(dir_.path());
  ASSERT_TRUE(ApplyRandomBatches(st->store.get(), 10).ok());
  StateReader r(st->store.get());
  auto brute = [&](int64_t t) {
    Lsn best = 0;
    for (size_t i = 0; i < times_.size(); ++i) {
      if (times_[i] <= t) best = i + 1;
    }
    return best;
  };
  std::vector<int64_t> probes = {times_.front() - 1, times_.back() + 1};
  for (int64_t t : times_) {
    probes.push_back(t);
    probes.push_back(t - 1);
    probes.push_back(t + 1);
  }
  for (int64_t t : probes) ASSERT_EQ(Must(r.LsnAtOrBefore(t)), brute(t)) << "time " << t;
}

}  // namespace
}  // namespace tink::projections
