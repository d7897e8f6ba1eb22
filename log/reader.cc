// Iteration: chunked pread over segments, every record's checksum, LSN sequence and hash chain
// checked before it is returned. Concurrent with the writer: bounded by each segment's published
// end and by the last visible LSN.
#include <algorithm>
#include <cstring>
#include <memory>

#include "log/internal/log_impl.h"
#include "log/internal/record.h"

namespace tink::log::internal {
namespace {

// Reads start at kFirstChunk (a seek lands within kIndexIntervalBytes of its record, so a point
// read needs little more) and double on each refill up to kChunk for sequential scans.
constexpr uint64_t kFirstChunk = 2 * kIndexIntervalBytes;
constexpr uint64_t kChunk = 1 << 20;

class IteratorImpl final : public LogIterator {
 public:
  IteratorImpl(LogImpl* log, Lsn from) : log_(log), from_(std::max<Lsn>(from, 1)) { Seek(); }

  bool Valid() const override { return valid_; }
  const LogRecord& record() const override { return rec_; }
  Status status() const override { return status_; }
  void Next() override {
    if (valid_) Advance();
  }

 private:
  void Seek() {
    segs_ = log_->Segments();
    if (segs_.empty()) return;
    idx_ = 0;
    for (size_t i = 0; i < segs_.size(); ++i) {
      if (segs_[i]->first_lsn <= from_) idx_ = i;
    }
    const Segment& seg = *segs_[idx_];
    off_ = kSegmentHeaderSize;
    {
      std::lock_guard<std::mutex> l(seg.index_mu);
      auto it = std::upper_bound(seg.index.begin(), seg.index.end(), from_,
                                 [](Lsn v, const IndexEntry& e) { return v < e.lsn; });
      if (it != seg.index.begin()) {
        --it;
        off_ = it->offset;
        expect_lsn_ = it->lsn;
      }
    }
    if (off_ == kSegmentHeaderSize) {
      expect_lsn_ = seg.first_lsn;
      prev_ = seg.prev_checksum;
      chain_known_ = true;
    }
    Advance();
  }

  void Corrupt(const Segment& seg, uint64_t off, const std::string& what) {
    valid_ = false;
    status_ = Status::Corruption(Where(seg.name, off) + " (LSN " + std::to_string(expect_lsn_) +
                                 "): " + what);
  }

  // Makes [off, off+n) available in buf_; returns bytes available from off (may be < n at end).
  Result<uint64_t> Fill(const Segment& seg, uint64_t off, uint64_t n, uint64_t end) {
    if (off >= buf_start_ && off + n <= buf_start_ + size_) {
      return buf_start_ + size_ - off;
    }
    const uint64_t want = std::min(std::max(n, chunk_), end - off);
    chunk_ = std::min(chunk_ * 2, kChunk);
    if (want > cap_) {  // not zero-filled: every byte used is read first
      buf_ = std::make_unique_for_overwrite<char[]>(want);
      cap_ = want;
    }
    ASSIGN_OR_RETURN(std::string_view got, seg.file->Read(off, want, buf_.get()));
    if (got.data() != buf_.get()) std::memmove(buf_.get(), got.data(), got.size());
    size_ = got.size();
    buf_start_ = off;
    return size_;
  }

