// OTLP/JSON trace requests -> normalized spans (otlp.h), and the span <-> `otel.span` data JSON.
//
// The OTLP/JSON rules (opentelemetry-proto's "JSON Protobuf Encoding"): field names in lowerCamelCase
// (the proto's snake_case names are accepted too, as protobuf's JSON parser does), trace and span
// ids as hex (base64, protobuf's own JSON form for bytes, is tolerated), 64-bit integers as decimal
// strings or numbers, enums as integers (names are accepted), unknown fields ignored.
#include <boost/beast/core/detail/base64.hpp>
#include <cmath>
#include <nlohmann/json.hpp>

#include "engine/import/json_internal.h"
#include "engine/import/otlp.h"

namespace tink::engine::import {
namespace {

using jsondoc::KindOf;
using nlohmann::json;

// obj's field by its camelCase or snake_case name; null counts as absent.
const json* Get(const json& obj, const char* camel, const char* snake) {
  for (const char* k : {camel, snake}) {
    auto it = obj.find(k);
    if (it != obj.end() && !it->is_null()) return &*it;
  }
  return nullptr;
}

Status Bad(const std::string& where, const std::string& msg) {
  return Status::InvalidArgument(where + ": " + msg);
}

Result<const json*> Object(const json& obj, const char* camel, const char* snake,
                           const std::string& where) {
  const json* v = Get(obj, camel, snake);
  if (v != nullptr && !v->is_object()) {
    return Bad(where + "." + camel, std::string("expected an object, got ") + KindOf(*v));
  }
  return v;
}
Result<const json*> Array(const json& obj, const char* camel, const char* snake,
                          const std::string& where) {
  const json* v = Get(obj, camel, snake);
  if (v != nullptr && !v->is_array()) {
    return Bad(where + "." + camel, std::string("expected an array, got ") + KindOf(*v));
  }
  return v;
}
Result<std::string> String(const json& obj, const char* camel, const char* snake,
                           const std::string& where) {
  const json* v = Get(obj, camel, snake);
  if (v == nullptr) return std::string();
  if (!v->is_string()) {
    return Bad(where + "." + camel, std::string("expected a string, got ") + KindOf(*v));
  }
  return v->get<std::string>();
}

// A 64-bit integer: a JSON integer, an integral number, or decimal text.
Result<int64_t> Int64(const json& v, const std::string& where, bool allow_negative) {
  if (v.is_number_unsigned()) {
    if (v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      return Bad(where, "integer out of range");
    }
    return static_cast<int64_t>(v.get<uint64_t>());
  }
  if (v.is_number_integer()) {
    if (!allow_negative && v.get<int64_t>() < 0) return Bad(where, "negative integer");
    return v.get<int64_t>();
  }
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::trunc(d) != d || d < (allow_negative ? -9.2e18 : 0) || d > 9.2e18) {
      return Bad(where, "expected an integer, got " + jsondoc::Dump(v));
    }
    return static_cast<int64_t>(d);
  }
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    const size_t digits = s.size() - (!s.empty() && s[0] == '-' ? 1 : 0);
    if (digits > 0 && digits <= 19 && (allow_negative || s[0] != '-') &&
        s.find_first_not_of("0123456789", s.size() - digits) == std::string::npos) {
      errno = 0;
      const long long x = std::strtoll(s.c_str(), nullptr, 10);
      if (errno == 0) return static_cast<int64_t>(x);
    }
    return Bad(where, "expected an integer, got \"" + s.substr(0, 40) + "\"");
  }
  return Bad(where, std::string("expected an integer (number or decimal string), got ") +
                        KindOf(v));
}

// An enum: its number, or its name among `names` (index = value); an unknown name is 0.
Result<int> Enum(const json& v, const std::string& where, std::initializer_list<const char*> names) {
  if (v.is_string()) {
    int i = 0;
    for (const char* n : names) {
      if (v.get<std::string>() == n) return i;
      ++i;
    }
    return 0;
  }
  ASSIGN_OR_RETURN(int64_t x, Int64(v, where, true));
  if (x < INT32_MIN || x > INT32_MAX) return Bad(where, "enum value out of range");
  return static_cast<int>(x);
}

// AnyValue -> JSON; `depth` counts the arrayValue / kvlistValue levels above.
Status AnyToJson(const json& v, const std::string& where, int depth, json* out);

