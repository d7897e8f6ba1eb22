// schema/: the event envelope, the typed payload catalog (schema/event.fbs) and JSON <-> binary
// conversion driven by FlatBuffers' own schema definitions (flatbuffers::Parser's StructDefs; the
// Parser and GenText as references), never a hand-written per-type codec. DESIGN.md §4 / events.md.
//
// Thread safety: every function here is safe to call from any thread (each thread keeps its own
// flatbuffers::Parser built from the embedded schema, and its own simdjson parser).
// Errors: InvalidArgument with one line naming the field that is wrong; Corruption when a stored
// payload fails the FlatBuffers Verifier.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "schema/status.h"

namespace tink::schema {

// An event as a producer hands it in, before the engine assigns lsn and time.
struct EventInput {
  std::string id;          // idempotency key; empty: the engine generates one
  std::string stream;      // required, e.g. "run/7/task/3"
  std::string type;        // required: a catalog type or a custom type (see CheckEventType)
  std::string run;         // optional run id
  int64_t occurred_ns = 0; // optional source time; 0 = absent
  uint64_t causation = 0;  // optional LSN of the event that caused this one; 0 = absent
  std::string data_json = "{}";  // the "data" object as JSON text
};

// Parses one JSON envelope ({"stream":..,"type":..,"data":{..},"id":..,"run":..,"occurred":..,
// "causation":..}). Engine-assigned fields ("lsn", "time") and unknown keys are errors.
Result<EventInput> ParseEnvelopeJson(std::string_view json);

// Validates `e` (type name, data against the type's table: unknown fields, wrong value types)
// and encodes it as the FlatBuffers Event stored as a log record's payload. simdjson's parser
// feeds a FlatBufferBuilder through the payload table's definition; whatever that path is not
// certain to encode exactly as the reference below (every error included) goes to the reference.
Result<std::string> EncodeEvent(const EventInput& e);

// The references the two functions above are tested against (and fall back to): nlohmann parses
// and checks, and flatbuffers::Parser encodes the JSON text it prints. Same answers and errors;
// 10-20x slower.
Result<std::string> EncodeEventViaParser(const EventInput& e);
Result<EventInput> ParseEnvelopeJsonViaDom(std::string_view json);

// Envelope fields of a stored event (the payload stays in the buffer).
struct EventView {
  std::string_view id, stream, type, run;
  int64_t occurred_ns = 0;
  uint64_t causation = 0;
};

// Runs the FlatBuffers Verifier over a stored payload and reads its envelope.
Result<EventView> DecodeEvent(std::string_view payload);
// The envelope only: verifies the envelope's fields, not the payload (several times cheaper on
// events with large payloads). For readers of the log, whose records are checksummed and were
// fully verified when they were appended; anything that reads the payload uses DecodeEvent.
Result<EventView> DecodeEnvelope(std::string_view payload);

// The JSON view of a stored event, exactly as DESIGN.md §4, keys in this order:
// lsn, time, occurred (if set), id, stream, type, run (if set), causation (if set), data.
// Compact (one line) unless pretty.
Result<std::string> EventToJson(uint64_t lsn, int64_t time_ns, std::string_view payload,
                                bool pretty = false);

// A FlexBuffers value (a payload's `(flexbuffer)` field, already verified with the event) as
// compact JSON text; "null" when empty.
std::string FlexToJsonText(const uint8_t* data, size_t size);

struct EventTypeInfo {
  std::string_view name;     // "tool.result"
  std::string_view table;    // FlatBuffers table, "ToolResult"
  std::string_view summary;  // one line for docs and --help
};
// The typed catalog of DESIGN.md §4, in catalog order.
std::span<const EventTypeInfo> Catalog();

// Ok for a catalog type or a well-formed custom type: lowercase dotted name
// ([a-z][a-z0-9_-]*(\.[a-z0-9_-]+)+) outside the reserved namespaces (run. task. llm. tool.
// file. memory. canvas.) and not "note". InvalidArgument otherwise, with a suggestion when a
// catalog type is close ("unknown event type 'tool.reslt' (did you mean 'tool.result'?)").
Status CheckEventType(std::string_view type);

// "2026-11-24T06:33:20.123456789Z" (UTC, always 9 fraction digits).
std::string FormatTime(int64_t ns_since_epoch);
// RFC 3339 / ISO 8601: "2026-11-24T06:33:20Z", fractions up to 9 digits, "Z", "+hh:mm" or no
// zone (taken as UTC; several recorders write local-less stamps), or a date alone.
Result<int64_t> ParseTime(std::string_view text);

}  // namespace tink::schema
