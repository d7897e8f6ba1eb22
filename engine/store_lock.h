// StoreLock: STORE/LOCK held with flock(LOCK_EX) for the life of a writer; the file names the
// holder's pid so a second process gets a useful error. Released on destruction (and by the
// kernel if the process dies, so a kill -9 never leaves a stale lock).
#pragma once

#include <memory>
#include <string>

#include "schema/status.h"

namespace tink::engine {

class StoreLock {
 public:
  // IOError "store X is locked by another process (pid N)" when held elsewhere.
  // *busy (if given) is set to whether the failure was another holder.
  static Result<std::unique_ptr<StoreLock>> Acquire(const std::string& store_dir,
                                                    bool* busy = nullptr);
  ~StoreLock();

  // Whether some process (this one included) holds the store's lock right now, i.e. a writer
  // may be appending. Looks the lock up in /proc/locks: it never takes the lock, even for a
  // moment, so it can never make a writer's Acquire fail. True when it cannot tell.
  static bool HeldByAnyone(const std::string& store_dir);
  StoreLock(const StoreLock&) = delete;
  StoreLock& operator=(const StoreLock&) = delete;

 private:
  explicit StoreLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace tink::engine
