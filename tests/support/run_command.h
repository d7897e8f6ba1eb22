// RunCommand: runs a shell command line with the given stdin text and captures stdout, stderr
// and the exit code (for tests that drive the `tink` binary as a user would).
#pragma once
#include <sys/types.h>

#include <string>
#include <vector>

namespace tink::testing {

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// `cmd` goes to /bin/sh -c; stdin is `input`. Never throws; exit_code -1 if it could not run.
CommandResult RunCommand(const std::string& cmd, const std::string& input = "");

// Single-quotes s for /bin/sh.
std::string ShellQuote(const std::string& s);

std::string ReadFile(const std::string& path);

// Starts argv (argv[0] a path, not looked up) with stdin from /dev/null and stdout and stderr
// written to the files `out` and `err`, without waiting. The pid, or -1 if it could not start.
// The caller reaps it.
pid_t SpawnToFiles(const std::vector<std::string>& argv, const std::string& out,
                   const std::string& err);

}  // namespace tink::testing
