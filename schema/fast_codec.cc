// The fast JSON -> FlatBuffers path; see schema/internal/fast_codec.h for its contract (decline
// whatever it is not certain of; codec.cc's reference path then decides).
//
// What "the same event" means here, value by value, against the reference (nlohmann parses, its
// text is dumped, flatbuffers::Parser parses that):
//  - strings: simdjson and nlohmann decode the same escapes and both refuse invalid UTF-8, lone
//    surrogates and raw control characters; NUL is kept by both.
//  - numbers: both parse decimals correctly rounded; nlohmann's dump prints the shortest text that
//    reads back as the same double, so the Parser stores what simdjson read. An integer literal is
//    an integer in both ("-0" too), anything with a fraction or exponent a double.
//  - any-JSON fields: the same FlexBuffers builder calls as Parser::ParseFlexBufferValue (String,
//    Int, Double, Bool, Null, Map with keys, untyped Vector), with the same builder flags, so the
//    bytes are the same; map keys are sorted by the builder in both.
//  - objects: nlohmann keeps the last of duplicate keys; here duplicates are declined.
#include "schema/internal/fast_codec.h"

#include <flatbuffers/flatbuffers.h>
#include <flatbuffers/flexbuffers.h>
#include <flatbuffers/idl.h>
#include <simdjson.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "schema/event_fbs_text.h"
#include "schema/event_generated.h"
#include "schema/internal/catalog.h"

