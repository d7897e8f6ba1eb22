// CrashHarness: a child process appends to a log with durability `always` from several threads
// and reports every acknowledged (LSN, payload) through a pipe; the parent SIGKILLs it at a
// random moment, reopens the log and checks every acknowledged event is there, intact, in order,
// gapless, and that every record on disk is one the child wrote (no garbage, no duplicate, each
// thread's appends in order without holes), and VerifyLog finds nothing wrong. Cycles accumulate
// in one directory, so each one also recovers the previous cycle's tail.
//
// Forks: call RunCycle only while the calling process has no other threads.
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
  std::string error;          // reopen, read or check failure; empty when fine
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
  uint64_t base_lsn_ = 0;  // records up to here predate this harness (a reused --dir)
};

}  // namespace tink::testing
