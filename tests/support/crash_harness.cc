#include "crash_harness.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "log/log.h"

namespace tink::testing {
namespace {

[[noreturn]] void ChildMain(const std::string& dir, int fd, int cycle, int threads) {
  log::LogOptions o;
  o.segment_size = 256 << 10;  // small, so kills also land during rollovers
  // Checkpoints every few KiB, so kills also land between a sync and its checkpoint; every other
  // cycle the writer resumes from the checkpoint instead of scanning (its seal then hashes the
  // segment from the file, which verify checks).
  o.checkpoint_bytes = 8 << 10;
  o.writer_scans_active_segment = cycle % 2 == 0;
  auto opened = log::Log::Open(dir, o);
  if (!opened.ok()) _exit(3);
  log::Log& lg = **opened;
  std::mutex mu;
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      std::mt19937 rng(cycle * 131 + t);
      for (int i = 0;; ++i) {
        std::string p = "c" + std::to_string(cycle) + "-t" + std::to_string(t) + "-" +
                        std::to_string(i) + "-";
        p.resize(p.size() + rng() % 400, static_cast<char>('a' + rng() % 26));
        auto r = lg.Append(p);
        if (!r.ok()) _exit(4);
        // Only now is it acknowledged; one write() of < PIPE_BUF bytes is atomic.
        const std::string line = std::to_string(r->first_lsn) + " " + p + "\n";
        std::lock_guard<std::mutex> l(mu);
        if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(5);
      }
    });
  }
  for (auto& t : ts) t.join();
  _exit(0);
}

}  // namespace

CrashCycle CrashHarness::RunCycle(int threads, int max_kill_ms) {
  CrashCycle result;
  if (cycle_ == 0 && std::filesystem::exists(dir_)) {
    log::LogOptions ro;
    ro.read_only = true;
    auto prior = log::Log::Open(dir_, ro);
    if (!prior.ok()) {
      result.error = "existing log does not open: " + prior.status().ToString();
      return result;
    }
    base_lsn_ = (*prior)->LastLsn();
  }
  ++cycle_;
  int fds[2];
  if (::pipe(fds) != 0) {
    result.error = "pipe failed";
    return result;
  }
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    ChildMain(dir_, fds[1], cycle_, threads);
  }
  ::close(fds[1]);
  std::uniform_int_distribution<int> delay(5, max_kill_ms);
  std::string reported;
  // Read while the child runs (a full pipe would stall it), then kill it.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(delay(rng_));
  char buf[65536];
  while (std::chrono::steady_clock::now() < deadline) {
    fd_set set;
    FD_ZERO(&set);
    FD_SET(fds[0], &set);
    struct timeval tv = {0, 1000};
    if (::select(fds[0] + 1, &set, nullptr, nullptr, &tv) > 0) {
      const ssize_t n = ::read(fds[0], buf, sizeof(buf));
      if (n <= 0) break;
      reported.append(buf, static_cast<size_t>(n));
    }
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof(buf))) > 0;) {
    reported.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
    result.error = "child failed with exit code " + std::to_string(WEXITSTATUS(status));
    return result;
  }

  std::istringstream in(reported);
  std::string line;
  while (std::getline(in, line)) {
    const size_t sp = line.find(' ');
    if (sp == std::string::npos) continue;
    acked_[std::stoull(line.substr(0, sp))] = line.substr(sp + 1);
    ++result.acked_this_cycle;
  }

  log::RecoveryReport rep;
  log::LogOptions ro;
  ro.read_only = true;  // check what is on disk without changing it; the next cycle repairs
  auto opened = log::Log::Open(dir_, ro, &rep);
  if (!opened.ok()) {
    result.error = "reopen failed: " + opened.status().ToString();
    return result;
  }
  result.torn_tail = rep.torn_tail;
  std::map<uint64_t, std::string> on_disk;
  std::map<std::pair<int, int>, int> next_i;  // (cycle, thread) -> next expected append index
  uint64_t expect = 1;
  auto it = (*opened)->NewIterator(1);
  for (; it->Valid(); it->Next()) {
    const log::LogRecord& r = it->record();
    if (r.lsn != expect++) {
      result.error = "gap before LSN " + std::to_string(r.lsn);
      return result;
    }
    if (r.lsn <= base_lsn_) continue;
    on_disk[r.lsn] = std::string(r.payload);
    int c = 0, t = 0, i = 0, n = 0;
    const std::string p(r.payload);
    if (std::sscanf(p.c_str(), "c%d-t%d-%d-%n", &c, &t, &i, &n) != 3 || n == 0 ||
        p.find_first_not_of(p.size() > static_cast<size_t>(n) ? p[n] : 'a', n) !=
            std::string::npos) {
      result.error = "LSN " + std::to_string(r.lsn) + " holds a payload the child never wrote";
      return result;
    }
    // Each thread appends its next record only after the previous one was acknowledged.
    int& want = next_i[{c, t}];
    if (i != want) {
      result.error = "LSN " + std::to_string(r.lsn) + ": thread " + std::to_string(t) +
                     " of cycle " + std::to_string(c) + " append " + std::to_string(i) +
                     " where " + std::to_string(want) + " was expected";
      return result;
    }
    ++want;
  }
  if (!it->status().ok()) {
    result.error = "read failed: " + it->status().ToString();
    return result;
  }
  result.last_lsn = expect - 1;
  for (const auto& [lsn, payload] : acked_) {
    auto f = on_disk.find(lsn);
    if (f == on_disk.end() || f->second != payload) ++result.lost;
  }
  opened->reset();
  auto v = log::VerifyLog(dir_);
  if (!v.ok() || !v->clean()) {
    result.error = "verify: " + (v.ok() ? v->problems[0].segment + " offset " +
                                              std::to_string(v->problems[0].offset) + ": " +
                                              v->problems[0].what
                                        : v.status().ToString());
  }
  return result;
}

}  // namespace tink::testing
