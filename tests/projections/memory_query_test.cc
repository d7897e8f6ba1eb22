// The memory projection's reads on graphs small enough to check by hand: PropsMatch semantics, the
// query shapes (neighbours, paths, patterns, about), changes seen within one batch, and edge cases
// of ids, limits and depths. The fixture is memory_test_fixture.h.
#include "projections/memory_test_fixture.h"

namespace tink::projections::memory_test {
namespace {

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
}  // namespace tink::projections::memory_test
