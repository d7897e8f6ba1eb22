// Shared pieces of the `tink exec` tests: running tink on a test store, reading its events back.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/run_command.h"
#include "support/temp_dir.h"

namespace tink::exectest {

using nlohmann::json;
using testing::CommandResult;
using testing::RunCommand;
using testing::ShellQuote;

// Waits up to `seconds` for pred(); false if it never held.
template <typename Pred>
bool WaitFor(Pred pred, double seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

// A process that no longer runs: gone, or a zombie nobody reaps (a container's init may not).
inline bool ProcessGone(pid_t pid) {
  if (::kill(pid, 0) != 0) return true;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  const size_t paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z';
}

class ExecTestBase {
 public:
  ExecTestBase() : store_(tmp_.Sub("store")) {}

  // `tink ARGS` with the test store (and `env` before it, e.g. "FOO=1 ").
  CommandResult Tink(const std::string& args, const std::string& env = "") {
    return RunCommand(env + TINK_BIN + " --store " + ShellQuote(store_) + " " + args);
  }
  // Every event of the store as JSON (optionally of one run).
  std::vector<json> Events(const std::string& run = "") {
    CommandResult r = Tink("log --json" + (run.empty() ? "" : " --run " + ShellQuote(run)));
    std::vector<json> out;
    std::istringstream in(r.out);
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty()) out.push_back(json::parse(line));
    }
    return out;
  }
  static std::vector<json> OfType(const std::vector<json>& events, const std::string& type) {
    std::vector<json> out;
    for (const json& e : events) {
      if (e["type"] == type) out.push_back(e);
    }
    return out;
  }
  // The summary line `tink exec --json` prints last on stderr.
  static json Summary(const CommandResult& r) {
    const std::string& err = r.err;
    size_t end = err.size();
    while (end > 0 && err[end - 1] == '\n') --end;
    const size_t start = err.rfind('\n', end - 1);
    const std::string line = err.substr(start == std::string::npos ? 0 : start + 1,
                                        end - (start == std::string::npos ? 0 : start + 1));
    return json::parse(line, nullptr, false);
  }

 protected:
  testing::TempDir tmp_;
  std::string store_;
};

}  // namespace tink::exectest
