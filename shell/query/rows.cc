// Rows of the engine-backed sources (provider_internal.h): one builder per projection type, in the
// field order of sources.cc, and the helpers the verbs share.
#include <algorithm>
#include <array>

#include "schema/event_json.h"
#include "schema/schema.h"
#include "shell/query/provider_internal.h"

namespace tink::query::internal {

Result<bool> VectorStream::Next(Row* out) {
  if (IsSet(cancel_)) return Cancelled();
  if (next_ >= rows_.size()) return false;
  *out = std::move(rows_[next_++]);
  return true;
}

std::vector<std::string> ColumnsOf(std::string_view source) {
  std::vector<std::string> out;
  if (const SourceInfo* s = FindSource(source)) {
    for (const FieldInfo& f : s->fields) out.push_back(f.name);
  }
  return out;
}

Json TimeOrNull(int64_t ns) { return ns == 0 ? Json(nullptr) : Json(schema::FormatTime(ns)); }

Json ParseProps(const std::string& text) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  return j.is_discarded() ? Json(text) : j;
}

std::string TaskOfStream(std::string_view stream) {
  // run/<R>/task/<T>: the run id may itself hold '/', so look for the last "/task/".
  if (stream.substr(0, 4) != "run/") return "";
  size_t at = stream.rfind("/task/");
  if (at == std::string_view::npos || at < 4) return "";
  return std::string(stream.substr(at + 6));
}

std::string EventTask(const Row& e) {
  if (e.contains("data") && e["data"].is_object()) {
    auto it = e["data"].find("task");
    if (it != e["data"].end() && it->is_string()) return it->get<std::string>();
  }
  return TaskOfStream(e.value("stream", ""));
}

namespace {

Json Ms(int64_t ns) { return static_cast<double>(ns) / 1e6; }

}  // namespace

Row RunRow(const projections::RunInfo& r) {
  using projections::TaskStatus;
  Row j = Row::object();
  j["run"] = r.id;
  j["name"] = r.name;
  j["agent"] = r.agent;
  j["model"] = r.model;
  j["status"] = r.status;
  j["error"] = r.error;
  j["tasks"] = r.tasks;
  j["created"] = r.counts[static_cast<int>(TaskStatus::kCreated)];
  j["ready"] = r.counts[static_cast<int>(TaskStatus::kReady)];
  j["running"] = r.counts[static_cast<int>(TaskStatus::kRunning)];
  j["waiting"] = r.counts[static_cast<int>(TaskStatus::kWaiting)];
  j["succeeded"] = r.counts[static_cast<int>(TaskStatus::kSucceeded)];
  j["failed"] = r.counts[static_cast<int>(TaskStatus::kFailed)];
  j["cancelled"] = r.counts[static_cast<int>(TaskStatus::kCancelled)];
  j["anomalies"] = r.anomalies;
  j["started_lsn"] = r.started_lsn;
  j["finished_lsn"] = r.finished_lsn;
  j["started"] = TimeOrNull(r.started_ns);
  j["finished"] = TimeOrNull(r.finished_ns);
  j["duration_ms"] = r.finished_ns && r.started_ns && r.finished_ns >= r.started_ns
                         ? Ms(r.finished_ns - r.started_ns)
                         : Json(nullptr);
  j["version"] = r.version;
  return j;
}

Row TaskRow(const projections::Task& t) {
  Row j = Row::object();
  j["id"] = t.run + "/" + t.id;
  j["run"] = t.run;
  j["task"] = t.id;
  j["parent"] = t.parent;
  j["name"] = t.name;
  j["state"] = std::string(projections::TaskStatusName(t.status));
  j["attempts"] = t.attempts;
  j["priority"] = t.priority;
  j["wait_kind"] = t.wait_kind;
  j["waiting_on"] = t.waiting_on;
  j["error"] = t.error;
  j["created_lsn"] = t.created_lsn;
  j["started_lsn"] = t.started_lsn;
  j["finished_lsn"] = t.finished_lsn;
  j["created"] = TimeOrNull(t.created_ns);
  j["started"] = TimeOrNull(t.started_ns);
  j["finished"] = TimeOrNull(t.finished_ns);
  j["duration_ms"] = t.terminal() ? Ms(t.duration_ns()) : Json(nullptr);
  j["ready_ms"] = Ms(t.ready_total_ns);
  j["running_ms"] = Ms(t.running_total_ns);
  j["waiting_ms"] = Ms(t.waiting_total_ns);
  j["llm_calls"] = t.llm_calls;
  j["tool_calls"] = t.tool_calls;
  j["tool_errors"] = t.tool_errors;
  j["anomalies"] = t.anomalies;
  j["last_event"] = t.last_event_type;
  j["version"] = t.version;
  return j;
}

