// The memory graph projection (projections/memory.h), in small hand-made graphs: provenance of
// retractions and replacements, cascades, illegal events as anomalies, valid time, PropsMatch,
// the query shapes on graphs small enough to check by hand, and batch-local caches. The large
// generated graph compared with the brute-force model is in memory_graph_test.cc.
#include "projections/memory.h"

#include <gtest/gtest.h>

#include "projections/memory_model.h"
#include "projections/projections_test_util.h"
#include "schema/schema.h"

namespace tink::projections {
namespace {

using nlohmann::json;
using testing::Dump;
using testing::DumpEach;
using testing::Must;
using Op = PropFilter::Op;

constexpr Lsn kHead = UINT64_MAX;

int64_t T(std::string_view iso) { return schema::ParseTime(iso).value(); }

class MemoryTest : public ::testing::Test {
 protected:
  MemoryTest() : state_(testing::OpenState(dir_.path())) {}

  // Appends an event (recorded 1 µs after the previous one) and applies it unless deferred.
  Lsn Emit(const std::string& type, const json& data, const std::string& run = "r1",
           std::string stream = "", const std::string& id = "") {
    clock_ += 1000;
    if (stream.empty()) stream = "memory/" + run;
    const Lsn lsn = log_.Add(testing::Input(type, run, data, 0, stream, id), clock_);
    if (!deferred_) Apply();
    return lsn;
  }
  void Apply() {
    if (applied_ == log_.last()) return;
    Status s = log_.ApplyTo(state_->store.get(), applied_ + 1, log_.last());
    ASSERT_TRUE(s.ok()) << s.ToString();
    applied_ = log_.last();
  }
  Lsn Node(const std::string& id, const json& labels = json::array(),
           const json& props = json::object()) {
    return Emit("memory.node", {{"id", id}, {"labels", labels}, {"props", props}});
  }
  Lsn Edge(const std::string& src, const std::string& rel, const std::string& dst,
           json extra = json::object()) {
    extra["src"] = src;
    extra["rel"] = rel;
    extra["dst"] = dst;
    return Emit("memory.edge", extra);
  }
  Lsn Retract(const std::string& target, const std::string& kind, const std::string& reason,
              const std::string& run = "r1", const std::string& stream = "") {
    return Emit("memory.retract", {{"target", target}, {"kind", kind}, {"reason", reason}}, run,
                stream);
  }

  // Runs `f` on a MemoryReader over a fresh snapshot.
  template <typename F>
  auto Read(F f) {
    StateReader r(state_->store.get());
    MemoryReader m(r);
    return f(m);
  }
  std::optional<MemNode> GetNode(const std::string& id, GraphAt at = {kHead, std::nullopt}) {
    return Read([&](MemoryReader& m) { return Must(m.Node(id, at)); });
  }
  std::optional<MemEdge> GetEdge(const std::string& id, GraphAt at = {kHead, std::nullopt}) {
    return Read([&](MemoryReader& m) { return Must(m.Edge(id, at)); });
  }
  std::vector<std::string> EdgeIds(const std::string& id, Direction dir, Lsn as_of = kHead,
                                   std::optional<int64_t> valid_at = std::nullopt,
                                   std::vector<std::string> rels = {}) {
    return Read([&](MemoryReader& m) {
      std::vector<std::string> out;
      for (const MemEdge& e : Must(m.Edges(id, Expand{dir, rels}, {as_of, valid_at}))) {
        out.push_back(e.id);
      }
      return out;
    });
  }
  std::vector<MemNode> NodeHistory(const std::string& id) {
    return Read([&](MemoryReader& m) { return Must(m.NodeHistory(id)); });
  }
  std::vector<MemEdge> EdgeHistory(const std::string& id) {
    return Read([&](MemoryReader& m) { return Must(m.EdgeHistory(id)); });
  }
  std::optional<MemVersionEnd> EdgeEnd(const std::string& id, Lsn as_of = kHead) {
    return Read([&](MemoryReader& m) { return Must(m.EdgeEnd(id, as_of)); });
  }
  std::optional<MemVersionEnd> NodeEnd(const std::string& id, Lsn as_of = kHead) {
    return Read([&](MemoryReader& m) { return Must(m.NodeEnd(id, as_of)); });
  }
  std::vector<MemAnomaly> Anomalies(Lsn as_of = kHead) {
    return Read([&](MemoryReader& m) { return Must(m.Anomalies(as_of)); });
  }
  // Everything the reader says about `node_ids` and `edge_ids` at the head (anomalies aside).
  std::vector<std::string> StateDump(const std::vector<std::string>& node_ids,
                                     const std::vector<std::string>& edge_ids) {
    return Read([&](MemoryReader& m) {
      std::vector<std::string> out;
      const GraphAt head{kHead, std::nullopt};
      for (const MemNode& n : Must(m.Nodes("", head))) out.push_back(Dump(n));
      for (const std::string& id : node_ids) {
        out.push_back(Dump(Must(m.Node(id, head))));
        for (const MemNode& n : Must(m.NodeHistory(id))) out.push_back(Dump(n));
        for (const MemEdge& e : Must(m.Edges(id, Expand{Direction::kBoth, {}}, head))) {
          out.push_back(Dump(e));
        }
      }
      for (const std::string& id : edge_ids) {
        out.push_back(Dump(Must(m.Edge(id, head))));
        for (const MemEdge& e : Must(m.EdgeHistory(id))) out.push_back(Dump(e));
      }
      return out;
    });
  }

