// The JSON view of a stored event (DESIGN.md §4) as a parsed value, for readers that work on JSON
// values rather than text (the query shell's event rows): schema::EventToJson without printing it
// and parsing it back. Same keys, order, errors and checks (every string valid UTF-8).
//
// Thread safety: as schema.h.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "schema/status.h"

namespace tink::schema {

// The payload table is read field by field through the schema (no text in between). With
// `data_keys`, "data" holds only those of its keys (a reader that uses no other: the rest of the
// payload is never converted).
Result<nlohmann::ordered_json> EventToJsonValue(uint64_t lsn, int64_t time_ns,
                                                std::string_view payload,
                                                const std::vector<std::string>* data_keys = nullptr);

// The same value the long way, through FlatBuffers' text printer (GenText) and a JSON parse: the
// reference EventToJsonValue is tested against (tests/schema/codec_test.cc).
Result<nlohmann::ordered_json> EventToJsonValueViaText(uint64_t lsn, int64_t time_ns,
                                                       std::string_view payload);

}  // namespace tink::schema