namespace tink::schema::internal {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

enum class Kind : uint8_t { kString, kStrings, kFlex, kBool, kInt, kLong, kULong, kDouble, kOther };

struct FieldPlan {
  std::string name;
  flatbuffers::voffset_t offset = 0;
  Kind kind = Kind::kOther;
};

struct TablePlan {
  std::vector<FieldPlan> fields;  // declaration order; deprecated fields left out
  fb::Payload type = fb::Payload::NONE;
};

// One TablePlan per catalog entry (same order) and Custom's, read once from the schema's own
// definitions so they cannot drift from event.fbs.
struct Plans {
  std::vector<TablePlan> catalog;
  TablePlan custom;
};

Kind KindOf(const flatbuffers::FieldDef& f) {
  const flatbuffers::Type& t = f.value.type;
  if (f.flexbuffer) return Kind::kFlex;
  if (t.enum_def != nullptr) return Kind::kOther;
  switch (t.base_type) {
    case flatbuffers::BASE_TYPE_STRING:
      return Kind::kString;
    case flatbuffers::BASE_TYPE_BOOL:
      return Kind::kBool;
    case flatbuffers::BASE_TYPE_INT:
      return Kind::kInt;
    case flatbuffers::BASE_TYPE_LONG:
      return Kind::kLong;
    case flatbuffers::BASE_TYPE_ULONG:
      return Kind::kULong;
    case flatbuffers::BASE_TYPE_DOUBLE:
      return Kind::kDouble;
    case flatbuffers::BASE_TYPE_VECTOR:
      return t.element == flatbuffers::BASE_TYPE_STRING ? Kind::kStrings : Kind::kOther;
    default:
      return Kind::kOther;  // float, narrower integers, tables: the reference handles them
  }
}

TablePlan PlanOf(flatbuffers::Parser& parser, std::string_view table) {
  const flatbuffers::StructDef* sd = parser.structs_.Lookup("tink.fb." + std::string(table));
  if (sd == nullptr) std::abort();  // the catalog names a table event.fbs lacks: build defect
  TablePlan plan;
  for (const flatbuffers::FieldDef* f : sd->fields.vec) {
    if (f->deprecated) continue;
    plan.fields.push_back(
        {f->name, static_cast<flatbuffers::voffset_t>(f->value.offset), KindOf(*f)});
  }
  const char* const* names = fb::EnumNamesPayload();
  for (int i = 0; names[i] != nullptr; ++i) {
    if (table == names[i]) plan.type = static_cast<fb::Payload>(i);
  }
  if (plan.type == fb::Payload::NONE) std::abort();  // not a member of the union: build defect
  return plan;
}

const Plans& GetPlans() {
  static const Plans plans = [] {
    flatbuffers::Parser parser;
    if (!parser.Parse(kEventFbs)) std::abort();  // the embedded schema: a build defect
    Plans p;
    for (const EventTypeInfo& t : Catalog()) p.catalog.push_back(PlanOf(parser, t.table));
    p.custom = PlanOf(parser, "Custom");
    return p;
  }();
  return plans;
}

// Per-thread working state, reused from event to event.
struct Scratch {
  simdjson::dom::parser parser;
  simdjson::ondemand::parser ondemand;  // to find a value's source text in a validated document
  std::vector<char> padded;             // the input copied with simdjson's padding after it
  flatbuffers::FlatBufferBuilder fbb{1024};
  flexbuffers::Builder flex{512, flexbuffers::BUILDER_FLAG_SHARE_ALL};
  std::vector<flatbuffers::Offset<flatbuffers::String>> strings;
};

Scratch& ThreadScratch() {
  thread_local Scratch s;
  return s;
}

// Parses `text` into the thread's DOM; false when simdjson refuses it.
bool Parse(Scratch& s, std::string_view text, element* doc) {
  s.padded.resize(text.size() + simdjson::SIMDJSON_PADDING);
  std::memcpy(s.padded.data(), text.data(), text.size());
  return !s.parser.parse(s.padded.data(), text.size(), /*realloc_if_needed=*/false).get(*doc);
}

// Any JSON as FlexBuffers, as Parser::ParseFlexBufferValue builds it. `level`: nesting of `v`
// (data = 1). False: declined.
bool Flex(flexbuffers::Builder& b, element v, int level) {
  switch (v.type()) {
    case element_type::OBJECT: {
      if (level > kMaxDataDepth) return false;
      const size_t start = b.StartMap();
      for (simdjson::dom::key_value_pair kv : simdjson::dom::object(v)) {
        if (kv.key.find('\0') != std::string_view::npos) return false;  // refused by the reference
        b.Key(kv.key.data(), kv.key.size());
        if (!Flex(b, kv.value, level + 1)) return false;
      }
      b.EndMap(start);
      return true;
    }
    case element_type::ARRAY: {
      if (level > kMaxDataDepth) return false;
      const size_t start = b.StartVector();
      for (element e : simdjson::dom::array(v)) {
        if (!Flex(b, e, level + 1)) return false;
      }
      b.EndVector(start, /*typed=*/false, /*fixed=*/false);
      return true;
    }
    case element_type::STRING: {
      const std::string_view s = v.get_string().value_unsafe();
      b.String(s.data(), s.size());
      return true;
    }
    case element_type::INT64:
      b.Int(v.get_int64().value_unsafe());
      return true;
    case element_type::DOUBLE:
      b.Double(v.get_double().value_unsafe());
      return true;
    case element_type::BOOL:
      b.Bool(v.get_bool().value_unsafe());
      return true;
    case element_type::NULL_VALUE:
      b.Null();
      return true;
    case element_type::UINT64:  // past int64: the reference refuses it
    default:
      return false;
  }
}

// A whole any-JSON value as a [ubyte] vector in `fbb` (0: declined).
flatbuffers::uoffset_t FlexField(Scratch& s, element v, int level) {
  s.flex.Clear();
  if (!Flex(s.flex, v, level)) return 0;
  s.flex.Finish();
  if (s.flex.HasDuplicateKeys()) return 0;  // the reference keeps the last; decline
  const std::vector<uint8_t>& bytes = s.flex.GetBuffer();
  s.fbb.ForceVectorAlignment(bytes.size(), sizeof(uint8_t), sizeof(flatbuffers::largest_scalar_t));
  return s.fbb.CreateVector(bytes).o;
}

// A field's value staged until the table is started (children must be built before it).
struct Staged {
  flatbuffers::voffset_t offset;
  Kind kind;
  union {
    flatbuffers::uoffset_t ref;
    int64_t i;
    uint64_t u;
    double d;
    bool b;
  };
};

// Stages `v` for field `f`; false: declined (wrong kind, out of range: the reference's error).
bool StageField(Scratch& s, const FieldPlan& f, element v, Staged* out) {
  out->offset = f.offset;
  out->kind = f.kind;
  const element_type t = v.type();
  switch (f.kind) {
    case Kind::kString: {
      if (t != element_type::STRING) return false;
      const std::string_view str = v.get_string().value_unsafe();
      out->ref = s.fbb.CreateString(str.data(), str.size()).o;
      return true;
    }
    case Kind::kStrings: {
      if (t != element_type::ARRAY) return false;
      s.strings.clear();
      for (element e : simdjson::dom::array(v)) {
        if (e.type() != element_type::STRING) return false;
        const std::string_view str = e.get_string().value_unsafe();
        s.strings.push_back(s.fbb.CreateString(str.data(), str.size()));
      }
      out->ref = s.fbb.CreateVector(s.strings).o;
      return true;
    }
    case Kind::kFlex:
      out->ref = FlexField(s, v, 2);
      return out->ref != 0;
    case Kind::kBool:
      if (t != element_type::BOOL) return false;
      out->b = v.get_bool().value_unsafe();
      return true;
    case Kind::kInt:
    case Kind::kLong: {
      if (t != element_type::INT64) return false;  // UINT64 is past int64: refused
      out->i = v.get_int64().value_unsafe();
      return f.kind == Kind::kLong || (out->i >= INT32_MIN && out->i <= INT32_MAX);
    }
    case Kind::kULong:
      if (t == element_type::UINT64) {
        out->u = v.get_uint64().value_unsafe();
        return true;
      }
      if (t != element_type::INT64 || v.get_int64().value_unsafe() < 0) return false;
      out->u = static_cast<uint64_t>(v.get_int64().value_unsafe());
      return true;
    case Kind::kDouble:
      if (t == element_type::DOUBLE) {
        out->d = v.get_double().value_unsafe();
      } else if (t == element_type::INT64) {
        out->d = static_cast<double>(v.get_int64().value_unsafe());
      } else if (t == element_type::UINT64) {
        out->d = static_cast<double>(v.get_uint64().value_unsafe());
      } else {
        return false;
      }
      return true;
    case Kind::kOther:
    default:
      return false;
  }
}

void AddStaged(flatbuffers::FlatBufferBuilder& fbb, const Staged& f) {
  switch (f.kind) {
    case Kind::kString:
    case Kind::kStrings:
    case Kind::kFlex:
      fbb.AddOffset(f.offset, flatbuffers::Offset<void>(f.ref));
      break;
    case Kind::kBool:
      fbb.AddElement<uint8_t>(f.offset, f.b ? 1 : 0);
      break;
    case Kind::kInt:
      fbb.AddElement<int32_t>(f.offset, static_cast<int32_t>(f.i));
      break;
    case Kind::kLong:
      fbb.AddElement<int64_t>(f.offset, f.i);
      break;
    case Kind::kULong:
      fbb.AddElement<uint64_t>(f.offset, f.u);
      break;
    case Kind::kDouble:
      fbb.AddElement<double>(f.offset, f.d);
      break;
    case Kind::kOther:
      break;
  }
}

// The payload table for `data` (an object); 0: declined.
flatbuffers::uoffset_t PayloadTable(Scratch& s, const TablePlan& plan, element data) {
  constexpr size_t kMaxFields = 64;
  if (plan.fields.size() > kMaxFields) return 0;
  std::array<Staged, kMaxFields> staged;
  size_t n = 0;
  uint64_t seen = 0;
  for (simdjson::dom::key_value_pair kv : simdjson::dom::object(data)) {
    size_t i = 0;
    while (i < plan.fields.size() && plan.fields[i].name != kv.key) ++i;
    if (i == plan.fields.size()) return 0;    // unknown field: the reference names it
    if (seen & (uint64_t{1} << i)) return 0;  // a duplicate key
    seen |= uint64_t{1} << i;
    if (kv.value.type() == element_type::NULL_VALUE) continue;  // null means absent
    if (!StageField(s, plan.fields[i], kv.value, &staged[n])) return 0;
    ++n;
  }
  const flatbuffers::uoffset_t start = s.fbb.StartTable();
  for (size_t i = 0; i < n; ++i) AddStaged(s.fbb, staged[i]);
  return s.fbb.EndTable(start);
}

}  // namespace