  tink::testing::TempDir dir_;
  std::unique_ptr<testing::State> state_;
  testing::EventLog log_;
  Lsn applied_ = 0;
  int64_t clock_ = 1'780'000'000'000'000'000;
  bool deferred_ = false;
};

TEST_F(MemoryTest, NodesEdgesLabelsPropsAndDefaultIds) {
  const Lsn a = Node("a", {"Task", "File", "Task"}, {{"name", "x"}, {"loc", 3}});
  Node("b");
  Emit("memory.node", {{"id", "c"}});  // no labels, no props
  const Lsn e = Edge("a", "R", "b");
  EXPECT_EQ(MemoryReader::DefaultEdgeId("a", "R", "b"), "a|R|b");
  auto n = GetNode("a");
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->labels, (std::vector<std::string>{"File", "Task"})) << "sorted, unique";
  EXPECT_EQ(n->props, R"({"loc":3,"name":"x"})") << "a compact JSON object";
  EXPECT_EQ(n->by.lsn, a);
  EXPECT_FALSE(n->retracted);
  EXPECT_EQ(GetNode("c")->props, "{}");
  EXPECT_TRUE(GetNode("c")->labels.empty());
  auto edge = GetEdge("a|R|b");
  ASSERT_TRUE(edge.has_value()) << "the default id is src|rel|dst";
  EXPECT_EQ(edge->props, "{}");
  EXPECT_EQ(edge->valid_from, kValidMin);
  EXPECT_EQ(edge->valid_to, kValidMax);
  EXPECT_EQ(edge->by.lsn, e);
  EXPECT_EQ(EdgeIds("a", Direction::kOut), std::vector<std::string>{"a|R|b"});
  EXPECT_EQ(EdgeIds("b", Direction::kIn), std::vector<std::string>{"a|R|b"});
  EXPECT_TRUE(EdgeIds("a", Direction::kIn).empty());
  EXPECT_TRUE(EdgeIds("a", Direction::kOut, kHead, std::nullopt, {"S"}).empty());
  Read([&](MemoryReader& m) {
    const GraphAt head{kHead, std::nullopt};
    EXPECT_EQ(DumpEach(Must(m.Nodes("File", head))), (std::vector<std::string>{Dump(*n)}));
    EXPECT_EQ(Must(m.Nodes("", head)).size(), 3u);
    EXPECT_EQ(Must(m.Nodes("", head, 2)).size(), 2u);
    EXPECT_TRUE(Must(m.Nodes("Nope", head)).empty());
    EXPECT_EQ(m.head(), log_.last());
  });
  // As of before the node: nothing; as of 0: nothing.
  EXPECT_FALSE(GetNode("a", {a - 1, std::nullopt}).has_value());
  EXPECT_FALSE(GetNode("a", {0, std::nullopt}).has_value());
  EXPECT_FALSE(GetEdge("a|R|b", {e - 1, std::nullopt}).has_value());
  EXPECT_TRUE(GetEdge("a|R|b", {e, std::nullopt}).has_value());
  EXPECT_TRUE(Anomalies().empty());
}

TEST_F(MemoryTest, ProvenanceOfReplacementAndRetraction) {
  Node("a");
  Node("b");
  const Lsn l1 = Emit("memory.edge", {{"id", "e1"}, {"src", "a"}, {"rel", "R"}, {"dst", "b"}}, "r1",
                      "run/r1/task/t1", "ev-assert");
  const Lsn l2 =
      Emit("memory.edge",
           {{"id", "e1"}, {"src", "a"}, {"rel", "R"}, {"dst", "b"}, {"props", {{"w", 2}}}}, "r2",
           "run/r2/task/t2", "ev-replace");
  const Lsn l3 = Emit("memory.retract", {{"target", "e1"}, {"kind", "edge"}, {"reason", "wrong"}},
                      "r3", "run/r3/task/t9", "ev-retract");
  const int64_t t3 = log_.at(l3).time_ns;

  EXPECT_FALSE(EdgeEnd("e1", l1 - 1).has_value()) << "no assertion yet";
  auto end1 = EdgeEnd("e1", l1);
  ASSERT_TRUE(end1.has_value());
  EXPECT_EQ(end1->lsn, l1);
  EXPECT_EQ(end1->ended_by, l2);
  EXPECT_FALSE(end1->retracted) << "a replacement";
  EXPECT_EQ(end1->end.lsn, l2);
  EXPECT_EQ(end1->end.run, "r2");
  EXPECT_EQ(end1->end.task, "t2");
  EXPECT_EQ(end1->end.event_id, "ev-replace");

  for (Lsn at : {l2, l3, kHead}) {
    auto end = EdgeEnd("e1", at);
    ASSERT_TRUE(end.has_value()) << at;
    EXPECT_EQ(end->lsn, l2) << "the last assertion as of " << at;
    EXPECT_EQ(end->ended_by, l3);
    EXPECT_TRUE(end->retracted);
    EXPECT_EQ(end->reason, "wrong");
    EXPECT_EQ(end->end.lsn, l3);
    EXPECT_EQ(end->end.time_ns, t3) << "record time";
    EXPECT_EQ(end->end.run, "r3");
    EXPECT_EQ(end->end.stream, "run/r3/task/t9");
    EXPECT_EQ(end->end.task, "t9");
    EXPECT_EQ(end->end.event_id, "ev-retract");
  }

  auto hist = EdgeHistory("e1");
  ASSERT_EQ(hist.size(), 3u);
  EXPECT_EQ(hist[0].by.lsn, l1);
  EXPECT_EQ(hist[0].by.task, "t1");
  EXPECT_EQ(hist[0].by.stream, "run/r1/task/t1");
  EXPECT_EQ(hist[0].by.event_id, "ev-assert");
  EXPECT_EQ(testing::CanonJson(hist[1].props), R"({"w":2})");
  EXPECT_TRUE(hist[2].retracted);
  EXPECT_EQ(hist[2].reason, "wrong");
  EXPECT_EQ(hist[2].by.lsn, l3);
  EXPECT_EQ(GetEdge("e1", {l2, std::nullopt})->props, R"({"w":2})");
  EXPECT_FALSE(GetEdge("e1").has_value());

  // Node provenance: a stream that is not run/R/task/T gives no task.
  const Lsn n2 = Emit("memory.node", {{"id", "a"}, {"labels", {"X"}}}, "r4", "memory/r4", "ev-n");
  auto nend = NodeEnd("a", n2 - 1);
  ASSERT_TRUE(nend.has_value());
  EXPECT_EQ(nend->ended_by, n2);
  EXPECT_FALSE(nend->retracted);
  EXPECT_EQ(nend->end.task, "");
  EXPECT_EQ(nend->end.stream, "memory/r4");
  auto head_end = NodeEnd("a");
  ASSERT_TRUE(head_end.has_value());
  EXPECT_EQ(head_end->lsn, n2);
  EXPECT_FALSE(head_end->ended_by.has_value()) << "still believed";
  EXPECT_FALSE(NodeEnd("nope").has_value());
  EXPECT_FALSE(EdgeEnd("nope").has_value());
}

TEST_F(MemoryTest, NodeRetractionCascadesToItsLiveEdges) {
  Node("a");
  Node("b");
  Node("c");
  const Lsn e1 = Edge("a", "R", "b", {{"id", "e1"}});
  Edge("c", "R", "a", {{"id", "e2"}});
  Edge("b", "R", "c", {{"id", "e3"}});
  Edge("a", "SELF", "a", {{"id", "loop"}});
  Edge("a", "R", "b", {{"id", "e5"}});
  const Lsn own = Retract("e5", "edge", "stale");
  const Lsn l = Retract("a", "node", "merged", "r2", "run/r2/task/t7");

  EXPECT_FALSE(GetNode("a").has_value());
  EXPECT_TRUE(GetNode("a", {l - 1, std::nullopt}).has_value()) << "as of before the retraction";
  for (const char* id : {"e1", "e2", "loop"}) {
    EXPECT_FALSE(GetEdge(id).has_value()) << id;
    EXPECT_TRUE(GetEdge(id, {l - 1, std::nullopt}).has_value()) << id;
    auto h = EdgeHistory(id);
    ASSERT_EQ(h.size(), 2u) << id << ": one retraction version, also for a self-loop";
    EXPECT_TRUE(h[1].retracted);
    EXPECT_EQ(h[1].reason, "node a retracted: merged");
    EXPECT_EQ(h[1].by.lsn, l);
    EXPECT_EQ(h[1].by.run, "r2");
    EXPECT_EQ(h[1].by.task, "t7");
  }
  EXPECT_TRUE(GetEdge("e3").has_value());
  auto h5 = EdgeHistory("e5");
  ASSERT_EQ(h5.size(), 2u) << "an edge already retracted is not retracted again";
  EXPECT_EQ(h5[1].by.lsn, own);

  auto end = EdgeEnd("e1");
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->lsn, e1);
  EXPECT_EQ(end->ended_by, l);
  EXPECT_TRUE(end->retracted);
  EXPECT_EQ(end->reason, "node a retracted: merged");
  auto nend = NodeEnd("a");
  ASSERT_TRUE(nend.has_value());
  EXPECT_EQ(nend->ended_by, l);
  EXPECT_EQ(nend->reason, "merged");

