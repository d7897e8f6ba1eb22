// ChildProcess: a command run through /bin/sh -c with a pipe to its stdin and one from its stdout,
// for tests that talk to a running `tink` while it runs (write a line, read what it answered
// before writing the next). stderr goes to a file, read after the child ends.
//
// Not thread-safe: one test thread drives it. The destructor kills (SIGKILL) and reaps a child
// still running, so a failed assertion never leaves one behind. The test process ignores SIGPIPE
// from the first ChildProcess on (a write to a child that ended fails instead).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>

#include "temp_dir.h"

namespace tink::testing {

class ChildProcess {
 public:
  explicit ChildProcess(const std::string& cmd);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool started() const { return pid_ > 0; }
  // Writes all of `text` to the child's stdin; false if the pipe is closed.
  bool Write(const std::string& text);
  // Closes the child's stdin (it sees the end of its input).
  void CloseStdin();
  // The next line of the child's stdout (without the newline), waiting at most `timeout`;
  // nullopt at the end of its output or when the time is up (a deadline, so that a test that
  // fails does not hang).
  std::optional<std::string> ReadLine(std::chrono::milliseconds timeout);
  // Everything left on stdout until the child closes it (bounded by `timeout`).
  std::string ReadRest(std::chrono::milliseconds timeout);
  // Waits for the child and returns its exit code (-1 if it did not exit normally).
  int Wait();
  // The child's stderr so far.
  std::string Err() const;

 private:
  TempDir dir_;
  pid_t pid_ = -1;
  int in_ = -1;   // the child's stdin (our end)
  int out_ = -1;  // the child's stdout (our end)
  std::string buf_;
  bool eof_ = false;
  int exit_code_ = -1;
  bool reaped_ = false;
};

}  // namespace tink::testing
