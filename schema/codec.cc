// JSON <-> FlatBuffers for events. Encoding goes through flatbuffers::Parser with the embedded
// schema and decoding through GenText, so the binary layout is FlatBuffers' own (no hand-written
// codec). nlohmann::json assembles and checks the JSON around them:
//  - before the Parser: data is checked against the payload table's own definition (taken from
//    the Parser, so it cannot drift from event.fbs) to give one-line errors that name the field,
//    and to refuse what the Parser would silently change (a quoted number for an integer, an
//    integer that does not fit 64 bits inside an any-JSON field, which the FlexBuffers builder
//    turns into 0).
//  - after GenText: FlatBuffers 2.0.8 prints floating-point values with 12 digits after the point
//    (1e-300 becomes 0.0) both in table fields and inside FlexBuffers, so doubles and FlexBuffers
//    fields are read from the verified buffer and printed exactly; GenText's text is used for the
//    rest (strings, integers, booleans, string vectors).
#include <flatbuffers/idl.h>
#include <flatbuffers/util.h>
#include <flatbuffers/verifier.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <nlohmann/json.hpp>
#include <vector>

#include "schema/event_fbs_text.h"
#include "schema/event_generated.h"
#include "schema/event_json.h"
#include "schema/internal/catalog.h"
#include "schema/internal/fast_codec.h"
#include "schema/schema.h"

