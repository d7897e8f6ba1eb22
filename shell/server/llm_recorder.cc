#include "shell/server/llm_recorder.h"

namespace tink::server {
namespace {

using nlohmann::json;

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace

Result<bool> LlmRecorder::AppendIfNew(std::vector<schema::EventInput> events) {
  engine::AppendOptions o;
  o.expected.kind = engine::Expected::Kind::kNoStream;
  Result<engine::AppendOutcome> r = engine_->Append(events, o);
  if (r.ok()) return !r->duplicate;  // every id already stored: the stream exists
  if (r.status().code() == Code::kConflict) return false;  // the stream exists
  return r.status();
}

Status LlmRecorder::EnsureRunAndTask(const std::string& run, const std::string& task,
                                     const json& started) {
  const std::string run_stream = "run/" + run;
  const std::string task_stream = run_stream + "/task/" + task;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (known_.contains(task_stream)) return Status::Ok();
  }
  schema::EventInput rs{run + "/run.started", run_stream, "run.started", run, 0, 0, Dump(started)};
  Result<bool> r = AppendIfNew({rs});
  if (!r.ok()) return r.status();
  std::vector<schema::EventInput> t;
  for (const char* st : {"created", "ready", "started"}) {
    json d = {{"task", task}};
    if (std::string_view(st) == "created") d["name"] = task;
    t.push_back({run + "/task/" + task + "/" + st, task_stream, std::string("task.") + st, run, 0,
                 0, Dump(d)});
  }
  r = AppendIfNew(std::move(t));
  if (!r.ok()) return r.status();
  std::lock_guard<std::mutex> l(mu_);
  known_.insert(run_stream);
  known_.insert(task_stream);
  return Status::Ok();
}

Result<std::string> LlmRecorder::NewRun(const std::string& base, const json& started) {
  for (int k = 1; k < 10000; ++k) {
    const std::string run = base + "-" + std::to_string(k);
    json d = started;
    d["name"] = run;
    schema::EventInput rs{run + "/run.started", "run/" + run, "run.started", run, 0, 0, Dump(d)};
    ASSIGN_OR_RETURN(bool fresh, AppendIfNew({rs}));
    if (fresh) {
      std::lock_guard<std::mutex> l(mu_);
      known_.insert("run/" + run);
      return run;
    }
  }
  return Status::Failed("no free run id of the form " + base + "-N");
}

Result<uint64_t> LlmRecorder::Append(const std::string& run, const std::string& stream,
                                     const std::string& type, const std::string& id,
                                     const json& data, uint64_t causation) {
  schema::EventInput e{id, stream, type, run, 0, causation, Dump(data)};
  ASSIGN_OR_RETURN(engine::AppendOutcome out, engine_->Append(std::span(&e, 1)));
  return out.lsns.empty() ? 0 : out.lsns.front();
}

}  // namespace tink::server
