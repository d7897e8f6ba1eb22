// The pieces of shell/query/runs.h that need no store: AlignKeys (longest common subsequence,
// changed pairs, the positional fallback) and JsonDifferences (JSON pointers, arrays of different
// lengths, the cap, deep values).
#include <gtest/gtest.h>

#include "shell/query/runs.h"

namespace tink::query {
namespace {

std::string Steps(const std::vector<AlignStep>& v) {
  std::string out;
  for (const AlignStep& s : v) {
    out += std::string(MarkSymbol(s.mark)) + (s.a < 0 ? "-" : std::to_string(s.a)) +
           (s.b < 0 ? "-" : std::to_string(s.b)) + " ";
  }
  return out;
}

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  for (char c : s) out.emplace_back(1, c);
  return out;
}

TEST(AlignKeysTest, EqualChangedAndOnly) {
  bool positional = true;
  EXPECT_EQ(Steps(AlignKeys(Split("abcd"), Split("abcd"), &positional)), "=00 =11 =22 =33 ");
  EXPECT_FALSE(positional);
  // One changed in the middle.
  EXPECT_EQ(Steps(AlignKeys(Split("abcd"), Split("abXd"), &positional)), "=00 =11 ~22 =33 ");
  // An insertion in B, a deletion from A.
  EXPECT_EQ(Steps(AlignKeys(Split("abc"), Split("aXbc"), &positional)), "=00 B-1 =12 =23 ");
  EXPECT_EQ(Steps(AlignKeys(Split("aXbc"), Split("abc"), &positional)), "=00 A1- =21 =32 ");
  // Two unequal stretches: pairs first, then what is left.
  EXPECT_EQ(Steps(AlignKeys(Split("aPQb"), Split("aRb"), &positional)), "=00 ~11 A2- =32 ");
  EXPECT_EQ(Steps(AlignKeys({}, Split("ab"), &positional)), "B-0 B-1 ");
  EXPECT_EQ(Steps(AlignKeys(Split("ab"), {}, &positional)), "A0- A1- ");
  EXPECT_EQ(Steps(AlignKeys({}, {}, &positional)), "");
}

TEST(AlignKeysTest, TooLongFallsBackToPositions) {
  // Middles of 3000 x 3000 after the common prefix exceed kMaxAlignCells.
  std::vector<std::string> a, b;
  a.push_back("same");
  b.push_back("same");
  for (int i = 0; i < 3000; ++i) {
    a.push_back("a" + std::to_string(i));
    b.push_back(i == 5 ? "a5" : "b" + std::to_string(i));
  }
  bool positional = false;
  std::vector<AlignStep> steps = AlignKeys(a, b, &positional);
  EXPECT_TRUE(positional);
  ASSERT_EQ(steps.size(), 3001u);
  EXPECT_EQ(steps[0].mark, Mark::kEqual);
  EXPECT_EQ(steps[1].mark, Mark::kChanged);
  EXPECT_EQ(steps[6].mark, Mark::kEqual);  // a5 == a5 at the same position
  EXPECT_EQ(steps[3000].a, 3000);
  EXPECT_EQ(steps[3000].b, 3000);
}

TEST(JsonDifferencesTest, Pointers) {
  Json a = Json::parse(R"({"model":"m","messages":[{"role":"user","content":"hi"}],
                           "params":{"a/b":1,"t~":2,"n":1}})");
  Json b = Json::parse(R"({"params":{"a/b":2,"t~":2,"n":1.0},"model":"m",
                           "messages":[{"role":"user","content":"HI"},{"role":"user","content":"x"}]})");
  std::vector<JsonDifference> d = JsonDifferences(a, b, 20);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].path, "/messages/0/content");
  EXPECT_EQ(d[0].a, "hi");
  EXPECT_EQ(d[0].b, "HI");
  EXPECT_EQ(d[1].path, "/messages/1");
  EXPECT_TRUE(d[1].a.is_null());
  EXPECT_EQ(d[1].b["content"], "x");
  EXPECT_EQ(d[2].path, "/params/a~1b");  // '/' escaped; 1 == 1.0 is no difference
  EXPECT_TRUE(JsonDifferences(a, a, 20).empty());
  // A member only on one side, and a type change.
  d = JsonDifferences(Json::parse(R"({"x":1})"), Json::parse(R"({"x":"1","y~":true})"), 20);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].path, "/x");
  EXPECT_EQ(d[1].path, "/y~0");
  // The whole value.
  d = JsonDifferences(Json(1), Json(2), 20);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].path, "");
}

TEST(JsonDifferencesTest, CappedAndDeep) {
  Json a = Json::array(), b = Json::array();
  for (int i = 0; i < 50; ++i) {
    a.push_back(i);
    b.push_back(-i - 1);
  }
  EXPECT_EQ(JsonDifferences(a, b, 20).size(), 20u);
  EXPECT_TRUE(JsonDifferences(a, b, 0).empty());
  // 100 levels: below depth 64 the differing subtree is one entry.
  Json da = "a", db = "b";
  for (int i = 0; i < 100; ++i) {
    da = Json::array({da});
    db = Json::array({db});
  }
  std::vector<JsonDifference> d = JsonDifferences(da, db, 20);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].path.size(), 64u * 2);  // "/0" 64 times
  EXPECT_TRUE(d[0].a.is_array());
}

}  // namespace
}  // namespace tink::query
