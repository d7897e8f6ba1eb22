// The sources of the query language and their fields (query.h Sources()). The field order here is
// the order of the columns each source's rows carry (shell/query/provider.cc builds them in the
// same order); .schema, TAB completion and "did you mean" read this table.
#include <algorithm>

#include "shell/query/query.h"

namespace tink::query {
namespace {

std::vector<SourceInfo> Build() {
  std::vector<SourceInfo> s;
  s.push_back(
      {"events",
       "the log itself: every event's JSON envelope (DESIGN.md §4), in LSN order; `where stream "
       "== X`, `type == X`, `run == X` and `lsn == N` are answered from the indexes",
       {{"lsn", "int", "log sequence number, assigned by the engine"},
        {"time", "time", "when the engine recorded the event"},
        {"occurred", "time", "the source's own time (importers keep it); may be missing"},
        {"id", "string", "idempotency key"},
        {"stream", "string", "e.g. run/7/task/3"},
        {"type", "string", "tool.result, task.failed, ... or a custom type"},
        {"run", "string", "run id; may be missing"},
        {"causation", "int", "LSN of the event that caused this one; may be missing"},
        {"data", "object", "the payload: data.exit_code, data.task, data.error, ..."}},
       /*as_of=*/true,
       /*between=*/true});
  s.push_back({"runs",
               "runs from the scheduler projection (run.* events and the tasks of each run)",
               {{"run", "string", "run id"},
                {"name", "string", "run.started name"},
                {"agent", "string", "the agent implementation"},
                {"model", "string", "main model"},
                {"status", "string",
                 "run.finished status, else derived: running | failed | "
                 "cancelled | succeeded"},
                {"error", "string", "run.finished error"},
                {"tasks", "int", "number of tasks"},
                {"created", "int", "tasks in state created"},
                {"ready", "int", "tasks in state ready"},
                {"running", "int", "tasks in state running"},
                {"waiting", "int", "tasks in state waiting"},
                {"succeeded", "int", "tasks in state succeeded"},
                {"failed", "int", "tasks in state failed"},
                {"cancelled", "int", "tasks in state cancelled"},
                {"anomalies", "int", "scheduler anomalies of the run"},
                {"started_lsn", "int", "LSN of run.started (0: none)"},
                {"finished_lsn", "int", "LSN of run.finished (0: none)"},
                {"started", "time", "time of run.started"},
                {"finished", "time", "time of run.finished"},
                {"duration_ms", "float", "finished - started, ms (null while unfinished)"},
                {"version", "int", "LSN of this version of the run"}}});
  s.push_back({"tasks",
               "tasks from the scheduler projection, in (run, task) order; `where run == R` "
               "reads one run",
               {{"id", "string", "run/task: what timeline, why and history take"},
                {"run", "string", "run id"},
                {"task", "string", "task id, unique within its run"},
                {"parent", "string", "parent task id"},
                {"name", "string", "task name"},
                {"state", "string",
                 "created | ready | running | waiting | succeeded | failed | "
                 "cancelled"},
                {"attempts", "int", "1 + retries"},
                {"priority", "int", "higher is scheduled first"},
                {"wait_kind", "string", "sleep | io | join, while waiting"},
                {"waiting_on", "string", "what a waiting task waits for"},
                {"error", "string", "task.failed error"},
                {"created_lsn", "int", "LSN of task.created"},
                {"started_lsn", "int", "LSN of the first task.started"},
                {"finished_lsn", "int", "LSN of the terminal event (0: unfinished)"},
                {"created", "time", "world time of task.created"},
                {"started", "time", "world time of the first task.started"},
                {"finished", "time", "world time of the terminal event"},
                {"duration_ms", "float", "finished - created, ms (null while unfinished)"},
                {"ready_ms", "float", "time spent ready, ms"},
                {"running_ms", "float", "time spent running, ms"},
                {"waiting_ms", "float", "time spent waiting, ms"},
                {"llm_calls", "int", "llm.request events"},
                {"tool_calls", "int", "tool.call events"},
                {"tool_errors", "int", "failed tool.result events"},
                {"anomalies", "int", "scheduler anomalies of the task"},
                {"last_event", "string", "type of the task's last event"},
                {"version", "int", "LSN of this version of the task"}}});
  s.push_back({"files",
               "files of each run's canvas (file.* events), in (run, path) order; `where run == "
               "R` and `path == P` narrow the read",
               {{"run", "string", "run id"},
                {"path", "string", "path relative to the run's root"},
                {"size", "int", "bytes"},
                {"hash", "string", "XXH3-128 of the content, 32 hex digits"},
                {"lsn", "int", "the event that made this version"},
                {"time", "time", "its world time"},
                {"task", "string", "the task that wrote it"},
                {"type", "string", "file.write | file.patch | file.rename"},
                {"mode", "string", "git file mode, e.g. 100644"},
                {"base", "bool", "part of the run's base tree (written before the agent acted)"},
                {"renamed_from", "string", "the source path when made by a rename"}}});
  s.push_back({"nodes",
               "live nodes of the memory graph, in id order; `where id == X` reads one node",
               {{"id", "string", "node id, e.g. file:RUN/src/app.py"},
                {"labels", "array", "sorted labels, e.g. [\"File\"]"},
                {"props", "object", "properties: props.name, ..."},
                {"lsn", "int", "the event that wrote this version"},
                {"time", "time", "its record time"},
                {"run", "string", "run of that event"},
                {"task", "string", "task of that event's stream"},
                {"stream", "string", "stream of that event"}}});
  s.push_back({"edges",
               "live edges of the memory graph (src -[rel]-> dst); `where src == X`, `dst == X` "
               "and `id == X` read through the adjacency indexes",
               {{"id", "string", "edge id (default src|rel|dst)"},
                {"src", "string", "source node id"},
                {"rel", "string", "relation, e.g. HAS_TASK"},
                {"dst", "string", "destination node id"},
                {"props", "object", "properties"},
                {"valid_from", "time", "world time from which the fact holds (null: always)"},
                {"valid_to", "time", "world time until which it holds (null: open)"},
                {"lsn", "int", "the event that wrote this version"},
                {"time", "time", "its record time"},
                {"run", "string", "run of that event"},
                {"task", "string", "task of that event's stream"}}});
  s.push_back({"anomalies",
               "events a projection refused or flagged (scheduler, canvas, memory), in LSN order",
               {{"lsn", "int", "the event"},
                {"projection", "string", "scheduler | canvas | memory"},
                {"run", "string", "run id"},
                {"task", "string", "task id (scheduler, canvas)"},
                {"type", "string", "the event's type"},
                {"target", "string", "memory: the node or edge id"},
                {"path", "string", "canvas: the file path"},
                {"from", "string", "scheduler: the task's state before"},
                {"to", "string", "scheduler: the state the event asked for"},
                {"reason", "string", "what was wrong"}}});
  s.push_back({"segments",
               "the log's segment files, oldest first",
               {{"file", "string", "segment file name"},
                {"first_lsn", "int", "first LSN in the segment"},
                {"last_lsn", "int", "last LSN (first_lsn - 1 when empty)"},
                {"events", "int", "records in the segment"},
                {"bytes", "int", "bytes of header and records"},
                {"sealed", "bool", "closed for appends"}},
               /*as_of=*/false});
  return s;
}

}  // namespace

std::span<const SourceInfo> Sources() {
  static const std::vector<SourceInfo> kSources = Build();
  return kSources;
}

const SourceInfo* FindSource(std::string_view name) {
  for (const SourceInfo& s : Sources()) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

}  // namespace tink::query
