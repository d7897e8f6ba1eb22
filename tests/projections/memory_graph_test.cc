// The memory graph on a generated event sequence (10k nodes, >= 100k edges, replacements,
// retractions, cascades, illegal events), applied in random batches and compared query shape by
// query shape with the brute-force model of memory_model.h at several hundred (as_of, valid_at)
// points; and batch-size determinism (1, 7, all, random with a reopen) on a smaller sequence.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <functional>

#include "projections/memory.h"
#include "projections/memory_model.h"
#include "projections/projections_test_util.h"
#include "support/temp_dir.h"

namespace tink::projections {
namespace {

using testing::Describe;
using testing::Dump;
using testing::DumpEach;
using testing::EventLog;
using testing::MemGenerator;
using testing::Must;
using testing::RefModel;
using testing::RefView;
using Op = PropFilter::Op;

constexpr int64_t kDay = 86'400'000'000'000;

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

template <typename F>
auto Timed(double& seconds, F f) {
  const auto t = std::chrono::steady_clock::now();
  auto r = f();
  seconds += Seconds(t);
  return r;
}

// Counts checks per query shape and reports the first few mismatches of each in full.
class Tally {
 public:
  static constexpr int kReported = 5;
  bool Same(const std::string& shape, const std::vector<std::string>& got,
            const std::vector<std::string>& want, const std::function<std::string()>& where) {
    Count& c = counts_[shape];
    ++c.checks;
    if (!want.empty()) ++c.nonempty;
    if (got == want) return true;
    if (c.failures++ < kReported)
      ADD_FAILURE() << shape << " differs at " << where() << "\n" << Diff(got, want);
    return false;
  }
  bool Same(const std::string& shape, const std::string& got, const std::string& want,
            const std::function<std::string()>& where) {
    return Same(shape, std::vector<std::string>{got}, std::vector<std::string>{want}, where);
  }
  // A check with its own verdict ("" = fine).
  void Verdict(const std::string& shape, const std::string& problem, bool nonempty,
               const std::function<std::string()>& where) {
    Count& c = counts_[shape];
    ++c.checks;
    if (nonempty) ++c.nonempty;
    if (problem.empty()) return;
    if (c.failures++ < kReported)
      ADD_FAILURE() << shape << " wrong at " << where() << ": " << problem;
  }
  // Seconds spent in the reader for `shape`.
  double& seconds(const std::string& shape) { return counts_[shape].seconds; }
  void Report() const {
    for (const auto& [shape, c] : counts_) {
      if (c.checks == 0) {  // time spent in the model
        std::printf("  %-16s %.2f s\n", shape.c_str(), c.seconds);
        continue;
      }
      std::printf("  %-16s %7d checks, %7d with a non-empty expectation, %d mismatches, %.2f s\n",
                  shape.c_str(), c.checks, c.nonempty, c.failures, c.seconds);
      EXPECT_EQ(c.failures, 0) << shape << ": " << c.failures << " mismatches in all";
    }
  }

 private:
  static std::string Diff(const std::vector<std::string>& got,
                          const std::vector<std::string>& want) {
    size_t i = 0;
    while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
    std::string s = "  got " + std::to_string(got.size()) + " items, want " +
                    std::to_string(want.size()) + "; first difference at " + std::to_string(i) +
                    "\n";
    const size_t from = i > 1 ? i - 1 : 0;
    for (size_t k = from; k < i + 2 && k < got.size(); ++k) {
      s += "  got [" + std::to_string(k) + "] " + got[k] + "\n";
    }
    for (size_t k = from; k < i + 2 && k < want.size(); ++k) {
      s += "  want[" + std::to_string(k) + "] " + want[k] + "\n";
    }
    return s;
  }
  struct Count {
    int checks = 0, nonempty = 0, failures = 0;
    double seconds = 0;
  };
  std::map<std::string, Count> counts_;
};

// Random query arguments.
class Queries {
 public:
  Queries(uint64_t seed, const std::vector<std::string>& labels,
          const std::vector<std::string>& rels)
      : rng_(seed), labels_(labels), rels_(rels) {}
  size_t Pick(size_t n) { return static_cast<size_t>(rng_() % n); }
  bool Chance(int percent) { return static_cast<int>(rng_() % 100) < percent; }
  std::mt19937_64& rng() { return rng_; }