Row FileRow(const projections::FileVersion& f) {
  Row j = Row::object();
  j["run"] = f.run;
  j["path"] = f.path;
  j["size"] = f.size;
  j["hash"] = f.hash;
  j["lsn"] = f.lsn;
  j["time"] = TimeOrNull(f.time_ns);
  j["task"] = f.task;
  j["type"] = f.type;
  j["mode"] = f.mode;
  j["base"] = f.base;
  j["renamed_from"] = f.renamed_from;
  return j;
}

Row NodeRow(const projections::MemNode& n) {
  Row j = Row::object();
  j["id"] = n.id;
  j["labels"] = n.labels;
  j["props"] = ParseProps(n.props);
  j["lsn"] = n.by.lsn;
  j["time"] = TimeOrNull(n.by.time_ns);
  j["run"] = n.by.run;
  j["task"] = n.by.task;
  j["stream"] = n.by.stream;
  return j;
}

Row EdgeRow(const projections::MemEdge& e) {
  Row j = Row::object();
  j["id"] = e.id;
  j["src"] = e.src;
  j["rel"] = e.rel;
  j["dst"] = e.dst;
  j["props"] = ParseProps(e.props);
  j["valid_from"] = e.valid_from == projections::kValidMin ? Json(nullptr)
                                                           : Json(schema::FormatTime(e.valid_from));
  j["valid_to"] =
      e.valid_to == projections::kValidMax ? Json(nullptr) : Json(schema::FormatTime(e.valid_to));
  j["lsn"] = e.by.lsn;
  j["time"] = TimeOrNull(e.by.time_ns);
  j["run"] = e.by.run;
  j["task"] = e.by.task;
  return j;
}

Result<Row> EventRow(const log::LogRecord& rec) {
  return schema::EventToJsonValue(rec.lsn, rec.time_ns, rec.payload);
}

EventFields EventFieldsOf(const std::optional<std::vector<std::string>>& fields) {
  EventFields out;
  if (!fields) return out;
  static constexpr std::array<std::string_view, 9> kNames = {
      "lsn", "time", "occurred", "id", "stream", "type", "run", "causation", "data"};
  out.mask = 0;
  bool whole_data = false;
  std::vector<std::string> keys;
  for (const std::string& f : *fields) {
    const std::string_view top = std::string_view(f).substr(0, f.find('.'));
    for (size_t i = 0; i < kNames.size(); ++i) {
      if (top == kNames[i]) out.mask |= 1u << i;
    }
    if (f == "data") whole_data = true;
    if (top == "data" && f.size() > 5) keys.push_back(f.substr(5));
  }
  if (!whole_data && !keys.empty()) out.data_keys = std::move(keys);
  return out;
}

