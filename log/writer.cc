// The writer thread: group commit, segment rollover and sealing, sticky failure.
//
// Appenders queue a Request and wait; the writer takes everything queued, encodes it into one
// buffer, writes it with one pwrite and (kAlways) one fdatasync, then publishes and wakes them.
// While it syncs, new requests queue up and form the next group: no artificial delay.
#include <algorithm>
#include <map>

#include "log/internal/log_impl.h"
#include "log/internal/record.h"

namespace tink::log::internal {

namespace {
std::mutex floors_mu;
std::map<std::string, uint64_t>& Floors() {
  static std::map<std::string, uint64_t> floors;  // guarded by floors_mu
  return floors;
}
}  // namespace

void NoteUnsyncedFrom(const std::string& segment_path, uint64_t offset) {
  std::lock_guard<std::mutex> l(floors_mu);
  Floors()[segment_path] = offset;
}

std::optional<uint64_t> UnsyncedFrom(const std::string& segment_path) {
  std::lock_guard<std::mutex> l(floors_mu);
  auto it = Floors().find(segment_path);
  if (it == Floors().end()) return std::nullopt;
  return it->second;
}

void ForgetUnsynced(const std::string& segment_path) {
  std::lock_guard<std::mutex> l(floors_mu);
  Floors().erase(segment_path);
}

Result<AppendResult> LogImpl::Append(std::span<const std::string_view> payloads) {
  Request req;
  req.payloads = payloads;
  RETURN_IF_ERROR(Submit(&req));
  return Wait(&req);
}

Status LogImpl::Submit(AppendRequest* req) {
  if (options_.read_only) return Status::NotSupported("log is open read-only");
  const std::span<const std::string_view> payloads = req->payloads;
  if (payloads.empty()) return Status::InvalidArgument("empty batch");
  for (size_t i = 0; i < payloads.size(); ++i) {
    if (payloads[i].size() > options_.max_record_size) {
      return Status::InvalidArgument("record " + std::to_string(i) + " is " +
                                     std::to_string(payloads[i].size()) +
                                     " bytes; the limit is " +
                                     std::to_string(options_.max_record_size));
    }
  }
  std::lock_guard<std::mutex> lk(mu_);
  if (!error_.ok()) return error_;
  if (stop_) return Status::Failed("log is closed");
  // The writer takes requests in queue order and gives each the next LSNs, so reserving them
  // here, under the same mutex as the push, predicts exactly what it will assign.
  req->first_lsn = reserved_lsn_;
  reserved_lsn_ += payloads.size();
  queue_.push_back(req);
  if (queue_.size() == 1) writer_cv_.notify_one();
  return Status::Ok();
}

Result<AppendResult> LogImpl::Wait(AppendRequest* req) {
  std::unique_lock<std::mutex> lk(mu_);
  req->cv.wait(lk, [&] { return req->done; });
  return std::move(req->result);
}

Status LogImpl::Sync() {
  if (options_.read_only) return Status::Ok();
  Request req;
  req.sync_only = true;
  std::unique_lock<std::mutex> lk(mu_);
  if (!error_.ok()) return error_;
  if (stop_) return Status::Failed("log is closed");
  queue_.push_back(&req);
  if (queue_.size() == 1) writer_cv_.notify_one();
  req.cv.wait(lk, [&] { return req.done; });
  return req.result.status();
}

Status LogImpl::Close() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (closed_) return error_;
    closed_ = true;
    stop_ = true;
  }
  writer_cv_.notify_all();
  done_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  Status s;
  if (active_file_) {
    s = active_file_->Close();
    active_file_.reset();
  }
  if (ckpt_file_) {
    (void)ckpt_file_->Close();  // a hint: its failure is nobody's error
    ckpt_file_.reset();
  }
  std::lock_guard<std::mutex> l(mu_);
  return error_.ok() ? s : error_;
}

void LogImpl::Fail(const Status& s) {
  // Caller holds mu_. The first error wins; it is never cleared while the log is open.
  if (error_.ok()) {
    error_ = Status::Failed("the log is read-only after an I/O error (" + s.ToString() +
                            "); reopen the store to recover");
  }
}

