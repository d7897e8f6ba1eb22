// The semantic memory graph: a bitemporal projection of memory.node / memory.edge /
// memory.retract events (DESIGN.md §5, docs/memory.md).
//
// Two times. **System time** is the LSN: what the log had said by then (as of). **Valid time** is
// the world time an edge's event gives (`valid_from` .. `valid_to`, half-open, open ends when
// absent): when the fact holds. Every query takes both (GraphAt). Nothing is ever deleted: a
// retraction or a replacement is a new version, and the history of every node and edge stays.
//
//   memory.node     creates or replaces node `id` (labels, props).
//   memory.edge     creates or replaces edge `id` (default "src|rel|dst"): src -[rel]-> dst.
//                   Both ends must be live nodes.
//   memory.retract  `target` (kind "node" or "edge") is no longer believed. Retracting a node
//                   also retracts every live edge at it (each gets its own retraction version,
//                   reason "node <id> retracted: <reason>", same LSN).
//
// Illegal events change nothing and are **anomalies** (lsn, run, type, target, reason): an edge
// whose src or dst is not a live node, a retract of an id that is unknown or already retracted,
// an empty id/src/rel/dst, an unknown retract kind, a valid_from/valid_to that is not an ISO 8601
// time, or valid_to <= valid_from.
//
// Provenance: each version carries its event's LSN, record time, run, stream and task (the task
// is the `T` of a stream "run/<R>/task/<T>", else empty: memory events have no task field).
//
// Keys in the "memory" column family (values: projections/memory.fbs):
//   'N' ostr(id) BE64(~lsn)                              -> MemNodeState   node versions
//   'E' ostr(id) BE64(~lsn)                              -> MemEdgeState   edge versions
//   'O' ostr(src) ostr(rel) ostr(dst) ostr(eid) BE64(~lsn) -> Adj          out-adjacency
//   'I' ostr(dst) ostr(rel) ostr(src) ostr(eid) BE64(~lsn) -> Adj          in-adjacency
//   'L' ostr(label) ostr(id) BE64(~lsn)                  -> 1 byte live    label index
//   'A' BE64(lsn) BE64(seq)                              -> MemAnomaly     append-only
// Adj is 1 byte live (0/1), BE64 valid_from, BE64 valid_to (offset binary), so neighbour
// expansion filters by system and valid time without reading the edge.
//
// Thread safety: as Projection; MemoryReader as StateReader (one thread).
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "projections/reader.h"