Status KeyValuesToJson(const json& list, const std::string& where, int depth, json* out) {
  *out = json::object();
  for (size_t i = 0; i < list.size(); ++i) {
    const json& kv = list[i];
    const std::string w = where + "[" + std::to_string(i) + "]";
    if (!kv.is_object()) return Bad(w, std::string("expected an object, got ") + KindOf(kv));
    ASSIGN_OR_RETURN(std::string key, String(kv, "key", "key", w));
    json value;
    if (const json* av = Get(kv, "value", "value")) {
      RETURN_IF_ERROR(AnyToJson(*av, w + ".value", depth, &value));
    }
    (*out)[key] = std::move(value);
  }
  return Status::Ok();
}

Status AnyToJson(const json& v, const std::string& where, int depth, json* out) {
  if (!v.is_object()) return Bad(where, std::string("expected an object, got ") + KindOf(v));
  if (const json* s = Get(v, "stringValue", "string_value")) {
    if (!s->is_string()) return Bad(where + ".stringValue", "expected a string");
    *out = *s;
  } else if (const json* b = Get(v, "boolValue", "bool_value")) {
    if (!b->is_boolean()) return Bad(where + ".boolValue", "expected a boolean");
    *out = *b;
  } else if (const json* i = Get(v, "intValue", "int_value")) {
    ASSIGN_OR_RETURN(int64_t x, Int64(*i, where + ".intValue", true));
    *out = x;
  } else if (const json* d = Get(v, "doubleValue", "double_value")) {
    // NaN and infinities (strings in protobuf's JSON) have no JSON number: kept as their text.
    if (!d->is_number() && !d->is_string()) return Bad(where + ".doubleValue", "expected a number");
    *out = *d;
  } else if (const json* by = Get(v, "bytesValue", "bytes_value")) {
    if (!by->is_string()) return Bad(where + ".bytesValue", "expected a base64 string");
    *out = *by;
  } else if (const json* a = Get(v, "arrayValue", "array_value")) {
    if (depth >= kMaxValueDepth) {
      return Bad(where, "attribute values nested deeper than " + std::to_string(kMaxValueDepth) +
                            " levels");
    }
    if (!a->is_object()) return Bad(where + ".arrayValue", "expected an object");
    ASSIGN_OR_RETURN(const json* vals, Array(*a, "values", "values", where + ".arrayValue"));
    *out = json::array();
    for (size_t k = 0; vals != nullptr && k < vals->size(); ++k) {
      json e;
      RETURN_IF_ERROR(AnyToJson((*vals)[k], where + ".arrayValue.values[" + std::to_string(k) + "]",
                                depth + 1, &e));
      out->push_back(std::move(e));
    }
  } else if (const json* kv = Get(v, "kvlistValue", "kvlist_value")) {
    if (depth >= kMaxValueDepth) {
      return Bad(where, "attribute values nested deeper than " + std::to_string(kMaxValueDepth) +
                            " levels");
    }
    if (!kv->is_object()) return Bad(where + ".kvlistValue", "expected an object");
    ASSIGN_OR_RETURN(const json* vals, Array(*kv, "values", "values", where + ".kvlistValue"));
    if (vals == nullptr) {
      *out = json::object();
    } else {
      RETURN_IF_ERROR(KeyValuesToJson(*vals, where + ".kvlistValue.values", depth + 1, out));
    }
  } else {
    *out = nullptr;  // an empty AnyValue
  }
  return Status::Ok();
}

Status Attributes(const json& obj, const std::string& where, json* out) {
  ASSIGN_OR_RETURN(const json* list, Array(obj, "attributes", "attributes", where));
  *out = json::object();
  if (list == nullptr) return Status::Ok();
  return KeyValuesToJson(*list, where + ".attributes", 0, out);
}

std::string Hex(const unsigned char* p, size_t n) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += kDigits[p[i] >> 4];
    out += kDigits[p[i] & 15];
  }
  return out;
}

// An id of `bytes` bytes as lowercase hex, from hex text or base64; "" if it is neither (the
// span is then rejected). Empty input is an absent id.
std::string IdFromText(const std::string& text, size_t bytes, bool* bad) {
  *bad = false;
  if (text.empty()) return "";
  if (text.size() == bytes * 2 && text.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos) {
    std::string out = text;
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  }
  namespace b64 = boost::beast::detail::base64;
  std::string raw(b64::decoded_size(text.size()), '\0');
  const auto [written, read] = b64::decode(raw.data(), text.data(), text.size());
  // Decoding stops at the padding: the rest must be nothing but '='.
  const bool whole = text.find_first_not_of('=', read) == std::string::npos && text.size() - read <= 2;
  if (whole && written == bytes) {
    return Hex(reinterpret_cast<const unsigned char*>(raw.data()), bytes);
  }
  *bad = true;
  return "";
}

