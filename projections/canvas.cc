#include "projections/canvas.h"

#include <xxhash.h>

#include <algorithm>
#include <map>

#include "projections/canvas_generated.h"
#include "projections/internal/fb_state.h"
#include "projections/textdiff.h"

namespace tink::projections {

using internal::Pack;
using internal::Unpack;

namespace {

constexpr char kFile = 'F', kBlob = 'B', kChange = 'C', kRun = 'R', kTool = 'L', kAnomaly = 'A',
               kDir = 'D';

std::string_view Str(const flatbuffers::String* s) {
  return s == nullptr ? std::string_view() : std::string_view(s->data(), s->size());
}

std::string FileEntity(std::string_view run, std::string_view path) {
  std::string k(1, kFile);
  AppendOrdered(&k, run);
  AppendOrdered(&k, path);
  return k;
}
std::string FilePrefix(std::string_view run) {
  std::string k(1, kFile);
  AppendOrdered(&k, run);
  return k;
}
std::string RunEntity(std::string_view run) {
  std::string k(1, kRun);
  AppendOrdered(&k, run);
  return k;
}
std::string ChangePrefix(std::string_view run) {
  std::string k(1, kChange);
  AppendOrdered(&k, run);
  return k;
}
std::string ToolKey(std::string_view run, std::string_view task) {
  std::string k(1, kTool);
  AppendOrdered(&k, run);
  AppendOrdered(&k, task);
  return k;
}
std::string DirKey(std::string_view run, std::string_view dir) {
  std::string k(1, kDir);
  AppendOrdered(&k, run);
  AppendOrdered(&k, dir);
  return k;
}
// "a/b/c" -> {"a", "a/b"}
std::vector<std::string_view> Ancestors(std::string_view path) {
  std::vector<std::string_view> out;
  for (size_t i = path.find('/'); i != std::string_view::npos; i = path.find('/', i + 1)) {
    out.push_back(path.substr(0, i));
  }
  return out;
}
std::string BlobKey(std::string_view hash16) { return std::string(1, kBlob) + std::string(hash16); }

std::string Hash16(std::string_view content) {
  XXH128_canonical_t c;
  XXH128_canonicalFromHash(&c, XXH3_128bits(content.data(), content.size()));
  return std::string(reinterpret_cast<const char*>(c.digest), sizeof c.digest);
}

std::string Hex(std::string_view bytes) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(d[c >> 4]);
    out.push_back(d[c & 15]);
  }
  return out;
}

