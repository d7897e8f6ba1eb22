// JSON parsing shared by the readers that take one JSON document (swe-agent, otlp). Internal to
// engine/import.
//
// ParseDocument parses a whole recording with nlohmann::json, with two differences from
// json::parse: an integer too large for 64 bits (OTel trace ids are 128-bit decimal integers) is
// kept as its decimal text in a string instead of being rounded to a double, and nesting deeper
// than kMaxDepth is refused (the DOM's destructor and dump() recurse). Errors are
// InvalidArgument "<file>: malformed JSON at byte N: <reason>". Pure functions, reentrant.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "schema/status.h"

namespace tink::engine::import::jsondoc {

inline constexpr int kMaxDepth = 256;

class KeepBigIntegersSax {
 public:
  using json = nlohmann::json;
  explicit KeepBigIntegersSax(json& root) : dom_(root, /*allow_exceptions=*/false) {}

  bool null() { return dom_.null(); }
  bool boolean(bool v) { return dom_.boolean(v); }
  bool number_integer(json::number_integer_t v) { return dom_.number_integer(v); }
  bool number_unsigned(json::number_unsigned_t v) { return dom_.number_unsigned(v); }
  bool number_float(json::number_float_t v, const json::string_t& raw) {
    // nlohmann hands over an integer that overflows uint64 as a double; keep its digits instead.
    bool integer = !raw.empty();
    for (size_t i = 0; i < raw.size() && integer; ++i) {
      integer = (raw[i] >= '0' && raw[i] <= '9') || (i == 0 && raw[i] == '-' && raw.size() > 1);
    }
    if (!integer) {
      return dom_.number_float(v, raw);
    }
    json::string_t digits = raw;
    return dom_.string(digits);
  }
  bool string(json::string_t& v) { return dom_.string(v); }
  bool binary(json::binary_t& v) { return dom_.binary(v); }
  bool start_object(std::size_t n) { return Deeper() && dom_.start_object(n); }
  bool key(json::string_t& k) { return dom_.key(k); }
  bool end_object() {
    --depth_;
    return dom_.end_object();
  }
  bool start_array(std::size_t n) { return Deeper() && dom_.start_array(n); }
  bool end_array() {
    --depth_;
    return dom_.end_array();
  }
  template <class Exception>
  bool parse_error(std::size_t byte, const std::string&, const Exception& ex) {
    std::string what = ex.what();
    // "[json.exception.parse_error.101] parse error at line 1, column 2: <reason>" -> reason.
    const size_t col = what.find("column ");
    const size_t colon = col == std::string::npos ? col : what.find(": ", col);
    if (colon != std::string::npos) {
      what = what.substr(colon + 2);
    }
    error_ = "malformed JSON at byte " + std::to_string(byte) + ": " + what;
    return false;
  }

  const std::string& error() const { return error_; }

 private:
  bool Deeper() {
    if (++depth_ <= kMaxDepth) {
      return true;
    }
    error_ = "JSON nested deeper than " + std::to_string(kMaxDepth) + " levels";
    return false;
  }

  nlohmann::detail::json_sax_dom_parser<json> dom_;
  int depth_ = 0;
  std::string error_;
};

inline Result<nlohmann::json> ParseDocument(std::string_view text, const std::string& file) {
  nlohmann::json root;
  KeepBigIntegersSax sax(root);
  const bool ok = nlohmann::json::sax_parse(text, &sax, nlohmann::json::input_format_t::json,
                                            /*strict=*/true, /*ignore_comments=*/false);
  if (!ok || !sax.error().empty()) {
    return Status::InvalidArgument(file + ": " +
                                   (sax.error().empty() ? "malformed JSON" : sax.error()));
  }
  return root;
}

// JSON text found inside a string of a recording (tool-call arguments, OTel attributes) -> the
// value; a discarded value (is_discarded()) when the text is not JSON or nests deeper than
// kMaxDepth, so callers keep the string as it is. Never throws.
inline nlohmann::json ParseEmbedded(std::string_view text) {
  using json = nlohmann::json;
  bool too_deep = false;
  auto limit = [&too_deep](int depth, json::parse_event_t ev, json&) {
    if ((ev == json::parse_event_t::object_start || ev == json::parse_event_t::array_start) &&
        depth >= kMaxDepth) {
      too_deep = true;
      return false;  // not built: the parse goes on past it without descending
    }
    return true;
  };
  json v = json::parse(text, limit, /*allow_exceptions=*/false);
  return too_deep ? json(json::value_t::discarded) : v;
}

// obj[key] when obj is an object holding a string (a boolean) there, else `otherwise`. Unlike
// nlohmann's value(), never throws on a value of another kind: a recording's optional fields are
// read with these, so an unexpected kind reads as absent.
inline std::string StrOr(const nlohmann::json& obj, const char* key, std::string otherwise = "") {
  if (!obj.is_object()) return otherwise;
  const auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : otherwise;
}
inline bool BoolOr(const nlohmann::json& obj, const char* key, bool otherwise) {
  if (!obj.is_object()) return otherwise;
  const auto it = obj.find(key);
  return it != obj.end() && it->is_boolean() ? it->get<bool>() : otherwise;
}

// The JSON kind in words, for error messages ("expected a string, got an array").
inline const char* KindOf(const nlohmann::json& v) {
  switch (v.type()) {
    case nlohmann::json::value_t::null:
      return "null";
    case nlohmann::json::value_t::object:
      return "an object";
    case nlohmann::json::value_t::array:
      return "an array";
    case nlohmann::json::value_t::string:
      return "a string";
    case nlohmann::json::value_t::boolean:
      return "a boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float:
      return "a number";
    default:
      return "a binary value";
  }
}

// Compact JSON text; invalid UTF-8 is replaced rather than thrown on.
inline std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace tink::engine::import::jsondoc
