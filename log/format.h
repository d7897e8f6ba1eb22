// On-disk format of the Tinkerbell write-ahead log: constants and fixed layouts.
//
// The prose spec with grammar, a worked example and the rationale is docs/log-format.md; this
// header and that document must change together. All integers are little-endian.
//
//   segment  := header write* [footer trailer]
//   header   := 64 bytes (kSegmentHeaderSize), see SegmentHeader below
//   write    := record+ end-mark       the last record carries kFlagWriteEnd
//   record   := 40-byte record header, payload, zero padding to an 8-byte boundary
//   end-mark := u32 kWriteEndMagic, u32 number of records in the write (format version >= 2)
//   footer   := a record of type kFooter whose payload is the sparse index (sealed segments only)
//   trailer  := u64 footer offset, u64 kTrailerMagic (the last 16 bytes of a sealed segment)
//
// Record header (kRecordHeaderSize = 40 bytes):
//   0  u64 checksum  XXH3-64 (seed 0) over bytes [8, 40 + length): every header field and payload
//   8  u64 prev      checksum of the previous record (hash chain; the segment header's prev_checksum
//                    for the first record of a segment) - deletion or reordering is detectable
//   16 u64 lsn       gapless, starts at 1; a footer carries the segment's last LSN
//   24 i64 time_ns   recorded time, ns since the Unix epoch, non-decreasing with LSN
//   32 u32 length    payload bytes (padding not included)
//   36 u8  type      RecordType
//   37 u8  flags     kFlagWriteEnd on the last record of each write; other bits 0
//   38 u16 reserved  0
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace tink::log {

using Lsn = uint64_t;

inline constexpr char kSegmentMagic[8] = {'T', 'I', 'N', 'K', 'L', 'O', 'G', '\0'};
inline constexpr uint64_t kTrailerMagic = 0x00444e454b4e4954ULL;  // "TINKEND\0" little-endian
// Version 2 added the end mark after each write; version 1 segments are still read.
inline constexpr uint32_t kFormatVersion = 2;
inline constexpr uint32_t kOldestReadableFormatVersion = 1;
inline constexpr uint32_t kSegmentHeaderSize = 64;
inline constexpr uint32_t kRecordHeaderSize = 40;
inline constexpr uint32_t kTrailerSize = 16;
inline constexpr uint32_t kAlignment = 8;
inline constexpr uint32_t kFooterVersion = 1;

// Default sizes; both can be changed per store through LogOptions.
inline constexpr uint64_t kDefaultSegmentSize = 64ULL << 20;
inline constexpr uint32_t kDefaultMaxRecordSize = 16U << 20;
// One sparse-index entry (LSN -> offset, time -> LSN) per this many bytes of records.
inline constexpr uint32_t kIndexIntervalBytes = 64U << 10;
// A segment's file is allocated in steps of this many bytes (up to the segment size), so what
// lies past the last write and must be checked for stray bytes at open is at most this much.
inline constexpr uint64_t kAllocationStep = 4ULL << 20;
// The writer rewrites the checkpoint (below) once this many bytes were synced since the last one.
inline constexpr uint64_t kDefaultCheckpointBytes = 4ULL << 20;

// The checkpoint: STORE/log/checkpoint, a hint that lets an open skip re-reading the synced part
// of the active segment. Never trusted blindly: an open checks it against the record it names
// and falls back to scanning the whole segment when it does not match. Not synced, not needed
// for durability: losing or tearing it costs one full scan. Layout (little-endian):
//   0  char[8] magic "TINKCKP\0"
//   8  u32 version (1)
//   12 u32 n_index
//   16 u8[16] store_id
//   32 u64 segment       first LSN of the segment it describes (its file name)
//   40 u64 end           offset just past a write (its end mark) that was synced
//   48 u64 last_record   offset of the last record before `end` (0: the segment had none)
//   56 u64 last_lsn      that record's LSN (segment - 1 when none)
//   64 u64 last_checksum that record's checksum (the header's prev_checksum when none)
//   72 i64 first_time_ns, 80 i64 last_time_ns
//   88 u64 record_count  records in [header, end)
//   96 n_index x { u64 lsn, u64 offset, i64 time_ns }   the sparse index of [header, end)
//   then u64 XXH3-64 of every byte before it. Bytes after that (a longer, older checkpoint
//   overwritten in place) are ignored.
inline constexpr char kCheckpointMagic[8] = {'T', 'I', 'N', 'K', 'C', 'K', 'P', '\0'};
inline constexpr uint32_t kCheckpointVersion = 1;
inline constexpr uint32_t kCheckpointFixedSize = 96;
inline constexpr std::string_view kCheckpointFileName = "checkpoint";

// Record types. 0 is reserved so zeroed (preallocated) space never parses as a record. Types with
// the high bit set may be skipped by a reader that does not know them; any other unknown type is
// corruption.
enum class RecordType : uint8_t {
  kZero = 0,
  kFull = 1,    // a batch of one record
  kFirst = 2,   // first record of a multi-record batch
  kMiddle = 3,  // inner record of a batch
  kLast = 4,    // last record of a batch: the batch becomes visible (and durable) as a whole
  kFooter = 0x10,
};
inline constexpr uint8_t kSafeToIgnoreMask = 0x80;

// Record flags. kFlagWriteEnd marks the last record of one write of the writer (a commit group,
// or the part of one before a segment rollover). Recovery accepts records only up to such a
// record, so a write torn exactly at a record boundary is still recognised as torn.
inline constexpr uint8_t kFlagWriteEnd = 0x01;
inline constexpr uint8_t kKnownFlags = kFlagWriteEnd;

// The end mark: 8 bytes right after the (padded) last record of every write. It is not covered
// by any record checksum; it is evidence that the write's last block reached the disk. When the
// last record of the final write fails its checksum, a mark for that write after it means the
// whole write was on disk and the record was damaged later (corruption, reported), while no mark
// means the write never completed (a torn tail, cut). See docs/log-format.md "Recovery".
inline constexpr uint32_t kWriteEndMagic = 0xE7D1A5F3;  // bytes F3 A5 D1 E7: never valid UTF-8
inline constexpr uint32_t kWriteEndMarkSize = 8;
inline constexpr uint32_t EndMarkSize(uint32_t format_version) {
  return format_version >= 2 ? kWriteEndMarkSize : 0;
}

inline constexpr bool IsKnownRecordType(uint8_t t) {
  return t == 1 || t == 2 || t == 3 || t == 4 || t == 0x10;
}

inline constexpr uint64_t AlignUp(uint64_t n) { return (n + kAlignment - 1) & ~uint64_t{kAlignment - 1}; }

// Bytes a record of `payload_len` takes on disk, header and padding included.
inline constexpr uint64_t RecordSpan(uint64_t payload_len) {
  return AlignUp(kRecordHeaderSize + payload_len);
}
// The same plus the end mark that follows a record flagged kFlagWriteEnd (`mark`: EndMarkSize).
inline constexpr uint64_t RecordSpan(uint64_t payload_len, uint8_t flags, uint32_t mark) {
  return RecordSpan(payload_len) + ((flags & kFlagWriteEnd) != 0 ? mark : 0);
}

// Segment header (kSegmentHeaderSize = 64 bytes):
//   0  char[8] magic "TINKLOG\0"
//   8  u32 format_version (2; 1 is read too: no end marks)
//   12 u32 header_size (64)
//   16 u8[16] store_id   random at store creation; a segment of another store is never applied
//   32 u64 first_lsn     LSN of the segment's first record (also its file name)
//   40 u64 prev_checksum checksum of the last record of the previous segment (0 for the first)
//   48 i64 created_ns
//   56 u64 header_checksum XXH3-64 over bytes [0, 56)
struct SegmentHeader {
  uint32_t version = kFormatVersion;
  uint8_t store_id[16] = {};
  Lsn first_lsn = 0;
  uint64_t prev_checksum = 0;
  int64_t created_ns = 0;
};

// Footer payload (a kFooter record; its header's lsn is the segment's last LSN):
//   u32 footer_version, u32 reserved
//   u64 first_lsn, u64 last_lsn, u64 record_count
//   i64 first_time_ns, i64 last_time_ns
//   u64 data_checksum    XXH3-64 over segment bytes [0, footer offset)
//   u32 n_index, u32 reserved
//   n_index x { u64 lsn, u64 offset, i64 time_ns }   sparse: LSN -> offset and time -> LSN
inline constexpr uint32_t kFooterFixedSize = 64;
inline constexpr uint32_t kIndexEntrySize = 24;

// Little-endian helpers (the build refuses big-endian hosts, see CMakeLists.txt).
inline void PutU16(char* p, uint16_t v) { std::memcpy(p, &v, 2); }
inline void PutU32(char* p, uint32_t v) { std::memcpy(p, &v, 4); }
inline void PutU64(char* p, uint64_t v) { std::memcpy(p, &v, 8); }
inline uint16_t GetU16(const char* p) { uint16_t v; std::memcpy(&v, p, 2); return v; }
inline uint32_t GetU32(const char* p) { uint32_t v; std::memcpy(&v, p, 4); return v; }
inline uint64_t GetU64(const char* p) { uint64_t v; std::memcpy(&v, p, 8); return v; }

}  // namespace tink::log
