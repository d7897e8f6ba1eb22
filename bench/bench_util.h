// Helpers shared by the benchmarks: a scratch directory on the benchmarked disk, payloads, a
// deadline-bounded multi-threaded driver and a FileSystem wrapper that counts fdatasyncs.
//
// Not thread-safe unless stated. Not part of any library: bench/ only.
#pragma once

#include <mntent.h>
#include <stdlib.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "log/file_system.h"

#ifndef TINK_BENCH_DEFAULT_DIR
#define TINK_BENCH_DEFAULT_DIR "."
#endif

namespace tink::bench {

// Where the scratch directory goes: `flag` if given, else $TINK_BENCH_DIR, else the build
// directory (set by bench/CMakeLists.txt: the repository's disk, never tmpfs by default).
inline std::string BenchBase(const std::string& flag) {
  if (!flag.empty()) return flag;
  const char* env = std::getenv("TINK_BENCH_DIR");
  return env && *env ? env : TINK_BENCH_DEFAULT_DIR;
}

// The file system holding `path`: device, type (from /proc/self/mounts) and whether it lives in
// memory, in which case durable numbers mean nothing.
struct DiskInfo {
  std::string device = "?", fstype = "?", rotational = "?";
  bool in_memory = false;
};
inline DiskInfo DescribeDisk(const std::string& path) {
  DiskInfo d;
  const std::string abs = std::filesystem::weakly_canonical(path).string();
  size_t best = 0;
  if (FILE* f = setmntent("/proc/self/mounts", "r")) {
    while (mntent* m = getmntent(f)) {
      const std::string dir = m->mnt_dir;
      const bool under = abs.rfind(dir, 0) == 0 &&
                         (dir == "/" || abs.size() == dir.size() || abs[dir.size()] == '/');
      if (under && dir.size() >= best) {
        best = dir.size();
        d.device = m->mnt_fsname;
        d.fstype = m->mnt_type;
      }
    }
    endmntent(f);
  }
  d.in_memory = d.fstype == "tmpfs" || d.fstype == "ramfs";
  const std::string dev = std::filesystem::path(d.device).filename().string();
  if (FILE* f = std::fopen(("/sys/block/" + dev + "/queue/rotational").c_str(), "r")) {
    int c = std::fgetc(f);
    d.rotational = c == '1' ? "rotational" : c == '0' ? "non-rotational" : "?";
    std::fclose(f);
  }
  return d;
}

// A fresh directory `<base>/tink-bench-XXXXXX`, removed (with everything in it, and nothing
// else) when this object is destroyed.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& base) {
    std::filesystem::create_directories(base);
    std::string tmpl = (std::filesystem::path(base) / "tink-bench-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      std::perror(("mkdtemp " + tmpl).c_str());
      std::exit(2);
    }
    path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }
  // A new empty subdirectory.
  std::string Sub(const std::string& name) const {
    const std::string p = path_ + "/" + name;
    std::filesystem::remove_all(p);
    std::filesystem::create_directories(p);
    return p;
  }

 private:
  std::string path_;
};

// `n` payloads of `size` uniformly random bytes (incompressible; the same for every system).
inline std::vector<std::string> Payloads(size_t n, size_t size, uint32_t seed = 42) {
  std::mt19937_64 rng(seed);
  std::vector<std::string> out(n);
  for (auto& p : out) {
    p.resize(size);
    for (char& c : p) c = static_cast<char>(rng() & 0xff);
  }
  return out;
}

struct Rate {
  uint64_t ops = 0;
  double seconds = 0;
  std::string error;  // first error, empty when all went well
  double per_sec() const { return seconds > 0 && error.empty() ? ops / seconds : 0; }
};

inline double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Runs op(thread, i) on `threads` threads until `seconds` pass or `max_ops` ops are done in all,
// whichever comes first. op returns an empty string on success, else an error that stops the run.
inline Rate RunFor(int threads, double seconds, uint64_t max_ops,
                   const std::function<std::string(int, uint64_t)>& op) {
  std::atomic<uint64_t> done{0};
  std::atomic<bool> stop{false};
  std::mutex err_mu;
  Rate r;
  const auto t0 = std::chrono::steady_clock::now();
  const auto deadline = t0 + std::chrono::duration<double>(seconds);
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      for (uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        if (std::string e = op(t, i); !e.empty()) {
          std::lock_guard<std::mutex> l(err_mu);
          if (r.error.empty()) r.error = std::move(e);
          stop = true;
          break;
        }
        if (done.fetch_add(1, std::memory_order_relaxed) + 1 >= max_ops ||
            std::chrono::steady_clock::now() >= deadline) {
          stop = true;
        }
      }
    });
  }
  for (auto& t : ts) t.join();
  r.ops = done.load();
  r.seconds = SecondsSince(t0);
  return r;
}

