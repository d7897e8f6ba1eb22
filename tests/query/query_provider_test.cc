// EngineProvider (shell/query/provider.h), the sources: fields in schema order, as of an earlier
// point differs from the head, pushdown == the unindexed filter, the events stream pulls bounded
// chunks, between, cancel.
#include "query/provider_test_fixture.h"

namespace tink::query::test {
namespace {

TEST_F(ProviderTest, SourcesTable) {
  std::vector<std::string> names;
  for (const SourceInfo& s : Sources()) {
    names.push_back(s.name);
    EXPECT_FALSE(s.fields.empty()) << s.name;
    EXPECT_EQ(FindSource(s.name), &s);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"events", "runs", "tasks", "files", "nodes", "edges",
                                             "anomalies", "segments"}));
  EXPECT_EQ(FindSource("nope"), nullptr);
  EXPECT_TRUE(FindSource("events")->between);
  EXPECT_FALSE(FindSource("segments")->as_of);
}

TEST_F(ProviderTest, EveryProjectionSourceHasItsFieldsInOrder) {
  for (const char* src : {"runs", "tasks", "files", "nodes", "edges", "anomalies", "segments"}) {
    std::vector<Row> rows = Open(src);
    EXPECT_FALSE(rows.empty()) << src;
    for (const Row& r : rows) EXPECT_EQ(Keys(r), Fields(src)) << src << ": " << r.dump();
  }
}

TEST_F(ProviderTest, EventsAreTheEnvelope) {
  std::vector<Row> rows = Open("events");
  ASSERT_EQ(rows.size(), last_);
  std::vector<std::string> order = Fields("events");
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i]["lsn"].get<Lsn>(), i + 1);
    // Keys are a subsequence of the schema's (occurred/run/causation only when set).
    size_t at = 0;
    for (const std::string& k : Keys(rows[i])) {
      while (at < order.size() && order[at] != k) ++at;
      EXPECT_LT(at, order.size()) << "unexpected or misordered key " << k;
    }
    for (const char* k : {"lsn", "time", "id", "stream", "type", "data"}) {
      EXPECT_TRUE(rows[i].contains(k)) << k;
    }
  }
  EXPECT_EQ(rows[failed1_ - 1]["causation"].get<Lsn>(), result1_);
  EXPECT_EQ(rows[failed1_ - 1]["data"]["error"], "exit code 2");
}

TEST_F(ProviderTest, AsOfAnEarlierPointDiffersFromTheHead) {
  // events: lsn <= point.
  std::vector<Row> ev = Open("events", AtLsn(10));
  ASSERT_EQ(ev.size(), 10u);
  EXPECT_EQ(ev.back()["lsn"], 10);
  // tasks: t1 running before its failure, failed at the head.
  auto state = [&](std::optional<Point> p) {
    for (const Row& r : Open("tasks", p)) {
      if (r["id"] == "r1/t1") return r["state"].get<std::string>();
    }
    return std::string("absent");
  };
  EXPECT_EQ(state(AtLsn(t1_started_)), "running");
  EXPECT_EQ(state(std::nullopt), "failed");
  EXPECT_EQ(state(AtLsn(main_started_)), "absent");
  // runs: fewer tasks earlier.
  EXPECT_LT(Open("runs", AtLsn(t1_started_))[0]["tasks"].get<int>(),
            Open("runs")[0]["tasks"].get<int>());
  // files: a.txt's first version.
  auto size = [&](std::optional<Point> p) {
    for (const Row& r : Open("files", p)) {
      if (r["path"] == "a.txt") return r["size"].get<uint64_t>();
    }
    return uint64_t{0};
  };
  EXPECT_EQ(size(AtLsn(file1_)), 8u);
  EXPECT_EQ(size(std::nullopt), 14u);
  EXPECT_EQ(size(AtLsn(file1_ - 1)), 0u);
  // nodes and edges: n4 and e4 came after mid_.
  EXPECT_EQ(Open("nodes", AtLsn(mid_)).size(), 3u);
  EXPECT_EQ(Open("nodes").size(), 4u);
  EXPECT_EQ(Open("edges", AtLsn(mid_)).size(), 2u);
  EXPECT_EQ(Open("edges").size(), 3u);
  // anomalies: none before the ghost task.
  EXPECT_TRUE(Open("anomalies", AtLsn(ghost_ - 1)).empty());
  std::vector<Row> an = Open("anomalies");
  std::set<std::string> projs;
  for (const Row& r : an) projs.insert(r["projection"].get<std::string>());
  EXPECT_EQ(projs, (std::set<std::string>{"scheduler", "canvas", "memory"}));
  EXPECT_TRUE(std::is_sorted(an.begin(), an.end(), [](const Row& a, const Row& b) {
    return a["lsn"].get<Lsn>() < b["lsn"].get<Lsn>();
  }));
  // A time point: the last LSN recorded at or before it.
  Point t;
  t.kind = Point::Kind::kTime;
  t.time_ns = schema::ParseTime(
                  ev[t1_started_ - 1 < ev.size() ? t1_started_ - 1 : 0]["time"].get<std::string>())
                  .value();
  EXPECT_GE(Open("events", t).size(), t1_started_);
  EXPECT_FALSE(Open("tasks", t).empty());
}

