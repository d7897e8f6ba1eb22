// Record framing: encode one record, and check one record in a buffer. Internal to log/.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "log/format.h"

namespace tink::log::internal {

struct RecordHeader {
  uint64_t checksum = 0;
  uint64_t prev = 0;
  Lsn lsn = 0;
  int64_t time_ns = 0;
  uint32_t length = 0;
  uint8_t type = 0;
  uint8_t flags = 0;
  uint16_t reserved = 0;
};

// Appends header, payload and zero padding to *dst. Returns the record's checksum (the next
// record's `prev`).
uint64_t AppendRecord(std::string* dst, RecordType type, Lsn lsn, int64_t time_ns, uint64_t prev,
                      std::string_view payload);

// Sets kFlagWriteEnd on the encoded record at `record` and recomputes its checksum; returns the
// new checksum (the chain value for whatever follows).
uint64_t MarkWriteEnd(char* record);

// Appends the end mark of a write of `records` records (format version 2).
void AppendEndMark(std::string* dst, uint32_t records);

enum class RecordCheck {
  kOk,
  kZero,         // the 40 header bytes are all zero: unwritten (preallocated) space
  kShort,        // fewer than a header's bytes, or fewer than the claimed length, are available
  kBadHeader,    // unknown type, reserved bits set, or length over the limit
  kBadChecksum,
};

// Checks the record starting at p with `avail` readable bytes. On kOk fills *h. Never reads
// past p + avail; the claimed length is checked against avail before it is used.
RecordCheck CheckRecord(const char* p, uint64_t avail, uint32_t max_payload, RecordHeader* h);

const char* RecordCheckName(RecordCheck c);

// True if all n bytes at p are zero.
bool IsAllZero(const char* p, uint64_t n);

uint64_t Checksum(const char* p, uint64_t n);

}  // namespace tink::log::internal
