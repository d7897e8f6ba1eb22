// The query language of `tink shell` (issue 6, DESIGN.md §7, docs/shell.md "Query language").
//
//   query  := SOURCE [as of POINT] ( '|' OP )*  |  VERB ARGS
//   SOURCE := events | runs | tasks | files | nodes | edges | anomalies | segments
//   OP     := where EXPR | select FIELD [as NAME], ... | sort [by] FIELD [asc|desc], ...
//           | limit N | count | group by FIELD, ... [agg(FIELD) as NAME, ...] | between P and P
//   POINT  := LSN | 'ISO-8601 time' | now
//   VERB   := timeline RUN|TASK [as of POINT] | why TASK | history ENTITY [--run R]
//           | diff PATH? [--run R] [@A [@B]]        (@A defaults to the run's base, @B to now)
//           | blame PATH [--run R] [as of POINT] | neighbors NODE [depth K] [as of POINT]
//           | path A B [depth K] [as of POINT] | diff RUN_A RUN_B | divergence RUN
//             (the last two: runs.h)
//
// The pieces, each in its own files:
//   parser.h    text -> Query (positions on every node; QueryError "error at L:C: ...")
//   exec.h      Query -> rows: opens the source through a Provider, runs the operators as a
//               streaming pipeline (sort and group by buffer; everything else streams)
//   provider.h  the engine-backed Provider: sources and verbs over Engine/StateReader
//   format.h    rows -> table | json | jsonl | csv | markdown
//
// Rows are JSON objects (nlohmann::ordered_json): field order is the source's schema order, and
// field paths (`data.exit_code`) walk nested objects. A missing field reads as null.
//
// Thread safety: a Provider and the streams it opens are used by one thread. Cancellation: every
// RowStream checks the Cancel flag between rows (Ctrl-C in the REPL sets it) and then fails with
// Cancelled() (IsCancelled tells it apart).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "schema/status.h"

namespace tink::query {

using Json = nlohmann::ordered_json;
using Row = Json;  // always an object

// 1-based line and column of a token in the query text.
struct Pos {
  int line = 1;
  int col = 1;
};

// A query error: a position and one line of text. ToString(): "error at 1:17: unknown field
// 'exitcode' — did you mean 'exit_code'?". Exit code 2 in `tink shell -c`.
struct QueryError {
  Pos pos;
  std::string message;
  std::string ToString() const;
};

// A point in the log: an LSN, a time (resolved to the last LSN recorded at or before it), or now
// (the head).
struct Point {
  enum class Kind { kLsn, kTime, kNow };
  Kind kind = Kind::kNow;
  uint64_t lsn = 0;
  int64_t time_ns = 0;
  Pos pos;
};

struct FieldInfo {
  std::string name;  // top-level field; "data" for events is an object with free-form paths
  std::string type;  // "int" | "string" | "time" | "bool" | "object" | "float" | "array"
  std::string help;  // one line, for .schema
};

struct SourceInfo {
  std::string name;  // "events"
  std::string help;
  std::vector<FieldInfo> fields;
  bool as_of = true;     // accepts `as of`
  bool between = false;  // accepts `between` (events)
};

// The sources and their fields, in the order of the grammar: .schema, TAB completion and "did
// you mean" read this. Fields whose type is "object" accept any path below them.
std::span<const SourceInfo> Sources();
const SourceInfo* FindSource(std::string_view name);

// A conjunct of the top-level `where` that a source may use to narrow its scan (an index):
// field == literal, or field in [literals]. The executor still applies the whole filter.
struct Pushdown {
  std::string field;
  std::vector<Json> values;  // one value for ==, several for in
};

struct ScanRequest {
  std::string source;
  std::optional<Point> as_of;
  std::optional<std::pair<Point, Point>> between;  // events: LSN range or record-time range
  std::vector<Pushdown> equals;
  // The fields the query reads, when it never outputs whole source rows (it ends in select,
  // count or group by): top-level names, or "data.exit_code" for a path into an object (its
  // first key); nullopt: all of them. A provider may leave the other fields out of its rows
  // (events then skips decoding the payload: `events | group by type` never builds `data`, and
  // `where data.exit_code != 0` builds only that key).
  std::optional<std::vector<std::string>> fields;
  // A slice of a parallel scan (Provider::Split): only LSNs in [first, second].
  std::optional<std::pair<uint64_t, uint64_t>> lsn_range;
};

class RowStream {
 public:
  virtual ~RowStream() = default;
  // The next row into *out; false at the end. Errors (I/O, corruption, cancelled) as Status.
  virtual Result<bool> Next(Row* out) = 0;
  // Column names in display order, known before the first row (table/csv headers).
  virtual std::vector<std::string> Columns() const = 0;
  // The widest a table cell of these rows should print (longer cells are cut with "…"; the
  // json, jsonl and csv formats always print them whole); 0: no limit of the stream's own.
  virtual size_t TableCellWidth() const { return 0; }
};

// What a verb returns: rows, or text to print as it is (diff, blame in table mode).
struct VerbResult {
  std::unique_ptr<RowStream> rows;
  std::optional<std::string> text;
};

struct VerbCall {
  std::string verb;               // timeline why history diff blame neighbors path divergence
  std::vector<std::string> args;  // positional (ids, paths); diff's @A @B go to `points`
  std::optional<std::string> run; // --run R
  std::optional<int> depth;       // depth K
  std::optional<Point> as_of;
  std::vector<Point> points;      // diff @A @B
  Pos pos;
};

using Cancel = std::atomic<bool>;

Status Cancelled();
bool IsCancelled(const Status& s);

// Where rows come from. The engine-backed one is in provider.h; tests use fakes.
class Provider {
 public:
  virtual ~Provider() = default;
  virtual Result<std::unique_ptr<RowStream>> Open(const ScanRequest& req, const Cancel* cancel) = 0;
  virtual Result<VerbResult> RunVerb(const VerbCall& call, const Cancel* cancel) = 0;
  // Ids for TAB completion: runs, tasks ("run/task"), node ids; at most `limit`.
  virtual std::vector<std::string> CompletionIds(std::string_view prefix, size_t limit) = 0;
  // For a parallel count / group by: `req` as up to `parts` requests over consecutive, disjoint
  // slices whose rows, one slice after the other, are req's rows. Streams of the slices may be
  // pulled from different threads at once. {req} when a source cannot be split (the default).
  virtual std::vector<ScanRequest> Split(const ScanRequest& req, size_t parts) {
    (void)parts;
    return {req};
  }
};

// A query ready to run: rows (streaming), or text for verbs that print text.
struct Prepared {
  std::unique_ptr<RowStream> rows;
  std::optional<std::string> text;
};

// Parses `text` and prepares it against `provider` (exec.cc). A QueryError for anything the user
// wrote wrong (syntax, unknown source/field/verb, bad point, unknown run/task/node named by a
// verb); a non-ok Status for the store's own failures (I/O, corruption). Errors found while rows
// stream come from RowStream::Next as Status (InvalidArgument for a user error such as comparing
// a string with a number where the language forbids it).
Result<std::variant<Prepared, QueryError>> PrepareQuery(Provider& provider, std::string_view text,
                                                        const Cancel* cancel);

}  // namespace tink::query
