// RunRecorded: runs one command as a recorded task (docs/exec.md).
#include "engine/exec/exec.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>

#include "engine/exec/internal/child.h"
#include "engine/exec/internal/output.h"
#include "engine/exec/internal/sandbox.h"
#include "engine/exec/internal/snapshot.h"

extern char** environ;

namespace tink::exec {
namespace {

using Clock = std::chrono::steady_clock;
using internal::ChildExit;

std::string RandomHex(size_t digits) {
  static std::mutex mu;
  static std::mt19937_64 gen{std::random_device{}()};
  std::lock_guard<std::mutex> lock(mu);
  static const char* const kHex = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < digits; ++i) s += kHex[gen() & 15];
  return s;
}

std::string EnvValue(const std::vector<std::string>& envp, std::string_view name) {
  for (const std::string& e : envp) {
    if (e.size() > name.size() && e[name.size()] == '=' && e.starts_with(name)) {
      return e.substr(name.size() + 1);
    }
  }
  return "";
}

// The inherited environment with options.env on top (a name given again replaces it).
Result<std::vector<std::string>> BuildEnv(const ExecOptions& o) {
  for (const auto& [k, v] : o.env) {
    if (k.empty() || k.find('=') != std::string::npos || k.find('\0') != std::string::npos) {
      return Status::InvalidArgument("bad environment variable name '" + k + "' (K=V)");
    }
  }
  std::vector<std::string> envp;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    const size_t eq = entry.find('=');
    const std::string_view name = entry.substr(0, eq);
    const bool replaced =
        std::any_of(o.env.begin(), o.env.end(), [&](const auto& kv) { return kv.first == name; });
    if (!replaced) envp.emplace_back(entry);
  }
  for (const auto& [k, v] : o.env) envp.push_back(k + "=" + v);
  return envp;
}

std::string Joined(const std::vector<std::string>& argv, size_t limit) {
  std::string s;
  for (const std::string& a : argv) {
    if (!s.empty()) s += ' ';
    s += a;
    if (s.size() > limit) break;
  }
  if (s.size() > limit) s = s.substr(0, limit) + "...";
  return s;
}

std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

struct Recorder {
  std::string run, task, call_id;
  const EventSink* sink;
  log::Lsn first = 0, last = 0;

  std::string TaskStream() const { return "run/" + run + "/task/" + task; }
  schema::EventInput Make(std::string type, const nlohmann::json& data, uint64_t causation = 0,
                          bool run_stream = false) const {
    schema::EventInput e;
    e.stream = run_stream ? "run/" + run : TaskStream();
    e.type = std::move(type);
    e.run = run;
    e.causation = causation;
    e.data_json = Dump(data);
    return e;
  }
  Result<std::vector<log::Lsn>> Append(const std::vector<schema::EventInput>& events) {
    if (events.empty()) return std::vector<log::Lsn>{};
    ASSIGN_OR_RETURN(std::vector<log::Lsn> lsns, (*sink)(events));
    if (lsns.size() != events.size()) {
      return Status::IOError("the store acknowledged " + std::to_string(lsns.size()) +
                             " events of " + std::to_string(events.size()));
    }
    if (first == 0) first = lsns.front();
    last = std::max(last, lsns.back());
    return lsns;
  }
  // Appends in groups of at most `group_bytes` of data (each group atomic, in order).
  Status AppendGrouped(const std::vector<schema::EventInput>& events, size_t group_bytes) {
    std::vector<schema::EventInput> group;
    size_t bytes = 0;
    for (const schema::EventInput& e : events) {
      if (!group.empty() && bytes + e.data_json.size() > group_bytes) {
        RETURN_IF_ERROR(Append(group).status());
        group.clear();
        bytes = 0;
      }
      bytes += e.data_json.size();
      group.push_back(e);
    }
    return Append(group).status();
  }
};

std::string SignalName(int sig) {
  const char* d = ::strsignal(sig);
  return d != nullptr ? d : "unknown signal";
}

// tool.result's `output`: the end of the command's stderr (or stdout when stderr is empty), at
// most kTailBytes from a character boundary, "…" in front when cut; "" for binary output.
constexpr size_t kTailBytes = 2048;
std::string OutputExcerpt(const std::string& tail) {
  std::string_view t(tail);
  const bool cut = t.size() > kTailBytes;
  if (cut) t.remove_prefix(t.size() - kTailBytes);
  while (!t.empty() && (static_cast<unsigned char>(t.front()) & 0xC0) == 0x80) t.remove_prefix(1);
  if (!internal::IsText(t)) return "";
  return (cut ? "…" : "") + std::string(t);
}

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double TvMs(const timeval& tv) { return tv.tv_sec * 1000.0 + tv.tv_usec / 1000.0; }

}  // namespace