TEST_F(ProviderTest, EventPushdownsUseTheIndexAndMatchTheUnindexedFilter) {
  const std::vector<Row> all = Open("events");
  struct Case {
    std::string field, index;
    Json value;
  };
  for (const Case& c : std::vector<Case>{{"stream", "stream", "run/r1/task/t1"},
                                         {"stream", "stream", "misc/a"},
                                         {"type", "type", "x.ping"},
                                         {"type", "type", "task.failed"},
                                         {"run", "run", "r2"},
                                         {"run", "run", "nope"}}) {
    std::vector<Row> got = Open("events", std::nullopt, {{c.field, {c.value}}});
    EXPECT_EQ(provider_->stats().last_index, c.index) << c.field;
    EXPECT_EQ(got, Filter(all, c.field, c.value)) << c.field << " == " << c.value;
  }
  // Two conjuncts: one index, the other filtered by the engine.
  std::vector<Row> both =
      Open("events", std::nullopt, {{"run", {"r1"}}, {"type", {"task.failed"}}});
  EXPECT_EQ(both, Filter(Filter(all, "run", "r1"), "type", "task.failed"));
  EXPECT_EQ(both.size(), 2u);
  // lsn == N reads one record; lsn in [...] a superset the executor narrows.
  std::vector<Row> one = Open("events", std::nullopt, {{"lsn", {Json(failed1_)}}});
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0]["lsn"], failed1_);
  std::vector<Row> range = Open("events", std::nullopt, {{"lsn", {Json(3), Json(5)}}});
  EXPECT_EQ(range.size(), 3u);
  // Several values of an indexed field: no pushdown, so a superset.
  EXPECT_EQ(Open("events", std::nullopt, {{"type", {"note", "x.ping"}}}).size(), all.size());
  // Non-string literal or contradictory conjuncts: nothing can match.
  EXPECT_TRUE(Open("events", std::nullopt, {{"stream", {Json(5)}}}).empty());
  EXPECT_TRUE(Open("events", std::nullopt, {{"run", {"r1"}}, {"run", {"r2"}}}).empty());
  // as of + pushdown.
  std::vector<Row> early = Open("events", AtLsn(failed1_), {{"type", {"task.failed"}}});
  ASSERT_EQ(early.size(), 1u);
}

TEST_F(ProviderTest, ProjectionPushdownsMatchTheUnindexedFilter) {
  struct Case {
    std::string source, field;
    Json value;
  };
  for (const Case& c : std::vector<Case>{{"tasks", "run", "r1"},
                                         {"tasks", "run", "r2"},
                                         {"tasks", "id", "r1/t2"},
                                         {"tasks", "id", "r1/none"},
                                         {"runs", "run", "r2"},
                                         {"files", "run", "r1"},
                                         {"files", "path", "b.txt"},
                                         {"files", "path", "nope"},
                                         {"nodes", "id", "n2"},
                                         {"edges", "src", "n1"},
                                         {"edges", "dst", "n2"},
                                         {"edges", "id", "e4"},
                                         {"anomalies", "projection", "canvas"},
                                         {"anomalies", "run", "r1"}}) {
    const std::vector<Row> all = Open(c.source);
    std::vector<Row> got = Open(c.source, std::nullopt, {{c.field, {c.value}}});
    EXPECT_EQ(Filter(got, c.field, c.value), Filter(all, c.field, c.value))
        << c.source << " where " << c.field << " == " << c.value;
  }
  EXPECT_EQ(Open("tasks", std::nullopt, {{"run", {"r1"}}}).size(), 4u);
  // state == S reads only the runs with such tasks as of the point, and builds only their rows:
  // exactly the filtered rows, at every point.
  for (Lsn at : {main_started_, t1_started_, result1_, last_}) {
    const std::vector<Row> all = Open("tasks", AtLsn(at));
    for (const char* st : {"created", "running", "failed", "succeeded", "ready"}) {
      EXPECT_EQ(Open("tasks", AtLsn(at), {{"state", {st}}}), Filter(all, "state", st))
          << "state " << st << " as of " << at;
      EXPECT_EQ(Open("tasks", AtLsn(at), {{"state", {st}}, {"run", {"r1"}}}),
                Filter(Filter(all, "state", st), "run", "r1"));
    }
  }
  EXPECT_FALSE(Open("tasks", std::nullopt, {{"state", {"failed"}}}).empty());
  // A task's earlier version through id pushdown and as of.
  std::vector<Row> t1 = Open("tasks", AtLsn(t1_started_), {{"id", {"r1/t1"}}});
  ASSERT_EQ(t1.size(), 1u);
  EXPECT_EQ(t1[0]["state"], "running");
}