void LogImpl::WriterLoop() {
  std::unique_lock<std::mutex> lk(mu_);
  while (true) {
    if (queue_.empty()) {
      const bool interval = options_.durability.mode == Durability::Mode::kInterval;
      if (stop_) break;
      if (interval && dirty_ && error_.ok()) {
        // Idle with unsynced data: sleep until the interval is up (or work arrives). The sleep
        // is real time; whether the interval has passed is asked of the log's clock.
        const auto left = last_sync_ + options_.durability.interval - Now();
        if (left > std::chrono::steady_clock::duration::zero()) {
          writer_cv_.wait_for(lk, left, [&] { return !queue_.empty() || stop_; });
        }
        if (queue_.empty() && !stop_ && error_.ok() && dirty_) {
          lk.unlock();
          Status s = MaybeSyncInterval();
          if (s.ok()) MaybeCheckpoint(options_.checkpoint_bytes);
          lk.lock();
          if (!s.ok()) Fail(s);
        }
        continue;
      }
      writer_cv_.wait(lk, [&] { return !queue_.empty() || stop_; });
      continue;
    }
    std::vector<Request*> group(queue_.begin(), queue_.end());
    queue_.clear();
    const bool failed = !error_.ok();
    lk.unlock();
    Status s = failed ? Status::Ok() : CommitGroup(group);
    lk.lock();
    if (failed || !s.ok()) {
      if (!s.ok()) Fail(s);
      for (Request* r : group) {
        if (!r->published) r->result = failed ? error_ : s;
      }
    }
    for (Request* r : group) {
      r->done = true;
      r->cv.notify_one();
    }
    done_cv_.notify_all();
  }
  // Clean shutdown: whatever was acknowledged in interval/none mode becomes durable now.
  if (error_.ok() && dirty_ && active_file_) {
    lk.unlock();
    Status s = SyncActive();
    lk.lock();
    if (!s.ok()) Fail(s);
  }
  // And the next open need not re-read any of it.
  if (error_.ok() && active_file_) {
    lk.unlock();
    MaybeCheckpoint(0);
    lk.lock();
  }
}

Status LogImpl::SyncActive() {
  Status s = active_file_->Sync();
  if (s.ok()) {
    syncs_.fetch_add(1, std::memory_order_relaxed);
    durable_off_ = write_off_;
    dirty_ = false;
    last_sync_ = Now();
    return s;
  }
  // fsyncgate: the kernel may have marked the failed pages clean while the disk never got them,
  // so the page cache would show them to the next open (of this process or another) as if they
  // were there. Overwrite them with zeros so that no open adopts them; whether these zeros reach
  // the disk does not matter (what the disk holds past durable_off_ is at most a torn tail).
  // The log is failed from here on: nothing is written after this.
  if (written_end_ > durable_off_ &&
      !active_file_->Write(durable_off_, std::string(written_end_ - durable_off_, '\0')).ok()) {
    // Not even that: remember the durable end for the next open in this process.
    NoteUnsyncedFrom(active_->path, durable_off_);
  }
  return s;
}

Status LogImpl::MaybeSyncInterval() {
  if (!dirty_ || Now() < last_sync_ + options_.durability.interval) return Status::Ok();
  return SyncActive();
}