// Wraps FileSystem::Default() and counts WritableFile::Sync calls (fdatasync), the time spent in
// them, and writes, so a benchmark can report events per fdatasync (the group size the group
// commit achieved) and how much of the wall time the writer spent waiting for the disk.
// The counters are atomics: safe to read from any thread.
class CountingFileSystem final : public log::FileSystem {
 public:
  std::atomic<uint64_t> syncs{0};
  std::atomic<uint64_t> sync_ns{0};  // total time spent inside fdatasync
  std::atomic<uint64_t> writes{0};
  // Experiment: Allocate writes zeros (and syncs them) instead of calling fallocate, so later
  // writes overwrite written blocks instead of converting unwritten extents. Set before use.
  bool zero_fill = false;
  // Size of every write, in order (the writer thread's group sizes). Read after Log::Close.
  std::vector<uint64_t> write_sizes;

  Result<std::unique_ptr<log::WritableFile>> OpenWritable(const std::string& path,
                                                          log::OpenMode mode) override {
    auto f = base_->OpenWritable(path, mode);
    if (!f.ok()) return f.status();
    return std::unique_ptr<log::WritableFile>(new File(std::move(f).value(), this));
  }
  Result<std::unique_ptr<log::RandomAccessFile>> OpenReadable(const std::string& path) override {
    return base_->OpenReadable(path);
  }
  Status CreateDir(const std::string& path) override { return base_->CreateDir(path); }
  Status SyncDir(const std::string& path) override { return base_->SyncDir(path); }
  Result<std::vector<std::string>> ListDir(const std::string& path) override {
    return base_->ListDir(path);
  }
  Status Remove(const std::string& path) override { return base_->Remove(path); }
  Status Rename(const std::string& from, const std::string& to) override {
    return base_->Rename(from, to);
  }
  bool Exists(const std::string& path) override { return base_->Exists(path); }

 private:
  class File final : public log::WritableFile {
   public:
    File(std::unique_ptr<log::WritableFile> f, CountingFileSystem* fs)
        : f_(std::move(f)), fs_(fs) {}
    Status Write(uint64_t offset, std::string_view data) override {
      fs_->writes.fetch_add(1, std::memory_order_relaxed);
      if (f_->path().ends_with(".seg")) {  // group sizes: not the log's checkpoint file
        std::lock_guard<std::mutex> l(fs_->sizes_mu_);
        fs_->write_sizes.push_back(data.size());
      }
      return f_->Write(offset, data);
    }
    Status Sync() override {
      const auto t0 = std::chrono::steady_clock::now();
      Status s = f_->Sync();
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
          std::chrono::steady_clock::now() - t0);
      fs_->sync_ns.fetch_add(static_cast<uint64_t>(ns.count()), std::memory_order_relaxed);
      fs_->syncs.fetch_add(1, std::memory_order_relaxed);
      return s;
    }
    Status Truncate(uint64_t size) override { return f_->Truncate(size); }
    Status Allocate(uint64_t size) override {
      if (!fs_->zero_fill) {
        return f_->Allocate(size);
      }
      // The log grows a segment's allocation step by step: zero only the new part.
      const std::string zeros(1 << 20, '\0');
      for (uint64_t off = allocated_; off < size; off += zeros.size()) {
        const uint64_t n = std::min<uint64_t>(zeros.size(), size - off);
        RETURN_IF_ERROR(f_->Write(off, std::string_view(zeros.data(), n)));
      }
      allocated_ = std::max(allocated_, size);
      return f_->Sync();
    }
    Status Close() override { return f_->Close(); }
    const std::string& path() const override { return f_->path(); }

   private:
    std::unique_ptr<log::WritableFile> f_;
    CountingFileSystem* fs_;
    uint64_t allocated_ = 0;  // zero_fill: bytes zeroed so far (files are created empty)
  };
  std::mutex sizes_mu_;
  log::FileSystem* base_ = log::FileSystem::Default();
};

}  // namespace tink::bench
