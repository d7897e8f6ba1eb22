#include "projections_test_util.h"

#include <xxhash.h>

#include <cstring>
#include <sstream>

namespace tink::projections::testing {

Lsn EventLog::AddPayload(std::string payload, int64_t time_ns) {
  Stored s;
  s.size = payload.size();
  s.words = std::make_unique<uint64_t[]>(payload.size() / 8 + 1);
  std::memcpy(s.words.get(), payload.data(), payload.size());
  s.hash = XXH3_64bits(payload.data(), payload.size());
  s.ev.lsn = events_.size() + 1;
  s.ev.time_ns = time_ns;
  const std::string_view bytes(reinterpret_cast<const char*>(s.words.get()), s.size);
  Result<schema::EventView> v = schema::DecodeEvent(bytes);
  if (v.ok()) {
    s.ev.view = *v;
    s.ev.fb = fb::GetEvent(bytes.data());
  }
  events_.push_back(std::move(s));
  return events_.size();
}

Lsn EventLog::Add(const schema::EventInput& in, int64_t time_ns) {
  Result<std::string> p = schema::EncodeEvent(in);
  EXPECT_TRUE(p.ok()) << in.type << " " << in.data_json << ": " << p.status().ToString();
  if (!p.ok()) return AddUndecodable(time_ns);
  return AddPayload(std::move(p).value(), time_ns);
}

Lsn EventLog::AddJson(std::string_view envelope, int64_t time_ns) {
  Result<schema::EventInput> in = schema::ParseEnvelopeJson(envelope);
  EXPECT_TRUE(in.ok()) << envelope << ": " << in.status().ToString();
  if (!in.ok()) return AddUndecodable(time_ns);
  return Add(*in, time_ns);
}

Lsn EventLog::AddUndecodable(int64_t time_ns) {
  return AddPayload("this is not a FlatBuffers event", time_ns);
}

std::vector<Event> EventLog::Events(Lsn from, Lsn to) const {
  std::vector<Event> out;
  for (Lsn l = from; l <= to; ++l) out.push_back(at(l));
  return out;
}

std::vector<uint64_t> EventLog::Hashes(Lsn from, Lsn to) const {
  std::vector<uint64_t> out;
  for (Lsn l = from; l <= to; ++l) out.push_back(hash(l));
  return out;
}

Status EventLog::ApplyTo(StateStore* st, Lsn from, Lsn to) const {
  const std::vector<Event> evs = Events(from, to);
  const std::vector<uint64_t> hs = Hashes(from, to);
  return st->Apply(evs, hs);
}

Status EventLog::ApplyInBatches(StateStore* st, Lsn from, Lsn to,
                                const std::function<size_t()>& next_size) const {
  Lsn at = from;
  while (at <= to) {
    const Lsn end = std::min<Lsn>(to, at + std::max<size_t>(1, next_size()) - 1);
    RETURN_IF_ERROR(ApplyTo(st, at, end));
    at = end + 1;
  }
  return Status::Ok();
}

schema::EventInput Input(std::string type, std::string run, const nlohmann::json& data,
                         int64_t occurred_ns, std::string stream, std::string id) {
  schema::EventInput in;
  in.type = std::move(type);
  in.run = std::move(run);
  in.data_json = data.is_null() ? "{}" : data.dump();
  in.occurred_ns = occurred_ns;
  in.stream = stream.empty() ? "run/" + in.run : std::move(stream);
  in.id = std::move(id);
  return in;
}

std::unique_ptr<State> OpenState(const std::string& dir, StateOptions options) {
  auto s = std::make_unique<State>();
  Result<std::unique_ptr<StateStore>> st = StateStore::Open(dir, s->p.list(), options);
  EXPECT_TRUE(st.ok()) << st.status().ToString();
  if (st.ok()) s->store = std::move(st).value();
  return s;
}

std::string Dump(const Task& t) {
  std::ostringstream o;
  o << "task{run=" << t.run << " id=" << t.id << " parent=" << t.parent << " name=" << t.name
    << " prio=" << t.priority << " status=" << TaskStatusName(t.status)
    << " attempts=" << t.attempts << " wait_kind=" << t.wait_kind << " waiting_on=" << t.waiting_on
    << " error=" << t.error << " created_lsn=" << t.created_lsn << " started_lsn=" << t.started_lsn
    << " finished_lsn=" << t.finished_lsn << " ready_lsn=" << t.ready_lsn
    << " created_ns=" << t.created_ns << " started_ns=" << t.started_ns
    << " finished_ns=" << t.finished_ns << " since_ns=" << t.since_ns
    << " ready_total=" << t.ready_total_ns << " running_total=" << t.running_total_ns
    << " waiting_total=" << t.waiting_total_ns << " llm=" << t.llm_calls
    << " tools=" << t.tool_calls << " tool_errors=" << t.tool_errors
    << " last_lsn=" << t.last_event_lsn << " last_type=" << t.last_event_type
    << " anomalies=" << t.anomalies << " version=" << t.version << "}";
  return o.str();
}

std::string Dump(const RunInfo& r) {
  std::ostringstream o;
  o << "run{id=" << r.id << " name=" << r.name << " agent=" << r.agent << " model=" << r.model
    << " finished_status=" << r.finished_status << " error=" << r.error << " status=" << r.status
    << " started_lsn=" << r.started_lsn << " finished_lsn=" << r.finished_lsn
    << " started_ns=" << r.started_ns << " finished_ns=" << r.finished_ns << " tasks=" << r.tasks
    << " counts=";
  for (int c : r.counts) o << c << ",";
  o << " anomalies=" << r.anomalies << " version=" << r.version << "}";
  return o.str();
}

std::string Dump(const Anomaly& a) {
  std::ostringstream o;
  o << "anomaly{lsn=" << a.lsn << " run=" << a.run << " task=" << a.task << " type=" << a.event_type
    << " from=" << TaskStatusName(a.from) << " to=" << TaskStatusName(a.to)
    << " reason=" << a.reason << "}";
  return o.str();
}

Harness::Harness() : state_(OpenState(dir_.path())) {}

Lsn Harness::Emit(std::string type, std::string run, nlohmann::json data, int64_t occurred_ns) {
  clock_ += 1000;
  const Lsn lsn = log_.Add(Input(std::move(type), std::move(run), data, occurred_ns), clock_);
  if (!deferred_) {
    Status s = ApplyPending();
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  return lsn;
}

Lsn Harness::EmitTask(std::string type, std::string run, std::string task, nlohmann::json extra,
                      int64_t occurred_ns) {
  extra["task"] = std::move(task);
  return Emit(std::move(type), std::move(run), extra, occurred_ns);
}

Status Harness::ApplyPending() {
  if (applied_ == log_.last()) return Status::Ok();
  RETURN_IF_ERROR(log_.ApplyTo(store(), applied_ + 1, log_.last()));
  applied_ = log_.last();
  return Status::Ok();
}

std::vector<Task> Harness::Tasks(const std::optional<std::string>& run, Lsn as_of) {
  StateReader r(store());
  return Must(SchedulerReader(r).ListTasks(run, as_of));
}

std::optional<Task> Harness::GetTask(std::string_view run, std::string_view task, Lsn as_of) {
  StateReader r(store());
  return Must(SchedulerReader(r).GetTask(run, task, as_of));
}

std::vector<Anomaly> Harness::Anomalies(const std::optional<std::string>& run, Lsn as_of) {
  StateReader r(store());
  return Must(SchedulerReader(r).Anomalies(run, as_of));
}

std::optional<RunInfo> Harness::Run(std::string_view run, Lsn as_of) {
  StateReader r(store());
  return Must(SchedulerReader(r).GetRun(run, as_of));
}

std::vector<RunInfo> Harness::Runs(Lsn as_of) {
  StateReader r(store());
  return Must(SchedulerReader(r).ListRuns(as_of));
}

std::vector<Task> Harness::ReadyQueue(std::string_view run, Lsn as_of) {
  StateReader r(store());
  return Must(SchedulerReader(r).ReadyQueue(run, as_of));
}

std::vector<SchedulerReader::TreeNode> Harness::Tree(std::string_view run, Lsn as_of) {
  StateReader r(store());
  return Must(SchedulerReader(r).Tree(run, as_of));
}

}  // namespace tink::projections::testing
