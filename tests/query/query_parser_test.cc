// The parser of the query language (shell/query/parser.h): every operator and expression form,
// precedence, points, verbs and their arguments, and the position and wording of errors.
#include <gtest/gtest.h>

#include "shell/query/parser.h"

namespace tink::query {
namespace {

Query MustQuery(std::string_view text) {
  Parsed p = Parse(text);
  if (auto* e = std::get_if<QueryError>(&p)) ADD_FAILURE() << text << ": " << e->ToString();
  if (!std::holds_alternative<Query>(p)) return Query{};
  return std::move(std::get<Query>(p));
}

VerbCall MustVerb(std::string_view text) {
  Parsed p = Parse(text);
  if (auto* e = std::get_if<QueryError>(&p)) ADD_FAILURE() << text << ": " << e->ToString();
  if (!std::holds_alternative<VerbCall>(p)) return VerbCall{};
  return std::get<VerbCall>(p);
}

std::string Error(std::string_view text) {
  Parsed p = Parse(text);
  if (auto* e = std::get_if<QueryError>(&p)) return e->ToString();
  return "(parsed)";
}

// The expression tree as a string: (a == 1), and(x, y), in(f, [..]).
std::string Show(const Expr& e) {
  switch (e.kind) {
    case Expr::Kind::kLiteral:
      return e.value.dump();
    case Expr::Kind::kField:
      return e.field.path;
    case Expr::Kind::kCompare:
      return "(" + Show(*e.args[0]) + " " + CmpOpName(e.op) + " " + Show(*e.args[1]) + ")";
    case Expr::Kind::kIn: {
      std::string s = std::string(e.negated ? "notin(" : "in(") + Show(*e.args[0]) + ", [";
      for (size_t i = 1; i < e.args.size(); ++i) s += (i > 1 ? "," : "") + Show(*e.args[i]);
      return s + "])";
    }
    case Expr::Kind::kAnd:
    case Expr::Kind::kOr: {
      std::string s = e.kind == Expr::Kind::kAnd ? "and(" : "or(";
      for (size_t i = 0; i < e.args.size(); ++i) s += (i > 0 ? ", " : "") + Show(*e.args[i]);
      return s + ")";
    }
    case Expr::Kind::kNot:
      return "not(" + Show(*e.args[0]) + ")";
  }
  return "?";
}

std::string Where(std::string_view cond) {
  Query q = MustQuery("events | where " + std::string(cond));
  if (q.ops.size() != 1 || !q.ops[0].where) return "(no where)";
  return Show(*q.ops[0].where);
}

TEST(QueryParser, SourceAndKeywordsAreCaseInsensitive) {
  Query q = MustQuery("EVENTS | WHERE type == 'x' | Limit 5");
  EXPECT_EQ(q.source, "events");
  ASSERT_EQ(q.ops.size(), 2u);
  EXPECT_EQ(q.ops[0].kind, Op::Kind::kWhere);
  EXPECT_EQ(q.ops[1].kind, Op::Kind::kLimit);
  EXPECT_EQ(q.ops[1].limit, 5u);
  EXPECT_EQ(q.ops[1].pos.col, 30);
  // Field names keep their case (JSON keys are case-sensitive).
  EXPECT_EQ(Where("Data.Exit_Code == 1"), "(Data.Exit_Code == 1)");
}

TEST(QueryParser, EverySource) {
  for (std::string_view s : SourceNames()) EXPECT_EQ(MustQuery(s).source, s);
  EXPECT_EQ(SourceNames().size(), 8u);
}

TEST(QueryParser, AsOfPoints) {
  Query q = MustQuery("runs as of 42");
  ASSERT_TRUE(q.as_of);
  EXPECT_EQ(q.as_of->kind, Point::Kind::kLsn);
  EXPECT_EQ(q.as_of->lsn, 42u);
  EXPECT_EQ(q.as_of->pos.col, 12);
  q = MustQuery("tasks AS OF '2026-01-02T03:04:05Z' | count");
  ASSERT_TRUE(q.as_of);
  EXPECT_EQ(q.as_of->kind, Point::Kind::kTime);
  EXPECT_EQ(q.as_of->time_ns, 1767323045LL * 1000000000LL);
  q = MustQuery("nodes as of now");
  EXPECT_EQ(q.as_of->kind, Point::Kind::kNow);
  EXPECT_EQ(Error("runs as of 'yesterday'").substr(0, 30), "error at 1:12: bad time 'yeste");
  EXPECT_EQ(Error("runs as 5"), "error at 1:9: expected 'of' after 'as', got '5'");
  EXPECT_EQ(Error("runs as of -1"),
            "error at 1:12: expected a point (an LSN, a 'time' or now), got '-'");
}

TEST(QueryParser, Select) {
  Query q = MustQuery("events | select lsn, data.exit_code as code, type as 'the type'");
  ASSERT_EQ(q.ops[0].select.size(), 3u);
  EXPECT_EQ(q.ops[0].select[0].name, "lsn");
  EXPECT_EQ(q.ops[0].select[1].field.path, "data.exit_code");
  EXPECT_EQ(q.ops[0].select[1].name, "code");
  EXPECT_EQ(q.ops[0].select[1].name_pos.col, 40);
  EXPECT_EQ(q.ops[0].select[2].name, "the type");
  EXPECT_EQ(Error("events | select"),
            "error at 1:16: select needs a field, got the end of the query");
  EXPECT_EQ(Error("events | select lsn as"),
            "error at 1:23: expected a name after 'as', got the end of the query");
}

TEST(QueryParser, Sort) {
  Query q = MustQuery("events | sort by type desc, lsn asc, time");
  ASSERT_EQ(q.ops[0].sort.size(), 3u);
  EXPECT_TRUE(q.ops[0].sort[0].desc);
  EXPECT_FALSE(q.ops[0].sort[1].desc);
  EXPECT_FALSE(q.ops[0].sort[2].desc);
  q = MustQuery("events | sort lsn DESC");  // `by` is optional
  EXPECT_EQ(q.ops[0].sort[0].field.path, "lsn");
  EXPECT_TRUE(q.ops[0].sort[0].desc);
}

TEST(QueryParser, LimitAndCount) {
  Query q = MustQuery("events | limit 0 | count");
  EXPECT_EQ(q.ops[0].limit, 0u);
  EXPECT_EQ(q.ops[1].kind, Op::Kind::kCount);
  EXPECT_EQ(Error("events | limit x"), "error at 1:16: limit needs a whole number, got 'x'");
  EXPECT_EQ(Error("events | limit 1.5"), "error at 1:16: limit needs a whole number, got '1.5'");
  EXPECT_EQ(Error("events | limit -1"), "error at 1:16: limit needs a whole number, got '-'");
}

TEST(QueryParser, GroupBy) {
  Query q = MustQuery("events | group by type, run count() as n, max(lsn) as last, avg(data.ms)");
  const Op& g = q.ops[0];
  ASSERT_EQ(g.group.size(), 2u);
  EXPECT_EQ(g.group[1].path, "run");
  ASSERT_EQ(g.aggs.size(), 3u);
  EXPECT_EQ(g.aggs[0].fn, AggFn::kCount);
  EXPECT_FALSE(g.aggs[0].field);
  EXPECT_EQ(g.aggs[0].name, "n");
  EXPECT_EQ(g.aggs[1].fn, AggFn::kMax);
  EXPECT_EQ(g.aggs[1].field->path, "lsn");
  EXPECT_EQ(g.aggs[1].name, "last");
  EXPECT_EQ(g.aggs[2].name, "avg_data_ms");  // the default name

  // count(*), count(FIELD), a comma before the aggregates, upper case.
  q = MustQuery("events | group by type, COUNT(*), count(run) as with_run, Sum(lsn), min(time)");
  ASSERT_EQ(q.ops[0].aggs.size(), 4u);
  EXPECT_EQ(q.ops[0].aggs[0].name, "count");
  EXPECT_EQ(q.ops[0].aggs[1].field->path, "run");
  EXPECT_EQ(q.ops[0].aggs[2].fn, AggFn::kSum);
  EXPECT_EQ(q.ops[0].aggs[2].name, "sum_lsn");
  EXPECT_EQ(q.ops[0].aggs[3].name, "min_time");

  // No aggregate: count() as count.
  q = MustQuery("events | group by type");
  ASSERT_EQ(q.ops[0].aggs.size(), 1u);
  EXPECT_EQ(q.ops[0].aggs[0].fn, AggFn::kCount);
  EXPECT_EQ(q.ops[0].aggs[0].name, "count");

  EXPECT_EQ(Error("events | group type"), "error at 1:16: expected 'by' after 'group', got 'type'");
  EXPECT_EQ(Error("events | group by"),
            "error at 1:18: group by needs a field, got the end of the query");
  EXPECT_EQ(
      Error("events | group by type count"),
      "error at 1:24: expected '(' after 'count': aggregates are written count(), count(FIELD)");
  EXPECT_EQ(Error("events | group by count() as n, type"),
            "error at 1:33: group keys come before the aggregates");
  EXPECT_EQ(Error("events | group by type max()"), "error at 1:28: max() needs a field, got ')'");
}

TEST(QueryParser, Between) {
  Query q = MustQuery("events | between 10 and now");
  EXPECT_EQ(q.ops[0].from.kind, Point::Kind::kLsn);
  EXPECT_EQ(q.ops[0].from.lsn, 10u);
  EXPECT_EQ(q.ops[0].to.kind, Point::Kind::kNow);
  q = MustQuery("events | between '2026-01-01' and '2026-01-02T00:00:00Z'");
  EXPECT_EQ(q.ops[0].from.kind, Point::Kind::kTime);
  EXPECT_EQ(q.ops[0].to.time_ns - q.ops[0].from.time_ns, 86400LL * 1000000000LL);
  EXPECT_EQ(Error("events | between 1 2"),
            "error at 1:20: expected 'and' after 'between A', got '2'");
  EXPECT_EQ(Error("events | between now and 5"),
            "error at 1:18: 'now' can only end a range (between A and now)");
}

TEST(QueryParser, Comparisons) {
  EXPECT_EQ(Where("lsn == 1"), "(lsn == 1)");
  EXPECT_EQ(Where("lsn != 1"), "(lsn != 1)");
  EXPECT_EQ(Where("lsn < 1"), "(lsn < 1)");
  EXPECT_EQ(Where("lsn <= 1"), "(lsn <= 1)");
  EXPECT_EQ(Where("lsn > 1"), "(lsn > 1)");
  EXPECT_EQ(Where("lsn >= 1"), "(lsn >= 1)");
  EXPECT_EQ(Where("type ~ 'tool'"), "(type ~ \"tool\")");
  EXPECT_EQ(Where("type =~ '^tool\\.'"), "(type =~ \"^tool\\\\.\")");
  EXPECT_EQ(Where("1 < lsn"), "(1 < lsn)");
  EXPECT_EQ(Where("data.a == data.b"), "(data.a == data.b)");
  EXPECT_EQ(Where("data.items.0 == 'x'"), "(data.items.0 == \"x\")");
}

TEST(QueryParser, Literals) {
  EXPECT_EQ(Where("a == -3"), "(a == -3)");
  EXPECT_EQ(Where("a == 2.5"), "(a == 2.5)");
  EXPECT_EQ(Where("a == -2.5e3"), "(a == -2500.0)");
  EXPECT_EQ(Where("a == \"dq\""), "(a == \"dq\")");
  EXPECT_EQ(Where("a == 'it\\'s'"), "(a == \"it's\")");
  EXPECT_EQ(Where("a == 'a\\\\b\\nc'"), "(a == \"a\\\\b\\nc\")");
  EXPECT_EQ(Where("a == '\\d+'"), "(a == \"\\\\d+\")");  // unknown escapes stay
  EXPECT_EQ(Where("a == TRUE or a == false or a == Null"),
            "or((a == true), (a == false), (a == null))");
  EXPECT_EQ(Where("data.ok"), "data.ok");  // a bare field is a condition
  EXPECT_EQ(Where("true"), "true");
  EXPECT_EQ(Error("events | where 'x'"),
            "error at 1:19: expected a comparison (== != < <= > >= ~ =~ in) after the value, got "
            "the end of the query");
  EXPECT_EQ(Error("events | where a == 'oops"), "error at 1:21: unterminated string");
  EXPECT_EQ(Error("events | where a == 99999999999999999999"),
            "error at 1:21: number '99999999999999999999' is too large");
}

TEST(QueryParser, InLists) {
  EXPECT_EQ(Where("type in ['a', 'b']"), "in(type, [\"a\",\"b\"])");
  EXPECT_EQ(Where("lsn IN [1, 2, 3]"), "in(lsn, [1,2,3])");
  EXPECT_EQ(Where("type not in ['a']"), "notin(type, [\"a\"])");
  EXPECT_EQ(Where("type in []"), "in(type, [])");
  EXPECT_EQ(Error("events | where type in ['a', run]"),
            "error at 1:30: the list of 'in' holds values, not fields");
  EXPECT_EQ(Error("events | where type in 'a'"), "error at 1:24: expected '[' after 'in', got 'a'");
  EXPECT_EQ(Error("events | where type in ['a'"),
            "error at 1:28: expected ']' to close the list of 'in', got the end of the query");
}

TEST(QueryParser, Precedence) {
  EXPECT_EQ(Where("a == 1 or b == 2 and c == 3"), "or((a == 1), and((b == 2), (c == 3)))");
  EXPECT_EQ(Where("a == 1 and b == 2 or c == 3"), "or(and((a == 1), (b == 2)), (c == 3))");
  EXPECT_EQ(Where("not a == 1 and b == 2"), "and(not((a == 1)), (b == 2))");
  EXPECT_EQ(Where("not not a"), "not(not(a))");
  EXPECT_EQ(Where("(a == 1 or b == 2) and c == 3"), "and(or((a == 1), (b == 2)), (c == 3))");
  EXPECT_EQ(Where("a == 1 AND (b == 2 OR NOT (c == 3))"),
            "and((a == 1), or((b == 2), not((c == 3))))");
  // A chain is one node: wide, not deep (kMaxNesting bounds only `not` and parentheses).
  EXPECT_EQ(Where("a == 1 or b == 2 or c == 3"), "or((a == 1), (b == 2), (c == 3))");
  EXPECT_EQ(Where("a and b and c or d"), "or(and(a, b, c), d)");
  EXPECT_EQ(Error("events | where (a == 1"),
            "error at 1:23: expected ')' to close the '(' at 1:16, got the end of the query");
}

TEST(QueryParser, ExpressionErrors) {
  EXPECT_EQ(Error("events | where a = 1"),
            "error at 1:18: '=' is not an operator — did you mean '=='?");
  EXPECT_EQ(Error("events | where a =="),
            "error at 1:20: expected a field or a value, got the end of the query");
  EXPECT_EQ(Error("events | where and"), "error at 1:16: expected a field or a value, got 'and'");
  EXPECT_EQ(Error("events | where a == 1 b"),
            "error at 1:23: expected '|' or the end of the query, got 'b'");
  EXPECT_EQ(Error("events | where a == $"), "error at 1:21: unexpected character '$'");
}

TEST(QueryParser, UnknownNamesSuggest) {
  EXPECT_EQ(Error("evnts | count"),
            "error at 1:1: unknown source or verb 'evnts' — did you mean 'events'?");
  EXPECT_EQ(Error("timelin run1"),
            "error at 1:1: unknown source or verb 'timelin' — did you mean 'timeline'?");
  EXPECT_EQ(Error("  nieghbors x"),
            "error at 1:3: unknown source or verb 'nieghbors' — did you mean 'neighbors'?");
  EXPECT_EQ(Error("zzz"), "error at 1:1: unknown source or verb 'zzz'");
  EXPECT_EQ(Error("events | wher lsn == 1"),
            "error at 1:10: unknown operator 'wher' — did you mean 'where'?");
  EXPECT_EQ(Error("events | filter lsn == 1"),
            "error at 1:10: unknown operator 'filter' — did you mean 'where'?");
  EXPECT_EQ(Error("events | frobnicate"), "error at 1:10: unknown operator 'frobnicate'");
  EXPECT_EQ(Error("events where lsn == 1"), "error at 1:8: expected '|' before 'where'");
  EXPECT_EQ(Error("events |"),
            "error at 1:9: expected an operator after '|', got the end of the query");
  EXPECT_EQ(Error(""), "error at 1:1: expected a source or a verb");
}

TEST(QueryParser, PositionsAcrossLines) {
  EXPECT_EQ(Error("events\n  | where lsn > 1\n  | wehre x"),
            "error at 3:5: unknown operator 'wehre' — did you mean 'where'?");
  // Columns count characters, not bytes.
  EXPECT_EQ(Error("events | where data.name == 'é' x"),
            "error at 1:33: expected '|' or the end of the query, got 'x'");
  Query q = MustQuery("events\n| where\n  lsn == 1");
  EXPECT_EQ(q.ops[0].where->args[0]->field.pos.line, 3);
  EXPECT_EQ(q.ops[0].where->args[0]->field.pos.col, 3);
}

TEST(QueryParser, TrailingSemicolon) {
  EXPECT_EQ(MustQuery("events | count ;  ").ops.size(), 1u);
  EXPECT_EQ(MustVerb("timeline r1;").args, std::vector<std::string>{"r1"});
}

TEST(QueryParser, VerbIdsAndQuoting) {
  VerbCall c = MustVerb("timeline run-1/task:a.b_c");
  EXPECT_EQ(c.verb, "timeline");
  EXPECT_EQ(c.args, std::vector<std::string>{"run-1/task:a.b_c"});
  EXPECT_EQ(c.pos.col, 1);
  c = MustVerb("WHY 'run 1/t 2'");
  EXPECT_EQ(c.verb, "why");
  EXPECT_EQ(c.args, std::vector<std::string>{"run 1/t 2"});
  c = MustVerb("history \"file:r1/src/a.py\"");
  EXPECT_EQ(c.args, std::vector<std::string>{"file:r1/src/a.py"});
  c = MustVerb("history 'as'");  // a quoted word is never a keyword
  EXPECT_EQ(c.args, std::vector<std::string>{"as"});
}

TEST(QueryParser, Diff) {
  VerbCall c = MustVerb("diff src/app.py --run r1 @3 @now");
  EXPECT_EQ(c.args, std::vector<std::string>{"src/app.py"});
  EXPECT_EQ(c.run, "r1");
  ASSERT_EQ(c.points.size(), 2u);
  EXPECT_EQ(c.points[0].kind, Point::Kind::kLsn);
  EXPECT_EQ(c.points[0].lsn, 3u);
  EXPECT_EQ(c.points[0].pos.col, 26);
  EXPECT_EQ(c.points[1].kind, Point::Kind::kNow);
  c = MustVerb("diff --run=r2 @2026-01-01T00:00:00Z @'2026-01-02 10:00:00Z'");
  EXPECT_TRUE(c.args.empty());
  EXPECT_EQ(c.run, "r2");
  EXPECT_EQ(c.points[0].kind, Point::Kind::kTime);
  EXPECT_EQ(c.points[1].kind, Point::Kind::kTime);
  EXPECT_EQ(c.points[1].time_ns - c.points[0].time_ns, 34LL * 3600 * 1000000000LL);
  // Points are optional: @A defaults to the run's base, @B to now.
  c = MustVerb("diff a.py @1");
  ASSERT_EQ(c.points.size(), 1u);
  EXPECT_EQ(c.points[0].lsn, 1u);
  c = MustVerb("diff --run r1");
  EXPECT_TRUE(c.points.empty());
  EXPECT_TRUE(c.args.empty());
  EXPECT_EQ(Error("diff a.py @1 @2 @3"), "error at 1:17: diff takes at most two points (@A @B)");
  EXPECT_EQ(Error("diff a b @1 @2"),
            "error at 1:8: unexpected 'b'; usage: diff [PATH] [--run R] [@A [@B]] | diff RUN_A "
            "RUN_B");
  EXPECT_EQ(Error("diff a b c"),
            "error at 1:10: unexpected 'c'; usage: diff [PATH] [--run R] [@A [@B]] | diff RUN_A "
            "RUN_B");
  c = MustVerb("diff run-a run-b");
  EXPECT_EQ(c.args, (std::vector<std::string>{"run-a", "run-b"}));
  c = MustVerb("divergence replay-1");
  EXPECT_EQ(c.verb, "divergence");
  EXPECT_EQ(Error("divergence"), "error at 1:11: missing argument; usage: divergence RUN");
  EXPECT_EQ(Error("diff @x @2"), "error at 1:6: expected a point (an LSN, a time or now), got 'x'");
  EXPECT_EQ(Error("diff --rn r1 @1 @2"),
            "error at 1:6: unknown option '--rn' — did you mean '--run'?");
  EXPECT_EQ(Error("diff --run"), "error at 1:11: --run needs a run id");
}

TEST(QueryParser, BlameNeighborsPath) {
  VerbCall c = MustVerb("blame src/a.py --run r1 AS OF 12");
  EXPECT_EQ(c.args, std::vector<std::string>{"src/a.py"});
  EXPECT_EQ(c.run, "r1");
  ASSERT_TRUE(c.as_of);
  EXPECT_EQ(c.as_of->lsn, 12u);
  c = MustVerb("blame src/a.py as of '2026-01-01'");
  EXPECT_EQ(c.as_of->kind, Point::Kind::kTime);
  c = MustVerb("neighbors task:r1/t1 depth 2 as of now");
  EXPECT_EQ(c.args, std::vector<std::string>{"task:r1/t1"});
  EXPECT_EQ(c.depth, 2);
  EXPECT_EQ(c.as_of->kind, Point::Kind::kNow);
  c = MustVerb("path a b as of 7");
  EXPECT_EQ(c.args, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(c.as_of->lsn, 7u);
  EXPECT_FALSE(c.depth);
  c = MustVerb("path a b depth 3");
  EXPECT_EQ(c.depth, 3);
  c = MustVerb("timeline r1/t1 as of 40");
  EXPECT_EQ(c.as_of->lsn, 40u);
  c = MustVerb("history src/a.py --run r1");
  EXPECT_EQ(c.run, "r1");

  EXPECT_EQ(Error("neighbors n depth x"), "error at 1:19: depth needs a whole number, got 'x'");
  EXPECT_EQ(Error("path a"),
            "error at 1:7: missing argument; usage: path A B [depth K] [as of POINT]");
  EXPECT_EQ(Error("timeline"),
            "error at 1:9: missing argument; usage: timeline RUN|TASK [as of POINT]");
  EXPECT_EQ(Error("why a b"), "error at 1:7: unexpected 'b'; usage: why TASK");
  EXPECT_EQ(Error("timeline r1 --run r1"), "error at 1:13: 'timeline' takes no --run");
  EXPECT_EQ(Error("why r1/t as of 3"), "error at 1:10: 'why' takes no 'as of'");
  EXPECT_EQ(Error("why r1/t depth 3"), "error at 1:10: unexpected 'depth'; usage: why TASK");
  EXPECT_EQ(Error("blame a @3"), "error at 1:9: only diff takes @points; 'blame' does not");
  EXPECT_EQ(Error("timeline r1 | count"),
            "error at 1:13: a verb's result cannot be piped ('timeline' ends the query)");
  EXPECT_EQ(Error("path a b as of yesterday"),
            "error at 1:16: expected a point (an LSN, a time or now), got 'yesterday'");
}

TEST(QueryParser, Suggest) {
  const std::vector<std::string> fields = {"exit_code", "lsn", "type"};
  EXPECT_EQ(Suggest("exitcode", fields), "exit_code");
  EXPECT_EQ(Suggest("LSN", fields), "lsn");
  EXPECT_EQ(Suggest("tpye", fields), "type");
  EXPECT_EQ(Suggest("x", fields), "");  // one letter is not a typo of three
  EXPECT_EQ(Suggest("completely", fields), "");
}

}  // namespace
}  // namespace tink::query
