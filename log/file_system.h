// FileSystem: the seam every byte of log I/O goes through, so tests can inject ENOSPC, EIO, short
// writes, failed fsync and "drop unsynced data" (RocksDB FileSystem / LevelDB Env are the model).
//
// Ownership: a FileSystem outlives every file it opened. FileSystem::Default() is a process-wide
// singleton. Files are not thread-safe unless stated; the log uses each WritableFile from one
// thread and RandomAccessFile::Read concurrently (pread, no shared offset).
// Errors: Status::IOError (SubCode::kNoSpace for ENOSPC) naming the path and the errno text.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "schema/status.h"

namespace tink::log {

class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Writes all of `data` at `offset` (pwrite). A short write is an error.
  virtual Status Write(uint64_t offset, std::string_view data) = 0;
  // fdatasync(2): data and the metadata needed to read it back are durable when this returns ok.
  virtual Status Sync() = 0;
  // Sets the file size (ftruncate(2)).
  virtual Status Truncate(uint64_t size) = 0;
  // Reserves [0, size) so later writes inside it need no allocation (fallocate(2)); the file size
  // becomes `size` and the new space reads as zeros.
  virtual Status Allocate(uint64_t size) = 0;
  virtual Status Close() = 0;
  virtual const std::string& path() const = 0;
};

class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  // Reads up to n bytes at offset into scratch; returns the bytes read (fewer only at end of
  // file). Safe to call from several threads at once.
  virtual Result<std::string_view> Read(uint64_t offset, size_t n, char* scratch) const = 0;
  virtual Result<uint64_t> Size() const = 0;
  virtual const std::string& path() const = 0;
};

enum class OpenMode { kCreateNew, kExisting };

class FileSystem {
 public:
  virtual ~FileSystem() = default;
  static FileSystem* Default();

  // kCreateNew fails if the file exists (O_EXCL); files are created 0600.
  virtual Result<std::unique_ptr<WritableFile>> OpenWritable(const std::string& path,
                                                             OpenMode mode) = 0;
  virtual Result<std::unique_ptr<RandomAccessFile>> OpenReadable(const std::string& path) = 0;
  // Creates a directory 0700; ok if it exists already.
  virtual Status CreateDir(const std::string& path) = 0;
  // fsync(2) on the directory, making created, renamed and removed entries durable.
  virtual Status SyncDir(const std::string& path) = 0;
  // Names (not paths) of the entries of `path`, unsorted, without "." and "..".
  virtual Result<std::vector<std::string>> ListDir(const std::string& path) = 0;
  virtual Status Remove(const std::string& path) = 0;
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  virtual bool Exists(const std::string& path) = 0;
};

// Joins a directory and a name with one '/'.
std::string JoinPath(std::string_view dir, std::string_view name);

}  // namespace tink::log
