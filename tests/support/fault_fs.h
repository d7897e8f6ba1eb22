// FaultInjectionFS: a FileSystem that wraps the real one and can fail chosen operations (EIO,
// ENOSPC, short writes, failed fsync, failed directory fsync) and simulate power loss by dropping
// everything not synced (RocksDB FaultInjectionTestFS, SQLite's crash VFS).
//
// Thread safety: every method may be called from any thread (one mutex). The files it hands out
// follow the FileSystem contract (one writer thread per WritableFile).
//
// Power loss model: a file's content reverts to what it was at its last successful Sync(); a file
// created since its directory's last successful SyncDir() disappears (so does a rename target).
// A failed Sync() is modelled as Linux does it (PostgreSQL's "fsyncgate"): the bytes it should
// have made durable stay readable in the page cache but are marked clean, so a later successful
// Sync() does not make them durable either; only rewriting them does.
// Optionally unsynced data is kept block by block at random instead of dropped as a whole, which
// is what a disk that reorders writes leaves behind. Logs in tests are small, so synced images
// are kept as whole copies (use small segment sizes: every Sync copies the whole file).
#pragma once

#include <cstdint>
#include <functional>
#include <utility>
#include <vector>
#include <map>
#include <mutex>
#include <string>

#include "log/file_system.h"

namespace tink::testing {

class FaultInjectionFS : public log::FileSystem {
 public:
  enum class Op { kWrite, kSync, kCreate, kAllocate, kSyncDir, kTruncate, kCount };

  explicit FaultInjectionFS(log::FileSystem* base = log::FileSystem::Default()) : base_(base) {}

  // The n-th next call (1 = the very next) of `op` fails with `error`, and so does every later
  // one until Clear(): a broken disk stays broken. For kWrite, short_write_bytes >= 0 makes the
  // failing write store that many leading bytes (capped at its size) before it fails.
  // kCreate counts OpenWritable(kCreateNew) calls.
  void FailAt(Op op, int n, Status error, int64_t short_write_bytes = -1);
  void Clear();
  // After Crash(), every mutating call fails: the "machine" is off. Then DropUnsyncedData().
  void Crash();
  // The power goes off at the n-th next call of `op` (that call already fails): e.g. kSync
  // catches the log between writing a group and making it durable.
  void CrashAt(Op op, int n);
  // Power loss. torn_seed == 0: every file reverts to its synced image exactly. Otherwise each
  // `block`-byte block that differs from the synced image independently keeps its new or old
  // content (seeded), as a disk that persisted some unsynced writes but not others.
  void DropUnsyncedData(uint32_t torn_seed = 0, size_t block = 512);
  void Restart();  // back to normal operation after a crash (also clears armed faults)
  // Calls of `op` so far, failed ones included.
  int Calls(Op op) const;
  // Called at the start of every counted operation, outside the FS's lock (a test can block an
  // fsync there to hold an append in flight). Empty: none.
  void SetHook(std::function<void(Op)> hook);

  Result<std::unique_ptr<log::WritableFile>> OpenWritable(const std::string& path,
                                                          log::OpenMode mode) override;
  Result<std::unique_ptr<log::RandomAccessFile>> OpenReadable(const std::string& path) override {
    return base_->OpenReadable(path);
  }
  Status CreateDir(const std::string& path) override;
  Status SyncDir(const std::string& path) override;
  Result<std::vector<std::string>> ListDir(const std::string& path) override {
    return base_->ListDir(path);
  }
  Status Remove(const std::string& path) override;
  Status Rename(const std::string& from, const std::string& to) override;
  bool Exists(const std::string& path) override { return base_->Exists(path); }

  // Used by the file wrapper. Check counts the call and returns the injected error, if any;
  // *short_write receives the bytes a failing write should still store (-1: none).
  Status Check(Op op, int64_t* short_write = nullptr);
  void RecordSync(const std::string& path);
  void RecordFailedSync(const std::string& path);
  void RecordWrite(const std::string& path, uint64_t offset, uint64_t n);

 private:
  struct FileState {
    std::string synced;       // content at the last successful Sync()
    bool dir_synced = false;  // its directory entry is durable
    // [from, to) byte ranges a failed Sync() left clean but not durable (until rewritten).
    std::vector<std::pair<uint64_t, uint64_t>> lost;
  };
  struct Fault {
    int countdown = 0;  // 0: none armed
    Status error;
    int64_t short_write = -1;
    bool tripped = false;
  };
  Status CheckOn();  // IOError while crashed

  log::FileSystem* base_;
  mutable std::mutex mu_;
  std::map<std::string, FileState> files_;  // guarded by mu_
  Fault faults_[static_cast<int>(Op::kCount)];
  int calls_[static_cast<int>(Op::kCount)] = {};
  int crash_at_[static_cast<int>(Op::kCount)] = {};  // countdowns; 0: none
  bool crashed_ = false;
  std::function<void(Op)> hook_;  // guarded by mu_ (copied out before it is called)
};

}  // namespace tink::testing