  EXPECT_EQ(EdgeIds("b", Direction::kBoth), std::vector<std::string>{"e3"});
  EXPECT_EQ(EdgeIds("b", Direction::kBoth, l - 1), (std::vector<std::string>{"e3", "e1"}))
      << "out-edges first, then in-edges";
  EXPECT_TRUE(EdgeIds("a", Direction::kBoth).empty());
  Read([&](MemoryReader& m) {
    const Expand both{Direction::kBoth, {}};
    auto before = Must(m.Neighbors("b", 2, both, {}, {l - 1, std::nullopt}));
    ASSERT_EQ(before.size(), 2u);
    EXPECT_EQ(before[0].node.id, "a");
    EXPECT_EQ(before[1].node.id, "c");
    auto after = Must(m.Neighbors("b", 2, both, {}, {kHead, std::nullopt}));
    ASSERT_EQ(after.size(), 1u);
    EXPECT_EQ(after[0].node.id, "c");
    EXPECT_TRUE(Must(m.Neighbors("a", 2, both, {}, {kHead, std::nullopt})).empty());
    Belief gone = Must(m.About("a", {kHead, std::nullopt}));
    EXPECT_FALSE(gone.node.has_value());
    EXPECT_TRUE(gone.out.empty() && gone.in.empty());
    Belief was = Must(m.About("a", {l - 1, std::nullopt}));
    ASSERT_TRUE(was.node.has_value());
    std::vector<std::string> out, in;
    for (const MemEdge& e : was.out) out.push_back(e.id);
    for (const MemEdge& e : was.in) in.push_back(e.id);
    EXPECT_EQ(out, (std::vector<std::string>{"e1", "loop"})) << "key order: rel, dst, id";
    EXPECT_EQ(in, (std::vector<std::string>{"e2", "loop"}));
  });
}

