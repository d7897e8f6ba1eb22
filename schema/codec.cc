// JSON <-> FlatBuffers for events, through flatbuffers::Parser and GenText with the embedded
// schema (no hand-written codec). The envelope JSON is assembled with nlohmann::json.
#include <flatbuffers/idl.h>
#include <flatbuffers/verifier.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "schema/event_fbs_text.h"
#include "schema/event_generated.h"
#include "schema/internal/catalog.h"
#include "schema/schema.h"

namespace tink::schema {
namespace {

constexpr size_t kMaxStream = 1024;
constexpr size_t kMaxId = 256;

std::unique_ptr<flatbuffers::Parser> NewParser() {
  flatbuffers::IDLOptions o;
  o.strict_json = true;
  o.json_nested_flexbuffers = true;
  o.natural_utf8 = true;
  o.indent_step = -1;
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

// "1: 56: error: unknown field: tol" -> "unknown field: tol". The positions refer to the JSON we
// assembled, not to the user's text, so they would mislead.
std::string CleanParserError(const std::string& e) {
  std::string msg = e;
  const size_t at = msg.find("error: ");
  if (at != std::string::npos) msg = msg.substr(at + 7);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  return msg;
}

bool IsJsonObject(std::string_view s) {
  const size_t p = s.find_first_not_of(" \t\r\n");
  return p != std::string_view::npos && s[p] == '{' && nlohmann::json::accept(s);
}

std::string_view Str(const flatbuffers::String* s) {
  return s == nullptr ? std::string_view() : std::string_view(s->data(), s->size());
}

}  // namespace

Result<std::string> EncodeEvent(const EventInput& e) {
  RETURN_IF_ERROR(CheckEventType(e.type));
  if (e.stream.empty()) return Status::InvalidArgument("event has no stream");
  if (e.stream.size() > kMaxStream) {
    return Status::InvalidArgument("stream is longer than " + std::to_string(kMaxStream) +
                                   " bytes");
  }
  if (e.id.size() > kMaxId || e.run.size() > kMaxId) {
    return Status::InvalidArgument("id and run are limited to " + std::to_string(kMaxId) +
                                   " bytes");
  }
  const std::string_view data = e.data_json.empty() ? std::string_view("{}") : e.data_json;
  // A single JSON object, checked before it is spliced into the envelope text, so data can never
  // alter the envelope around it.
  if (!IsJsonObject(data)) {
    return Status::InvalidArgument(e.type + " data: not a JSON object");
  }
  const EventTypeInfo* info = FindCatalogType(e.type);
  nlohmann::json env;
  if (!e.id.empty()) env["id"] = e.id;
  env["stream"] = e.stream;
  env["type"] = e.type;
  if (!e.run.empty()) env["run"] = e.run;
  if (e.occurred_ns != 0) env["occurred_ns"] = e.occurred_ns;
  if (e.causation != 0) env["causation"] = e.causation;
  env["payload_type"] = info != nullptr ? std::string(info->table) : "Custom";
  std::string text = env.dump();
  text.pop_back();  // the closing brace: the payload follows
  text += ",\"payload\":";
  if (info != nullptr) {
    text += data;
  } else {
    text += "{\"body\":";
    text += data;
    text += "}";
  }
  text += "}";

  flatbuffers::Parser& parser = ThreadParser();
  if (!parser.ParseJson(text.c_str())) {
    std::string msg = CleanParserError(parser.error_);
    ThreadParser(/*reset=*/true);  // a failed parse may leave state behind
    return Status::InvalidArgument(e.type + " data: " + msg);
  }
  return std::string(reinterpret_cast<const char*>(parser.builder_.GetBufferPointer()),
                     parser.builder_.GetSize());
}

Result<EventView> DecodeEvent(std::string_view payload) {
  flatbuffers::Verifier v(reinterpret_cast<const uint8_t*>(payload.data()), payload.size());
  if (!fb::VerifyEventBuffer(v)) {
    return Status::Corruption("event payload fails FlatBuffers verification");
  }
  const fb::Event* ev = fb::GetEvent(payload.data());
  EventView view;
  view.id = Str(ev->id());
  view.stream = Str(ev->stream());
  view.type = Str(ev->type());
  view.run = Str(ev->run());
  view.occurred_ns = ev->occurred_ns().value_or(0);
  view.causation = ev->causation().value_or(0);
  return view;
}

Result<std::string> EventToJson(uint64_t lsn, int64_t time_ns, std::string_view payload,
                                bool pretty) {
  ASSIGN_OR_RETURN(EventView view, DecodeEvent(payload));
  const fb::Event* ev = fb::GetEvent(payload.data());
  nlohmann::ordered_json j;
  j["lsn"] = lsn;
  j["time"] = FormatTime(time_ns);
  if (view.occurred_ns != 0) j["occurred"] = FormatTime(view.occurred_ns);
  j["id"] = view.id;
  j["stream"] = view.stream;
  j["type"] = view.type;
  if (!view.run.empty()) j["run"] = view.run;
  if (view.causation != 0) j["causation"] = view.causation;

  nlohmann::ordered_json data = nlohmann::ordered_json::object();
  if (ev->payload() != nullptr && ev->payload_type() != fb::Payload::NONE) {
    const std::string table = std::string("tink.fb.") + fb::EnumNamePayload(ev->payload_type());
    std::string text;
    if (!flatbuffers::GenerateTextFromTable(ThreadParser(), ev->payload(), table, &text)) {
      return Status::Corruption("event at LSN " + std::to_string(lsn) +
                                " cannot be shown as JSON (invalid UTF-8?)");
    }
    data = nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (data.is_discarded()) {
      return Status::Corruption("event at LSN " + std::to_string(lsn) + " has unreadable data");
    }
    if (ev->payload_type() == fb::Payload::Custom) {
      nlohmann::ordered_json body = data.contains("body") ? data["body"] : nullptr;
      data = body.is_null() ? nlohmann::ordered_json::object() : body;
    }
  }
  j["data"] = std::move(data);
  // Strings were UTF-8-checked when the event was encoded; a payload that passes the Verifier
  // but holds invalid UTF-8 is damage. nlohmann reports it by exception: stop it here.
  try {
    return pretty ? j.dump(2) : j.dump();
  } catch (const nlohmann::json::type_error&) {
    return Status::Corruption("event at LSN " + std::to_string(lsn) +
                              " holds invalid UTF-8 in its envelope");
  }
}

Result<EventInput> ParseEnvelopeJson(std::string_view json) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(json);
  } catch (const nlohmann::json::parse_error& e) {
    // nlohmann's message names the byte position; it is the library boundary, so the exception
    // stops here.
    std::string what = e.what();
    const size_t at = what.find("parse error");
    return Status::InvalidArgument("malformed JSON: " +
                                   (at == std::string::npos ? what : what.substr(at)));
  }
  if (!j.is_object()) return Status::InvalidArgument("an event must be a JSON object");
  EventInput e;
  for (auto& [key, value] : j.items()) {
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
      ASSIGN_OR_RETURN(e.occurred_ns, ParseTime(t));
    } else if (key == "causation") {
      if (!value.is_number_unsigned() || value.get<uint64_t>() == 0) {
        return Status::InvalidArgument("'causation' must be an LSN (a positive integer)");
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

}  // namespace tink::schema
