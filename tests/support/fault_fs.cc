#include "fault_fs.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>

#include "run_command.h"

namespace tink::testing {
namespace {

using Op = FaultInjectionFS::Op;

class FaultFile final : public log::WritableFile {
 public:
  FaultFile(FaultInjectionFS* fs, std::unique_ptr<log::WritableFile> base)
      : fs_(fs), base_(std::move(base)) {}

  Status Write(uint64_t offset, std::string_view data) override {
    int64_t keep = -1;
    Status s = fs_->Check(Op::kWrite, &keep);
    if (!s.ok()) {
      // A torn write: part of the bytes reached the file, then the device gave up.
      if (keep > 0) {
        (void)base_->Write(offset, data.substr(0, std::min<uint64_t>(keep, data.size())));
      }
      return s;
    }
    RETURN_IF_ERROR(base_->Write(offset, data));
    fs_->RecordWrite(base_->path(), offset, data.size());
    return Status::Ok();
  }
  Status Sync() override {
    Status s = fs_->Check(Op::kSync);
    if (!s.ok()) {
      fs_->RecordFailedSync(base_->path());
      return s;
    }
    RETURN_IF_ERROR(base_->Sync());
    fs_->RecordSync(base_->path());
    return Status::Ok();
  }
  Status Truncate(uint64_t size) override {
    RETURN_IF_ERROR(fs_->Check(Op::kTruncate));
    return base_->Truncate(size);
  }
  Status Allocate(uint64_t size) override {
    RETURN_IF_ERROR(fs_->Check(Op::kAllocate));
    return base_->Allocate(size);
  }
  Status Close() override { return base_->Close(); }
  const std::string& path() const override { return base_->path(); }

