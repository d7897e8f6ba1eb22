// The OpenHands reader's input checks: every field the mapping reads is checked for its kind
// before any event is made, and errors name the file, the record (line) and the field.
#include <set>

#include "engine/import/import.h"
#include "engine/import/json_internal.h"
#include "engine/import/openhands_internal.h"

namespace tink::engine::import::internal {

using nlohmann::json;

std::string Where::Prefix() const {
  std::string s = file;
  if (record > 0) s += ": record " + std::to_string(record);
  if (line > 0) s += " (line " + std::to_string(line) + ")";
  return s;
}

namespace {

Status Bad(const Where& w, const std::string& field, const std::string& what) {
  return Status::InvalidArgument(w.Prefix() + ": field '" + field + "': " + what);
}

std::string KindOf(const json& j) {
  switch (j.type()) {
    case json::value_t::string:
      return "a string";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "an integer";
    case json::value_t::number_float:
      return "a number";
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "an array";
    case json::value_t::null:
      return "null";
    default:
      return "something else";
  }
}

bool IsInt(const json& j) {
  return j.is_number_integer() &&
         !(j.is_number_unsigned() && j.get<uint64_t>() > uint64_t{INT64_MAX});
}

enum class Want { kString, kInt, kBool, kObject, kArray };

// Checks that obj[key] is absent, null, or of the wanted kind.
Status Check(const Where& w, const json& obj, const std::string& path, const char* key, Want want,
             bool required = false) {
  const std::string field = path.empty() ? key : path + "." + key;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    return required ? Bad(w, field, "missing") : Status::Ok();
  }
  bool ok = false;
  const char* expected = "";
  switch (want) {
    case Want::kString:
      ok = it->is_string();
      expected = "a string";
      break;
    case Want::kInt:
      ok = IsInt(*it);
      expected = "an integer";
      break;
    case Want::kBool:
      ok = it->is_boolean();
      expected = "a boolean";
      break;
    case Want::kObject:
      ok = it->is_object();
      expected = "an object";
      break;
    case Want::kArray:
      ok = it->is_array();
      expected = "an array";
      break;
  }
  if (ok) return Status::Ok();
  return Bad(w, field, std::string("expected ") + expected + ", got " + KindOf(*it));
}

// One event of `history`, checked for the fields the mapping reads.
Status CheckEvent(const Where& w, const json& ev, const std::string& path, std::set<int64_t>* ids) {
  if (!ev.is_object()) return Bad(w, path, "expected an object, got " + KindOf(ev));
  RETURN_IF_ERROR(Check(w, ev, path, "id", Want::kInt, /*required=*/true));
  const int64_t id = ev["id"].get<int64_t>();
  if (id < 0) return Bad(w, path + ".id", "negative id " + std::to_string(id));
  if (!ids->insert(id).second) return Bad(w, path + ".id", "id " + std::to_string(id) + " repeats");
  RETURN_IF_ERROR(Check(w, ev, path, "timestamp", Want::kString));
  if (const json* ts = Field(&ev, "timestamp");
      ts && ParseSourceTime(ts->get<std::string>()) == 0) {
    return Bad(w, path + ".timestamp", "not an ISO 8601 time: '" + ts->get<std::string>() + "'");
  }
  for (const char* key : {"source", "action", "observation", "content", "message"}) {
    RETURN_IF_ERROR(Check(w, ev, path, key, Want::kString));
  }
  RETURN_IF_ERROR(Check(w, ev, path, "cause", Want::kInt));
  for (const char* key : {"args", "extras", "tool_call_metadata"}) {
    RETURN_IF_ERROR(Check(w, ev, path, key, Want::kObject));
  }
  if (const json* args = Obj(&ev, "args")) {
    const std::string p = path + ".args";
    for (const char* key : {"command", "path", "old_str", "new_str", "file_text", "thought",
                            "content", "translated_ipython_code", "final_thought"}) {
      RETURN_IF_ERROR(Check(w, *args, p, key, Want::kString));
    }
    RETURN_IF_ERROR(Check(w, *args, p, "insert_line", Want::kInt));
  }
  if (const json* extras = Obj(&ev, "extras")) {
    const std::string p = path + ".extras";
    for (const char* key : {"path", "old_content", "new_content", "diff", "command"}) {
      RETURN_IF_ERROR(Check(w, *extras, p, key, Want::kString));
    }
    RETURN_IF_ERROR(Check(w, *extras, p, "prev_exist", Want::kBool));
    RETURN_IF_ERROR(Check(w, *extras, p, "metadata", Want::kObject));
    RETURN_IF_ERROR(Check(w, *extras, p, "exit_code", Want::kInt));
    if (auto ec = Int(extras, "exit_code"); ec && (*ec < INT32_MIN || *ec > INT32_MAX)) {
      return Bad(w, p + ".exit_code", "does not fit a 32-bit integer");
    }
    if (const json* md = Obj(extras, "metadata")) {
      RETURN_IF_ERROR(Check(w, *md, p + ".metadata", "exit_code", Want::kInt));
      RETURN_IF_ERROR(Check(w, *md, p + ".metadata", "working_dir", Want::kString));
      if (auto ec = Int(md, "exit_code"); ec && (*ec < INT32_MIN || *ec > INT32_MAX)) {
        return Bad(w, p + ".metadata.exit_code", "does not fit a 32-bit integer");
      }
    }
  }
  return Status::Ok();
}

}  // namespace

