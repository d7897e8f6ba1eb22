// Key encoding for projection state in RocksDB (docs/architecture.md, "Projection state").
//
// Every versioned key is `entity ‖ BE64(~lsn)`: versions of one entity sort newest first, so
// Seek(entity ‖ BE64(~N)) lands on the newest version with lsn <= N, and an entity's history is
// one range. Entities are built from ordered strings (0x00 escaped as 0x00 0xFF, terminated by
// 0x00 0x01), so no entity key is a prefix of another and byte order equals string order.
//
// Thread safety: pure functions. Errors: the Decode* functions return false on malformed input.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tink::projections {

using Lsn = uint64_t;

// Appends `s` escaped and terminated.
void AppendOrdered(std::string* out, std::string_view s);
// Reads one ordered string from the front of *in (consuming it) into *out.
bool DecodeOrdered(std::string_view* in, std::string* out);

void AppendBE64(std::string* out, uint64_t v);
uint64_t DecodeBE64(std::string_view eight_bytes);
bool DecodeBE64(std::string_view* in, uint64_t* v);

// entity ‖ BE64(~lsn)
std::string VersionKey(std::string_view entity, Lsn lsn);
// The LSN of a versioned key (its last 8 bytes); 0 if too short.
Lsn VersionOf(std::string_view key);
// The entity part of a versioned key.
inline std::string_view EntityOf(std::string_view key) {
  return key.size() >= 8 ? key.substr(0, key.size() - 8) : std::string_view();
}

// The smallest key greater than every key starting with `prefix` ("" if none: prefix all 0xFF).
std::string PrefixEnd(std::string_view prefix);

}  // namespace tink::projections