  void Advance() {
    valid_ = false;
    while (true) {
      const Segment& seg = *segs_[idx_];
      const uint64_t end = seg.end.load(std::memory_order_acquire);
      if (off_ >= end) {
        if (idx_ + 1 >= segs_.size()) segs_ = log_->Segments();
        if (idx_ + 1 >= segs_.size()) return;  // clean end (for now)
        if (seg.end.load(std::memory_order_acquire) > off_) {
          continue;  // the writer published more here before it moved on
        }
        const Segment& next = *segs_[idx_ + 1];
        if (next.first_lsn != expect_lsn_) {
          return Corrupt(next, 0, "segment starts at LSN " + std::to_string(next.first_lsn));
        }
        if (chain_known_ && next.prev_checksum != prev_) {
          return Corrupt(next, 0, "hash chain broken between segments");
        }
        ++idx_;
        off_ = kSegmentHeaderSize;
        size_ = 0;
        buf_start_ = 0;
        continue;
      }
      auto avail = Fill(seg, off_, kRecordHeaderSize, end);
      if (!avail.ok()) {
        status_ = avail.status();
        return;
      }
      uint64_t limit = std::min(*avail, end - off_);
      if (limit >= kRecordHeaderSize) {
        const uint64_t len = GetU32(buf_.get() + (off_ - buf_start_) + 32);
        const uint64_t need = kRecordHeaderSize + std::min<uint64_t>(len, end - off_);
        if (need > limit) {
          avail = Fill(seg, off_, need, end);
          if (!avail.ok()) {
            status_ = avail.status();
            return;
          }
          limit = std::min(*avail, end - off_);
        }
      }
      const char* p = buf_.get() + (off_ - buf_start_);
      RecordHeader h;
      const RecordCheck c = CheckRecord(p, limit, log_->options().max_record_size, &h);
      if (c != RecordCheck::kOk) return Corrupt(seg, off_, RecordCheckName(c));
      if (!IsKnownRecordType(h.type) || h.type == static_cast<uint8_t>(RecordType::kFooter)) {
        off_ += RecordSpan(h.length, h.flags, seg.mark);  // skippable type from a newer writer
        continue;
      }
      if (h.lsn != expect_lsn_) {
        return Corrupt(seg, off_, "found LSN " + std::to_string(h.lsn));
      }
      if (chain_known_ && h.prev != prev_) return Corrupt(seg, off_, "hash chain broken");
      if (h.lsn > log_->LastLsn()) return;  // written but not yet acknowledged
      prev_ = h.checksum;
      chain_known_ = true;
      rec_.offset = off_;
      rec_.segment = seg.name;
      off_ += RecordSpan(h.length, h.flags, seg.mark);
      ++expect_lsn_;
      if (h.lsn < from_) continue;
      rec_.lsn = h.lsn;
      rec_.time_ns = h.time_ns;
      rec_.payload = std::string_view(p + kRecordHeaderSize, h.length);
      valid_ = true;
      return;
    }
  }

  LogImpl* log_;
  const Lsn from_;
  std::vector<std::shared_ptr<Segment>> segs_;
  size_t idx_ = 0;
  uint64_t off_ = 0;
  Lsn expect_lsn_ = 1;
  uint64_t prev_ = 0;
  bool chain_known_ = false;
  std::unique_ptr<char[]> buf_;  // bytes [buf_start_, buf_start_ + size_) of the segment
  uint64_t cap_ = 0, size_ = 0;
  uint64_t chunk_ = kFirstChunk;
  uint64_t buf_start_ = 0;
  LogRecord rec_;
  bool valid_ = false;
  Status status_;
};

}  // namespace

std::vector<std::shared_ptr<Segment>> LogImpl::Segments() const {
  std::lock_guard<std::mutex> l(mu_);
  return segments_;
}

std::unique_ptr<LogIterator> LogImpl::NewIterator(Lsn from) {
  return std::make_unique<IteratorImpl>(this, from);
}

Lsn LogImpl::LsnAtTime(int64_t time_ns) {
  const auto segs = Segments();
  Lsn start = 0;
  for (const auto& seg : segs) {
    if (seg->last_lsn.load() < seg->first_lsn) continue;  // empty
    if (seg->last_time.load() < time_ns) continue;
    start = seg->first_lsn;
    std::lock_guard<std::mutex> l(seg->index_mu);
    for (const IndexEntry& e : seg->index) {
      if (e.time_ns >= time_ns) break;
      start = e.lsn;
    }
    break;
  }
  if (start == 0) return LastLsn() + 1;
  for (auto it = NewIterator(start); it->Valid(); it->Next()) {
    if (it->record().time_ns >= time_ns) return it->record().lsn;
  }
  return LastLsn() + 1;
}

}  // namespace tink::log::internal
