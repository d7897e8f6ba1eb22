// The write-ahead log: the system of record. Knows records (opaque payload bytes with an LSN, a
// recorded time and a checksum), not events. Format: log/format.h and docs/log-format.md.
//
// Thread safety: Log is thread-safe. Any number of threads may Append concurrently; appends are
// handed to one writer thread that commits them in groups (one write and, in kAlways, one
// fdatasync per group). Iterators may run concurrently with appends and only see complete records
// that are durable per the sync mode.
//
// Errors: a failed write or fsync puts the log into a sticky failed state: every later Append
// returns Status::Failed and nothing is retried. Reopen to recover. Open returns Corruption
// (naming segment, offset and LSN) when a bad record is followed by valid ones.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "log/file_system.h"
#include "log/format.h"
#include "schema/status.h"

namespace tink::log {

// When an append is acknowledged, relative to fdatasync.
struct Durability {
  enum class Mode { kAlways, kInterval, kNone };
  Mode mode = Mode::kAlways;
  std::chrono::milliseconds interval{0};  // kInterval only

  // Parses "always", "interval=<ms>" or "none".
  static Result<Durability> Parse(std::string_view text);
  std::string ToString() const;
};

struct LogOptions {
  FileSystem* fs = nullptr;  // nullptr: FileSystem::Default()
  Durability durability;
  uint64_t segment_size = kDefaultSegmentSize;    // soft: a larger batch still fits one segment
  uint32_t max_record_size = kDefaultMaxRecordSize;
  // Read-only: no writer thread, nothing on disk is changed; a torn tail is reported, not cut.
  bool read_only = false;
  // Called with (bytes_done, bytes_total) during long scans (open, verify); may be empty.
  std::function<void(uint64_t, uint64_t)> progress;
  // The clock that times interval syncs; empty: std::chrono::steady_clock. For tests.
  std::function<std::chrono::steady_clock::time_point()> clock;
  // The writer rewrites STORE/log/checkpoint (docs/log-format.md "Checkpoint") after a sync once
  // this many bytes of the active segment were synced since the last one, and on Close; an open
  // then scans only the active segment's records after it. 0: never (every open scans the
  // whole active segment). For tests.
  uint64_t checkpoint_bytes = kDefaultCheckpointBytes;
  // A writable open scans the whole active segment, checkpoint or not: it is about to extend
  // that segment and seal it under a footer whose checksum vouches for every byte, so damage
  // anywhere in it makes the open refuse (Corruption). false: a writer resumes from the
  // checkpoint like a reader (damage before it is then found by readers and `tink verify`).
  bool writer_scans_active_segment = true;
  // Called by the writer thread after each group commit with the group's records and bytes
  // (metrics: group sizes). Must be quick and must not call back into the log.
  std::function<void(uint64_t records, uint64_t bytes)> on_commit;
};

// What the writer has done since Open (monotonic; for metrics).
struct LogCounters {
  uint64_t groups = 0;   // group commits (one write each)
  uint64_t records = 0;  // records written
  uint64_t bytes = 0;    // bytes written (records and end marks)
  uint64_t syncs = 0;    // successful fdatasyncs of segments
};

// What Open found and did at the tail.
struct RecoveryReport {
  bool torn_tail = false;
  std::string segment;        // file name of the segment with the torn tail
  uint64_t offset = 0;        // where the torn tail began (and the log now ends)
  uint64_t bytes_dropped = 0; // non-zero bytes discarded (or, read-only, ignored)
  Lsn last_lsn = 0;
  // Read-only opens only (a writable open refuses with this status instead): corruption in the
  // active segment, naming segment, offset and LSN range. Readers see every record before it.
  // A writer appending at that moment can make a read-only open see a write in progress, so
  // the engine reports it only when no writer holds the store.
  Status damage;
  std::string ToString() const;
};

struct AppendResult {
  Lsn first_lsn = 0;
  Lsn last_lsn = 0;
  int64_t time_ns = 0;  // recorded time of the first record
};

struct LogRecord {
  Lsn lsn = 0;
  int64_t time_ns = 0;
  std::string_view payload;  // valid until the iterator moves
  std::string_view segment;  // file name of its segment (valid while the iterator lives)
  uint64_t offset = 0;       // of its record header in that segment
};

class LogIterator {
 public:
  virtual ~LogIterator() = default;
  virtual bool Valid() const = 0;
  virtual const LogRecord& record() const = 0;
  virtual void Next() = 0;
  // Ok at a clean end; Corruption naming segment, offset and LSN if a bad record was met (the
  // iterator is then no longer Valid and no record past the bad one is returned).
  virtual Status status() const = 0;
};

struct SegmentInfo {
  std::string name;
  Lsn first_lsn = 0;
  Lsn last_lsn = 0;  // first_lsn - 1 when empty
  uint64_t bytes = 0;  // bytes of header and records (excluding preallocated space)
  bool sealed = false;
};

struct LogStats {
  uint64_t records = 0;
  Lsn first_lsn = 0;  // 0 when empty
  Lsn last_lsn = 0;
  int64_t first_time_ns = 0;
  int64_t last_time_ns = 0;
  uint64_t bytes = 0;
  std::vector<SegmentInfo> segments;
};

namespace internal {
class LogImpl;
struct AppendRequest;
}  // namespace internal

// A batch queued by Log::Submit. Its LSNs are reserved at submission, in submission order (a
// later Submit always gets higher LSNs), so a caller can decide under its own lock what to
// submit (stream versions, id dedupe) and wait for durability outside it. The payload bytes must
// stay valid until Wait returns. The destructor waits if Wait was not called.
class PendingAppend {
 public:
  ~PendingAppend();
  PendingAppend(const PendingAppend&) = delete;
  PendingAppend& operator=(const PendingAppend&) = delete;
  Lsn first_lsn() const;
  Lsn last_lsn() const;
  // Blocks until acknowledged per the durability mode (or failed). Call at most once.
  Result<AppendResult> Wait();

