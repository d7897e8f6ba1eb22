// The memory graph projection (projections/memory.h), in small hand-made graphs: provenance of
// retractions and replacements, cascades, illegal events as anomalies, valid time, PropsMatch,
// valid time. PropsMatch, the query shapes and batch-local caches are in memory_query_test.cc;
// the large generated graph compared with the brute-force model is in memory_graph_test.cc.
#include "projections/memory_test_fixture.h"

namespace tink::projections::memory_test {
namespace {

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

}  // namespace
}  // namespace tink::projections::memory_test