  Expand RandomExpand(int max_rels = 2) {
    Expand x;
    x.dir = static_cast<Direction>(Pick(3));
    const size_t n = Pick(static_cast<size_t>(max_rels) + 1);
    for (size_t i = 0; i < n; ++i) x.rels.push_back(rels_[Pick(rels_.size())]);
    if (Chance(5)) x.rels.push_back("NO_SUCH_REL");
    return x;
  }
  std::vector<std::string> RandomLabels() {
    std::vector<std::string> l;
    if (Chance(50)) return l;
    l.push_back(labels_[Pick(labels_.size())]);
    if (Chance(15)) l.push_back(labels_[Pick(labels_.size())]);
    return l;
  }
  Op RandomOp() { return static_cast<Op>(Pick(6)); }
  PropFilter NodeFilter() {
    switch (Pick(6)) {
      case 0:
        return {"loc", RandomOp(), std::to_string(Pick(1000))};
      case 1:
        return {"loc", RandomOp(), Chance(50) ? "500.0" : "\"500\""};
      case 2: {
        static const char* const kNames[] = {"\"alpha\"", "\"beta\"", "\"delta\"", "\"\"", "\"b\""};
        return {"name", RandomOp(), kNames[Pick(5)]};
      }
      case 3:
        return {"score", RandomOp(), Chance(50) ? "2.5" : std::to_string(Pick(10))};
      case 4:
        return {"flag", Chance(50) ? Op::kEq : Op::kNe, Chance(50) ? "true" : "false"};
      default:
        return {"nope", Op::kNe, "1"};
    }
  }
  PropFilter EdgeFilter() {
    switch (Pick(4)) {
      case 0:
        return {"w", RandomOp(), std::to_string(Pick(11))};
      case 1:
        return {"confidence", RandomOp(), Chance(50) ? "0.5" : "1"};
      case 2:
        return {"origin", Chance(70) ? Op::kEq : Op::kNe, "\"agent\""};
      default:
        return {"w", Op::kEq, "\"3\""};  // a type mismatch
    }
  }
  // An anchor is an id (cheap) or, when `by_label`, a label (thousands of candidates).
  NodePattern RandomNode(const RefView& v, bool need_anchor, bool by_label = false) {
    NodePattern p;
    if (need_anchor && !by_label && !v.live_ids().empty()) {
      p.id = v.live_ids()[Pick(v.live_ids().size())];
      if (Chance(20)) p.labels.push_back(labels_[Pick(labels_.size())]);
    } else if (need_anchor || Chance(40)) {
      p.labels.push_back(labels_[Pick(labels_.size())]);
      if (Chance(10)) p.labels.push_back(labels_[Pick(labels_.size())]);
    } else if (Chance(5) && !v.live_ids().empty()) {
      p.id = v.live_ids()[Pick(v.live_ids().size())];
    }
    if (Chance(30)) p.props.push_back(NodeFilter());
    return p;
  }
  Pattern RandomPattern(const RefView& v, bool by_label) {
    Pattern p;
    p.a = RandomNode(v, /*need_anchor=*/true, by_label);
    p.r1.expand = RandomExpand(1);
    if (by_label && p.r1.expand.rels.empty()) {
      p.r1.expand.rels.push_back(rels_[Pick(rels_.size())]);
    }
    if (Chance(30)) p.r1.props.push_back(EdgeFilter());
    p.b = RandomNode(v, false);
    if (Chance(50)) {
      EdgePattern r2;
      r2.expand = RandomExpand(1);
      if (by_label && r2.expand.rels.empty()) r2.expand.rels.push_back(rels_[Pick(rels_.size())]);
      if (Chance(30)) r2.props.push_back(EdgeFilter());
      p.r2 = r2;
      p.c = RandomNode(v, false);
    }
    return p;
  }

