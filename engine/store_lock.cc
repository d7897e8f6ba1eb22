#include "engine/store_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

namespace tink::engine {

Result<std::unique_ptr<StoreLock>> StoreLock::Acquire(const std::string& store_dir, bool* busy) {
  if (busy) *busy = false;
  const std::string path = store_dir + "/LOCK";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Status::IOError("open " + path + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    char buf[32] = {};
    ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
    ::close(fd);
    if (err == EWOULDBLOCK) {
      if (busy) *busy = true;
      std::string pid = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "unknown";
      while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
      return Status::IOError("store " + store_dir + " is locked by another process (pid " + pid +
                             ")");
    }
    return Status::IOError("lock " + path + ": " + std::strerror(err));
  }
  // Informational only: the flock is the lock.
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    ::close(fd);
    return Status::IOError("write " + path + ": " + std::strerror(errno));
  }
  return std::unique_ptr<StoreLock>(new StoreLock(fd));
}

StoreLock::~StoreLock() { ::close(fd_); }

bool StoreLock::HeldByAnyone(const std::string& store_dir) {
  struct stat st;
  if (::stat((store_dir + "/LOCK").c_str(), &st) != 0) return false;  // never opened for writing
  std::ifstream locks("/proc/locks");
  if (!locks) return true;
  // Lines look like "1: FLOCK  ADVISORY  WRITE 11215 fe:00:10952973 0 EOF" (device in hex).
  char dev[64];
  std::snprintf(dev, sizeof(dev), "%02x:%02x:%llu", major(st.st_dev), minor(st.st_dev),
                static_cast<unsigned long long>(st.st_ino));
  const std::string want = std::string(" ") + dev + " ";
  std::string line;
  while (std::getline(locks, line)) {
    if (line.find("FLOCK") != std::string::npos && line.find(want) != std::string::npos) {
      return true;
    }
  }
  return false;
}

}  // namespace tink::engine