TEST_F(MemoryTest, ReassertingARetractedNodeDoesNotResurrectItsEdges) {
  const Lsn a1 = Node("a", {"X"});
  Node("b");
  Edge("a", "R", "b");
  const Lsn gone = Retract("a", "node", "oops");
  const Lsn back = Node("a", {"Y"});
  auto n = GetNode("a");
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->labels, std::vector<std::string>{"Y"});
  EXPECT_FALSE(GetEdge("a|R|b").has_value());
  EXPECT_TRUE(EdgeIds("a", Direction::kBoth).empty());
  EXPECT_TRUE(EdgeIds("b", Direction::kBoth).empty());
  auto h = NodeHistory("a");
  ASSERT_EQ(h.size(), 3u);
  EXPECT_FALSE(h[0].retracted);
  EXPECT_TRUE(h[1].retracted);
  EXPECT_EQ(h[1].reason, "oops");
  EXPECT_FALSE(h[2].retracted);
  EXPECT_EQ(h[2].by.lsn, back);
  auto end = NodeEnd("a", gone);
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->lsn, a1) << "the last assertion as of the retraction";
  EXPECT_EQ(end->ended_by, gone);
  EXPECT_TRUE(end->retracted);
  EXPECT_EQ(NodeEnd("a")->lsn, back);
  Read([&](MemoryReader& m) {
    EXPECT_TRUE(Must(m.Nodes("X", {kHead, std::nullopt})).empty()) << "the old label is gone";
    EXPECT_EQ(Must(m.Nodes("X", {gone - 1, std::nullopt})).size(), 1u);
    EXPECT_TRUE(Must(m.Nodes("X", {gone, std::nullopt})).empty());
    EXPECT_EQ(Must(m.Nodes("Y", {kHead, std::nullopt})).size(), 1u);
  });
  // The edge can be asserted again; its history keeps the retraction.
  Edge("a", "R", "b");
  EXPECT_TRUE(GetEdge("a|R|b").has_value());
  EXPECT_EQ(EdgeHistory("a|R|b").size(), 3u);
}

TEST_F(MemoryTest, ReplacementMovesAnEdge) {
  Node("a");
  Node("b");
  Node("c");
  const Lsn first = Edge("a", "R", "b", {{"id", "e"}});
  const Lsn moved = Edge("a", "S", "c", {{"id", "e"}});
  EXPECT_TRUE(EdgeIds("b", Direction::kIn).empty());
  EXPECT_EQ(EdgeIds("c", Direction::kIn), std::vector<std::string>{"e"});
  EXPECT_EQ(EdgeIds("b", Direction::kIn, first), std::vector<std::string>{"e"});
  EXPECT_TRUE(EdgeIds("a", Direction::kOut, kHead, std::nullopt, {"R"}).empty());
  EXPECT_EQ(EdgeIds("a", Direction::kOut, kHead, std::nullopt, {"S"}),
            std::vector<std::string>{"e"});
  EXPECT_EQ(GetEdge("e")->dst, "c");
  // Retracting the old end does not touch the moved edge; retracting the new end does.
  Retract("b", "node", "x");
  EXPECT_EQ(EdgeHistory("e").size(), 2u);
  const Lsn c = Retract("c", "node", "y");
  auto h = EdgeHistory("e");
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[2].by.lsn, c);
  EXPECT_EQ(h[1].by.lsn, moved);
}

// Default ids are "src|rel|dst", so ids with '|' can collide: by the header the second event is
// a replacement of the first, and the first's adjacency must not linger.
TEST_F(MemoryTest, DefaultIdCollisionIsAReplacement) {
  Node("a|b");
  Node("a");
  Node("c");
  Edge("a|b", "r", "c");
  Edge("a", "b|r", "c");
  auto e = GetEdge("a|b|r|c");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->src, "a");
  EXPECT_EQ(e->rel, "b|r");
  EXPECT_TRUE(EdgeIds("a|b", Direction::kOut).empty());
  EXPECT_EQ(EdgeIds("a", Direction::kOut), std::vector<std::string>{"a|b|r|c"});
  EXPECT_EQ(EdgeIds("c", Direction::kIn), std::vector<std::string>{"a|b|r|c"});
}