 private:
  std::mt19937_64 rng_;
  std::vector<std::string> labels_, rels_;
};

// The generated world, built once for the suite.
struct World {
  tink::testing::TempDir dir;
  EventLog log;
  RefModel ref;
  MemoryProjection memory;
  std::unique_ptr<StateStore> store;
  std::vector<std::string> labels, rels, node_ids, edge_ids;
  std::vector<int64_t> valid_bounds;  // every finite valid_from / valid_to in the events

  void Build(uint64_t seed, size_t nodes, size_t edges, size_t max_batch) {
    auto t = std::chrono::steady_clock::now();
    MemGenerator gen(seed, &log, &ref);
    gen.Generate(nodes, edges);
    labels = gen.labels();
    rels = gen.rels();
    for (const auto& [id, v] : ref.nodes()) node_ids.push_back(id);
    for (const auto& [id, versions] : ref.edges()) {
      edge_ids.push_back(id);
      for (const MemEdge& e : versions) {
        if (e.valid_from != kValidMin) valid_bounds.push_back(e.valid_from);
        if (e.valid_to != kValidMax) valid_bounds.push_back(e.valid_to);
      }
    }
    const double gen_s = Seconds(t);
    t = std::chrono::steady_clock::now();
    Result<std::unique_ptr<StateStore>> st = StateStore::Open(dir.path(), {&memory});
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    store = std::move(st).value();
    std::mt19937_64 rng(seed + 1);
    Status s = log.ApplyInBatches(store.get(), 1, log.last(),
                                  [&] { return 1 + static_cast<size_t>(rng() % max_batch); });
    ASSERT_TRUE(s.ok()) << s.ToString();
    size_t versions = 0;
    for (const auto& [id, v] : ref.edges()) versions += v.size();
    std::printf(
        "generated %zu events (%zu node ids, %zu edge ids, %zu edge versions, %zu anomalies, "
        "%zu node retractions) in %.1f s; applied in %.1f s\n",
        static_cast<size_t>(log.last()), node_ids.size(), edge_ids.size(), versions,
        ref.anomalies().size(), ref.node_retract_lsns().size(), gen_s, Seconds(t));
  }

  // Points in both times: the edges of the log, retractions and their eves, random ones.
  std::vector<GraphAt> Points(size_t n, uint64_t seed) const {
    std::mt19937_64 rng(seed);
    const Lsn head = ref.head();
    const int64_t t0 = MemGenerator::T0();
    std::vector<GraphAt> pts = {{0, std::nullopt},          {head, std::nullopt},
                                {UINT64_MAX, std::nullopt}, {head + 5, t0 + 500 * kDay},
                                {head, kValidMin},          {head, kValidMax},
                                {1, std::nullopt}};
    auto pick = [&](const std::vector<Lsn>& v) { return v[rng() % v.size()]; };
    while (pts.size() < n) {
      GraphAt at;
      const size_t k = rng() % 10;
      if (k < 3 && !ref.retract_lsns().empty()) {
        at.as_of = pick(ref.retract_lsns());
      } else if (k < 4 && !ref.retract_lsns().empty()) {
        at.as_of = pick(ref.retract_lsns()) - 1;
      } else if (k < 5 && !ref.node_retract_lsns().empty()) {
        at.as_of = pick(ref.node_retract_lsns()) - (rng() % 2);
      } else {
        at.as_of = 1 + rng() % head;
      }
      const size_t v = rng() % 20;
      if (v < 7) {
        at.valid_at = std::nullopt;
      } else if (v < 10 && !valid_bounds.empty()) {
        at.valid_at = valid_bounds[rng() % valid_bounds.size()] - static_cast<int64_t>(rng() % 2);
      } else {
        at.valid_at =
            t0 - 30 * kDay + static_cast<int64_t>(rng() % (1060 * 86'400)) * 1'000'000'000;
      }
      pts.push_back(at);
    }
    return pts;
  }
};

class MemoryGraphTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    world_ = new World();
    world_->Build(/*seed=*/20261124, /*nodes=*/10'000, /*edges=*/100'000, /*max_batch=*/3000);
  }
  static void TearDownTestSuite() {
    delete world_;
    world_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(world_->store, nullptr); }

