// TinkServer: runs `tink serve` as a child process for the server tests (tests/server/): starts
// it on a store with a loopback port chosen by the kernel (--listen 127.0.0.1:0) and a UNIX
// socket, waits (bounded) for its "listening on" line on stderr and parses the port from it,
// reads the token, and stops it with a signal and a bounded wait. stderr is drained by a thread
// for the whole life of the child, so a chatty server never blocks on a full pipe.
//
// Thread safety: Start/Signal/Wait/Kill from one thread; stderr_text() from any. The child gets
// SIGKILL when the thread that called Start exits (PR_SET_PDEATHSIG: no daemon outlives its
// test), so call Start from a thread that outlives the server (the test's main thread).
// The destructor SIGKILLs a child still running (with its process group) and reaps it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/http_client.h"

namespace tink::testing {

struct ServerOptions {
  std::string store;                   // --store
  std::string listen = "127.0.0.1:0";  // --listen; "" leaves the flag out
  std::string socket;                  // --socket; "" leaves it out
  std::vector<std::string> extra;      // more arguments, as they are
  std::chrono::milliseconds ready_timeout{30000};
};

class TinkServer {
 public:
  explicit TinkServer(std::string tink_bin);
  ~TinkServer();
  TinkServer(const TinkServer&) = delete;
  TinkServer& operator=(const TinkServer&) = delete;

  // Starts the server and waits for its "listening on" line. True when it is serving; false when
  // it exited first or did not say it listens in time (then `error()` says what, `exit_code()`
  // has its exit status if it exited, and the child is gone).
  bool Start(const ServerOptions& options);

  // Sends `sig` (e.g. SIGTERM). No-op when not running.
  void Signal(int sig);
  // Waits up to `timeout` for the child to exit; returns its exit code (128+N for a signal), or
  // -1 when it did not exit in time (it is then SIGKILLed and reaped, and -1 stays the answer).
  int Wait(std::chrono::milliseconds timeout);
  // SIGKILL and reap. Returns the exit status as Wait does.
  int Kill();

  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  int exit_code() const { return exit_code_; }
  const std::string& error() const { return error_; }
  const std::string& ready_line() const { return ready_line_; }
  std::string stderr_text() const;  // everything the child wrote to stderr so far

  uint16_t port() const { return port_; }
  const std::string& socket_path() const { return options_.socket; }
  const std::string& store() const { return options_.store; }
  HttpEndpoint tcp() const { return HttpEndpoint::Tcp("127.0.0.1", port_); }
  HttpEndpoint unix_socket() const { return HttpEndpoint::Unix(options_.socket); }
  // STORE/token, read after the start (trailing newline removed).
  const std::string& token() const { return token_; }
  HttpHeaders auth(HttpHeaders more = {}) const { return Bearer(token_, std::move(more)); }

 private:
  void Reap(int status);
  void JoinDrain();

  std::string bin_;
  ServerOptions options_;
  pid_t pid_ = -1;
  int exit_code_ = -1;
  int err_fd_ = -1;
  uint16_t port_ = 0;
  std::string token_;
  std::string error_;
  std::string ready_line_;
  mutable std::mutex mu_;
  std::string stderr_;  // guarded by mu_
  std::thread drain_;
};

}  // namespace tink::testing