namespace tink::schema {
namespace {

using Json = nlohmann::json;
using OJson = nlohmann::ordered_json;

constexpr size_t kMaxStream = 1024;
constexpr size_t kMaxId = 256;
// Containers nested in data, data itself counting as 1. The Parser stops at 64 levels of the
// whole synthesized document; this leaves it room for the envelope and fails first, clearly.
using internal::kMaxDataDepth;

std::unique_ptr<flatbuffers::Parser> NewParser() {
  flatbuffers::IDLOptions o;
  o.strict_json = true;
  o.json_nested_flexbuffers = true;
  // natural_utf8 stays off: with it, GenText copies control characters other than \n \t \r \b \f
  // raw into strings (invalid JSON, e.g. the ANSI escapes in terminal output). Escaped
  // \uXXXX text is decoded by nlohmann and printed back as UTF-8, so nothing is lost.
  o.natural_utf8 = false;
  o.indent_step = -1;
  o.output_default_scalars_in_json = false;
  auto p = std::make_unique<flatbuffers::Parser>(o);
  // The schema is compiled into the binary; failing to parse it is a build defect.
  if (!p->Parse(internal::kEventFbs)) std::abort();
  return p;
}

// One parser per thread: flatbuffers::Parser is not thread-safe, and building it costs a parse
// of the schema, so it is kept.
flatbuffers::Parser& ThreadParser(bool reset = false) {
  thread_local std::unique_ptr<flatbuffers::Parser> parser;
  if (!parser || reset) parser = NewParser();
  return *parser;
}

const flatbuffers::StructDef& PayloadTable(flatbuffers::Parser& parser, std::string_view name) {
  const flatbuffers::StructDef* sd = parser.structs_.Lookup("tink.fb." + std::string(name));
  if (sd == nullptr) std::abort();  // the catalog names a table event.fbs lacks: build defect
  return *sd;
}

// "1: 56: error: unknown field: tol" -> "unknown field: tol". The positions refer to the JSON we
// assembled, not to the user's text, so they would mislead.
std::string CleanParserError(const std::string& e) {
  std::string msg = e;
  const size_t at = msg.find("error: ");
  if (at != std::string::npos) msg = msg.substr(at + 7);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  return msg;
}

// nlohmann parse with a nesting limit enforced while parsing (deeper values are dropped, not
// built), so no later recursive step (dump, checks) can exhaust the stack. `depth_limit` counts
// the outermost container as 1.
Result<Json> ParseLimited(std::string_view text, int depth_limit, std::string_view too_deep_msg) {
  bool too_deep = false;
  auto cb = [&](int depth, Json::parse_event_t ev, Json&) {
    if ((ev == Json::parse_event_t::object_start || ev == Json::parse_event_t::array_start) &&
        depth >= depth_limit) {
      too_deep = true;
      return false;
    }
    return true;
  };
  Json j;
  try {
    j = Json::parse(text, cb);
  } catch (const Json::parse_error& e) {
    // The library reports by exception; it stops here. Keep its reason, drop its prefix.
    std::string what = e.what();
    const size_t col = what.find("column ");
    const size_t colon = col == std::string::npos ? col : what.find(": ", col);
    if (colon != std::string::npos) what = what.substr(colon + 2);
    return Status::InvalidArgument("malformed JSON at byte " + std::to_string(e.byte) + ": " +
                                   what);
  } catch (const Json::out_of_range& e) {
    // A number past a double's range ("1e999999") is reported this way, not as a parse_error.
    std::string what = e.what();
    const size_t bracket = what.find("] ");
    if (bracket != std::string::npos) what = what.substr(bracket + 2);
    return Status::InvalidArgument("malformed JSON: " + what);
  }
  if (too_deep) return Status::InvalidArgument(std::string(too_deep_msg));
  return j;
}

const char* KindOf(const Json& v) {
  switch (v.type()) {
    case Json::value_t::string:
      return "a string";
    case Json::value_t::boolean:
      return "a boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return "an integer";
    case Json::value_t::number_float:
      return "a number with a fraction";
    case Json::value_t::array:
      return "an array";
    case Json::value_t::object:
      return "an object";
    default:
      return "null";
  }
}

// An any-JSON value (stored as FlexBuffers): refuse what FlexBuffers cannot hold as given.
// Recursion is bounded by ParseLimited's depth limit.
Status CheckAnyJson(const Json& v, const std::string& field) {
  if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t{INT64_MAX}) {
    return Status::InvalidArgument(field + " holds " + v.dump() +
                                   ", larger than a 64-bit signed integer; send it as a string");
  }
  if (v.is_number_float() && !std::isfinite(v.get<double>())) {
    return Status::InvalidArgument(field + " holds a number out of range");
  }
  if (v.is_object()) {
    for (const auto& [k, e] : v.items()) {
      if (k.find('\0') != std::string::npos) {
        return Status::InvalidArgument(field + " has a key containing NUL");
      }
      RETURN_IF_ERROR(CheckAnyJson(e, field));
    }
  } else if (v.is_array()) {
    for (const Json& e : v) RETURN_IF_ERROR(CheckAnyJson(e, field));
  }
  return Status::Ok();
}

Status CheckInteger(const Json& v, flatbuffers::BaseType t, const std::string& field) {
  if (!v.is_number_integer()) {
    return Status::InvalidArgument(field + " expects an integer, got " + KindOf(v));
  }
  const int bits = static_cast<int>(flatbuffers::SizeOf(t)) * 8;
  const bool is_unsigned = flatbuffers::IsUnsigned(t);
  bool fits;
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    const int value_bits = is_unsigned ? bits : bits - 1;
    fits = value_bits == 64 || u < (uint64_t{1} << value_bits);
  } else {
    const int64_t i = v.get<int64_t>();
    fits = !is_unsigned && (bits == 64 || i >= -(int64_t{1} << (bits - 1)));
  }
  if (!fits) {
    return Status::InvalidArgument(field + " expects " + (is_unsigned ? "an unsigned " : "a ") +
                                   std::to_string(bits) + "-bit integer; " + v.dump() +
                                   " does not fit");
  }
  return Status::Ok();
}

// Checks data against the payload table's definition: every key a field, every value of the
// field's kind. null means absent, as it does to the Parser.
Status CheckTableData(const flatbuffers::StructDef& sd, const Json& data) {
  for (const auto& [key, v] : data.items()) {
    const flatbuffers::FieldDef* f = sd.fields.Lookup(key);
    if (f == nullptr || f->deprecated) {
      std::vector<std::string_view> names;
      for (const flatbuffers::FieldDef* g : sd.fields.vec) {
        if (!g->deprecated) names.push_back(g->name);
      }
      const std::string best = ClosestName(key, names);
      return Status::InvalidArgument("unknown field '" + key + "'" +
                                     (best.empty() ? "" : " (did you mean '" + best + "'?)"));
    }
    if (v.is_null()) continue;
    const std::string field = "field '" + key + "'";
    const flatbuffers::Type& type = f->value.type;
    if (f->flexbuffer) {
      RETURN_IF_ERROR(CheckAnyJson(v, field));
    } else if (type.base_type == flatbuffers::BASE_TYPE_STRING) {
      if (!v.is_string()) {
        return Status::InvalidArgument(field + " expects a string, got " + KindOf(v));
      }
    } else if (type.base_type == flatbuffers::BASE_TYPE_BOOL) {
      if (!v.is_boolean()) {
        return Status::InvalidArgument(field + " expects true or false, got " + KindOf(v));
      }
    } else if (flatbuffers::IsFloat(type.base_type)) {
      if (!v.is_number()) {
        return Status::InvalidArgument(field + " expects a number, got " + KindOf(v));
      }
    } else if (flatbuffers::IsInteger(type.base_type) && type.enum_def == nullptr) {
      RETURN_IF_ERROR(CheckInteger(v, type.base_type, field));
    } else if (type.base_type == flatbuffers::BASE_TYPE_VECTOR &&
               type.element == flatbuffers::BASE_TYPE_STRING) {
      const bool ok = v.is_array() &&
                      std::all_of(v.begin(), v.end(), [](const Json& e) { return e.is_string(); });
      if (!ok) return Status::InvalidArgument(field + " expects an array of strings");
    }
    // Any other kind (enums, nested tables) is left to the Parser's own checks.
  }
  return Status::Ok();
}

