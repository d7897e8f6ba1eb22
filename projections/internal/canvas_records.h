// Shared by the canvas projection's files (canvas.cc folds events, canvas_reader.cc answers
// reads): the key layout of projections/canvas.h, content hashes and the stored file record.
// Not part of the projection's API.
#pragma once

#include <xxhash.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "projections/canvas.h"
#include "projections/canvas_generated.h"
#include "projections/internal/fb_state.h"

namespace tink::projections::canvas_internal {

using internal::Unpack;

constexpr char kFile = 'F', kBlob = 'B', kChange = 'C', kRun = 'R', kTool = 'L', kAnomaly = 'A',
               kDir = 'D';

inline std::string_view Str(const flatbuffers::String* s) {
  return s == nullptr ? std::string_view() : std::string_view(s->data(), s->size());
}

inline std::string FileEntity(std::string_view run, std::string_view path) {
  std::string k(1, kFile);
  AppendOrdered(&k, run);
  AppendOrdered(&k, path);
  return k;
}
inline std::string FilePrefix(std::string_view run) {
  std::string k(1, kFile);
  AppendOrdered(&k, run);
  return k;
}
inline std::string RunEntity(std::string_view run) {
  std::string k(1, kRun);
  AppendOrdered(&k, run);
  return k;
}
inline std::string ChangePrefix(std::string_view run) {
  std::string k(1, kChange);
  AppendOrdered(&k, run);
  return k;
}
inline std::string ToolKey(std::string_view run, std::string_view task) {
  std::string k(1, kTool);
  AppendOrdered(&k, run);
  AppendOrdered(&k, task);
  return k;
}
inline std::string DirKey(std::string_view run, std::string_view dir) {
  std::string k(1, kDir);
  AppendOrdered(&k, run);
  AppendOrdered(&k, dir);
  return k;
}
// "a/b/c" -> {"a", "a/b"}
inline std::vector<std::string_view> Ancestors(std::string_view path) {
  std::vector<std::string_view> out;
  for (size_t i = path.find('/'); i != std::string_view::npos; i = path.find('/', i + 1)) {
    out.push_back(path.substr(0, i));
  }
  return out;
}
inline std::string BlobKey(std::string_view hash16) { return std::string(1, kBlob) + std::string(hash16); }

inline std::string Hash16(std::string_view content) {
  XXH128_canonical_t c;
  XXH128_canonicalFromHash(&c, XXH3_128bits(content.data(), content.size()));
  return std::string(reinterpret_cast<const char*>(c.digest), sizeof c.digest);
}

inline std::string Hex(std::string_view bytes) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(d[c >> 4]);
    out.push_back(d[c & 15]);
  }
  return out;
}

inline std::optional<std::string> Unhex(std::string_view hex) {
  if (hex.size() != 32) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    auto v = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;
    };
    int hi = v(hex[i]), lo = v(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

inline FileVersion FromRec(const state::CanvasFileT& f, std::string run, std::string path) {
  FileVersion v;
  v.run = std::move(run);
  v.path = std::move(path);
  v.lsn = f.lsn;
  v.time_ns = f.time_ns;
  v.type = f.type;
  v.task = f.task;
  v.hash = Hex(std::string_view(reinterpret_cast<const char*>(f.hash.data()), f.hash.size()));
  v.deleted = f.deleted;
  v.base = f.base;
  v.mode = f.mode;
  v.size = f.size;
  v.renamed_from = f.renamed_from;
  return v;
}

inline Result<FileVersion> DecodeVersion(std::string_view bytes, std::string run, std::string path) {
  state::CanvasFileT f;
  RETURN_IF_ERROR((Unpack<state::CanvasFile>(bytes, &f)));
  return FromRec(f, std::move(run), std::move(path));
}

// Splits 'F' ostr(run) ostr(path) into run and path.
inline bool SplitFileEntity(std::string_view entity, std::string* run, std::string* path) {
  if (entity.empty() || entity[0] != kFile) return false;
  entity.remove_prefix(1);
  return DecodeOrdered(&entity, run) && DecodeOrdered(&entity, path) && entity.empty();
}

}  // namespace tink::projections::canvas_internal
