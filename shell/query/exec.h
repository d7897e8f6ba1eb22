// The executor of the query language: a parsed Query is checked against Sources() (fields, types,
// which sources take `as of` / `between`), its source is opened through Provider::Open with what
// the scan can use (as of, between, top-level `where` equalities), and its operators run as a
// pipeline of RowStreams pulling one row at a time. `sort` and `group by` buffer (sort followed by
// limit N keeps only N rows); everything else streams, and `limit` stops pulling when it has its
// rows. PrepareQuery (query.h) is the entry point; this header adds the value semantics the
// pipeline uses, so providers and verbs can compare values the same way.
//
// Value semantics (docs/shell.md, "Query language"):
//   - a missing field reads as null; every comparison with a null value is false (also !=, so
//     `x != 1` skips rows without x); only the literal forms `x == null` / `x != null` (and
//     `x in [null, ...]`) test for null. `not` negates the result: `not x == 1` holds for null x;
//   - numbers compare numerically whatever their JSON type (1 == 1.0); strings byte-wise, which
//     orders the store's times correctly (they are all "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ");
//   - values of different types are never equal, and ordering them (<, >) is false;
//   - sort and min/max use a total order: numbers < strings < booleans < arrays < objects, and
//     null after everything (sort puts nulls last in both directions).
//
// Thread safety: functions are pure; streams belong to one thread.
#pragma once

#include <string_view>

#include "shell/query/parser.h"
#include "shell/query/query.h"

namespace tink::query {

// The value at `path` ("data.exit_code"; a segment of digits indexes an array), or nullptr.
// An exact top-level key wins over a path ("data.exit_code" as a column made by select).
const Json* Lookup(const Row& row, std::string_view path);

// a OP b under the rules above, for non-literal operands: false when either is null or missing.
// kMatch is always false here (the executor compiles the regex once and matches itself).
bool CompareValues(const Json* a, CmpOp op, const Json* b);

// Equality of two non-null values (numbers numerically).
bool EqualValues(const Json& a, const Json& b);

// The total order: <0, 0, >0.
int OrderValues(const Json& a, const Json& b);

}  // namespace tink::query