TEST_F(MemoryTest, IllegalEventsAreAnomaliesAndChangeNothing) {
  Node("a", {"A"});
  Node("b");
  Node("c");
  Retract("c", "node", "gone");
  Edge("a", "R", "b", {{"id", "e1"}});
  Retract("e1", "edge", "gone");
  Edge("a", "R", "b");
  const std::vector<std::string> node_ids = {"a", "b", "c", "ghost", ""};
  const std::vector<std::string> edge_ids = {"e1",      "a|R|b", "a|R|ghost", "ghost|R|a", "toc",
                                             "badfrom", "badto", "empty",     "backwards", "|R|b",
                                             "a||b",    "a|R|",  "badday",    "named"};
  const std::vector<std::string> before = StateDump(node_ids, edge_ids);
  const Lsn start = log_.last();

  struct Want {
    Lsn lsn;
    std::string type, target;
  };
  std::vector<Want> want;
  auto edge = [&](json d, std::string target) {
    want.push_back({Emit("memory.edge", d, "bad" + std::to_string(want.size())), "memory.edge",
                    std::move(target)});
  };
  auto retract = [&](std::string target, std::string kind) {
    want.push_back({Emit("memory.retract", {{"target", target}, {"kind", kind}, {"reason", "x"}},
                         "bad" + std::to_string(want.size())),
                    "memory.retract", target});
  };
  edge({{"src", "a"}, {"rel", "R"}, {"dst", "ghost"}}, "a|R|ghost");       // unknown dst
  edge({{"src", "ghost"}, {"rel", "R"}, {"dst", "a"}}, "ghost|R|a");       // unknown src
  edge({{"id", "toc"}, {"src", "a"}, {"rel", "R"}, {"dst", "c"}}, "toc");  // retracted dst
  retract("ghost", "node");                                                // unknown node
  retract("nope", "edge");                                                 // unknown edge
  retract("c", "node");                                                    // already retracted
  retract("e1", "edge");                                                   // already retracted
  retract("a|R|b", "node");  // an edge id is not a node id
  retract("a", "banana");    // unknown kind
  retract("", "node");       // empty target
  edge({{"id", "badfrom"}, {"src", "a"}, {"rel", "R"}, {"dst", "b"}, {"valid_from", "yesterday"}},
       "badfrom");
  edge({{"id", "badto"}, {"src", "a"}, {"rel", "R"}, {"dst", "b"}, {"valid_to", "2026-02-30"}},
       "badto");
  edge({{"id", "badday"},
        {"src", "a"},
        {"rel", "R"},
        {"dst", "b"},
        {"valid_from", "2026-01-01T25:00:00Z"}},
       "badday");
  edge({{"id", "empty"},
        {"src", "a"},
        {"rel", "R"},
        {"dst", "b"},
        {"valid_from", "2026-03-01T00:00:00Z"},
        {"valid_to", "2026-03-01T00:00:00Z"}},
       "empty");
  edge({{"id", "backwards"},
        {"src", "a"},
        {"rel", "R"},
        {"dst", "b"},
        {"valid_from", "2026-03-02"},
        {"valid_to", "2026-03-01"}},
       "backwards");
  // With an empty src, rel or dst there is no default id: the target is the id as given.
  edge({{"src", ""}, {"rel", "R"}, {"dst", "b"}}, "");
  edge({{"id", "named"}, {"src", "a"}, {"rel", ""}, {"dst", "b"}}, "named");
  edge({{"src", "a"}, {"rel", "R"}, {"dst", ""}}, "");
  want.push_back(
      {Emit("memory.node", {{"id", ""}, {"labels", {"A"}}}, "bad" + std::to_string(want.size())),
       "memory.node", ""});

  EXPECT_EQ(StateDump(node_ids, edge_ids), before) << "illegal events change nothing";
  const std::vector<MemAnomaly> got = Anomalies();
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(got[i].lsn, want[i].lsn);
    EXPECT_EQ(got[i].type, want[i].type);
    EXPECT_EQ(got[i].run, "bad" + std::to_string(i)) << got[i].reason;
    EXPECT_EQ(got[i].target, want[i].target) << got[i].reason;
    EXPECT_FALSE(got[i].reason.empty());
  }
  EXPECT_TRUE(Anomalies(start).empty());
  EXPECT_EQ(Anomalies(want[4].lsn).size(), 5u);
  EXPECT_TRUE(Anomalies(0).empty());
}

