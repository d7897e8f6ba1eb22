// Offline checks and repair: VerifyLog reads every byte; TruncateLogAt cuts the log at an LSN.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

#include "log/internal/log_impl.h"
#include "log/internal/record.h"

namespace tink::log {

using internal::Footer;
using internal::SegmentScan;

namespace {

Result<std::string> ReadAll(FileSystem* fs, const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> f, fs->OpenReadable(path));
  return internal::ReadWholeFile(*f);
}

// Checks a sealed segment's footer against the scan of its records.
void CheckFooter(const std::string& name, const std::string& data, const SegmentScan& s,
                 VerifyReport* r) {
  auto problem = [&](uint64_t off, std::string what) {
    r->problems.push_back({name, off, s.last_lsn, std::move(what)});
  };
  const Footer& f = s.footer;
  if (s.footer_end != data.size()) {
    problem(s.footer_offset, "sealed segment does not end at its trailer");
  } else if (GetU64(data.data() + data.size() - 8) != kTrailerMagic ||
             GetU64(data.data() + data.size() - 16) != s.footer_offset) {
    problem(data.size() - kTrailerSize, "bad segment trailer");
  }
  if (f.last_lsn != s.last_lsn || f.record_count != s.count ||
      (s.count > 0 && (f.first_time_ns != s.first_time || f.last_time_ns != s.last_time))) {
    problem(s.footer_offset, "footer summary does not match the records");
  }
  if (internal::Checksum(data.data(), s.footer_offset) != f.data_checksum) {
    problem(s.footer_offset, "segment checksum mismatch");
  }
  for (const internal::IndexEntry& e : f.index) {
    internal::RecordHeader h;
    // Written so that no sum can wrap: the offset comes from disk and may be anything.
    const bool ok =
        e.offset <= s.footer_offset && s.footer_offset - e.offset >= kRecordHeaderSize &&
        internal::CheckRecord(data.data() + e.offset, s.footer_offset - e.offset, UINT32_MAX, &h) ==
            internal::RecordCheck::kOk &&
        h.lsn == e.lsn && h.time_ns == e.time_ns;
    if (!ok) {
      problem(s.footer_offset, "footer index entry for LSN " + std::to_string(e.lsn) +
                                   " does not point at that record");
      break;
    }
  }
}

}  // namespace

namespace {

// Verifies one segment's bytes given what the segments before it established; appends problems
// to r. Returns the scan (for the caller to carry the chain on).
SegmentScan VerifySegment(const std::string& name, const std::string& data, bool last,
                          const SegmentHeader& h, int64_t last_time, VerifyReport* r) {
  SegmentScan s;
  s.data = data;
  s.next_lsn = h.first_lsn;
  s.prev = h.prev_checksum;
  s.min_time = last_time;
  s.max_payload = UINT32_MAX;  // verify must not call a record corrupt for a smaller limit
  s.mark = EndMarkSize(h.version);
  internal::ScanSegment(&s);
  switch (s.stop) {
    case SegmentScan::Stop::kCorrupt:
      r->problems.push_back({name, s.bad_offset, s.last_lsn + 1, s.what, s.damaged_last});
      break;
    case SegmentScan::Stop::kTorn:
      if (last) {
        r->torn_tail = true;
        r->tail.torn_tail = true;
        r->tail.segment = name;
        r->tail.offset = s.bad_offset;
        r->tail.bytes_dropped = s.nonzero_end - s.bad_offset;
        r->tail.last_lsn = s.last_lsn;
      } else {
        r->problems.push_back({name, s.bad_offset, s.last_lsn + 1,
                               std::string(s.what) + " in a segment that is not the last"});
      }
      break;
    case SegmentScan::Stop::kCleanEnd:
      if (!last) {
        r->problems.push_back(
            {name, s.end, s.last_lsn + 1, "segment is not sealed but is not the last one"});
      }
      break;
    case SegmentScan::Stop::kFooter:
      CheckFooter(name, data, s, r);
      break;
  }
  if (r->problems.empty() && s.bad_mark_offset != 0) {
    r->problems.push_back({name, s.bad_mark_offset, 0,
                           "a write's end mark is damaged (the records around it are intact)"});
  }
  return s;
}

}  // namespace