int ExecOutcome::ShellExitCode() const {
  if (timed_out) return 124;
  if (signal != 0) return 128 + signal;
  return exit_code < 0 ? 125 : exit_code;
}

std::string ExecOutcome::Failure() const {
  if (timed_out) {
    return "timed out" +
           std::string(signal != 0 ? " (killed by signal " + std::to_string(signal) + ")" : "");
  }
  if (cancelled && signal != 0) {
    return "cancelled (killed by signal " + std::to_string(signal) + ")";
  }
  if (signal != 0) {
    return "killed by signal " + std::to_string(signal) + " (" + SignalName(signal) + ")";
  }
  if (exit_code < 0) return "exit status unknown";
  if (exit_code != 0) return "exit code " + std::to_string(exit_code);
  return "";
}

Result<ExecOutcome> RunRecorded(const ExecOptions& o, const EventSink& sink) {
  if (o.argv.empty()) return Status::InvalidArgument("no command given");
  if (o.timeout_s < 0 || !std::isfinite(o.timeout_s)) {
    return Status::InvalidArgument("timeout must be a non-negative number of seconds");
  }
  if (o.chunk_bytes == 0) return Status::InvalidArgument("chunk size must be positive");
  if (!std::isfinite(o.kill_grace_s)) return Status::InvalidArgument("kill grace must be finite");
  // The working directory, absolute (the sandbox binds it at the same path).
  std::error_code ec;
  const std::string wd_given = o.workdir.empty() ? "." : o.workdir;
  const std::filesystem::path wd = std::filesystem::canonical(wd_given, ec);
  if (ec || !std::filesystem::is_directory(wd, ec)) {
    return Status::InvalidArgument("working directory " + wd_given + " is not a directory");
  }
  const std::string workdir = wd.string();
  ASSIGN_OR_RETURN(std::vector<std::string> envp, BuildEnv(o));
  if (o.sandbox) RETURN_IF_ERROR(CheckSandbox());
  // PATH as the command will see it; a relative path (./build.sh) is taken from the working
  // directory, where the command runs.
  std::string name = o.argv[0];
  if (name.find('/') != std::string::npos && name[0] != '/') name = workdir + "/" + name;
  ASSIGN_OR_RETURN(std::string exe, internal::FindExecutable(name, EnvValue(envp, "PATH")));

  ExecOutcome out;
  out.run_generated = o.run.empty();
  out.run = o.run.empty() ? "exec-" + RandomHex(12) : o.run;
  out.task = o.task.empty() ? "exec-" + RandomHex(8) : o.task;
  out.call_id = out.task;
  Recorder rec{out.run, out.task, out.call_id, &sink};

  internal::SnapshotLimits limits;
  for (const std::string& x : o.exclude) {
    const std::filesystem::path p = std::filesystem::weakly_canonical(x, ec);
    if (!ec) limits.exclude.push_back(p.string());
  }
  internal::Snapshot before;
  if (o.record_files) before = internal::TakeSnapshot(workdir, limits);

  // What is asked, recorded before anything runs.
  std::vector<schema::EventInput> start;
  const std::string title = Joined(o.argv, 200);
  if (out.run_generated) {
    start.push_back(rec.Make("run.started", {{"name", title}, {"agent", "tink exec"}}, 0, true));
  }
  nlohmann::json created = {{"task", out.task}, {"name", Joined(o.argv, 120)}};
  if (!o.parent.empty()) created["parent"] = o.parent;
  start.push_back(rec.Make("task.created", created));
  start.push_back(rec.Make("task.ready", {{"task", out.task}}));
  const std::string worker =
      o.worker.empty() ? "tink exec (pid " + std::to_string(::getpid()) + ")" : o.worker;
  start.push_back(rec.Make("task.started", {{"task", out.task}, {"worker", worker}}));
  nlohmann::json env_names = nlohmann::json::array();
  int hidden = 0;
  for (const auto& [k, v] : o.env) {
    if (IsSecretName(k)) {
      ++hidden;
    } else {
      env_names.push_back(k);
    }
  }
  nlohmann::json args = {{"argv", o.argv}, {"cwd", workdir}};
  if (!env_names.empty()) args["env"] = env_names;
  if (hidden > 0) args["env_hidden"] = hidden;
  if (o.sandbox) args["sandbox"] = true;
  if (o.timeout_s > 0) args["timeout_s"] = o.timeout_s;
  start.push_back(
      rec.Make("tool.call",
               {{"task", out.task}, {"call_id", out.call_id}, {"tool", o.tool}, {"args", args}}));
  ASSIGN_OR_RETURN(std::vector<log::Lsn> start_lsns, rec.Append(start));
  const log::Lsn call_lsn = start_lsns.back();

  // Ends the task when the command could not be started at all.
  auto record_start_failure = [&](const Status& why) -> Status {
    std::vector<schema::EventInput> end;
    end.push_back(rec.Make("tool.result",
                           {{"task", out.task},
                            {"call_id", out.call_id},
                            {"tool", o.tool},
                            {"ok", false},
                            {"error", why.message()}},
                           call_lsn));
    end.push_back(rec.Make("task.failed", {{"task", out.task}, {"error", why.message()}}));
    if (out.run_generated) {
      end.push_back(
          rec.Make("run.finished", {{"status", "failed"}, {"error", why.message()}}, 0, true));
    }
    Status appended = rec.Append(end).status();
    return appended.ok() ? why : appended.WithContext(why.message());
  };

  internal::ChildSpec spec;
  if (o.sandbox) {
    // bwrap looks the name up again inside (the same PATH, the same files: / is bound), so
    // argv[0] stays what the user gave; a relative path is taken from the working directory
    // there too (--chdir).
    const std::vector<std::string>& command = o.argv;
    const std::string path_env = EnvValue(envp, "PATH");
    auto bwrap = internal::FindExecutable("bwrap", path_env.empty() ? "/usr/bin:/bin" : path_env);
    if (!bwrap.ok()) return record_start_failure(bwrap.status());
    spec.path = *bwrap;
    spec.argv = internal::SandboxArgv(*bwrap, workdir, command);
  } else {
    spec.path = exe;
    spec.argv = o.argv;
  }
  spec.envp = std::move(envp);
  spec.cwd = workdir;
  spec.stdin_fd = o.stdin_fd;
  spec.death_signal = true;

  internal::OutputConfig oc;
  oc.run = out.run;
  oc.task = out.task;
  oc.call_id = out.call_id;
  oc.event_stream = rec.TaskStream();
  oc.causation = call_lsn;
  oc.chunk_bytes = o.chunk_bytes;
  oc.cap_bytes = o.output_cap_bytes;
  internal::OutputRecorder output(oc, sink);

  const Clock::time_point t0 = Clock::now();
  Result<internal::Child> started = internal::StartChild(spec);
  if (!started.ok()) {
    (void)output.Finish();
    return record_start_failure(started.status());
  }
  internal::Child child = *started;

  // The reading loop: never waits for the store, only for the command.
  const bool has_deadline = o.timeout_s > 0;
  // Beyond ~30 years a timeout is none (and would overflow the clock's range).
  const Clock::time_point deadline =
      t0 + std::chrono::duration_cast<Clock::duration>(
               std::chrono::duration<double>(std::min(o.timeout_s, 1e9)));
  const auto grace = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(std::clamp(o.kill_grace_s, 0.0, 3600.0)));
  std::optional<Clock::time_point> kill_at, exited_at;
  Clock::time_point last_data = t0;
  bool killed = false;
  bool out_open = true, err_open = true;
  int passthrough[2] = {o.stdout_fd, o.stderr_fd};
  std::string* heads[2] = {&out.stdout_text, &out.stderr_text};
  std::string tails[2];  // the last kTailBytes (at most twice that between trims)
  ChildExit exit;
  std::vector<char> buf(1 << 16);

  auto terminate = [&](Clock::time_point now) {
    internal::SignalGroup(child.pid, SIGTERM);
    kill_at = now + grace;
  };
  auto read_pipe = [&](int i, int& fd, bool& open) {
    // At most 1 MiB per turn, so the other pipe and the clock are looked at too.
    for (int turn = 0; turn < 16 && open; ++turn) {
      const ssize_t r = ::read(fd, buf.data(), buf.size());
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (r <= 0) {
        ::close(fd);
        fd = -1;
        open = false;
        return;
      }
      const std::string_view data(buf.data(), static_cast<size_t>(r));
      last_data = Clock::now();
      output.Add(i, data);
      tails[i].append(data.substr(data.size() > kTailBytes ? data.size() - kTailBytes : 0));
      if (tails[i].size() > 2 * kTailBytes) tails[i].erase(0, tails[i].size() - kTailBytes);
      if (heads[i]->size() < o.stdout_head_bytes) {
        heads[i]->append(data.substr(0, o.stdout_head_bytes - heads[i]->size()));
      }
      if (passthrough[i] >= 0) {
        size_t done = 0;
        while (done < data.size()) {
          const ssize_t w = ::write(passthrough[i], data.data() + done, data.size() - done);
          if (w < 0 && errno == EINTR) continue;
          if (w <= 0) {
            passthrough[i] = -1;  // the reader went away: keep recording
            break;
          }
          done += static_cast<size_t>(w);
        }
      }
    }
  };

  for (;;) {
    Clock::time_point now = Clock::now();
    if (exited_at) {
      if (!out_open && !err_open) break;
      // A descendant may keep the pipes open: read on while it writes, not forever.
      if (now - std::max(*exited_at, last_data) >= std::chrono::milliseconds(200) ||
          now - *exited_at >= std::chrono::seconds(2)) {
        break;
      }
    } else {
      if (has_deadline && !out.timed_out && !out.cancelled && now >= deadline) {
        out.timed_out = true;
        terminate(now);
      }
      if (kill_at && !killed && now >= *kill_at) {
        internal::SignalGroup(child.pid, SIGKILL);
        killed = true;
      }
    }
    // How long poll may sleep.
    Clock::duration wait = std::chrono::hours(1);
    if (exited_at) wait = std::chrono::milliseconds(50);
    if (!exited_at && has_deadline && !out.timed_out) wait = std::min(wait, deadline - now);
    if (!exited_at && kill_at && !killed) wait = std::min(wait, *kill_at - now);
    if (!exited_at && child.pid_fd < 0)
      wait = std::min<Clock::duration>(wait, std::chrono::milliseconds(20));
    const int wait_ms = static_cast<int>(std::clamp<int64_t>(
        std::chrono::ceil<std::chrono::milliseconds>(wait).count(), 0, 3'600'000));

    struct pollfd fds[4];
    int n = 0;
    int idx_out = -1, idx_err = -1, idx_pid = -1, idx_cancel = -1;
    if (out_open) {
      idx_out = n;
      fds[n++] = {child.out_fd, POLLIN, 0};
    }
    if (err_open) {
      idx_err = n;
      fds[n++] = {child.err_fd, POLLIN, 0};
    }
    if (!exited_at && child.pid_fd >= 0) {
      idx_pid = n;
      fds[n++] = {child.pid_fd, POLLIN, 0};
    }
    if (!exited_at && o.cancel_fd >= 0 && !out.cancelled && !out.timed_out) {
      idx_cancel = n;
      fds[n++] = {o.cancel_fd, POLLIN, 0};
    }
    const int ready = ::poll(fds, static_cast<nfds_t>(n), wait_ms);
    if (ready < 0 && errno != EINTR) {
      // Cannot happen with valid descriptors; stop the command rather than spin.
      internal::SignalGroup(child.pid, SIGKILL);
      killed = true;
    }
    if (idx_out >= 0 && fds[idx_out].revents != 0) read_pipe(0, child.out_fd, out_open);
    if (idx_err >= 0 && fds[idx_err].revents != 0) read_pipe(1, child.err_fd, err_open);
    if (idx_cancel >= 0 && fds[idx_cancel].revents != 0) {
      out.cancelled = true;
      terminate(Clock::now());
    }
    const bool maybe_exited = idx_pid >= 0 ? fds[idx_pid].revents != 0 : child.pid_fd < 0;
    if (!exited_at && maybe_exited && internal::ReapChild(child.pid, /*block=*/false, &exit)) {
      exited_at = Clock::now();
      out.duration_ms = Ms(*exited_at - t0);
      // After a timeout or cancel, nothing of the group may outlive the command.
      if (out.timed_out || out.cancelled) internal::SignalGroup(child.pid, SIGKILL);
    }
  }
  if (child.out_fd >= 0) ::close(child.out_fd);
  if (child.err_fd >= 0) ::close(child.err_fd);
  if (child.pid_fd >= 0) ::close(child.pid_fd);

  if (exit.lost) {
    out.exit_code = -1;
  } else if (WIFEXITED(exit.status)) {
    out.exit_code = WEXITSTATUS(exit.status);
  } else if (WIFSIGNALED(exit.status)) {
    out.signal = WTERMSIG(exit.status);
  }
  out.user_cpu_ms = TvMs(exit.usage.ru_utime);
  out.sys_cpu_ms = TvMs(exit.usage.ru_stime);
  out.max_rss_kb = exit.usage.ru_maxrss;

  Status output_status = output.Finish();
  const auto so = output.stats(0), se = output.stats(1);
  out.stdout_bytes = so.total;
  out.stderr_bytes = se.total;
  out.stdout_truncated = so.dropped > 0;
  out.stderr_truncated = se.dropped > 0;
  out.dropped_bytes = so.dropped + se.dropped;

  internal::FileChanges files;
  if (o.record_files) {
    const internal::Snapshot after = internal::TakeSnapshot(workdir, limits, &before);
    files = internal::DiffSnapshots(before, after, out.task);
    files.notes.insert(files.notes.begin(), before.notes.begin(), before.notes.end());
  }
  out.files_changed = files.changed_paths;
  out.file_notes = files.notes;

  // The outcome, the files, the end of the task (and of a generated run).
  std::vector<schema::EventInput> end;
  const std::string failure = out.Failure();
  nlohmann::json result = {{"task", out.task}, {"call_id", out.call_id}, {"tool", o.tool}};
  if (out.signal == 0 && out.exit_code >= 0) result["exit_code"] = out.exit_code;
  if (out.signal != 0) result["signal"] = out.signal;
  if (out.timed_out) result["timed_out"] = true;
  const std::string excerpt = OutputExcerpt(tails[1].empty() ? tails[0] : tails[1]);
  if (!excerpt.empty()) result["output"] = excerpt;
  result["ok"] = failure.empty();
  if (!failure.empty()) result["error"] = failure;
  result["duration_ms"] = std::round(out.duration_ms * 1000) / 1000;
  result["cpu_user_ms"] = out.user_cpu_ms;
  result["cpu_sys_ms"] = out.sys_cpu_ms;
  result["max_rss_kb"] = out.max_rss_kb;
  result["stdout_bytes"] = out.stdout_bytes;
  result["stderr_bytes"] = out.stderr_bytes;
  if (out.stdout_truncated || out.stderr_truncated) result["output_truncated"] = true;
  if (o.record_files) result["files_changed"] = out.files_changed;
  if (!files.notes.empty()) result["notes"] = files.notes;
  end.push_back(rec.Make("tool.result", result, call_lsn));
  for (const auto* list : {&files.base, &files.changes}) {
    for (const internal::FileEvent& f : *list) {
      schema::EventInput e;
      e.stream = rec.TaskStream();
      e.type = f.type;
      e.run = out.run;
      e.causation = call_lsn;
      e.data_json = f.data_json;
      end.push_back(std::move(e));
    }
  }
  if (failure.empty()) {
    end.push_back(rec.Make("task.succeeded", {{"task", out.task}, {"result", {{"exit_code", 0}}}}));
  } else {
    // No causation: `why` then walks from the failure to the failing tool.result and on to its
    // tool.call (same call_id).
    end.push_back(rec.Make("task.failed", {{"task", out.task}, {"error", failure}}));
  }
  if (out.run_generated) {
    nlohmann::json fin = {{"status", failure.empty() ? "succeeded" : "failed"}};
    if (!failure.empty()) fin["error"] = failure;
    end.push_back(rec.Make("run.finished", fin, 0, true));
  }
  // The output's error first: it happened first (the end is still recorded if the store
  // recovered).
  Status ended = rec.AppendGrouped(end, 8 << 20);
  const log::Lsn ofirst = output.first_lsn(), olast = output.last_lsn();
  out.first_lsn = rec.first;
  out.last_lsn = std::max(rec.last, olast);
  if (ofirst != 0 && ofirst < out.first_lsn) out.first_lsn = ofirst;
  if (!output_status.ok()) return output_status.WithContext("recording the command's output");
  if (!ended.ok()) return ended.WithContext("recording the command's end");
  return out;
}

}  // namespace tink::exec
