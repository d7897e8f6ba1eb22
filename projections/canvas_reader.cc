// CanvasReader: the canvas's read API (projections/canvas.h).
#include "projections/canvas.h"

#include <xxhash.h>

#include <algorithm>
#include <map>

#include "projections/canvas_generated.h"
#include "projections/internal/canvas_records.h"
#include "projections/internal/fb_state.h"
#include "projections/textdiff.h"

namespace tink::projections {

using internal::Unpack;
using canvas_internal::BlobKey;
using canvas_internal::ChangePrefix;
using canvas_internal::DecodeVersion;
using canvas_internal::FileEntity;
using canvas_internal::FilePrefix;
using canvas_internal::kAnomaly;
using canvas_internal::kRun;
using canvas_internal::RunEntity;
using canvas_internal::SplitFileEntity;
using canvas_internal::Unhex;

// ---------------------------------------------------------------------------------------------
// Reads

Result<std::vector<std::string>> CanvasReader::Runs(Lsn as_of) {
  std::vector<std::string> runs;
  std::string last;
  Status s = r_.ScanAsOf("canvas", std::string(1, kRun), as_of,
                         [&](std::string_view entity, const Version&) {
                           std::string_view rest = entity.substr(1);
                           std::string run;
                           if (DecodeOrdered(&rest, &run)) runs.push_back(std::move(run));
                           return true;
                         });
  if (!s.ok()) return s;
  return runs;
}

Result<Lsn> CanvasReader::BasePoint(std::string_view run, Lsn as_of) {
  auto v = r_.GetAsOf("canvas", RunEntity(run), as_of);
  if (!v.ok()) return v.status();
  if (!v->has_value()) return Lsn{0};
  state::CanvasRunRecT rr;
  RETURN_IF_ERROR((Unpack<state::CanvasRunRec>((*v)->value, &rr)));
  return Lsn{rr.base_lsn};
}

Result<std::optional<FileVersion>> CanvasReader::Stat(std::string_view run, std::string_view path,
                                                      Lsn as_of) {
  auto v = r_.GetAsOf("canvas", FileEntity(run, path), as_of);
  if (!v.ok()) return v.status();
  if (!v->has_value()) return std::optional<FileVersion>();
  auto fv = DecodeVersion((*v)->value, std::string(run), std::string(path));
  if (!fv.ok()) return fv.status();
  if (fv->deleted) return std::optional<FileVersion>();
  return std::optional<FileVersion>(std::move(fv).value());
}

Result<std::string> CanvasReader::Content(std::string_view hash_hex) {
  auto raw = Unhex(hash_hex);
  if (!raw) return Status::InvalidArgument("bad content hash '" + std::string(hash_hex) + "'");
  auto v = r_.Get("canvas", BlobKey(*raw));
  if (!v.ok()) return v.status();
  if (!v->has_value()) return Status::Corruption("canvas: content " + std::string(hash_hex) +
                                                 " is missing");
  return std::move(**v);
}

Result<std::optional<std::string>> CanvasReader::ReadFile(std::string_view run,
                                                          std::string_view path, Lsn as_of) {
  auto st = Stat(run, path, as_of);
  if (!st.ok()) return st.status();
  if (!st->has_value()) return std::optional<std::string>();
  auto c = Content((*st)->hash);
  if (!c.ok()) return c.status();
  return std::optional<std::string>(std::move(c).value());
}

Result<std::vector<FileVersion>> CanvasReader::Tree(std::string_view run, Lsn as_of) {
  std::vector<FileVersion> files;
  Status bad;
  Status s = r_.ScanAsOf("canvas", FilePrefix(run), as_of,
                         [&](std::string_view entity, const Version& v) {
                           std::string r, p;
                           if (!SplitFileEntity(entity, &r, &p)) return true;
                           auto fv = DecodeVersion(v.value, r, p);
                           if (!fv.ok()) {
                             bad = fv.status();
                             return false;
                           }
                           if (!fv->deleted) files.push_back(std::move(fv).value());
                           return true;
                         });
  if (!s.ok()) return s;
  if (!bad.ok()) return bad;
  return files;
}

Result<std::vector<FileVersion>> CanvasReader::FileHistory(std::string_view run,
                                                           std::string_view path, Lsn from,
                                                           Lsn to) {
  std::vector<FileVersion> out;
  Status bad;
  Status s = r_.History("canvas", FileEntity(run, path), from, to, [&](const Version& v) {
    auto fv = DecodeVersion(v.value, std::string(run), std::string(path));
    if (!fv.ok()) {
      bad = fv.status();
      return false;
    }
    out.push_back(std::move(fv).value());
    return true;
  });
  if (!s.ok()) return s;
  if (!bad.ok()) return bad;
  return out;
}

Result<std::vector<CanvasChange>> CanvasReader::Changes(std::string_view run, Lsn from, Lsn to) {
  std::vector<CanvasChange> out;
  std::string prefix = ChangePrefix(run);
  std::string start = prefix;
  AppendBE64(&start, from + 1);
  Status bad;
  Status s = r_.Scan("canvas", prefix, start, [&](std::string_view key, std::string_view value) {
    Lsn lsn = DecodeBE64(key.substr(key.size() - 8));
    if (lsn > to) return false;
    state::CanvasChangeRecT r;
    if (Status u = Unpack<state::CanvasChangeRec>(value, &r); !u.ok()) {
      bad = u;
      return false;
    }
    CanvasChange c;
    c.lsn = lsn;
    c.time_ns = r.time_ns;
    c.run = std::string(run);
    c.type = r.type;
    c.task = r.task;
    c.tool = r.tool;
    c.path = r.path;
    c.to = r.to;
    c.base = r.base;
    out.push_back(std::move(c));
    return true;
  });
  if (!s.ok()) return s;
  if (!bad.ok()) return bad;
  return out;
}

Result<std::string> CanvasReader::Diff(std::string_view run, Lsn from, Lsn to) {
  std::vector<std::string> paths;
  Status s = r_.ChangedBetween("canvas", FilePrefix(run), std::min(from, to), std::max(from, to),
                               [&](std::string_view entity) {
                                 std::string r, p;
                                 if (SplitFileEntity(entity, &r, &p)) paths.push_back(std::move(p));
                                 return true;
                               });
  if (!s.ok()) return s;
  std::string out;
  for (const std::string& path : paths) {
    auto a = Stat(run, path, from);
    if (!a.ok()) return a.status();
    auto b = Stat(run, path, to);
    if (!b.ok()) return b.status();
    std::optional<std::string> ac, bc;
    if (a->has_value()) {
      auto c = Content((*a)->hash);
      if (!c.ok()) return c.status();
      ac = std::move(c).value();
    }
    if (b->has_value()) {
      auto c = Content((*b)->hash);
      if (!c.ok()) return c.status();
      bc = std::move(c).value();
    }
    text::FileSide sa{path, ac ? std::optional<std::string_view>(*ac) : std::nullopt,
                      a->has_value() ? (*a)->mode : "100644"};
    text::FileSide sb{path, bc ? std::optional<std::string_view>(*bc) : std::nullopt,
                      b->has_value() ? (*b)->mode : "100644"};
    auto d = text::UnifiedDiff(sa, sb);
    if (!d.ok()) return d.status();
    out += *d;
  }
  return out;
}

Result<std::vector<BlameLine>> CanvasReader::Blame(std::string_view run, std::string_view path,
                                                   Lsn as_of) {
  // The chain of versions that led to the file as of `as_of`, following renames back: oldest
  // first. A deletion ends a chain (a later write starts the file afresh).
  std::vector<FileVersion> chain;
  std::string cur(path);
  Lsn upto = as_of;
  for (int hops = 0; hops < 1000; ++hops) {
    auto hist = FileHistory(run, cur, 0, upto);
    if (!hist.ok()) return hist.status();
    std::vector<FileVersion> seg;
    for (auto it = hist->rbegin(); it != hist->rend(); ++it) {
      if (it->deleted) break;
      seg.push_back(*it);
      if (!it->renamed_from.empty()) break;
    }
    if (hops == 0 && seg.empty()) {
      return Status::NotFound(std::string(path) + " does not exist in run " + std::string(run) +
                              " as of LSN " + std::to_string(as_of));
    }
    chain.insert(chain.begin(), seg.rbegin(), seg.rend());
    if (seg.empty() || seg.back().renamed_from.empty()) break;
    cur = seg.back().renamed_from;
    upto = seg.back().lsn - 1;
  }
  std::vector<BlameLine> lines;
  std::string prev;
  bool have_prev = false;
  for (const FileVersion& v : chain) {
    auto content = Content(v.hash);
    if (!content.ok()) return content.status();
    std::vector<std::string_view> text_lines = text::SplitLines(*content);
    std::vector<BlameLine> next(text_lines.size());
    std::vector<int64_t> origin(text_lines.size(), -1);
    if (have_prev) {
      auto o = text::LineOrigins(prev, *content);
      if (!o.ok()) return o.status();
      origin = std::move(o).value();
    }
    for (size_t i = 0; i < text_lines.size(); ++i) {
      if (origin[i] >= 0 && static_cast<size_t>(origin[i]) < lines.size()) {
        next[i] = lines[static_cast<size_t>(origin[i])];
      } else {
        next[i].lsn = v.lsn;
        next[i].task = v.task;
        next[i].type = v.type;
        next[i].path = v.path;
      }
      next[i].line = i + 1;
      next[i].text = std::string(text_lines[i]);
    }
    lines = std::move(next);
    prev = std::move(content).value();
    have_prev = true;
  }
  return lines;
}

Result<std::vector<CanvasAnomaly>> CanvasReader::Anomalies(const std::optional<std::string>& run,
                                                           Lsn as_of) {
  std::vector<CanvasAnomaly> out;
  Status bad;
  Status s = r_.Scan("canvas", std::string(1, kAnomaly), std::string(1, kAnomaly),
                     [&](std::string_view key, std::string_view value) {
                       Lsn lsn = DecodeBE64(key.substr(1, 8));
                       if (lsn > as_of) return false;
                       state::CanvasAnomalyRecT a;
                       if (Status u = Unpack<state::CanvasAnomalyRec>(value, &a); !u.ok()) {
                         bad = u;
                         return false;
                       }
                       if (run && a.run != *run) return true;
                       out.push_back({lsn, a.run, a.task, a.path, a.type, a.reason});
                       return true;
                     });
  if (!s.ok()) return s;
  if (!bad.ok()) return bad;
  return out;
}

}  // namespace tink::projections