TEST_F(ProviderTest, EventsStreamInBoundedChunks) {
  const uint64_t before = provider_->stats().event_scans;
  std::vector<Row> all = Open("events");
  ASSERT_EQ(all.size(), last_);
  // No index: one iterator over the log, nothing buffered.
  EXPECT_EQ(provider_->stats().event_scans - before, 1u);
  EXPECT_EQ(provider_->stats().event_max_buffered, 0u);
  // Through an index: chunks of 7, each a separate Engine::Scan holding at most 7 records.
  const uint64_t mid = provider_->stats().event_scans;
  std::vector<Row> notes = Open("events", std::nullopt, {{"type", {"note"}}});
  EXPECT_EQ(notes, Filter(all, "type", "note"));
  ASSERT_GT(notes.size(), 7u);
  EXPECT_GE(provider_->stats().event_scans - mid, notes.size() / 7);
  EXPECT_LE(provider_->stats().event_max_buffered, 7u);
  EXPECT_GT(provider_->stats().event_max_buffered, 0u);
  for (size_t i = 1; i < all.size(); ++i) EXPECT_LT(all[i - 1]["lsn"], all[i]["lsn"]);
}

TEST_F(ProviderTest, Between) {
  ScanRequest req;
  req.source = "events";
  req.between = std::make_pair(AtLsn(5), AtLsn(9));
  std::vector<Row> rows = Open(req);
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows.front()["lsn"], 5);
  EXPECT_EQ(rows.back()["lsn"], 9);
  // Record-time bounds: everything (all events share a few timestamps at most).
  Point lo, hi;
  lo.kind = hi.kind = Point::Kind::kTime;
  lo.time_ns = schema::ParseTime(rows.front()["time"].get<std::string>()).value();
  hi.time_ns = schema::ParseTime(rows.back()["time"].get<std::string>()).value();
  req.between = std::make_pair(lo, hi);
  std::vector<Row> by_time = Open(req);
  EXPECT_GE(by_time.size(), 5u);
  for (const Row& r : by_time) {
    int64_t t = schema::ParseTime(r["time"].get<std::string>()).value();
    EXPECT_GE(t, lo.time_ns);
    EXPECT_LE(t, hi.time_ns);
  }
  // between on a projection source is refused.
  req.source = "tasks";
  EXPECT_FALSE(provider_->Open(req, &cancel_).ok());
  ScanRequest seg;
  seg.source = "segments";
  seg.as_of = AtLsn(3);
  EXPECT_EQ(provider_->Open(seg, &cancel_).status().code(), Code::kInvalidArgument);
  ScanRequest bad;
  bad.source = "nope";
  EXPECT_EQ(provider_->Open(bad, &cancel_).status().code(), Code::kInvalidArgument);
}

