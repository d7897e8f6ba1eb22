// Shared by state_store.cc and state_rebuild.cc: the applied-position encoding, the column
// family options and the fold of a batch into one projection. Not part of the public API.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "projections/state_store.h"

namespace tink::projections::internal {

std::string EncodeApplied(const Applied& a);
bool DecodeApplied(std::string_view v, Applied* a);
rocksdb::ColumnFamilyOptions CfOptions();

// Folds the events after `at` into `p` and adds its writes (sorted by key) to `batch` under the
// column family `h`. On error the batch may hold part of p's writes: the caller drops it.
// With `pending` (bulk mode), reads see it over `h` and the sorted writes go to *bulk_out
// instead of the batch.
Status FoldInto(Projection* p, rocksdb::DB* db, rocksdb::ColumnFamilyHandle* h, Lsn at,
                std::span<const Event> events, rocksdb::WriteBatch* batch,
                const BulkBuffer* pending = nullptr,
                std::vector<std::pair<std::string, std::string>>* bulk_out = nullptr);

}  // namespace tink::projections::internal