Status LogImpl::CommitGroup(std::vector<Request*>& group) {
  buf_.clear();
  buf_off_ = write_off_;
  const uint64_t records_before = next_lsn_;
  const uint64_t offset_before = write_off_;
  const int64_t now = std::max(NowNs(), last_time_);
  bool sync_requested = false;
  size_t unpublished = 0;  // group[unpublished..] are not yet visible
  for (Request* r : group) {
    if (r->sync_only) {
      sync_requested = true;
      continue;
    }
    uint64_t bytes = 0;
    for (std::string_view p : r->payloads) bytes += RecordSpan(p.size());
    if (segment_records_ > 0 && buf_off_ + buf_.size() + bytes > options_.segment_size) {
      RETURN_IF_ERROR(WriteBuffer());
      RETURN_IF_ERROR(SealActive());
      Publish();
      // Sealed, synced and visible: whatever happens to the next segment, these succeeded.
      for (; unpublished < group.size() && group[unpublished] != r; ++unpublished) {
        group[unpublished]->published = true;
      }
      RETURN_IF_ERROR(CreateSegment(next_lsn_));
      buf_off_ = write_off_;
    }
    const Lsn first = next_lsn_;
    if (first != r->first_lsn) {
      return Status::Failed("writer LSN " + std::to_string(first) + " != reserved " +
                              std::to_string(r->first_lsn));
    }
    const size_t n = r->payloads.size();
    for (size_t i = 0; i < n; ++i) {
      const RecordType type = n == 1             ? RecordType::kFull
                              : i == 0           ? RecordType::kFirst
                              : i + 1 == n       ? RecordType::kLast
                                                 : RecordType::kMiddle;
      const uint64_t off = buf_off_ + buf_.size();
      if (segment_records_ == 0 || off >= last_index_off_ + kIndexIntervalBytes) {
        pending_index_.push_back({next_lsn_, off, now});
        last_index_off_ = off;
      }
      last_rec_in_buf_ = buf_.size();
      chain_ = AppendRecord(&buf_, type, next_lsn_, now, chain_, r->payloads[i]);
      ++buf_records_;
      ++next_lsn_;
      ++segment_records_;
    }
    last_time_ = now;
    r->result = AppendResult{first, next_lsn_ - 1, now};
  }
  RETURN_IF_ERROR(WriteBuffer());
  if (options_.durability.mode == Durability::Mode::kAlways || sync_requested) {
    if (dirty_ || options_.durability.mode == Durability::Mode::kAlways) {
      RETURN_IF_ERROR(SyncActive());
    }
  } else if (options_.durability.mode == Durability::Mode::kInterval) {
    // Under sustained load the writer is never idle: the interval is kept here.
    RETURN_IF_ERROR(MaybeSyncInterval());
  }
  Publish();
  MaybeCheckpoint(options_.checkpoint_bytes);
  const uint64_t records = next_lsn_ - records_before;
  if (records > 0) {
    // Bytes within this segment (a group that rolled over counts the new segment's part).
    const uint64_t bytes = write_off_ >= offset_before ? write_off_ - offset_before : write_off_;
    groups_.fetch_add(1, std::memory_order_relaxed);
    records_.fetch_add(records, std::memory_order_relaxed);
    bytes_.fetch_add(bytes, std::memory_order_relaxed);
    if (options_.on_commit) options_.on_commit(records, bytes);
  }
  return Status::Ok();
}

Status LogImpl::WriteBuffer() {
  if (buf_.empty()) return Status::Ok();
  // Every write ends with a flagged record: recovery's unit of "this write reached the disk";
  // then the end mark, which tells a damaged last record from a torn one.
  chain_ = MarkWriteEnd(buf_.data() + last_rec_in_buf_);
  last_record_off_ = buf_off_ + last_rec_in_buf_;
  if (active_->mark > 0) AppendEndMark(&buf_, buf_records_);
  buf_records_ = 0;
  const uint64_t end = buf_off_ + buf_.size();
  if (end > allocated_) {
    // The file grows a step at a time (never past the segment size unless one write is bigger),
    // so an open checks at most a step of preallocated space past the last write for strays.
    const uint64_t target =
        std::max(end, std::min(allocated_ + kAllocationStep, options_.segment_size));
    RETURN_IF_ERROR(active_file_->Allocate(target));
    allocated_ = target;
  }
  written_end_ = std::max(written_end_, end);
  RETURN_IF_ERROR(active_file_->Write(buf_off_, buf_));
  if (!hash_from_file_) XXH3_64bits_update(data_hash_, buf_.data(), buf_.size());
  write_off_ = buf_off_ + buf_.size();
  buf_off_ = write_off_;
  buf_.clear();
  dirty_ = true;
  return Status::Ok();
}