TEST_F(ProviderTest, CancelStopsEveryStream) {
  for (const char* src : {"events", "tasks", "segments"}) {
    ScanRequest req;
    req.source = src;
    auto s = provider_->Open(req, &cancel_);
    ASSERT_TRUE(s.ok());
    Row r;
    ASSERT_TRUE((*s)->Next(&r).value());
    cancel_ = true;
    Result<bool> n = (*s)->Next(&r);
    EXPECT_FALSE(n.ok()) << src;
    EXPECT_TRUE(IsCancelled(n.status())) << n.status().ToString();
    cancel_ = false;
  }
  cancel_ = true;
  auto v = Verb("why", {"r1/t1"});
  EXPECT_TRUE(!v.ok() && IsCancelled(v.status()));
  cancel_ = false;
}

}  // namespace
TEST_F(ProviderTest, EventsNarrowedToSomeFieldsEqualTheFullRowsCutDown) {
  const std::vector<Row> all = Open("events");
  ASSERT_FALSE(all.empty());
  const std::vector<std::vector<std::string>> cases = {
      {},
      {"type"},
      {"lsn", "time"},
      {"run", "stream", "causation"},
      {"occurred", "id", "type", "lsn"},
      {"type", "data"},
      {"type", "data.exit_code", "data.task"},
      {"data.text"},
  };
  for (const std::vector<std::string>& fields : cases) {
    ScanRequest req;
    req.source = "events";
    req.fields = fields;
    const std::vector<Row> got = Open(req);
    ASSERT_EQ(got.size(), all.size());
    bool has_data = std::find(fields.begin(), fields.end(), "data") != fields.end();
    for (size_t i = 0; i < all.size(); ++i) {
      if (has_data) {
        EXPECT_EQ(got[i], all[i]);  // data needs the whole envelope
        continue;
      }
      Row want = Row::object();
      for (auto it = all[i].begin(); it != all[i].end(); ++it) {
        if (std::find(fields.begin(), fields.end(), it.key()) != fields.end()) {
          want[it.key()] = it.value();
        }
      }
      // data.K: the whole envelope (cheap next to data), and data with only the keys named.
      Row data = Row::object();  // in the payload's own key order
      bool any = false;
      for (const std::string& f : fields) any = any || f.starts_with("data.");
      for (auto it = all[i]["data"].begin(); it != all[i]["data"].end(); ++it) {
        if (std::find(fields.begin(), fields.end(), "data." + it.key()) != fields.end()) {
          data[it.key()] = it.value();
        }
      }
      if (any) {
        want = all[i];
        want["data"] = data;
      }
      EXPECT_EQ(got[i], want) << "row " << i << " fields " << json(fields).dump();
    }
  }
}

// count and group by over events run on LSN slices in parallel (Provider::Split), each slice on
// its own thread: the rows must be those of one sequential pass, for every aggregate and filter.
TEST_F(ProviderTest, ParallelAggregatesEqualOneSequentialPass) {
  EngineProvider sequential(engine_, EngineProvider::Options{7, UINT64_MAX});
  EngineProvider parallel(engine_, EngineProvider::Options{7, /*split_min_events=*/1});
  auto run = [&](EngineProvider& p, const std::string& q) {
    auto prepared = PrepareQuery(p, q, &cancel_);
    EXPECT_TRUE(prepared.ok()) << prepared.status().ToString();
    if (!prepared.ok()) return std::vector<Row>{};
    if (auto* e = std::get_if<QueryError>(&*prepared)) {
      ADD_FAILURE() << q << ": " << e->ToString();
      return std::vector<Row>{};
    }
    return Drain(*std::get<Prepared>(*prepared).rows);
  };
  ASSERT_EQ(setenv("TINK_SCAN_THREADS", "3", 1), 0);
  for (const std::string q : {
           "events | count",
           "events | group by type",
           "events | where type ~ 'task' | group by run, type count() as n, min(lsn) as lo, "
           "max(lsn) as hi, sum(lsn) as s, avg(lsn) as a, min(time) as t0",
           "events | where data.exit_code != 0 | count",
           "events | where data.task != null | group by data.task count() as n",
           "events | between 3 and 20 | group by stream",
           "events | group by type | sort count desc, type | limit 2",
           "events as of 10 | count",
           "events | where run == 'r1' | count",
           "events | where lsn > 1000000 | count",
       }) {
    const uint64_t before = parallel.stats().event_scans;
    const std::vector<Row> want = run(sequential, q);
    const std::vector<Row> got = run(parallel, q);
    ASSERT_FALSE(want.empty()) << q;
    EXPECT_EQ(got, want) << q;
    const bool split = q.find("run ==") == std::string::npos && q.find("between") == std::string::npos;
    if (split) {
      EXPECT_EQ(parallel.stats().event_scans - before, 3u) << q << ": not split in 3";
    }
  }
  // A cancelled parallel scan fails as cancelled.
  Cancel cancelled{true};
  auto prepared = PrepareQuery(parallel, "events | group by type", &cancelled);
  ASSERT_TRUE(prepared.ok());
  Row r;
  Result<bool> next = std::get<Prepared>(*prepared).rows->Next(&r);
  EXPECT_TRUE(IsCancelled(next.status())) << next.status().ToString();
  ASSERT_EQ(unsetenv("TINK_SCAN_THREADS"), 0);
}

}  // namespace tink::query::test
