#include "projections/memory.h"

#include <algorithm>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "projections/internal/fb_state.h"
#include "projections/memory_generated.h"

namespace tink::projections {

using internal::Pack;
using internal::Unpack;

namespace {

constexpr char kNode = 'N', kEdge = 'E', kOut = 'O', kIn = 'I', kLabel = 'L', kAnomaly = 'A';

std::string_view Str(const flatbuffers::String* s) {
  return s == nullptr ? std::string_view() : std::string_view(s->data(), s->size());
}

std::string Entity(char tag, std::string_view id) {
  std::string k(1, tag);
  AppendOrdered(&k, id);
  return k;
}
std::string LabelEntity(std::string_view label, std::string_view id) {
  std::string k(1, kLabel);
  AppendOrdered(&k, label);
  AppendOrdered(&k, id);
  return k;
}
// 'O' src rel dst eid, or 'I' dst rel src eid.
std::string AdjEntity(char tag, std::string_view from, std::string_view rel, std::string_view to,
                      std::string_view eid) {
  std::string k(1, tag);
  AppendOrdered(&k, from);
  AppendOrdered(&k, rel);
  AppendOrdered(&k, to);
  AppendOrdered(&k, eid);
  return k;
}

uint64_t Biased(int64_t v) { return static_cast<uint64_t>(v) ^ (uint64_t{1} << 63); }
int64_t Unbiased(uint64_t v) { return static_cast<int64_t>(v ^ (uint64_t{1} << 63)); }

std::string AdjValue(bool live, int64_t from, int64_t to) {
  std::string v(1, live ? '\1' : '\0');
  AppendBE64(&v, Biased(from));
  AppendBE64(&v, Biased(to));
  return v;
}

struct Adj {
  bool live = false;
  int64_t from = kValidMin, to = kValidMax;
};
bool DecodeAdj(std::string_view v, Adj* a) {
  if (v.size() != 17) return false;
  a->live = v[0] != 0;
  a->from = Unbiased(DecodeBE64(v.substr(1, 8)));
  a->to = Unbiased(DecodeBE64(v.substr(9, 8)));
  return true;
}

// "run/<R>/task/<T>" -> T
std::string TaskOfStream(std::string_view stream) {
  if (!stream.starts_with("run/")) return {};
  size_t p = stream.find("/task/", 4);
  if (p == std::string_view::npos) return {};
  std::string_view t = stream.substr(p + 6);
  if (t.empty() || t.find('/') != std::string_view::npos) return {};
  return std::string(t);
}

MemProvenance ProvenanceOf(const Event& e) {
  MemProvenance p;
  p.lsn = e.lsn;
  p.time_ns = e.time_ns;
  p.run = std::string(e.view.run);
  p.stream = std::string(e.view.stream);
  p.task = TaskOfStream(e.view.stream);
  p.event_id = std::string(e.view.id);
  return p;
}

std::string EncodeNode(const MemNode& n) {
  state::MemNodeRecT r;
  r.labels = n.labels;
  r.props = n.props;
  r.retracted = n.retracted;
  r.reason = n.reason;
  r.time_ns = n.by.time_ns;
  r.run = n.by.run;
  r.stream = n.by.stream;
  r.task = n.by.task;
  r.event_id = n.by.event_id;
  return Pack(r);
}

Result<MemNode> DecodeNode(std::string_view bytes, std::string id, Lsn lsn) {
  state::MemNodeRecT r;
  RETURN_IF_ERROR((Unpack<state::MemNodeRec>(bytes, &r)));
  MemNode n;
  n.id = std::move(id);
  n.labels = std::move(r.labels);
  n.props = std::move(r.props);
  n.retracted = r.retracted;
  n.reason = std::move(r.reason);
  n.by.lsn = lsn;
  n.by.time_ns = r.time_ns;
  n.by.run = std::move(r.run);
  n.by.stream = std::move(r.stream);
  n.by.task = std::move(r.task);
  n.by.event_id = std::move(r.event_id);
  return n;
}

std::string EncodeEdge(const MemEdge& e) {
  state::MemEdgeRecT r;
  r.src = e.src;
  r.rel = e.rel;
  r.dst = e.dst;
  r.props = e.props;
  r.valid_from = e.valid_from;
  r.valid_to = e.valid_to;
  r.retracted = e.retracted;
  r.reason = e.reason;
  r.time_ns = e.by.time_ns;
  r.run = e.by.run;
  r.stream = e.by.stream;
  r.task = e.by.task;
  r.event_id = e.by.event_id;
  return Pack(r);
}

Result<MemEdge> DecodeEdge(std::string_view bytes, std::string id, Lsn lsn) {
  state::MemEdgeRecT r;
  RETURN_IF_ERROR((Unpack<state::MemEdgeRec>(bytes, &r)));
  MemEdge e;
  e.id = std::move(id);
  e.src = std::move(r.src);
  e.rel = std::move(r.rel);
  e.dst = std::move(r.dst);
  e.props = std::move(r.props);
  e.valid_from = r.valid_from;
  e.valid_to = r.valid_to;
  e.retracted = r.retracted;
  e.reason = std::move(r.reason);
  e.by.lsn = lsn;
  e.by.time_ns = r.time_ns;
  e.by.run = std::move(r.run);
  e.by.stream = std::move(r.stream);
  e.by.task = std::move(r.task);
  e.by.event_id = std::move(r.event_id);
  return e;
}

// The JSON object text of a flexbuffer props field ("{}" when absent or null).
std::string PropsText(const flatbuffers::Vector<uint8_t>* v) {
  if (v == nullptr || v->size() == 0) return "{}";
  std::string s = schema::FlexToJsonText(v->data(), v->size());
  return s == "null" ? "{}" : s;
}

// Reads the ordered strings of an entity after its tag.
bool SplitEntity(std::string_view entity, std::vector<std::string>* parts, size_t n) {
  if (entity.empty()) return false;
  entity.remove_prefix(1);
  parts->resize(n);
  for (size_t i = 0; i < n; ++i) {
    if (!DecodeOrdered(&entity, &(*parts)[i])) return false;
  }
  return entity.empty();
}

Status BadKey(std::string_view what) {
  return Status::Corruption("memory projection: malformed " + std::string(what) + " key");
}

}  // namespace

// --- projection ---------------------------------------------------------------------------

void MemoryProjection::ResetCache() {
  nodes_.clear();
  edges_.clear();
  incident_.clear();
  anomaly_seq_ = 0;
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
}

Status MemoryProjection::Apply(const Event& e, ApplyContext& ctx) {
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

// --- reader ---------------------------------------------------------------------------------

std::string MemoryReader::DefaultEdgeId(std::string_view src, std::string_view rel,
                                        std::string_view dst) {
  std::string id;
  id.reserve(src.size() + rel.size() + dst.size() + 2);
  id.append(src).append("|").append(rel).append("|").append(dst);
  return id;
}

bool MemoryReader::PropsMatch(std::string_view props_json, const std::vector<PropFilter>& filters) {
  if (filters.empty()) return true;
  using nlohmann::json;
  json props = json::parse(props_json, nullptr, /*allow_exceptions=*/false);
  if (!props.is_object()) return false;
  for (const PropFilter& f : filters) {
    auto it = props.find(f.key);
    if (it == props.end()) return false;
    json want = json::parse(f.value, nullptr, false);
    if (want.is_discarded()) return false;
    const json& have = *it;
    int cmp = 0;
    if (have.is_number() && want.is_number()) {
      double a = have.get<double>(), b = want.get<double>();
      cmp = a < b ? -1 : (a > b ? 1 : 0);
    } else if (have.is_string() && want.is_string()) {
      const std::string& a = have.get_ref<const std::string&>();
      const std::string& b = want.get_ref<const std::string&>();
      cmp = a < b ? -1 : (a > b ? 1 : 0);
    } else if (have.type() == want.type() &&
               (f.op == PropFilter::Op::kEq || f.op == PropFilter::Op::kNe)) {
      cmp = have == want ? 0 : 1;  // booleans, null, arrays, objects: equality only
    } else {
      return false;
    }
    bool ok = false;
    switch (f.op) {
      case PropFilter::Op::kEq: ok = cmp == 0; break;
      case PropFilter::Op::kNe: ok = cmp != 0; break;
      case PropFilter::Op::kLt: ok = cmp < 0; break;
      case PropFilter::Op::kLe: ok = cmp <= 0; break;
      case PropFilter::Op::kGt: ok = cmp > 0; break;
      case PropFilter::Op::kGe: ok = cmp >= 0; break;
    }
    if (!ok) return false;
  }
  return true;
}

namespace {

bool HasLabels(const MemNode& n, const std::vector<std::string>& labels) {
  for (const std::string& l : labels) {
    if (!std::binary_search(n.labels.begin(), n.labels.end(), l)) return false;
  }
  return true;
}

// One step of an expansion: the edge id and the node at its other end.
struct Hop {
  std::string eid, other;
};

}  // namespace

Result<std::optional<MemNode>> MemoryReader::Node(std::string_view id, const GraphAt& at) {
  ASSIGN_OR_RETURN(std::optional<Version> v, r_.GetAsOf("memory", Entity(kNode, id), at.as_of));
  if (!v) return std::optional<MemNode>();
  ASSIGN_OR_RETURN(MemNode n, DecodeNode(v->value, std::string(id), v->lsn));
  if (n.retracted) return std::optional<MemNode>();
  return std::optional<MemNode>(std::move(n));
}

Result<std::optional<MemEdge>> MemoryReader::Edge(std::string_view id, const GraphAt& at) {
  ASSIGN_OR_RETURN(std::optional<Version> v, r_.GetAsOf("memory", Entity(kEdge, id), at.as_of));
  if (!v) return std::optional<MemEdge>();
  ASSIGN_OR_RETURN(MemEdge e, DecodeEdge(v->value, std::string(id), v->lsn));
  if (e.retracted || (at.valid_at && !e.ValidAt(*at.valid_at))) return std::optional<MemEdge>();
  return std::optional<MemEdge>(std::move(e));
}

Result<std::vector<MemNode>> MemoryReader::Nodes(std::string_view label, const GraphAt& at,
                                                 size_t limit) {
  std::vector<MemNode> out;
  if (limit == 0) return out;
  Status st = Status::Ok();
  if (label.empty()) {
    const std::string prefix(1, kNode);
    std::vector<std::string> parts;
    RETURN_IF_ERROR(r_.ScanAsOf("memory", prefix, at.as_of,
                                [&](std::string_view entity, const Version& v) {
                                  if (!SplitEntity(entity, &parts, 1)) {
                                    st = BadKey("node");
                                    return false;
                                  }
                                  Result<MemNode> n = DecodeNode(v.value, parts[0], v.lsn);
                                  if (!n.ok()) {
                                    st = n.status();
                                    return false;
                                  }
                                  if (!n->retracted) out.push_back(std::move(*n));
                                  return out.size() < limit;
                                }));
    RETURN_IF_ERROR(st);
    return out;
  }
  std::vector<std::string> ids;
  {
    std::string prefix(1, kLabel);
    AppendOrdered(&prefix, label);
    std::vector<std::string> parts;
    RETURN_IF_ERROR(r_.ScanAsOf("memory", prefix, at.as_of,
                                [&](std::string_view entity, const Version& v) {
                                  if (!SplitEntity(entity, &parts, 2)) {
                                    st = BadKey("label");
                                    return false;
                                  }
                                  if (!v.value.empty() && v.value[0] != 0) ids.push_back(parts[1]);
                                  return ids.size() < limit;
                                }));
    RETURN_IF_ERROR(st);
  }
  for (const std::string& id : ids) {
    ASSIGN_OR_RETURN(std::optional<MemNode> n, Node(id, at));
    if (n) out.push_back(std::move(*n));
  }
  return out;
}

namespace {

// Live (and valid) adjacency of `id` in one direction, with rel in `rels` (any when empty), in
// key order: fn(rel, other, eid).
Status ScanAdj(StateReader& r, char tag, std::string_view id, const std::vector<std::string>& rels,
               const GraphAt& at,
               const std::function<void(const std::string&, const std::string&,
                                        const std::string&)>& fn) {
  std::vector<std::string> prefixes;
  if (rels.empty()) {
    prefixes.push_back(Entity(tag, id));
  } else {
    std::vector<std::string> sorted = rels;
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    for (const std::string& rel : sorted) {
      std::string p = Entity(tag, id);
      AppendOrdered(&p, rel);
      prefixes.push_back(std::move(p));
    }
  }
  Status st = Status::Ok();
  std::vector<std::string> parts;
  for (const std::string& prefix : prefixes) {
    RETURN_IF_ERROR(r.ScanAsOf("memory", prefix, at.as_of,
                               [&](std::string_view entity, const Version& v) {
                                 Adj a;
                                 if (!DecodeAdj(v.value, &a) || !SplitEntity(entity, &parts, 4)) {
                                   st = BadKey("adjacency");
                                   return false;
                                 }
                                 if (!a.live) return true;
                                 if (at.valid_at && !(a.from <= *at.valid_at && *at.valid_at < a.to)) {
                                   return true;
                                 }
                                 fn(parts[1], parts[2], parts[3]);
                                 return true;
                               }));
    RETURN_IF_ERROR(st);
  }
  return Status::Ok();
}

// Every hop from `id` following `x` (kBoth: out-edges, then in-edges).
Status Hops(StateReader& r, std::string_view id, const Expand& x, const GraphAt& at,
            std::vector<Hop>* out) {
  out->clear();
  auto add = [&](const std::string&, const std::string& other, const std::string& eid) {
    out->push_back(Hop{eid, other});
  };
  if (x.dir != Direction::kIn) RETURN_IF_ERROR(ScanAdj(r, kOut, id, x.rels, at, add));
  if (x.dir != Direction::kOut) RETURN_IF_ERROR(ScanAdj(r, kIn, id, x.rels, at, add));
  return Status::Ok();
}

Expand Reversed(const Expand& x) {
  Expand y = x;
  if (x.dir == Direction::kOut) y.dir = Direction::kIn;
  if (x.dir == Direction::kIn) y.dir = Direction::kOut;
  return y;
}

}  // namespace

Result<std::vector<MemEdge>> MemoryReader::Edges(std::string_view id, const Expand& x,
                                                 const GraphAt& at) {
  std::vector<Hop> hops;
  RETURN_IF_ERROR(Hops(r_, id, x, at, &hops));
  std::vector<MemEdge> out;
  out.reserve(hops.size());
  for (const Hop& h : hops) {
    ASSIGN_OR_RETURN(std::optional<MemEdge> e, Edge(h.eid, at));
    if (!e) return Status::Corruption("memory projection: adjacency names edge '" + h.eid +
                                      "' that is not live");
    out.push_back(std::move(*e));
  }
  return out;
}

Result<std::vector<Neighbor>> MemoryReader::Neighbors(std::string_view id, int depth,
                                                      const Expand& x,
                                                      const std::vector<std::string>& labels,
                                                      const GraphAt& at) {
  std::vector<Neighbor> out;
  ASSIGN_OR_RETURN(std::optional<MemNode> start, Node(id, at));
  if (!start || depth <= 0) return out;
  // BFS by levels; each level's nodes expanded in id order, each node's hops in Edges() order.
  std::unordered_set<std::string> seen{std::string(id)};
  std::vector<std::string> frontier{std::string(id)};
  std::vector<Hop> hops;
  for (int d = 1; d <= depth && !frontier.empty(); ++d) {
    std::map<std::string, std::string> found;  // node -> eid that first reached it
    for (const std::string& u : frontier) {
      RETURN_IF_ERROR(Hops(r_, u, x, at, &hops));
      for (Hop& h : hops) {
        if (seen.insert(h.other).second) found.emplace(std::move(h.other), std::move(h.eid));
      }
    }
    frontier.clear();
    for (auto& [node, eid] : found) {
      frontier.push_back(node);
      ASSIGN_OR_RETURN(std::optional<MemNode> n, Node(node, at));
      if (!n) return Status::Corruption("memory projection: live edge '" + eid +
                                        "' reaches node '" + node + "' that is not live");
      if (!HasLabels(*n, labels)) continue;
      ASSIGN_OR_RETURN(std::optional<MemEdge> via, Edge(eid, at));
      if (!via) return Status::Corruption("memory projection: edge '" + eid + "' is not live");
      out.push_back(Neighbor{std::move(*n), d, std::move(*via)});
    }
  }
  return out;
}

Result<std::optional<std::vector<MemEdge>>> MemoryReader::ShortestPath(std::string_view from,
                                                                       std::string_view to,
                                                                       int max_depth,
                                                                       const Expand& x,
                                                                       const GraphAt& at) {
  using Out = std::optional<std::vector<MemEdge>>;
  ASSIGN_OR_RETURN(std::optional<MemNode> a, Node(from, at));
  ASSIGN_OR_RETURN(std::optional<MemNode> b, Node(to, at));
  if (!a || !b) return Out();
  if (from == to) return Out(std::vector<MemEdge>());
  // Bidirectional BFS: expand the smaller frontier a whole level at a time; the best meeting in
  // the first level that has one is a shortest path.
  struct Side {
    Expand x;
    std::unordered_map<std::string, std::pair<std::string, std::string>> parent;  // node->(prev,eid)
    std::unordered_map<std::string, int> dist;
    std::vector<std::string> frontier;
    int depth = 0;
  };
  Side f, g;
  f.x = x;
  g.x = Reversed(x);
  f.dist[std::string(from)] = 0;
  g.dist[std::string(to)] = 0;
  f.frontier = {std::string(from)};
  g.frontier = {std::string(to)};
  std::vector<Hop> hops;
  std::string meet;
  int best = -1;
  while (f.depth + g.depth < max_depth && !f.frontier.empty() && !g.frontier.empty()) {
    const bool forward = f.frontier.size() <= g.frontier.size();
    Side& s = forward ? f : g;
    Side& o = forward ? g : f;
    std::sort(s.frontier.begin(), s.frontier.end());
    std::vector<std::string> next;
    for (const std::string& u : s.frontier) {
      RETURN_IF_ERROR(Hops(r_, u, s.x, at, &hops));
      for (Hop& h : hops) {
        if (s.dist.count(h.other)) continue;
        s.dist[h.other] = s.depth + 1;
        s.parent[h.other] = {u, h.eid};
        if (auto it = o.dist.find(h.other); it != o.dist.end()) {
          const int len = s.depth + 1 + it->second;
          if (best < 0 || len < best || (len == best && h.other < meet)) {
            best = len;
            meet = h.other;
          }
        }
        next.push_back(std::move(h.other));
      }
    }
    s.frontier = std::move(next);
    ++s.depth;
    if (best >= 0) break;
  }
  if (best < 0) return Out();
  std::vector<std::string> eids;
  for (std::string v = meet; v != from;) {
    const auto& p = f.parent.at(v);
    eids.push_back(p.second);
    v = p.first;
  }
  std::reverse(eids.begin(), eids.end());
  for (std::string v = meet; v != to;) {
    const auto& p = g.parent.at(v);
    eids.push_back(p.second);
    v = p.first;
  }
  std::vector<MemEdge> path;
  for (const std::string& eid : eids) {
    ASSIGN_OR_RETURN(std::optional<MemEdge> e, Edge(eid, at));
    if (!e) return Status::Corruption("memory projection: edge '" + eid + "' is not live");
    path.push_back(std::move(*e));
  }
  return Out(std::move(path));
}

Result<std::vector<PatternMatch>> MemoryReader::Match(const Pattern& p, const GraphAt& at,
                                                      size_t limit) {
  std::vector<PatternMatch> out;
  if (limit == 0) return out;
  auto node_ok = [](const MemNode& n, const NodePattern& np) {
    return (!np.id || n.id == *np.id) && HasLabels(n, np.labels) &&
           MemoryReader::PropsMatch(n.props, np.props);
  };
  std::vector<MemNode> starts;
  if (p.a.id) {
    ASSIGN_OR_RETURN(std::optional<MemNode> n, Node(*p.a.id, at));
    if (n) starts.push_back(std::move(*n));
  } else {
    ASSIGN_OR_RETURN(starts, Nodes(p.a.labels.empty() ? std::string_view() : p.a.labels[0], at));
  }
  std::unordered_map<std::string, std::optional<MemNode>> cache;
  auto node = [&](const std::string& id) -> Result<const MemNode*> {
    auto it = cache.find(id);
    if (it == cache.end()) {
      ASSIGN_OR_RETURN(std::optional<MemNode> n, Node(id, at));
      it = cache.emplace(id, std::move(n)).first;
    }
    return it->second ? &*it->second : nullptr;
  };
  auto other_end = [](const MemEdge& e, const std::string& from) {
    return e.src == from ? e.dst : e.src;
  };
  for (const MemNode& a : starts) {
    if (!node_ok(a, p.a)) continue;
    std::vector<PatternMatch> here;
    ASSIGN_OR_RETURN(std::vector<MemEdge> r1s, Edges(a.id, p.r1.expand, at));
    for (const MemEdge& r1 : r1s) {
      if (!PropsMatch(r1.props, p.r1.props)) continue;
      // For kBoth a self-loop appears twice (out and in); both are matches of the pattern.
      const std::string bid = p.r1.expand.dir == Direction::kIn ? r1.src
                              : p.r1.expand.dir == Direction::kOut ? r1.dst
                                                                    : other_end(r1, a.id);
      ASSIGN_OR_RETURN(const MemNode* b, node(bid));
      if (b == nullptr || !node_ok(*b, p.b)) continue;
      if (!p.r2) {
        here.push_back(PatternMatch{{a, *b}, {r1}});
        continue;
      }
      ASSIGN_OR_RETURN(std::vector<MemEdge> r2s, Edges(b->id, p.r2->expand, at));
      for (const MemEdge& r2 : r2s) {
        if (!PropsMatch(r2.props, p.r2->props)) continue;
        const std::string cid = p.r2->expand.dir == Direction::kIn ? r2.src
                                : p.r2->expand.dir == Direction::kOut ? r2.dst
                                                                       : other_end(r2, b->id);
        ASSIGN_OR_RETURN(const MemNode* c, node(cid));
        if (c == nullptr || !node_ok(*c, p.c)) continue;
        here.push_back(PatternMatch{{a, *b, *c}, {r1, r2}});
      }
    }
    auto key = [](const PatternMatch& m) {
      std::vector<std::string_view> k{m.nodes[0].id, m.edges[0].id, m.nodes[1].id};
      if (m.edges.size() > 1) {
        k.push_back(m.edges[1].id);
        k.push_back(m.nodes[2].id);
      }
      return k;
    };
    std::stable_sort(here.begin(), here.end(),
                     [&](const PatternMatch& l, const PatternMatch& r) { return key(l) < key(r); });
    for (PatternMatch& m : here) {
      out.push_back(std::move(m));
      if (out.size() >= limit) return out;
    }
  }
  return out;
}

Result<Belief> MemoryReader::About(std::string_view id, const GraphAt& at) {
  Belief b;
  ASSIGN_OR_RETURN(b.node, Node(id, at));
  if (!b.node) return b;
  ASSIGN_OR_RETURN(b.out, Edges(id, Expand{Direction::kOut, {}}, at));
  ASSIGN_OR_RETURN(b.in, Edges(id, Expand{Direction::kIn, {}}, at));
  return b;
}

Result<std::vector<MemNode>> MemoryReader::NodeHistory(std::string_view id) {
  std::vector<MemNode> out;
  Status st = Status::Ok();
  RETURN_IF_ERROR(r_.History("memory", Entity(kNode, id), 0, UINT64_MAX, [&](const Version& v) {
    Result<MemNode> n = DecodeNode(v.value, std::string(id), v.lsn);
    if (!n.ok()) {
      st = n.status();
      return false;
    }
    out.push_back(std::move(*n));
    return true;
  }));
  RETURN_IF_ERROR(st);
  return out;
}

Result<std::vector<MemEdge>> MemoryReader::EdgeHistory(std::string_view id) {
  std::vector<MemEdge> out;
  Status st = Status::Ok();
  RETURN_IF_ERROR(r_.History("memory", Entity(kEdge, id), 0, UINT64_MAX, [&](const Version& v) {
    Result<MemEdge> e = DecodeEdge(v.value, std::string(id), v.lsn);
    if (!e.ok()) {
      st = e.status();
      return false;
    }
    out.push_back(std::move(*e));
    return true;
  }));
  RETURN_IF_ERROR(st);
  return out;
}

namespace {

template <typename V>
std::optional<MemVersionEnd> EndOf(const std::vector<V>& versions, Lsn as_of) {
  std::optional<size_t> idx;
  for (size_t i = 0; i < versions.size() && versions[i].by.lsn <= as_of; ++i) {
    if (!versions[i].retracted) idx = i;
  }
  if (!idx) return std::nullopt;
  MemVersionEnd end;
  end.lsn = versions[*idx].by.lsn;
  if (*idx + 1 < versions.size()) {
    const V& next = versions[*idx + 1];
    end.ended_by = next.by.lsn;
    end.retracted = next.retracted;
    end.reason = next.reason;
    end.end = next.by;
  }
  return end;
}

}  // namespace

Result<std::optional<MemVersionEnd>> MemoryReader::EdgeEnd(std::string_view id, Lsn as_of) {
  ASSIGN_OR_RETURN(std::vector<MemEdge> h, EdgeHistory(id));
  return EndOf(h, as_of);
}

Result<std::optional<MemVersionEnd>> MemoryReader::NodeEnd(std::string_view id, Lsn as_of) {
  ASSIGN_OR_RETURN(std::vector<MemNode> h, NodeHistory(id));
  return EndOf(h, as_of);
}

Result<std::vector<MemAnomaly>> MemoryReader::Anomalies(Lsn as_of) {
  std::vector<MemAnomaly> out;
  Status st = Status::Ok();
  RETURN_IF_ERROR(r_.Scan("memory", std::string(1, kAnomaly), std::string(1, kAnomaly),
                          [&](std::string_view key, std::string_view value) {
                            if (key.size() != 17) {
                              st = BadKey("anomaly");
                              return false;
                            }
                            const Lsn lsn = DecodeBE64(key.substr(1, 8));
                            if (lsn > as_of) return false;
                            state::MemAnomalyRecT a;
                            st = Unpack<state::MemAnomalyRec>(value, &a);
                            if (!st.ok()) return false;
                            out.push_back(MemAnomaly{lsn, std::move(a.run), std::move(a.type),
                                                     std::move(a.target), std::move(a.reason)});
                            return true;
                          }));
  RETURN_IF_ERROR(st);
  return out;
}

}  // namespace tink::projections