  // Ids to ask about at a point: mostly live ones, some dead or never seen.
  static std::string SomeNode(Queries& q, const RefView& v) {
    const size_t k = q.Pick(20);
    if (k < 14 && !v.live_ids().empty()) return v.live_ids()[q.Pick(v.live_ids().size())];
    if (k < 19) return world_->node_ids[q.Pick(world_->node_ids.size())];
    return "ghost" + std::to_string(q.Pick(10));
  }
  static std::string SomeEdge(Queries& q) {
    if (q.Chance(3)) return "no-such-edge";
    return world_->edge_ids[q.Pick(world_->edge_ids.size())];
  }

  static World* world_;
};
World* MemoryGraphTest::world_ = nullptr;

TEST_F(MemoryGraphTest, EveryQueryShapeMatchesTheModel) {
  const World& w = *world_;
  Tally tally;
  Queries q(77, w.labels, w.rels);
  const std::vector<GraphAt> points = w.Points(300, 5);
  const auto start = std::chrono::steady_clock::now();
  double ref_s = 0;
  for (size_t pi = 0; pi < points.size(); ++pi) {
    const GraphAt& at = points[pi];
    auto t = std::chrono::steady_clock::now();
    const RefView v(w.ref, at);
    ref_s += Seconds(t);
    StateReader r(w.store.get());
    MemoryReader m(r);
    const auto here = [&] { return Describe(at); };

    for (int i = 0; i < 20; ++i) {
      const std::string id = SomeNode(q, v);
      tally.Same("Node", Dump(Timed(tally.seconds("Node"), [&] { return Must(m.Node(id, at)); })),
                 Dump(w.ref.Node(id, at)), [&] { return here() + " id=" + id; });
      const std::string eid = SomeEdge(q);
      tally.Same("Edge", Dump(Timed(tally.seconds("Edge"), [&] { return Must(m.Edge(eid, at)); })),
                 Dump(w.ref.Edge(eid, at)), [&] { return here() + " id=" + eid; });
      tally.Same(
          "EdgeEnd",
          Dump(Timed(tally.seconds("EdgeEnd"), [&] { return Must(m.EdgeEnd(eid, at.as_of)); })),
          Dump(w.ref.EdgeEnd(eid, at.as_of)), [&] { return here() + " id=" + eid; });
      tally.Same(
          "NodeEnd",
          Dump(Timed(tally.seconds("NodeEnd"), [&] { return Must(m.NodeEnd(id, at.as_of)); })),
          Dump(w.ref.NodeEnd(id, at.as_of)), [&] { return here() + " id=" + id; });
    }
    {
      const std::string label = pi % 20 == 0  ? ""
                                : q.Chance(5) ? "Nope"
                                              : w.labels[q.Pick(w.labels.size())];
      // Full lists (thousands of nodes) at a fifth of the points, the first few elsewhere.
      const size_t limit = pi % 5 == 0 ? SIZE_MAX : 1 + q.Pick(200);
      tally.Same(
          "Nodes",
          DumpEach(Timed(tally.seconds("Nodes"), [&] { return Must(m.Nodes(label, at, limit)); })),
          DumpEach(Timed(tally.seconds("Nodes(model)"), [&] { return v.Nodes(label, limit); })),
          [&] { return here() + " label=" + label + " limit=" + std::to_string(limit); });
    }
    for (int i = 0; i < 8; ++i) {
      const std::string id = SomeNode(q, v);
      const Expand x = q.RandomExpand();
      tally.Same("Edges",
                 DumpEach(Timed(tally.seconds("Edges"), [&] { return Must(m.Edges(id, x, at)); })),
                 DumpEach(v.Edges(id, x)),
                 [&] { return here() + " id=" + id + " " + Describe(x); });
    }
    for (int i = 0; i < 3; ++i) {
      const std::string id = SomeNode(q, v);
      const int depth = 1 + static_cast<int>(q.Pick(3));
      Expand x = q.RandomExpand();
      if (depth == 3 && x.rels.empty()) x.rels.push_back(w.rels[q.Pick(w.rels.size())]);
      const std::vector<std::string> labels = q.RandomLabels();
      tally.Same("Neighbors",
                 DumpEach(Timed(tally.seconds("Neighbors"),
                                [&] { return Must(m.Neighbors(id, depth, x, labels, at)); })),
                 DumpEach(Timed(tally.seconds("Neighbors(model)"),
                                [&] { return v.Neighbors(id, depth, x, labels); })),
                 [&] {
                   std::string l;
                   for (const auto& s : labels) l += s + ",";
                   return here() + " id=" + id + " depth=" + std::to_string(depth) + " " +
                          Describe(x) + " labels=" + l;
                 });
    }
    for (int i = 0; i < 3; ++i) {
      const std::string from = SomeNode(q, v);
      std::string to = SomeNode(q, v);
      if (i == 0 && q.Chance(20) && v.node(from) != nullptr) to = from;
      const int max_depth = 1 + static_cast<int>(q.Pick(4));
      Expand x = q.RandomExpand();
      const auto path = Timed(tally.seconds("ShortestPath"),
                              [&] { return Must(m.ShortestPath(from, to, max_depth, x, at)); });
      tally.Verdict("ShortestPath", v.CheckPath(from, to, max_depth, x, path), path.has_value(),
                    [&] {
                      return here() + " " + from + " -> " + to +
                             " max=" + std::to_string(max_depth) + " " + Describe(x);
                    });
    }
    // Patterns anchored by id at every point; by label (thousands of matches) at a few.
    for (int i = 0; i < (pi % 25 == 0 ? 3 : 2); ++i) {
      const Pattern p = q.RandomPattern(v, /*by_label=*/i == 2);
      const size_t limit = q.Chance(30) ? 1 + q.Pick(20) : SIZE_MAX;
      tally.Same(
          "Match",
          DumpEach(Timed(tally.seconds("Match"), [&] { return Must(m.Match(p, at, limit)); })),
          DumpEach(Timed(tally.seconds("Match(model)"), [&] { return v.Match(p, limit); })),
          [&] { return here() + " " + Describe(p) + " limit=" + std::to_string(limit); });
    }
    for (int i = 0; i < 4; ++i) {
      const std::string id = SomeNode(q, v);
      tally.Same("About",
                 Dump(Timed(tally.seconds("About"), [&] { return Must(m.About(id, at)); })),
                 Dump(v.About(id)), [&] { return here() + " id=" + id; });
    }
    tally.Same(
        "Anomalies",
        DumpEach(Timed(tally.seconds("Anomalies"), [&] { return Must(m.Anomalies(at.as_of)); })),
        DumpEach(w.ref.Anomalies(at.as_of)), here);
  }
  std::printf("%zu points in %.1f s (model views %.1f s)\n", points.size(), Seconds(start), ref_s);
  tally.Report();
}

TEST_F(MemoryGraphTest, HistoriesMatchTheModel) {
  const World& w = *world_;
  Tally tally;
  StateReader r(w.store.get());
  MemoryReader m(r);
  const auto start = std::chrono::steady_clock::now();
  for (const std::string& id : w.node_ids) {
    tally.Same("NodeHistory", DumpEach(Must(m.NodeHistory(id))), DumpEach(w.ref.NodeHistory(id)),
               [&] { return id; });
  }
  for (const std::string& id : w.edge_ids) {
    tally.Same("EdgeHistory", DumpEach(Must(m.EdgeHistory(id))), DumpEach(w.ref.EdgeHistory(id)),
               [&] { return id; });
  }
  for (const char* id : {"ghost0", "no-such-edge", ""}) {
    tally.Same("NodeHistory", DumpEach(Must(m.NodeHistory(id))), {}, [&] { return id; });
    tally.Same("EdgeHistory", DumpEach(Must(m.EdgeHistory(id))), {}, [&] { return id; });
  }
  // Every end of every edge at its retractions.
  for (const auto& [id, versions] : w.ref.edges()) {
    for (const MemEdge& e : versions) {
      if (!e.retracted) continue;
      for (Lsn at : {e.by.lsn - 1, e.by.lsn}) {
        tally.Same("EdgeEnd@retract", Dump(Must(m.EdgeEnd(id, at))), Dump(w.ref.EdgeEnd(id, at)),
                   [&] { return id + " as of " + std::to_string(at); });
      }
    }
  }
  std::printf("histories in %.1f s\n", Seconds(start));
  tally.Report();
}

TEST_F(MemoryGraphTest, HeadReadsMatchTheModel) {
  // At the head with no valid time: every node's node, edges both ways, and About.
  const World& w = *world_;
  Tally tally;
  StateReader r(w.store.get());
  MemoryReader m(r);
  EXPECT_EQ(m.head(), w.log.last());
  const GraphAt head{UINT64_MAX, std::nullopt};
  const RefView v(w.ref, head);
  tally.Same("Nodes@head", DumpEach(Must(m.Nodes("", head))), DumpEach(v.Nodes("", SIZE_MAX)),
             [] { return std::string("head"); });
  for (const std::string& label : w.labels) {
    tally.Same("Nodes@head", DumpEach(Must(m.Nodes(label, head))),
               DumpEach(v.Nodes(label, SIZE_MAX)), [&] { return label; });
  }
  for (const std::string& id : w.node_ids) {
    tally.Same("About@head", Dump(Must(m.About(id, head))), Dump(v.About(id)), [&] { return id; });
  }
  tally.Report();
}

// --- determinism ---

// What a reader says at a few points about every node and edge of a small world.
std::vector<std::string> Battery(StateStore* store, const World& w,
                                 const std::vector<GraphAt>& points) {
  std::vector<std::string> out;
  StateReader r(store);
  MemoryReader m(r);
  for (const GraphAt& at : points) {
    out.push_back(Describe(at));
    for (const MemNode& n : Must(m.Nodes("", at))) out.push_back(Dump(n));
    for (const std::string& id : w.node_ids) {
      out.push_back(Dump(Must(m.About(id, at))));
      out.push_back(Dump(Must(m.NodeEnd(id, at.as_of))));
      if (std::hash<std::string>()(id) % 4 != 0) continue;
      for (const Neighbor& n :
           Must(m.Neighbors(id, 2, Expand{Direction::kBoth, {"OWNS", "CAUSES"}}, {}, at))) {
        out.push_back(Dump(n));
      }
    }
    for (size_t i = 0; i < w.edge_ids.size(); i += 2) {
      out.push_back(Dump(Must(m.Edge(w.edge_ids[i], at))));
      out.push_back(Dump(Must(m.EdgeEnd(w.edge_ids[i], at.as_of))));
    }
    for (const MemAnomaly& a : Must(m.Anomalies(at.as_of))) out.push_back(Dump(a));
  }
  for (const std::string& id : w.node_ids) {
    for (const MemNode& n : Must(m.NodeHistory(id))) out.push_back(Dump(n));
  }
  for (const std::string& id : w.edge_ids) {
    for (const MemEdge& e : Must(m.EdgeHistory(id))) out.push_back(Dump(e));
  }
  return out;
}

TEST(MemoryDeterminismTest, BatchSizesDoNotMatter) {
  World w;
  w.Build(/*seed=*/7, /*nodes=*/800, /*edges=*/6000, /*max_batch=*/1);  // one by one
  ASSERT_NE(w.store, nullptr);
  const Lsn head = w.log.last();
  const std::vector<GraphAt> points = {
      {head, std::nullopt}, {head / 2, std::nullopt}, {head / 3, MemGenerator::T0() + 300 * kDay}};
  const std::string digest = Must(w.store->Digest("memory"));
  const std::vector<std::string> want = Battery(w.store.get(), w, points);
  EXPECT_GT(want.size(), 5'000u);

  const std::vector<std::pair<std::string, std::function<size_t()>>> batchings = [] {
    auto rng = std::make_shared<std::mt19937_64>(11);
    return std::vector<std::pair<std::string, std::function<size_t()>>>{
        {"7", [] { return size_t{7}; }},
        {"all at once", [] { return SIZE_MAX / 2; }},
        {"random", [rng] { return 1 + (*rng)() % 500; }},
    };
  }();
  for (const auto& [name, sizes] : batchings) {
    SCOPED_TRACE(name);
    tink::testing::TempDir dir;
    MemoryProjection memory;
    auto st = StateStore::Open(dir.path(), {&memory});
    ASSERT_TRUE(st.ok());
    ASSERT_TRUE(w.log.ApplyInBatches(st->get(), 1, w.log.last(), sizes).ok());
    EXPECT_EQ(Must((*st)->Digest("memory")), digest);
    const std::vector<std::string> got = Battery(st->get(), w, points);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], want[i]) << "line " << i;
  }
  // A reopen in the middle (caches gone, a fresh projection object) changes nothing either.
  tink::testing::TempDir dir;
  {
    MemoryProjection memory;
    auto st = StateStore::Open(dir.path(), {&memory});
    ASSERT_TRUE(st.ok());
    ASSERT_TRUE(w.log.ApplyInBatches(st->get(), 1, w.log.last() / 3, [] { return 100; }).ok());
  }
  MemoryProjection memory;
  auto st = StateStore::Open(dir.path(), {&memory});
  ASSERT_TRUE(st.ok());
  ASSERT_TRUE(w.log.ApplyInBatches(st->get(), 1, w.log.last(), [] { return 100; }).ok());
  EXPECT_EQ(Must((*st)->Digest("memory")), digest) << "after a reopen";

