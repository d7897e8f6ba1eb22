// FaultInjectionFS: a FileSystem that wraps the real one and can fail chosen operations (EIO,
// ENOSPC, short writes, failed fsync) and simulate power loss by dropping everything not synced
// (RocksDB FaultInjectionTestFS, SQLite's crash VFS). Thread-safe.
//
// Power loss model: a file's content reverts to what it was at its last successful Sync(); a file
// created since its directory's last SyncDir() disappears. Logs in tests are small, so synced
// images are kept as whole copies.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "log/file_system.h"

namespace tink::testing {

class FaultInjectionFS : public log::FileSystem {
 public:
  enum class Op { kWrite, kSync, kCreate, kAllocate, kSyncDir, kCount };

  explicit FaultInjectionFS(log::FileSystem* base = log::FileSystem::Default()) : base_(base) {}

  // The n-th next call (1 = the very next) of `op` fails with `error`, and so does every later
  // one until Clear(). With short_write, a failing Write first writes half of its bytes.
  void FailAt(Op op, int n, Status error, bool short_write = false);
  void Clear();
  // After Crash(), every mutating call fails: the "machine" is off. Then DropUnsyncedData().
  void Crash();
  void DropUnsyncedData();
  void Restart();  // back to normal operation after a crash
  int Calls(Op op) const;

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

  // Used by the file wrapper.
  Status Check(Op op, bool* short_write = nullptr);
  void RecordSync(const std::string& path);

 private:
  struct FileState {
    std::string synced;       // content at the last successful Sync()
    bool dir_synced = false;  // its directory entry is durable
  };
  struct Fault {
    int countdown = 0;  // 0: none armed
    Status error;
    bool short_write = false;
    bool tripped = false;
  };

  log::FileSystem* base_;
  mutable std::mutex mu_;
  std::map<std::string, FileState> files_;
  Fault faults_[static_cast<int>(Op::kCount)];
  int calls_[static_cast<int>(Op::kCount)] = {};
  bool crashed_ = false;
};

}  // namespace tink::testing
