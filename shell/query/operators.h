// The operators of the query pipeline (internal to shell/query/exec.cc): each wraps the stream
// before it and pulls rows one at a time. Filter, select, limit and count stream (count keeps no
// rows; limit stops pulling when it has its rows); sort and group gather their input on the first
// Next. Operators that loop over their input check the Cancel flag between rows and fail with
// Cancelled(); errors of the input pass through.
//
// Thread safety: a stream belongs to one thread; MakeParallelAggregate's parts are each pulled by
// a thread of their own.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "shell/query/parser.h"
#include "shell/query/query.h"

namespace tink::query::internal {

struct SortSpec {
  std::string path;
  bool desc = false;
};

struct AggSpec {
  AggFn fn = AggFn::kCount;
  std::string path;  // "" = count rows
  std::string name;
};

// Rows for which keep() is true.
std::unique_ptr<RowStream> MakeFilter(std::unique_ptr<RowStream> up,
                                      std::function<bool(const Row&)> keep, const Cancel* cancel);

// Rows of the values at `paths`, named `names` (a missing value is null).
std::unique_ptr<RowStream> MakeSelect(std::unique_ptr<RowStream> up, std::vector<std::string> paths,
                                      std::vector<std::string> names);

// The first n rows; never pulls a row more.
std::unique_ptr<RowStream> MakeLimit(std::unique_ptr<RowStream> up, uint64_t n);

// One row {"count": N}.
std::unique_ptr<RowStream> MakeCount(std::unique_ptr<RowStream> up, const Cancel* cancel);

// Stable sort on the keys, nulls last; with `keep` (a limit right after) holds at most about
// 2*keep + 1024 rows.
std::unique_ptr<RowStream> MakeSort(std::unique_ptr<RowStream> up, std::vector<SortSpec> keys,
                                    std::optional<uint64_t> keep, const Cancel* cancel);

// One row per distinct key tuple, in order of first appearance: the keys, then the aggregates.
std::unique_ptr<RowStream> MakeGroup(std::unique_ptr<RowStream> up, std::vector<std::string> keys,
                                     std::vector<AggSpec> aggs, const Cancel* cancel);

// count (count = true: one row {"count": N}) or group by (keys, aggs as MakeGroup) over `parts`,
// consecutive slices of one input: each slice is pulled to the end by its own thread (the
// caller's takes the first) and the partial results are merged in slice order, so the rows are
// those of the same operator over the slices one after the other. sum and avg of non-integers may
// differ from one pass in the last bits (floating-point addition in another order).
std::unique_ptr<RowStream> MakeParallelAggregate(std::vector<std::unique_ptr<RowStream>> parts,
                                                 bool count, std::vector<std::string> keys,
                                                 std::vector<AggSpec> aggs, const Cancel* cancel);

}  // namespace tink::query::internal
