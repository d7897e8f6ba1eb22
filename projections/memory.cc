#include "projections/memory.h"

#include <algorithm>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <unordered_set>
#include <xxhash.h>

#include "projections/internal/fb_state.h"
#include "projections/internal/memory_records.h"
#include "projections/memory_generated.h"

namespace tink::projections {

using internal::Pack;
using memory_internal::Adj;
using memory_internal::AdjEntity;
using memory_internal::AdjValue;
using memory_internal::BadKey;
using memory_internal::DecodeAdj;
using memory_internal::DecodeEdge;
using memory_internal::DecodeNode;
using memory_internal::EncodeEdge;
using memory_internal::EncodeNode;
using memory_internal::Entity;
using memory_internal::kAnomaly;
using memory_internal::kEdge;
using memory_internal::kIn;
using memory_internal::kNode;
using memory_internal::kOut;
using memory_internal::LabelEntity;
using memory_internal::PropsText;
using memory_internal::ProvenanceOf;
using memory_internal::SplitEntity;
using memory_internal::Str;

// --- projection ---------------------------------------------------------------------------

void MemoryProjection::ResetCache() {
  nodes_.clear();
  edges_.clear();
  incident_.clear();
  anomaly_seq_ = 0;
  empty_checked_ = false;
  complete_ = false;
  known_.clear();
}

Status MemoryProjection::CheckComplete(ApplyContext& ctx) {
  if (empty_checked_) return Status::Ok();
  ASSIGN_OR_RETURN(auto any, ctx.LastWithPrefix(""));
  complete_ = !any.has_value();
  empty_checked_ = true;
  return Status::Ok();
}

namespace {
uint64_t KnownHash(char kind, std::string_view id) {
  return XXH3_64bits_withSeed(id.data(), id.size(), static_cast<unsigned char>(kind));
}
}  // namespace

bool MemoryProjection::SurelyAbsent(char kind, std::string_view id) const {
  return complete_ && !known_.contains(KnownHash(kind, id));
}

void MemoryProjection::Know(char kind, std::string_view id) {
  if (!complete_) return;
  if (known_.size() >= kKnownMax) {
    complete_ = false;
    known_ = {};
    return;
  }
  known_.insert(KnownHash(kind, id));
}

void MemoryProjection::Committed() {
  incident_.clear();  // the committed adjacency is scannable now
  if (nodes_.size() > 200000) nodes_.clear();
  if (edges_.size() > 200000) edges_.clear();
}

Status MemoryProjection::Anomaly(const Event& e, ApplyContext& ctx, std::string_view target,
                                 std::string reason) {
  if (anomaly_lsn_ != e.lsn) {
    anomaly_lsn_ = e.lsn;
    anomaly_seq_ = 0;
  }
  state::MemAnomalyRecT a;
  a.run = std::string(e.view.run);
  a.type = std::string(e.view.type);
  a.target = std::string(target);
  a.reason = std::move(reason);
  std::string k(1, kAnomaly);
  AppendBE64(&k, e.lsn);
  AppendBE64(&k, anomaly_seq_++);
  ctx.Put(k, Pack(a));
  return Status::Ok();
}

Result<const MemNode*> MemoryProjection::LatestNode(ApplyContext& ctx, std::string_view id) {
  std::string key(id);
  auto it = nodes_.find(key);
  if (it == nodes_.end() && SurelyAbsent(kNode, id)) return nullptr;
  if (it == nodes_.end()) {
    Lsn v = 0;
    ASSIGN_OR_RETURN(std::optional<std::string> raw, ctx.Latest(Entity(kNode, id), &v));
    std::optional<MemNode> n;
    if (raw) {
      ASSIGN_OR_RETURN(MemNode d, DecodeNode(*raw, key, v));
      n = std::move(d);
    }
    it = nodes_.emplace(key, std::move(n)).first;
  }
  return it->second ? &*it->second : nullptr;
}

Result<const MemEdge*> MemoryProjection::LatestEdge(ApplyContext& ctx, std::string_view id) {
  std::string key(id);
  auto it = edges_.find(key);
  if (it == edges_.end() && SurelyAbsent(kEdge, id)) return nullptr;
  if (it == edges_.end()) {
    Lsn v = 0;
    ASSIGN_OR_RETURN(std::optional<std::string> raw, ctx.Latest(Entity(kEdge, id), &v));
    std::optional<MemEdge> ed;
    if (raw) {
      ASSIGN_OR_RETURN(MemEdge d, DecodeEdge(*raw, key, v));
      ed = std::move(d);
    }
    it = edges_.emplace(key, std::move(ed)).first;
  }
  return it->second ? &*it->second : nullptr;
}

void MemoryProjection::PutNode(ApplyContext& ctx, const MemNode& n, const MemNode* prev) {
  const Lsn lsn = n.by.lsn;
  ctx.Put(VersionKey(Entity(kNode, n.id), lsn), EncodeNode(n));
  // Label index: what changes between the previous live labels and the new ones.
  std::vector<std::string> before, after;
  if (prev != nullptr && !prev->retracted) before = prev->labels;
  if (!n.retracted) after = n.labels;
  for (const std::string& l : before) {
    if (!std::binary_search(after.begin(), after.end(), l)) {
      ctx.Put(VersionKey(LabelEntity(l, n.id), lsn), std::string(1, '\0'));
    }
  }
  for (const std::string& l : after) {
    if (!std::binary_search(before.begin(), before.end(), l)) {
      ctx.Put(VersionKey(LabelEntity(l, n.id), lsn), std::string(1, '\1'));
    }
  }
  nodes_[n.id] = n;
  Know(kNode, n.id);
}

void MemoryProjection::PutEdge(ApplyContext& ctx, const MemEdge& e, const MemEdge* prev) {
  const Lsn lsn = e.by.lsn;
  ctx.Put(VersionKey(Entity(kEdge, e.id), lsn), EncodeEdge(e));
  const bool moved = prev != nullptr && !prev->retracted &&
                     (prev->src != e.src || prev->rel != e.rel || prev->dst != e.dst);
  if (moved) {
    const std::string dead = AdjValue(false, prev->valid_from, prev->valid_to);
    ctx.Put(VersionKey(AdjEntity(kOut, prev->src, prev->rel, prev->dst, e.id), lsn), dead);
    ctx.Put(VersionKey(AdjEntity(kIn, prev->dst, prev->rel, prev->src, e.id), lsn), dead);
  }
  const std::string v = AdjValue(!e.retracted, e.valid_from, e.valid_to);
  ctx.Put(VersionKey(AdjEntity(kOut, e.src, e.rel, e.dst, e.id), lsn), v);
  ctx.Put(VersionKey(AdjEntity(kIn, e.dst, e.rel, e.src, e.id), lsn), v);
  if (!e.retracted) {
    incident_[e.src].insert(e.id);
    incident_[e.dst].insert(e.id);
  }
  edges_[e.id] = e;
  Know(kEdge, e.id);
}

Status MemoryProjection::Apply(const Event& e, ApplyContext& ctx) {
  RETURN_IF_ERROR(CheckComplete(ctx));
  switch (e.fb->payload_type()) {
    case fb::Payload::MemoryNode:
      return ApplyNode(e, ctx);
    case fb::Payload::MemoryEdge:
      return ApplyEdge(e, ctx);
    case fb::Payload::MemoryRetract:
      return ApplyRetract(e, ctx);
    default:
      return Status::Ok();
  }
}

Status MemoryProjection::ApplyNode(const Event& e, ApplyContext& ctx) {
  const fb::MemoryNode* m = e.fb->payload_as_MemoryNode();
  std::string id(Str(m->id()));
  if (id.empty()) return Anomaly(e, ctx, "", "memory.node without an id");
  MemNode n;
  n.id = id;
  if (m->labels() != nullptr) {
    for (const flatbuffers::String* l : *m->labels()) {
      if (l != nullptr && l->size() > 0) n.labels.emplace_back(Str(l));
    }
  }
  std::sort(n.labels.begin(), n.labels.end());
  n.labels.erase(std::unique(n.labels.begin(), n.labels.end()), n.labels.end());
  n.props = PropsText(m->props());
  n.by = ProvenanceOf(e);
  ASSIGN_OR_RETURN(const MemNode* prev, LatestNode(ctx, id));
  std::optional<MemNode> keep;
  if (prev != nullptr) keep = *prev;  // PutNode overwrites the cache entry prev points into
  PutNode(ctx, n, keep ? &*keep : nullptr);
  return Status::Ok();
}

Status MemoryProjection::ApplyEdge(const Event& e, ApplyContext& ctx) {
  const fb::MemoryEdge* m = e.fb->payload_as_MemoryEdge();
  MemEdge ed;
  ed.src = Str(m->src());
  ed.rel = Str(m->rel());
  ed.dst = Str(m->dst());
  ed.id = Str(m->id());
  if (ed.id.empty() && !ed.src.empty() && !ed.rel.empty() && !ed.dst.empty()) {
    ed.id = MemoryReader::DefaultEdgeId(ed.src, ed.rel, ed.dst);
  }
  const std::string_view target = ed.id;
  if (ed.src.empty()) return Anomaly(e, ctx, target, "memory.edge without src");
  if (ed.rel.empty()) return Anomaly(e, ctx, target, "memory.edge without rel");
  if (ed.dst.empty()) return Anomaly(e, ctx, target, "memory.edge without dst");
  for (auto [field, text, out] :
       {std::tuple{"valid_from", Str(m->valid_from()), &ed.valid_from},
        std::tuple{"valid_to", Str(m->valid_to()), &ed.valid_to}}) {
    if (text.empty()) continue;
    Result<int64_t> t = schema::ParseTime(text);
    if (!t.ok()) {
      return Anomaly(e, ctx, target,
                     std::string(field) + " '" + std::string(text) + "' is not an ISO 8601 time");
    }
    *out = *t;
  }
  if (ed.valid_to <= ed.valid_from) {
    return Anomaly(e, ctx, target, "valid_to is not after valid_from");
  }
  for (const std::string* end : {&ed.src, &ed.dst}) {
    ASSIGN_OR_RETURN(const MemNode* n, LatestNode(ctx, *end));
    if (n == nullptr) return Anomaly(e, ctx, target, "edge to unknown node '" + *end + "'");
    if (n->retracted) return Anomaly(e, ctx, target, "edge to retracted node '" + *end + "'");
  }
  ed.props = PropsText(m->props());
  ed.by = ProvenanceOf(e);
  ASSIGN_OR_RETURN(const MemEdge* prev, LatestEdge(ctx, ed.id));
  std::optional<MemEdge> keep;
  if (prev != nullptr) keep = *prev;
  PutEdge(ctx, ed, keep ? &*keep : nullptr);
  return Status::Ok();
}

Status MemoryProjection::ApplyRetract(const Event& e, ApplyContext& ctx) {
  const fb::MemoryRetract* m = e.fb->payload_as_MemoryRetract();
  const std::string target(Str(m->target()));
  const std::string_view kind = Str(m->kind());
  const std::string reason(Str(m->reason()));
  if (target.empty()) return Anomaly(e, ctx, target, "memory.retract without a target");
  if (kind == "edge") {
    ASSIGN_OR_RETURN(const MemEdge* prev, LatestEdge(ctx, target));
    if (prev == nullptr) return Anomaly(e, ctx, target, "retract of unknown edge '" + target + "'");
    if (prev->retracted) {
      return Anomaly(e, ctx, target, "edge '" + target + "' is already retracted");
    }
    MemEdge r = *prev;
    r.retracted = true;
    r.reason = reason;
    r.by = ProvenanceOf(e);
    PutEdge(ctx, r, nullptr);
    return Status::Ok();
  }
  if (kind != "node") {
    return Anomaly(e, ctx, target,
                   "unknown retract kind '" + std::string(kind) + "' (node or edge)");
  }
  ASSIGN_OR_RETURN(const MemNode* prev, LatestNode(ctx, target));
  if (prev == nullptr) return Anomaly(e, ctx, target, "retract of unknown node '" + target + "'");
  if (prev->retracted) return Anomaly(e, ctx, target, "node '" + target + "' is already retracted");
  MemNode r = *prev;
  r.retracted = true;
  r.reason = reason;
  r.by = ProvenanceOf(e);
  const MemNode before = *prev;
  PutNode(ctx, r, &before);

  // Cascade: every edge live at the node. Candidates: committed adjacency whose newest version
  // is live, and edges asserted in this batch; each is checked against its latest version.
  std::set<std::string> candidates;
  if (auto it = incident_.find(target); it != incident_.end()) candidates = it->second;
  for (char tag : {kOut, kIn}) {
    const std::string prefix = Entity(tag, target);
    std::string last_entity;
    std::vector<std::string> parts;
    Status bad = Status::Ok();
    RETURN_IF_ERROR(ctx.ScanPrefix(prefix, [&](std::string_view key, std::string_view value) {
      std::string_view entity = EntityOf(key);
      if (entity == last_entity) return true;  // an older version
      last_entity.assign(entity);
      Adj a;
      if (!DecodeAdj(value, &a) || !SplitEntity(entity, &parts, 4)) {
        bad = BadKey("adjacency");
        return false;
      }
      if (a.live) candidates.insert(parts[3]);
      return true;
    }));
    RETURN_IF_ERROR(bad);
  }
  const std::string why = "node " + target + " retracted: " + reason;
  for (const std::string& eid : candidates) {
    ASSIGN_OR_RETURN(const MemEdge* ed, LatestEdge(ctx, eid));
    if (ed == nullptr || ed->retracted || (ed->src != target && ed->dst != target)) continue;
    MemEdge x = *ed;
    x.retracted = true;
    x.reason = why;
    x.by = ProvenanceOf(e);
    PutEdge(ctx, x, nullptr);
  }
  return Status::Ok();
}

}  // namespace tink::projections
