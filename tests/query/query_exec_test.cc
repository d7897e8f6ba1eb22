// The executor of the query language (shell/query/exec.h) over a fake Provider with in-memory
// rows: every operator and expression form, null and type rules, field checks against Sources()
// with "did you mean", what reaches the ScanRequest (as of, between, pushdown), limit pulling no
// more than it needs, count streaming, group by aggregates, verbs, cancellation.
#include <gtest/gtest.h>

#include <functional>

#include "shell/query/exec.h"

namespace tink::query {
namespace {

Row Ev(uint64_t lsn, const std::string& time, const std::string& type, const std::string& run,
       Json data) {
  Row r = Row::object();
  r["lsn"] = lsn;
  r["time"] = time;
  r["id"] = "e" + std::to_string(lsn);
  r["stream"] = "run/" + run + "/task/t" + std::to_string(lsn % 2);
  r["type"] = type;
  if (!run.empty()) r["run"] = run;
  r["data"] = std::move(data);
  return r;
}

std::vector<Row> Events() {
  return {
      Ev(1, "2026-01-01T00:00:00.000000000Z", "run.started", "r1", {{"name", "first"}}),
      Ev(2, "2026-01-01T00:00:01.000000000Z", "tool.call", "r1", {{"tool", "bash"}}),
      Ev(3, "2026-01-01T00:00:02.000000000Z", "tool.result", "r1",
         {{"tool", "bash"}, {"exit_code", 0}, {"ms", 10}}),
      Ev(4, "2026-01-01T12:00:00.000000000Z", "tool.call", "r2", {{"tool", "edit"}}),
      Ev(5, "2026-01-02T00:00:00.000000000Z", "tool.result", "r2",
         {{"tool", "edit"}, {"exit_code", 1}, {"ms", 2.5}, {"error", "No such file"}}),
      Ev(6, "2026-01-02T00:00:01.000000000Z", "task.failed", "r2",
         {{"error", "exit 1"}, {"ok", false}}),
      Ev(7, "2026-01-03T00:00:00.000000000Z", "tool.result", "r1",
         {{"tool", "bash"}, {"exit_code", 2}, {"ms", 30}, {"ok", true}}),
      Ev(8, "2026-01-03T00:00:01.000000000Z", "note", "", {{"text", "hello"}}),
  };
}

class VectorStream final : public RowStream {
 public:
  VectorStream(std::vector<Row> rows, std::vector<std::string> cols, size_t* pulled,
               const Cancel* cancel)
      : rows_(std::move(rows)), cols_(std::move(cols)), pulled_(pulled), cancel_(cancel) {}
  Result<bool> Next(Row* out) override {
    if (cancel_ != nullptr && cancel_->load()) return Cancelled();
    if (i_ >= rows_.size()) return false;
    *out = rows_[i_++];
    ++*pulled_;
    return true;
  }
  std::vector<std::string> Columns() const override { return cols_; }

 private:
  std::vector<Row> rows_;
  std::vector<std::string> cols_;
  size_t* pulled_;
  const Cancel* cancel_;
  size_t i_ = 0;
};

// Generates n events without holding them: count must not buffer.
class CountingStream final : public RowStream {
 public:
  explicit CountingStream(uint64_t n) : n_(n) {}
  Result<bool> Next(Row* out) override {
    if (i_ >= n_) return false;
    *out = Row{{"lsn", ++i_}, {"type", "x"}};
    return true;
  }
  std::vector<std::string> Columns() const override { return {"lsn", "type"}; }