Result<VerifyReport> VerifyLog(const std::string& dir, FileSystem* fs,
                               const std::function<void(uint64_t, uint64_t)>& progress,
                               const std::function<bool()>& writer_active) {
  if (fs == nullptr) fs = FileSystem::Default();
  if (!fs->Exists(dir)) return Status::NotFound("no log at " + dir);
  ASSIGN_OR_RETURN(std::vector<internal::SegmentName> segs, internal::ListSegments(fs, dir));
  VerifyReport r;
  uint64_t total = 0, done = 0;
  if (progress) {
    for (const internal::SegmentName& s : segs) {
      ASSIGN_OR_RETURN(auto f, fs->OpenReadable(JoinPath(dir, s.name)));
      ASSIGN_OR_RETURN(uint64_t n, f->Size());
      total += n;
    }
  }
  uint8_t store_id[16] = {};
  Lsn next = 1;
  uint64_t prev = 0;
  int64_t last_time = 0;
  for (size_t i = 0; i < segs.size(); ++i) {
    const std::string& name = segs[i].name;
    const bool last = i + 1 == segs.size();
    ASSIGN_OR_RETURN(std::string data, ReadAll(fs, JoinPath(dir, name)));
    r.segments++;
    auto problem = [&](uint64_t off, std::string what) {
      r.problems.push_back({name, off, next, std::move(what)});
    };
    SegmentHeader h;
    if (last && i > 0 && internal::IsAllZero(data.data(), std::min<size_t>(data.size(), 64))) {
      r.torn_tail = true;
      r.tail.torn_tail = true;
      r.tail.segment = name;
      break;  // a segment whose creation never completed; the next writer removes it
    }
    Status st = internal::DecodeSegmentHeader(data, &h);
    if (!st.ok()) {
      problem(0, st.message());
      break;
    }
    if (i == 0) std::memcpy(store_id, h.store_id, 16);
    if (std::memcmp(store_id, h.store_id, 16) != 0) problem(0, "segment belongs to another store");
    if (h.first_lsn != segs[i].first_lsn) problem(0, "header first LSN does not match file name");
    if (h.first_lsn != next && i > 0) problem(0, "records missing between segments");
    if (h.prev_checksum != prev && i > 0) problem(0, "hash chain broken between segments");
    if (!r.problems.empty()) break;

    VerifyReport seg_report;
    SegmentScan s = VerifySegment(name, data, last, h, last_time, &seg_report);
    // A writer appending to the last segment can be caught mid-write: what looks like damage
    // or a torn tail there is re-read until the bytes stay the same for half a second (a write
    // in progress lasts microseconds), for at most five seconds.
    for (int tries = 0, stable = 0;
         last && writer_active && tries < 200 && stable < 20 &&
         (!seg_report.problems.empty() || seg_report.torn_tail) && writer_active();
         ++tries) {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
      ASSIGN_OR_RETURN(std::string again, ReadAll(fs, JoinPath(dir, name)));
      if (again == data) {
        ++stable;
        continue;
      }
      stable = 0;
      data = std::move(again);
      seg_report = VerifyReport{};
      s = VerifySegment(name, data, last, h, last_time, &seg_report);
    }
    r.problems.insert(r.problems.end(), seg_report.problems.begin(), seg_report.problems.end());
    if (seg_report.torn_tail) {
      r.torn_tail = true;
      r.tail = seg_report.tail;
    }
    r.records += s.count;
    r.bytes += s.stop == SegmentScan::Stop::kFooter ? data.size() : s.end;
    if (s.count > 0 && r.first_lsn == 0) r.first_lsn = h.first_lsn;
    if (s.count > 0) r.last_lsn = s.last_lsn;
    if (!r.problems.empty()) break;
    next = s.last_lsn + 1;
    prev = s.last_checksum;
    if (s.count > 0) last_time = s.last_time;
    done += data.size();
    if (progress) progress(done, total);
  }
  return r;
}