Result<OtelSpan> Span(const json& s, const std::string& where) {
  if (!s.is_object()) return Bad(where, std::string("expected an object, got ") + KindOf(s));
  OtelSpan out;
  out.where = where;
  ASSIGN_OR_RETURN(out.trace_id, String(s, "traceId", "trace_id", where));
  ASSIGN_OR_RETURN(out.span_id, String(s, "spanId", "span_id", where));
  ASSIGN_OR_RETURN(out.parent_id, String(s, "parentSpanId", "parent_span_id", where));
  ASSIGN_OR_RETURN(out.name, String(s, "name", "name", where));
  if (const json* k = Get(s, "kind", "kind")) {
    ASSIGN_OR_RETURN(out.kind, Enum(*k, where + ".kind",
                                    {"SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER",
                                     "SPAN_KIND_CLIENT", "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER"}));
  }
  if (const json* t = Get(s, "startTimeUnixNano", "start_time_unix_nano")) {
    ASSIGN_OR_RETURN(out.start_ns, Int64(*t, where + ".startTimeUnixNano", false));
  }
  if (const json* t = Get(s, "endTimeUnixNano", "end_time_unix_nano")) {
    ASSIGN_OR_RETURN(out.end_ns, Int64(*t, where + ".endTimeUnixNano", false));
  }
  RETURN_IF_ERROR(Attributes(s, where, &out.attributes));
  ASSIGN_OR_RETURN(const json* events, Array(s, "events", "events", where));
  for (size_t i = 0; events != nullptr && i < events->size(); ++i) {
    const json& e = (*events)[i];
    const std::string w = where + ".events[" + std::to_string(i) + "]";
    if (!e.is_object()) return Bad(w, std::string("expected an object, got ") + KindOf(e));
    OtelSpanEvent ev;
    ASSIGN_OR_RETURN(ev.name, String(e, "name", "name", w));
    if (const json* t = Get(e, "timeUnixNano", "time_unix_nano")) {
      ASSIGN_OR_RETURN(ev.time_ns, Int64(*t, w + ".timeUnixNano", false));
    }
    RETURN_IF_ERROR(Attributes(e, w, &ev.attributes));
    out.events.push_back(std::move(ev));
  }
  ASSIGN_OR_RETURN(const json* status, Object(s, "status", "status", where));
  if (status != nullptr) {
    if (const json* c = Get(*status, "code", "code")) {
      ASSIGN_OR_RETURN(out.status_code,
                       Enum(*c, where + ".status.code",
                            {"STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"}));
    }
    ASSIGN_OR_RETURN(out.status_message, String(*status, "message", "message", where + ".status"));
  }
  return out;
}

// Why a decoded span cannot be used (rejected, not an error of the request); "" if it can.
std::string Unusable(OtelSpan& s) {
  bool bad = false;
  s.trace_id = IdFromText(s.trace_id, 16, &bad);
  if (bad || s.trace_id.empty() || s.trace_id == std::string(32, '0')) {
    return s.where + ": traceId is missing or not 16 bytes (32 hex digits)";
  }
  s.span_id = IdFromText(s.span_id, 8, &bad);
  if (bad || s.span_id.empty() || s.span_id == std::string(16, '0')) {
    return s.where + ": spanId is missing or not 8 bytes (16 hex digits)";
  }
  s.parent_id = IdFromText(s.parent_id, 8, &bad);
  if (bad) return s.where + ": parentSpanId is not 8 bytes (16 hex digits)";
  if (s.parent_id == std::string(16, '0')) s.parent_id.clear();
  if (s.end_ns < s.start_ns) return s.where + ": endTimeUnixNano is before startTimeUnixNano";
  return "";
}

}  // namespace

// Shared with otlp_proto.cc: the rejection rule for ids already in hex.
std::string OtlpUnusable(OtelSpan& s) { return Unusable(s); }

