// The engine-backed Provider (query.h): the eight sources and the domain verbs over an open
// engine::Engine — the log through Engine::Scan, the projections through one StateReader
// snapshot per query (scheduler, canvas, memory).
//
// Sources (fields: sources.cc, docs/shell.md):
//   events     without an index or a time bound, read from the log through one iterator a record
//              at a time; else streamed from Engine::Scan in chunks of `Options::event_chunk`
//              rows; never the whole log in memory. A count or group by over a large log runs
//              on LSN slices in parallel (Split). Pushdown: stream/type/run == literal -> the engine's index;
//              lsn == N -> one record; as of P -> lsn <= P; between A and B -> LSN or record-time
//              range (inclusive).
//   runs tasks files nodes edges anomalies
//              read from the projections as of a point (LSN, time via the times index, now = the
//              projection's applied LSN). Pushdown: run == R (runs, tasks, files, anomalies),
//              id == "run/task" (tasks), path == P (files), id == X (nodes, edges), src == X or
//              dst == X (edges), projection == X (anomalies). The executor still applies the
//              whole filter; anything else (state == "failed", ...) it filters alone.
//   segments   the log's segments (no as of).
//
// Verbs (RunVerb; semantics in verbs.cc, why.cc and runs_verbs.cc): timeline why history diff
// blame neighbors path divergence (diff with two runs: runs_verbs.cc). A user mistake (unknown run/task/node/path, a task that did not fail, no path)
// comes back as NotFound or InvalidArgument with one line saying what; anything else is the
// store's own failure.
//
// Ownership and lifetime: the Provider borrows `engine`, which must outlive it; a stream it
// opened must not outlive the Provider. Thread safety: one thread (query.h). Consistency: a
// projection source is read whole at Open from one StateReader snapshot (bounded by the state,
// not the log; tasks, nodes and edges become rows only as they are pulled); an events stream
// reads up to the log's last LSN at Open, so appends made while it
// runs are not seen. Cancellation: every stream checks `cancel` before each row (and while an
// events chunk is being filled) and then fails with Cancelled().
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "shell/query/query.h"

namespace tink::query {

class EngineProvider final : public Provider {
 public:
  struct Options {
    // Rows of `events` fetched per Engine::Scan call: the most an events stream holds at once.
    size_t event_chunk = 4096;
    // Split: an events scan of fewer LSNs than this is not split.
    uint64_t split_min_events = 1 << 16;
  };
  // Counters for tests and `.timer`-style diagnostics.
  struct Stats {
    uint64_t event_scans = 0;         // Engine::Scan calls made by events streams
    uint64_t event_max_buffered = 0;  // the largest chunk an events stream held
    std::string last_index;           // the index the last events scan used ("" = the log)
  };

  explicit EngineProvider(engine::Engine* engine) : EngineProvider(engine, Options()) {}
  EngineProvider(engine::Engine* engine, Options options);
  ~EngineProvider() override;

  Result<std::unique_ptr<RowStream>> Open(const ScanRequest& req, const Cancel* cancel) override;
  Result<VerbResult> RunVerb(const VerbCall& call, const Cancel* cancel) override;
  std::vector<std::string> CompletionIds(std::string_view prefix, size_t limit) override;
  // events read straight from the log (no stream/type/run index, no time bound) with at least
  // Options::split_min_events LSNs: `parts` equal LSN slices, bounded by the head at this call.
  std::vector<ScanRequest> Split(const ScanRequest& req, size_t parts) override;

  const Stats& stats() const { return stats_; }

 private:
  engine::Engine* engine_;
  Options options_;
  Stats stats_;  // updated by the events streams
};

}  // namespace tink::query
