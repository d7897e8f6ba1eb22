// CrashHarness: a child process appends to a log with durability `always` from several threads
// and reports every acknowledged (LSN, payload) through a pipe; the parent SIGKILLs it at a
// random moment, reopens the log and checks every acknowledged event is there, intact, in order,
// gapless. Cycles accumulate in one directory, so each one also recovers the previous tail.
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <string>

namespace tink::testing {

struct CrashCycle {
  uint64_t acked_this_cycle = 0;
  uint64_t lost = 0;          // acknowledged but missing or different after reopen
  uint64_t last_lsn = 0;
  bool torn_tail = false;     // the reopen cut a torn tail
  std::string error;          // reopen or read failure; empty when fine
};

class CrashHarness {
 public:
  CrashHarness(std::string dir, uint32_t seed) : dir_(std::move(dir)), rng_(seed) {}
  // One fork/append/kill/reopen/check cycle; kill after 5..max_kill_ms milliseconds.
  CrashCycle RunCycle(int threads = 4, int max_kill_ms = 200);
  uint64_t total_acked() const { return acked_.size(); }

 private:
  std::string dir_;
  std::mt19937 rng_;
  std::map<uint64_t, std::string> acked_;  // every LSN ever acknowledged, with its payload
  int cycle_ = 0;
};

}  // namespace tink::testing
