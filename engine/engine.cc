#include "engine/engine.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <random>

#include "engine/store_lock.h"

namespace tink::engine {

std::string DefaultStorePath() {
  const char* env = std::getenv("TINKERBELL_STORE");
  return env != nullptr && *env != '\0' ? env : "./tinkerbell.store";
}

std::string LogDir(const std::string& store) { return log::JoinPath(store, "log"); }

std::string NewEventId() {
  thread_local std::mt19937_64 rng([] {
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }());
  static const char* kHex = "0123456789abcdef";
  std::string id(32, '0');
  for (int half = 0; half < 2; ++half) {
    uint64_t v = rng();
    for (int i = 0; i < 16; ++i) id[half * 16 + i] = kHex[(v >> (i * 4)) & 15];
  }
  return id;
}

Engine::Engine(std::string dir, std::unique_ptr<StoreLock> lock, std::unique_ptr<log::Log> log,
               log::RecoveryReport recovery)
    : dir_(std::move(dir)), lock_(std::move(lock)), log_(std::move(log)),
      recovery_(std::move(recovery)) {}

Engine::~Engine() { (void)Close(); }

Result<std::unique_ptr<Engine>> Engine::Open(const std::string& dir, EngineOptions options) {
  log::FileSystem* fs = options.fs ? options.fs : log::FileSystem::Default();
  std::unique_ptr<StoreLock> lock;
  if (options.read_only) {
    struct stat st;
    if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return Status::NotFound("no store at " + dir);
    }
  } else {
    RETURN_IF_ERROR(fs->CreateDir(dir));
    ASSIGN_OR_RETURN(lock, StoreLock::Acquire(dir));
  }
  log::LogOptions lo;
  lo.fs = fs;
  lo.durability = options.durability;
  lo.segment_size = options.segment_size;
  lo.read_only = options.read_only;
  lo.progress = options.progress;
  log::RecoveryReport report;
  ASSIGN_OR_RETURN(std::unique_ptr<log::Log> lg, log::Log::Open(LogDir(dir), lo, &report));
  return std::unique_ptr<Engine>(new Engine(dir, std::move(lock), std::move(lg), report));
}

Result<log::AppendResult> Engine::Append(std::span<const schema::EventInput> events) {
  if (events.empty()) return Status::InvalidArgument("no events to append");
  std::vector<std::string> payloads;
  payloads.reserve(events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    Result<std::string> enc = [&]() -> Result<std::string> {
      if (!events[i].id.empty()) return schema::EncodeEvent(events[i]);
      schema::EventInput with_id = events[i];
      with_id.id = NewEventId();
      return schema::EncodeEvent(with_id);
    }();
    if (!enc.ok()) {
      return events.size() == 1 ? enc.status()
                                : enc.status().WithContext("event " + std::to_string(i + 1));
    }
    payloads.push_back(std::move(enc).value());
  }
  std::vector<std::string_view> views(payloads.begin(), payloads.end());
  return log_->Append(views);
}

std::unique_ptr<log::LogIterator> Engine::Read(log::Lsn from) { return log_->NewIterator(from); }

Result<log::VerifyReport> VerifyStore(const std::string& dir,
                                      const std::function<void(uint64_t, uint64_t)>& progress) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Status::NotFound("no store at " + dir);
  }
  return log::VerifyLog(LogDir(dir), nullptr, progress);
}

Result<log::Lsn> TruncateStoreAt(const std::string& dir, log::Lsn lsn) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Status::NotFound("no store at " + dir);
  }
  ASSIGN_OR_RETURN(std::unique_ptr<StoreLock> lock, StoreLock::Acquire(dir));
  return log::TruncateLogAt(LogDir(dir), lsn);
}

Status Engine::Close() {
  Status s = log_ ? log_->Close() : Status::Ok();
  lock_.reset();
  return s;
}

}  // namespace tink::engine