namespace tink::projections {

inline constexpr int64_t kValidMin = std::numeric_limits<int64_t>::min();
inline constexpr int64_t kValidMax = std::numeric_limits<int64_t>::max();

// Who wrote a version: the event.
struct MemProvenance {
  Lsn lsn = 0;
  int64_t time_ns = 0;  // record time
  std::string run, stream, task, event_id;
};

struct MemNode {
  std::string id;
  std::vector<std::string> labels;  // sorted, unique
  std::string props = "{}";         // a JSON object, compact
  bool retracted = false;           // this version is a retraction
  std::string reason;               // the retraction's reason
  MemProvenance by;
};

struct MemEdge {
  std::string id, src, rel, dst;
  std::string props = "{}";
  int64_t valid_from = kValidMin;  // ns since the epoch; [valid_from, valid_to)
  int64_t valid_to = kValidMax;
  bool retracted = false;
  std::string reason;
  MemProvenance by;
  bool ValidAt(int64_t t) const { return valid_from <= t && t < valid_to; }
};

struct MemAnomaly {
  Lsn lsn = 0;
  std::string run, type, target, reason;
};

// A point in both times: as of LSN `as_of` (system time), valid at `valid_at` (world time; none:
// any valid time, i.e. every edge the log believed as of `as_of`).
struct GraphAt {
  Lsn as_of = 0;
  std::optional<int64_t> valid_at;
};

enum class Direction { kOut, kIn, kBoth };

// A property condition: props[key] <op> value. `value` is JSON text ("3", "\"x\"", "true").
// Numbers compare as numbers, strings as strings; a missing key or a type mismatch is false
// (also for kNe).
struct PropFilter {
  enum class Op { kEq, kNe, kLt, kLe, kGt, kGe };
  std::string key;
  Op op = Op::kEq;
  std::string value;
};

struct Expand {
  Direction dir = Direction::kOut;
  std::vector<std::string> rels;  // any when empty
};

struct Neighbor {
  MemNode node;
  int depth = 0;     // fewest hops from the start
  MemEdge via;       // the edge by which the search first reached it (see Neighbors)
};

struct NodePattern {
  std::optional<std::string> id;
  std::vector<std::string> labels;  // all of them
  std::vector<PropFilter> props;
};
struct EdgePattern {
  Expand expand;
  std::vector<PropFilter> props;
};
// (a)-[r1]-(b) or (a)-[r1]-(b)-[r2]-(c).
struct Pattern {
  NodePattern a;
  EdgePattern r1;
  NodePattern b;
  std::optional<EdgePattern> r2;
  NodePattern c;
};
struct PatternMatch {
  std::vector<MemNode> nodes;  // a, b[, c]
  std::vector<MemEdge> edges;  // r1[, r2]
};

// What was believed about a node at a point: the node and its live, valid edges.
struct Belief {
  std::optional<MemNode> node;  // nullopt: unknown or retracted then
  std::vector<MemEdge> out, in;  // in key order (rel, other end, edge id)
};

// A version of a node or edge and the event that ended it, if any.
struct MemVersionEnd {
  Lsn lsn = 0;                  // the version's LSN
  std::optional<Lsn> ended_by;  // the next version's LSN
  bool retracted = false;       // the next version is a retraction (else a replacement)
  std::string reason;
  MemProvenance end;            // who ended it
};

class MemoryProjection : public Projection {
 public:
  std::string_view name() const override { return "memory"; }
  uint32_t format_version() const override { return 1; }
  Status Apply(const Event& e, ApplyContext& ctx) override;
  void ResetCache() override;
  void Committed() override;

 private:
  Status Anomaly(const Event& e, ApplyContext& ctx, std::string_view target, std::string reason);
  Result<const MemNode*> LatestNode(ApplyContext& ctx, std::string_view id);
  Result<const MemEdge*> LatestEdge(ApplyContext& ctx, std::string_view id);
  void PutNode(ApplyContext& ctx, const MemNode& n, const MemNode* prev);
  void PutEdge(ApplyContext& ctx, const MemEdge& e, const MemEdge* prev);
  Status ApplyNode(const Event& e, ApplyContext& ctx);
  Status ApplyEdge(const Event& e, ApplyContext& ctx);
  Status ApplyRetract(const Event& e, ApplyContext& ctx);

  // Latest version of each node / edge touched since the last commit (nullopt: never existed).
  std::unordered_map<std::string, std::optional<MemNode>> nodes_;
  std::unordered_map<std::string, std::optional<MemEdge>> edges_;
  // Edge ids asserted at a node since the last commit (the committed ones are found by scanning).
  std::unordered_map<std::string, std::set<std::string>> incident_;
  // Known entities: when the projection started from an empty state (checked at the first
  // Apply after a reset) it has written every node and edge there is, so an id whose hash is
  // not in `known_` does not exist and needs no read (a replay creates ~1M new edges; each
  // lookup was a seek through every sorted run, docs/performance.md "Memory graph"). A hash
  // collision only costs a read. Given up past kKnownMax entities.
  static constexpr size_t kKnownMax = size_t{16} << 20;
  bool empty_checked_ = false;
  bool complete_ = false;
  std::unordered_set<uint64_t> known_;
  Status CheckComplete(ApplyContext& ctx);
  bool SurelyAbsent(char kind, std::string_view id) const;
  void Know(char kind, std::string_view id);
  uint64_t anomaly_seq_ = 0;
  Lsn anomaly_lsn_ = 0;
};

// Read API. Every call takes a GraphAt; `as_of` beyond what the projection has applied sees the
// head. Nodes and edges that are retracted as of the point are invisible; with `valid_at`, so are
// edges not valid then.
class MemoryReader {
 public:
  explicit MemoryReader(StateReader& r) : r_(r) {}
  Lsn head() const { return r_.applied("memory"); }
  Result<Lsn> Resolve(const AsOf& at) { return r_.Resolve(at, "memory"); }

