// libFuzzer harness for the log's decoders (log/internal/record.h, segment.h) and for reading a
// log directory (log::Log::Open read-only + an iterator, log::VerifyLog).
//
// Input: see log_fuzz_input.h (a flags byte, then one or more segments; flags & 1 recomputes
// every checksum so the fuzzer gets past them). Each segment also goes through CheckRecord,
// DecodeSegmentHeader, DecodeFooter and ScanSegment directly. Every outcome but a crash, a
// sanitizer report or a hang is fine.
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
#include "tests/fuzz/log_fuzz_input.h"

namespace {

using namespace tink::log;            // NOLINT(google-build-using-namespace)
using namespace tink::log::internal;  // NOLINT(google-build-using-namespace)

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
  const std::vector<tink::fuzz::SegmentFile> segs =
      tink::fuzz::LogFuzzSegments(std::string_view(reinterpret_cast<const char*>(data), size));
  for (const auto& s : segs) Decoders(s.bytes);

  static const std::string dir = tink::fuzz::ScratchDir() + "/log";
  tink::fuzz::ResetDir(dir);
  for (const auto& s : segs) tink::fuzz::WriteFile(dir + "/" + s.name, s.bytes);
  ReadDir(dir);
  return 0;
}