bool ValidUtf8(const std::string& s) {
  // flatbuffers::FromUTF8 is strict (no overlong forms, no surrogates, nothing past U+10FFFF).
  // It reads a sequence's continuation bytes before checking them; c_str()'s terminating NUL is
  // never one, so it cannot read past the string.
  const char* p = s.c_str();
  const char* const end = p + s.size();
  while (p < end) {
    if (static_cast<unsigned char>(*p) < 0x80) {
      ++p;
    } else if (flatbuffers::FromUTF8(&p) < 0 || p > end) {
      return false;
    }
  }
  return true;
}

OJson FlexToJson(flexbuffers::Reference r);

template <typename Vec>
OJson FlexArray(const Vec& v) {
  OJson a = OJson::array();
  for (size_t i = 0; i < v.size(); ++i) a.push_back(FlexToJson(v[i]));
  return a;
}

// A FlexBuffers value as JSON. The buffer has passed the Verifier, which bounds its depth (64)
// and the number of vectors it visits, so recursion and work are bounded too.
OJson FlexToJson(flexbuffers::Reference r) {
  if (r.IsNull()) return nullptr;
  if (r.IsBool()) return r.AsBool();
  if (r.IsInt()) return r.AsInt64();
  if (r.IsUInt()) return r.AsUInt64();
  if (r.IsFloat()) return r.AsDouble();
  if (r.IsString()) return r.AsString().str();
  if (r.IsKey()) return std::string(r.AsKey());
  if (r.IsMap()) {
    const flexbuffers::Map m = r.AsMap();
    const flexbuffers::TypedVector keys = m.Keys();
    const flexbuffers::Vector values = m.Values();
    OJson o = OJson::object();
    for (size_t i = 0; i < keys.size() && i < values.size(); ++i) {
      o[keys[i].AsKey()] = FlexToJson(values[i]);
    }
    return o;
  }
  if (r.IsVector()) return FlexArray(r.AsVector());
  if (r.IsTypedVector()) return FlexArray(r.AsTypedVector());
  if (r.IsFixedTypedVector()) return FlexArray(r.AsFixedTypedVector());
  if (r.IsBlob()) {  // never written by the JSON parser; shown as its bytes
    const flexbuffers::Blob b = r.AsBlob();
    return OJson(std::vector<uint8_t>(b.data(), b.data() + b.size()));
  }
  return nullptr;
}

