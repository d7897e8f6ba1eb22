// Opening a log: load sealed segments from their footers, scan the active segment, cut a torn
// tail, refuse corruption. See docs/log-format.md "Recovery".
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <random>

#include "log/internal/log_impl.h"
#include "log/internal/record.h"

namespace tink::log::internal {

Status LogImpl::CheckHeader(const std::string& name, const SegmentHeader& h, Lsn expected_first,
                            uint64_t expected_prev, bool first_segment) {
  Lsn named = 0;
  ParseSegmentFileName(name, &named);
  if (h.first_lsn != named) {
    return Status::Corruption(Where(name, 0) + ": header says first LSN " +
                              std::to_string(h.first_lsn) + ", file name says " +
                              std::to_string(named));
  }
  if (first_segment) return Status::Ok();
  if (std::memcmp(h.store_id, store_id_, 16) != 0) {
    return Status::Corruption(Where(name, 0) + ": segment belongs to another store (store id " +
                              HexId(h.store_id) + ", expected " + store_id_hex_ + ")");
  }
  if (h.first_lsn != expected_first) {
    return Status::Corruption(Where(name, 0) + " (LSN " + std::to_string(expected_first) +
                              "): segment starts at LSN " + std::to_string(h.first_lsn) +
                              "; records are missing between segments");
  }
  if (h.prev_checksum != expected_prev) {
    return Status::Corruption(Where(name, 0) + " (LSN " + std::to_string(expected_first) +
                              "): hash chain broken between segments");
  }
  return Status::Ok();
}

Status LogImpl::LoadSealed(const std::shared_ptr<Segment>& seg, const SegmentHeader& h,
                           uint64_t file_size) {
  char trailer[kTrailerSize];
  ASSIGN_OR_RETURN(std::string_view t, seg->file->Read(file_size - kTrailerSize, kTrailerSize,
                                                       trailer));
  const uint64_t footer_off = GetU64(t.data());
  if (t.size() != kTrailerSize || GetU64(t.data() + 8) != kTrailerMagic ||
      footer_off < kSegmentHeaderSize || footer_off + kRecordHeaderSize + kTrailerSize > file_size) {
    return Status::Corruption(Where(seg->name, file_size - kTrailerSize) +
                              ": sealed segment has a bad trailer");
  }
  const uint64_t n = file_size - kTrailerSize - footer_off;
  std::string buf(n, '\0');
  ASSIGN_OR_RETURN(std::string_view fb, seg->file->Read(footer_off, n, buf.data()));
  RecordHeader rh;
  RecordCheck c = CheckRecord(fb.data(), fb.size(), UINT32_MAX, &rh);
  Footer f;
  Status st = c == RecordCheck::kOk && rh.type == static_cast<uint8_t>(RecordType::kFooter)
                  ? DecodeFooter(fb.substr(kRecordHeaderSize, rh.length), &f)
                  : Status::Corruption(RecordCheckName(c));
  if (!st.ok() || f.first_lsn != h.first_lsn || f.last_lsn + 1 < h.first_lsn) {
    return Status::Corruption(Where(seg->name, footer_off) + ": bad segment footer: " +
                              (st.ok() ? "LSN range does not match the header" : st.message()));
  }
  seg->end.store(footer_off);
  seg->last_lsn.store(f.last_lsn);
  seg->first_time.store(f.first_time_ns);
  seg->last_time.store(f.last_time_ns);
  seg->last_checksum = rh.prev;
  seg->sealed.store(true);
  std::lock_guard<std::mutex> l(seg->index_mu);
  seg->index = std::move(f.index);
  return Status::Ok();
}

Status LogImpl::RecoverActive(const std::shared_ptr<Segment>& seg, const SegmentHeader& h,
                              int64_t min_time, RecoveryReport* report) {
  ASSIGN_OR_RETURN(std::string data, ReadWholeFile(*seg->file));
  if (options_.progress) options_.progress(data.size(), data.size());
  // Bytes whose fsync failed earlier in this process are not there, whatever the cache shows.
  const std::optional<uint64_t> unsynced = UnsyncedFrom(seg->path);
  std::string shown;
  if (unsynced && *unsynced < data.size()) {
    shown = data;
    std::fill(data.begin() + static_cast<std::ptrdiff_t>(*unsynced), data.end(), '\0');
  }
  SegmentScan s;
  s.data = data;
  s.next_lsn = h.first_lsn;
  s.prev = h.prev_checksum;
  s.min_time = min_time;
  s.max_payload = options_.max_record_size;
  s.mark = seg->mark;
  ScanSegment(&s);

  if (s.stop == SegmentScan::Stop::kCorrupt) {
    const Lsn bad = s.last_lsn + 1;
    const std::string lsns = s.damaged_last > bad ? "LSNs " + std::to_string(bad) + ".." +
                                                        std::to_string(s.damaged_last)
                                                  : "LSN " + std::to_string(bad);
    Status damage = Status::Corruption(
        Where(seg->name, s.bad_offset) + " (" + lsns + "): " + s.what +
        (options_.read_only ? ". Records before it are readable; inspect with `tink verify`"
                            : ". The log was not opened for writing; inspect with `tink "
                              "verify`, then `tink recover --truncate-at " +
                                  std::to_string(bad) + "` to drop it and what follows"));
    if (!options_.read_only) return damage;
    // A reader serves everything before the damage and says where it stops (the engine decides
    // whether to show it: a writer mid-write can look like this for a moment).
    report->damage = std::move(damage);
  }
  std::unique_ptr<WritableFile> wf;
  if (!options_.read_only) {
    ASSIGN_OR_RETURN(wf, fs_->OpenWritable(seg->path, OpenMode::kExisting));
  }
  if (s.stop == SegmentScan::Stop::kTorn) {
    report->torn_tail = true;
    report->segment = seg->name;
    report->offset = s.bad_offset;
    report->bytes_dropped = s.nonzero_end > s.bad_offset ? s.nonzero_end - s.bad_offset : 0;
    if (wf) {
      // Clear the garbage so a later scan cannot mistake it for records after new ones.
      std::string zeros(report->bytes_dropped, '\0');
      RETURN_IF_ERROR(wf->Write(s.bad_offset, zeros));
      RETURN_IF_ERROR(wf->Sync());
    }
  }
  if (unsynced && wf) {
    // Clear what the failed fsync left in the cache, as for a torn tail.
    const uint64_t from = std::max(*unsynced, s.end);
    const uint64_t to = shown.empty() ? from : NonZeroEnd(shown, from);
    if (to > from) {
      RETURN_IF_ERROR(wf->Write(from, std::string(to - from, '\0')));
      RETURN_IF_ERROR(wf->Sync());
      report->torn_tail = true;
      report->segment = seg->name;
      report->offset = from;
      report->bytes_dropped = to - from;
    }
    ForgetUnsynced(seg->path);
  }

  seg->end.store(s.end);
  seg->last_lsn.store(s.last_lsn);
  seg->first_time.store(s.count > 0 ? s.first_time : 0);
  seg->last_time.store(s.count > 0 ? s.last_time : 0);
  seg->last_checksum = s.last_checksum;
  {
    std::lock_guard<std::mutex> l(seg->index_mu);
    seg->index = s.index;
  }

  if (s.stop == SegmentScan::Stop::kFooter) {
    // A crash between writing the footer and trimming the file: finish sealing.
    seg->sealed.store(true);
    {
      std::lock_guard<std::mutex> l(seg->index_mu);
      seg->index = s.footer.index;
    }
    if (wf) {
      char trailer[kTrailerSize];
      PutU64(trailer, s.footer_offset);
      PutU64(trailer + 8, kTrailerMagic);
      RETURN_IF_ERROR(wf->Write(s.footer_end - kTrailerSize, std::string_view(trailer, 16)));
      RETURN_IF_ERROR(wf->Truncate(s.footer_end));
      RETURN_IF_ERROR(wf->Sync());
      RETURN_IF_ERROR(wf->Close());
    }
    return Status::Ok();
  }
  if (!wf) return Status::Ok();

  // This segment stays the active one: hand its state to the writer.
  active_ = seg;
  active_file_ = std::move(wf);
  write_off_ = s.end;
  chain_ = s.last_checksum;
  next_lsn_ = s.last_lsn + 1;
  last_time_ = std::max(min_time, s.last_time);
  segment_records_ = s.count;
  durable_off_ = s.end;
  written_end_ = s.end;
  last_index_off_ = s.index.empty() ? 0 : s.index.back().offset;
  // A file cut inside the last record's padding still holds that record whole (the checksum
  // does not cover padding), so s.end may lie past the bytes read: the missing padding is zeros
  // by the format, and the writer continues at s.end. Hash exactly those bytes.
  if (data.size() < s.end) data.resize(s.end, '\0');
  XXH3_64bits_reset(data_hash_);
  XXH3_64bits_update(data_hash_, data.data(), s.end);
  return Status::Ok();
}

Status LogImpl::LoadSegments(const std::vector<SegmentName>& listed, size_t from,
                             Lsn* expected_first, uint64_t* expected_prev, int64_t* last_time,
                             std::vector<std::shared_ptr<Segment>>* out, RecoveryReport* report) {
  for (size_t i = from; i < listed.size(); ++i) {
    const bool last = i + 1 == listed.size();
    auto seg = std::make_shared<Segment>();
    seg->name = listed[i].name;
    seg->path = JoinPath(dir_, seg->name);
    seg->first_lsn = listed[i].first_lsn;
    ASSIGN_OR_RETURN(seg->file, fs_->OpenReadable(seg->path));
    ASSIGN_OR_RETURN(uint64_t size, seg->file->Size());
    char hb[kSegmentHeaderSize];
    ASSIGN_OR_RETURN(std::string_view hv, seg->file->Read(0, kSegmentHeaderSize, hb));
    if (last && (hv.size() < kSegmentHeaderSize || IsAllZero(hv.data(), hv.size()))) {
      // A crash while creating the next segment: its header never became durable.
      report->torn_tail = true;
      report->segment = seg->name;
      report->offset = 0;
      if (!options_.read_only) {
        RETURN_IF_ERROR(fs_->Remove(seg->path));
        RETURN_IF_ERROR(fs_->SyncDir(dir_));
      }
      break;
    }
    SegmentHeader h;
    Status st = DecodeSegmentHeader(hv, &h);
    if (!st.ok()) return Status::Corruption(Where(seg->name, 0) + ": " + st.message());
    if (i == 0) {
      std::memcpy(store_id_, h.store_id, 16);
      store_id_hex_ = HexId(store_id_);
    }
    RETURN_IF_ERROR(CheckHeader(seg->name, h, *expected_first, *expected_prev, i == 0));
    seg->prev_checksum = h.prev_checksum;
    seg->mark = EndMarkSize(h.version);

    const bool has_trailer = [&] {
      if (size < kSegmentHeaderSize + kRecordHeaderSize + kTrailerSize) return false;
      char t[kTrailerSize];
      auto r = seg->file->Read(size - kTrailerSize, kTrailerSize, t);
      return r.ok() && r->size() == kTrailerSize && GetU64(r->data() + 8) == kTrailerMagic;
    }();
    if (!last || has_trailer) {
      Status ls = LoadSealed(seg, h, size);
      if (!ls.ok()) {
        // Only the last segment may be unsealed; a middle one without a footer is damage.
        if (!last) return ls;
        RETURN_IF_ERROR(RecoverActive(seg, h, *last_time, report));
      }
    } else {
      RETURN_IF_ERROR(RecoverActive(seg, h, *last_time, report));
    }
    *expected_first = seg->last_lsn.load() + 1;
    *expected_prev = seg->last_checksum;
    if (seg->last_time.load() != 0) *last_time = seg->last_time.load();
    out->push_back(seg);
  }

  return Status::Ok();
}

Status LogImpl::Open(RecoveryReport* report) {
  RecoveryReport local;
  if (report == nullptr) report = &local;
  *report = RecoveryReport{};
  if (options_.read_only) {
    if (!fs_->Exists(dir_)) return Status::NotFound("no log at " + dir_);
  } else if (!fs_->Exists(dir_)) {
    RETURN_IF_ERROR(fs_->CreateDir(dir_));
    std::string parent = std::filesystem::path(dir_).parent_path().string();
    RETURN_IF_ERROR(fs_->SyncDir(parent.empty() ? "." : parent));
  }
  ASSIGN_OR_RETURN(std::vector<SegmentName> listed, ListSegments(fs_, dir_));

  Lsn expected_first = 1;
  uint64_t expected_prev = 0;
  int64_t last_time = 0;
  RETURN_IF_ERROR(LoadSegments(listed, 0, &expected_first, &expected_prev, &last_time,
                               &segments_, report));

  Lsn last_lsn = segments_.empty() ? 0 : segments_.back()->last_lsn.load();
  visible_lsn_.store(last_lsn);
  report->last_lsn = last_lsn;
  if (options_.read_only) return Status::Ok();

  if (segments_.empty()) {
    store_id_hex_.clear();
    std::random_device rd;
    for (uint8_t& b : store_id_) b = static_cast<uint8_t>(rd());
    store_id_hex_ = HexId(store_id_);
  }
  if (active_ && active_->mark != kWriteEndMarkSize) {
    // The active segment is of an older format version: seal it as it is and write new records
    // in the current format (a segment never mixes versions).
    RETURN_IF_ERROR(SealActive());
    active_.reset();
    active_file_.reset();
  }
  if (!active_) {
    // No segment, or the last one is sealed: start a fresh one after it.
    chain_ = expected_prev;
    next_lsn_ = expected_first;
    last_time_ = last_time;
    RETURN_IF_ERROR(CreateSegment(next_lsn_));
  }
  last_sync_ = Now();
  reserved_lsn_ = next_lsn_;
  writer_ = std::thread([this] { WriterLoop(); });
  return Status::Ok();
}

Status LogImpl::Refresh() {
  if (!options_.read_only) return Status::Ok();  // a writer's own view is always current
  // Sealed segments never change: keep them, and load the rest (the segment that was active
  // when we last looked, and any created since) as Open does.
  std::vector<std::shared_ptr<Segment>> segs = Segments();
  size_t keep = 0;
  while (keep < segs.size() && segs[keep]->sealed.load()) ++keep;
  Lsn expected_first = keep ? segs[keep - 1]->last_lsn.load() + 1 : 1;
  uint64_t expected_prev = keep ? segs[keep - 1]->last_checksum : 0;
  int64_t last_time = keep ? segs[keep - 1]->last_time.load() : 0;
  ASSIGN_OR_RETURN(std::vector<SegmentName> listed, ListSegments(fs_, dir_));
  size_t from = 0;
  while (from < listed.size() && listed[from].first_lsn < expected_first) ++from;
  if (from != keep) return Status::Corruption("segments of " + dir_ + " changed under a reader");
  segs.resize(keep);
  RecoveryReport report;
  RETURN_IF_ERROR(LoadSegments(listed, from, &expected_first, &expected_prev, &last_time, &segs,
                               &report));
  std::lock_guard<std::mutex> l(mu_);
  segments_ = std::move(segs);
  visible_lsn_.store(segments_.empty() ? 0 : segments_.back()->last_lsn.load());
  return Status::Ok();
}

}  // namespace tink::log::internal
