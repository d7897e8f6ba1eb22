// OTLP protobuf trace requests (engine/import/otlp/trace.proto) -> normalized spans (otlp.h).
// Parsed with libprotobuf (lite runtime), whose own recursion limit (100 nested messages) bounds
// the parse; attribute values nested deeper than kMaxValueDepth are refused here.
#include <boost/beast/core/detail/base64.hpp>
#include <nlohmann/json.hpp>

#include "engine/import/otlp.h"
#include "engine/import/otlp/trace.pb.h"

namespace tink::engine::import {
namespace {

using nlohmann::json;

// Bytes -> hex; an id of the wrong length becomes "?", which OtlpUnusable rejects.
std::string Hex(const std::string& bytes, size_t want) {
  if (!bytes.empty() && bytes.size() != want) return "?";
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

Status AnyToJson(const otlp::AnyValue& v, const std::string& where, int depth, json* out);

Status KeyValuesToJson(const google::protobuf::RepeatedPtrField<otlp::KeyValue>& list,
                       const std::string& where, int depth, json* out) {
  *out = json::object();
  for (int i = 0; i < list.size(); ++i) {
    json value;
    RETURN_IF_ERROR(AnyToJson(list[i].value(), where + "[" + std::to_string(i) + "]", depth, &value));
    (*out)[list[i].key()] = std::move(value);
  }
  return Status::Ok();
}

Status AnyToJson(const otlp::AnyValue& v, const std::string& where, int depth, json* out) {
  const bool nested = v.value_case() == otlp::AnyValue::kArrayValue ||
                      v.value_case() == otlp::AnyValue::kKvlistValue;
  if (nested && depth >= kMaxValueDepth) {
    return Status::InvalidArgument(where + ": attribute values nested deeper than " +
                                   std::to_string(kMaxValueDepth) + " levels");
  }
  switch (v.value_case()) {
    case otlp::AnyValue::kStringValue: *out = v.string_value(); break;
    case otlp::AnyValue::kBoolValue: *out = v.bool_value(); break;
    case otlp::AnyValue::kIntValue: *out = v.int_value(); break;
    case otlp::AnyValue::kDoubleValue: *out = v.double_value(); break;
    case otlp::AnyValue::kBytesValue: {
      namespace b64 = boost::beast::detail::base64;
      std::string text(b64::encoded_size(v.bytes_value().size()), '\0');
      text.resize(b64::encode(text.data(), v.bytes_value().data(), v.bytes_value().size()));
      *out = std::move(text);
      break;
    }
    case otlp::AnyValue::kArrayValue: {
      *out = json::array();
      const auto& vals = v.array_value().values();
      for (int i = 0; i < vals.size(); ++i) {
        json e;
        RETURN_IF_ERROR(AnyToJson(vals[i], where + "[" + std::to_string(i) + "]", depth + 1, &e));
        out->push_back(std::move(e));
      }
      break;
    }
    case otlp::AnyValue::kKvlistValue:
      RETURN_IF_ERROR(KeyValuesToJson(v.kvlist_value().values(), where, depth + 1, out));
      break;
    default: *out = nullptr; break;
  }
  return Status::Ok();
}

}  // namespace

Result<OtlpBatch> DecodeOtlpProto(std::string_view bytes) {
  otlp::ExportTraceServiceRequest req;
  if (bytes.size() > static_cast<size_t>(INT32_MAX) ||
      !req.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Status::InvalidArgument(
        "body: not a protobuf ExportTraceServiceRequest (truncated, malformed or nested too deep)");
  }
  OtlpBatch batch;
  for (int i = 0; i < req.resource_spans_size(); ++i) {
    const otlp::ResourceSpans& rs = req.resource_spans(i);
    const std::string wr = "resourceSpans[" + std::to_string(i) + "]";
    json resource;
    RETURN_IF_ERROR(
        KeyValuesToJson(rs.resource().attributes(), wr + ".resource.attributes", 0, &resource));
    for (int j = 0; j < rs.scope_spans_size(); ++j) {
      const otlp::ScopeSpans& ss = rs.scope_spans(j);
      const std::string ws = wr + ".scopeSpans[" + std::to_string(j) + "]";
      for (int k = 0; k < ss.spans_size(); ++k) {
        const otlp::Span& p = ss.spans(k);
        OtelSpan s;
        s.where = ws + ".spans[" + std::to_string(k) + "]";
        s.trace_id = Hex(p.trace_id(), 16);
        s.span_id = Hex(p.span_id(), 8);
        s.parent_id = Hex(p.parent_span_id(), 8);
        s.name = p.name();
        s.kind = static_cast<int>(p.kind());
        // fixed64 on the wire; a time past 2262 does not fit and reads as "end before start".
        s.start_ns = p.start_time_unix_nano() > static_cast<uint64_t>(INT64_MAX)
                         ? INT64_MAX
                         : static_cast<int64_t>(p.start_time_unix_nano());
        s.end_ns = p.end_time_unix_nano() > static_cast<uint64_t>(INT64_MAX)
                       ? 0
                       : static_cast<int64_t>(p.end_time_unix_nano());
        RETURN_IF_ERROR(KeyValuesToJson(p.attributes(), s.where + ".attributes", 0, &s.attributes));
        for (int e = 0; e < p.events_size(); ++e) {
          OtelSpanEvent ev;
          ev.name = p.events(e).name();
          ev.time_ns = static_cast<int64_t>(
              std::min<uint64_t>(p.events(e).time_unix_nano(), static_cast<uint64_t>(INT64_MAX)));
          RETURN_IF_ERROR(KeyValuesToJson(p.events(e).attributes(),
                                          s.where + ".events[" + std::to_string(e) + "].attributes",
                                          0, &ev.attributes));
          s.events.push_back(std::move(ev));
        }
        s.status_code = static_cast<int>(p.status().code());
        s.status_message = p.status().message();
        s.resource = resource;
        s.scope = ss.scope().name();
        if (std::string why = OtlpUnusable(s); !why.empty()) {
          ++batch.rejected;
          batch.reasons.push_back(std::move(why));
          continue;
        }
        batch.spans.push_back(std::move(s));
      }
    }
  }
  return batch;
}

}  // namespace tink::engine::import