// FlatBuffers reads scalars in place, at offsets aligned relative to the buffer start, so the
// buffer itself must be 8-aligned (the log stores payloads 8-aligned; others are copied).
class AlignedPayload {
 public:
  explicit AlignedPayload(std::string_view in) : in_(in) {
    if (reinterpret_cast<uintptr_t>(in.data()) % 8 == 0) {
      data_ = reinterpret_cast<const uint8_t*>(in.data());
      return;
    }
    copy_ = std::make_unique<uint64_t[]>(in.size() / 8 + 1);
    std::memcpy(copy_.get(), in.data(), in.size());
    data_ = reinterpret_cast<const uint8_t*>(copy_.get());
  }
  // The Event, or Corruption when the bytes fail the Verifier.
  Result<const fb::Event*> Verify() const {
    if (in_.size() >= FLATBUFFERS_MAX_BUFFER_SIZE) {
      return Status::Corruption("event payload is larger than FlatBuffers allows");
    }
    flatbuffers::Verifier v(data_, in_.size());
    if (!fb::VerifyEventBuffer(v)) {
      return Status::Corruption("event payload fails FlatBuffers verification");
    }
    return fb::GetEvent(data_);
  }
  // The envelope fields alone (EventEnvelope in schema/event.fbs): the payload is not walked.
  Result<const fb::EventEnvelope*> VerifyEnvelope() const {
    if (in_.size() >= FLATBUFFERS_MAX_BUFFER_SIZE) {
      return Status::Corruption("event payload is larger than FlatBuffers allows");
    }
    flatbuffers::Verifier v(data_, in_.size());
    if (!v.VerifyBuffer<fb::EventEnvelope>(fb::EventIdentifier())) {
      return Status::Corruption("event envelope fails FlatBuffers verification");
    }
    return flatbuffers::GetRoot<fb::EventEnvelope>(data_);
  }
  // A string of the buffer, as a view into the caller's bytes (not into a copy).
  std::string_view View(const flatbuffers::String* s) const {
    if (s == nullptr) return {};
    return in_.substr(static_cast<size_t>(reinterpret_cast<const uint8_t*>(s->data()) - data_),
                      s->size());
  }

 private:
  std::string_view in_;
  const uint8_t* data_ = nullptr;
  std::unique_ptr<uint64_t[]> copy_;
};

// A payload table as JSON: GenText, then doubles and FlexBuffers fields read exactly (see top).
// The reference for TableToJsonDirect, and what it falls back to.
Result<OJson> TableToJsonText(flatbuffers::Parser& parser, const flatbuffers::StructDef& sd,
                              const flatbuffers::Table* table) {
  std::string text;
  if (!flatbuffers::GenerateTextFromTable(parser, table, "tink.fb." + sd.name, &text)) {
    return Status::Corruption("event data cannot be shown as JSON (invalid UTF-8)");
  }
  OJson data = OJson::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!data.is_object()) return Status::Corruption("event data cannot be shown as JSON");
  for (const flatbuffers::FieldDef* f : sd.fields.vec) {
    const auto off = static_cast<flatbuffers::voffset_t>(f->value.offset);
    if (f->deprecated || !table->CheckField(off)) continue;
    const flatbuffers::BaseType t = f->value.type.base_type;
    if (t == flatbuffers::BASE_TYPE_DOUBLE) {
      data[f->name] = table->GetField<double>(off, 0);
    } else if (t == flatbuffers::BASE_TYPE_FLOAT) {
      data[f->name] = table->GetField<float>(off, 0);
    } else if (f->flexbuffer) {
      const auto* bytes = table->GetPointer<const flatbuffers::Vector<uint8_t>*>(off);
      data[f->name] = FlexToJson(flexbuffers::GetRoot(bytes->data(), bytes->size()));
    }
  }
  return data;
}

// The same object as TableToJsonText, read field by field through the schema's StructDef without
// printing and parsing text: every field present in the table, in declaration order (GenText's
// rule with output_default_scalars_in_json off); integers as nlohmann's parser would type them
// (unsigned when >= 0). Payload tables hold strings, scalars, [string] and FlexBuffers only; any
// other field type (a future schema) takes the text path. Strings are checked by the caller.
// With `keys`, only the fields of those names.
Result<OJson> TableToJson(flatbuffers::Parser& parser, const flatbuffers::StructDef& sd,
                          const flatbuffers::Table* table, const std::vector<std::string>* keys) {
  using flatbuffers::BaseType;
  OJson data = OJson::object();
  auto integer = [](int64_t v) { return v >= 0 ? OJson(static_cast<uint64_t>(v)) : OJson(v); };
  for (const flatbuffers::FieldDef* f : sd.fields.vec) {
    const auto off = static_cast<flatbuffers::voffset_t>(f->value.offset);
    if (f->deprecated || !table->CheckField(off)) continue;
    if (keys != nullptr && std::find(keys->begin(), keys->end(), f->name) == keys->end()) continue;
    const flatbuffers::Type& type = f->value.type;
    if (type.enum_def != nullptr) return TableToJsonText(parser, sd, table);  // names, not numbers
    switch (type.base_type) {
      case BaseType::BASE_TYPE_STRING: {
        const auto* s = table->GetPointer<const flatbuffers::String*>(off);
        data[f->name] = std::string(s->c_str(), s->size());
        break;
      }
      case BaseType::BASE_TYPE_BOOL:
        data[f->name] = table->GetField<uint8_t>(off, 0) != 0;
        break;
      case BaseType::BASE_TYPE_INT:
        data[f->name] = integer(table->GetField<int32_t>(off, 0));
        break;
      case BaseType::BASE_TYPE_LONG:
        data[f->name] = integer(table->GetField<int64_t>(off, 0));
        break;
      case BaseType::BASE_TYPE_ULONG:
        data[f->name] = table->GetField<uint64_t>(off, 0);
        break;
      case BaseType::BASE_TYPE_DOUBLE:
        data[f->name] = table->GetField<double>(off, 0);
        break;
      case BaseType::BASE_TYPE_FLOAT:
        data[f->name] = table->GetField<float>(off, 0);
        break;
      case BaseType::BASE_TYPE_VECTOR: {
        if (f->flexbuffer) {
          const auto* bytes = table->GetPointer<const flatbuffers::Vector<uint8_t>*>(off);
          data[f->name] = FlexToJson(flexbuffers::GetRoot(bytes->data(), bytes->size()));
        } else if (type.element == BaseType::BASE_TYPE_STRING) {
          const auto* v = table->GetPointer<
              const flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>*>(off);
          OJson a = OJson::array();
          for (const flatbuffers::String* s : *v) a.push_back(std::string(s->c_str(), s->size()));
          data[f->name] = std::move(a);
        } else {
          return TableToJsonText(parser, sd, table);
        }
        break;
      }
      default:
        return TableToJsonText(parser, sd, table);
    }
  }
  return data;
}

}  // namespace

