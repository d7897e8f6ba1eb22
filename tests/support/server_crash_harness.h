// ServerCrashHarness: kill -9 of `tink serve` under load, round after round on one store. Each
// round starts the daemon (which recovers the store the last kill left), checks the log through
// GET /v1/events, then runs client threads that append batches (1-3 events, every event with an
// id, over keep-alive connections on TCP and the UNIX socket) and record each acknowledgement
// (200 with LSNs); once enough appends were acknowledged (in one round of four a random smaller
// number, possibly none), or a time bound passed, plus a random few milliseconds, the daemon gets
// SIGKILL. Clients also re-send, as a client that lost its answer would, batches whose fate an
// earlier kill left unknown and batches acknowledged before.
//
// The check at the start of every round and in Finish:
//  - lost: every acknowledged id is in the log at its acknowledged LSN;
//  - duplicated: no id is in the log twice;
//  - retry_mismatch: a re-sent batch that is in the log is answered "duplicate":true with the
//    LSNs it has there, one that is not is written anew (duplicate false);
//  - the log is gapless from LSN 1, every event is one a client sent (its data.text is its id,
//    its stream the client's), and every batch is in the log whole and contiguous, or not at all;
//  - unstable_follows: every event a follower (GET /v1/events?follow=1, open during the round)
//    was shown is in the log at the LSN it was shown with: a follower only sees durable events.
// Finish starts the daemon once more, checks, stops it with SIGTERM (exit 0 expected), then runs
// `tink verify` and `tink replay --check` on the store (exit 0 expected).
//
// Not thread-safe; run from the test's main thread (the client threads are its own).
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "support/http_client.h"

namespace tink::testing {

struct ServerCrashOptions {
  std::string tink_bin;
  int clients = 8;             // client threads appending
  int min_acks = 150;          // kill once this many batches were acknowledged in the round...
  int max_round_ms = 4000;     // ...or after this long, whichever comes first
  int max_extra_kill_ms = 25;  // plus 0..N ms, so the kill lands at varied moments
  int resends_per_round = 12;  // re-sends of batches acknowledged before (besides unknown ones)
};

struct ServerCrashRound {
  uint64_t acked = 0;           // events acknowledged this round (first sends and re-sends)
  uint64_t resent = 0;          // batches re-sent this round
  uint64_t duplicate_acks = 0;  // of which answered as duplicates
  uint64_t lost = 0;
  uint64_t duplicated = 0;
  uint64_t retry_mismatch = 0;
  uint64_t followed = 0;              // events a follower was shown this round
  uint64_t unstable_follows = 0;      // events a follower was shown that a restart did not keep
  uint64_t last_lsn = 0;              // of the log at the check
  int exit_code = -1;                 // Finish: the daemon's exit code after SIGTERM
  std::vector<std::string> problems;  // one line each
  std::string fatal;                  // the round could not run or be checked
  bool ok() const {
    return fatal.empty() && problems.empty() && lost == 0 && duplicated == 0 &&
           retry_mismatch == 0 && unstable_follows == 0;
  }
  std::string Describe() const;
};

class ServerCrashHarness {
 public:
  // `store` is the daemon's store (created by the first round); `work_dir` holds its socket.
  ServerCrashHarness(std::string store, std::string work_dir, uint32_t seed,
                     ServerCrashOptions options);

  ServerCrashRound RunRound();
  ServerCrashRound Finish();

  uint64_t acked_ids() const { return acked_.size(); }

 private:
  struct Batch {
    std::vector<std::string> ids;
    std::string stream;
    std::string body;  // JSONL
  };
  struct Resend {
    Batch batch;
    std::vector<uint64_t> want_lsns;  // the LSNs it has in the log; empty when it is not there
  };

  // Checks the log (see the header comment); fills `in_log` with id -> LSN.
  void Check(const HttpEndpoint& ep, const std::string& token, ServerCrashRound* r,
             std::map<std::string, uint64_t>* in_log);
  Batch NewBatch(int client);

  std::string store_;
  std::string work_dir_;
  ServerCrashOptions options_;
  std::mt19937 rng_;
  int round_ = 0;
  uint64_t next_batch_ = 0;
  std::map<std::string, uint64_t> acked_;        // every id ever acknowledged, with its LSN
  std::map<std::string, Batch> batches_;         // every batch ever sent, by its first id
  std::map<std::string, std::string> batch_of_;  // id -> first id of its batch
  std::vector<Batch> unknown_;                   // sent, no answer (the kill came first)
  std::vector<Batch> acked_batches_;             // acknowledged, for re-sends
  std::map<uint64_t, std::string> followed_;     // LSN -> id, as a follower was shown them
};

}  // namespace tink::testing