void LogImpl::Publish() {
  Segment& seg = *active_;
  if (!pending_index_.empty()) {
    std::lock_guard<std::mutex> l(seg.index_mu);
    seg.index.insert(seg.index.end(), pending_index_.begin(), pending_index_.end());
    pending_index_.clear();
  }
  if (segment_records_ > 0 && seg.first_time.load(std::memory_order_relaxed) == 0) {
    std::lock_guard<std::mutex> l(seg.index_mu);
    seg.first_time.store(seg.index.empty() ? last_time_ : seg.index.front().time_ns);
  }
  seg.last_time.store(last_time_, std::memory_order_relaxed);
  seg.last_checksum = chain_;
  seg.last_lsn.store(next_lsn_ - 1, std::memory_order_release);
  seg.end.store(write_off_, std::memory_order_release);
  visible_lsn_.store(next_lsn_ - 1, std::memory_order_release);
}

Status LogImpl::SealActive() {
  Footer f;
  f.first_lsn = active_->first_lsn;
  f.last_lsn = next_lsn_ - 1;
  f.record_count = segment_records_;
  f.last_time_ns = last_time_;
  if (hash_from_file_) {
    ASSIGN_OR_RETURN(f.data_checksum, ActiveDataChecksum());
  } else {
    f.data_checksum = XXH3_64bits_digest(data_hash_);
  }
  {
    std::lock_guard<std::mutex> l(active_->index_mu);
    f.index = active_->index;
  }
  f.index.insert(f.index.end(), pending_index_.begin(), pending_index_.end());
  f.first_time_ns = f.index.empty() ? 0 : f.index.front().time_ns;
  std::string rec;
  AppendRecord(&rec, RecordType::kFooter, f.last_lsn, last_time_, chain_, EncodeFooter(f));
  char trailer[kTrailerSize];
  PutU64(trailer, write_off_);
  PutU64(trailer + 8, kTrailerMagic);
  rec.append(trailer, kTrailerSize);
  // The records must be durable before the footer that vouches for them: otherwise a power loss
  // could keep the footer and trailer but drop the records they describe. Then footer and
  // trailer, trim the preallocated space, and make it all durable: only then may the next
  // segment exist (so only the last segment can ever have a torn tail).
  if (dirty_) RETURN_IF_ERROR(SyncActive());
  written_end_ = std::max(written_end_, write_off_ + rec.size());
  RETURN_IF_ERROR(active_file_->Write(write_off_, rec));
  RETURN_IF_ERROR(active_file_->Truncate(write_off_ + rec.size()));
  RETURN_IF_ERROR(SyncActive());
  RETURN_IF_ERROR(active_file_->Close());
  active_->sealed.store(true, std::memory_order_release);
  return Status::Ok();
}

Status LogImpl::CreateSegment(Lsn first_lsn) {
  auto seg = std::make_shared<Segment>();
  seg->name = SegmentFileName(first_lsn);
  seg->path = JoinPath(dir_, seg->name);
  seg->first_lsn = first_lsn;
  seg->prev_checksum = chain_;
  seg->last_lsn.store(first_lsn - 1);
  seg->last_checksum = chain_;
  seg->mark = kWriteEndMarkSize;
  ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> wf,
                   fs_->OpenWritable(seg->path, OpenMode::kCreateNew));
  const uint64_t allocate = std::min(options_.segment_size, kAllocationStep);
  RETURN_IF_ERROR(wf->Allocate(allocate));
  SegmentHeader h;
  std::memcpy(h.store_id, store_id_, 16);
  h.first_lsn = first_lsn;
  h.prev_checksum = chain_;
  h.created_ns = NowNs();
  char hb[kSegmentHeaderSize];
  EncodeSegmentHeader(h, hb);
  RETURN_IF_ERROR(wf->Write(0, std::string_view(hb, kSegmentHeaderSize)));
  RETURN_IF_ERROR(wf->Sync());
  RETURN_IF_ERROR(fs_->SyncDir(dir_));
  ASSIGN_OR_RETURN(seg->file, fs_->OpenReadable(seg->path));

  XXH3_64bits_reset(data_hash_);
  XXH3_64bits_update(data_hash_, hb, kSegmentHeaderSize);
  hash_from_file_ = false;
  allocated_ = allocate;
  last_record_off_ = 0;
  ckpt_end_ = 0;
  active_file_ = std::move(wf);
  active_ = seg;
  write_off_ = kSegmentHeaderSize;
  durable_off_ = write_off_;
  written_end_ = write_off_;
  buf_off_ = write_off_;
  segment_records_ = 0;
  last_index_off_ = 0;
  dirty_ = false;
  std::lock_guard<std::mutex> l(mu_);
  segments_.push_back(std::move(seg));
  return Status::Ok();
}

