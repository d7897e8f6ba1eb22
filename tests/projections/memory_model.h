// A brute-force reference for the memory graph (projections/memory.h), written from the header's
// documented semantics and nothing else: a plain fold of the same memory.* events into per-entity
// version lists, and a view of the graph at one GraphAt (live nodes, live and valid edges sorted
// in key order) that answers every query shape by exhaustive search. Plus a seeded generator of
// event sequences (legal, replacing, retracting, illegal) that feeds an EventLog and the model
// at the same time, and one-line dumps of every reader type for readable diffs.
//
// Ownership: RefView points into its RefModel, which must outlive it and not change meanwhile.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "projections/memory.h"
#include "projections/projections_test_util.h"

namespace tink::projections::testing {

// One event as the model sees it (the EventLog holds the encoded one).
struct MemEvent {
  Lsn lsn = 0;
  int64_t time_ns = 0;
  std::string type, run, stream, id;
  nlohmann::json data;
};

// "run/<R>/task/<T>" -> T, else "".
std::string TaskOfStream(std::string_view stream);
// props[key] <op> value, as memory.h's PropFilter documents it.
bool RefPropsMatch(std::string_view props_json, const std::vector<PropFilter>& filters);

// Dumps: one line per value. Props are shown as stored: the model keeps them as nlohmann's compact
// dump (keys sorted), which is what "a JSON object, compact" from a FlexBuffers map comes to. A
// retraction version shows only id, reason and provenance (the header does not say what else it
// carries); anomalies leave out the free-text reason.
// `text` parsed and re-serialised (compact, keys sorted).
std::string CanonJson(std::string_view text);
std::string Dump(const MemProvenance& p);
std::string Dump(const MemNode& n);
std::string Dump(const MemEdge& e);
std::string Dump(const Neighbor& n);
std::string Dump(const PatternMatch& m);
std::string Dump(const Belief& b);
std::string Dump(const MemVersionEnd& e);
std::string Dump(const MemAnomaly& a);
std::string Dump(const std::optional<MemNode>& n);
std::string Dump(const std::optional<MemEdge>& e);
std::string Dump(const std::optional<MemVersionEnd>& e);
template <typename T>
std::vector<std::string> DumpEach(const std::vector<T>& v) {
  std::vector<std::string> out;
  out.reserve(v.size());
  for (const T& x : v) out.push_back(Dump(x));
  return out;
}
std::string Describe(const GraphAt& at);
std::string Describe(const Expand& x);
std::string Describe(const Pattern& p);

class RefModel {
 public:
  void Apply(const MemEvent& ev);
  // Non-memory and undecodable events only move the head.
  void Skip(Lsn lsn) { head_ = lsn; }

  Lsn head() const { return head_; }
  Lsn Clamp(Lsn as_of) const { return std::min(as_of, head_); }
  // The newest version with lsn <= as_of, or nullptr.
  const MemNode* NodeVersion(const std::string& id, Lsn as_of) const;
  const MemEdge* EdgeVersion(const std::string& id, Lsn as_of) const;
  // As MemoryReader::Node / Edge.
  std::optional<MemNode> Node(const std::string& id, const GraphAt& at) const;
  std::optional<MemEdge> Edge(const std::string& id, const GraphAt& at) const;
  std::vector<MemNode> NodeHistory(const std::string& id) const;
  std::vector<MemEdge> EdgeHistory(const std::string& id) const;
  std::optional<MemVersionEnd> NodeEnd(const std::string& id, Lsn as_of) const;
  std::optional<MemVersionEnd> EdgeEnd(const std::string& id, Lsn as_of) const;
  std::vector<MemAnomaly> Anomalies(Lsn as_of) const;

  const std::map<std::string, std::vector<MemNode>>& nodes() const { return nodes_; }
  const std::map<std::string, std::vector<MemEdge>>& edges() const { return edges_; }
  const std::vector<MemAnomaly>& anomalies() const { return anomalies_; }
  // Every edge's versions that ever had `node` as src or dst.
  std::vector<const std::vector<MemEdge>*> Incident(const std::string& node) const;
  // LSNs of retract events that retracted something, and of node retractions.
  const std::vector<Lsn>& retract_lsns() const { return retract_lsns_; }
  const std::vector<Lsn>& node_retract_lsns() const { return node_retract_lsns_; }

 private:
  bool LiveNode(const std::string& id) const;
  void Anomaly(const MemEvent& ev, const std::string& target);
  void ApplyNode(const MemEvent& ev);
  void ApplyEdge(const MemEvent& ev);
  void ApplyRetract(const MemEvent& ev);

