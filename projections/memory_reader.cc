// MemoryReader: the memory graph's read API (projections/memory.h).
#include "projections/memory.h"

#include <algorithm>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "projections/internal/fb_state.h"
#include "projections/internal/memory_records.h"
#include "projections/memory_generated.h"

namespace tink::projections {

using internal::Unpack;
using memory_internal::Adj;
using memory_internal::BadKey;
using memory_internal::DecodeAdj;
using memory_internal::DecodeEdge;
using memory_internal::DecodeNode;
using memory_internal::Entity;
using memory_internal::kAnomaly;
using memory_internal::kEdge;
using memory_internal::kIn;
using memory_internal::kLabel;
using memory_internal::kNode;
using memory_internal::kOut;
using memory_internal::SplitEntity;

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
    // The level's nodes (in id order, as the reader's iterators like it), then the edges that
    // reached them, looked up in edge id order (edges from one node are neighbours in the key
    // space), and the answer assembled in node order.
    std::vector<std::pair<MemNode, const std::string*>> level;  // node, eid (in `found`)
    for (const auto& [node, eid] : found) {
      frontier.push_back(node);
      ASSIGN_OR_RETURN(std::optional<MemNode> n, Node(node, at));
      if (!n) return Status::Corruption("memory projection: live edge '" + eid +
                                        "' reaches node '" + node + "' that is not live");
      if (HasLabels(*n, labels)) level.emplace_back(std::move(*n), &eid);
    }
    std::vector<size_t> order(level.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return *level[a].second < *level[b].second; });
    std::vector<std::optional<MemEdge>> via(level.size());
    for (size_t i : order) {
      const std::string& eid = *level[i].second;
      ASSIGN_OR_RETURN(via[i], Edge(eid, at));
      if (!via[i]) return Status::Corruption("memory projection: edge '" + eid + "' is not live");
    }
    out.reserve(out.size() + level.size());
    for (size_t i = 0; i < level.size(); ++i) {
      out.push_back(Neighbor{std::move(level[i].first), d, std::move(*via[i])});
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
