// Iterator helpers shared by the state store and the reader. Internal to projections/.
#pragma once

#include <rocksdb/iterator.h>

#include <string>
#include <string_view>

#include "projections/keys.h"

namespace tink::projections::internal {

// Positions `it` on the last key that starts with `prefix` (or makes it !Valid / past the
// prefix when there is none: callers check starts_with).
inline void SeekToLastWithPrefix(rocksdb::Iterator* it, std::string_view prefix) {
  const std::string end = PrefixEnd(prefix);
  if (end.empty()) {
    it->SeekToLast();
    return;
  }
  it->SeekForPrev(end);
  if (it->Valid() && it->key() == rocksdb::Slice(end)) it->Prev();
}

}  // namespace tink::projections::internal