TEST_F(MemoryTest, ValidTimeIsHalfOpen) {
  Node("a");
  Node("b");
  Node("c");
  const int64_t t1 = T("2026-03-01T00:00:00Z"), t2 = T("2026-03-02T00:00:00Z");
  Edge("a", "R", "b",
       {{"id", "e"}, {"valid_from", "2026-03-01T02:00:00+02:00"}, {"valid_to", "2026-03-02"}});
  Edge("b", "R", "c", {{"id", "open-start"}, {"valid_to", "2026-03-01T12:00:00.5Z"}});
  Edge("a", "S", "c", {{"id", "open-end"}, {"valid_from", "2026-03-01T12:00:00Z"}});
  auto e = GetEdge("e");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->valid_from, t1) << "+02:00 is converted to UTC";
  EXPECT_EQ(e->valid_to, t2) << "a date alone is midnight UTC";
  EXPECT_FALSE(GetEdge("e", {kHead, t1 - 1}).has_value());
  EXPECT_TRUE(GetEdge("e", {kHead, t1}).has_value());
  EXPECT_TRUE(GetEdge("e", {kHead, t2 - 1}).has_value());
  EXPECT_FALSE(GetEdge("e", {kHead, t2}).has_value()) << "valid_to is excluded";
  EXPECT_EQ(GetEdge("open-start")->valid_from, kValidMin);
  EXPECT_EQ(GetEdge("open-start")->valid_to, T("2026-03-01T12:00:00.5Z"));
  EXPECT_TRUE(GetEdge("open-start", {kHead, kValidMin}).has_value());
  EXPECT_EQ(GetEdge("open-end")->valid_to, kValidMax);
  EXPECT_TRUE(GetEdge("open-end", {kHead, T("2200-01-01")}).has_value());
  EXPECT_FALSE(GetEdge("open-end", {kHead, T("2026-03-01T11:59:59.999999999Z")}).has_value());
  EXPECT_TRUE(EdgeIds("a", Direction::kOut, kHead, t1 - 1).empty());
  EXPECT_EQ(EdgeIds("a", Direction::kOut, kHead, T("2026-03-01T12:00:00Z")),
            (std::vector<std::string>{"e", "open-end"}));
  Read([&](MemoryReader& m) {
    const Expand out{Direction::kOut, {"R"}};
    // a -R-> b -R-> c holds on [12:00, 12:00:00.5) of March 1st only.
    auto p = Must(m.ShortestPath("a", "c", 3, out, {kHead, T("2026-03-01T12:00:00.2Z")}));
    ASSERT_TRUE(p.has_value());
    ASSERT_EQ(p->size(), 2u);
    EXPECT_EQ((*p)[0].id, "e");
    EXPECT_EQ((*p)[1].id, "open-start");
    EXPECT_FALSE(
        Must(m.ShortestPath("a", "c", 3, out, {kHead, T("2026-03-01T12:00:00.5Z")})).has_value());
    EXPECT_FALSE(Must(m.ShortestPath("a", "c", 3, out, {kHead, t2})).has_value());
    EXPECT_TRUE(Must(m.ShortestPath("a", "c", 3, out, {kHead, std::nullopt})).has_value());
    EXPECT_EQ(Must(m.Neighbors("a", 2, out, {}, {kHead, t1})).size(), 2u);
    EXPECT_EQ(Must(m.Neighbors("a", 2, out, {}, {kHead, T("2026-03-01T13:00:00Z")})).size(), 1u);
  });
}

TEST(MemoryPropsTest, PropsMatchSemantics) {
  const std::string p = R"({"n":3,"x":2.5,"s":"abc","b":true,"z":null,"arr":[1]})";
  auto match = [&](std::string key, Op op, std::string value) {
    return MemoryReader::PropsMatch(p, {PropFilter{std::move(key), op, std::move(value)}});
  };
  EXPECT_TRUE(match("n", Op::kEq, "3"));
  EXPECT_TRUE(match("n", Op::kEq, "3.0")) << "numbers compare as numbers";
  EXPECT_FALSE(match("n", Op::kNe, "3"));
  EXPECT_TRUE(match("n", Op::kNe, "4"));
  EXPECT_TRUE(match("n", Op::kLt, "3.5"));
  EXPECT_TRUE(match("n", Op::kLt, "10")) << "not as text";
  EXPECT_TRUE(match("n", Op::kGe, "3"));
  EXPECT_FALSE(match("n", Op::kGt, "3"));
  EXPECT_TRUE(match("n", Op::kLe, "3"));
  EXPECT_TRUE(match("x", Op::kLt, "3"));
  EXPECT_TRUE(match("x", Op::kEq, "2.5"));
  EXPECT_TRUE(match("x", Op::kGt, "2"));
  EXPECT_TRUE(match("s", Op::kEq, "\"abc\""));
  EXPECT_TRUE(match("s", Op::kLt, "\"abd\""));
  EXPECT_TRUE(match("s", Op::kGt, "\"ab\""));
  EXPECT_TRUE(match("s", Op::kNe, "\"x\""));
  EXPECT_FALSE(match("s", Op::kEq, "\"ABC\""));
  EXPECT_FALSE(match("missing", Op::kEq, "1"));
  EXPECT_FALSE(match("missing", Op::kNe, "1")) << "a missing key is false, also for !=";
  EXPECT_FALSE(match("n", Op::kEq, "\"3\"")) << "type mismatch";
  EXPECT_FALSE(match("n", Op::kNe, "\"3\"")) << "type mismatch is false, also for !=";
  EXPECT_FALSE(match("s", Op::kEq, "3"));
  EXPECT_FALSE(match("s", Op::kNe, "3"));
  EXPECT_FALSE(match("s", Op::kLt, "3"));
  EXPECT_TRUE(match("b", Op::kEq, "true"));
  EXPECT_TRUE(match("b", Op::kNe, "false"));
  EXPECT_FALSE(match("b", Op::kEq, "1")) << "a bool is not a number";
  EXPECT_FALSE(match("z", Op::kNe, "1"));
  EXPECT_TRUE(MemoryReader::PropsMatch(p, {}));
  EXPECT_TRUE(MemoryReader::PropsMatch(p, {{"n", Op::kGt, "1"}, {"s", Op::kEq, "\"abc\""}}));
  EXPECT_FALSE(MemoryReader::PropsMatch(p, {{"n", Op::kGt, "1"}, {"s", Op::kEq, "\"x\""}}));
  EXPECT_FALSE(MemoryReader::PropsMatch("{}", {{"n", Op::kNe, "1"}}));
  EXPECT_TRUE(MemoryReader::PropsMatch("{}", {}));
  // The reference model agrees on all of the above.
  for (const auto& [key, op, value] :
       std::vector<std::tuple<std::string, Op, std::string>>{{"n", Op::kEq, "3.0"},
                                                             {"n", Op::kLt, "10"},
                                                             {"missing", Op::kNe, "1"},
                                                             {"n", Op::kNe, "\"3\""},
                                                             {"b", Op::kEq, "true"},
                                                             {"s", Op::kGt, "\"ab\""}}) {
    EXPECT_EQ(testing::RefPropsMatch(p, {{key, op, value}}), match(key, op, value)) << key << value;
  }
}