  // A bulk rebuild (writes buffered and ingested as SST files, reads merged with the buffer;
  // a small bound so that it ingests many times, with node retractions scanning both) folds
  // the same state: same digest, same answers, also after a reopen.
  {
    tink::testing::TempDir bulk_dir;
    uint64_t ingests = 0;
    {
      MemoryProjection live, fresh;
      auto bst = StateStore::Open(bulk_dir.path(), {&live});
      ASSERT_TRUE(bst.ok());
      auto rebuild = (*bst)->BeginRebuild({&fresh}, /*bulk_bytes=*/256 << 10);
      ASSERT_TRUE(rebuild.ok());
      std::mt19937_64 rng(3);
      for (Lsn from = 1; from <= w.log.last();) {
        const Lsn to = std::min<Lsn>(w.log.last(), from + rng() % 400);
        Status s = (*rebuild)->Apply(w.log.Events(from, to), w.log.Hashes(from, to));
        ASSERT_TRUE(s.ok()) << s.ToString();
        from = to + 1;
      }
      ingests = (*rebuild)->ingests();
      ASSERT_TRUE((*bst)->Swap(**rebuild).ok());
      ASSERT_TRUE((*bst)->DropRetired().ok());
      EXPECT_EQ(Must((*bst)->Digest("memory")), digest);
      const std::vector<std::string> got = Battery(bst->get(), w, points);
      ASSERT_EQ(got.size(), want.size());
      for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], want[i]) << "bulk, line " << i;
    }
    EXPECT_GE(ingests, 4u);
    MemoryProjection again;
    auto reopened = StateStore::Open(bulk_dir.path(), {&again});
    ASSERT_TRUE(reopened.ok());
    EXPECT_EQ(Must((*reopened)->Digest("memory")), digest) << "bulk, after a reopen";
  }

  // And the one-by-one state agrees with the model too (a small, complete check).
  Tally tally;
  for (const GraphAt& at : points) {
    const RefView v(w.ref, at);
    StateReader r(w.store.get());
    MemoryReader m(r);
    for (const std::string& id : w.node_ids) {
      tally.Same("About", Dump(Must(m.About(id, at))), Dump(v.About(id)),
                 [&] { return Describe(at) + " id=" + id; });
    }
  }
  tally.Report();
}

}  // namespace
}  // namespace tink::projections