  std::map<std::string, std::vector<MemNode>> nodes_;  // versions, oldest first
  std::map<std::string, std::vector<MemEdge>> edges_;
  std::vector<MemAnomaly> anomalies_;
  std::unordered_map<std::string, std::set<std::string>> incident_;  // node -> edge ids
  std::vector<Lsn> retract_lsns_, node_retract_lsns_;
  Lsn head_ = 0;
};

// The graph at one point. Adjacency is computed per node when first asked for.
class RefView {
 public:
  RefView(const RefModel& m, GraphAt at);
  const GraphAt& at() const { return at_; }  // as_of clamped to the head
  const std::map<std::string, const MemNode*>& nodes() const { return nodes_; }
  const std::vector<std::string>& live_ids() const { return live_ids_; }
  const MemNode* node(const std::string& id) const;

  // One step from `id` following `x`: the edge and the node at its other end, in Edges order.
  std::vector<std::pair<const MemEdge*, std::string>> Steps(const std::string& id,
                                                            const Expand& x) const;
  std::vector<MemNode> Nodes(const std::string& label, size_t limit) const;
  std::vector<MemEdge> Edges(const std::string& id, const Expand& x) const;
  std::vector<Neighbor> Neighbors(const std::string& id, int depth, const Expand& x,
                                  const std::vector<std::string>& labels) const;
  // Fewest hops from -> to within max_depth; nullopt when unreachable.
  std::optional<int> Distance(const std::string& from, const std::string& to, int max_depth,
                              const Expand& x) const;
  // "" when `path` is a shortest from -> to path of live, valid edges following `x`, else why not.
  std::string CheckPath(const std::string& from, const std::string& to, int max_depth,
                        const Expand& x, const std::optional<std::vector<MemEdge>>& path) const;
  std::vector<PatternMatch> Match(const Pattern& p, size_t limit) const;
  Belief About(const std::string& id) const;

 private:
  // Live, valid edges out of / into `id`, in key order.
  const std::vector<const MemEdge*>& Out(const std::string& id) const;
  const std::vector<const MemEdge*>& In(const std::string& id) const;

  const RefModel& m_;
  GraphAt at_;
  std::map<std::string, const MemNode*> nodes_;
  std::vector<std::string> live_ids_;
  mutable std::unordered_map<std::string, std::vector<const MemEdge*>> out_, in_;
};

// Generates memory events into an EventLog and a RefModel. Its own bookkeeping (live nodes,
// edges) only steers it towards mostly legal events; the model decides what is legal.
class MemGenerator {
 public:
  MemGenerator(uint64_t seed, EventLog* log, RefModel* ref);
  // Steps until at least `nodes` node ids and `edges` edge ids have been asserted.
  void Generate(size_t nodes, size_t edges);

  Lsn Emit(const std::string& type, const std::string& run, nlohmann::json data,
           std::string stream = "", int64_t occurred_ns = 0);
  int64_t time_ns() const { return time_; }
  size_t edge_ids() const { return edge_ids_.size(); }
  size_t node_ids() const { return node_ids_.size(); }
  const std::vector<std::string>& all_node_ids() const { return node_ids_; }
  const std::vector<std::string>& all_edge_ids() const { return edge_ids_; }
  std::vector<std::string>& labels() { return labels_; }
  std::vector<std::string>& rels() { return rels_; }
  std::mt19937_64& rng() { return rng_; }

  static int64_t T0();  // 2026-01-01T00:00:00Z

 private:
  size_t Pick(size_t n) { return static_cast<size_t>(rng_() % n); }
  bool Chance(int per_mille) { return static_cast<int>(rng_() % 1000) < per_mille; }
  std::string Run();
  std::string Stream(const std::string& run);
  nlohmann::json NodeData(const std::string& id);
  nlohmann::json EdgeData(const std::string& id, const std::string& src, const std::string& dst);
  std::string ValidTime(int64_t* ns);
  std::string LiveNode();
  std::string NewNode();
  void NewEdge(std::string src = "", std::string dst = "");
  void ReplaceEdge();
  void RetractEdge();
  void ReplaceNode();
  void RetractNode(std::string id);
  void Reassert();
  void Illegal();
  void Burst();
  void Step();

  std::mt19937_64 rng_;
  size_t target_nodes_ = 0;
  EventLog* log_;
  RefModel* ref_;
  int64_t time_;
  std::vector<std::string> labels_, rels_;
  std::vector<std::string> node_ids_, edge_ids_;
  std::vector<std::string> live_;  // live nodes (as the generator believes)
  std::unordered_map<std::string, size_t> live_pos_;
  std::vector<std::string> dead_;  // retracted nodes
  std::unordered_set<std::string> dead_edges_;
  struct GenEdge {
    std::string src, rel, dst;
    bool default_id = false;
  };
  std::unordered_map<std::string, GenEdge> edge_info_;
};

}  // namespace tink::projections::testing
