// The memory-graph workload of tink_compare's memory class (bench/memory_compare.cc describes it):
// a deterministic generator of memory.node / memory.edge events with churn, and its own model of
// the graph (every version of every node and edge), from which SQLite is loaded and answers are
// checked. Not thread-safe; bench/ only.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "bench/compare.h"
#include "projections/memory.h"
#include "schema/schema.h"

namespace tink::bench::memwork {

namespace pj = projections;
using projections::Lsn;

constexpr int64_t kOpen = std::numeric_limits<int64_t>::max();  // lsn_to of a current version
constexpr const char* kLabels[] = {"Concept", "File", "Person", "Repo", "Task", "Tool"};
constexpr const char* kRels[] = {"CALLS",    "DEPENDS_ON", "IMPORTS", "MENTIONS",
                                 "MODIFIES", "OWNS",       "PART_OF", "RELATED_TO"};
constexpr int kNumRels = 8;
constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kT2020 = 1577836800LL * kSec;  // 2020-01-01T00:00:00Z
constexpr int64_t kT2026 = 1767225600LL * kSec;  // 2026-01-01T00:00:00Z

// ---- The generator and its model of the graph -----------------------------------------------

struct NodeVer {
  int64_t from = 0, to = kOpen;
  std::string labels;  // "A,B"
  int v = 0;
};
struct EdgeVer {
  int64_t from = 0, to = kOpen;
  int64_t valid_from = pj::kValidMin, valid_to = pj::kValidMax;
  int w = 0, v = 0;
};
struct GNode {
  bool live = false;
  std::vector<NodeVer> vers;
  std::vector<uint32_t> incident;  // edges created at it (either end)
};
struct GEdge {
  uint32_t src = 0, dst = 0;
  uint8_t rel = 0;
  bool live = false;
  uint32_t live_pos = 0;  // position in Graph::live_edges while live
  std::vector<EdgeVer> vers;
};

inline std::string NodeId(uint32_t i) { return "n" + std::to_string(i); }
inline std::string EdgeId(const GEdge& e) {
  return pj::MemoryReader::DefaultEdgeId(NodeId(e.src), kRels[e.rel], NodeId(e.dst));
}
inline std::string NodeProps(uint32_t i, int v) {
  return "{\"name\":\"" + NodeId(i) + "\",\"v\":" + std::to_string(v) + "}";
}
inline std::string EdgeProps(int w, int v) {
  return "{\"v\":" + std::to_string(v) + ",\"w\":" + std::to_string(w) + "}";
}

struct GenStats {
  uint64_t events = 0, node_events = 0, edge_creates = 0, edge_replaces = 0, edge_retracts = 0,
           node_replaces = 0, node_retracts = 0, edges_retracted_with_node = 0, valid_edges = 0;
};

class Graph {
 public:
  Graph(const MemoryOptions& o) : o_(o), rng_(o.seed) {
    nodes_.resize(o.nodes);
    // Destination weights: (rank+1)^-skew over a random permutation of the nodes.
    std::vector<uint32_t> perm(o.nodes);
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), rng_);
    rank_to_node_ = std::move(perm);
    cum_.resize(o.nodes);
    double s = 0;
    for (uint64_t r = 0; r < o.nodes; ++r) {
      s += std::pow(static_cast<double>(r + 1), -o.skew);
      cum_[r] = s;
    }
    edges_.reserve(o.edges);
  }

  // The next event (its LSN will be `lsn`), or false when the workload is done.
  bool Next(Lsn lsn, schema::EventInput* e) {
    e->data_json.clear();
    e->id.clear();
    const int stream = static_cast<int>(rng_() % 8);
    e->stream = "memory/agent-" + std::to_string(stream);
    e->run = "agent-" + std::to_string(stream);
    if (next_node_ < o_.nodes) {
      NodeEvent(next_node_++, lsn, e);
      return true;
    }
    // Churn owed since the last edge creation, then the next creation.
    while (true) {
      if (pending_churn_.empty()) {
        if (stats_.edge_creates >= o_.edges) {
          return false;
        }
        if (stats_.edge_creates > 0) {
          auto coin = [&](double p) { return std::uniform_real_distribution<>(0, 1)(rng_) < p; };
          if (coin(0.10)) {
            pending_churn_.push_back('r');
          }
          if (coin(0.03)) {
            pending_churn_.push_back('x');
          }
          if (coin(0.05)) {
            pending_churn_.push_back('n');
          }
          if (coin(0.0002)) {
            pending_churn_.push_back('k');
          }
        }
        pending_churn_.push_back('c');
      }
      const char op = pending_churn_.front();
      pending_churn_.erase(pending_churn_.begin());
      if (Apply(op, lsn, e)) {
        return true;
      }
    }
  }

  const GenStats& stats() const { return stats_; }
  const std::vector<GNode>& nodes() const { return nodes_; }
  const std::vector<GEdge>& edges() const { return edges_; }
  std::mt19937_64& rng() { return rng_; }
  // The node's live version at X, or null.
  const NodeVer* NodeAt(uint32_t n, int64_t x) const {
    for (const NodeVer& v : nodes_[n].vers) {
      if (v.from <= x && x < v.to) {
        return &v;
      }
    }
    return nullptr;
  }
  // The edge with this id at the head, if any (any version).
  const GEdge* FindEdge(uint32_t src, int rel, uint32_t dst) const {
    auto it = triples_.find(Triple(src, rel, dst));
    return it == triples_.end() ? nullptr : &edges_[it->second];
  }
  uint32_t RandomLiveNode() {
    while (true) {
      const uint32_t n = static_cast<uint32_t>(rng_() % o_.nodes);
      if (nodes_[n].live) {
        return n;
      }
    }
  }

 private:
  uint64_t Triple(uint32_t s, int r, uint32_t d) const {
    return (static_cast<uint64_t>(s) * o_.nodes + d) * kNumRels + static_cast<uint64_t>(r);
  }
  uint32_t PopularNode() {
    const double u = std::uniform_real_distribution<>(0, cum_.back())(rng_);
    const size_t r = std::upper_bound(cum_.begin(), cum_.end(), u) - cum_.begin();
    return rank_to_node_[std::min<size_t>(r, cum_.size() - 1)];
  }
  std::string Labels(uint32_t) {
    const int a = static_cast<int>(rng_() % 6);
    if (rng_() % 10 < 7) {
      return kLabels[a];
    }
    int b = static_cast<int>(rng_() % 6);
    if (b == a) {
      b = (a + 1) % 6;
    }
    return std::string(kLabels[std::min(a, b)]) + "," + kLabels[std::max(a, b)];
  }
  static std::string LabelsJson(const std::string& labels) {
    std::string out = "[\"";
    for (char c : labels) {
      out += c == ',' ? std::string("\",\"") : std::string(1, c);
    }
    return out + "\"]";
  }
  void ValidTime(EdgeVer* v) {
    v->valid_from = pj::kValidMin;
    v->valid_to = pj::kValidMax;
    if (rng_() % 100 < 30) {
      v->valid_from = kT2020 + static_cast<int64_t>(rng_() % ((kT2026 - kT2020) / kSec)) * kSec;
      if (rng_() % 100 < 40) {
        v->valid_to = v->valid_from +
                      (86400 + static_cast<int64_t>(rng_() % (int64_t{3} * 365 * 86400))) * kSec;
      }
    }
  }
  void EdgeEvent(const GEdge& g, const EdgeVer& v, schema::EventInput* e) {
    e->type = "memory.edge";
    e->data_json = "{\"src\":\"" + NodeId(g.src) + "\",\"rel\":\"" + kRels[g.rel] +
                   "\",\"dst\":\"" + NodeId(g.dst) + "\",\"props\":" + EdgeProps(v.w, v.v);
    if (v.valid_from != pj::kValidMin) {
      e->data_json += ",\"valid_from\":\"" + schema::FormatTime(v.valid_from) + "\"";
    }
    if (v.valid_to != pj::kValidMax) {
      e->data_json += ",\"valid_to\":\"" + schema::FormatTime(v.valid_to) + "\"";
    }
    e->data_json += "}";
  }
  void NodeEvent(uint32_t n, Lsn lsn, schema::EventInput* e) {
    GNode& g = nodes_[n];
    NodeVer v;
    v.from = static_cast<int64_t>(lsn);
    if (!g.vers.empty()) {
      g.vers.back().to = v.from;
      v.v = g.vers.back().v + 1;
      v.labels = rng_() % 4 == 0 ? Labels(n) : g.vers.back().labels;
      ++stats_.node_replaces;
    } else {
      v.labels = Labels(n);
      ++stats_.node_events;
    }
    g.live = true;
    e->type = "memory.node";
    e->data_json = "{\"id\":\"" + NodeId(n) + "\",\"labels\":" + LabelsJson(v.labels) +
                   ",\"props\":" + NodeProps(n, v.v) + "}";
    g.vers.push_back(std::move(v));
    ++stats_.events;
  }
  void Retract(GEdge& g, int64_t lsn) {
    g.vers.back().to = lsn;
    g.live = false;
    const uint32_t last = live_edges_.back();
    live_edges_[g.live_pos] = last;
    edges_[last].live_pos = g.live_pos;
    live_edges_.pop_back();
  }
  // False when the op had nothing to act on (no event produced).
  bool Apply(char op, Lsn lsn, schema::EventInput* e) {
    const int64_t at = static_cast<int64_t>(lsn);
    if (op == 'c') {
      for (int tries = 0; tries < 1000; ++tries) {
        const uint32_t s = RandomLiveNode();
        const uint32_t d = PopularNode();
        const int r = static_cast<int>(rng_() % kNumRels);
        if (s == d || !nodes_[d].live || triples_.contains(Triple(s, r, d))) {
          continue;
        }
        GEdge g;
        g.src = s;
        g.dst = d;
        g.rel = static_cast<uint8_t>(r);
        g.live = true;
        EdgeVer v;
        v.from = at;
        v.w = 1 + static_cast<int>(rng_() % 100);
        ValidTime(&v);
        stats_.valid_edges += v.valid_from != pj::kValidMin;
        g.vers.push_back(v);
        const uint32_t idx = static_cast<uint32_t>(edges_.size());
        g.live_pos = static_cast<uint32_t>(live_edges_.size());
        live_edges_.push_back(idx);
        triples_.emplace(Triple(s, r, d), idx);
        nodes_[s].incident.push_back(idx);
        nodes_[d].incident.push_back(idx);
        edges_.push_back(std::move(g));
        EdgeEvent(edges_.back(), v, e);
        ++stats_.edge_creates;
        ++stats_.events;
        return true;
      }
      ++stats_.edge_creates;  // gave up (never happens with sane sizes): keep the loop finite
      return false;
    }
    if (op == 'r' || op == 'x') {
      if (live_edges_.empty()) {
        return false;
      }
      GEdge& g = edges_[live_edges_[rng_() % live_edges_.size()]];
      if (op == 'r') {
        EdgeVer v = g.vers.back();
        g.vers.back().to = at;
        v.from = at;
        v.to = kOpen;
        v.v++;
        v.w = 1 + static_cast<int>(rng_() % 100);
        if (rng_() % 2 == 0) {
          ValidTime(&v);
        }
        g.vers.push_back(v);
        EdgeEvent(g, v, e);
        ++stats_.edge_replaces;
      } else {
        Retract(g, at);
        e->type = "memory.retract";
        e->data_json = "{\"target\":\"" + EdgeId(g) + "\",\"kind\":\"edge\",\"reason\":\"bench\"}";
        ++stats_.edge_retracts;
      }
      ++stats_.events;
      return true;
    }
    const uint32_t n = RandomLiveNode();
    if (op == 'n') {
      NodeEvent(n, lsn, e);
      return true;
    }
    // 'k': retract the node and every live edge at it.
    GNode& g = nodes_[n];
    g.vers.back().to = at;
    g.live = false;
    for (uint32_t ei : g.incident) {
      if (edges_[ei].live) {
        Retract(edges_[ei], at);
        ++stats_.edges_retracted_with_node;
      }
    }
    e->type = "memory.retract";
    e->data_json = "{\"target\":\"" + NodeId(n) + "\",\"kind\":\"node\",\"reason\":\"bench\"}";
    ++stats_.node_retracts;
    ++stats_.events;
    return true;
  }

  MemoryOptions o_;
  std::mt19937_64 rng_;
  std::vector<GNode> nodes_;
  std::vector<GEdge> edges_;
  std::vector<uint32_t> live_edges_;
  std::unordered_map<uint64_t, uint32_t> triples_;
  std::vector<uint32_t> rank_to_node_;
  std::vector<double> cum_;
  uint32_t next_node_ = 0;
  std::vector<char> pending_churn_;
  GenStats stats_;
};

}  // namespace tink::bench::memwork