 private:
  FaultInjectionFS* fs_;
  std::unique_ptr<log::WritableFile> base_;
};

std::string Normal(const std::string& path) {
  std::string p = std::filesystem::path(path).lexically_normal().string();
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

std::string DirOf(const std::string& path) {
  return Normal(std::filesystem::path(Normal(path)).parent_path().string());
}

void Overwrite(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

}  // namespace

void FaultInjectionFS::FailAt(Op op, int n, Status error, int64_t short_write_bytes) {
  std::lock_guard<std::mutex> l(mu_);
  faults_[static_cast<int>(op)] = Fault{n, std::move(error), short_write_bytes, false};
}

void FaultInjectionFS::Clear() {
  std::lock_guard<std::mutex> l(mu_);
  for (Fault& f : faults_) f = Fault{};
}

void FaultInjectionFS::Crash() {
  std::lock_guard<std::mutex> l(mu_);
  crashed_ = true;
}

void FaultInjectionFS::CrashAt(Op op, int n) {
  std::lock_guard<std::mutex> l(mu_);
  crash_at_[static_cast<int>(op)] = n;
}

void FaultInjectionFS::Restart() {
  std::lock_guard<std::mutex> l(mu_);
  crashed_ = false;
  for (Fault& f : faults_) f = Fault{};
  for (int& n : crash_at_) n = 0;
}

int FaultInjectionFS::Calls(Op op) const {
  std::lock_guard<std::mutex> l(mu_);
  return calls_[static_cast<int>(op)];
}

void FaultInjectionFS::SetHook(std::function<void(Op)> hook) {
  std::lock_guard<std::mutex> l(mu_);
  hook_ = std::move(hook);
}

Status FaultInjectionFS::Check(Op op, int64_t* short_write) {
  std::function<void(Op)> hook;
  {
    std::lock_guard<std::mutex> l(mu_);
    hook = hook_;
  }
  if (hook) hook(op);
  std::lock_guard<std::mutex> l(mu_);
  ++calls_[static_cast<int>(op)];
  int& crash_in = crash_at_[static_cast<int>(op)];
  if (crash_in > 0 && --crash_in == 0) crashed_ = true;
  if (crashed_) return Status::IOError("injected: machine is off");
  Fault& f = faults_[static_cast<int>(op)];
  if (f.countdown > 0 && !f.tripped && --f.countdown == 0) f.tripped = true;
  if (f.tripped) {
    if (short_write != nullptr) *short_write = f.short_write;
    return f.error;
  }
  return Status::Ok();
}

Status FaultInjectionFS::CheckOn() {
  std::lock_guard<std::mutex> l(mu_);
  if (crashed_) return Status::IOError("injected: machine is off");
  return Status::Ok();
}

void FaultInjectionFS::RecordSync(const std::string& path) {
  // Under the lock so two syncs of one file cannot store their images out of order.
  std::lock_guard<std::mutex> l(mu_);
  FileState& st = files_[Normal(path)];
  std::string now = ReadFile(path);
  // Bytes a failed sync left clean are not written by this one: the disk keeps what it had.
  for (const auto& [from, to] : st.lost) {
    for (uint64_t i = from; i < to && i < now.size(); ++i) {
      now[i] = i < st.synced.size() ? st.synced[i] : '\0';
    }
  }
  st.synced = std::move(now);
}

void FaultInjectionFS::RecordFailedSync(const std::string& path) {
  std::lock_guard<std::mutex> l(mu_);
  FileState& st = files_[Normal(path)];
  const std::string now = ReadFile(path);
  // Every byte that differs from the durable image is now clean in the page cache and lost.
  for (uint64_t i = 0; i < now.size(); ++i) {
    const char old = i < st.synced.size() ? st.synced[i] : '\0';
    if (now[i] == old) continue;
    uint64_t j = i;
    while (j < now.size() && now[j] != (j < st.synced.size() ? st.synced[j] : '\0')) ++j;
    st.lost.emplace_back(i, j);
    i = j;
  }
}

void FaultInjectionFS::RecordWrite(const std::string& path, uint64_t offset, uint64_t n) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = files_.find(Normal(path));
  if (it == files_.end() || it->second.lost.empty()) return;
  // Rewritten bytes are dirty again: the next successful sync makes them durable.
  std::vector<std::pair<uint64_t, uint64_t>> left;
  for (const auto& [from, to] : it->second.lost) {
    if (to <= offset || from >= offset + n) {
      left.emplace_back(from, to);
      continue;
    }
    if (from < offset) left.emplace_back(from, offset);
    if (to > offset + n) left.emplace_back(offset + n, to);
  }
  it->second.lost = std::move(left);
}

Result<std::unique_ptr<log::WritableFile>> FaultInjectionFS::OpenWritable(const std::string& path,
                                                                          log::OpenMode mode) {
  if (mode == log::OpenMode::kCreateNew) {
    RETURN_IF_ERROR(Check(Op::kCreate));
  } else {
    RETURN_IF_ERROR(CheckOn());
  }
  ASSIGN_OR_RETURN(std::unique_ptr<log::WritableFile> f, base_->OpenWritable(path, mode));
  {
    std::lock_guard<std::mutex> l(mu_);
    const std::string key = Normal(path);
    if (mode == log::OpenMode::kCreateNew) {
      files_[key] = FileState{};
    } else if (!files_.count(key)) {
      // A file from before this FS was in place: durable as it is now.
      files_[key] = FileState{ReadFile(path), true};
    }
  }
  return std::unique_ptr<log::WritableFile>(new FaultFile(this, std::move(f)));
}

Status FaultInjectionFS::CreateDir(const std::string& path) {
  RETURN_IF_ERROR(CheckOn());
  return base_->CreateDir(path);
}

Status FaultInjectionFS::SyncDir(const std::string& path) {
  RETURN_IF_ERROR(Check(Op::kSyncDir));
  RETURN_IF_ERROR(base_->SyncDir(path));
  const std::string dir = Normal(path);
  std::lock_guard<std::mutex> l(mu_);
  for (auto& [p, st] : files_) {
    if (DirOf(p) == dir) st.dir_synced = true;
  }
  return Status::Ok();
}

Status FaultInjectionFS::Remove(const std::string& path) {
  RETURN_IF_ERROR(CheckOn());
  {
    std::lock_guard<std::mutex> l(mu_);
    files_.erase(Normal(path));
  }
  return base_->Remove(path);
}

Status FaultInjectionFS::Rename(const std::string& from, const std::string& to) {
  RETURN_IF_ERROR(CheckOn());
  RETURN_IF_ERROR(base_->Rename(from, to));
  std::lock_guard<std::mutex> l(mu_);
  auto it = files_.find(Normal(from));
  if (it != files_.end()) {
    FileState st = std::move(it->second);
    files_.erase(it);
    st.dir_synced = false;  // the new name is durable only after a SyncDir
    files_[Normal(to)] = std::move(st);
  }
  return Status::Ok();
}

void FaultInjectionFS::DropUnsyncedData(uint32_t torn_seed, size_t block) {
  std::lock_guard<std::mutex> l(mu_);
  std::mt19937 rng(torn_seed);
  for (auto it = files_.begin(); it != files_.end();) {
    if (!it->second.dir_synced) {
      std::error_code ec;
      std::filesystem::remove(it->first, ec);
      it = files_.erase(it);
      continue;
    }
    const std::string& synced = it->second.synced;
    if (torn_seed == 0) {
      Overwrite(it->first, synced);
      ++it;
      continue;
    }
    const std::string now = ReadFile(it->first);
    // Whether a size change (truncate, allocate) made it, then block by block.
    const size_t size = (rng() & 1) ? now.size() : synced.size();
    std::string out(size, '\0');
    std::copy_n(synced.begin(), std::min(size, synced.size()), out.begin());
    for (size_t lo = 0; lo < size; lo += block) {
      const size_t hi = std::min(size, lo + block);
      bool differs = false;
      for (size_t i = lo; i < hi && !differs; ++i) {
        const char o = i < synced.size() ? synced[i] : '\0';
        const char n = i < now.size() ? now[i] : '\0';
        differs = o != n;
      }
      if (!differs || (rng() & 1) == 0) continue;
      for (size_t i = lo; i < hi; ++i) out[i] = i < now.size() ? now[i] : '\0';
    }
    Overwrite(it->first, out);
    it->second.synced = out;
    ++it;
  }
}

}  // namespace tink::testing