std::optional<std::string> EncodeEventFast(const EventInput& e, const EventTypeInfo* info) {
  Scratch& s = ThreadScratch();
  const std::string_view text = e.data_json.empty() ? std::string_view("{}") : e.data_json;
  element data;
  if (!Parse(s, text, &data) || data.type() != element_type::OBJECT) return std::nullopt;

  const Plans& plans = GetPlans();
  s.fbb.Clear();
  flatbuffers::uoffset_t payload;
  fb::Payload payload_type;
  if (info != nullptr) {
    const TablePlan& plan = plans.catalog[static_cast<size_t>(info - Catalog().data())];
    payload = PayloadTable(s, plan, data);
    payload_type = plan.type;
  } else {
    // A custom type: data itself is Custom's `body`.
    const flatbuffers::uoffset_t body = FlexField(s, data, 1);
    if (body == 0) return std::nullopt;
    const flatbuffers::uoffset_t start = s.fbb.StartTable();
    s.fbb.AddOffset(plans.custom.fields.at(0).offset, flatbuffers::Offset<void>(body));
    payload = s.fbb.EndTable(start);
    payload_type = plans.custom.type;
  }
  if (payload == 0) return std::nullopt;

  const auto id = e.id.empty() ? 0 : s.fbb.CreateString(e.id).o;
  const auto stream = s.fbb.CreateString(e.stream);
  const auto type = s.fbb.CreateString(e.type);
  const auto run = e.run.empty() ? 0 : s.fbb.CreateString(e.run).o;
  fb::EventBuilder b(s.fbb);
  if (id != 0) b.add_id(flatbuffers::Offset<flatbuffers::String>(id));
  b.add_stream(stream);
  b.add_type(type);
  if (run != 0) b.add_run(flatbuffers::Offset<flatbuffers::String>(run));
  if (e.occurred_ns != 0) b.add_occurred_ns(e.occurred_ns);
  if (e.causation != 0) b.add_causation(e.causation);
  b.add_payload_type(payload_type);
  b.add_payload(flatbuffers::Offset<void>(payload));
  fb::FinishEventBuffer(s.fbb, b.Finish());
  return std::string(reinterpret_cast<const char*>(s.fbb.GetBufferPointer()), s.fbb.GetSize());
}

