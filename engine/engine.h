// Engine: opens a store (DESIGN.md §2), owns its log, validates and appends events, reads them
// back. Later issues add projections, time travel, import, serve.
//
// Store layout: STORE/LOCK (flock: one writer process), STORE/log/ (segments). Folders 0700,
// files 0600.
//
// Thread safety: Engine is thread-safe; Append may be called from many threads (the log groups
// their commits). A read-only Engine takes no lock and changes nothing on disk: it may run while
// another process writes.
// Errors: InvalidArgument for bad events (nothing of the batch is written), IOError when the
// store is locked by another process, Corruption from the log (segment, offset, LSN named).
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>

#include "log/log.h"
#include "schema/schema.h"
#include "schema/status.h"

namespace tink::engine {

struct EngineOptions {
  bool read_only = false;
  log::Durability durability;
  log::FileSystem* fs = nullptr;  // nullptr: the real file system
  uint64_t segment_size = log::kDefaultSegmentSize;
  std::function<void(uint64_t, uint64_t)> progress;  // long scans at open
};

class StoreLock;

class Engine {
 public:
  // Opens the store at `dir`, creating it unless read_only. Fails with IOError (naming the pid)
  // if another process holds the store's lock.
  static Result<std::unique_ptr<Engine>> Open(const std::string& dir, EngineOptions options);
  ~Engine();

  // Validates and appends events as one atomic batch; events without an id get a generated one.
  // Returns the LSN range assigned. Nothing is written if any event is invalid (the error names
  // the event's index in the batch).
  Result<log::AppendResult> Append(std::span<const schema::EventInput> events);

  // Reads raw records from `from` (payloads are FlatBuffers events: schema::DecodeEvent).
  std::unique_ptr<log::LogIterator> Read(log::Lsn from);

  log::Log& log() { return *log_; }
  const log::RecoveryReport& recovery() const { return recovery_; }
  const std::string& dir() const { return dir_; }

  Status Close();

 private:
  Engine(std::string dir, std::unique_ptr<StoreLock> lock, std::unique_ptr<log::Log> log,
         log::RecoveryReport recovery);

  std::string dir_;
  std::unique_ptr<StoreLock> lock_;
  std::unique_ptr<log::Log> log_;
  log::RecoveryReport recovery_;
};

// Reads every byte of the store's log (log::VerifyLog); takes no lock, changes nothing.
Result<log::VerifyReport> VerifyStore(const std::string& dir,
                                      const std::function<void(uint64_t, uint64_t)>& progress = {});

// Takes the store's lock and removes every event with lsn >= `lsn` (rounded down to the start of
// its batch). Returns the new last LSN. For `tink recover --truncate-at`.
Result<log::Lsn> TruncateStoreAt(const std::string& dir, log::Lsn lsn);

// $TINKERBELL_STORE if set, else ./tinkerbell.store.
std::string DefaultStorePath();
// STORE/log
std::string LogDir(const std::string& store);
// A fresh random event id: 32 lowercase hex digits.
std::string NewEventId();

}  // namespace tink::engine
