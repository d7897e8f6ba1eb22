// tink tasks: the scheduler projection as of any point (tasks, one task's history, runs,
// anomalies). The view itself is WriteTasks (views.h, tasks_view.cc), printed here for a local
// store or by the daemon for --server (GET /v1/tasks); the query shell (tink shell) offers the
// same through its language.
#include <unistd.h>

#include <cstdio>

#include "shell/cli/commands.h"
#include "shell/cli/common.h"
#include "shell/cli/remote.h"
#include "shell/cli/views.h"

namespace tink::cli {
namespace {

// GET /v1/tasks with the flags as parameters; the answer is what WriteTasks wrote.
int RunRemote(const GlobalOptions& global, const TasksRequest& r) {
  auto client = ConnectRemote(global.ServerUrl(), global.StorePath());
  if (!client.ok()) return Fail("tasks", client.status());
  std::string target = "/v1/tasks?format=" + std::string(r.json ? "json" : "text");
  auto add = [&target](const char* name, const std::string& v) {
    if (!v.empty()) target += std::string("&") + name + "=" + UrlEncode(v);
  };
  add("run", r.run);
  add("task", r.task);
  add("as_of", r.as_of);
  if (r.history) target += "&history=1";
  if (r.runs) target += "&runs=1";
  if (r.anomalies) target += "&anomalies=1";
  if (r.tty) target += "&tty=1";
  return SendAndPrint(**client, "tasks", target);
}

int Run(const GlobalOptions& global, const TasksRequest& flags) {
  TasksRequest r = flags;
  r.tty = ::isatty(1) == 1;
  if (Status s = CheckTasksRequest(r); !s.ok()) return Fail("tasks", s);
  if (!global.ServerUrl().empty()) return RunRemote(global, r);
  auto eng = OpenForReading("tasks", global.StorePath());
  if (!eng.ok()) return Fail("tasks", eng.status());
  if (Status s = WriteTasks(**eng, r, stdout); !s.ok()) return Fail("tasks", s);
  return 0;
}

}  // namespace

void SetupTasks(CLI::App* cmd, GlobalOptions* global, RunFn* run) {
  auto f = std::make_shared<TasksRequest>();
  AddStoreOption(cmd, global);
  cmd->add_option("--run", f->run, "Only this run");
  cmd->add_option("--task", f->task, "One task (with --run)");
  cmd->add_option("--as-of", f->as_of,
                  "An LSN, an ISO 8601 time (the last event recorded at or before it), or now "
                  "(default)");
  cmd->add_flag("--history", f->history, "Every version of --task up to --as-of, oldest first");
  cmd->add_flag("--runs", f->runs, "Runs with their status and task counts instead of tasks");
  cmd->add_flag("--anomalies", f->anomalies,
                "Illegal transitions and events for unknown tasks, in LSN order");
  cmd->add_flag("--json", f->json, "One JSON array");
  cmd->footer("Times in --json are event times (the source's `occurred` when it has one).");
  *run = [global, f] { return Run(*global, *f); };
}

}  // namespace tink::cli
