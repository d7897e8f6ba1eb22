// The memory projection's keys and stored records (projections/internal/memory_records.h).
#include <nlohmann/json.hpp>

#include "projections/internal/fb_state.h"
#include "projections/internal/memory_records.h"
#include "projections/memory_generated.h"

namespace tink::projections::memory_internal {

using internal::Pack;
using internal::Unpack;

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

bool DecodeAdj(std::string_view v, Adj* a) {
  if (v.size() != 17) return false;
  a->live = v[0] != 0;
  a->from = Unbiased(DecodeBE64(v.substr(1, 8)));
  a->to = Unbiased(DecodeBE64(v.substr(9, 8)));
  return true;
}

namespace {

// "run/<R>/task/<T>" -> T
std::string TaskOfStream(std::string_view stream) {
  if (!stream.starts_with("run/")) return {};
  size_t p = stream.find("/task/", 4);
  if (p == std::string_view::npos) return {};
  std::string_view t = stream.substr(p + 6);
  if (t.empty() || t.find('/') != std::string_view::npos) return {};
  return std::string(t);
}

}  // namespace

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

namespace {

// The provenance fields both record types share.
template <typename Rec>
void PutBy(const MemProvenance& by, Rec* r) {
  r->time_ns = by.time_ns;
  r->run = by.run;
  r->stream = by.stream;
  r->task = by.task;
  r->event_id = by.event_id;
}

template <typename Rec>
MemProvenance TakeBy(Rec* r, Lsn lsn) {
  MemProvenance by;
  by.lsn = lsn;
  by.time_ns = r->time_ns;
  by.run = std::move(r->run);
  by.stream = std::move(r->stream);
  by.task = std::move(r->task);
  by.event_id = std::move(r->event_id);
  return by;
}

}  // namespace

std::string EncodeNode(const MemNode& n) {
  state::MemNodeRecT r;
  r.labels = n.labels;
  r.props = n.props;
  r.retracted = n.retracted;
  r.reason = n.reason;
  PutBy(n.by, &r);
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
  n.by = TakeBy(&r, lsn);
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
  PutBy(e.by, &r);
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
  e.by = TakeBy(&r, lsn);
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

}  // namespace tink::projections::memory_internal