TEST_F(MemoryTest, QueryShapesOnASmallGraph) {
  Node("p1", {"Person"}, {{"age", 30}});
  Node("p2", {"Person"}, {{"age", 40}});
  Node("t1", {"Task"});
  Node("f1", {"File"}, {{"loc", 100}});
  Node("f2", {"File"}, {{"loc", 5}});
  Edge("p1", "OWNS", "t1", {{"id", "o1"}});
  Edge("p2", "OWNS", "t1", {{"id", "o2"}});
  Edge("t1", "MODIFIES", "f1", {{"id", "m1"}, {"props", {{"w", 1}}}});
  Edge("t1", "MODIFIES", "f2", {{"id", "m2"}, {"props", {{"w", 9}}}});
  Edge("f2", "DEPENDS_ON", "f1", {{"id", "d1"}});
  const GraphAt head{kHead, std::nullopt};
  const Expand out{Direction::kOut, {}}, in{Direction::kIn, {}}, both{Direction::kBoth, {}};
  auto ids = [](const auto& v) {
    std::string s;
    for (const auto& x : v) {
      if constexpr (std::is_same_v<std::decay_t<decltype(x)>, Neighbor>) {
        s += x.node.id + "@" + std::to_string(x.depth) + "/" + x.via.id + " ";
      } else if constexpr (std::is_same_v<std::decay_t<decltype(x)>, PatternMatch>) {
        for (size_t i = 0; i < x.nodes.size(); ++i) {
          s += x.nodes[i].id + (i < x.edges.size() ? "-" + x.edges[i].id + "-" : "");
        }
        s += " ";
      } else {
        s += x.id + " ";
      }
    }
    return s;
  };
  Read([&](MemoryReader& m) {
    EXPECT_EQ(ids(Must(m.Neighbors("p1", 3, out, {}, head))), "t1@1/o1 f1@2/m1 f2@2/m2 ");
    EXPECT_EQ(ids(Must(m.Neighbors("p1", 1, out, {}, head))), "t1@1/o1 ");
    EXPECT_EQ(ids(Must(m.Neighbors("p1", 3, both, {"File"}, head))), "f1@2/m1 f2@2/m2 ")
        << "labels filter the result, not the traversal";
    EXPECT_EQ(ids(Must(m.Neighbors("p1", 2, both, {}, head))), "t1@1/o1 f1@2/m1 f2@2/m2 p2@2/o2 ");
    EXPECT_EQ(ids(Must(m.Neighbors("f1", 2, in, {}, head))), "f2@1/d1 t1@1/m1 p1@2/o1 p2@2/o2 ");
    EXPECT_EQ(ids(Must(m.Neighbors("ghost", 2, both, {}, head))), "");
    EXPECT_EQ(ids(Must(m.Edges("t1", both, head))), "m1 m2 o1 o2 ");

    auto path = Must(m.ShortestPath("p1", "f1", 3, out, head));
    ASSERT_TRUE(path.has_value());
    EXPECT_EQ(ids(*path), "o1 m1 ");
    EXPECT_FALSE(Must(m.ShortestPath("p1", "f1", 1, out, head)).has_value());
    EXPECT_FALSE(Must(m.ShortestPath("f1", "p1", 3, out, head)).has_value());
    auto back = Must(m.ShortestPath("f1", "p1", 3, in, head));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(ids(*back), "m1 o1 ");
    auto self = Must(m.ShortestPath("p1", "p1", 3, out, head));
    ASSERT_TRUE(self.has_value());
    EXPECT_TRUE(self->empty());
    auto across = Must(m.ShortestPath("p1", "p2", 3, both, head));
    ASSERT_TRUE(across.has_value());
    EXPECT_EQ(ids(*across), "o1 o2 ");

    Pattern two;
    two.a.labels = {"Person"};
    two.r1.expand = {Direction::kOut, {"OWNS"}};
    two.b.labels = {"Task"};
    two.r2 = EdgePattern{{Direction::kOut, {"MODIFIES"}}, {{"w", Op::kGt, "5"}}};
    two.c.labels = {"File"};
    EXPECT_EQ(ids(Must(m.Match(two, head))), "p1-o1-t1-m2-f2 p2-o2-t1-m2-f2 ");
    EXPECT_EQ(ids(Must(m.Match(two, head, 1))), "p1-o1-t1-m2-f2 ");
    two.a.props = {{"age", Op::kGe, "35"}};
    EXPECT_EQ(ids(Must(m.Match(two, head))), "p2-o2-t1-m2-f2 ");
    Pattern one;
    one.a.id = "f1";
    one.r1.expand = in;
    EXPECT_EQ(ids(Must(m.Match(one, head))), "f1-d1-f2 f1-m1-t1 ") << "by (a, r1, b)";
    one.b.props = {{"loc", Op::kLt, "10"}};
    EXPECT_EQ(ids(Must(m.Match(one, head))), "f1-d1-f2 ");
    Pattern any;
    any.r1.expand = {Direction::kOut, {"MODIFIES", "DEPENDS_ON"}};
    EXPECT_EQ(ids(Must(m.Match(any, head))), "f2-d1-f1 t1-m1-f1 t1-m2-f2 ");
    Pattern ghost;
    ghost.a.id = "ghost";
    EXPECT_TRUE(Must(m.Match(ghost, head)).empty());
  });
}

