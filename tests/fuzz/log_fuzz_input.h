// How log_fuzz turns its input into segment files; shared with the regression tests
// (tests/log/fuzz_regression_test.cc) so they feed a crashing input to the same code.
//
// Input: one byte of flags, then segment bytes. A segment magic at an 8-aligned offset after the
// first starts another segment file, so an input may hold several segments.
//   flags & 1: recompute every checksum the format has (segment header, record checksums and hash
//              chain, a footer's data checksum) so the fuzzer reaches the checks behind them
//              instead of stopping at the first checksum mismatch.
#pragma once

#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "log/format.h"
#include "log/internal/record.h"
#include "log/internal/segment.h"

namespace tink::fuzz {

struct SegmentFile {
  std::string name;  // named by the header's first LSN, as the writer would (else its position)
  std::string bytes;
};

// Makes every checksum in `seg` right, given the chain value `prev` of the previous segment;
// returns the chain value at its end.
inline uint64_t FixChecksums(std::string& seg, uint64_t prev) {
  using namespace tink::log;            // NOLINT(google-build-using-namespace)
  using namespace tink::log::internal;  // NOLINT(google-build-using-namespace)
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

inline std::vector<SegmentFile> LogFuzzSegments(std::string_view input) {
  using namespace tink::log;  // NOLINT(google-build-using-namespace)
  std::vector<SegmentFile> out;
  if (input.empty()) return out;
  const bool fix = (static_cast<uint8_t>(input[0]) & 1) != 0;
  const std::string_view b = input.substr(1);
  size_t start = 0;
  for (size_t i = kAlignment; i + 8 <= b.size(); i += kAlignment) {
    if (std::memcmp(b.data() + i, kSegmentMagic, 8) == 0) {
      out.push_back({"", std::string(b.substr(start, i - start))});
      start = i;
    }
  }
  out.push_back({"", std::string(b.substr(start))});
  uint64_t prev = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    if (fix) prev = FixChecksums(out[i].bytes, prev);
    Lsn first = out[i].bytes.size() >= 40 ? GetU64(out[i].bytes.data() + 32) : 0;
    if (first == 0) first = i + 1;
    out[i].name = internal::SegmentFileName(first);
  }
  return out;
}

}  // namespace tink::fuzz
