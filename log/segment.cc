#include "log/internal/segment.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>

#include "log/internal/record.h"

namespace tink::log::internal {

std::string SegmentFileName(Lsn first_lsn) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%020llu.seg", static_cast<unsigned long long>(first_lsn));
  return buf;
}

bool ParseSegmentFileName(std::string_view name, Lsn* first_lsn) {
  if (name.size() != 24 || name.substr(20) != ".seg") return false;
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(name.data(), name.data() + 20, v);
  if (ec != std::errc() || ptr != name.data() + 20 || v == 0) return false;
  *first_lsn = v;
  return true;
}

void EncodeSegmentHeader(const SegmentHeader& h, char out[kSegmentHeaderSize]) {
  std::memset(out, 0, kSegmentHeaderSize);
  std::memcpy(out, kSegmentMagic, 8);
  PutU32(out + 8, kFormatVersion);
  PutU32(out + 12, kSegmentHeaderSize);
  std::memcpy(out + 16, h.store_id, 16);
  PutU64(out + 32, h.first_lsn);
  PutU64(out + 40, h.prev_checksum);
  PutU64(out + 48, static_cast<uint64_t>(h.created_ns));
  PutU64(out + 56, Checksum(out, 56));
}

Status DecodeSegmentHeader(std::string_view b, SegmentHeader* h) {
  if (b.size() < kSegmentHeaderSize) return Status::Corruption("segment header is truncated");
  if (std::memcmp(b.data(), kSegmentMagic, 8) != 0) {
    return Status::Corruption("bad segment magic (not a Tinkerbell log segment)");
  }
  if (Checksum(b.data(), 56) != GetU64(b.data() + 56)) {
    return Status::Corruption("segment header checksum mismatch");
  }
  const uint32_t version = GetU32(b.data() + 8);
  if (version < kOldestReadableFormatVersion || version > kFormatVersion) {
    return Status::Corruption("unsupported segment format version " + std::to_string(version) +
                              " (this build reads " +
                              std::to_string(kOldestReadableFormatVersion) + " to " +
                              std::to_string(kFormatVersion) + ")");
  }
  h->version = version;
  if (GetU32(b.data() + 12) != kSegmentHeaderSize) {
    return Status::Corruption("unexpected segment header size");
  }
  std::memcpy(h->store_id, b.data() + 16, 16);
  h->first_lsn = GetU64(b.data() + 32);
  h->prev_checksum = GetU64(b.data() + 40);
  h->created_ns = static_cast<int64_t>(GetU64(b.data() + 48));
  return Status::Ok();
}

std::string EncodeFooter(const Footer& f) {
  std::string out(kFooterFixedSize + f.index.size() * kIndexEntrySize, '\0');
  char* p = out.data();
  PutU32(p, kFooterVersion);
  PutU64(p + 8, f.first_lsn);
  PutU64(p + 16, f.last_lsn);
  PutU64(p + 24, f.record_count);
  PutU64(p + 32, static_cast<uint64_t>(f.first_time_ns));
  PutU64(p + 40, static_cast<uint64_t>(f.last_time_ns));
  PutU64(p + 48, f.data_checksum);
  PutU32(p + 56, static_cast<uint32_t>(f.index.size()));
  p += kFooterFixedSize;
  for (const IndexEntry& e : f.index) {
    PutU64(p, e.lsn);
    PutU64(p + 8, e.offset);
    PutU64(p + 16, static_cast<uint64_t>(e.time_ns));
    p += kIndexEntrySize;
  }
  return out;
}

Status DecodeFooter(std::string_view b, Footer* f) {
  if (b.size() < kFooterFixedSize) return Status::Corruption("segment footer is truncated");
  const char* p = b.data();
  if (GetU32(p) != kFooterVersion) return Status::Corruption("unsupported footer version");
  f->first_lsn = GetU64(p + 8);
  f->last_lsn = GetU64(p + 16);
  f->record_count = GetU64(p + 24);
  f->first_time_ns = static_cast<int64_t>(GetU64(p + 32));
  f->last_time_ns = static_cast<int64_t>(GetU64(p + 40));
  f->data_checksum = GetU64(p + 48);
  const uint64_t n = GetU32(p + 56);
  if (b.size() != kFooterFixedSize + n * kIndexEntrySize) {
    return Status::Corruption("segment footer index size mismatch");
  }
  f->index.resize(n);
  p += kFooterFixedSize;
  for (IndexEntry& e : f->index) {
    e.lsn = GetU64(p);
    e.offset = GetU64(p + 8);
    e.time_ns = static_cast<int64_t>(GetU64(p + 16));
    p += kIndexEntrySize;
  }
  return Status::Ok();
}

