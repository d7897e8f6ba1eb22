// The executor's child process: fork/exec with pipes, its own process group, a death signal.
#include "engine/exec/internal/child.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

namespace tink::exec::internal {
namespace {

std::string ErrnoText(int err) { return std::strerror(err); }

void CloseFd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

int PidfdOpen(pid_t pid) {
#ifdef SYS_pidfd_open
  const long fd = ::syscall(SYS_pidfd_open, pid, 0);
  if (fd >= 0) {
    ::fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
    return static_cast<int>(fd);
  }
#endif
  return -1;
}

// Writes the whole buffer from the child (async-signal-safe).
void WriteAll(int fd, const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    p += w;
    n -= static_cast<size_t>(w);
  }
}

}  // namespace

Result<std::string> FindExecutable(const std::string& name, const std::string& path_env) {
  if (name.empty()) return Status::InvalidArgument("empty command name");
  auto check = [](const std::string& p) -> int {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) return ENOENT;
    if (S_ISDIR(st.st_mode)) return EACCES;
    if (::access(p.c_str(), X_OK) != 0) return EACCES;
    return 0;
  };
  if (name.find('/') != std::string::npos) {
    const int err = check(name);
    if (err == ENOENT) return Status::NotFound("command not found: " + name);
    if (err != 0) return Status::InvalidArgument(name + ": Permission denied");
    return name;
  }
  bool denied = false;
  size_t start = 0;
  while (start <= path_env.size()) {
    size_t end = path_env.find(':', start);
    if (end == std::string::npos) end = path_env.size();
    std::string dir = path_env.substr(start, end - start);
    if (dir.empty()) dir = ".";  // an empty PATH entry is the current directory (POSIX)
    const std::string candidate = dir + "/" + name;
    const int err = check(candidate);
    if (err == 0) return candidate;
    if (err == EACCES) denied = true;
    start = end + 1;
  }
  if (denied) return Status::InvalidArgument(name + ": Permission denied");
  return Status::NotFound("command not found: " + name);
}

Result<Child> StartChild(const ChildSpec& spec) {
  if (spec.argv.empty()) return Status::InvalidArgument("empty argv");
  // Everything the child touches is built before fork.
  std::vector<char*> argv;
  for (const std::string& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const std::string& e : spec.envp) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  int out[2] = {-1, -1}, err[2] = {-1, -1}, report[2] = {-1, -1};
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0 ||
      ::pipe2(report, O_CLOEXEC) != 0) {
    const int e = errno;
    for (int* p : {out, err, report}) {
      CloseFd(p[0]);
      CloseFd(p[1]);
    }
    return Status::IOError("cannot create pipes for the command: " + ErrnoText(e));
  }
  int null_fd = -1;
  if (spec.stdin_fd < 0) null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const int in_fd = spec.stdin_fd >= 0 ? spec.stdin_fd : null_fd;
  const pid_t parent = ::getpid();

  const pid_t pid = ::fork();
  if (pid < 0) {
    const int e = errno;
    for (int* p : {out, err, report}) {
      CloseFd(p[0]);
      CloseFd(p[1]);
    }
    CloseFd(null_fd);
    return Status::IOError("cannot fork: " + ErrnoText(e));
  }
  if (pid == 0) {
    // The child: async-signal-safe calls only.
    ::setpgid(0, 0);
    if (spec.death_signal) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);  // the parent died before the prctl
    }
    // Signals the parent ignores or blocks must not stay so in the command.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int s : {SIGPIPE, SIGINT, SIGQUIT, SIGTERM, SIGHUP}) ::signal(s, SIG_DFL);
    int step = 0;
    if (in_fd >= 0 && ::dup2(in_fd, 0) < 0) step = 1;
    if (step == 0 && ::dup2(out[1], 1) < 0) step = 1;
    if (step == 0 && ::dup2(err[1], 2) < 0) step = 1;
    if (step == 0 && !spec.cwd.empty() && ::chdir(spec.cwd.c_str()) != 0) step = 2;
    if (step == 0) ::execve(spec.path.c_str(), argv.data(), envp.data());
    const int e[2] = {step, errno};
    WriteAll(report[1], e, sizeof e);
    ::_exit(127);
  }
  CloseFd(out[1]);
  CloseFd(err[1]);
  CloseFd(report[1]);
  CloseFd(null_fd);
  // Also from the parent, so a signal to the group cannot race the child's own setpgid.
  ::setpgid(pid, pid);

  // The report pipe closes on a successful exec (close-on-exec) or carries (step, errno).
  int e[2] = {0, 0};
  size_t got = 0;
  while (got < sizeof e) {
    const ssize_t r = ::read(report[0], reinterpret_cast<char*>(e) + got, sizeof e - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<size_t>(r);
  }
  CloseFd(report[0]);
  if (got == sizeof e) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    CloseFd(out[0]);
    CloseFd(err[0]);
    if (e[0] == 2) {
      return Status::InvalidArgument("cannot change to " + spec.cwd + ": " + ErrnoText(e[1]));
    }
    if (e[0] == 1) return Status::IOError("cannot set up the command's stdio: " + ErrnoText(e[1]));
    if (e[1] == ENOENT) return Status::NotFound("command not found: " + spec.path);
    return Status::InvalidArgument("cannot run " + spec.path + ": " + ErrnoText(e[1]));
  }
  Child c;
  c.pid = pid;
  c.out_fd = out[0];
  c.err_fd = err[0];
  ::fcntl(c.out_fd, F_SETFL, ::fcntl(c.out_fd, F_GETFL) | O_NONBLOCK);
  ::fcntl(c.err_fd, F_SETFL, ::fcntl(c.err_fd, F_GETFL) | O_NONBLOCK);
  c.pid_fd = PidfdOpen(pid);
  return c;
}

bool ReapChild(pid_t pid, bool block, ChildExit* out) {
  for (;;) {
    int status = 0;
    struct rusage ru {};
    const pid_t r = ::wait4(pid, &status, block ? 0 : WNOHANG, &ru);
    if (r < 0 && errno == EINTR) continue;
    if (r == pid) {
      out->status = status;
      out->usage = ru;
      return true;
    }
    if (r < 0) {
      // ECHILD: someone else reaped it (SIGCHLD ignored): it is gone, its status unknown.
      out->status = 0;
      out->lost = errno == ECHILD;
      return out->lost;
    }
    return false;
  }
}

void SignalGroup(pid_t pgid, int sig) {
  if (pgid > 0) ::kill(-pgid, sig);
}

}  // namespace tink::exec::internal
