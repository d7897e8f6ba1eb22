// libFuzzer harness for the log's decoders (log/internal/record.h, segment.h) and for reading a
// log directory (log::Log::Open read-only + an iterator, log::VerifyLog).
//
// Input: one byte of flags, then segment bytes. A segment header (the magic at an 8-aligned
// offset) after the first starts another segment file, so an input may hold several segments.
//   flags & 1: before writing the files, recompute every checksum the format has (segment header,
//              record checksums and hash chain, a footer's data checksum) so the fuzzer reaches
//              the checks behind them instead of stopping at the first checksum mismatch.
// The raw bytes also go through CheckRecord, DecodeSegmentHeader, DecodeFooter and ScanSegment
// directly. Every outcome but a crash, a sanitizer report or a hang is fine.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "log/format.h"
#include "log/internal/record.h"
#include "log/internal/segment.h"
#include "log/log.h"
#include "schema/schema.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using namespace tink::log;            // NOLINT(google-build-using-namespace)
using namespace tink::log::internal;  // NOLINT(google-build-using-namespace)

// Splits at every 8-aligned segment magic after offset 0.
std::vector<std::string> SplitSegments(std::string_view b) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = kAlignment; i + 8 <= b.size(); i += kAlignment) {
    if (std::memcmp(b.data() + i, kSegmentMagic, 8) == 0) {
      out.emplace_back(b.substr(start, i - start));
      start = i;
    }
  }
  out.emplace_back(b.substr(start));
  return out;
}

// Makes every checksum in `seg` right, given the chain value `prev` of the previous segment;
// returns the chain value at its end.
uint64_t FixChecksums(std::string& seg, uint64_t prev) {
  if (seg.size() < kSegmentHeaderSize) return prev;
  char* d = seg.data();
  PutU64(d + 40, prev);
  PutU64(d + 56, Checksum(d, 56));
  uint64_t off = kSegmentHeaderSize;
  while (off + kRecordHeaderSize <= seg.size()) {
    char* r = d + off;
    const uint32_t len = GetU32(r + 32);
    if (IsAllZero(r, kRecordHeaderSize) || len > seg.size() - off - kRecordHeaderSize) break;
    PutU64(r + 8, prev);
    if (static_cast<uint8_t>(r[36]) == static_cast<uint8_t>(RecordType::kFooter) &&
        len >= kFooterFixedSize) {
      PutU64(r + kRecordHeaderSize + 48, Checksum(d, off));
    }
    prev = Checksum(r + 8, kRecordHeaderSize - 8 + len);
    PutU64(r, prev);
    off += RecordSpan(len);
  }
  return prev;
}

void Decoders(std::string_view seg) {
  RecordHeader h;
  (void)CheckRecord(seg.data(), seg.size(), kDefaultMaxRecordSize, &h);
  SegmentHeader sh;
  (void)DecodeSegmentHeader(seg, &sh);
  Footer f;
  (void)DecodeFooter(seg, &f);
  if (seg.size() < kSegmentHeaderSize) return;
  SegmentScan scan;
  scan.data = seg;
  scan.next_lsn = GetU64(seg.data() + 32);
  scan.prev = GetU64(seg.data() + 40);
  ScanSegment(&scan);
}

void ReadDir(const std::string& dir) {
  LogOptions opt;
  opt.read_only = true;
  RecoveryReport report;
  auto log = Log::Open(dir, opt, &report);
  if (log.ok()) {
    std::unique_ptr<Log> l = std::move(*log);
    (void)l->Stats();
    (void)l->LsnAtTime(0);
    (void)l->LsnAtTime(INT64_MAX);
    auto it = l->NewIterator(1);
    Lsn last = 0;
    for (; it->Valid(); it->Next()) {
      const LogRecord& rec = it->record();
      // A log gives LSNs in increasing order, never one past LastLsn.
      if (rec.lsn <= last || rec.lsn > l->LastLsn()) __builtin_trap();
      last = rec.lsn;
      (void)tink::schema::DecodeEvent(rec.payload);
    }
    (void)it->status();
    (void)l->Refresh();
    (void)l->Close();
  }
  (void)VerifyLog(dir);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::vector<std::string> segs = SplitSegments(bytes);
  if (flags & 1) {
    uint64_t prev = 0;
    for (std::string& s : segs) prev = FixChecksums(s, prev);
  }
  for (const std::string& s : segs) Decoders(s);

  static const std::string dir = tink::fuzz::ScratchDir() + "/log";
  tink::fuzz::ResetDir(dir);
  for (size_t i = 0; i < segs.size(); ++i) {
    // Named by the header's first LSN as the writer would, so the files sort as the log's order.
    Lsn first = segs[i].size() >= 40 ? GetU64(segs[i].data() + 32) : 0;
    if (first == 0) first = i + 1;
    tink::fuzz::WriteFile(dir + "/" + SegmentFileName(first), segs[i]);
  }
  ReadDir(dir);
  return 0;
}
