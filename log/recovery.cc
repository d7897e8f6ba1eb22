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

std::optional<Checkpoint> LogImpl::UsableCheckpoint(const Segment& seg, const SegmentHeader& h,
                                                    uint64_t size, int64_t min_time) {
  if (options_.checkpoint_bytes == 0 || seg.mark != kWriteEndMarkSize) return std::nullopt;
  if (UnsyncedFrom(seg.path)) return std::nullopt;  // a failed fsync here: look at everything
  auto f = fs_->OpenReadable(JoinPath(dir_, kCheckpointFileName));
  if (!f.ok()) return std::nullopt;
  auto fsize = (*f)->Size();
  if (!fsize.ok() || *fsize > (64ULL << 20)) return std::nullopt;
  auto bytes = ReadWholeFile(**f);
  Checkpoint c;
  if (!bytes.ok() || !DecodeCheckpoint(*bytes, &c).ok()) return std::nullopt;
  if (std::memcmp(c.store_id, store_id_, 16) != 0 || c.segment != seg.first_lsn ||
      c.end < kSegmentHeaderSize || c.end % kAlignment != 0 || c.end > size ||
      c.last_time_ns < min_time) {
    return std::nullopt;
  }
  if (c.record_count == 0) {
    // An empty segment: nothing to check against but its header.
    if (c.end != kSegmentHeaderSize || c.last_lsn + 1 != h.first_lsn ||
        c.last_checksum != h.prev_checksum || !c.index.empty()) {
      return std::nullopt;
    }
    return c;
  }
  if (c.last_lsn + 1 != h.first_lsn + c.record_count || c.last_record < kSegmentHeaderSize ||
      c.last_record + kRecordHeaderSize + kWriteEndMarkSize > c.end ||
      c.end - c.last_record > RecordSpan(options_.max_record_size) + kWriteEndMarkSize) {
    return std::nullopt;
  }
  // The record it names must be there as it was: LSN, checksum (so its chain value), time, and
  // ending a write right before `end`.
  const uint64_t n = c.end - c.last_record;
  std::string rec(n, '\0');
  auto got = seg.file->Read(c.last_record, n, rec.data());
  RecordHeader rh;
  if (!got.ok() || got->size() != n ||
      CheckRecord(got->data(), n, options_.max_record_size, &rh) != RecordCheck::kOk ||
      rh.lsn != c.last_lsn || rh.checksum != c.last_checksum || rh.time_ns != c.last_time_ns ||
      (rh.flags & kFlagWriteEnd) == 0 ||
      (rh.type != static_cast<uint8_t>(RecordType::kFull) &&
       rh.type != static_cast<uint8_t>(RecordType::kLast)) ||
      c.last_record + RecordSpan(rh.length) + kWriteEndMarkSize != c.end) {
    return std::nullopt;
  }
  // Its index: starts at the first record, ascending, inside [header, end).
  if (c.index.empty() || c.index[0].lsn != h.first_lsn || c.index[0].offset != kSegmentHeaderSize ||
      c.index[0].time_ns != c.first_time_ns || c.first_time_ns < min_time ||
      c.first_time_ns > c.last_time_ns) {
    return std::nullopt;
  }
  for (size_t i = 1; i < c.index.size(); ++i) {
    const IndexEntry& a = c.index[i - 1];
    const IndexEntry& b = c.index[i];
    if (b.lsn <= a.lsn || b.offset <= a.offset || b.time_ns < a.time_ns || b.lsn > c.last_lsn ||
        b.offset > c.last_record) {
      return std::nullopt;
    }
  }
  return c;
}

Status LogImpl::RecoverActive(const std::shared_ptr<Segment>& seg, const SegmentHeader& h,
                              int64_t min_time, RecoveryReport* report) {
  ASSIGN_OR_RETURN(const uint64_t size, seg->file->Size());
  // A checkpoint that matches its record lets the scan start where it ends: the records before
  // it were synced and scanned when it was written, and readers check each one as they read it
  // (as for sealed segments; `tink verify` reads every byte).
  const std::optional<Checkpoint> ck =
      options_.read_only || !options_.writer_scans_active_segment
          ? UsableCheckpoint(*seg, h, size, min_time)
          : std::nullopt;
  const uint64_t start = ck ? ck->end : 0;
  // Only [start, size) is read: the buffer's pages before it are never touched.
  std::unique_ptr<char[]> buf = std::make_unique_for_overwrite<char[]>(std::max<uint64_t>(size, 1));
  uint64_t have = start;
  if (size > start) {
    ASSIGN_OR_RETURN(std::string_view got, seg->file->Read(start, size - start, buf.get() + start));
    if (got.data() != buf.get() + start) std::memmove(buf.get() + start, got.data(), got.size());
    have = start + got.size();
  }
  std::string_view data(buf.get(), have);
  if (options_.progress) options_.progress(size, size);
  // Bytes whose fsync failed earlier in this process are not there, whatever the cache shows.
  const std::optional<uint64_t> unsynced = UnsyncedFrom(seg->path);
  std::string shown;
  if (unsynced && *unsynced < data.size()) {
    shown = std::string(data);
    std::fill(buf.get() + *unsynced, buf.get() + data.size(), '\0');
  }
  SegmentScan s;
  s.data = data;
  s.max_payload = options_.max_record_size;
  s.mark = seg->mark;
  if (ck) {
    s.start = ck->end;
    s.next_lsn = ck->last_lsn + 1;
    s.prev = ck->last_checksum;
    s.min_time = ck->last_time_ns;
    s.prior_count = ck->record_count;
    s.prior_index_offset = ck->index.empty() ? 0 : ck->index.back().offset;
    s.last_record = ck->last_record;
  } else {
    s.next_lsn = h.first_lsn;
    s.prev = h.prev_checksum;
    s.min_time = min_time;
  }
  ScanSegment(&s);
  const uint64_t count = (ck ? ck->record_count : 0) + s.count;
  int64_t first_time = s.count > 0 ? s.first_time : 0;
  std::vector<IndexEntry> index = std::move(s.index);
  if (ck && ck->record_count > 0) {
    first_time = ck->first_time_ns;
    index.insert(index.begin(), ck->index.begin(), ck->index.end());
  }

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
  seg->first_time.store(count > 0 ? first_time : 0);
  seg->last_time.store(count > 0 ? s.last_time : 0);
  seg->last_checksum = s.last_checksum;
  {
    std::lock_guard<std::mutex> l(seg->index_mu);
    seg->index = index;
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
  segment_records_ = count;
  durable_off_ = s.end;
  written_end_ = s.end;
  last_index_off_ = index.empty() ? 0 : index.back().offset;
  last_record_off_ = count > 0 ? s.last_record : 0;
  allocated_ = size;
  ckpt_end_ = ck ? ck->end : 0;
  XXH3_64bits_reset(data_hash_);
  hash_from_file_ = ck.has_value();
  if (!hash_from_file_) {
    // A file cut inside the last record's padding still holds that record whole (the checksum
    // does not cover padding), so s.end may lie past the bytes read: the missing padding is
    // zeros by the format, and the writer continues at s.end. Hash exactly those bytes.
    XXH3_64bits_update(data_hash_, data.data(), std::min<uint64_t>(data.size(), s.end));
    if (data.size() < s.end) {
      const std::string zeros(s.end - data.size(), '\0');
      XXH3_64bits_update(data_hash_, zeros.data(), zeros.size());
    }
  }
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