std::optional<std::string> Unhex(std::string_view hex) {
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

FileVersion FromRec(const state::CanvasFileT& f, std::string run, std::string path) {
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

Result<FileVersion> DecodeVersion(std::string_view bytes, std::string run, std::string path) {
  state::CanvasFileT f;
  RETURN_IF_ERROR((Unpack<state::CanvasFile>(bytes, &f)));
  return FromRec(f, std::move(run), std::move(path));
}

// Splits 'F' ostr(run) ostr(path) into run and path.
bool SplitFileEntity(std::string_view entity, std::string* run, std::string* path) {
  if (entity.empty() || entity[0] != kFile) return false;
  entity.remove_prefix(1);
  return DecodeOrdered(&entity, run) && DecodeOrdered(&entity, path) && entity.empty();
}

}  // namespace

std::string CanvasPathProblem(std::string_view path) {
  if (path.empty()) return "empty path";
  if (path.find('\0') != std::string_view::npos) return "path contains NUL";
  if (path[0] == '/') return "absolute path (paths are relative to the run's root)";
  size_t pos = 0;
  bool first = true;
  while (true) {
    size_t end = path.find('/', pos);
    std::string_view part = path.substr(pos, end == std::string_view::npos ? path.npos : end - pos);
    if (part.empty()) return "empty path component";
    if (part == "..") return "path escapes the run's root (..)";
    if (part == ".") return "path has a '.' component";
    if (first && part == ".git") return "path inside .git";
    first = false;
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  return "";
}

// ---------------------------------------------------------------------------------------------
// Apply

void CanvasProjection::ResetCache() {
  latest_.clear();
  dirs_.clear();
  blobs_.clear();
  last_tool_.clear();
  runs_.clear();
  anomaly_seq_ = 0;
}

void CanvasProjection::Committed() {
  blobs_.clear();  // now readable from the column family
  if (latest_.size() > 200000) latest_.clear();
  if (dirs_.size() > 200000) dirs_.clear();
}

Status CanvasProjection::Anomaly(const Event& e, ApplyContext& ctx, std::string_view run,
                                 std::string_view task, std::string_view path,
                                 std::string reason) {
  state::CanvasAnomalyRecT a;
  a.run = std::string(run);
  a.task = std::string(task);
  a.path = std::string(path);
  a.type = std::string(e.view.type);
  a.reason = std::move(reason);
  std::string k(1, kAnomaly);
  AppendBE64(&k, e.lsn);
  AppendBE64(&k, anomaly_seq_++);
  ctx.Put(k, Pack(a));
  return Status::Ok();
}

Result<std::optional<std::string>> CanvasProjection::LoadContent(ApplyContext& ctx,
                                                                 std::string_view hash16) {
  auto it = blobs_.find(std::string(hash16));
  if (it != blobs_.end()) return std::optional<std::string>(it->second);
  return ctx.Get(BlobKey(hash16));
}

Result<const FileVersion*> CanvasProjection::Latest(ApplyContext& ctx, std::string_view run,
                                                    std::string_view path) {
  std::string entity = FileEntity(run, path);
  auto it = latest_.find(entity);
  if (it == latest_.end()) {
    auto stored = ctx.Latest(entity);
    if (!stored.ok()) return stored.status();
    std::optional<FileVersion> v;
    if (stored->has_value()) {
      auto dec = DecodeVersion(**stored, std::string(run), std::string(path));
      if (!dec.ok()) return dec.status();
      v = std::move(dec).value();
    }
    it = latest_.emplace(entity, std::move(v)).first;
  }
  const std::optional<FileVersion>& v = it->second;
  return (v.has_value() && !v->deleted) ? &*v : nullptr;
}

Result<uint64_t*> CanvasProjection::DirCount(ApplyContext& ctx, std::string_view run,
                                             std::string_view dir) {
  std::string key = DirKey(run, dir);
  auto it = dirs_.find(key);
  if (it == dirs_.end()) {
    auto stored = ctx.Get(key);
    if (!stored.ok()) return stored.status();
    uint64_t n = stored->has_value() && (*stored)->size() == 8 ? DecodeBE64(**stored) : 0;
    it = dirs_.emplace(std::move(key), n).first;
  }
  return &it->second;
}

Result<std::string> CanvasProjection::Clash(ApplyContext& ctx, std::string_view run,
                                            std::string_view path) {
  for (std::string_view dir : Ancestors(path)) {
    auto f = Latest(ctx, run, dir);
    if (!f.ok()) return f.status();
    if (*f != nullptr) return "a file '" + std::string(dir) + "' is in the way of this path";
  }
  auto n = DirCount(ctx, run, path);
  if (!n.ok()) return n.status();
  if (**n > 0) return "'" + std::string(path) + "' is a directory (it holds files)";
  return std::string();
}

Status CanvasProjection::PutVersion(const Event& e, ApplyContext& ctx, FileVersion v,
                                    std::optional<std::string_view> content) {
  state::CanvasFileT f;
  if (content) {
    std::string h = Hash16(*content);
    if (!blobs_.contains(h)) {
      auto have = ctx.Get(BlobKey(h));
      if (!have.ok()) return have.status();
      if (!have->has_value()) {
        ctx.Put(BlobKey(h), *content);
        blobs_.emplace(h, std::string(*content));
      }
    }
    f.hash.assign(h.begin(), h.end());
    f.size = content->size();
    v.hash = Hex(h);
    v.size = content->size();
  }
  f.deleted = v.deleted;
  f.base = v.base;
  f.mode = v.mode;
  f.lsn = e.lsn;
  f.time_ns = e.when_ns();
  f.type = std::string(e.view.type);
  f.task = v.task;
  f.renamed_from = v.renamed_from;
  v.lsn = e.lsn;
  v.time_ns = f.time_ns;
  v.type = f.type;
  std::string entity = FileEntity(v.run, v.path);
  ctx.Put(VersionKey(entity, e.lsn), Pack(f));
  // Directory counts: live files under each ancestor directory (for file/directory clashes).
  auto prev = latest_.find(entity);
  bool was_live = prev != latest_.end() && prev->second.has_value() && !prev->second->deleted;
  if (was_live != !v.deleted) {
    for (std::string_view dir : Ancestors(v.path)) {
      auto n = DirCount(ctx, v.run, dir);
      if (!n.ok()) return n.status();
      **n = v.deleted ? **n - 1 : **n + 1;
      std::string be;
      AppendBE64(&be, **n);
      ctx.Put(DirKey(v.run, dir), be);
    }
  }
  latest_[entity] = std::move(v);
  return Status::Ok();
}

Status CanvasProjection::PutChange(const Event& e, ApplyContext& ctx, const CanvasChange& c) {
  state::CanvasChangeRecT r;
  r.type = c.type;
  r.task = c.task;
  r.tool = c.tool;
  r.path = c.path;
  r.to = c.to;
  r.base = c.base;
  r.time_ns = e.when_ns();
  std::string k = ChangePrefix(c.run);
  AppendBE64(&k, e.lsn);
  ctx.Put(k, Pack(r));

  // The run record: base point and change count, one version per change.
  auto& [base_lsn, changes] = [&]() -> std::pair<Lsn, uint64_t>& {
    auto it = runs_.find(c.run);
    if (it != runs_.end()) return it->second;
    std::pair<Lsn, uint64_t> cur{0, 0};
    auto stored = ctx.Latest(RunEntity(c.run));
    if (stored.ok() && stored->has_value()) {
      state::CanvasRunRecT rr;
      if (Unpack<state::CanvasRunRec>(**stored, &rr).ok()) cur = {rr.base_lsn, rr.changes};
    }
    return runs_.emplace(c.run, cur).first->second;
  }();
  if (c.base) base_lsn = e.lsn;
  ++changes;
  state::CanvasRunRecT rr;
  rr.base_lsn = base_lsn;
  rr.changes = changes;
  ctx.Put(VersionKey(RunEntity(c.run), e.lsn), Pack(rr));
  return Status::Ok();
}

Status CanvasProjection::Apply(const Event& e, ApplyContext& ctx) {
  anomaly_seq_ = 0;  // anomaly keys are (lsn, n-th of this event): independent of restarts
  const fb::Event* ev = e.fb;
  std::string run(e.view.run);
  switch (ev->payload_type()) {
    case fb::Payload::ToolCall: {
      const fb::ToolCall* tc = ev->payload_as_ToolCall();
      std::string k = ToolKey(run, Str(tc->task()));
      std::string tool(Str(tc->tool()));
      ctx.Put(k, tool);
      last_tool_[k] = std::move(tool);
      return Status::Ok();
    }
    case fb::Payload::FileWrite:
    case fb::Payload::FilePatch:
    case fb::Payload::FileDelete:
    case fb::Payload::FileRename:
      break;
    default:
      return Status::Ok();
  }

  CanvasChange change;
  change.lsn = e.lsn;
  change.time_ns = e.when_ns();
  change.run = run;
  change.type = std::string(e.view.type);
  std::string path, to;
  switch (ev->payload_type()) {
    case fb::Payload::FileWrite:
      change.task = Str(ev->payload_as_FileWrite()->task());
      path = Str(ev->payload_as_FileWrite()->path());
      break;
    case fb::Payload::FilePatch:
      change.task = Str(ev->payload_as_FilePatch()->task());
      path = Str(ev->payload_as_FilePatch()->path());
      break;
    case fb::Payload::FileDelete:
      change.task = Str(ev->payload_as_FileDelete()->task());
      path = Str(ev->payload_as_FileDelete()->path());
      break;
    default:
      change.task = Str(ev->payload_as_FileRename()->task());
      path = Str(ev->payload_as_FileRename()->path());
      to = Str(ev->payload_as_FileRename()->to());
      break;
  }
  change.path = path;
  change.to = to;
  {
    std::string k = ToolKey(run, change.task);
    auto it = last_tool_.find(k);
    if (it != last_tool_.end()) {
      change.tool = it->second;
    } else {
      auto stored = ctx.Get(k);
      if (!stored.ok()) return stored.status();
      if (stored->has_value()) change.tool = **stored;
      last_tool_[k] = change.tool;
    }
  }
  if (std::string why = CanvasPathProblem(path); !why.empty()) {
    return Anomaly(e, ctx, run, change.task, path, why);
  }
  if (ev->payload_type() == fb::Payload::FileRename) {
    if (std::string why = CanvasPathProblem(to); !why.empty()) {
      return Anomaly(e, ctx, run, change.task, to, why);
    }
  }

  auto cur = Latest(ctx, run, path);
  if (!cur.ok()) return cur.status();
  const FileVersion* current = *cur;
  FileVersion next;
  next.run = run;
  next.path = path;
  next.task = change.task;
  next.mode = current != nullptr ? current->mode : "100644";

  switch (ev->payload_type()) {
    case fb::Payload::FileWrite: {
      const fb::FileWrite* w = ev->payload_as_FileWrite();
      std::string_view content = Str(w->content());
      next.base = w->base().has_value() && *w->base();
      if (w->mode() != nullptr && w->mode()->size() > 0) next.mode = Str(w->mode());
      if (next.mode != "100644" && next.mode != "100755" && next.mode != "120000") {
        return Anomaly(e, ctx, run, change.task, path,
                       "unsupported file mode '" + next.mode + "' (100644, 100755, 120000)");
      }
      change.base = next.base;
      if (current == nullptr) {
        auto clash = Clash(ctx, run, path);
        if (!clash.ok()) return clash.status();
        if (!clash->empty()) return Anomaly(e, ctx, run, change.task, path, *clash);
      }
      // Rewriting identical content (and mode) changes nothing: blame keeps the first writer.
      if (current != nullptr && current->hash == Hex(Hash16(content)) &&
          current->mode == next.mode) {
        if (next.base) RETURN_IF_ERROR(PutChange(e, ctx, change));
        return Status::Ok();
      }
      RETURN_IF_ERROR(PutVersion(e, ctx, std::move(next), content));
      return PutChange(e, ctx, change);
    }
    case fb::Payload::FilePatch: {
      std::string_view diff = Str(ev->payload_as_FilePatch()->diff());
      std::string old;
      if (current != nullptr) {
        auto content = LoadContent(ctx, *Unhex(current->hash));
        if (!content.ok()) return content.status();
        if (!content->has_value()) {
          return Status::Corruption("canvas: content " + current->hash + " of " + path +
                                    " is missing");
        }
        old = std::move(**content);
      } else if (diff.find("--- /dev/null") == std::string_view::npos) {
        return Anomaly(e, ctx, run, change.task, path, "patch of a file that does not exist");
      }
      if (current == nullptr) {
        auto clash = Clash(ctx, run, path);
        if (!clash.ok()) return clash.status();
        if (!clash->empty()) return Anomaly(e, ctx, run, change.task, path, *clash);
      }
      auto patched = text::ApplyPatch(old, diff);
      if (!patched.ok()) {
        return Anomaly(e, ctx, run, change.task, path, patched.status().message());
      }
      if (current != nullptr && *patched == old) return Status::Ok();
      RETURN_IF_ERROR(PutVersion(e, ctx, std::move(next), *patched));
      return PutChange(e, ctx, change);
    }
    case fb::Payload::FileDelete: {
      if (current == nullptr) {
        return Anomaly(e, ctx, run, change.task, path, "delete of a file that does not exist");
      }
      next.deleted = true;
      RETURN_IF_ERROR(PutVersion(e, ctx, std::move(next), std::nullopt));
      return PutChange(e, ctx, change);
    }
    default: {  // rename
      if (current == nullptr) {
        return Anomaly(e, ctx, run, change.task, path, "rename of a file that does not exist");
      }
      if (to == path) return Anomaly(e, ctx, run, change.task, path, "rename onto itself");
      auto dest = Latest(ctx, run, to);
      if (!dest.ok()) return dest.status();
      if (*dest == nullptr) {
        auto clash = Clash(ctx, run, to);
        if (!clash.ok()) return clash.status();
        if (!clash->empty()) return Anomaly(e, ctx, run, change.task, to, *clash);
      }
      auto content = LoadContent(ctx, *Unhex(current->hash));
      if (!content.ok()) return content.status();
      if (!content->has_value()) {
        return Status::Corruption("canvas: content " + current->hash + " of " + path +
                                  " is missing");
      }
      FileVersion moved;
      moved.run = run;
      moved.path = to;
      moved.task = change.task;
      moved.mode = current->mode;
      moved.renamed_from = path;
      next.deleted = true;
      RETURN_IF_ERROR(PutVersion(e, ctx, std::move(next), std::nullopt));
      RETURN_IF_ERROR(PutVersion(e, ctx, std::move(moved), **content));
      return PutChange(e, ctx, change);
    }
  }
}

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
