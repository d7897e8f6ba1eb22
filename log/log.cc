// Log: the public face of LogImpl, plus small shared helpers.
#include "log/log.h"

#include <charconv>
#include <ctime>

#include "log/internal/log_impl.h"

namespace tink::log {


Result<Durability> Durability::Parse(std::string_view text) {
  Durability d;
  if (text == "always") return d;
  if (text == "none") {
    d.mode = Mode::kNone;
    return d;
  }
  constexpr std::string_view kInterval = "interval=";
  if (text.starts_with(kInterval)) {
    std::string_view ms = text.substr(kInterval.size());
    uint32_t v = 0;
    auto [p, ec] = std::from_chars(ms.data(), ms.data() + ms.size(), v);
    if (ec == std::errc() && p == ms.data() + ms.size() && v > 0 && v <= 60000) {
      d.mode = Mode::kInterval;
      d.interval = std::chrono::milliseconds(v);
      return d;
    }
  }
  return Status::InvalidArgument("bad sync mode '" + std::string(text) +
                                 "': expected always, interval=<1..60000 ms> or none");
}

std::string Durability::ToString() const {
  switch (mode) {
    case Mode::kAlways: return "always";
    case Mode::kNone: return "none";
    case Mode::kInterval: return "interval=" + std::to_string(interval.count());
  }
  return "?";
}

std::string RecoveryReport::ToString() const {
  if (!torn_tail) return "clean";
  return "torn tail in segment " + segment + " at offset " + std::to_string(offset) + ": " +
         std::to_string(bytes_dropped) + " bytes of an incomplete write discarded; log ends at LSN " +
         std::to_string(last_lsn);
}

Log::Log(std::unique_ptr<internal::LogImpl> impl) : impl_(std::move(impl)) {}
Log::~Log() { (void)impl_->Close(); }

Result<std::unique_ptr<Log>> Log::Open(const std::string& dir, LogOptions options,
                                       RecoveryReport* report) {
  auto impl = std::make_unique<internal::LogImpl>(dir, std::move(options));
  RETURN_IF_ERROR(impl->Open(report));
  return std::unique_ptr<Log>(new Log(std::move(impl)));
}

Result<AppendResult> Log::Append(std::span<const std::string_view> payloads) {
  return impl_->Append(payloads);
}
Result<AppendResult> Log::Append(std::string_view payload) {
  return impl_->Append(std::span<const std::string_view>(&payload, 1));
}
Result<std::unique_ptr<PendingAppend>> Log::Submit(std::span<const std::string_view> payloads) {
  auto req = std::make_unique<internal::AppendRequest>();
  req->payloads = payloads;
  RETURN_IF_ERROR(impl_->Submit(req.get()));
  return std::unique_ptr<PendingAppend>(new PendingAppend(impl_.get(), std::move(req)));
}

PendingAppend::PendingAppend(internal::LogImpl* log, std::unique_ptr<internal::AppendRequest> req)
    : log_(log), req_(std::move(req)) {}
PendingAppend::~PendingAppend() {
  if (!waited_) (void)log_->Wait(req_.get());
}
Lsn PendingAppend::first_lsn() const { return req_->first_lsn; }
Lsn PendingAppend::last_lsn() const { return req_->first_lsn + req_->payloads.size() - 1; }
Result<AppendResult> PendingAppend::Wait() {
  if (waited_) return Status::InvalidArgument("PendingAppend::Wait called twice");
  waited_ = true;
  return log_->Wait(req_.get());
}

Status Log::Sync() { return impl_->Sync(); }
std::unique_ptr<LogIterator> Log::NewIterator(Lsn from) { return impl_->NewIterator(from); }
Lsn Log::LastLsn() const { return impl_->LastLsn(); }
bool Log::WaitFor(Lsn lsn, std::chrono::milliseconds timeout) { return impl_->WaitFor(lsn, timeout); }
Status Log::WaitAcknowledged(Lsn lsn) { return impl_->WaitAcknowledged(lsn); }
Lsn Log::LsnAtTime(int64_t time_ns) { return impl_->LsnAtTime(time_ns); }
Status Log::Refresh() { return impl_->Refresh(); }
LogStats Log::Stats() const { return impl_->Stats(); }
LogCounters Log::counters() const { return impl_->counters(); }
Status Log::status() const { return impl_->status(); }
const std::string& Log::store_id_hex() const { return impl_->store_id_hex(); }
Status Log::Close() { return impl_->Close(); }

namespace internal {

std::string HexId(const uint8_t id[16]) {
  static const char* kHex = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 16; ++i) {
    s += kHex[id[i] >> 4];
    s += kHex[id[i] & 15];
  }
  return s;
}

int64_t NowNs() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

LogImpl::LogImpl(std::string dir, LogOptions options)
    : dir_(std::move(dir)),
      options_(std::move(options)),
      fs_(options_.fs ? options_.fs : FileSystem::Default()),
      data_hash_(XXH3_createState()) {
  XXH3_64bits_reset(data_hash_);
}

LogImpl::~LogImpl() {
  (void)Close();
  XXH3_freeState(data_hash_);
}

bool LogImpl::WaitFor(Lsn lsn, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lk(mu_);
  return done_cv_.wait_for(lk, timeout, [&] { return LastLsn() >= lsn || closed_; }) &&
         LastLsn() >= lsn;
}

Status LogImpl::WaitAcknowledged(Lsn lsn) {
  std::unique_lock<std::mutex> lk(mu_);
  done_cv_.wait(lk, [&] { return LastLsn() >= lsn || !error_.ok() || closed_; });
  if (LastLsn() >= lsn) return Status::Ok();
  if (!error_.ok()) return error_;
  return Status::Failed("the log was closed before LSN " + std::to_string(lsn) +
                        " was acknowledged");
}

Status LogImpl::status() const {
  std::lock_guard<std::mutex> l(mu_);
  return error_;
}

LogStats LogImpl::Stats() const {
  LogStats st;
  for (const auto& seg : Segments()) {
    SegmentInfo info;
    info.name = seg->name;
    info.first_lsn = seg->first_lsn;
    info.last_lsn = seg->last_lsn.load(std::memory_order_acquire);
    info.bytes = seg->end.load(std::memory_order_acquire);
    info.sealed = seg->sealed.load();
    if (info.last_lsn >= info.first_lsn) {
      if (st.first_lsn == 0) {
        st.first_lsn = info.first_lsn;
        st.first_time_ns = seg->first_time.load();
      }
      st.last_lsn = info.last_lsn;
      st.last_time_ns = seg->last_time.load();
      st.records += info.last_lsn - info.first_lsn + 1;
    }
    st.bytes += info.bytes;
    st.segments.push_back(std::move(info));
  }
  return st;
}

}  // namespace internal
}  // namespace tink::log
