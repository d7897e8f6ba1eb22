#include "projections/canvas.h"

#include <xxhash.h>

#include <algorithm>
#include <map>

#include "projections/canvas_generated.h"
#include "projections/internal/canvas_records.h"
#include "projections/internal/fb_state.h"
#include "projections/textdiff.h"

namespace tink::projections {

using internal::Pack;
using internal::Unpack;
using canvas_internal::Ancestors;
using canvas_internal::BlobKey;
using canvas_internal::ChangePrefix;
using canvas_internal::DecodeVersion;
using canvas_internal::DirKey;
using canvas_internal::FileEntity;
using canvas_internal::Hash16;
using canvas_internal::Hex;
using canvas_internal::kAnomaly;
using canvas_internal::RunEntity;
using canvas_internal::Str;
using canvas_internal::ToolKey;
using canvas_internal::Unhex;

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

}  // namespace tink::projections