namespace {

// The envelope fields' own checks, shared by both encoding paths.
Status CheckEnvelope(const EventInput& e) {
  RETURN_IF_ERROR(CheckEventType(e.type));
  if (e.stream.empty()) return Status::InvalidArgument("event has no stream");
  if (e.stream.size() > kMaxStream) {
    return Status::InvalidArgument("stream is longer than " + std::to_string(kMaxStream) +
                                   " bytes");
  }
  if (e.id.size() > kMaxId) {
    return Status::InvalidArgument("id is longer than " + std::to_string(kMaxId) + " bytes");
  }
  if (e.run.size() > kMaxId) {
    return Status::InvalidArgument("run is longer than " + std::to_string(kMaxId) + " bytes");
  }
  if (!ValidUtf8(e.id)) return Status::InvalidArgument("id is not valid UTF-8");
  if (!ValidUtf8(e.stream)) return Status::InvalidArgument("stream is not valid UTF-8");
  if (!ValidUtf8(e.run)) return Status::InvalidArgument("run is not valid UTF-8");
  return Status::Ok();
}

}  // namespace

Result<std::string> EncodeEvent(const EventInput& e) {
  RETURN_IF_ERROR(CheckEnvelope(e));
  std::optional<std::string> fast = internal::EncodeEventFast(e, FindCatalogType(e.type));
  if (fast.has_value()) return std::move(*fast);
  return EncodeEventViaParser(e);
}

Result<std::string> EncodeEventViaParser(const EventInput& e) {
  RETURN_IF_ERROR(CheckEnvelope(e));
  const std::string prefix = e.type + " data: ";
  const std::string_view data_text = e.data_json.empty() ? std::string_view("{}") : e.data_json;
  auto data = ParseLimited(data_text, kMaxDataDepth,
                           "nests deeper than " + std::to_string(kMaxDataDepth) + " levels");
  if (!data.ok()) return data.status().WithContext(prefix.substr(0, prefix.size() - 2));
  if (!data->is_object()) {
    return Status::InvalidArgument(prefix + "must be a JSON object, not " + KindOf(*data));
  }

  flatbuffers::Parser& parser = ThreadParser();
  const EventTypeInfo* info = FindCatalogType(e.type);
  Status checked = info != nullptr ? CheckTableData(PayloadTable(parser, info->table), *data)
                                   : CheckAnyJson(*data, "data");
  if (!checked.ok()) return Status::InvalidArgument(prefix + checked.message());

  Json env;
  if (!e.id.empty()) env["id"] = e.id;
  env["stream"] = e.stream;
  env["type"] = e.type;
  if (!e.run.empty()) env["run"] = e.run;
  if (e.occurred_ns != 0) env["occurred_ns"] = e.occurred_ns;
  if (e.causation != 0) env["causation"] = e.causation;
  env["payload_type"] = info != nullptr ? std::string(info->table) : "Custom";
  // The union's type must precede its value in the text: nlohmann sorts keys, so the payload is
  // appended after the rest.
  std::string text = env.dump();
  text.pop_back();
  text += ",\"payload\":";
  if (info == nullptr) text += "{\"body\":";
  text += data->dump();  // re-dumped, not spliced: the checks above saw exactly this
  if (info == nullptr) text += "}";
  text += "}";

  if (!parser.ParseJson(text.c_str())) {
    std::string msg = CleanParserError(parser.error_);
    ThreadParser(/*reset=*/true);  // a failed parse may leave state behind
    return Status::InvalidArgument(prefix + msg);
  }
  return std::string(reinterpret_cast<const char*>(parser.builder_.GetBufferPointer()),
                     parser.builder_.GetSize());
}

