// Reading one run for DiffRuns (runs.h): its header, tasks, calls and changed files; and the
// replay.divergence events of a replay.
#include <algorithm>
#include <set>

#include "projections/canvas.h"
#include "schema/schema.h"
#include "shell/query/provider_internal.h"
#include "shell/query/runs.h"

namespace tink::query {

using internal::OneLine;
using internal::ScanRows;

namespace internal {

// The member of an object, or null.
const Json& Member(const Json& obj, const char* key) {
  static const Json kNull;
  if (!obj.is_object()) return kNull;
  auto it = obj.find(key);
  return it == obj.end() ? kNull : *it;
}

std::string StringMember(const Json& obj, const char* key) {
  const Json& v = Member(obj, key);
  return v.is_string() ? v.get<std::string>() : "";
}

// Keys sorted, compact: the same request written with its members in another order is the
// same key.
std::string CanonicalText(const Json& v) {
  return nlohmann::json::parse(v.dump(), nullptr, false).dump();
}

namespace {

std::string ContentText(const Json& content) {
  if (content.is_string()) return content.get<std::string>();
  if (content.is_array()) {
    // Content parts: the text ones, joined.
    std::string out;
    for (const Json& p : content) {
      const std::string t = StringMember(p, "text");
      if (!t.empty()) out += (out.empty() ? "" : " ") + t;
    }
    if (!out.empty()) return out;
  }
  return content.is_null() ? "" : content.dump();
}

RunCall LlmCall(const Json& d) {
  RunCall c;
  c.task = StringMember(d, "task");
  c.call_id = StringMember(d, "call_id");
  c.key = Json::object();
  for (const char* k : {"model", "messages", "params"}) {
    if (d.contains(k)) c.key[k] = d[k];
  }
  if (c.key.contains("params") && c.key["params"].is_object()) {
    for (const char* f : kIgnoredRequestFields) c.key["params"].erase(f);  // as a replay does
  }
  c.key_text = CanonicalText(c.key);
  std::string last;
  const Json& msgs = Member(d, "messages");
  if (msgs.is_array() && !msgs.empty()) {
    const Json& m = msgs.back();
    const std::string role = StringMember(m, "role");
    last = (role.empty() ? "" : role + ": ") + ContentText(Member(m, "content"));
  }
  const std::string model = StringMember(d, "model");
  c.summary = OneLine((model.empty() ? "" : model + " ") +
                          std::to_string(msgs.is_array() ? msgs.size() : 0) + " msgs" +
                          (last.empty() ? "" : ", " + last),
                      80);
  return c;
}

RunCall ToolCall(const Json& d) {
  RunCall c;
  c.task = StringMember(d, "task");
  c.call_id = StringMember(d, "call_id");
  c.key = Json::object();
  for (const char* k : {"tool", "args"}) {
    if (d.contains(k)) c.key[k] = d[k];
  }
  c.key_text = CanonicalText(c.key);
  const Json& args = Member(d, "args");
  std::string a = args.is_object() && args.contains("command") && args["command"].is_string()
                      ? args["command"].get<std::string>()
                      : (args.is_null() ? "" : args.dump());
  c.summary = OneLine(StringMember(d, "tool") + (a.empty() ? "" : ": " + a), 80);
  return c;
}

}  // namespace
}  // namespace internal

using internal::Member;
using internal::StringMember;

Result<bool> RunHasEvents(engine::Engine* engine, const std::string& run, const Cancel* cancel) {
  bool any = false;
  engine::LogQuery q;
  q.run = run;
  RETURN_IF_ERROR(ScanRows(engine, q, cancel, [&](const Row&) {
    any = true;
    return false;
  }));
  return any;
}

Result<RunCounts> CountRunEvents(engine::Engine* engine, const std::string& run,
                                 const Cancel* cancel) {
  RunCounts c;
  engine::LogQuery q;
  q.run = run;
  const internal::EventFields fields = internal::EventFieldsOf(std::vector<std::string>{"type"});
  Row row;
  Status err;
  bool cancelled = false;
  RETURN_IF_ERROR(engine->Scan(q, [&](const log::LogRecord& rec) {
    if (internal::IsSet(cancel)) {
      cancelled = true;
      return false;
    }
    if (Status s = internal::EventRowInto(rec, fields, &row); !s.ok()) {
      err = s;
      return false;
    }
    if (c.events++ == 0) c.first_ns = rec.time_ns;
    const std::string type = StringMember(row, "type");
    if (type == "llm.request") ++c.llm_calls;
    if (type == "tool.call") ++c.tool_calls;
    if (type == "replay.divergence") ++c.divergences;
    return true;
  }));
  RETURN_IF_ERROR(err);
  if (cancelled) return Cancelled();
  return c;
}

Result<RunSide> ReadRunSide(engine::Engine* engine, projections::StateReader* reader,
                            const std::string& run, const Cancel* cancel) {
  RunSide side;
  side.id = run;
  projections::SchedulerReader sched(*reader);
  const projections::Lsn at = sched.head();
  ASSIGN_OR_RETURN(std::optional<projections::RunInfo> info, sched.GetRun(run, at));
  if (info) side.info = *info;
  side.info.id = run;
  ASSIGN_OR_RETURN(std::vector<projections::SchedulerReader::TreeNode> tree, sched.Tree(run, at));
  for (auto& n : tree) side.tasks.push_back(std::move(n.task));

  engine::LogQuery q;
  q.run = run;
  size_t order = 0;
  // Two ranges: world times (occurred) and record times. A recording imported later mixes both
  // (some events carry no occurred); the world range wins when there is one.
  int64_t world[2] = {0, 0}, recorded[2] = {0, 0};
  auto widen = [](int64_t* range, const std::string& text) {
    if (text.empty()) return;
    auto ns = schema::ParseTime(text);
    if (!ns.ok() || *ns == 0) return;
    if (range[0] == 0 || *ns < range[0]) range[0] = *ns;
    range[1] = std::max(range[1], *ns);
  };
  RETURN_IF_ERROR(ScanRows(engine, q, cancel, [&](const Row& e) {
    ++side.events;
    widen(world, StringMember(e, "occurred"));
    widen(recorded, StringMember(e, "time"));
    const std::string type = StringMember(e, "type");
    const Json& d = Member(e, "data");
    if (type == "run.started") {
      side.replay_of = StringMember(Member(d, "meta"), "replay_of");
    } else if (type == "llm.request" || type == "tool.call") {
      RunCall c = type == "llm.request" ? internal::LlmCall(d) : internal::ToolCall(d);
      c.lsn = e.value("lsn", uint64_t{0});
      c.order = order++;
      if (c.task.empty()) c.task = internal::TaskOfStream(StringMember(e, "stream"));
      (type == "llm.request" ? side.llm : side.tools).push_back(std::move(c));
    }
    return true;
  }));
  const int64_t* range = world[0] != 0 ? world : recorded;
  side.first_ns = range[0];
  side.last_ns = range[1];
  if (!info && side.events == 0) {
    return Status::NotFound("no run '" + run + "' (no events, unknown to the scheduler)");
  }

  projections::CanvasReader canvas(*reader);
  const projections::Lsn head = canvas.head();
  ASSIGN_OR_RETURN(projections::Lsn base, canvas.BasePoint(run, head));
  ASSIGN_OR_RETURN(std::vector<projections::CanvasChange> changes, canvas.Changes(run, base, head));
  std::set<std::string> paths;
  for (const auto& c : changes) {
    if (c.base) continue;
    paths.insert(c.path);
    if (!c.to.empty()) paths.insert(c.to);
  }
  for (const std::string& p : paths) {
    ASSIGN_OR_RETURN(std::optional<projections::FileVersion> v, canvas.Stat(run, p, head));
    RunFile f;
    f.path = p;
    f.deleted = !v || v->deleted;
    if (!f.deleted) f.hash = v->hash;
    side.files.push_back(std::move(f));
  }
  return side;
}

// ---- divergences ----

namespace {

Divergence FromEvent(const Row& e) {
  Divergence d;
  const Json& data = Member(e, "data");
  d.lsn = e.value("lsn", uint64_t{0});
  d.time = StringMember(e, "time");
  d.run = StringMember(e, "run");
  d.original = StringMember(data, "original");
  d.endpoint = StringMember(data, "endpoint");
  d.reason = StringMember(data, "reason");
  const Json& pos = Member(data, "position");
  if (pos.is_number_integer()) d.position = pos.get<int64_t>();
  d.request = Member(data, "request");
  d.closest = Member(data, "closest");
  d.differences = Member(data, "differences");
  if (!d.differences.is_array()) d.differences = Json::array();
  return d;
}

}  // namespace

Result<std::vector<Divergence>> ReadDivergences(engine::Engine* engine, const std::string& run,
                                                const Cancel* cancel, uint64_t to) {
  std::vector<Divergence> out;
  engine::LogQuery q;
  q.run = run;
  q.to = to;
  q.type = "replay.divergence";
  RETURN_IF_ERROR(ScanRows(engine, q, cancel, [&](const Row& e) {
    // The index answers by run or by type; both are checked here.
    if (StringMember(e, "type") == "replay.divergence" && StringMember(e, "run") == run) {
      out.push_back(FromEvent(e));
    }
    return true;
  }));
  return out;
}

Result<std::string> ReplayOf(engine::Engine* engine, const std::string& run, const Cancel* cancel) {
  std::string out;
  engine::LogQuery q;
  q.run = run;
  q.type = "run.started";
  RETURN_IF_ERROR(ScanRows(engine, q, cancel, [&](const Row& e) {
    if (StringMember(e, "type") == "run.started" && StringMember(e, "run") == run) {
      out = StringMember(Member(Member(e, "data"), "meta"), "replay_of");
    }
    return true;
  }));
  return out;
}

Result<std::vector<std::string>> ReplaysOf(engine::Engine* engine, const std::string& original,
                                           const Cancel* cancel) {
  std::vector<std::string> out;
  engine::LogQuery q;
  q.type = "run.started";
  RETURN_IF_ERROR(ScanRows(engine, q, cancel, [&](const Row& e) {
    const std::string run = StringMember(e, "run");
    if (StringMember(e, "type") == "run.started" && !run.empty() &&
        StringMember(Member(Member(e, "data"), "meta"), "replay_of") == original &&
        std::find(out.begin(), out.end(), run) == out.end()) {
      out.push_back(run);
    }
    return true;
  }));
  return out;
}

Json DivergenceJson(const Divergence& d) {
  Json j = Json::object();
  j["lsn"] = d.lsn;
  j["time"] = d.time;
  j["run"] = d.run;
  j["original"] = d.original;
  j["position"] = d.position;
  j["endpoint"] = d.endpoint;
  j["reason"] = d.reason;
  j["closest"] = d.closest;
  j["differences"] = d.differences;
  j["request"] = d.request;
  return j;
}

}  // namespace tink::query
