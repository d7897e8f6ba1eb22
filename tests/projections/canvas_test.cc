// The canvas projection: file events folded per run, as-of reads against a brute-force model,
// anomalies (patches that do not apply, paths that escape), blame and diff.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "projections/canvas.h"
#include "projections/projections_test_util.h"
#include "projections/textdiff.h"

namespace tink::projections {
namespace {

using nlohmann::json;
using testing::Harness;
using testing::Must;

class CanvasTest : public ::testing::Test {
 protected:
  Lsn Write(std::string run, std::string task, std::string path, std::string content,
            bool base = false) {
    json d = {{"task", task}, {"path", path}, {"content", content}};
    if (base) d["base"] = true;
    return h_.Emit("file.write", std::move(run), d);
  }
  Lsn Patch(std::string run, std::string task, std::string path, std::string diff) {
    return h_.Emit("file.patch", std::move(run), {{"task", task}, {"path", path}, {"diff", diff}});
  }
  Lsn Delete(std::string run, std::string task, std::string path) {
    return h_.Emit("file.delete", std::move(run), {{"task", task}, {"path", path}});
  }
  Lsn Rename(std::string run, std::string task, std::string path, std::string to) {
    return h_.Emit("file.rename", std::move(run), {{"task", task}, {"path", path}, {"to", to}});
  }
  // A patch from `a` to `b` made by textdiff (the way importers make them).
  static std::string DiffOf(const std::string& path, const std::string& a, const std::string& b) {
    return text::UnifiedDiff({path, std::string_view(a)}, {path, std::string_view(b)}).value();
  }
  std::optional<std::string> Read(std::string_view run, std::string_view path,
                                  Lsn as_of = UINT64_MAX) {
    StateReader r(h_.store());
    CanvasReader c(r);
    return Must(c.ReadFile(run, path, std::min<Lsn>(as_of, r.applied("canvas"))));
  }
  std::vector<CanvasAnomaly> Anomalies(std::optional<std::string> run = std::nullopt) {
    StateReader r(h_.store());
    CanvasReader c(r);
    return Must(c.Anomalies(run, r.applied("canvas")));
  }
  Harness h_;
};

TEST_F(CanvasTest, PathRules) {
  EXPECT_EQ(CanvasPathProblem("src/a.c"), "");
  EXPECT_EQ(CanvasPathProblem(".github/workflows/x.yml"), "");
  EXPECT_EQ(CanvasPathProblem("a/.git/x"), "");  // only a top-level .git is the repository's
  for (std::string bad : std::vector<std::string>{"", "/etc/passwd", "../x", "a/../../x", "a//b", "a/./b", "a/", ".git/config",
                          std::string("a\0b", 3), "..", "."}) {
    EXPECT_NE(CanvasPathProblem(bad), "") << "'" << bad << "'";
  }
}

TEST_F(CanvasTest, WritePatchDeleteAsOf) {
  std::string v1 = "a\nb\nc\n", v2 = "a\nB\nc\n";
  Lsn w = Write("r1", "t1", "x.txt", v1);
  Lsn p = Patch("r1", "t2", "x.txt", DiffOf("x.txt", v1, v2));
  Lsn d = Delete("r1", "t3", "x.txt");
  Lsn w2 = Write("r1", "t4", "x.txt", "again\n");
  EXPECT_EQ(Read("r1", "x.txt", w), v1);
  EXPECT_EQ(Read("r1", "x.txt", p), v2);
  EXPECT_EQ(Read("r1", "x.txt", d), std::nullopt);
  EXPECT_EQ(Read("r1", "x.txt", w2), "again\n");
  EXPECT_EQ(Read("r1", "x.txt", w - 1), std::nullopt);
  EXPECT_EQ(Read("r2", "x.txt"), std::nullopt) << "runs have separate trees";
  EXPECT_TRUE(Anomalies().empty());

  StateReader r(h_.store());
  CanvasReader c(r);
  auto changes = Must(c.Changes("r1", 0, UINT64_MAX));
  ASSERT_EQ(changes.size(), 4u);
  EXPECT_EQ(changes[1].lsn, p);
  EXPECT_EQ(changes[1].type, "file.patch");
  EXPECT_EQ(changes[1].task, "t2");
  EXPECT_EQ(Must(c.Changes("r1", p, d)).size(), 1u);
  auto hist = Must(c.FileHistory("r1", "x.txt", 0, UINT64_MAX));
  ASSERT_EQ(hist.size(), 4u);
  EXPECT_TRUE(hist[2].deleted);
}

TEST_F(CanvasTest, PatchThatDoesNotApplyIsAnAnomaly) {
  Write("r", "t", "f.py", "x = 1\ny = 2\n");
  Lsn bad = Patch("r", "t2", "f.py", "@@ -1,2 +1,2 @@\n x = 1\n-y = 3\n+y = 4\n");
  Lsn missing = Patch("r", "t2", "nope.py", "@@ -1 +1 @@\n-a\n+b\n");
  Lsn garbage = Patch("r", "t2", "f.py", "not a diff");
  EXPECT_EQ(Read("r", "f.py"), "x = 1\ny = 2\n");
  EXPECT_EQ(Read("r", "nope.py"), std::nullopt);
  auto an = Anomalies("r");
  ASSERT_EQ(an.size(), 3u);
  EXPECT_EQ(an[0].lsn, bad);
  EXPECT_EQ(an[0].type, "file.patch");
  EXPECT_EQ(an[0].path, "f.py");
  EXPECT_NE(an[0].reason.find("does not apply"), std::string::npos) << an[0].reason;
  EXPECT_EQ(an[1].lsn, missing);
  EXPECT_EQ(an[2].lsn, garbage);
  StateReader r(h_.store());
  CanvasReader c(r);
  EXPECT_EQ(Must(c.Changes("r", 0, UINT64_MAX)).size(), 1u) << "no change recorded";
}

TEST_F(CanvasTest, EscapingPathsAreAnomaliesAndWriteNothing) {
  std::vector<std::string> bad = {"../../etc/passwd", "/etc/passwd", "a/../../x", ".git/hooks/pre-commit",
                                  std::string("a\0b", 3)};
  for (const std::string& p : bad) Write("r", "t", p, "pwned\n");
  Write("r", "t", "ok.txt", "fine\n");
  Lsn ren = Rename("r", "t", "ok.txt", "../ok.txt");
  EXPECT_EQ(Anomalies("r").size(), bad.size() + 1);
  EXPECT_EQ(Anomalies("r").back().lsn, ren);
  StateReader r(h_.store());
  CanvasReader c(r);
  auto tree = Must(c.Tree("r", r.applied("canvas")));
  ASSERT_EQ(tree.size(), 1u);
  EXPECT_EQ(tree[0].path, "ok.txt");
}

TEST_F(CanvasTest, FileDirectoryClashesAreAnomalies) {
  Write("r", "t", "a", "file a\n");
  Lsn under_file = Write("r", "t", "a/b", "x\n");           // "a" is a file
  Write("r", "t", "d/e/f", "deep\n");
  Lsn over_dir = Write("r", "t", "d/e", "x\n");             // "d/e" holds files
  Lsn rename_into = Rename("r", "t", "d/e/f", "a/f");       // "a" is a file
  Write("r", "t", "link", "target", false);
  Lsn through = Patch("r", "t", "link/evil", "--- /dev/null\n+++ b/link/evil\n@@ -0,0 +1 @@\n+x\n");
  auto an = Anomalies("r");
  ASSERT_EQ(an.size(), 4u);
  EXPECT_EQ(an[0].lsn, under_file);
  EXPECT_NE(an[0].reason.find("a file 'a' is in the way"), std::string::npos) << an[0].reason;
  EXPECT_EQ(an[1].lsn, over_dir);
  EXPECT_NE(an[1].reason.find("is a directory"), std::string::npos) << an[1].reason;
  EXPECT_EQ(an[2].lsn, rename_into);
  EXPECT_EQ(an[3].lsn, through);
  // Once the directory is empty (its last file deleted), the name is free for a file.
  Delete("r", "t", "d/e/f");
  Write("r", "t", "d/e", "now a file\n");
  Write("r", "t", "d", "x\n");  // but "d" still holds d/e
  EXPECT_EQ(Anomalies("r").size(), 5u);
  EXPECT_EQ(Read("r", "d/e"), "now a file\n");
  EXPECT_EQ(Read("r", "d"), std::nullopt);
}

TEST_F(CanvasTest, ContentIsStoredOnce) {
  std::string big(10000, 'x');
  for (int i = 0; i < 20; ++i) Write("r" + std::to_string(i % 3), "t", "f" + std::to_string(i), big);
  StateReader r(h_.store());
  int blobs = 0;
  ASSERT_TRUE(r.Scan("canvas", "B", "B", [&](std::string_view, std::string_view v) {
                 EXPECT_EQ(v, big);
                 ++blobs;
                 return true;
               }).ok());
  EXPECT_EQ(blobs, 1);
}

TEST_F(CanvasTest, BlameAttributesLinesAndFollowsRenames) {
  std::string v1 = "l1\nl2\nl3\nl4\n";
  std::string v2 = "l1\nL2\nl3\nl4\n";
  std::string v3 = "l1\nL2\nl3\nl4\nl5\n";
  Lsn a = Write("r", "writer", "a.txt", v1);
  Lsn b = Patch("r", "fixer", "a.txt", DiffOf("a.txt", v1, v2));
  Lsn m = Rename("r", "mover", "a.txt", "b.txt");
  Lsn c = Patch("r", "adder", "b.txt", DiffOf("b.txt", v2, v3));
  StateReader r(h_.store());
  CanvasReader cr(r);
  auto blame = Must(cr.Blame("r", "b.txt", r.applied("canvas")));
  ASSERT_EQ(blame.size(), 5u);
  std::vector<Lsn> want = {a, b, a, a, c};
  std::vector<std::string> tasks = {"writer", "fixer", "writer", "writer", "adder"};
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(blame[i].line, i + 1);
    EXPECT_EQ(blame[i].lsn, want[i]) << "line " << i + 1;
    EXPECT_EQ(blame[i].task, tasks[i]) << "line " << i + 1;
  }
  EXPECT_EQ(blame[0].path, "a.txt");
  EXPECT_EQ(blame[4].path, "b.txt");
  EXPECT_EQ(blame[1].type, "file.patch");
  EXPECT_EQ(blame[4].text, "l5");
  // As of before the rename, b.txt does not exist; a.txt blames to a and b.
  EXPECT_EQ(cr.Blame("r", "b.txt", m - 1).status().code(), Code::kNotFound);
  auto old = Must(cr.Blame("r", "a.txt", m - 1));
  ASSERT_EQ(old.size(), 4u);
  EXPECT_EQ(old[1].lsn, b);
  // Rewriting identical content does not steal the blame.
  Write("r", "copycat", "b.txt", v3);
  StateReader r2(h_.store());
  CanvasReader cr2(r2);
  EXPECT_EQ(Must(cr2.Blame("r", "b.txt", r2.applied("canvas")))[0].lsn, a);
}

TEST_F(CanvasTest, DiffFromBaseIsGitDiff) {
  Write("r", "agent", "src/a.c", "int a;\n", /*base=*/true);
  Write("r", "agent", "src/b.c", "int b;\n", /*base=*/true);
  Lsn base = Write("r", "agent", "README", "hi\n", /*base=*/true);
  Patch("r", "t1", "src/a.c", DiffOf("src/a.c", "int a;\n", "int a = 1;\n"));
  Delete("r", "t2", "src/b.c");
  Write("r", "t3", "new.txt", "new\n");
  Lsn end = Rename("r", "t4", "README", "docs/README");
  StateReader r(h_.store());
  CanvasReader c(r);
  EXPECT_EQ(Must(c.BasePoint("r", end)), base);
  std::string want;
  want += text::UnifiedDiff({"README", std::string_view("hi\n")}, {"README", std::nullopt}).value();
  want += text::UnifiedDiff({"docs/README", std::nullopt}, {"docs/README", std::string_view("hi\n")}).value();
  want += text::UnifiedDiff({"new.txt", std::nullopt}, {"new.txt", std::string_view("new\n")}).value();
  want += text::UnifiedDiff({"src/a.c", std::string_view("int a;\n")}, {"src/a.c", std::string_view("int a = 1;\n")}).value();
  want += text::UnifiedDiff({"src/b.c", std::string_view("int b;\n")}, {"src/b.c", std::nullopt}).value();
  EXPECT_EQ(Must(c.Diff("r", base, end)), want);
  EXPECT_EQ(Must(c.Diff("r", end, end)), "");
}

// Random operations on a few paths of two runs, applied in random batch sizes; every LSN's tree
// is compared with a brute-force model.
TEST_F(CanvasTest, AsOfMatchesModelAtEveryLsn) {
  std::mt19937 rng(42);
  using Tree = std::map<std::string, std::string>;
  std::map<std::string, Tree> model;
  std::vector<std::pair<Lsn, std::map<std::string, Tree>>> snapshots;
  h_.set_deferred(true);
  const std::vector<std::string> paths = {"a", "b", "d/c", "d/e/f"};
  for (int i = 0; i < 400; ++i) {
    std::string run = rng() % 2 ? "r1" : "r2";
    std::string path = paths[rng() % paths.size()];
    Tree& t = model[run];
    auto it = t.find(path);
    Lsn lsn = 0;
    switch (rng() % 5) {
      case 0:
      case 1: {
        std::string content;
        for (int l = 0, n = static_cast<int>(rng() % 8); l < n; ++l) content += std::to_string(rng() % 4) + "\n";
        lsn = Write(run, "t", path, content);
        t[path] = content;
        break;
      }
      case 2:
        if (it != t.end()) {
          std::string next = it->second + "added " + std::to_string(i) + "\n";
          lsn = Patch(run, "t", path, DiffOf(path, it->second, next));
          it->second = next;
        } else {
          lsn = Patch(run, "t", path, "@@ -1 +1 @@\n-x\n+y\n");  // anomaly: no such file
        }
        break;
      case 3:
        lsn = Delete(run, "t", path);
        if (it != t.end()) t.erase(it);
        break;
      default: {
        std::string to = paths[rng() % paths.size()];
        lsn = Rename(run, "t", path, to);
        if (it != t.end() && to != path) {
          std::string c = it->second;
          t.erase(it);
          t[to] = c;
        }
        break;
      }
    }
    snapshots.emplace_back(lsn, model);
    if (rng() % 7 == 0) {
      ASSERT_TRUE(h_.ApplyPending().ok());
    }
  }
  ASSERT_TRUE(h_.ApplyPending().ok());
  StateReader r(h_.store());
  CanvasReader c(r);
  for (const auto& [lsn, m] : snapshots) {
    for (const char* run : {"r1", "r2"}) {
      auto tree = Must(c.Tree(run, lsn));
      Tree got;
      for (const FileVersion& f : tree) got[f.path] = Must(c.Content(f.hash));
      auto want = m.count(run) ? m.at(run) : Tree{};
      ASSERT_EQ(got, want) << "run " << run << " as of " << lsn;
    }
  }
}

}  // namespace
}  // namespace tink::projections
