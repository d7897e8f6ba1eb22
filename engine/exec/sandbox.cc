// The sandbox (bubblewrap) and the secret-looking names: docs/exec.md "Sandbox", "Environment".
#include "engine/exec/internal/sandbox.h"

#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <mutex>

#include "engine/exec/exec.h"
#include "engine/exec/internal/child.h"

extern char** environ;

namespace tink::exec {
namespace internal {

// The bwrap command line around `command` (docs/exec.md "Sandbox").
std::vector<std::string> SandboxArgv(const std::string& bwrap, const std::string& workdir,
                                     const std::vector<std::string>& command) {
  std::vector<std::string> a = {bwrap,
                                "--unshare-all",
                                "--die-with-parent",
                                "--new-session",
                                "--ro-bind",
                                "/",
                                "/",
                                "--dev",
                                "/dev",
                                "--proc",
                                "/proc",
                                "--tmpfs",
                                "/tmp",
                                "--bind",
                                workdir,
                                workdir,
                                "--chdir",
                                workdir,
                                "--"};
  a.insert(a.end(), command.begin(), command.end());
  return a;
}

}  // namespace internal

namespace {

// Reads everything a finished probe wrote to a pipe (non-blocking fd).
std::string Drain(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t r = ::read(fd, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    out.append(buf, static_cast<size_t>(r));
  }
  return out;
}

Status ProbeSandbox() {
  const char* path_env = std::getenv("PATH");
  auto bwrap = internal::FindExecutable("bwrap", path_env != nullptr ? path_env : "/usr/bin:/bin");
  if (!bwrap.ok()) {
    return Status::InvalidArgument(
        "--sandbox needs bubblewrap (bwrap), which is not installed (Debian package "
        "'bubblewrap'); the command was not run");
  }
  auto tru = internal::FindExecutable("true", "/usr/bin:/bin");
  if (!tru.ok()) return Status::InvalidArgument("--sandbox: cannot find 'true' to test bwrap");
  internal::ChildSpec spec;
  spec.path = *bwrap;
  spec.argv = internal::SandboxArgv(*bwrap, "/", {*tru});
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) spec.envp.emplace_back(*e);
  auto child = internal::StartChild(spec);
  if (!child.ok()) return child.status().WithContext("--sandbox: cannot run bwrap");
  internal::ChildExit exit;
  internal::ReapChild(child->pid, /*block=*/true, &exit);
  std::string err = Drain(child->err_fd);
  ::close(child->out_fd);
  ::close(child->err_fd);
  if (child->pid_fd >= 0) ::close(child->pid_fd);
  if (!exit.lost && WIFEXITED(exit.status) && WEXITSTATUS(exit.status) == 0) return Status::Ok();
  while (!err.empty() && (err.back() == '\n' || err.back() == '\r')) err.pop_back();
  if (const size_t nl = err.find('\n'); nl != std::string::npos) err.resize(nl);
  return Status::InvalidArgument(
      "--sandbox: bubblewrap cannot create its sandbox here (" +
      (err.empty() ? std::string("bwrap failed") : err) +
      "; unprivileged user namespaces may be disabled); the command was not run");
}

}  // namespace

bool IsSecretName(std::string_view name) {
  std::string upper(name);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  static const char* const kWords[] = {"TOKEN",   "KEY",     "SECRET",     "PASSWORD",
                                       "PASSWD",  "AUTH",    "CREDENTIAL", "COOKIE",
                                       "SESSION", "PRIVATE", "PASS",       "CERT"};
  for (const char* w : kWords) {
    if (upper.find(w) != std::string::npos) return true;
  }
  return false;
}

Status CheckSandbox() {
  // Probed once per process: the answer does not change while it runs.
  static std::once_flag once;
  static Status probed;
  std::call_once(once, [] { probed = ProbeSandbox(); });
  return probed;
}

}  // namespace tink::exec
