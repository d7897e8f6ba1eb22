// Helpers shared by the log tests.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "log/log.h"

namespace tink::log {

struct Rec {
  Lsn lsn;
  std::string payload;
  bool operator==(const Rec& o) const { return lsn == o.lsn && payload == o.payload; }
};

// Every record from `from`, plus the iterator's final status.
inline std::vector<Rec> ReadAll(Log& log, Status* status = nullptr, Lsn from = 1) {
  std::vector<Rec> out;
  auto it = log.NewIterator(from);
  for (; it->Valid(); it->Next()) {
    out.push_back({it->record().lsn, std::string(it->record().payload)});
  }
  if (status != nullptr) *status = it->status();
  return out;
}

inline std::string Payload(uint64_t i, size_t size = 100) {
  std::string p = "payload-" + std::to_string(i) + "-";
  while (p.size() < size) p += static_cast<char>('a' + (p.size() * 7 + i) % 26);
  p.resize(size);
  return p;
}

inline LogOptions SmallSegments(uint64_t segment_size = 64 << 10) {
  LogOptions o;
  o.segment_size = segment_size;
  return o;
}

// The checkpoint the writer leaves in the log directory (docs/log-format.md "Checkpoint").
inline std::string CheckpointPath(const std::string& dir) {
  return dir + "/" + std::string(kCheckpointFileName);
}

inline void CopyDir(const std::string& from, const std::string& to) {
  std::filesystem::remove_all(to);
  std::filesystem::copy(from, to, std::filesystem::copy_options::recursive);
}

inline std::vector<std::string> SegmentFiles(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".seg") out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace tink::log
