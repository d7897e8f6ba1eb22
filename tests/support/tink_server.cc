#include "tink_server.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <regex>

#include "support/run_command.h"

namespace tink::testing {
namespace {

using Clock = std::chrono::steady_clock;

int StatusToCode(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

TinkServer::TinkServer(std::string tink_bin) : bin_(std::move(tink_bin)) {}

TinkServer::~TinkServer() {
  if (running()) Kill();
  JoinDrain();
  if (err_fd_ >= 0) ::close(err_fd_);
}

std::string TinkServer::stderr_text() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stderr_;
}

void TinkServer::JoinDrain() {
  if (drain_.joinable()) drain_.join();
}

void TinkServer::Reap(int status) {
  exit_code_ = StatusToCode(status);
  pid_ = -1;
  // The child is gone, so its end of the pipe is closed (unless it left descendants holding it:
  // tink serve starts none) and the drain thread reaches EOF.
  JoinDrain();
  if (err_fd_ >= 0) {
    ::close(err_fd_);
    err_fd_ = -1;
  }
}

bool TinkServer::Start(const ServerOptions& options) {
  if (running()) Kill();
  JoinDrain();
  options_ = options;
  error_.clear();
  ready_line_.clear();
  token_.clear();
  port_ = 0;
  exit_code_ = -1;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stderr_.clear();
  }
  std::vector<std::string> args = {bin_, "serve", "--store", options.store};
  if (!options.listen.empty()) {
    args.push_back("--listen");
    args.push_back(options.listen);
  }
  if (!options.socket.empty()) {
    args.push_back("--socket");
    args.push_back(options.socket);
  }
  args.insert(args.end(), options.extra.begin(), options.extra.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    error_ = "pipe2 failed";
    return false;
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    error_ = "fork failed";
    return false;
  }
  if (pid == 0) {
    // Only async-signal-safe calls until exec. The child gets no descriptor but 0, 1, 2: a test's
    // client sockets inherited by the server would keep connections open after the test closes
    // them.
    // Its own process group, so Kill reaches whatever it starts (a wrapper script's child), and
    // SIGKILL when the test dies, so no daemon outlives a crashed or killed test.
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    const int devnull = ::open("/dev/null", O_RDWR);
    ::dup2(devnull, 0);
    ::dup2(devnull, 1);
    ::dup2(fds[1], 2);
    ::close_range(3, ~0U, 0);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  ::setpgid(pid, pid);  // also here: Kill may come before the child ran its setpgid
  pid_ = pid;
  err_fd_ = fds[0];

  // Read stderr until the "listening on" line, the child's exit (EOF) or the deadline.
  const auto deadline = Clock::now() + options.ready_timeout;
  std::string seen;
  bool eof = false;
  for (;;) {
    // The ready line starts a line (an error such as "tink serve: listening on X: address in
    // use" would not be followed by serving, but it may not start a line either: be exact).
    size_t at = seen.rfind("tink serve: listening on ", 0) == 0 ? 0 : std::string::npos;
    if (at == std::string::npos) {
      at = seen.find("\ntink serve: listening on ");
      if (at != std::string::npos) ++at;
    }
    if (at != std::string::npos) {
      const size_t nl = seen.find('\n', at);
      if (nl != std::string::npos) {
        ready_line_ = seen.substr(at, nl - at);
        break;
      }
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0 || eof) break;
    pollfd p{err_fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[4096];
    const ssize_t n = ::read(err_fd_, buf, sizeof buf);
    if (n <= 0) {
      eof = true;
      continue;
    }
    seen.append(buf, static_cast<size_t>(n));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    stderr_ = seen;
  }
  drain_ = std::thread([this, fd = err_fd_] {
    char buf[4096];
    for (;;) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) return;
      std::lock_guard<std::mutex> lock(mu_);
      stderr_.append(buf, static_cast<size_t>(n));
    }
  });

  if (ready_line_.empty()) {
    if (eof) {
      const int code = Wait(std::chrono::milliseconds(10000));
      error_ = "tink serve exited with " + std::to_string(code) +
               " before saying it listens; stderr: " + stderr_text();
    } else {
      Kill();
      error_ = "tink serve did not say it listens within " +
               std::to_string(options.ready_timeout.count()) + " ms; stderr: " + stderr_text();
    }
    return false;
  }
  if (!options.listen.empty() && options.listen != "none") {
    static const std::regex kPort(R"(http://[^\s:/]+:([0-9]+))");
    std::smatch m;
    if (!std::regex_search(ready_line_, m, kPort)) {
      error_ = "no port in the ready line: " + ready_line_;
      Kill();
      return false;
    }
    port_ = static_cast<uint16_t>(std::stoi(m[1].str()));
  }
  token_ = ReadFile(options.store + "/token");
  while (!token_.empty() && (token_.back() == '\n' || token_.back() == '\r')) token_.pop_back();
  return true;
}

void TinkServer::Signal(int sig) {
  if (running()) ::kill(pid_, sig);
}

int TinkServer::Wait(std::chrono::milliseconds timeout) {
  if (!running()) return exit_code_;
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      Reap(status);
      return exit_code_;
    }
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  Kill();
  exit_code_ = -1;
  return -1;
}

int TinkServer::Kill() {
  if (!running()) return exit_code_;
  ::kill(-pid_, SIGKILL);
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  Reap(status);
  return exit_code_;
}

}  // namespace tink::testing
