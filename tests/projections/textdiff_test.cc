// projections/textdiff: git-format diffs, patch application (incl. offset hunks) and line
// origins, checked against each other and against the git CLI's blob ids.
#include "projections/textdiff.h"

#include <gtest/gtest.h>

#include <random>

namespace tink::projections::text {
namespace {

std::string Lines(std::initializer_list<const char*> ls) {
  std::string s;
  for (const char* l : ls) s += std::string(l) + "\n";
  return s;
}

TEST(TextDiff, GitFormatWithBlobIds) {
  std::string a = Lines({"one", "two", "three"}), b = Lines({"one", "2", "three"});
  auto d = UnifiedDiff({"src/x.c", a}, {"src/x.c", b});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  std::string want = "diff --git a/src/x.c b/src/x.c\nindex " + GitBlobId(a).substr(0, 7) + ".." +
                     GitBlobId(b).substr(0, 7) +
                     " 100644\n--- a/src/x.c\n+++ b/src/x.c\n@@ -1,3 +1,3 @@\n one\n-two\n+2\n three\n";
  EXPECT_EQ(*d, want);
  // `git hash-object` of "hi\n".
  EXPECT_EQ(GitBlobId("hi\n"), "45b983be36b73c0788dc9cbcb76cbb80fc7bb057");
  EXPECT_EQ(UnifiedDiff({"x", a}, {"x", a}).value(), "");
}

TEST(TextDiff, NewAndDeletedFiles) {
  auto add = UnifiedDiff({"n.txt", std::nullopt}, {"n.txt", std::string_view("hi\n")});
  ASSERT_TRUE(add.ok());
  EXPECT_NE(add->find("new file mode 100644\n"), std::string::npos) << *add;
  EXPECT_NE(add->find("--- /dev/null\n+++ b/n.txt\n"), std::string::npos) << *add;
  auto del = UnifiedDiff({"n.txt", std::string_view("hi\n")}, {"n.txt", std::nullopt});
  ASSERT_TRUE(del.ok());
  EXPECT_NE(del->find("deleted file mode 100644\n"), std::string::npos) << *del;
  EXPECT_NE(del->find("+++ /dev/null\n"), std::string::npos) << *del;
}

TEST(TextDiff, ApplyRoundTripsRandomEdits) {
  std::mt19937 rng(7);
  for (int round = 0; round < 200; ++round) {
    std::vector<std::string> lines;
    int n = static_cast<int>(rng() % 40);
    for (int i = 0; i < n; ++i) lines.push_back("line " + std::to_string(rng() % 15));
    std::string a;
    for (auto& l : lines) a += l + "\n";
    auto edited = lines;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      size_t at = edited.empty() ? 0 : rng() % (edited.size() + 1);
      switch (rng() % 3) {
        case 0: edited.insert(edited.begin() + static_cast<long>(at), "new " + std::to_string(e)); break;
        case 1: if (at < edited.size()) edited.erase(edited.begin() + static_cast<long>(at)); break;
        default: if (at < edited.size()) edited[at] = "changed " + std::to_string(e); break;
      }
    }
    std::string b;
    for (auto& l : edited) b += l + "\n";
    if (rng() % 4 == 0 && !b.empty()) b.pop_back();  // no final newline
    auto d = UnifiedDiff({"f", a}, {"f", b});
    ASSERT_TRUE(d.ok());
    auto applied = ApplyPatch(a, *d);
    ASSERT_TRUE(applied.ok()) << applied.status().ToString() << "\n" << *d;
    EXPECT_EQ(*applied, b) << *d;
  }
}

TEST(TextDiff, BareHunksAndOffsetPositions) {
  std::string a = Lines({"a", "b", "c", "d", "e", "f", "g"});
  // Bare hunk (no headers), stated 5 lines off: found by its context, as `git apply` does.
  auto r = ApplyPatch(a, "@@ -7,3 +7,3 @@\n b\n-c\n+C\n d\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, Lines({"a", "b", "C", "d", "e", "f", "g"}));
  // Context that is nowhere: a Conflict, content untouched.
  auto bad = ApplyPatch(a, "@@ -1,3 +1,3 @@\n b\n-x\n+C\n d\n");
  EXPECT_EQ(bad.status().code(), Code::kConflict) << bad.status().ToString();
  // Not a diff at all.
  EXPECT_FALSE(ApplyPatch(a, "hello\n").ok());
  // Two files in one diff.
  EXPECT_FALSE(ApplyPatch(a, "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+A\n--- a/y\n+++ b/y\n@@ -1 +1 @@\n-a\n+A\n").ok());
}

TEST(TextDiff, LineOrigins) {
  auto o = LineOrigins(Lines({"a", "b", "c"}), Lines({"x", "a", "c", "y"}));
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(*o, (std::vector<int64_t>{-1, 0, 2, -1}));
  auto same = LineOrigins("p\nq", "p\nq");
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(*same, (std::vector<int64_t>{0, 1}));
  auto fresh = LineOrigins("", "p\nq\n");
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(*fresh, (std::vector<int64_t>{-1, -1}));
}

}  // namespace
}  // namespace tink::projections::text