namespace {

// The envelope fields of an Event or an EventEnvelope (the same field ids).
template <typename Table>
EventView ViewOf(const AlignedPayload& buf, const Table* ev) {
  EventView view;
  view.id = buf.View(ev->id());
  view.stream = buf.View(ev->stream());
  view.type = buf.View(ev->type());
  view.run = buf.View(ev->run());
  view.occurred_ns = ev->occurred_ns().value_or(0);
  view.causation = ev->causation().value_or(0);
  return view;
}

}  // namespace

Result<EventView> DecodeEvent(std::string_view payload) {
  const AlignedPayload buf(payload);
  ASSIGN_OR_RETURN(const fb::Event* ev, buf.Verify());
  return ViewOf(buf, ev);
}

Result<EventView> DecodeEnvelope(std::string_view payload) {
  const AlignedPayload buf(payload);
  ASSIGN_OR_RETURN(const fb::EventEnvelope* ev, buf.VerifyEnvelope());
  return ViewOf(buf, ev);
}

namespace {

// Whether every key and string in `j` is valid UTF-8 (what dump() would otherwise throw on).
bool AllUtf8(const OJson& j) {
  if (j.is_string()) return ValidUtf8(j.get_ref<const std::string&>());
  if (j.is_array()) return std::all_of(j.begin(), j.end(), AllUtf8);
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (!ValidUtf8(it.key()) || !AllUtf8(it.value())) return false;
    }
  }
  return true;
}

Result<OJson> EventJson(uint64_t lsn, int64_t time_ns, std::string_view payload, bool via_text,
                        const std::vector<std::string>* data_keys) {
  const AlignedPayload buf(payload);
  ASSIGN_OR_RETURN(const fb::Event* ev, buf.Verify());
  const std::string at = "event at LSN " + std::to_string(lsn);
  OJson j;
  j["lsn"] = lsn;
  j["time"] = FormatTime(time_ns);
  if (ev->occurred_ns().has_value()) j["occurred"] = FormatTime(*ev->occurred_ns());
  j["id"] = buf.View(ev->id());
  j["stream"] = buf.View(ev->stream());
  j["type"] = buf.View(ev->type());
  if (!buf.View(ev->run()).empty()) j["run"] = buf.View(ev->run());
  if (ev->causation().has_value()) j["causation"] = *ev->causation();

  OJson data = OJson::object();
  if (ev->payload() != nullptr && ev->payload_type() != fb::Payload::NONE) {
    const char* table_name = fb::EnumNamePayload(ev->payload_type());
    if (*table_name == '\0') {
      // The Verifier passes unknown union members (forward compatibility); we cannot show one.
      return Status::NotSupported(at + " has a payload type (" +
                                  std::to_string(static_cast<int>(ev->payload_type())) +
                                  ") this build does not know; written by a newer version?");
    }
    flatbuffers::Parser& parser = ThreadParser();
    const flatbuffers::StructDef& sd = PayloadTable(parser, table_name);
    const auto* t = static_cast<const flatbuffers::Table*>(ev->payload());
    const bool custom = ev->payload_type() == fb::Payload::Custom;  // data is its body
    auto table = via_text ? TableToJsonText(parser, sd, t)
                          : TableToJson(parser, sd, t, custom ? nullptr : data_keys);
    if (!table.ok()) return table.status().WithContext(at);
    data = std::move(*table);
    if (ev->payload_type() == fb::Payload::Custom) {
      OJson body = data.contains("body") ? data["body"] : OJson();
      data = body.is_null() ? OJson::object() : std::move(body);
    }
  }
  if (data_keys != nullptr && data.is_object()) {  // also what a fallback or a body brought
    for (auto it = data.begin(); it != data.end();) {
      if (std::find(data_keys->begin(), data_keys->end(), it.key()) == data_keys->end()) {
        it = data.erase(it);
      } else {
        ++it;
      }
    }
  }
  j["data"] = std::move(data);
  // Strings were UTF-8-checked when the event was encoded; a payload that passes the Verifier
  // but holds invalid UTF-8 is damage.
  if (!AllUtf8(j)) return Status::Corruption(at + " holds invalid UTF-8");
  return j;
}

}  // namespace