 private:
  uint64_t n_, i_ = 0;
};

// Rows per source; records the last request and verb call; counts the rows it yields.
class FakeProvider final : public Provider {
 public:
  Result<std::unique_ptr<RowStream>> Open(const ScanRequest& req, const Cancel* cancel) override {
    last_req = req;
    if (!open_status.ok()) return open_status;
    if (generate) return std::unique_ptr<RowStream>(std::make_unique<CountingStream>(generate));
    std::vector<std::string> cols;
    for (const FieldInfo& f : FindSource(req.source)->fields) cols.push_back(f.name);
    return std::unique_ptr<RowStream>(
        std::make_unique<VectorStream>(rows[req.source], cols, &pulled, cancel));
  }
  Result<VerbResult> RunVerb(const VerbCall& call, const Cancel*) override {
    last_call = call;
    if (call.args.size() == 1 && call.args[0] == "nope") {
      return Status::NotFound("no run or task 'nope'");
    }
    VerbResult r;
    r.text = call.verb + " ok\n";
    return r;
  }
  std::vector<std::string> CompletionIds(std::string_view, size_t) override { return {}; }

  std::map<std::string, std::vector<Row>> rows{{"events", Events()}};
  ScanRequest last_req;
  VerbCall last_call;
  size_t pulled = 0;
  uint64_t generate = 0;
  Status open_status;
};

class QueryExec : public ::testing::Test {
 protected:
  // The rows of `text`, or fails the test.
  std::vector<Row> Rows(std::string_view text) {
    auto p = PrepareQuery(provider_, text, &cancel_);
    if (!p.ok()) {
      ADD_FAILURE() << text << ": " << p.status().ToString();
      return {};
    }
    if (auto* e = std::get_if<QueryError>(&*p)) {
      ADD_FAILURE() << text << ": " << e->ToString();
      return {};
    }
    Prepared& prep = std::get<Prepared>(*p);
    columns_ = prep.rows->Columns();
    std::vector<Row> out;
    Row r;
    while (true) {
      auto more = prep.rows->Next(&r);
      if (!more.ok()) {
        ADD_FAILURE() << text << ": " << more.status().ToString();
        break;
      }
      if (!*more) break;
      out.push_back(r);
    }
    return out;
  }

  // The LSNs of the rows of `text`.
  std::vector<uint64_t> Lsns(std::string_view text) {
    std::vector<uint64_t> out;
    for (const Row& r : Rows(text)) out.push_back(r["lsn"].get<uint64_t>());
    return out;
  }

  std::vector<uint64_t> WhereLsns(std::string_view cond) {
    return Lsns("events | where " + std::string(cond));
  }

  std::string Error(std::string_view text) {
    auto p = PrepareQuery(provider_, text, &cancel_);
    if (!p.ok()) return "status: " + p.status().ToString();
    if (auto* e = std::get_if<QueryError>(&*p)) return e->ToString();
    return "(no error)";
  }