Result<OtlpBatch> DecodeOtlpJsonValue(const json& doc) {
  if (!doc.is_object()) {
    return Status::InvalidArgument(std::string("expected a JSON object, got ") + KindOf(doc));
  }
  OtlpBatch batch;
  ASSIGN_OR_RETURN(const json* rss, Array(doc, "resourceSpans", "resource_spans", "body"));
  for (size_t i = 0; rss != nullptr && i < rss->size(); ++i) {
    const json& rs = (*rss)[i];
    const std::string wr = "resourceSpans[" + std::to_string(i) + "]";
    if (!rs.is_object()) return Bad(wr, std::string("expected an object, got ") + KindOf(rs));
    json resource = json::object();
    ASSIGN_OR_RETURN(const json* res, Object(rs, "resource", "resource", wr));
    if (res != nullptr) RETURN_IF_ERROR(Attributes(*res, wr + ".resource", &resource));
    ASSIGN_OR_RETURN(const json* sss, Array(rs, "scopeSpans", "scope_spans", wr));
    for (size_t j = 0; sss != nullptr && j < sss->size(); ++j) {
      const json& ss = (*sss)[j];
      const std::string ws = wr + ".scopeSpans[" + std::to_string(j) + "]";
      if (!ss.is_object()) return Bad(ws, std::string("expected an object, got ") + KindOf(ss));
      std::string scope;
      ASSIGN_OR_RETURN(const json* sc, Object(ss, "scope", "scope", ws));
      if (sc != nullptr) {
        ASSIGN_OR_RETURN(scope, String(*sc, "name", "name", ws + ".scope"));
      }
      ASSIGN_OR_RETURN(const json* spans, Array(ss, "spans", "spans", ws));
      for (size_t k = 0; spans != nullptr && k < spans->size(); ++k) {
        ASSIGN_OR_RETURN(OtelSpan s, Span((*spans)[k], ws + ".spans[" + std::to_string(k) + "]"));
        s.resource = resource;
        s.scope = scope;
        if (std::string why = Unusable(s); !why.empty()) {
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

Result<OtlpBatch> DecodeOtlpJson(std::string_view text) {
  ASSIGN_OR_RETURN(json doc, jsondoc::ParseDocument(text, "body"));
  return DecodeOtlpJsonValue(doc);
}

json SpanToJson(const OtelSpan& s) {
  json j = {{"trace_id", s.trace_id}, {"span_id", s.span_id}, {"name", s.name},
            {"kind", s.kind},         {"start_ns", s.start_ns}, {"end_ns", s.end_ns},
            {"attributes", s.attributes}};
  if (!s.parent_id.empty()) j["parent_span_id"] = s.parent_id;
  if (!s.events.empty()) {
    json evs = json::array();
    for (const OtelSpanEvent& e : s.events) {
      evs.push_back({{"name", e.name}, {"time_ns", e.time_ns}, {"attributes", e.attributes}});
    }
    j["events"] = std::move(evs);
  }
  if (s.status_code != 0 || !s.status_message.empty()) {
    j["status"] = {{"code", s.status_code}, {"message", s.status_message}};
  }
  if (!s.resource.empty()) j["resource"] = s.resource;
  if (!s.scope.empty()) j["scope"] = s.scope;
  return j;
}

Result<OtelSpan> SpanFromJson(const json& j) {
  if (!j.is_object()) return Status::InvalidArgument("otel.span: data is not an object");
  OtelSpan s;
  s.trace_id = jsondoc::StrOr(j, "trace_id");
  s.span_id = jsondoc::StrOr(j, "span_id");
  s.parent_id = jsondoc::StrOr(j, "parent_span_id");
  s.name = jsondoc::StrOr(j, "name");
  if (s.trace_id.empty() || s.span_id.empty()) {
    return Status::InvalidArgument("otel.span: trace_id or span_id missing");
  }
  auto num = [&j](const char* k) -> int64_t {
    auto it = j.find(k);
    return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
  };
  s.kind = static_cast<int>(num("kind"));
  s.start_ns = num("start_ns");
  s.end_ns = num("end_ns");
  if (j.contains("attributes") && j["attributes"].is_object()) s.attributes = j["attributes"];
  if (j.contains("events") && j["events"].is_array()) {
    for (const json& e : j["events"]) {
      OtelSpanEvent ev;
      ev.name = jsondoc::StrOr(e, "name");
      if (e.is_object() && e.contains("time_ns") && e["time_ns"].is_number_integer()) {
        ev.time_ns = e["time_ns"].get<int64_t>();
      }
      if (e.is_object() && e.contains("attributes") && e["attributes"].is_object()) {
        ev.attributes = e["attributes"];
      }
      s.events.push_back(std::move(ev));
    }
  }
  if (j.contains("status") && j["status"].is_object()) {
    const json& st = j["status"];
    if (st.contains("code") && st["code"].is_number_integer()) {
      s.status_code = st["code"].get<int>();
    }
    s.status_message = jsondoc::StrOr(st, "message");
  }
  if (j.contains("resource") && j["resource"].is_object()) s.resource = j["resource"];
  s.scope = jsondoc::StrOr(j, "scope");
  s.where = "span " + s.span_id;
  return s;
}

}  // namespace tink::engine::import