Result<OJson> EventToJsonValue(uint64_t lsn, int64_t time_ns, std::string_view payload,
                               const std::vector<std::string>* data_keys) {
  return EventJson(lsn, time_ns, payload, /*via_text=*/false, data_keys);
}

Result<OJson> EventToJsonValueViaText(uint64_t lsn, int64_t time_ns, std::string_view payload) {
  return EventJson(lsn, time_ns, payload, /*via_text=*/true, nullptr);
}

Result<std::string> EventToJson(uint64_t lsn, int64_t time_ns, std::string_view payload,
                                bool pretty) {
  ASSIGN_OR_RETURN(OJson j, EventToJsonValue(lsn, time_ns, payload));
  try {
    return pretty ? j.dump(2) : j.dump();
  } catch (const OJson::type_error&) {
    return Status::Corruption("event at LSN " + std::to_string(lsn) + " holds invalid UTF-8");
  }
}

Result<EventInput> ParseEnvelopeJson(std::string_view json) {
  std::optional<EventInput> fast = internal::ParseEnvelopeFast(json);
  if (fast.has_value()) return std::move(*fast);
  return ParseEnvelopeJsonViaDom(json);
}

Result<EventInput> ParseEnvelopeJsonViaDom(std::string_view json) {
  ASSIGN_OR_RETURN(Json j, ParseLimited(json, kMaxDataDepth + 1,
                                        "'data' nests deeper than " +
                                            std::to_string(kMaxDataDepth) + " levels"));
  if (!j.is_object()) return Status::InvalidArgument("an event must be a JSON object");
  EventInput e;
  for (auto& item : j.items()) {
    // Named references, not a structured binding: clang 14 (the fuzz build) cannot capture a
    // structured binding in the lambda below.
    const std::string& key = item.key();
    const Json& value = item.value();
    auto want_string = [&](std::string* out) -> Status {
      if (!value.is_string()) return Status::InvalidArgument("'" + key + "' must be a string");
      *out = value.get<std::string>();
      return Status::Ok();
    };
    if (key == "stream") {
      RETURN_IF_ERROR(want_string(&e.stream));
    } else if (key == "type") {
      RETURN_IF_ERROR(want_string(&e.type));
    } else if (key == "id") {
      RETURN_IF_ERROR(want_string(&e.id));
    } else if (key == "run") {
      RETURN_IF_ERROR(want_string(&e.run));
    } else if (key == "data") {
      if (!value.is_object()) return Status::InvalidArgument("'data' must be a JSON object");
      e.data_json = value.dump();
    } else if (key == "occurred") {
      std::string t;
      RETURN_IF_ERROR(want_string(&t));
      // The epoch itself reads as 0, which EventInput takes as "absent": recorders that write
      // it mean "unknown" anyway.
      ASSIGN_OR_RETURN(e.occurred_ns, ParseTime(t));
    } else if (key == "causation") {
      // An LSN; 0 (no LSN is 0) means none, as in EventInput.
      if (!value.is_number_unsigned()) {
        return Status::InvalidArgument("'causation' must be an LSN (a non-negative integer)");
      }
      e.causation = value.get<uint64_t>();
    } else if (key == "lsn" || key == "time") {
      return Status::InvalidArgument("'" + key + "' is assigned by the engine; leave it out");
    } else {
      return Status::InvalidArgument(
          "unknown envelope field '" + key +
          "' (expected stream, type, data, id, run, occurred, causation)");
    }
  }
  if (e.stream.empty()) return Status::InvalidArgument("missing 'stream'");
  if (e.type.empty()) return Status::InvalidArgument("missing 'type'");
  return e;
}

std::string FlexToJsonText(const uint8_t* data, size_t size) {
  if (data == nullptr || size == 0) return "null";
  return FlexToJson(flexbuffers::GetRoot(data, size))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace tink::schema
