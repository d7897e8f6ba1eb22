#include "log/internal/record.h"

#include <xxhash.h>

#include <cstring>

namespace tink::log::internal {

uint64_t Checksum(const char* p, uint64_t n) { return XXH3_64bits(p, n); }

uint64_t AppendRecord(std::string* dst, RecordType type, Lsn lsn, int64_t time_ns, uint64_t prev,
                      std::string_view payload) {
  const size_t start = dst->size();
  const uint64_t span = RecordSpan(payload.size());
  dst->resize(start + span);  // zero-fills the padding
  char* p = dst->data() + start;
  PutU64(p + 8, prev);
  PutU64(p + 16, lsn);
  PutU64(p + 24, static_cast<uint64_t>(time_ns));
  PutU32(p + 32, static_cast<uint32_t>(payload.size()));
  p[36] = static_cast<char>(type);
  p[37] = 0;
  PutU16(p + 38, 0);
  if (!payload.empty()) std::memcpy(p + kRecordHeaderSize, payload.data(), payload.size());
  const uint64_t sum = Checksum(p + 8, kRecordHeaderSize - 8 + payload.size());
  PutU64(p, sum);
  return sum;
}

void AppendEndMark(std::string* dst, uint32_t records) {
  char m[kWriteEndMarkSize];
  PutU32(m, kWriteEndMagic);
  PutU32(m + 4, records);
  dst->append(m, kWriteEndMarkSize);
}

bool IsAllZero(const char* p, uint64_t n) {
  // Word-at-a-time; the log's tail check runs this over up to a whole segment at open.
  uint64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    if (GetU64(p + i) != 0) return false;
  }
  for (; i < n; ++i) {
    if (p[i] != 0) return false;
  }
  return true;
}

RecordCheck CheckRecord(const char* p, uint64_t avail, uint32_t max_payload, RecordHeader* h) {
  if (avail < kRecordHeaderSize) return RecordCheck::kShort;
  if (IsAllZero(p, kRecordHeaderSize)) return RecordCheck::kZero;
  RecordHeader r;
  r.checksum = GetU64(p);
  r.prev = GetU64(p + 8);
  r.lsn = GetU64(p + 16);
  r.time_ns = static_cast<int64_t>(GetU64(p + 24));
  r.length = GetU32(p + 32);
  r.type = static_cast<uint8_t>(p[36]);
  r.flags = static_cast<uint8_t>(p[37]);
  r.reserved = GetU16(p + 38);
  const bool known = IsKnownRecordType(r.type) || (r.type & kSafeToIgnoreMask) != 0;
  if (!known || (r.flags & ~kKnownFlags) != 0 || r.reserved != 0) return RecordCheck::kBadHeader;
  // The footer may exceed the payload limit (its index grows with the segment).
  if (r.type != static_cast<uint8_t>(RecordType::kFooter) && r.length > max_payload) {
    return RecordCheck::kBadHeader;
  }
  // Length is checked against what is there before anything is read on its say-so.
  if (r.length > avail - kRecordHeaderSize) return RecordCheck::kShort;
  if (Checksum(p + 8, kRecordHeaderSize - 8 + r.length) != r.checksum) {
    return RecordCheck::kBadChecksum;
  }
  *h = r;
  return RecordCheck::kOk;
}

uint64_t MarkWriteEnd(char* record) {
  record[37] = static_cast<char>(record[37] | kFlagWriteEnd);
  const uint64_t sum = Checksum(record + 8, kRecordHeaderSize - 8 + GetU32(record + 32));
  PutU64(record, sum);
  return sum;
}

const char* RecordCheckName(RecordCheck c) {
  switch (c) {
    case RecordCheck::kOk: return "ok";
    case RecordCheck::kZero: return "zeroed record header";
    case RecordCheck::kShort: return "record extends past the end of the data";
    case RecordCheck::kBadHeader: return "bad record header (type, flags or length)";
    case RecordCheck::kBadChecksum: return "checksum mismatch";
  }
  return "?";
}

}  // namespace tink::log::internal
