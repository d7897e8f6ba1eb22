#include "fault_fs.h"

#include <filesystem>

#include "run_command.h"

namespace tink::testing {
namespace {

class FaultFile final : public log::WritableFile {
 public:
  FaultFile(FaultInjectionFS* fs, std::unique_ptr<log::WritableFile> base)
      : fs_(fs), base_(std::move(base)) {}

  Status Write(uint64_t offset, std::string_view data) override {
    bool short_write = false;
    Status s = fs_->Check(FaultInjectionFS::Op::kWrite, &short_write);
    if (!s.ok()) {
      if (short_write) (void)base_->Write(offset, data.substr(0, data.size() / 2));
      return s;
    }
    return base_->Write(offset, data);
  }
  Status Sync() override {
    RETURN_IF_ERROR(fs_->Check(FaultInjectionFS::Op::kSync));
    RETURN_IF_ERROR(base_->Sync());
    fs_->RecordSync(base_->path());
    return Status::Ok();
  }
  Status Truncate(uint64_t size) override {
    RETURN_IF_ERROR(fs_->Check(FaultInjectionFS::Op::kWrite));
    return base_->Truncate(size);
  }
  Status Allocate(uint64_t size) override {
    RETURN_IF_ERROR(fs_->Check(FaultInjectionFS::Op::kAllocate));
    return base_->Allocate(size);
  }
  Status Close() override { return base_->Close(); }
  const std::string& path() const override { return base_->path(); }

 private:
  FaultInjectionFS* fs_;
  std::unique_ptr<log::WritableFile> base_;
};

std::string DirOf(const std::string& path) {
  return std::filesystem::path(path).parent_path().string();
}

}  // namespace

void FaultInjectionFS::FailAt(Op op, int n, Status error, bool short_write) {
  std::lock_guard<std::mutex> l(mu_);
  faults_[static_cast<int>(op)] = Fault{n, std::move(error), short_write, false};
}

void FaultInjectionFS::Clear() {
  std::lock_guard<std::mutex> l(mu_);
  for (Fault& f : faults_) f = Fault{};
}

void FaultInjectionFS::Crash() {
  std::lock_guard<std::mutex> l(mu_);
  crashed_ = true;
}

void FaultInjectionFS::Restart() {
  std::lock_guard<std::mutex> l(mu_);
  crashed_ = false;
  for (Fault& f : faults_) f = Fault{};
}

int FaultInjectionFS::Calls(Op op) const {
  std::lock_guard<std::mutex> l(mu_);
  return calls_[static_cast<int>(op)];
}

Status FaultInjectionFS::Check(Op op, bool* short_write) {
  std::lock_guard<std::mutex> l(mu_);
  ++calls_[static_cast<int>(op)];
  if (crashed_) return Status::IOError("injected: machine is off");
  Fault& f = faults_[static_cast<int>(op)];
  if (f.countdown > 0 && !f.tripped && --f.countdown == 0) f.tripped = true;
  if (f.tripped) {
    if (short_write != nullptr) *short_write = f.short_write;
    return f.error;
  }
  return Status::Ok();
}

void FaultInjectionFS::RecordSync(const std::string& path) {
  std::string content = ReadFile(path);
  std::lock_guard<std::mutex> l(mu_);
  files_[path].synced = std::move(content);
}

Result<std::unique_ptr<log::WritableFile>> FaultInjectionFS::OpenWritable(const std::string& path,
                                                                          log::OpenMode mode) {
  if (mode == log::OpenMode::kCreateNew) {
    RETURN_IF_ERROR(Check(Op::kCreate));
  } else {
    std::lock_guard<std::mutex> l(mu_);
    if (crashed_) return Status::IOError("injected: machine is off");
  }
  ASSIGN_OR_RETURN(std::unique_ptr<log::WritableFile> f, base_->OpenWritable(path, mode));
  {
    std::lock_guard<std::mutex> l(mu_);
    if (mode == log::OpenMode::kCreateNew) {
      files_[path] = FileState{};
    } else if (!files_.count(path)) {
      // A file from before this FS was in place: durable as it is now.
      files_[path] = FileState{ReadFile(path), true};
    }
  }
  return std::unique_ptr<log::WritableFile>(new FaultFile(this, std::move(f)));
}

Status FaultInjectionFS::CreateDir(const std::string& path) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (crashed_) return Status::IOError("injected: machine is off");
  }
  return base_->CreateDir(path);
}

Status FaultInjectionFS::SyncDir(const std::string& path) {
  RETURN_IF_ERROR(Check(Op::kSyncDir));
  RETURN_IF_ERROR(base_->SyncDir(path));
  std::lock_guard<std::mutex> l(mu_);
  for (auto& [p, st] : files_) {
    if (DirOf(p) == std::filesystem::path(path).lexically_normal().string() ||
        DirOf(p) == path) {
      st.dir_synced = true;
    }
  }
  return Status::Ok();
}

Status FaultInjectionFS::Remove(const std::string& path) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (crashed_) return Status::IOError("injected: machine is off");
    files_.erase(path);
  }
  return base_->Remove(path);
}

Status FaultInjectionFS::Rename(const std::string& from, const std::string& to) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (crashed_) return Status::IOError("injected: machine is off");
  }
  return base_->Rename(from, to);
}

void FaultInjectionFS::DropUnsyncedData() {
  std::lock_guard<std::mutex> l(mu_);
  for (auto it = files_.begin(); it != files_.end();) {
    if (!it->second.dir_synced) {
      std::filesystem::remove(it->first);
      it = files_.erase(it);
      continue;
    }
    std::filesystem::resize_file(it->first, 0);
    auto w = base_->OpenWritable(it->first, log::OpenMode::kExisting);
    if (w.ok()) {
      (void)(*w)->Write(0, it->second.synced);
      (void)(*w)->Close();
    }
    ++it;
  }
}

}  // namespace tink::testing