Result<Lsn> TruncateLogAt(const std::string& dir, Lsn lsn, FileSystem* fs) {
  if (fs == nullptr) fs = FileSystem::Default();
  if (lsn == 0) return Status::InvalidArgument("LSNs start at 1");
  ASSIGN_OR_RETURN(std::vector<internal::SegmentName> segs, internal::ListSegments(fs, dir));
  if (segs.empty()) return Status::NotFound("no log segments in " + dir);
  size_t idx = 0;
  for (size_t i = 0; i < segs.size(); ++i) {
    if (segs[i].first_lsn <= lsn) idx = i;
  }
  const internal::SegmentName& target = segs[idx];
  // The checkpoint describes the log as it was: drop it (the next open scans the last segment).
  if (const std::string ckpt = JoinPath(dir, kCheckpointFileName); fs->Exists(ckpt)) {
    RETURN_IF_ERROR(fs->Remove(ckpt));
  }
  // Everything from a whole segment on: drop the files, the sealed one before becomes the last
  // (the next open starts a fresh segment after it). Works even if that segment's header is bad.
  if (lsn <= target.first_lsn && idx > 0) {
    for (size_t i = segs.size(); i-- > idx;) {
      RETURN_IF_ERROR(fs->Remove(JoinPath(dir, segs[i].name)));
    }
    RETURN_IF_ERROR(fs->SyncDir(dir));
    return target.first_lsn - 1;
  }
  const std::string path = JoinPath(dir, target.name);
  ASSIGN_OR_RETURN(std::string data, ReadAll(fs, path));
  SegmentHeader h;
  Status hs = internal::DecodeSegmentHeader(data, &h);
  if (!hs.ok()) {
    return Status::Corruption(internal::Where(target.name, 0) + ": " + hs.message() +
                              "; truncate at LSN " + std::to_string(target.first_lsn) +
                              " or lower to drop this segment");
  }
  SegmentScan s;
  s.data = data;
  s.next_lsn = h.first_lsn;
  s.prev = h.prev_checksum;
  s.max_payload = UINT32_MAX;
  s.mark = EndMarkSize(h.version);
  internal::ScanSegment(&s);
  // Find where lsn's batch starts: the last batch boundary at or before it.
  uint64_t cut = 0;
  Lsn new_last = 0;
  uint64_t last_kept = 0;  // offset of the record that becomes the last one, if it needs marking
  uint32_t kept_write_records = 0;  // records of the write that last_kept then ends
  if (lsn <= h.first_lsn) {
    cut = kSegmentHeaderSize;
    new_last = h.first_lsn - 1;
  } else {
    // Walk the complete batches the scan accepted.
    uint64_t off = kSegmentHeaderSize;
    Lsn batch_first = h.first_lsn;
    uint64_t batch_off = off;
    uint64_t prev_off = 0, before_batch = 0;  // the record just before the batch's first
    Lsn write_first = h.first_lsn;             // first LSN of the write `off` is in
    bool prev_ends_write = true;
    uint32_t before_batch_records = 0;  // records of its write up to before_batch, if unended
    while (off < s.end) {
      internal::RecordHeader rh;
      if (internal::CheckRecord(data.data() + off, s.end - off, UINT32_MAX, &rh) !=
          internal::RecordCheck::kOk) {
        break;
      }
      const auto t = static_cast<RecordType>(rh.type);
      if (t == RecordType::kFull || t == RecordType::kFirst) {
        batch_first = rh.lsn;
        batch_off = off;
        before_batch = prev_ends_write ? 0 : prev_off;
        before_batch_records = static_cast<uint32_t>(rh.lsn - write_first);
      }
      if (rh.lsn == lsn) break;
      prev_off = off;
      prev_ends_write = (rh.flags & kFlagWriteEnd) != 0;
      if (prev_ends_write) write_first = rh.lsn + 1;
      off += RecordSpan(rh.length, rh.flags, s.mark);
    }
    if (off >= s.end) {
      if (lsn > s.last_lsn + 1) {
        return Status::InvalidArgument(
            "LSN " + std::to_string(lsn) + " is past the readable end of the log (last LSN " +
            std::to_string(s.last_lsn) + "); truncate at " + std::to_string(s.last_lsn + 1) +
            " or lower");
      }
      cut = s.end;  // lsn == last+1: drop only what follows (damage, torn bytes)
      new_last = s.last_lsn;
    } else {
      cut = batch_off;
      new_last = batch_first - 1;
      last_kept = before_batch;
      kept_write_records = before_batch_records;
    }
  }
  // Later segments go first (newest first), so a crash midway leaves a shorter valid log.
  for (size_t i = segs.size(); i-- > idx + 1;) {
    RETURN_IF_ERROR(fs->Remove(JoinPath(dir, segs[i].name)));
  }
  RETURN_IF_ERROR(fs->SyncDir(dir));
  ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> wf, fs->OpenWritable(path, OpenMode::kExisting));
  if (last_kept != 0) {
    // The kept prefix must end a write, or the next open would take it for a torn one: flag its
    // last record and put the write's end mark after it.
    char* rec = data.data() + last_kept;
    internal::MarkWriteEnd(rec);
    RETURN_IF_ERROR(wf->Write(last_kept, std::string_view(rec, kRecordHeaderSize)));
    if (s.mark > 0) {
      std::string mark;
      internal::AppendEndMark(&mark, kept_write_records);
      RETURN_IF_ERROR(wf->Write(cut, mark));
      cut += mark.size();
    }
  }
  RETURN_IF_ERROR(wf->Truncate(cut));
  RETURN_IF_ERROR(wf->Allocate(cut + kAllocationStep));  // the writer grows it from there
  RETURN_IF_ERROR(wf->Sync());
  RETURN_IF_ERROR(wf->Close());
  return new_last;
}

}  // namespace tink::log
