#include "shell/query/gantt.h"

#include <algorithm>
#include <unordered_set>

#include "schema/schema.h"
#include "shell/query/provider_internal.h"

namespace tink::query {
namespace {

using internal::EventTask;
using projections::SchedulerReader;
using projections::Task;
using projections::TaskStatus;

constexpr int64_t kNsPerMs = 1'000'000;

// World time of an event row: its occurred (the source's clock) when given, else record time.
int64_t WorldMs(const Row& e) {
  for (const char* field : {"occurred", "time"}) {
    auto it = e.find(field);
    if (it == e.end() || !it->is_string()) continue;
    Result<int64_t> ns = schema::ParseTime(it->get_ref<const std::string&>());
    if (ns.ok()) return *ns / kNsPerMs;
  }
  return 0;
}

bool Marked(std::string_view type) {
  return type == "llm.request" || type == "llm.response" || type == "llm.error" ||
         type == "tool.call" || type == "tool.result" || type.starts_with("file.");
}

bool Failed(std::string_view type, const Row& e) {
  if (type == "llm.error") return true;
  if (type != "tool.result") return false;
  auto d = e.find("data");
  if (d == e.end() || !d->is_object()) return false;
  auto code = d->find("exit_code");
  if (code != d->end() && code->is_number() && code->get<double>() != 0) return true;
  auto err = d->find("error");
  return err != d->end() && err->is_string() && !err->get_ref<const std::string&>().empty();
}

Json MsOrNull(int64_t ns) { return ns == 0 ? Json(nullptr) : Json(ns / kNsPerMs); }

Json MarkJson(const GanttMark& m) {
  Json j = Json::object();
  j["lsn"] = m.lsn;
  j["ms"] = m.ms;
  j["type"] = m.type;
  j["label"] = m.label;
  j["failed"] = m.failed;
  return j;
}

// The marks at or before as_of, at most `cap`: evenly sampled when there are more, with every
// failed one kept.
Json Marks(const std::vector<GanttMark>& all, uint64_t as_of, size_t cap, size_t* total) {
  auto end = std::upper_bound(all.begin(), all.end(), as_of,
                              [](uint64_t lsn, const GanttMark& m) { return lsn < m.lsn; });
  const size_t n = static_cast<size_t>(end - all.begin());
  *total = n;
  Json out = Json::array();
  if (n <= cap) {
    for (size_t i = 0; i < n; ++i) out.push_back(MarkJson(all[i]));
    return out;
  }
  const double step = static_cast<double>(n) / static_cast<double>(cap);
  size_t next = 0;  // index of the next sampled mark
  double at = 0;
  for (size_t i = 0; i < n; ++i) {
    const bool sampled = i == next;
    if (sampled) {
      at += step;
      next = static_cast<size_t>(at);
    }
    if (sampled || all[i].failed) out.push_back(MarkJson(all[i]));
  }
  return out;
}

// The task's state spans up to as_of from its versions (one per change of the task).
Json Spans(const std::vector<Task>& versions) {
  Json spans = Json::array();
  TaskStatus current = TaskStatus::kNone;
  for (const Task& v : versions) {
    if (v.status == current) continue;
    if (!spans.empty()) spans.back()["to_ms"] = v.since_ns / kNsPerMs;
    Json s = Json::object();
    s["state"] = std::string(projections::TaskStatusName(v.status));
    s["from_ms"] = v.since_ns / kNsPerMs;
    s["to_ms"] = v.terminal() ? Json(v.since_ns / kNsPerMs) : Json(nullptr);
    s["lsn"] = v.version;
    spans.push_back(std::move(s));
    current = v.status;
  }
  return spans;
}

}  // namespace

Result<std::shared_ptr<const RunDigest>> DigestRun(engine::Engine* engine, const std::string& run,
                                                   const Cancel* cancel) {
  auto d = std::make_shared<RunDigest>();
  d->run = run;
  engine::LogQuery q;
  q.run = run;
  RETURN_IF_ERROR(internal::ScanRows(engine, q, cancel, [&](const Row& e) {
    const uint64_t lsn = e.value("lsn", uint64_t{0});
    const int64_t ms = WorldMs(e);
    if (d->first_lsn == 0) d->first_lsn = lsn;
    d->last_lsn = lsn;
    d->points.emplace_back(lsn, ms);
    const std::string type = e.value("type", "");
    if (ms != 0 && (Marked(type) || type.starts_with("task."))) d->timed.emplace_back(lsn, ms);
    if (Marked(type)) {
      GanttMark m;
      m.lsn = lsn;
      m.ms = ms;
      m.type = type;
      m.label = internal::OneLine(internal::Summary(e), 120);
      m.failed = Failed(type, e);
      d->marks[EventTask(e)].push_back(std::move(m));
    }
    return true;
  }));
  if (d->points.empty()) return Status::NotFound("no run '" + run + "'");
  return std::shared_ptr<const RunDigest>(std::move(d));
}

Result<Json> RenderGantt(projections::StateReader& reader, const RunDigest& d,
                         const GanttWindow& w) {
  SchedulerReader s(reader);
  const uint64_t head = s.head();
  const uint64_t as_of = std::min<uint64_t>(w.as_of.value_or(head), head);
  ASSIGN_OR_RETURN(std::vector<SchedulerReader::TreeNode> tree, s.Tree(d.run, as_of));

  Json out = Json::object();
  out["run"] = d.run;
  out["as_of"] = as_of;
  out["last_lsn"] = head;
  out["first_lsn"] = d.first_lsn;
  out["run_last_lsn"] = d.last_lsn;
  // The run's time extent as of the point: its events up to as_of.
  int64_t start = 0, end = 0;
  for (const auto& [lsn, ms] : d.timed.empty() ? d.points : d.timed) {
    if (lsn > as_of) break;
    if (ms == 0) continue;
    start = start == 0 ? ms : std::min(start, ms);
    end = std::max(end, ms);
  }
  out["start_ms"] = start == 0 ? Json(nullptr) : Json(start);
  out["end_ms"] = end == 0 ? Json(nullptr) : Json(end);
  out["total_tasks"] = tree.size();
  out["offset"] = w.offset;
  out["limit"] = w.limit;

  Json states = Json::object();
  Json failures = Json::array();
  for (const auto& node : tree) {
    const std::string state(projections::TaskStatusName(node.task.status));
    states[state] = states.value(state, 0) + 1;
    if (node.task.status == TaskStatus::kFailed && failures.size() < 200) {
      Json f = Json::object();
      f["id"] = d.run + "/" + node.task.id;
      f["task"] = node.task.id;
      f["name"] = node.task.name;
      f["error"] = node.task.error;
      f["finished_lsn"] = node.task.finished_lsn;
      failures.push_back(std::move(f));
    }
  }
  out["states"] = std::move(states);

  Json tasks = Json::array();
  static const std::vector<GanttMark> kNoMarks;
  for (size_t i = w.offset; i < tree.size() && i < w.offset + w.limit; ++i) {
    const Task& t = tree[i].task;
    Json j = Json::object();
    j["id"] = d.run + "/" + t.id;
    j["task"] = t.id;
    j["parent"] = t.parent;
    j["depth"] = tree[i].depth;
    j["name"] = t.name;
    j["state"] = std::string(projections::TaskStatusName(t.status));
    j["error"] = t.error;
    j["created_ms"] = MsOrNull(t.created_ns);
    j["finished_ms"] = t.terminal() ? MsOrNull(t.finished_ns) : Json(nullptr);
    ASSIGN_OR_RETURN(std::vector<Task> versions, s.TaskHistory(d.run, t.id, 0, as_of));
    j["spans"] = Spans(versions);
    auto m = d.marks.find(t.id);
    size_t total = 0;
    j["marks"] = Marks(m == d.marks.end() ? kNoMarks : m->second, as_of, w.marks_per_task, &total);
    j["marks_total"] = total;
    tasks.push_back(std::move(j));
  }
  out["tasks"] = std::move(tasks);
  out["failures"] = std::move(failures);

  // At most 400 (LSN, ms) points of the run, evenly spaced, the first and last always.
  Json ticks = Json::array();
  const size_t n = d.points.size();
  const size_t step = std::max<size_t>(1, (n + 398) / 399);
  for (size_t i = 0; i < n; i += step) {
    ticks.push_back(Json::array({d.points[i].first, d.points[i].second}));
  }
  if ((n - 1) % step != 0)
    ticks.push_back(Json::array({d.points[n - 1].first, d.points[n - 1].second}));
  out["ticks"] = std::move(ticks);
  return out;
}

namespace {

void AddTokens(const Row& e, LlmTotals::Run* r) {
  r->calls++;
  auto d = e.find("data");
  if (d == e.end() || !d->is_object()) return;
  for (auto [field, sum] : {std::pair{"input_tokens", &r->input_tokens},
                            std::pair{"output_tokens", &r->output_tokens}}) {
    auto v = d->find(field);
    if (v == d->end()) continue;
    if (v->is_number_unsigned()) {
      *sum += v->get<uint64_t>();
    } else if (v->is_number_integer() && v->get<int64_t>() > 0) {
      *sum += static_cast<uint64_t>(v->get<int64_t>());
    }
  }
}

Row WithTotals(const projections::RunInfo& r, const LlmTotals::Run& t) {
  Row row = internal::RunRow(r);
  row["llm_calls"] = t.calls;
  row["input_tokens"] = t.input_tokens;
  row["output_tokens"] = t.output_tokens;
  return row;
}

}  // namespace

Status UpdateLlmTotals(engine::Engine* engine, LlmTotals* totals, const Cancel* cancel) {
  engine::LogQuery q;
  q.type = "llm.response";
  q.from = totals->scanned + 1;
  const uint64_t head = engine->log().LastLsn();
  if (q.from > head) return Status::Ok();
  q.to = head;
  // Only the run and the two counts are read out of each event (not its whole data).
  const internal::EventFields fields = internal::EventFieldsOf(
      std::vector<std::string>{"run", "data.input_tokens", "data.output_tokens"});
  Row e = Row::object();
  Status bad;
  // Added to *totals only once the whole range was read (a failed scan changes nothing).
  std::unordered_map<std::string, LlmTotals::Run> add;
  RETURN_IF_ERROR(engine->Scan(q, [&](const log::LogRecord& rec) {
    if (cancel != nullptr && cancel->load()) {
      bad = Status::Failed("cancelled");
      return false;
    }
    if (Status st = internal::EventRowInto(rec, fields, &e); !st.ok()) {
      bad = st;
      return false;
    }
    auto run = e.find("run");
    if (run == e.end() || !run->is_string()) return true;
    AddTokens(e, &add[run->get<std::string>()]);
    return true;
  }));
  RETURN_IF_ERROR(bad);
  for (const auto& [run, r] : add) {
    LlmTotals::Run& t = totals->runs[run];
    t.calls += r.calls;
    t.input_tokens += r.input_tokens;
    t.output_tokens += r.output_tokens;
  }
  totals->scanned = head;
  return Status::Ok();
}

Result<LlmTotals::Run> RunLlmTotals(engine::Engine* engine, const std::string& run,
                                    const Cancel* cancel) {
  engine::LogQuery q;
  q.run = run;
  q.type = "llm.response";
  LlmTotals::Run t;
  RETURN_IF_ERROR(internal::ScanRows(engine, q, cancel, [&](const Row& e) {
    AddTokens(e, &t);
    return true;
  }));
  return t;
}

Result<Json> RunsOverview(engine::Engine* engine, projections::StateReader& reader,
                          const LlmTotals* totals, const std::string* only) {
  SchedulerReader s(reader);
  Json list = Json::array();
  const LlmTotals::Run none;
  auto total_of = [&](const std::string& run) -> const LlmTotals::Run& {
    if (totals == nullptr) return none;
    auto it = totals->runs.find(run);
    return it == totals->runs.end() ? none : it->second;
  };
  if (only != nullptr) {
    ASSIGN_OR_RETURN(std::optional<projections::RunInfo> r, s.GetRun(*only, s.head()));
    if (!r) return Status::NotFound("no run '" + *only + "'");
    if (totals != nullptr) {
      list.push_back(WithTotals(*r, total_of(r->id)));
    } else {
      ASSIGN_OR_RETURN(LlmTotals::Run t, RunLlmTotals(engine, r->id, nullptr));
      list.push_back(WithTotals(*r, t));
    }
  } else {
    ASSIGN_OR_RETURN(std::vector<projections::RunInfo> runs, s.ListRuns(s.head()));
    for (const projections::RunInfo& r : runs) {
      Row row = WithTotals(r, total_of(r.id));
      if (totals == nullptr) {
        for (const char* k : {"llm_calls", "input_tokens", "output_tokens"}) row[k] = nullptr;
      }
      list.push_back(std::move(row));
    }
  }
  Json out = Json::object();
  out["last_lsn"] = s.head();
  if (only == nullptr && totals == nullptr) out["totals_pending"] = true;
  out["runs"] = std::move(list);
  return out;
}

}  // namespace tink::query