namespace {

// Whether no container in `v` nests deeper than `limit` (v at `level`).
bool WithinDepth(element v, int level, int limit) {
  const element_type t = v.type();
  if (t != element_type::OBJECT && t != element_type::ARRAY) return true;
  if (level > limit) return false;
  if (t == element_type::OBJECT) {
    for (simdjson::dom::key_value_pair kv : simdjson::dom::object(v)) {
      if (!WithinDepth(kv.value, level + 1, limit)) return false;
    }
  } else {
    for (element e : simdjson::dom::array(v)) {
      if (!WithinDepth(e, level + 1, limit)) return false;
    }
  }
  return true;
}

}  // namespace

std::optional<EventInput> ParseEnvelopeFast(std::string_view json) {
  Scratch& s = ThreadScratch();
  element doc;
  if (!Parse(s, json, &doc) || doc.type() != element_type::OBJECT) return std::nullopt;
  EventInput e;
  unsigned seen = 0;
  auto once = [&seen](unsigned bit) {
    if (seen & bit) return false;  // a duplicate key: the reference keeps the last
    seen |= bit;
    return true;
  };
  auto string_of = [](element v, std::string* out) {
    if (v.type() != element_type::STRING) return false;
    *out = std::string(v.get_string().value_unsafe());
    return true;
  };
  for (simdjson::dom::key_value_pair kv : simdjson::dom::object(doc)) {
    const std::string_view k = kv.key;
    bool ok;
    if (k == "stream") {
      ok = once(1) && string_of(kv.value, &e.stream);
    } else if (k == "type") {
      ok = once(2) && string_of(kv.value, &e.type);
    } else if (k == "id") {
      ok = once(4) && string_of(kv.value, &e.id);
    } else if (k == "run") {
      ok = once(8) && string_of(kv.value, &e.run);
    } else if (k == "data") {
      ok = once(16) && kv.value.type() == element_type::OBJECT &&
           WithinDepth(kv.value, 1, kMaxDataDepth);
    } else if (k == "occurred") {
      std::string t;
      ok = once(32) && string_of(kv.value, &t);
      if (ok) {
        Result<int64_t> ns = ParseTime(t);
        ok = ns.ok();
        if (ok) e.occurred_ns = *ns;
      }
    } else if (k == "causation") {
      ok = once(64);
      if (kv.value.type() == element_type::UINT64) {
        e.causation = kv.value.get_uint64().value_unsafe();
      } else if (kv.value.type() == element_type::INT64 &&
                 kv.value.get_int64().value_unsafe() >= 0) {
        e.causation = static_cast<uint64_t>(kv.value.get_int64().value_unsafe());
      } else {
        ok = false;
      }
    } else {
      ok = false;  // engine-assigned or unknown: the reference names it
    }
    if (!ok) return std::nullopt;
  }
  if (e.stream.empty() || e.type.empty()) return std::nullopt;
  if (seen & 16) {
    // data as it was written (the DOM has no source positions; printing it again costs several
    // times more): the document is valid and holds one "data", so the on-demand parser's walk
    // to it cannot fail.
    simdjson::ondemand::document d;
    simdjson::ondemand::object data;
    std::string_view raw;
    if (s.ondemand.iterate(s.padded.data(), json.size(), s.padded.size()).get(d) ||
        d.find_field("data").get_object().get(data) || data.raw_json().get(raw)) {
      return std::nullopt;
    }
    e.data_json.assign(raw.data(), raw.size());
  }
  return e;
}

}  // namespace tink::schema::internal