 private:
  friend class Log;
  PendingAppend(internal::LogImpl* log, std::unique_ptr<internal::AppendRequest> req);
  internal::LogImpl* log_;
  std::unique_ptr<internal::AppendRequest> req_;
  bool waited_ = false;
};

class Log {
 public:
  // Opens (or creates) the log in `dir`. Scans the active segment, truncates a torn tail (unless
  // read_only) and reports it in *report when given. Corruption if a bad record is followed by
  // valid ones, or a segment belongs to another store.
  static Result<std::unique_ptr<Log>> Open(const std::string& dir, LogOptions options,
                                           RecoveryReport* report = nullptr);
  ~Log();  // Close()s if not closed.
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  // Appends payloads as one atomic batch with consecutive LSNs: after a crash either all of them
  // are in the log or none. Blocks until acknowledged per the durability mode. InvalidArgument
  // for an empty batch or a payload over max_record_size; Failed after an earlier I/O error.
  Result<AppendResult> Append(std::span<const std::string_view> payloads);
  Result<AppendResult> Append(std::string_view payload);
  // Append in two steps: queue now (same checks as Append), wait later. See PendingAppend.
  Result<std::unique_ptr<PendingAppend>> Submit(std::span<const std::string_view> payloads);

  // Makes everything appended so far durable (fdatasync), whatever the mode.
  Status Sync();

  // Iterates records with lsn >= from, up to the last visible record at each step.
  std::unique_ptr<LogIterator> NewIterator(Lsn from);

  // The last visible (acknowledged) LSN; 0 when empty.
  Lsn LastLsn() const;
  // Blocks until LastLsn() >= lsn or the timeout passes; returns whether it got there.
  bool WaitFor(Lsn lsn, std::chrono::milliseconds timeout);
  // Blocks until the record at `lsn` (already submitted) is acknowledged per the durability
  // mode: Ok then; the sticky error if the log failed first (the record may never be durable);
  // Failed if the log was closed first.
  Status WaitAcknowledged(Lsn lsn);
  // The first LSN whose record time is >= time_ns (LastLsn()+1 if none), via the time index.
  Lsn LsnAtTime(int64_t time_ns);

  // Read-only logs: picks up what another process appended since Open (or the last Refresh):
  // re-reads the unsealed segment and any new ones. No-op for a writer. Call from one thread.
  Status Refresh();

  LogStats Stats() const;
  LogCounters counters() const;
  // The sticky error, ok while the log is healthy.
  Status status() const;
  const std::string& store_id_hex() const;

  // Drains pending appends, syncs, stops the writer thread. Idempotent.
  Status Close();

 private:
  explicit Log(std::unique_ptr<internal::LogImpl> impl);
  std::unique_ptr<internal::LogImpl> impl_;
};

// One problem found by VerifyLog.
struct VerifyProblem {
  std::string segment;
  uint64_t offset = 0;
  Lsn lsn = 0;  // the LSN expected at that place
  std::string what;
  Lsn last_lsn = 0;  // when known, the last LSN of the damaged write (lsn..last_lsn affected)
};

struct VerifyReport {
  uint64_t records = 0;
  uint64_t segments = 0;
  uint64_t bytes = 0;
  Lsn first_lsn = 0;
  Lsn last_lsn = 0;
  bool torn_tail = false;  // a torn tail is not corruption: the next writer truncates it
  RecoveryReport tail;
  std::vector<VerifyProblem> problems;  // empty: clean
  bool clean() const { return problems.empty(); }
};

// Reads every byte of every segment: header, store id, checksums, hash chain, LSN continuity,
// footers and their indexes. Never changes anything. Only I/O failures come back as an error
// status; corruption is in the report.
// `writer_active`, when given, says whether a writer may be appending right now: then damage
// seen at the end of the last segment is re-read until it is stable (a write in progress looks
// like damage for a moment) before it is reported.
Result<VerifyReport> VerifyLog(const std::string& dir, FileSystem* fs = nullptr,
                               const std::function<void(uint64_t, uint64_t)>& progress = {},
                               const std::function<bool()>& writer_active = {});

// Removes every record with lsn >= lsn (rounded down to the start of lsn's batch, so batches stay
// atomic), deleting later segments. The caller must hold the store's lock. Returns the new last
// LSN. For use after VerifyLog reported corruption: `tink recover --truncate-at LSN`.
Result<Lsn> TruncateLogAt(const std::string& dir, Lsn lsn, FileSystem* fs = nullptr);

}  // namespace tink::log