std::string EncodeCheckpoint(const Checkpoint& c) {
  std::string out(kCheckpointFixedSize + c.index.size() * kIndexEntrySize + 8, '\0');
  char* p = out.data();
  std::memcpy(p, kCheckpointMagic, 8);
  PutU32(p + 8, kCheckpointVersion);
  PutU32(p + 12, static_cast<uint32_t>(c.index.size()));
  std::memcpy(p + 16, c.store_id, 16);
  PutU64(p + 32, c.segment);
  PutU64(p + 40, c.end);
  PutU64(p + 48, c.last_record);
  PutU64(p + 56, c.last_lsn);
  PutU64(p + 64, c.last_checksum);
  PutU64(p + 72, static_cast<uint64_t>(c.first_time_ns));
  PutU64(p + 80, static_cast<uint64_t>(c.last_time_ns));
  PutU64(p + 88, c.record_count);
  char* q = p + kCheckpointFixedSize;
  for (const IndexEntry& e : c.index) {
    PutU64(q, e.lsn);
    PutU64(q + 8, e.offset);
    PutU64(q + 16, static_cast<uint64_t>(e.time_ns));
    q += kIndexEntrySize;
  }
  PutU64(q, Checksum(p, static_cast<uint64_t>(q - p)));
  return out;
}

Status DecodeCheckpoint(std::string_view b, Checkpoint* c) {
  if (b.size() < kCheckpointFixedSize + 8) return Status::Corruption("checkpoint is truncated");
  const char* p = b.data();
  if (std::memcmp(p, kCheckpointMagic, 8) != 0) return Status::Corruption("bad checkpoint magic");
  if (GetU32(p + 8) != kCheckpointVersion) {
    return Status::Corruption("unsupported checkpoint version " + std::to_string(GetU32(p + 8)));
  }
  const uint64_t n = GetU32(p + 12);
  const uint64_t body = kCheckpointFixedSize + n * kIndexEntrySize;
  if (b.size() < body + 8) return Status::Corruption("checkpoint is truncated");
  if (Checksum(p, body) != GetU64(p + body)) {
    return Status::Corruption("checkpoint checksum mismatch");
  }
  std::memcpy(c->store_id, p + 16, 16);
  c->segment = GetU64(p + 32);
  c->end = GetU64(p + 40);
  c->last_record = GetU64(p + 48);
  c->last_lsn = GetU64(p + 56);
  c->last_checksum = GetU64(p + 64);
  c->first_time_ns = static_cast<int64_t>(GetU64(p + 72));
  c->last_time_ns = static_cast<int64_t>(GetU64(p + 80));
  c->record_count = GetU64(p + 88);
  c->index.resize(n);
  const char* q = p + kCheckpointFixedSize;
  for (IndexEntry& e : c->index) {
    e.lsn = GetU64(q);
    e.offset = GetU64(q + 8);
    e.time_ns = static_cast<int64_t>(GetU64(q + 16));
    q += kIndexEntrySize;
  }
  return Status::Ok();
}

Result<std::vector<SegmentName>> ListSegments(FileSystem* fs, const std::string& dir) {
  ASSIGN_OR_RETURN(std::vector<std::string> names, fs->ListDir(dir));
  std::vector<SegmentName> out;
  for (const std::string& n : names) {
    Lsn first = 0;
    if (ParseSegmentFileName(n, &first)) out.push_back({first, n});
  }
  std::sort(out.begin(), out.end(),
            [](const SegmentName& a, const SegmentName& b) { return a.first_lsn < b.first_lsn; });
  return out;
}

Result<std::string> ReadWholeFile(const RandomAccessFile& f) {
  ASSIGN_OR_RETURN(uint64_t size, f.Size());
  std::string data(size, '\0');
  ASSIGN_OR_RETURN(std::string_view got, f.Read(0, size, data.data()));
  data.resize(got.size());
  return data;
}