Result<uint64_t> LogImpl::ActiveDataChecksum() {
  XXH3_state_t* st = XXH3_createState();
  XXH3_64bits_reset(st);
  constexpr uint64_t kChunk = 1 << 20;
  std::string buf(kChunk, '\0');
  Status status;
  for (uint64_t off = 0; off < write_off_ && status.ok();) {
    const uint64_t n = std::min(kChunk, write_off_ - off);
    auto got = active_->file->Read(off, n, buf.data());
    if (!got.ok()) {
      status = got.status();
      break;
    }
    XXH3_64bits_update(st, got->data(), got->size());
    if (got->size() < n) {
      // A file cut inside its last record's padding: the writer went on after the padding,
      // which is zeros by the format (as recovery hashes it).
      const std::string zeros(n - got->size(), '\0');
      XXH3_64bits_update(st, zeros.data(), zeros.size());
    }
    off += n;
  }
  const uint64_t digest = XXH3_64bits_digest(st);
  XXH3_freeState(st);
  if (!status.ok()) return status;
  return digest;
}

void LogImpl::MaybeCheckpoint(uint64_t min_bytes) {
  if (options_.checkpoint_bytes == 0 || !active_ || !active_file_ || dirty_ ||
      active_->sealed.load(std::memory_order_acquire) || active_->mark != kWriteEndMarkSize) {
    return;
  }
  // Not dirty: everything written, up to write_off_, is synced, and the writer's state is the
  // state a scan would reach there.
  const uint64_t base = ckpt_end_ != 0 ? ckpt_end_ : kSegmentHeaderSize;
  if (write_off_ == ckpt_end_ || write_off_ < base + min_bytes) return;
  Checkpoint c;
  std::memcpy(c.store_id, store_id_, 16);
  c.segment = active_->first_lsn;
  c.end = write_off_;
  c.record_count = segment_records_;
  c.last_record = segment_records_ > 0 ? last_record_off_ : 0;
  c.last_lsn = next_lsn_ - 1;
  c.last_checksum = chain_;
  c.last_time_ns = last_time_;
  {
    std::lock_guard<std::mutex> l(active_->index_mu);
    for (const IndexEntry& e : active_->index) {
      if (e.offset < c.end) c.index.push_back(e);
    }
  }
  c.first_time_ns = c.index.empty() ? 0 : c.index.front().time_ns;
  ckpt_end_ = c.end;  // tried once per interval even if it fails
  const std::string bytes = EncodeCheckpoint(c);
  if (!ckpt_file_) {
    const std::string path = JoinPath(dir_, kCheckpointFileName);
    const OpenMode mode = fs_->Exists(path) ? OpenMode::kExisting : OpenMode::kCreateNew;
    auto f = fs_->OpenWritable(path, mode);
    if (!f.ok()) return;
    ckpt_file_ = std::move(f).value();
  }
  // In place, not synced: a reader that catches it half-written, or an open after a crash that
  // tore it, finds a checksum mismatch and scans the whole segment.
  if (!ckpt_file_->Write(0, bytes).ok()) ckpt_file_.reset();
}

}  // namespace tink::log::internal
