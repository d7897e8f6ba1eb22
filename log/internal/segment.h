// Segment files: names, header, footer, and the scan that recovery, verify and truncation share.
// Internal to log/.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "log/file_system.h"
#include "log/format.h"
#include "schema/status.h"

namespace tink::log::internal {

// "00000000000000000001.seg": the first LSN, 20 digits.
std::string SegmentFileName(Lsn first_lsn);
bool ParseSegmentFileName(std::string_view name, Lsn* first_lsn);

void EncodeSegmentHeader(const SegmentHeader& h, char out[kSegmentHeaderSize]);
// Corruption on bad magic, version, size or checksum.
Status DecodeSegmentHeader(std::string_view bytes, SegmentHeader* h);

struct IndexEntry {
  Lsn lsn = 0;
  uint64_t offset = 0;
  int64_t time_ns = 0;
};

struct Footer {
  Lsn first_lsn = 0;
  Lsn last_lsn = 0;
  uint64_t record_count = 0;
  int64_t first_time_ns = 0;
  int64_t last_time_ns = 0;
  uint64_t data_checksum = 0;
  std::vector<IndexEntry> index;
};

std::string EncodeFooter(const Footer& f);
Status DecodeFooter(std::string_view payload, Footer* f);

// STORE/log/checkpoint (format.h describes the bytes): where the synced part of the active
// segment ended when the writer last wrote it, and the state a scan would have there.
struct Checkpoint {
  uint8_t store_id[16] = {};
  Lsn segment = 0;             // first LSN of the segment
  uint64_t end = 0;            // just past a synced write
  uint64_t last_record = 0;    // offset of the last record before end (0: none)
  Lsn last_lsn = 0;
  uint64_t last_checksum = 0;
  int64_t first_time_ns = 0;
  int64_t last_time_ns = 0;
  uint64_t record_count = 0;
  std::vector<IndexEntry> index;  // sparse index of [header, end)
};
std::string EncodeCheckpoint(const Checkpoint& c);
// Corruption when the bytes are not a whole, intact checkpoint of a version this build reads.
Status DecodeCheckpoint(std::string_view bytes, Checkpoint* c);

// Scans records in one segment's bytes, checking framing, checksums, the hash chain, LSN
// continuity, batch framing and time order. Stops at the clean end, a torn tail, corruption or
// the footer.
struct SegmentScan {
  // Inputs.
  std::string_view data;  // the whole segment file
  uint64_t start = kSegmentHeaderSize;
  Lsn next_lsn = 1;        // LSN expected at `start`
  uint64_t prev = 0;       // chain value expected at `start`
  int64_t min_time = 0;
  uint32_t max_payload = kDefaultMaxRecordSize;
  uint32_t mark = kWriteEndMarkSize;  // EndMarkSize(the segment's format version)
  // When `start` is past the segment's first record (a scan resumed from a checkpoint): the
  // records before it and the offset of the last index entry among them, so the index goes on
  // as a scan from the header would have built it.
  uint64_t prior_count = 0;
  uint64_t prior_index_offset = 0;

  enum class Stop { kCleanEnd, kTorn, kCorrupt, kFooter };
  // Outputs. `end`, `last_lsn`, `last_checksum`, `last_time`, `count` describe the last complete
  // batch: what a reader may serve.
  Stop stop = Stop::kCleanEnd;
  uint64_t end = kSegmentHeaderSize;
  Lsn last_lsn = 0;
  uint64_t last_checksum = 0;
  int64_t first_time = 0;
  int64_t last_time = 0;
  uint64_t count = 0;              // records from `start` to `end`
  // In and out: the offset of the last record before `end` (left as given when the scan accepts
  // no write).
  uint64_t last_record = 0;
  std::vector<IndexEntry> index;  // sparse, one per kIndexIntervalBytes, from `start`
  uint64_t nonzero_end = 0;       // kTorn: the end of the garbage to clear
  uint64_t bad_offset = 0;        // kTorn / kCorrupt: where the bad record starts
  // kCorrupt: the last LSN of the damaged write when its end mark was found (then
  // [last_lsn + 1, damaged_last] were acknowledged or at least wholly on disk); 0 if unknown.
  Lsn damaged_last = 0;
  // An end mark that is neither the expected one nor zero while its write's records are intact
  // (harmless to readers; verify reports it). 0: none.
  uint64_t bad_mark_offset = 0;
  std::string what;               // kCorrupt / kTorn: what was wrong
  Footer footer;                  // kFooter
  uint64_t footer_offset = 0;     // kFooter
  uint64_t footer_end = 0;        // kFooter: end of footer record + trailer
};
void ScanSegment(SegmentScan* s);

struct SegmentName {
  Lsn first_lsn = 0;
  std::string name;
};
// The segment files in `dir`, in LSN order (other files are ignored).
Result<std::vector<SegmentName>> ListSegments(FileSystem* fs, const std::string& dir);
// A whole file's bytes (segments are read whole by recovery, verify and truncation).
Result<std::string> ReadWholeFile(const RandomAccessFile& f);

// End of the last non-zero byte at or after `from` (for clearing a torn tail).
uint64_t NonZeroEnd(std::string_view data, uint64_t from);

// Segment-level description for messages: "segment 00000000000000000001.seg offset 4096".
std::string Where(std::string_view segment, uint64_t offset);

}  // namespace tink::log::internal
