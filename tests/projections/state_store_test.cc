// StateStore (projections/state_store.h): consecutive batches only, already-applied events
// skipped, Drop, format-version rebuilds, undecodable events, the applied position, read-only.
#include "projections/state_store.h"

#include <gtest/gtest.h>

#include "projections/reader.h"
#include "projections_test_util.h"
#include "support/temp_dir.h"

namespace tink::projections {
namespace {

using testing::EventLog;
using testing::Input;
using testing::Must;
using Json = nlohmann::json;

// Records the LSNs it is shown and writes one key per event.
class Recorder final : public Projection {
 public:
  explicit Recorder(std::string name = "recorder", uint32_t version = 1)
      : name_(std::move(name)), version_(version) {}
  std::string_view name() const override { return name_; }
  uint32_t format_version() const override { return version_; }
  Status Apply(const Event& e, ApplyContext& ctx) override {
    EXPECT_NE(e.fb, nullptr);
    seen.push_back(e.lsn);
    std::string k;
    AppendBE64(&k, e.lsn);
    ctx.Put(k, e.view.type);
    return Status::Ok();
  }
  void ResetCache() override { ++resets; }
  std::vector<Lsn> seen;
  int resets = 0;

 private:
  std::string name_;
  uint32_t version_;
};

size_t CountKeys(StateStore* st, std::string_view cf) {
  StateReader r(st);
  size_t n = 0;
  EXPECT_TRUE(r.Scan(cf, "", "", [&](std::string_view, std::string_view) {
                 ++n;
                 return true;
               }).ok());
  return n;
}

std::vector<Lsn> Range(Lsn a, Lsn b) {
  std::vector<Lsn> v;
  for (Lsn l = a; l <= b; ++l) v.push_back(l);
  return v;
}

// Events touching every projection: tasks moving through their states, several streams and runs.
void Fill(EventLog& log, int n) {
  int64_t t = 5'000;
  for (int i = 0; i < n; ++i) {
    const std::string run = "r" + std::to_string(i % 3);
    const std::string task = "t" + std::to_string(i / 6);
    static const char* kTypes[] = {"task.created", "task.ready",   "task.started",
                                   "tool.call",    "task.yielded", "note"};
    const std::string type = kTypes[i % 6];
    Json data = type == "note" ? Json{{"text", "n"}} : Json{{"task", task}};
    if (i % 4 == 0) ++t;
    log.Add(Input(type, run, data, 0, "s" + std::to_string(i % 5), "id" + std::to_string(i)), t);
  }
}

std::map<std::string, std::string> Digests(StateStore* st) {
  std::map<std::string, std::string> d;
  for (Projection* p : st->projections()) d[std::string(p->name())] = Must(st->Digest(p->name()));
  return d;
}

class StateStoreTest : public ::testing::Test {
 protected:
  tink::testing::TempDir dir_;
  EventLog log_;
};

TEST_F(StateStoreTest, ApplyRefusesAGap) {
  Fill(log_, 40);
  Recorder rec;
  auto st = Must(StateStore::Open(dir_.path(), {&rec}));
  ASSERT_TRUE(log_.ApplyTo(st.get(), 1, 10).ok());
  const auto before = Digests(st.get());
  Status s = log_.ApplyTo(st.get(), 12, 20);
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(s.IsFailed()) << s.ToString();
  EXPECT_NE(s.message().find("is at LSN 10 but was given events from 12"), std::string::npos)
      << s.ToString();
  EXPECT_EQ(st->applied("recorder").lsn, 10u);
  EXPECT_EQ(Digests(st.get()), before) << "nothing written";
  EXPECT_EQ(rec.seen, Range(1, 10)) << "the projection saw none of the refused batch";
  ASSERT_TRUE(log_.ApplyTo(st.get(), 11, 20).ok());
  EXPECT_EQ(rec.seen, Range(1, 20));
  EXPECT_EQ(st->applied("recorder").lsn, 20u);
}

// A gap for one projection must not leave the others' caches ahead of their committed state:
// the batch is refused as a whole, and the next (correct) batch gives the same state as a store
// that never saw the refused one.
TEST_F(StateStoreTest, GapForOneProjectionLeavesNoTraceInTheOthers) {
  Fill(log_, 120);
  auto st = testing::OpenState(dir_.path());
  ASSERT_TRUE(log_.ApplyTo(st->store.get(), 1, 50).ok());
  ASSERT_TRUE(st->store->Drop("scheduler").ok());  // the last projection, now at 0
  Status s = log_.ApplyTo(st->store.get(), 51, 100);
  ASSERT_FALSE(s.ok()) << "a gap for the scheduler";
  EXPECT_EQ(st->store->applied("streams").lsn, 50u);
  EXPECT_EQ(st->store->applied("scheduler").lsn, 0u);
  ASSERT_TRUE(log_.ApplyTo(st->store.get(), 1, 100).ok());
  ASSERT_TRUE(log_.ApplyTo(st->store.get(), 101, 120).ok());
  tink::testing::TempDir other;
  auto fresh = testing::OpenState(other.path());
  ASSERT_TRUE(log_.ApplyTo(fresh->store.get(), 1, 120).ok());
  EXPECT_EQ(Digests(st->store.get()), Digests(fresh->store.get()));
}

TEST_F(StateStoreTest, SkipsAlreadyAppliedEvents) {
  Fill(log_, 30);
  Recorder rec;
  auto st = Must(StateStore::Open(dir_.path(), {&rec}));
  ASSERT_TRUE(log_.ApplyTo(st.get(), 1, 10).ok());
  ASSERT_TRUE(log_.ApplyTo(st.get(), 5, 15).ok()) << "an overlapping batch is fine";
  EXPECT_EQ(rec.seen, Range(1, 15)) << "each event folded once";
  ASSERT_TRUE(log_.ApplyTo(st.get(), 1, 15).ok()) << "a fully applied batch is a no-op";
  ASSERT_TRUE(log_.ApplyTo(st.get(), 3, 3).ok());
  EXPECT_EQ(rec.seen, Range(1, 15));
  EXPECT_EQ(st->applied("recorder").lsn, 15u);
  EXPECT_EQ(st->applied("recorder").payload_hash, log_.hash(15));
  ASSERT_TRUE(st->Apply({}, {}).ok()) << "an empty batch";
  EXPECT_EQ(st->applied("recorder").lsn, 15u);

  // Same state as a store given 1..15 once.
  tink::testing::TempDir other;
  Recorder rec2;
  auto once = Must(StateStore::Open(other.path(), {&rec2}));
  ASSERT_TRUE(log_.ApplyTo(once.get(), 1, 15).ok());
  EXPECT_EQ(Must(st->Digest("recorder")), Must(once->Digest("recorder")));
  EXPECT_EQ(CountKeys(st.get(), "recorder"), 15u);
}

TEST_F(StateStoreTest, ProjectionsAtDifferentPositionsEachGetTheirOwnTail) {
  Fill(log_, 30);
  Recorder a("a"), b("b");
  auto st = Must(StateStore::Open(dir_.path(), {&a, &b}));
  ASSERT_TRUE(log_.ApplyTo(st.get(), 1, 20).ok());
  const int resets = b.resets;
  ASSERT_TRUE(st->Drop("b").ok());
  EXPECT_EQ(st->min_applied(), 0u);
  EXPECT_EQ(b.resets, resets + 1) << "Drop forgets the projection's cache";
  b.seen.clear();
  ASSERT_TRUE(log_.ApplyTo(st.get(), 1, 25).ok());
  EXPECT_EQ(a.seen, Range(1, 25));
  EXPECT_EQ(b.seen, Range(1, 25));
  EXPECT_EQ(st->min_applied(), 25u);
}

TEST_F(StateStoreTest, DropResetsAProjection) {
  Fill(log_, 90);
  auto st = testing::OpenState(dir_.path());
  ASSERT_TRUE(log_.ApplyTo(st->store.get(), 1, 90).ok());
  const auto full = Digests(st->store.get());
  tink::testing::TempDir empty_dir;
  auto empty = testing::OpenState(empty_dir.path());
  const auto empty_digests = Digests(empty->store.get());

  ASSERT_TRUE(st->store->Drop("scheduler").ok());
  EXPECT_EQ(st->store->applied("scheduler").lsn, 0u);
  EXPECT_EQ(st->store->applied("scheduler").payload_hash, 0u);
  EXPECT_EQ(Must(st->store->Digest("scheduler")), empty_digests.at("scheduler"));
  EXPECT_EQ(CountKeys(st->store.get(), "scheduler"), 0u);
  {
    StateReader r(st->store.get());
    EXPECT_EQ(r.applied("scheduler"), 0u);
    EXPECT_TRUE(Must(SchedulerReader(r).ListTasks(std::nullopt, UINT64_MAX)).empty());
  }
  for (const char* p : {"ids", "streams", "runs", "types", "times"}) {
    EXPECT_EQ(Must(st->store->Digest(p)), full.at(p)) << p << " untouched";
  }
  // Rebuilt from LSN 1 (the others skip what they have): the same state as before.
  ASSERT_TRUE(log_.ApplyTo(st->store.get(), 1, 90).ok());
  EXPECT_EQ(Digests(st->store.get()), full);
  EXPECT_TRUE(st->store->Drop("nope").IsNotFound());
  // Dropped state stays dropped across a reopen.
  ASSERT_TRUE(st->store->Drop("streams").ok());
  st.reset();
  st = testing::OpenState(dir_.path());
  EXPECT_EQ(st->store->applied("streams").lsn, 0u);
  EXPECT_EQ(st->store->applied("ids").lsn, 90u);
  EXPECT_EQ(CountKeys(st->store.get(), "streams"), 0u);
}

TEST_F(StateStoreTest, FormatVersionMismatchDropsOnReopen) {
  Fill(log_, 20);
  {
    Recorder a("a", 1), b("b", 7);
    auto st = Must(StateStore::Open(dir_.path(), {&a, &b}));
    ASSERT_TRUE(log_.ApplyTo(st.get(), 1, 20).ok());
    EXPECT_EQ(Must(st->GetMeta(FormatKey("a"))), std::optional<std::string>("1"));
    EXPECT_EQ(Must(st->GetMeta(FormatKey("b"))), std::optional<std::string>("7"));
  }
  {
    // Same versions: everything kept.
    Recorder a("a", 1), b("b", 7);
    auto st = Must(StateStore::Open(dir_.path(), {&a, &b}));
    EXPECT_EQ(st->applied("a").lsn, 20u);
    EXPECT_EQ(st->applied("b").lsn, 20u);
    EXPECT_EQ(CountKeys(st.get(), "b"), 20u);
    EXPECT_EQ(a.resets, 0);
  }
  {
    // b's layout changed: b is emptied and rebuilt from LSN 1; a is kept.
    Recorder a("a", 1), b("b", 8);
    auto st = Must(StateStore::Open(dir_.path(), {&a, &b}));
    EXPECT_EQ(st->applied("a").lsn, 20u);
    EXPECT_EQ(st->applied("b").lsn, 0u);
    EXPECT_EQ(CountKeys(st.get(), "a"), 20u);
    EXPECT_EQ(CountKeys(st.get(), "b"), 0u);
    EXPECT_EQ(Must(st->GetMeta(FormatKey("b"))), std::optional<std::string>("8"));
    ASSERT_TRUE(log_.ApplyTo(st.get(), 1, 20).ok());
    EXPECT_TRUE(a.seen.empty());
    EXPECT_EQ(b.seen, Range(1, 20));
  }
  {
    Recorder a("a", 1), b("b", 8);
    auto st = Must(StateStore::Open(dir_.path(), {&a, &b}));
    EXPECT_EQ(st->applied("b").lsn, 20u) << "the new version is kept";
  }
}

TEST_F(StateStoreTest, UndecodableEventsAdvanceWithoutReachingProjections) {
  log_.AddJson(R"({"stream":"s","type":"note","run":"r","data":{"text":"1"},)"
               R"("occurred":"2026-01-01T00:00:00Z"})",
               10);
  ASSERT_NE(log_.at(1).fb, nullptr);
  EXPECT_EQ(log_.at(1).view.run, "r");
  EXPECT_EQ(log_.at(1).when_ns(), Must(schema::ParseTime("2026-01-01T00:00:00Z")));
  log_.AddUndecodable(11);
  log_.Add(Input("note", "r", Json{{"text", "3"}}), 12);
  log_.AddUndecodable(13);
  log_.AddUndecodable(14);
  ASSERT_EQ(log_.at(2).fb, nullptr);
  ASSERT_NE(log_.at(3).fb, nullptr);
  Recorder rec;
  auto st = Must(StateStore::Open(dir_.path(), {&rec}));
  ASSERT_TRUE(log_.ApplyTo(st.get(), 1, 2).ok());
  EXPECT_EQ(st->applied("recorder").lsn, 2u) << "a batch ending in an undecodable event";
  EXPECT_EQ(st->applied("recorder").time_ns, 11);
  EXPECT_EQ(st->applied("recorder").payload_hash, log_.hash(2));
  ASSERT_TRUE(log_.ApplyTo(st.get(), 3, 5).ok());
  EXPECT_EQ(rec.seen, (std::vector<Lsn>{1, 3}));
  EXPECT_EQ(st->applied("recorder").lsn, 5u);
  EXPECT_EQ(st->applied("recorder").time_ns, 14);
  EXPECT_EQ(CountKeys(st.get(), "recorder"), 2u);
  // A batch of nothing but undecodable events still moves the position.
  log_.AddUndecodable(15);
  ASSERT_TRUE(log_.ApplyTo(st.get(), 6, 6).ok());
  EXPECT_EQ(st->applied("recorder").lsn, 6u);
  EXPECT_EQ(rec.seen, (std::vector<Lsn>{1, 3}));
}

TEST_F(StateStoreTest, AppliedPositionPersistsAndReadOnlyOpenSeesIt) {
  Fill(log_, 25);
  std::map<std::string, std::string> digests;
  {
    auto st = testing::OpenState(dir_.path());
    ASSERT_TRUE(log_.ApplyTo(st->store.get(), 1, 25).ok());
    ASSERT_TRUE(st->store->SetMeta(kStoreIdKey, "store-1").ok());
    digests = Digests(st->store.get());
  }
  {
    auto st = testing::OpenState(dir_.path());
    for (const char* p : testing::kAllProjectionNames) {
      const Applied a = st->store->applied(p);
      EXPECT_EQ(a.lsn, 25u) << p;
      EXPECT_EQ(a.time_ns, log_.at(25).time_ns) << p;
      EXPECT_EQ(a.payload_hash, log_.hash(25)) << p;
    }
    EXPECT_EQ(st->store->min_applied(), 25u);
    EXPECT_EQ(Must(st->store->GetMeta(kStoreIdKey)), std::optional<std::string>("store-1"));
    EXPECT_EQ(Digests(st->store.get()), digests);
  }
  StateOptions ro;
  ro.read_only = true;
  auto st = testing::OpenState(dir_.path(), ro);
  ASSERT_NE(st->store, nullptr);
  EXPECT_EQ(st->store->applied("scheduler").lsn, 25u);
  EXPECT_EQ(Digests(st->store.get()), digests);
  Fill(log_, 1);
  EXPECT_FALSE(log_.ApplyTo(st->store.get(), 26, 26).ok()) << "read-only refuses writes";
  EXPECT_EQ(st->store->applied("scheduler").lsn, 25u);
}

}  // namespace
}  // namespace tink::projections