Status EventRowInto(const log::LogRecord& rec, const EventFields& fields, Row* out) {
  const uint32_t mask = fields.mask;
  enum : uint32_t {
    kLsn = 1,
    kTime = 2,
    kOccurred = 4,
    kId = 8,
    kStream = 16,
    kType = 32,
    kRun = 64,
    kCausation = 128,
    kData = 256
  };
  if (mask & kData) {
    const std::vector<std::string>* keys = fields.data_keys ? &*fields.data_keys : nullptr;
    ASSIGN_OR_RETURN(*out, schema::EventToJsonValue(rec.lsn, rec.time_ns, rec.payload, keys));
    return Status::Ok();
  }
  schema::EventView v;
  if (mask & ~(kLsn | kTime)) {
    Result<schema::EventView> d = schema::DecodeEnvelope(rec.payload);
    if (!d.ok()) {
      return Status::Corruption("LSN " + std::to_string(rec.lsn) + ": " + d.status().message());
    }
    v = *d;
  }
  // The fields this row has, in schema order (absent optional fields are left out).
  uint32_t has = mask;
  if (v.occurred_ns == 0) has &= ~kOccurred;
  if (v.run.empty()) has &= ~kRun;
  if (v.causation == 0) has &= ~kCausation;
  static constexpr std::pair<uint32_t, const char*> kKeys[] = {
      {kLsn, "lsn"},   {kTime, "time"}, {kOccurred, "occurred"}, {kId, "id"},
      {kStream, "stream"}, {kType, "type"}, {kRun, "run"},       {kCausation, "causation"}};
  auto value = [&](uint32_t bit, Json* slot) {
    // Strings are assigned into the slot's own string when it has one (no allocation).
    auto str = [&](std::string_view sv) {
      if (slot->is_string()) {
        slot->get_ref<std::string&>().assign(sv);
      } else {
        *slot = sv;
      }
    };
    switch (bit) {
      case kLsn:
        *slot = rec.lsn;
        break;
      case kTime:
        *slot = schema::FormatTime(rec.time_ns);
        break;
      case kOccurred:
        *slot = schema::FormatTime(v.occurred_ns);
        break;
      case kId:
        str(v.id);
        break;
      case kStream:
        str(v.stream);
        break;
      case kType:
        str(v.type);
        break;
      case kRun:
        str(v.run);
        break;
      case kCausation:
        *slot = v.causation;
        break;
    }
  };
  // The previous row of the same scan usually has the same keys: then only values change.
  size_t count = 0;
  for (const auto& [bit, key] : kKeys) count += (has & bit) ? 1 : 0;
  bool same = out->is_object() && out->size() == count;
  if (same) {
    auto it = out->begin();
    for (const auto& [bit, key] : kKeys) {
      if (!(has & bit)) continue;
      if (it.key() != key) {
        same = false;
        break;
      }
      ++it;
    }
  }
  if (same) {
    auto it = out->begin();
    for (const auto& [bit, key] : kKeys) {
      if (has & bit) value(bit, &(it++).value());
    }
    return Status::Ok();
  }
  *out = Row::object();
  for (const auto& [bit, key] : kKeys) {
    if (has & bit) value(bit, &(*out)[key]);
  }
  return Status::Ok();
}

std::string OneLine(std::string_view s, size_t max) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  if (out.size() > max) {
    size_t cut = max;
    // Do not cut inside a UTF-8 sequence.
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
    out += "…";
  }
  return out;
}