// Lenient getters for checked records and for the provider's raw response (whose shape varies).
std::string Str(const json* obj, const char* key) {
  if (obj == nullptr || !obj->is_object()) return "";
  auto it = obj->find(key);
  return it != obj->end() && it->is_string() ? it->get<std::string>() : "";
}
const json* Field(const json* obj, const char* key) {
  if (obj == nullptr || !obj->is_object()) return nullptr;
  auto it = obj->find(key);
  return it == obj->end() || it->is_null() ? nullptr : &*it;
}
const json* Obj(const json* obj, const char* key) {
  const json* f = Field(obj, key);
  return f != nullptr && f->is_object() ? f : nullptr;
}
std::optional<int64_t> Int(const json* obj, const char* key) {
  const json* f = Field(obj, key);
  if (f == nullptr || !IsInt(*f)) return std::nullopt;
  return f->get<int64_t>();
}

Result<json> ParseJson(std::string_view text, const Where& w) {
  // Nesting is bounded while parsing (deeper containers are not built): dump() and the checks
  // recurse, and a recording has no reason to nest hundreds of levels.
  bool too_deep = false;
  auto limit = [&too_deep](int depth, json::parse_event_t ev, json&) {
    if ((ev == json::parse_event_t::object_start || ev == json::parse_event_t::array_start) &&
        depth >= jsondoc::kMaxDepth) {
      too_deep = true;
      return false;
    }
    return true;
  };
  try {
    json doc = json::parse(text, limit);
    if (too_deep) {
      return Status::InvalidArgument(w.Prefix() + ": JSON nested deeper than " +
                                     std::to_string(jsondoc::kMaxDepth) + " levels");
    }
    return doc;
  } catch (const json::parse_error& e) {
    std::string what = e.what();
    const size_t col = what.find("column ");
    const size_t colon = col == std::string::npos ? col : what.find(": ", col);
    if (colon != std::string::npos) what = what.substr(colon + 2);
    return Status::InvalidArgument(w.Prefix() + ": malformed JSON at byte " +
                                   std::to_string(e.byte) + ": " + what);
  }
}

Status CheckHistory(const Where& w, const json& history, const std::string& path) {
  std::set<int64_t> ids;
  for (size_t i = 0; i < history.size(); ++i) {
    RETURN_IF_ERROR(CheckEvent(w, history[i], path + "[" + std::to_string(i) + "]", &ids));
  }
  return Status::Ok();
}

Status CheckRecord(const Where& w, const json& rec) {
  if (!rec.is_object()) return Bad(w, "(record)", "expected an object, got " + KindOf(rec));
  RETURN_IF_ERROR(Check(w, rec, "", "instance_id", Want::kString, /*required=*/true));
  RETURN_IF_ERROR(Check(w, rec, "", "history", Want::kArray, /*required=*/true));
  RETURN_IF_ERROR(Check(w, rec, "", "instruction", Want::kString));
  RETURN_IF_ERROR(Check(w, rec, "", "error", Want::kString));
  for (const char* key : {"metadata", "test_result", "instance", "metrics"}) {
    RETURN_IF_ERROR(Check(w, rec, "", key, Want::kObject));
  }
  if (const json* tr = Obj(&rec, "test_result")) {
    RETURN_IF_ERROR(Check(w, *tr, "test_result", "git_patch", Want::kString));
  }
  if (const json* inst = Obj(&rec, "instance")) {
    for (const char* key : {"repo", "version", "base_commit"}) {
      RETURN_IF_ERROR(Check(w, *inst, "instance", key, Want::kString));
    }
  }
  return CheckHistory(w, rec["history"], "history");
}

}  // namespace tink::engine::import::internal