// The projection keeps the current batch's writes in its own caches: a cascade must see edges
// asserted, moved and retracted earlier in the same batch, and legality checks must see nodes
// created or retracted earlier in it.
TEST_F(MemoryTest, BatchLocalChangesAreSeen) {
  Node("a");
  Node("b");
  Node("c");
  Edge("a", "R", "b", {{"id", "e1"}});
  Edge("a", "R", "c", {{"id", "e4"}});
  deferred_ = true;
  Edge("c", "R", "a", {{"id", "e2"}});  // new at a in this batch
  Edge("b", "R", "c", {{"id", "e1"}});  // e1 moves away from a in this batch
  Retract("e4", "edge", "first");       // retracted before the cascade
  Node("d");
  Edge("d", "R", "b", {{"id", "e3"}});                   // d is new in this batch
  Retract("a", "node", "bye");                           // cascades to e2 only
  const Lsn late = Edge("a", "R", "b", {{"id", "e5"}});  // a is retracted in this batch
  Retract("d", "node", "bye");
  Retract("d", "node", "twice");  // already retracted in this batch
  Node("d");
  Edge("d", "R", "c", {{"id", "e6"}});
  Apply();
  EXPECT_FALSE(GetEdge("e2").has_value());
  EXPECT_EQ(EdgeHistory("e2").size(), 2u);
  EXPECT_TRUE(GetEdge("e1").has_value());
  EXPECT_EQ(EdgeHistory("e1").size(), 2u) << "moved away before the cascade";
  EXPECT_EQ(EdgeHistory("e4").size(), 2u) << "already retracted";
  EXPECT_FALSE(GetEdge("e3").has_value()) << "cascaded by d's retraction";
  EXPECT_TRUE(GetEdge("e6").has_value());
  EXPECT_FALSE(GetEdge("e5").has_value());
  auto an = Anomalies();
  ASSERT_EQ(an.size(), 2u);
  EXPECT_EQ(an[0].lsn, late);
  EXPECT_EQ(an[1].target, "d");
  EXPECT_EQ(EdgeIds("c", Direction::kBoth), (std::vector<std::string>{"e1", "e6"}));
  EXPECT_EQ(EdgeIds("b", Direction::kBoth), (std::vector<std::string>{"e1"}));
}

// Ids are ordered as bytes (the keys escape 0x00), node and edge ids are separate namespaces,
// a self-loop is both an out- and an in-edge, and limits and depths of zero.
TEST_F(MemoryTest, EdgeCasesOfIdsLimitsAndDepths) {
  const std::string nul("a\0b", 3);
  Node("ä");
  Node("a b");
  Node(nul);
  Node("a", {"L"});
  Node("x", {"L"});
  Edge("a", "R", "a b");
  Edge("a", "R", nul);
  Edge("a", "R", "a", {{"id", "loop"}});
  Edge("x", "R", "a", {{"id", "x"}});  // an edge whose id is also a node's
  Read([&](MemoryReader& m) {
    const GraphAt head{kHead, std::nullopt};
    std::vector<std::string> ids;
    for (const MemNode& n : Must(m.Nodes("", head))) ids.push_back(n.id);
    EXPECT_EQ(ids, (std::vector<std::string>{"a", nul, "a b", "x", "ä"})) << "byte order";
    std::vector<std::string> edges;
    for (const MemEdge& e : Must(m.Edges("a", Expand{Direction::kBoth, {}}, head))) {
      edges.push_back(e.id);
    }
    EXPECT_EQ(edges, (std::vector<std::string>{"loop", "a|R|" + nul, "a|R|a b", "loop", "x"}))
        << "out (rel, dst, id) then in (rel, src, id); the self-loop is in both";
    EXPECT_TRUE(Must(m.Nodes("", head, 0)).empty()) << "limit 0";
    EXPECT_TRUE(Must(m.Nodes("L", head, 0)).empty()) << "limit 0 with a label";
    EXPECT_EQ(Must(m.Nodes("L", head, 1)).size(), 1u);
    Pattern p;
    p.a.id = "a";
    p.r1.expand = {Direction::kOut, {}};
    EXPECT_EQ(Must(m.Match(p, head)).size(), 3u);
    EXPECT_TRUE(Must(m.Match(p, head, 0)).empty()) << "limit 0";
    EXPECT_TRUE(Must(m.Neighbors("a", 0, Expand{Direction::kBoth, {}}, {}, head)).empty());
    EXPECT_FALSE(Must(m.ShortestPath("a", "x", 0, Expand{Direction::kBoth, {}}, head)).has_value());
    auto self = Must(m.ShortestPath("a", "a", 0, Expand{Direction::kBoth, {}}, head));
    ASSERT_TRUE(self.has_value());
    EXPECT_TRUE(self->empty());
  });
  Retract("x", "edge", "an edge");
  EXPECT_TRUE(GetNode("x").has_value()) << "retracting edge x leaves node x";
  EXPECT_FALSE(GetEdge("x").has_value());
  Retract("a b", "node", "a node");
  EXPECT_TRUE(GetEdge("loop").has_value());
  EXPECT_FALSE(GetEdge("a|R|a b").has_value());
  EXPECT_TRUE(GetEdge("a|R|" + nul).has_value());
}

}  // namespace
}  // namespace tink::projections