namespace {

std::string Str(const Json& data, const char* key) {
  auto it = data.find(key);
  if (it == data.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

}  // namespace

std::string Summary(const Row& event) {
  constexpr size_t kMax = 100;
  const std::string type = event.value("type", "");
  const Json empty = Json::object();
  const Json& d = event.contains("data") && event["data"].is_object() ? event["data"] : empty;
  std::string s;
  if (type == "tool.call") {
    std::string args;
    if (d.contains("args")) {
      const Json& a = d["args"];
      args = a.is_object() && a.contains("command") ? Str(a, "command")
             : a.is_object() && a.contains("path")  ? Str(a, "path")
                                                    : a.dump();
      // tink exec: the command line.
      if (a.is_object() && a.contains("argv") && a["argv"].is_array()) {
        args.clear();
        for (const Json& w : a["argv"]) {
          args += (args.empty() ? "" : " ") + (w.is_string() ? w.get<std::string>() : w.dump());
        }
      }
    }
    s = Str(d, "tool") + ": " + args;
  } else if (type == "tool.output") {
    if (d.contains("truncated")) {
      s = Str(d, "stream") + ": " + Str(d, "dropped_bytes") + " bytes not recorded";
    } else if (Str(d, "encoding") == "base64") {
      const std::string b64 = Str(d, "text");
      size_t bytes = b64.size() / 4 * 3;
      for (size_t i = b64.size(); i > 0 && b64[i - 1] == '=' && bytes > 0; --i) --bytes;
      s = Str(d, "stream") + ": (" + std::to_string(bytes) + " bytes, base64)";
    } else {
      s = Str(d, "stream") + ": " + Str(d, "text");
    }
  } else if (type == "tool.result") {
    std::string head;
    if (d.contains("exit_code")) head = "exit " + Str(d, "exit_code");
    if (!Str(d, "error").empty()) head += (head.empty() ? "" : " ") + ("error: " + Str(d, "error"));
    if (d.contains("ok") && d["ok"].is_boolean() && head.empty()) {
      head = d["ok"].get<bool>() ? "ok" : "not ok";
    }
    s = Str(d, "tool") + (head.empty() ? "" : " " + head) + ": " + Str(d, "output");
  } else if (type == "llm.request") {
    s = Str(d, "model");
  } else if (type == "llm.response") {
    std::string tok;
    if (d.contains("output_tokens")) tok = " (" + Str(d, "output_tokens") + " tokens out)";
    std::string body = Str(d, "content");
    if (body.empty() && d.contains("tool_calls")) body = "tool calls: " + d["tool_calls"].dump();
    s = Str(d, "model") + tok + ": " + body;
  } else if (type == "llm.error" || type == "task.failed" || type == "run.finished") {
    s = (type == "run.finished" ? Str(d, "status") + " " : "") + Str(d, "error");
  } else if (type == "task.created") {
    s = Str(d, "name") + (Str(d, "parent").empty() ? "" : " (parent " + Str(d, "parent") + ")");
  } else if (type == "task.waiting") {
    s = Str(d, "wait_kind") + " " + Str(d, "waiting_on");
  } else if (type.rfind("task.", 0) == 0) {
    s = Str(d, "reason");
  } else if (type == "run.started") {
    s = Str(d, "name");
  } else if (type == "file.rename") {
    s = Str(d, "path") + " -> " + Str(d, "to");
  } else if (type.rfind("file.", 0) == 0) {
    s = Str(d, "path");
  } else if (type == "memory.node") {
    s = Str(d, "id");
  } else if (type == "memory.edge") {
    s = Str(d, "src") + " -[" + Str(d, "rel") + "]-> " + Str(d, "dst");
  } else if (type == "memory.retract") {
    s = Str(d, "kind") + " " + Str(d, "target") + ": " + Str(d, "reason");
  } else if (type == "note") {
    s = (Str(d, "kind").empty() ? "" : Str(d, "kind") + ": ") + Str(d, "text");
  } else {
    s = d.dump();
  }
  return OneLine(s, kMax);
}

projections::AsOf ToAsOf(const std::optional<Point>& p) {
  if (!p) return projections::AsOf::Head();
  switch (p->kind) {
    case Point::Kind::kLsn:
      return projections::AsOf::AtLsn(p->lsn);
    case Point::Kind::kTime:
      return projections::AsOf::AtTime(p->time_ns);
    case Point::Kind::kNow:
      break;
  }
  return projections::AsOf::Head();
}

std::string PointText(const Point& p) {
  switch (p.kind) {
    case Point::Kind::kLsn:
      return "LSN " + std::to_string(p.lsn);
    case Point::Kind::kTime:
      return schema::FormatTime(p.time_ns);
    case Point::Kind::kNow:
      break;
  }
  return "now";
}

Result<std::optional<Row>> EventAt(engine::Engine* engine, Lsn lsn) {
  if (lsn == 0) return std::optional<Row>();
  std::unique_ptr<log::LogIterator> it = engine->Read(lsn);
  if (!it->Valid()) {
    RETURN_IF_ERROR(it->status());
    return std::optional<Row>();
  }
  if (it->record().lsn != lsn) return std::optional<Row>();
  ASSIGN_OR_RETURN(Row r, EventRow(it->record()));
  return std::optional<Row>(std::move(r));
}

Status ScanRows(engine::Engine* engine, const engine::LogQuery& q, const Cancel* cancel,
                const std::function<bool(const Row&)>& fn) {
  Status err;
  bool cancelled = false;
  Status s = engine->Scan(q, [&](const log::LogRecord& rec) {
    if (IsSet(cancel)) {
      cancelled = true;
      return false;
    }
    Result<Row> row = EventRow(rec);
    if (!row.ok()) {
      err = row.status();
      return false;
    }
    return fn(*row);
  });
  RETURN_IF_ERROR(s);
  RETURN_IF_ERROR(err);
  if (cancelled) return Cancelled();
  return Status::Ok();
}

Result<std::optional<projections::Task>> FindTask(projections::SchedulerReader& sched,
                                                  std::string_view id, Lsn as_of) {
  // Try the last '/' first (task ids are usually short), then earlier ones.
  for (size_t at = id.rfind('/'); at != std::string_view::npos && at > 0;
       at = id.rfind('/', at - 1)) {
    if (at + 1 >= id.size()) continue;
    ASSIGN_OR_RETURN(std::optional<projections::Task> t,
                     sched.GetTask(id.substr(0, at), id.substr(at + 1), as_of));
    if (t) return t;
  }
  return std::optional<projections::Task>();
}

}  // namespace tink::query::internal
