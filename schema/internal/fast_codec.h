// The fast JSON -> FlatBuffers path (schema/fast_codec.cc): simdjson's DOM parser feeds a
// FlatBufferBuilder through the payload tables' definitions (the same StructDefs the schema's
// own flatbuffers::Parser holds), with no JSON text printed or parsed again in between. Internal
// to schema/.
//
// It covers the common case and *declines* (nullopt) anything it is not certain to encode exactly
// as the reference path (nlohmann + flatbuffers::Parser in codec.cc) would: every error, duplicate
// keys, numbers out of range, nesting past the limit, -0.0, field kinds it does not know. The
// caller then runs the reference path, which gives the result or the one-line error. So the fast
// path decides speed only, never an answer; tests/schema/fast_codec_test.cc and the schema fuzz
// harness check that both paths store the same event.
//
// Thread safety: safe from any thread (per-thread parser and builders).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "schema/schema.h"

namespace tink::schema::internal {

inline constexpr int kMaxDataDepth = 50;  // containers nested in data, data itself counting as 1

// The stored payload for `e`, whose envelope fields were already checked (type, stream, sizes,
// UTF-8). `info`: the catalog entry of e.type, or nullptr for a custom type.
std::optional<std::string> EncodeEventFast(const EventInput& e, const EventTypeInfo* info);

// ParseEnvelopeJson's fast path: the envelope's fields, data as compact JSON text.
std::optional<EventInput> ParseEnvelopeFast(std::string_view json);

}  // namespace tink::schema::internal
