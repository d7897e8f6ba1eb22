// OpenTelemetry spans, read from any of the forms tink accepts, as one normalized span; and the
// one mapping from a trace's spans to events that `tink import --format otlp` and the daemon's
// POST /v1/traces share (docs/import.md "## otlp", docs/http.md "POST /v1/traces").
//
// Readers (pure functions, reentrant; no exceptions escape):
//   DecodeOtlpJson   an OTLP/JSON ExportTraceServiceRequest (camelCase or snake_case names, hex
//                    or base64 ids, int64 as string or number, enums as integers or names)
//   DecodeOtlpProto  the same as protobuf bytes (engine/import/otlp/trace.proto)
//   SpanFromJson     the JSON of SpanToJson (the data of an `otel.span` event)
// A body that is not the format (wrong JSON types, truncated protobuf, attribute values nested
// deeper than kMaxValueDepth) is InvalidArgument naming the place; a span that is well-formed
// but unusable (no or invalid trace/span id, end before start) is left out and counted in
// OtlpBatch::rejected with a reason, as OTLP's partial success reports it.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "engine/import/import.h"
#include "schema/status.h"

namespace tink::engine::import {

// AnyValue nesting (arrayValue / kvlistValue inside each other) beyond this is refused: the
// stored event's data may nest at most 50 levels (schema/codec.cc) and a span's attributes sit
// three levels down.
inline constexpr int kMaxValueDepth = 32;

struct OtelSpanEvent {
  std::string name;
  int64_t time_ns = 0;
  nlohmann::json attributes = nlohmann::json::object();
};

struct OtelSpan {
  std::string trace_id;   // OTLP: 32 lowercase hex digits; any-agent: its id text (decimal)
  std::string span_id;    // OTLP: 16 lowercase hex digits
  std::string parent_id;  // empty: a root span
  std::string name;
  int kind = 0;  // SpanKind: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer
  int64_t start_ns = 0, end_ns = 0;
  nlohmann::json attributes = nlohmann::json::object();  // key -> AnyValue as JSON
  std::vector<OtelSpanEvent> events;
  int status_code = 0;  // 0 unset, 1 ok, 2 error
  std::string status_message;
  nlohmann::json resource = nlohmann::json::object();  // the resource's attributes
  std::string scope;                                   // the instrumentation scope's name
  // Not part of the span: where it was read ("spans[3]", "resourceSpans[0].scopeSpans[0].spans[1]"),
  // for messages.
  std::string where;
};

struct OtlpBatch {
  std::vector<OtelSpan> spans;
  size_t rejected = 0;
  std::vector<std::string> reasons;  // one per rejected span (the first few are reported)
};

Result<OtlpBatch> DecodeOtlpJson(std::string_view text);
Result<OtlpBatch> DecodeOtlpJsonValue(const nlohmann::json& doc);
Result<OtlpBatch> DecodeOtlpProto(std::string_view bytes);

// For otlp_proto.cc: normalizes the ids (hex or base64 text -> lowercase hex) and says why the
// span is unusable ("" if it is usable): the partial-success rule of both decoders.
std::string OtlpUnusable(OtelSpan& s);

// The span as the `otel.span` event's data, and back (InvalidArgument if it is not that shape).
nlohmann::json SpanToJson(const OtelSpan& s);
Result<OtelSpan> SpanFromJson(const nlohmann::json& j);

// One trace to map. The spans must share one trace id.
struct TraceMapInput {
  std::string run;        // our run id (event ids are "<run>/<key>")
  std::string source_id;  // the run's id in the source
  std::string name;       // run.started's name
  nlohmann::json meta = nlohmann::json::object();  // run.started's meta (trace_id, spans added)
  nlohmann::json final_output;                      // any-agent's final_output, or null
  std::string base_dir;                             // --base
  std::string root_id;  // the root span's id; empty: the earliest span without a parent
  bool any_agent = false;  // error messages name any-agent's fields (context.span_id, ...)
  std::vector<OtelSpan> spans;
};

// The events of one trace (RunBuilder: deterministic ids, memory events added). Spans whose
// parent is not among them hang under the root (a warning each). InvalidArgument for a trace
// without a root, duplicate span ids, or a parent chain that loops.
Result<ImportedRun> MapTrace(TraceMapInput in);

}  // namespace tink::engine::import
