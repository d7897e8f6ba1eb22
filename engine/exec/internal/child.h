// The executor's child process (internal to engine/exec): started with fork/exec in its own
// process group, stdout and stderr on pipes, and, unless sandboxed, PR_SET_PDEATHSIG so that it
// dies with the thread that started it (a kill -9 of `tink exec` leaves no command running).
//
// Everything the child needs (paths, argv, environment) is prepared before fork: between fork
// and exec only async-signal-safe calls are made, so starting a child from a multithreaded
// process (tink serve's MCP tool) is safe.
//
// Thread safety: a Child belongs to one thread. Errors: IOError when pipes or fork fail;
// InvalidArgument "cannot run PATH: <errno text>" when exec itself fails (nothing ran).
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <string>
#include <vector>

#include "schema/status.h"

namespace tink::exec::internal {

struct ChildSpec {
  std::string path;               // the executable (absolute, or relative to the caller's cwd)
  std::vector<std::string> argv;  // argv[0] included
  std::vector<std::string> envp;  // the whole environment, "K=V"
  std::string cwd;                // "" = the caller's
  int stdin_fd = -1;              // -1 = /dev/null
  bool death_signal = true;       // PR_SET_PDEATHSIG(SIGKILL)
};

struct Child {
  pid_t pid = -1;
  int out_fd = -1;  // read ends, non-blocking, close-on-exec
  int err_fd = -1;
  int pid_fd = -1;  // pidfd_open of the child (readable when it exits), -1 if unsupported
};

Result<Child> StartChild(const ChildSpec& spec);

// waitpid with rusage. block=false: returns false if the child has not exited yet.
struct ChildExit {
  int status = 0;     // as waitpid gives it
  bool lost = false;  // reaped by someone else (SIGCHLD ignored): the status is unknown
  struct rusage usage {};
};
bool ReapChild(pid_t pid, bool block, ChildExit* out);

// Sends `sig` to the child's process group (the child is its leader).
void SignalGroup(pid_t pgid, int sig);

// Looks up `name` like execvp: a name with '/' is taken as it is (it must exist and be
// executable), else each directory of `path_env` in turn. NotFound "command not found: NAME";
// InvalidArgument "NAME: Permission denied" for a file that is not executable.
Result<std::string> FindExecutable(const std::string& name, const std::string& path_env);

}  // namespace tink::exec::internal