uint64_t NonZeroEnd(std::string_view data, uint64_t from) {
  uint64_t end = data.size();
  while (end > from && data[end - 1] == 0) --end;
  return end;
}

std::string Where(std::string_view segment, uint64_t offset) {
  return "segment " + std::string(segment) + " offset " + std::to_string(offset);
}

namespace {

// Is there a self-consistent record anywhere at or after `from` (8-aligned) whose LSN could come
// after `last_lsn`? That is what separates a torn tail (garbage only) from corruption (a bad
// record with good ones after it; DESIGN.md §3). Lengths are never trusted for skipping: every
// aligned position is tried.
//
// A power loss that persisted a later page of the final, unacknowledged write but not an earlier
// one also lands here, as corruption: the log refuses to guess, and `tink recover` decides.
bool CorruptionAfter(std::string_view data, uint64_t from, Lsn last_lsn, uint32_t max_payload) {
  const uint64_t size = data.size();
  for (uint64_t y = AlignUp(from); y + kRecordHeaderSize <= size; y += kAlignment) {
    if (GetU64(data.data() + y) == 0) continue;  // a checksum is never 0 in practice: skip fast
    RecordHeader h;
    if (CheckRecord(data.data() + y, size - y, max_payload, &h) != RecordCheck::kOk) continue;
    if (h.lsn > last_lsn && h.lsn - last_lsn < (1ULL << 32)) return true;
  }
  return false;
}

// Looks for the end mark of the write that began at `write_start` and has at least `min_count`
// records, at 8-aligned positions in [from, to). Returns its offset and the record count it
// names (count 0: none). A write's records take at least kRecordHeaderSize bytes each, which
// bounds a plausible count.
struct EndMark {
  uint64_t offset = 0;
  uint32_t count = 0;
};
EndMark FindEndMark(std::string_view data, uint64_t write_start, uint64_t from, uint64_t to,
                    uint64_t min_count) {
  for (uint64_t p = AlignUp(from); p + kWriteEndMarkSize <= to; p += kAlignment) {
    if (GetU32(data.data() + p) != kWriteEndMagic) continue;
    const uint32_t count = GetU32(data.data() + p + 4);
    if (count >= min_count && count > 0 && count <= (p - write_start) / kRecordHeaderSize) {
      return {p, count};
    }
  }
  return {};
}

}  // namespace

