// The parser of the query language (docs/shell.md, "Query language"): text -> Query | VerbCall,
// with a position on every node so errors point at what the user wrote.
//
// A hand-written lexer and recursive-descent parser. Keywords (sources, operators, verbs, and/or/
// not/in, true/false/null, asc/desc, as/of/by/now/depth, aggregate names) are case-insensitive;
// field names are not (they are JSON keys). Parsing knows the grammar only: whether a field exists
// in its source is checked by exec.cc against Sources().
//
// Thread safety: pure functions, no shared state.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "shell/query/query.h"

namespace tink::query {

// A field path as written: "lsn", "data.exit_code".
struct FieldRef {
  std::string path;
  Pos pos;
};

enum class CmpOp { kEq, kNe, kLt, kLe, kGt, kGe, kContains, kMatch };
const char* CmpOpName(CmpOp op);  // "==", "~", ...

struct Expr {
  enum class Kind {
    kLiteral,  // value
    kField,    // field
    kCompare,  // args[0] op args[1]
    kIn,       // args[0] [not] in [args[1..]] (args[1..] are literals)
    kAnd,      // args[0] and args[1] and ... (two or more)
    kOr,       // args[0] or args[1] or ... (two or more)
    kNot,      // not args[0]
  };
  Kind kind = Kind::kLiteral;
  Pos pos;  // the (first) operator's position for kCompare/kIn/kAnd/kOr/kNot, else the token's
  Json value;
  FieldRef field;
  CmpOp op = CmpOp::kEq;
  bool negated = false;  // kIn: `not in`
  std::vector<std::unique_ptr<Expr>> args;
};

struct SelectItem {
  FieldRef field;
  std::string name;  // `as NAME`, else the path as written
  Pos name_pos;
};

struct SortKey {
  FieldRef field;
  bool desc = false;
};

enum class AggFn { kCount, kMin, kMax, kSum, kAvg };
const char* AggFnName(AggFn fn);

struct Aggregate {
  AggFn fn = AggFn::kCount;
  std::optional<FieldRef> field;  // empty: count() / count(*), counts rows
  std::string name;               // `as NAME`, else "count" or FN_PATH ("max_lsn", "avg_data_ms")
  Pos pos;
};

struct Op {
  enum class Kind { kWhere, kSelect, kSort, kLimit, kCount, kGroup, kBetween };
  Kind kind = Kind::kWhere;
  Pos pos;
  std::unique_ptr<Expr> where;     // kWhere
  std::vector<SelectItem> select;  // kSelect
  std::vector<SortKey> sort;       // kSort
  uint64_t limit = 0;              // kLimit
  std::vector<FieldRef> group;     // kGroup: the keys
  std::vector<Aggregate> aggs;     // kGroup: never empty (count() as count when none written)
  Point from, to;                  // kBetween
};
const char* OpName(Op::Kind kind);  // "where", ...

struct Query {
  std::string source;  // lower case
  Pos source_pos;
  std::optional<Point> as_of;
  std::vector<Op> ops;
};

using Parsed = std::variant<Query, VerbCall, QueryError>;

// How deeply `not` and parentheses may nest in one condition; deeper is a QueryError at the
// token that goes past it (the parser, the compiler and the evaluator recurse per level).
inline constexpr int kMaxNesting = 200;

// Parses one statement. A trailing ';' is ignored.
Parsed Parse(std::string_view text);

// The grammar's names, lower case.
std::span<const std::string_view> SourceNames();
std::span<const std::string_view> VerbNames();
std::span<const std::string_view> OpNames();

// The candidate closest to `word` (edit distance, case-insensitive) when it is near enough to be
// a typo (at most 2 edits, and less than half the word), else "".
std::string Suggest(std::string_view word, std::span<const std::string_view> candidates);
std::string Suggest(std::string_view word, std::span<const std::string> candidates);

}  // namespace tink::query