  FakeProvider provider_;
  Cancel cancel_{false};
  std::vector<std::string> columns_;
};

using L = std::vector<uint64_t>;

TEST_F(QueryExec, SourceAlone) {
  EXPECT_EQ(Lsns("events"), (L{1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(columns_.front(), "lsn");
  EXPECT_EQ(provider_.last_req.source, "events");
  EXPECT_FALSE(provider_.last_req.as_of);
}

TEST_F(QueryExec, Comparisons) {
  EXPECT_EQ(WhereLsns("lsn == 3"), L{3});
  EXPECT_EQ(WhereLsns("lsn != 3"), (L{1, 2, 4, 5, 6, 7, 8}));
  EXPECT_EQ(WhereLsns("lsn < 3"), (L{1, 2}));
  EXPECT_EQ(WhereLsns("lsn <= 3"), (L{1, 2, 3}));
  EXPECT_EQ(WhereLsns("lsn > 6"), (L{7, 8}));
  EXPECT_EQ(WhereLsns("lsn >= 6"), (L{6, 7, 8}));
  EXPECT_EQ(WhereLsns("7 <= lsn"), (L{7, 8}));
  EXPECT_EQ(WhereLsns("type == 'tool.result'"), (L{3, 5, 7}));
  EXPECT_EQ(WhereLsns("type > 'tool'"), (L{2, 3, 4, 5, 7}));  // strings byte-wise
  EXPECT_EQ(WhereLsns("data.tool == data.tool"), (L{2, 3, 4, 5, 7}));
}

TEST_F(QueryExec, SubstringAndRegex) {
  EXPECT_EQ(WhereLsns("type ~ 'result'"), (L{3, 5, 7}));
  EXPECT_EQ(WhereLsns("data.error ~ 'such'"), L{5});
  EXPECT_EQ(WhereLsns("type =~ '^t(ool|ask)\\.(call|failed)$'"), (L{2, 4, 6}));
  EXPECT_EQ(WhereLsns("data.error =~ '\\d'"), L{6});  // '\d' keeps its backslash
  EXPECT_EQ(WhereLsns("data.exit_code ~ '1'"), L{});  // ~ on a number: false, not an error
  EXPECT_EQ(Error("events | where type =~ '(unclosed'").substr(0, 38),
            "error at 1:24: bad regex '(unclosed': ");
  EXPECT_EQ(Error("events | where lsn ~ '1'"),
            "error at 1:16: '~' works on strings; 'lsn' is an int");
  EXPECT_EQ(Error("events | where type =~ 5"), "error at 1:24: '=~' needs a 'string' on its right");
  EXPECT_EQ(Error("events | where type =~ run"),
            "error at 1:24: the right of '=~' is a literal pattern ('regex')");
}

TEST_F(QueryExec, InLists) {
  EXPECT_EQ(WhereLsns("type in ['note', 'tool.call']"), (L{2, 4, 8}));
  EXPECT_EQ(WhereLsns("type not in ['note', 'tool.call', 'tool.result']"), (L{1, 6}));
  EXPECT_EQ(WhereLsns("data.exit_code in [1, 2.0]"), (L{5, 7}));  // 2 == 2.0
  EXPECT_EQ(WhereLsns("run in [null]"), L{8});
  EXPECT_EQ(WhereLsns("lsn in []"), L{});
  EXPECT_EQ(Error("events | where lsn in [1, 'x']"),
            "error at 1:27: 'lsn' is an int; compare it with a number");
}

TEST_F(QueryExec, BooleanLogic) {
  EXPECT_EQ(WhereLsns("run == 'r2' and type == 'tool.call' or lsn == 1"), (L{1, 4}));
  EXPECT_EQ(WhereLsns("run == 'r2' and (type == 'tool.call' or lsn == 1)"), L{4});
  EXPECT_EQ(WhereLsns("not type ~ 'tool'"), (L{1, 6, 8}));
  EXPECT_EQ(WhereLsns("not (lsn > 2 and lsn < 8)"), (L{1, 2, 8}));
  EXPECT_EQ(WhereLsns("data.ok"), L{7});  // a bare field: true when it holds true
  EXPECT_EQ(WhereLsns("not data.ok"), (L{1, 2, 3, 4, 5, 6, 8}));
  EXPECT_EQ(WhereLsns("data.ok == false"), L{6});
  EXPECT_EQ(WhereLsns("false"), L{});
  EXPECT_EQ(Error("events | where lsn"),
            "error at 1:16: 'lsn' is an int, not a condition: compare it (lsn == ...)");
}

TEST_F(QueryExec, NullSemantics) {
  EXPECT_EQ(WhereLsns("run == null"), L{8});  // missing reads as null
  EXPECT_EQ(WhereLsns("run != null"), (L{1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(WhereLsns("data.exit_code != 1"), (L{3, 7}));  // null != 1 is false
  EXPECT_EQ(WhereLsns("data.exit_code >= 0"), (L{3, 5, 7}));
  EXPECT_EQ(WhereLsns("data.nothing.deeper == null"), (L{1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(WhereLsns("null == null"), (L{1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(WhereLsns("not data.exit_code == 1"), (L{1, 2, 3, 4, 6, 7, 8}));  // not negates
  EXPECT_EQ(WhereLsns("data.tool not in ['bash']"), (L{1, 4, 5, 6, 8}));
  EXPECT_EQ(WhereLsns("null != data.exit_code"), (L{3, 5, 7}));
  EXPECT_EQ(Error("events | where lsn > null"),
            "error at 1:22: '> null' is never true; use '== null' or '!= null'");
}

TEST_F(QueryExec, NumbersAndTypes) {
  EXPECT_EQ(WhereLsns("data.ms > 2"), (L{3, 5, 7}));  // int and float compare numerically
  EXPECT_EQ(WhereLsns("data.ms < 2.6"), L{5});
  EXPECT_EQ(WhereLsns("data.exit_code == 1.0"), L{5});
  EXPECT_EQ(WhereLsns("data.exit_code == '1'"), L{});  // different types are never equal
  EXPECT_EQ(WhereLsns("data.tool > 1"), L{});          // nor ordered
  EXPECT_EQ(WhereLsns("lsn > -5"), (L{1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(Error("events | where lsn == '3'"),
            "error at 1:23: 'lsn' is an int; compare it with a number");
  EXPECT_EQ(Error("events | where type == 3"),
            "error at 1:24: 'type' is a string; compare it with a 'string'");
}

TEST_F(QueryExec, TimeLiteralsAreNormalized) {
  EXPECT_EQ(WhereLsns("time >= '2026-01-02'"), (L{5, 6, 7, 8}));
  EXPECT_EQ(WhereLsns("time < '2026-01-01T12:00:00Z'"), (L{1, 2, 3}));
  EXPECT_EQ(WhereLsns("time == '2026-01-01T12:00:00+00:00'"), L{4});
  EXPECT_EQ(WhereLsns("time ~ '2026-01-03'"), (L{7, 8}));  // ~ is on the text, not normalized
  EXPECT_EQ(Error("events | where time > 'soon'").substr(0, 32),
            "error at 1:23: bad time 'soon': ");  // schema::ParseTime's words
  EXPECT_EQ(Error("events | where time > 5"),
            "error at 1:23: 'time' is a time; compare it with a 'time'");
}

TEST_F(QueryExec, UnknownFields) {
  EXPECT_EQ(Error("events | where tpye == 'x'"),
            "error at 1:16: unknown field 'tpye' — did you mean 'type'?");
  EXPECT_EQ(Error("events | where exit_code == 1"),
            "error at 1:16: unknown field 'exit_code' — did you mean 'data.exit_code'?");
  EXPECT_EQ(Error("events | where lsn.x == 1"),
            "error at 1:16: field 'lsn' is an int; it has no field 'x'");
  EXPECT_EQ(Error("events | select lsn, typo.x"),
            "error at 1:22: unknown field 'typo' — did you mean 'type'?");
  EXPECT_EQ(
      Error("events | sort bogus_field_name"),
      "error at 1:15: unknown field 'bogus_field_name' — did you mean 'data.bogus_field_name'?");
  EXPECT_EQ(Error("segments | where fil == 'x'"),
            "error at 1:18: unknown field 'fil' — did you mean 'file'?");
  EXPECT_EQ(Error("segments | where zzz.q == 'x'"),
            "error at 1:18: unknown field 'zzz' (fields: file, first_lsn, last_lsn, events, bytes, "
            "sealed)");
  // Every field path below data is accepted.
  EXPECT_EQ(WhereLsns("data.any.thing.at.all == 1"), L{});
}

TEST_F(QueryExec, Select) {
  std::vector<Row> rows =
      Rows("events | where lsn == 5 | select lsn as n, data.exit_code, data.missing as m");
  EXPECT_EQ(columns_, (std::vector<std::string>{"n", "data.exit_code", "m"}));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].dump(), R"({"n":5,"data.exit_code":1,"m":null})");
  // Later operators see the new names; the old ones are gone.
  EXPECT_EQ(Rows("events | select lsn as n | where n > 6").size(), 2u);
  EXPECT_EQ(Rows("events | select data.exit_code | where data.exit_code == 2").size(), 1u);
  EXPECT_EQ(Error("events | select lsn as n | where lsn > 1"),
            "error at 1:34: unknown field 'lsn' (fields: n)");
  EXPECT_EQ(Error("events | select lsn, type as lsn"),
            "error at 1:30: column 'lsn' appears twice; rename it with 'as'");
  // A selected int keeps its type for checks.
  EXPECT_EQ(Error("events | select lsn as n | where n == 'x'"),
            "error at 1:39: 'n' is an int; compare it with a number");
}

TEST_F(QueryExec, SortIsStableWithManyKeysAndNullsLast) {
  EXPECT_EQ(Lsns("events | sort lsn desc"), (L{8, 7, 6, 5, 4, 3, 2, 1}));
  // Ties keep their input order.
  EXPECT_EQ(Lsns("events | sort by run"), (L{1, 2, 3, 7, 4, 5, 6, 8}));
  EXPECT_EQ(Lsns("events | sort run desc, lsn desc"), (L{6, 5, 4, 7, 3, 2, 1, 8}));
  EXPECT_EQ(Lsns("events | sort data.exit_code"), (L{3, 5, 7, 1, 2, 4, 6, 8}));
  EXPECT_EQ(Lsns("events | sort data.exit_code desc"), (L{7, 5, 3, 1, 2, 4, 6, 8}));
  EXPECT_EQ(Lsns("events | sort data.ms desc"), (L{7, 3, 5, 1, 2, 4, 6, 8}));
}

TEST_F(QueryExec, SortThenLimitKeepsTheTop) {
  provider_.generate = 10000;
  std::vector<Row> rows = Rows("events | sort lsn desc | limit 3");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0]["lsn"], 10000);
  EXPECT_EQ(rows[2]["lsn"], 9998);
  rows = Rows("events | sort type | limit 2");  // all tie: the first two, in order
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["lsn"], 1);
  EXPECT_EQ(rows[1]["lsn"], 2);
}

TEST_F(QueryExec, LimitStopsPulling) {
  EXPECT_EQ(Lsns("events | limit 3"), (L{1, 2, 3}));
  EXPECT_EQ(provider_.pulled, 3u);
  provider_.pulled = 0;
  EXPECT_EQ(Lsns("events | where type == 'tool.result' | limit 2"), (L{3, 5}));
  EXPECT_EQ(provider_.pulled, 5u);
  provider_.pulled = 0;
  EXPECT_EQ(Lsns("events | limit 0"), L{});
  EXPECT_EQ(provider_.pulled, 0u);
  EXPECT_EQ(Lsns("events | limit 100"), (L{1, 2, 3, 4, 5, 6, 7, 8}));
}

TEST_F(QueryExec, Count) {
  std::vector<Row> rows = Rows("events | count");
  EXPECT_EQ(columns_, std::vector<std::string>{"count"});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].dump(), R"({"count":8})");
  EXPECT_EQ(Rows("events | where lsn > 100 | count")[0]["count"], 0);
  EXPECT_EQ(Rows("events | count | where count > 5").size(), 1u);
}

TEST_F(QueryExec, CountStreams) {
  // Two million generated rows: counted one at a time, never held.
  provider_.generate = 2'000'000;
  EXPECT_EQ(Rows("events | count")[0]["count"], 2'000'000);
}

TEST_F(QueryExec, GroupByAggregates) {
  std::vector<Row> rows = Rows(
      "events | where run != null | group by run count() as n, count(data.exit_code) as results, "
      "min(lsn) as first, max(time) as last, sum(data.ms) as ms, avg(data.exit_code) as avg_exit");
  EXPECT_EQ(columns_,
            (std::vector<std::string>{"run", "n", "results", "first", "last", "ms", "avg_exit"}));
  ASSERT_EQ(rows.size(), 2u);  // in order of first appearance
  EXPECT_EQ(
      rows[0].dump(),
      R"({"run":"r1","n":4,"results":2,"first":1,"last":"2026-01-03T00:00:00.000000000Z","ms":40,"avg_exit":1.0})");
  EXPECT_EQ(
      rows[1].dump(),
      R"({"run":"r2","n":3,"results":1,"first":4,"last":"2026-01-02T00:00:01.000000000Z","ms":2.5,"avg_exit":1.0})");
}

TEST_F(QueryExec, GroupByDefaultsAndKeys) {
  std::vector<Row> rows = Rows("events | group by type");
  EXPECT_EQ(columns_, (std::vector<std::string>{"type", "count"}));
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[1].dump(), R"({"type":"tool.call","count":2})");
  // Several keys; a missing key is a group of its own (null).
  rows = Rows("events | group by run, data.tool count(*) | sort count desc, run");
  EXPECT_EQ(columns_, (std::vector<std::string>{"run", "data.tool", "count"}));
  EXPECT_EQ(rows[0].dump(), R"({"run":"r1","data.tool":"bash","count":3})");
  EXPECT_EQ(rows.back().dump(), R"({"run":null,"data.tool":null,"count":1})");
  // Sum and avg of nothing are null; min and max of nothing are null.
  rows = Rows("events | where lsn == 1 | group by type sum(data.ms), avg(data.ms), min(data.ms)");
  EXPECT_EQ(rows[0].dump(),
            R"({"type":"run.started","sum_data_ms":null,"avg_data_ms":null,"min_data_ms":null})");
  // The output is a new set of columns.
  EXPECT_EQ(Error("events | group by type | where lsn > 1"),
            "error at 1:32: unknown field 'lsn' (fields: type, count)");
  EXPECT_EQ(Error("events | group by type sum(stream)"),
            "error at 1:28: sum() adds numbers; 'stream' is a string");
  EXPECT_EQ(Error("events | group by type count() as type"),
            "error at 1:24: column 'type' appears twice; rename it with 'as'");
}

TEST_F(QueryExec, BetweenLsnsAndTimes) {
  EXPECT_EQ(Lsns("events | between 3 and 5"), (L{3, 4, 5}));
  ASSERT_TRUE(provider_.last_req.between);
  EXPECT_EQ(provider_.last_req.between->first.lsn, 3u);
  EXPECT_EQ(provider_.last_req.between->second.lsn, 5u);
  EXPECT_EQ(Lsns("events | between 6 and now"), (L{6, 7, 8}));
  EXPECT_EQ(Lsns("events | between '2026-01-01T12:00:00Z' and '2026-01-02T00:00:00Z'"), (L{4, 5}));
  EXPECT_EQ(provider_.last_req.between->first.kind, Point::Kind::kTime);
  EXPECT_EQ(Lsns("events | between 2 and '2026-01-02'"), (L{2, 3, 4, 5}));
  // After a where it is still pushed down; after limit it is not, and filters what limit kept.
  EXPECT_EQ(Lsns("events | where run == 'r1' | between 2 and 7"), (L{2, 3, 7}));
  EXPECT_TRUE(provider_.last_req.between);
  EXPECT_EQ(Lsns("events | limit 4 | between 3 and 8"), (L{3, 4}));
  EXPECT_FALSE(provider_.last_req.between);
  EXPECT_EQ(Error("runs | between 1 and 2"),
            "error at 1:8: 'between' works on events; 'runs' does not take it (use 'as of')");
  EXPECT_EQ(
      Error("events | select type | between 1 and 2"),
      "error at 1:24: 'between' needs the field 'lsn'; put it before select, count and group by");
}

TEST_F(QueryExec, AsOf) {
  EXPECT_EQ(Lsns("events as of 5 | limit 1"), L{1});
  ASSERT_TRUE(provider_.last_req.as_of);
  EXPECT_EQ(provider_.last_req.as_of->lsn, 5u);
  EXPECT_EQ(Error("segments as of 3"),
            "error at 1:16: 'segments' has no history: 'as of' does not apply");
  // The provider's refusal of a point is the user's error, at the point.
  provider_.open_status = Status::InvalidArgument("LSN 99 is past the end of the log (8)");
  EXPECT_EQ(Error("events as of 99"), "error at 1:14: LSN 99 is past the end of the log (8)");
  provider_.open_status = Status::IOError("disk on fire");
  EXPECT_EQ(Error("events"), "status: IO error: disk on fire");
}

TEST_F(QueryExec, Pushdown) {
  Rows(
      "events | where type == 'tool.result' and run in ['r1', 'r2'] | where 'x' == stream | "
      "where data.tool == 'bash' | where lsn > 1 or lsn == 1 | limit 1 | where id == 'e3'");
  const std::vector<Pushdown>& eq = provider_.last_req.equals;
  ASSERT_EQ(eq.size(), 3u);
  EXPECT_EQ(eq[0].field, "type");
  EXPECT_EQ(Json(eq[0].values).dump(), R"(["tool.result"])");
  EXPECT_EQ(eq[1].field, "run");
  EXPECT_EQ(Json(eq[1].values).dump(), R"(["r1","r2"])");
  EXPECT_EQ(eq[2].field, "stream");
  // Not pushed: a sub-path, an or, anything after limit, == null, not in, != .
  Rows("events | where run == null and type not in ['x'] and type != 'y'");
  EXPECT_TRUE(provider_.last_req.equals.empty());
  // A time is pushed in the store's format.
  Rows("events | where time == '2026-01-01'");
  ASSERT_EQ(provider_.last_req.equals.size(), 1u);
  EXPECT_EQ(provider_.last_req.equals[0].values[0], "2026-01-01T00:00:00.000000000Z");
  // The filter still runs whatever the provider did with the pushdown.
  EXPECT_EQ(Lsns("events | where type == 'note'"), L{8});
}

TEST_F(QueryExec, Verbs) {
  auto p = PrepareQuery(provider_, "diff src/a.py --run r1 @2 @now", &cancel_);
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(std::holds_alternative<Prepared>(*p));
  EXPECT_EQ(*std::get<Prepared>(*p).text, "diff ok\n");
  EXPECT_EQ(provider_.last_call.verb, "diff");
  EXPECT_EQ(provider_.last_call.args, std::vector<std::string>{"src/a.py"});
  EXPECT_EQ(provider_.last_call.points.size(), 2u);
  // A provider's NotFound / InvalidArgument is a QueryError at the verb.
  EXPECT_EQ(Error("  timeline nope"), "error at 1:3: no run or task 'nope'");
}

TEST_F(QueryExec, CancelStopsEveryOperator) {
  for (std::string_view q :
       {"events", "events | where lsn > 0", "events | count", "events | sort lsn",
        "events | group by type", "events | select lsn | limit 5"}) {
    cancel_.store(false);
    auto p = PrepareQuery(provider_, q, &cancel_);
    ASSERT_TRUE(p.ok() && std::holds_alternative<Prepared>(*p)) << q;
    RowStream& rows = *std::get<Prepared>(*p).rows;
    cancel_.store(true);
    Row r;
    auto more = rows.Next(&r);
    ASSERT_FALSE(more.ok()) << q;
    EXPECT_TRUE(IsCancelled(more.status())) << q;
  }
  EXPECT_FALSE(IsCancelled(Status::InvalidArgument("other")));
}

TEST_F(QueryExec, CancelBetweenRowsOfAGeneratedStream) {
  // The generated stream does not check the flag itself: the operators do.
  provider_.generate = 1'000'000;
  for (std::string_view q : {"events | count", "events | where lsn > 0", "events | sort lsn"}) {
    cancel_.store(false);
    auto p = PrepareQuery(provider_, q, &cancel_);
    ASSERT_TRUE(p.ok() && std::holds_alternative<Prepared>(*p));
    cancel_.store(true);
    Row r;
    auto more = std::get<Prepared>(*p).rows->Next(&r);
    EXPECT_TRUE(!more.ok() && IsCancelled(more.status())) << q;
  }
}

TEST(QueryValues, Order) {
  Json null_value;
  EXPECT_LT(OrderValues(Json(1), Json(1.5)), 0);
  EXPECT_EQ(OrderValues(Json(2), Json(2.0)), 0);
  EXPECT_LT(OrderValues(Json(-1), Json(uint64_t{18446744073709551615u})), 0);
  EXPECT_LT(OrderValues(Json(99), Json("a")), 0);  // numbers < strings < booleans
  EXPECT_LT(OrderValues(Json("z"), Json(false)), 0);
  EXPECT_LT(OrderValues(Json(true), Json(nullptr)), 0);       // null last
  EXPECT_FALSE(CompareValues(nullptr, CmpOp::kEq, nullptr));  // == null is a test of its own
  EXPECT_FALSE(CompareValues(nullptr, CmpOp::kNe, &null_value));
  EXPECT_FALSE(CompareValues(&null_value, CmpOp::kLe, &null_value));
}

TEST(QueryValues, Lookup) {
  Row r = Row::parse(R"({"a":{"b":[10,{"c":3}]},"a.b":"flat"})");
  EXPECT_EQ(*Lookup(r, "a.b"), "flat");  // an exact key wins
  EXPECT_EQ(*Lookup(r, "a.b.1.c"), 3);
  Row r2 = Row::parse(R"({"a":{"b":[10,{"c":3}]}})");
  EXPECT_EQ(*Lookup(r2, "a.b.0"), 10);
  EXPECT_EQ(Lookup(r2, "a.b.2"), nullptr);
  EXPECT_EQ(Lookup(r2, "a.x"), nullptr);
  EXPECT_EQ(Lookup(r2, "a.b.0.z"), nullptr);
}

TEST(QueryError, ToString) {
  EXPECT_EQ(
      (QueryError{{1, 17}, "unknown field 'exitcode' — did you mean 'exit_code'?"}).ToString(),
      "error at 1:17: unknown field 'exitcode' — did you mean 'exit_code'?");
}

}  // namespace
TEST_F(QueryExec, ScanAsksOnlyForTheFieldsAProjectingQueryReads) {
  using Fields = std::optional<std::vector<std::string>>;
  auto fields = [&](std::string_view q) {
    Rows(q);
    return provider_.last_req.fields;
  };
  // Rows of the source reach the output: every field.
  EXPECT_EQ(fields("events"), Fields());
  EXPECT_EQ(fields("events | where type == 'a' | sort lsn | limit 2"), Fields());
  // Ends in count / group by / select: what was referenced before the first of them.
  EXPECT_EQ(fields("events | count"), Fields(std::vector<std::string>{}));
  EXPECT_EQ(fields("events | group by type"), Fields(std::vector<std::string>{"type"}));
  EXPECT_EQ(fields("events | where lsn > 2 | group by type max(lsn) as m"),
            (Fields(std::vector<std::string>{"lsn", "type"})));
  EXPECT_EQ(fields("events | where data.exit_code == 2 | count"),
            Fields(std::vector<std::string>{"data.exit_code"}));
  EXPECT_EQ(fields("events | where data.a.b == 2 or data != null | group by data.c"),
            (Fields(std::vector<std::string>{"data", "data.a", "data.c"})));
  // Names made by select are not source fields; `between` reads lsn and time.
  EXPECT_EQ(fields("events | select lsn as n, type | where n > 6 | sort type"),
            (Fields(std::vector<std::string>{"lsn", "type"})));
  EXPECT_EQ(fields("events | between 2 and 4 | count"),
            (Fields(std::vector<std::string>{"lsn", "time"})));
}

}  // namespace tink::query
