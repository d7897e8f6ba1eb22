#include "shell/mcp/exec_tool.h"

#include <utility>

namespace tink::mcp {
namespace {

std::string Str(const Json& args, const char* key) {
  return args.contains(key) && args[key].is_string() ? args[key].get<std::string>() : "";
}

}  // namespace

ExecFn NewExecTool(exec::EventSink sink, std::vector<std::string> exclude) {
  return [sink = std::move(sink), exclude = std::move(exclude)](
             const Json& args, const Session& session) -> Result<Json> {
    exec::ExecOptions o;
    for (const Json& a : args["command"]) o.argv.push_back(a.get<std::string>());
    o.run = Str(args, "run");
    o.task = Str(args, "task");
    o.parent = Str(args, "parent");
    o.workdir = Str(args, "workdir");
    o.exclude = exclude;
    o.sandbox = args.contains("sandbox") && args["sandbox"].get<bool>();
    o.timeout_s = args.contains("timeout") ? args["timeout"].get<double>() : kExecDefaultTimeoutS;
    if (!(o.timeout_s > 0 && o.timeout_s <= kExecMaxTimeoutS)) {
      return Status::InvalidArgument("argument 'timeout' must be more than 0 and at most 3600 s");
    }
    o.stdin_fd = -1;
    o.stdout_fd = -1;
    o.stderr_fd = -1;
    o.worker = "tink mcp session " + session.id;
    if (o.sandbox) RETURN_IF_ERROR(exec::CheckSandbox());
    ASSIGN_OR_RETURN(exec::ExecOutcome r, exec::RunRecorded(o, sink));
    Json j;
    j["run"] = r.run;
    j["task"] = r.task;
    j["exit_code"] = r.exit_code;
    j["signal"] = r.signal;
    j["timed_out"] = r.timed_out;
    j["failure"] = r.Failure();
    j["duration_ms"] = r.duration_ms;
    j["user_cpu_ms"] = r.user_cpu_ms;
    j["sys_cpu_ms"] = r.sys_cpu_ms;
    j["max_rss_kb"] = r.max_rss_kb;
    j["stdout"] = r.stdout_text;
    j["stderr"] = r.stderr_text;
    j["stdout_bytes"] = r.stdout_bytes;
    j["stderr_bytes"] = r.stderr_bytes;
    j["files_changed"] = r.files_changed;
    j["first_lsn"] = r.first_lsn;
    j["last_lsn"] = r.last_lsn;
    return j;
  };
}

}  // namespace tink::mcp
