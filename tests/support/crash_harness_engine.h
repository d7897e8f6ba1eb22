// EngineCrashHarness: the kill -9 stress at the engine level. Each cycle starts a child process
// (a fresh exec of a program that calls EngineCrashChildMain) that opens the store with
// engine::Engine (kWrite, durability always, projections and the tail thread on) and appends the
// agent workload of crash_harness_engine_workload.h from several writer threads, every event with
// a client id. A retry thread re-sends batches with the same ids, as a client that lost its ack
// would: batches a writer has in flight at that moment, batches already acknowledged in this
// child, and batches of earlier cycles (the parent names them: every batch whose fate a kill left
// unknown, and a sample of acknowledged ones). Writers also re-send some of their own batches
// right after the ack. Every acknowledgement goes to the parent through a pipe as one line.
//
// The parent SIGKILLs the child after a random 5..max_kill_ms milliseconds, counted from the
// fork in one cycle of four (so those kills often land in the child's open: log recovery,
// projection catch-up) and from the end of the child's open in the others; reopens the store with
// Engine::Open (kWrite) and checks:
//  - lost: every acknowledged id is in the log at its acknowledged LSN;
//  - duplicated: no id is in the log twice;
//  - retry_mismatch: every acknowledgement of an id (first send or re-send) named the same LSN,
//    and a re-send of an acknowledged batch came back as a duplicate;
//  - every record is an event some child sent (its id names a batch of the workload; the event
//    is the one of that batch), each batch whole and contiguous, LSNs gapless;
//  - the open reset no projection state and left the projections at the head of the log;
//  - replay_mismatch: Engine::Check finds every projection equal to a fresh replay; every
//    `replay_every` cycles Engine::Replay rebuilds all projections in place, and their digests
//    must equal the ones before the rebuild;
//  - VerifyStore (log::VerifyLog) reports nothing after the engine is closed.
// Cycles accumulate in one store.
//
// Forks and execs: call RunCycle only from a process that can fork (the child is a new exec, so
// the parent's threads, e.g. RocksDB's pool, do not matter).
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "support/crash_harness_engine_workload.h"

namespace tink::testing {

struct EngineCrashOptions {
  std::string child_program;          // exec'd as: child_program --engine-child ARGS...
  int threads = 3;                    // writer threads in the child (plus one retry thread)
  int max_kill_ms = 100;              // kill after 5..max_kill_ms ms
  uint64_t segment_size = 256 << 10;  // small: rollovers under load, cheap reopen
  int replay_every = 10;              // run Engine::Replay every N cycles (0: never)
  int check_every = 1;                // run Engine::Check every N cycles (and at a replay)
  // The retry thread also re-sends batches that writers have in flight (the concurrent
  // duplicate of an append not yet durable). Off only to measure the rest without them.
  bool inflight_resends = true;
};

struct EngineCrashCycle {
  uint64_t acked = 0;            // acknowledgements received this cycle (events)
  uint64_t resends = 0;          // of which re-sends of ids sent before (events)
  uint64_t duplicate_acks = 0;   // acknowledgements that came back as duplicates (events)
  uint64_t lost = 0;             // acknowledged ids missing, or at another LSN
  uint64_t lost_dup_only = 0;    // of which only ever acknowledged as duplicates (see .cc)
  uint64_t duplicated = 0;       // ids in the log more than once
  uint64_t retry_mismatch = 0;   // acknowledgements of one id with different LSNs
  uint64_t replay_mismatch = 0;  // projections whose state differs from a fresh replay
  bool checked = false;          // Engine::Check ran this cycle
  bool replayed = false;         // Engine::Replay ran this cycle
  bool torn_tail = false;        // the reopen cut a torn tail
  bool killed_in_open = false;   // the child died before its Engine::Open returned
  uint64_t last_lsn = 0;
  std::vector<std::string> problems;  // one line each: what was wrong (counted or not)
  std::string fatal;                  // the cycle could not be run or checked at all
  bool ok() const {
    return fatal.empty() && problems.empty() && lost == 0 && duplicated == 0 &&
           retry_mismatch == 0 && replay_mismatch == 0;
  }
};

class EngineCrashHarness {
 public:
  EngineCrashHarness(std::string store, uint32_t seed, EngineCrashOptions options);
  EngineCrashCycle RunCycle();
  uint64_t cycles() const { return cycle_; }
  uint64_t acked_ids() const { return acked_.size(); }

 private:
  struct Ack {
    uint64_t lsn = 0;
    uint64_t cycle = 0;
    char how = 'W';      // how the first acknowledgement came (the child's W/S/I/P/X)
    bool fresh = false;  // at least one acknowledgement that was not a duplicate
    bool lost = false;   // already counted as lost
  };
  std::string RunChild(std::string& out, bool& killed_in_open);
  void Absorb(const std::string& out, EngineCrashCycle& r);
  void CheckStore(EngineCrashCycle& r);
  bool ReadNewRecords(engine::Engine& e, EngineCrashCycle& r);

  std::string store_;
  EngineCrashOptions opt_;
  std::mt19937 rng_;
  std::string tag_;  // id prefix of this harness run
  uint64_t cycle_ = 0;
  uint64_t base_lsn_ = 0;                              // records up to here predate this harness
  uint64_t read_lsn_ = 0;                              // records up to here are in present_
  std::string last_id_;                                // the id of the record at read_lsn_
  std::unordered_map<std::string, uint64_t> present_;  // id -> LSN of every record read
  std::unordered_map<std::string, Ack> acked_;
  // Batches whose fate a kill left unknown, and acknowledged batches found lost: the next child
  // re-sends them first, in this order.
  std::set<engine_crash::BatchKey> unknown_;
  std::vector<engine_crash::BatchKey> acked_batches_;  // a sample to re-send later
};

// The child: argv[0] is ignored, argv[1] == "--engine-child". Never returns.
[[noreturn]] void EngineCrashChildMain(int argc, char** argv);

}  // namespace tink::testing