  // The node as of the point (nullopt: unknown or retracted then).
  Result<std::optional<MemNode>> Node(std::string_view id, const GraphAt& at);
  Result<std::optional<MemEdge>> Edge(std::string_view id, const GraphAt& at);
  // Live nodes with `label` (every live node when empty), in id order; at most `limit`.
  Result<std::vector<MemNode>> Nodes(std::string_view label, const GraphAt& at,
                                     size_t limit = SIZE_MAX);
  // Live (and valid) edges at `id` in direction `x.dir` with a rel in `x.rels`, in key order.
  // For kBoth: out-edges first, then in-edges.
  Result<std::vector<MemEdge>> Edges(std::string_view id, const Expand& x, const GraphAt& at);
  // Nodes within 1..depth hops of `id` (not `id` itself), each once at its fewest hops; every hop
  // follows `x`; only nodes having all `labels` are returned (traversal is not restricted by
  // labels). Ordered by (depth, id). Empty when `id` is not live. Breadth-first by levels: each
  // level's nodes are expanded in id order, each node's edges in Edges() order; `via` is the first
  // edge that reached the node.
  Result<std::vector<Neighbor>> Neighbors(std::string_view id, int depth, const Expand& x,
                                          const std::vector<std::string>& labels,
                                          const GraphAt& at);
  // A shortest path from `from` to `to` of at most `max_depth` hops following `x`, as its edges
  // in order (empty when from == to); nullopt when there is none within max_depth.
  Result<std::optional<std::vector<MemEdge>>> ShortestPath(std::string_view from,
                                                           std::string_view to, int max_depth,
                                                           const Expand& x, const GraphAt& at);
  // Every match of a one- or two-hop pattern, ordered by (a.id, r1.id, b.id[, r2.id, c.id]);
  // at most `limit`. Node a is found by id, else by its first label, else among all nodes.
  Result<std::vector<PatternMatch>> Match(const Pattern& p, const GraphAt& at,
                                          size_t limit = SIZE_MAX);
  // What was believed about `id` at the point: the node and its edges, both directions.
  Result<Belief> About(std::string_view id, const GraphAt& at);
  // Every version of a node / edge, oldest first (retractions included).
  Result<std::vector<MemNode>> NodeHistory(std::string_view id);
  Result<std::vector<MemEdge>> EdgeHistory(std::string_view id);
  // Provenance: the last assertion (non-retraction version) of the edge with lsn <= as_of, and
  // the event that ended it (its next version, at any later LSN: a retraction or a replacement),
  // if any. nullopt when the edge had no assertion by `as_of`.
  Result<std::optional<MemVersionEnd>> EdgeEnd(std::string_view id, Lsn as_of);
  Result<std::optional<MemVersionEnd>> NodeEnd(std::string_view id, Lsn as_of);
  // Anomalies with lsn <= as_of, in LSN order.
  Result<std::vector<MemAnomaly>> Anomalies(Lsn as_of);

  // True when the node/edge props satisfy every filter.
  static bool PropsMatch(std::string_view props_json, const std::vector<PropFilter>& filters);
  // The default edge id.
  static std::string DefaultEdgeId(std::string_view src, std::string_view rel,
                                   std::string_view dst);

 private:
  StateReader& r_;
};

}  // namespace tink::projections