void ScanSegment(SegmentScan* s) {
  const std::string_view data = s->data;
  const uint64_t size = data.size();
  uint64_t off = s->start;
  Lsn next = s->next_lsn;
  uint64_t prev = s->prev;
  int64_t last_time = s->min_time;
  bool in_batch = false;
  uint64_t write_start = off;  // first record of the write not yet ended by kFlagWriteEnd
  uint64_t last_index_off = s->prior_index_offset;
  uint64_t count = 0;
  std::vector<IndexEntry> pending_index;  // entries of the open write, kept once it ends

  s->end = off;
  s->last_lsn = next - 1;
  s->last_checksum = prev;
  s->last_time = last_time;
  s->count = 0;
  s->index.clear();
  s->damaged_last = 0;
  s->bad_mark_offset = 0;

  auto corrupt = [&](uint64_t at, std::string what) {
    s->stop = SegmentScan::Stop::kCorrupt;
    s->bad_offset = at;
    s->what = std::move(what);
  };
  // The log ends before `off`: clean if the last write ended and nothing but zeros follows; else
  // the last write is torn (from write_start to nonzero_end).
  auto end_here = [&](uint64_t nonzero_end, const char* what) {
    if (write_start == off && nonzero_end <= off) {
      s->stop = SegmentScan::Stop::kCleanEnd;
      return;
    }
    s->stop = SegmentScan::Stop::kTorn;
    s->bad_offset = write_start;
    s->nonzero_end = std::max(nonzero_end, off);
    s->what = what;
  };

  while (true) {
    if (off >= size) return end_here(size, "the last write is incomplete");
    RecordHeader h;
    const RecordCheck c = CheckRecord(data.data() + off, size - off, s->max_payload, &h);
    if ((c == RecordCheck::kZero || c == RecordCheck::kShort) &&
        IsAllZero(data.data() + off, size - off)) {
      return end_here(off, "the last write is incomplete");
    }
    if (c != RecordCheck::kOk) {
      if (CorruptionAfter(data, off + kAlignment, s->last_lsn, s->max_payload)) {
        return corrupt(off, std::string(RecordCheckName(c)) + ", and valid records follow it");
      }
      const uint64_t nonzero_end = NonZeroEnd(data, off);
      // Nothing valid follows. If the write's end mark is on disk, the whole write reached the
      // disk and this record was damaged afterwards: acknowledged data, so corruption. Without
      // the mark, the write never completed: a torn tail.
      if (s->mark > 0) {
        const uint64_t seen = next - (s->last_lsn + 1);  // records of this write before `off`
        const EndMark m = FindEndMark(data, write_start, off + kRecordHeaderSize,
                                      std::min<uint64_t>(AlignUp(nonzero_end), size), seen + 1);
        if (m.count > 0) {
          s->damaged_last = s->last_lsn + m.count;
          return corrupt(off, std::string(RecordCheckName(c)) + " in a write that reached the " +
                                  "disk whole (its end mark is at offset " +
                                  std::to_string(m.offset) +
                                  "): acknowledged data damaged after it was written");
        }
      }
      return end_here(nonzero_end, RecordCheckName(c));
    }
    const bool write_end = (h.flags & kFlagWriteEnd) != 0;
    const uint64_t span = RecordSpan(h.length);
    const auto type = static_cast<RecordType>(h.type);
    if (type == RecordType::kFooter) {
      if (write_start != off) return corrupt(off, "footer inside an unfinished write");
      if (h.lsn != s->last_lsn || h.prev != s->last_checksum) {
        return corrupt(off, "footer does not match the records before it");
      }
      Status st = DecodeFooter(data.substr(off + kRecordHeaderSize, h.length), &s->footer);
      if (!st.ok()) return corrupt(off, st.message());
      s->stop = SegmentScan::Stop::kFooter;
      s->footer_offset = off;
      s->footer_end = off + span + kTrailerSize;
      return;
    }
    if (!IsKnownRecordType(h.type)) {  // safe-to-ignore type from a newer writer
      off += span;
      continue;
    }
    // From here the record is intact in itself; any mismatch with its neighbours is corruption
    // (a reordered, deleted or foreign record), never a torn write.
    if (h.lsn != next) {
      return corrupt(off, "LSN " + std::to_string(h.lsn) + " where " + std::to_string(next) +
                              " was expected");
    }
    if (h.prev != prev) return corrupt(off, "hash chain broken (record deleted or reordered?)");
    if (h.time_ns < last_time) return corrupt(off, "recorded time goes backwards");
    const bool starts = type == RecordType::kFull || type == RecordType::kFirst;
    if (starts == in_batch) return corrupt(off, "batch framing broken");
    in_batch = type == RecordType::kFirst || type == RecordType::kMiddle;
    if (write_end && in_batch) return corrupt(off, "a write ends inside a batch");
    if (count + s->prior_count == 0 || off >= last_index_off + kIndexIntervalBytes) {
      pending_index.push_back({h.lsn, off, h.time_ns});
      last_index_off = off;
    }
    if (count == 0) s->first_time = h.time_ns;
    ++count;
    prev = h.checksum;
    last_time = h.time_ns;
    ++next;
    const uint64_t record_off = off;
    off += span;
    if (write_end) {
      // The end mark: zero means its block never reached the disk, which costs nothing (every
      // record of the write is intact); anything else but the expected mark is damage to
      // bytes no reader uses, which verify reports.
      if (s->mark > 0 && off + s->mark <= size) {
        const uint64_t n = next - (s->last_lsn + 1);
        const bool zero = GetU64(data.data() + off) == 0;
        const bool good = GetU32(data.data() + off) == kWriteEndMagic &&
                          GetU32(data.data() + off + 4) == n;
        if (!zero && !good && s->bad_mark_offset == 0) s->bad_mark_offset = off;
      }
      off += s->mark;
      // A whole write is on disk: it is now part of what readers may see.
      write_start = off;
      s->count = count;
      s->end = off;
      s->last_lsn = next - 1;
      s->last_checksum = prev;
      s->last_time = last_time;
      s->last_record = record_off;
      s->index.insert(s->index.end(), pending_index.begin(), pending_index.end());
      pending_index.clear();
    }
  }
}

}  // namespace tink::log::internal
