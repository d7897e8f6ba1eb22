// ExportGit and ExportTree (engine/canvas_git.h): a run's canvas as a git history, checked with
// the real `git` command: one commit per change after a base commit, authors, dates, messages and
// trailers; every commit's diff from its parent equals the canvas's diff between the two LSNs;
// `git diff refs/tink/base HEAD` equals CanvasReader::Diff byte for byte; incremental re-runs;
// refusing directories that are not our export; nested paths, renames, deletes, modes.
#include "engine/canvas_git.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/engine_test_util.h"
#include "projections/canvas.h"
#include "support/run_command.h"
#include "support/temp_dir.h"

namespace tink::engine {
namespace {

using nlohmann::json;
using projections::CanvasChange;
using projections::CanvasReader;
using testing::CommandResult;
using testing::RunCommand;
using testing::ShellQuote;

constexpr int64_t kT0 = 1700000000LL * 1000000000LL;  // 2023-11-14T22:13:20Z

std::vector<std::string> SplitOn(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

class CanvasGitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto e = Engine::Open(tmp_.Sub("store"), test::Fast());
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(e).value();
  }

  Lsn Emit(const std::string& run, const std::string& task, const std::string& type, json data,
           int64_t occurred_ns = 0) {
    data["task"] = task;
    schema::EventInput in = test::Event("run/" + run + "/task/" + task, type, data, "", run);
    in.occurred_ns = occurred_ns;
    auto out = engine_->Append(std::span<const schema::EventInput>(&in, 1));
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    if (!out.ok()) return 0;
    EXPECT_TRUE(engine_->WaitForProjections(out->lsns[0], std::chrono::seconds(20)));
    return out->lsns[0];
  }
  Lsn Write(const std::string& run, const std::string& task, const std::string& path,
            const std::string& content, bool base = false, const std::string& mode = "",
            int64_t t = 0) {
    json d = {{"path", path}, {"content", content}};
    if (base) d["base"] = true;
    if (!mode.empty()) d["mode"] = mode;
    return Emit(run, task, "file.write", d, t);
  }
  Lsn Patch(const std::string& run, const std::string& task, const std::string& path,
            const std::string& diff, int64_t t = 0) {
    return Emit(run, task, "file.patch", {{"path", path}, {"diff", diff}}, t);
  }

  Result<GitExportResult> Export(const std::string& run, const std::string& dir) {
    auto reader = engine_->NewReader();
    if (!reader.ok()) return reader.status();
    return ExportGit(**reader, run, dir);
  }
  std::string CanvasDiff(const std::string& run, Lsn from, Lsn to) {
    auto reader = engine_->NewReader();
    EXPECT_TRUE(reader.ok());
    CanvasReader c(**reader);
    auto d = c.Diff(run, from, to);
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    return d.ok() ? *d : "";
  }
  std::vector<CanvasChange> Changes(const std::string& run, Lsn from) {
    auto reader = engine_->NewReader();
    EXPECT_TRUE(reader.ok());
    CanvasReader c(**reader);
    return c.Changes(run, from, c.head()).value();
  }
  Lsn BasePoint(const std::string& run) {
    auto reader = engine_->NewReader();
    CanvasReader c(**reader);
    return c.BasePoint(run, c.head()).value();
  }

  // git in `dir`, with no user or system configuration in the way.
  CommandResult Git(const std::string& dir, const std::string& args) {
    return RunCommand("GIT_CONFIG_NOSYSTEM=1 HOME=" + ShellQuote(tmp_.path()) + " git -C " +
                      ShellQuote(dir) + " -c color.ui=never -c core.abbrev=7 " + args);
  }
  std::string GitOut(const std::string& dir, const std::string& args) {
    CommandResult r = Git(dir, args);
    EXPECT_EQ(r.exit_code, 0) << "git " << args << ": " << r.err;
    return r.out;
  }
  int CommitCount(const std::string& dir) {
    return std::stoi(GitOut(dir, "rev-list --count HEAD"));
  }

  // A run with base files (one executable, nested), then a patch, a new nested file, a rename
  // into another directory, a delete, a mode change and a rewrite; plus anomalies and another
  // run's events in between (none of which may become commits).
  void BuildRun() {
    Write("r", "setup", "src/main.c", "int main() {\n  return 1;\n}\n", true, "", kT0);
    Write("r", "setup", "scripts/build.sh", "#!/bin/sh\nmake\n", true, "100755", kT0 + 1);
    Write("r", "setup", "README", "hello\n", true, "", kT0 + 2);
    Emit("r", "t1", "tool.call", {{"tool", "str_replace_editor"}});
    Write("other", "x", "a.txt", "other run\n");
    Patch("r", "t1", "src/main.c",
          "@@ -1,3 +1,3 @@\n int main() {\n-  return 1;\n+  return 0;\n }\n",
          kT0 + 10 * 1000000000LL);
    Patch("r", "t1", "src/main.c", "@@ -1,3 +1,3 @@\n-nope\n+x\n", kT0 + 11 * 1000000000LL);
    Write("r", "t1", "../../escape.txt", "no\n");
    Write("r", "t1", "src/util/deep/helper.h", "#pragma once\n", false, "",
          kT0 + 20 * 1000000000LL);
    Emit("r", "t2", "file.rename", {{"path", "src/util/deep/helper.h"}, {"to", "include/helper.h"}},
         kT0 + 30 * 1000000000LL);
    Emit("r", "t2", "file.delete", {{"path", "README"}}, kT0 + 40 * 1000000000LL);
    Write("r", "t2", "src/main.c", "int main() {\n  return 0;\n}\n", false, "100755",
          kT0 + 50 * 1000000000LL);
    Write("r", "t3", "tools/gen.py", "print(1)\n", false, "100755", kT0 + 60 * 1000000000LL);
  }

  testing::TempDir tmp_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(CanvasGitTest, OneCommitPerChangeWithAuthorDateMessageAndTrailers) {
  BuildRun();
  const std::string dir = tmp_.Sub("repo");
  auto res = Export("r", dir);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  const Lsn base = BasePoint("r");
  const std::vector<CanvasChange> changes = Changes("r", base);
  ASSERT_EQ(changes.size(), 6u);  // patch, write, rename, delete, mode change, new file
  EXPECT_TRUE(res->created);
  EXPECT_EQ(res->commits_added, 1 + changes.size());
  EXPECT_EQ(CommitCount(dir), static_cast<int>(1 + changes.size()));
  EXPECT_EQ(GitOut(dir, "rev-parse HEAD"), res->head + "\n");
  EXPECT_EQ(GitOut(dir, "rev-parse refs/tink/base"), res->base_commit + "\n");
  EXPECT_EQ(GitOut(dir, "symbolic-ref HEAD"), "refs/heads/main\n");

  // Oldest first: name, email, author time, committer name and time, full message; NUL-separated.
  std::string log = GitOut(dir, "log --reverse --format=%an%x00%ae%x00%at%x00%cn%x00%ct%x00%B%x01");
  std::vector<std::string> commits = SplitOn(log, '\x01');
  ASSERT_GE(commits.size(), 1 + changes.size());
  {
    std::vector<std::string> f = SplitOn(commits[0], '\0');
    ASSERT_EQ(f.size(), 6u);
    EXPECT_EQ(f[0], "setup");
    EXPECT_EQ(f[1], "setup@r.tink");
    EXPECT_EQ(f[2], std::to_string(kT0 / 1000000000LL + 0));  // the base write at kT0+2 ns
    EXPECT_EQ(f[5].substr(0, f[5].find('\n')), "base: 3 files (LSN " + std::to_string(base) + ")");
    EXPECT_NE(f[5].find("Tink-Run: r\n"), std::string::npos) << f[5];
  }
  for (size_t i = 0; i < changes.size(); ++i) {
    const CanvasChange& c = changes[i];
    std::string entry = commits[i + 1];
    if (!entry.empty() && entry[0] == '\n') entry.erase(0, 1);  // git's separator after %x01
    std::vector<std::string> f = SplitOn(entry, '\0');
    ASSERT_EQ(f.size(), 6u) << entry;
    EXPECT_EQ(f[0], c.task);
    EXPECT_EQ(f[1], c.task + "@r.tink");
    EXPECT_EQ(f[2], std::to_string(c.time_ns / 1000000000LL)) << c.type << " " << c.path;
    EXPECT_EQ(f[3], c.task);
    EXPECT_EQ(f[4], f[2]);
    std::string subject = c.type + " " + c.path + (c.to.empty() ? "" : " -> " + c.to) + " (LSN " +
                          std::to_string(c.lsn) + (c.tool.empty() ? "" : ", tool " + c.tool) + ")";
    EXPECT_EQ(f[5].substr(0, f[5].find('\n')), subject);
    std::string trailers = "Tink-Run: r\nTink-Lsn: " + std::to_string(c.lsn) +
                           "\nTink-Task: " + c.task + "\nTink-Type: " + c.type + "\n" +
                           (c.tool.empty() ? "" : "Tink-Tool: " + c.tool + "\n");
    EXPECT_NE(f[5].find("\n\n" + trailers), std::string::npos) << f[5];
    // git itself reads the trailers.
    EXPECT_EQ(GitOut(dir, "log -1 '--format=%(trailers:key=Tink-Lsn,valueonly)' HEAD~" +
                              std::to_string(changes.size() - 1 - i)),
              std::to_string(c.lsn) + "\n\n");
  }
  EXPECT_EQ(changes[0].tool, "str_replace_editor");  // t1's last tool.call names the patch
  EXPECT_EQ(changes[2].type, "file.rename");
}

TEST_F(CanvasGitTest, EveryCommitIsTheCanvasDiffAndBaseToHeadIsByteForByte) {
  BuildRun();
  const std::string dir = tmp_.Sub("repo");
  ASSERT_TRUE(Export("r", dir).ok());
  const Lsn base = BasePoint("r");
  const std::vector<CanvasChange> changes = Changes("r", base);
  Lsn head = changes.back().lsn;

  const std::string whole = CanvasDiff("r", base, head);
  ASSERT_NE(whole, "");
  EXPECT_EQ(GitOut(dir, "diff --no-renames refs/tink/base HEAD"), whole);
  // The executable bit and the mode change are in both.
  EXPECT_NE(whole.find("new file mode 100755"), std::string::npos) << whole;
  EXPECT_NE(whole.find("old mode 100644\nnew mode 100755"), std::string::npos) << whole;

  Lsn prev = base;
  for (size_t i = 0; i < changes.size(); ++i) {
    std::string rev = "HEAD~" + std::to_string(changes.size() - 1 - i);
    EXPECT_EQ(GitOut(dir, "diff --no-renames " + rev + "^ " + rev),
              CanvasDiff("r", prev, changes[i].lsn))
        << "commit for LSN " << changes[i].lsn << " (" << changes[i].type << ")";
    prev = changes[i].lsn;
  }

  // The trees: nested paths, the rename's destination, the delete, the modes.
  EXPECT_EQ(GitOut(dir, "ls-tree -r --format='%(objectmode) %(path)' HEAD"),
            "100644 include/helper.h\n"
            "100755 scripts/build.sh\n"
            "100755 src/main.c\n"
            "100755 tools/gen.py\n");
  EXPECT_EQ(GitOut(dir, "ls-tree -r --name-only refs/tink/base"),
            "README\nscripts/build.sh\nsrc/main.c\n");
  EXPECT_EQ(Git(dir, "fsck --strict --no-dangling").exit_code, 0);

  // The worktree is HEAD, checked out: clean, with the executable bits.
  EXPECT_EQ(GitOut(dir, "status --porcelain"), "");
  EXPECT_EQ(testing::ReadFile(dir + "/src/main.c"), "int main() {\n  return 0;\n}\n");
  EXPECT_FALSE(std::filesystem::exists(dir + "/README"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/src/util"));
  struct stat st;
  ASSERT_EQ(::stat((dir + "/tools/gen.py").c_str(), &st), 0);
  EXPECT_NE(st.st_mode & S_IXUSR, 0u);
  ASSERT_EQ(::stat((dir + "/include/helper.h").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & S_IXUSR, 0u);
  // The anomaly's path went nowhere.
  EXPECT_FALSE(std::filesystem::exists(tmp_.Sub("escape.txt")));
  EXPECT_FALSE(
      std::filesystem::exists(std::filesystem::path(tmp_.path()).parent_path() / "escape.txt"));
}

TEST_F(CanvasGitTest, RunWithoutBaseStartsFromAnEmptyBaseCommit) {
  Write("nb", "a", "x/y.txt", "1\n", false, "", kT0);
  Write("nb", "a", "x/y.txt", "2\n", false, "", kT0 + 1000000000LL);
  const std::string dir = tmp_.Sub("repo");
  auto res = Export("nb", dir);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->base_lsn, 0u);
  EXPECT_EQ(CommitCount(dir), 3);
  EXPECT_EQ(GitOut(dir, "log -1 --format=%s%n%an%n%at refs/tink/base"),
            "base (empty)\nbase\n" + std::to_string(kT0 / 1000000000LL) + "\n");
  EXPECT_EQ(GitOut(dir, "ls-tree -r refs/tink/base"), "");
  EXPECT_EQ(GitOut(dir, "diff --no-renames refs/tink/base HEAD"), CanvasDiff("nb", 0, 1000));
  EXPECT_EQ(testing::ReadFile(dir + "/x/y.txt"), "2\n");
}

TEST_F(CanvasGitTest, BundleClonesToTheSameHistoryAsTheExport) {
  BuildRun();
  const std::string dir = tmp_.Sub("repo");
  auto res = Export("r", dir);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  auto reader = engine_->NewReader();
  ASSERT_TRUE(reader.ok());
  auto bundle = GitBundle(**reader, "r", tmp_.path());
  ASSERT_TRUE(bundle.ok()) << bundle.status().ToString();
  EXPECT_EQ(bundle->rfind("# v2 git bundle\n" + res->head + " HEAD\n", 0), 0u)
      << bundle->substr(0, 200);
  {
    std::ofstream out(tmp_.Sub("r.bundle"), std::ios::binary);
    out << *bundle;
  }
  const std::string clone = tmp_.Sub("clone");
  GitOut(tmp_.path(), "clone -q r.bundle clone");
  EXPECT_EQ(Git(clone, "bundle verify -q ../r.bundle").exit_code, 0);
  // The same commits (ids equal: same trees, authors, dates, messages), the base ref too.
  EXPECT_EQ(GitOut(clone, "rev-parse HEAD"), res->head + "\n");
  EXPECT_EQ(GitOut(clone, "ls-remote origin refs/tink/base"), res->base_commit + "\trefs/tink/base\n");
  EXPECT_EQ(testing::ReadFile(clone + "/src/main.c"), testing::ReadFile(dir + "/src/main.c"));
  // The temporary export is gone; a run without files is NotFound.
  size_t left = 0;
  for (const auto& e : std::filesystem::directory_iterator(tmp_.path())) {
    left += e.path().filename().string().starts_with("tink-bundle-") ? 1 : 0;
  }
  EXPECT_EQ(left, 0u);
  auto none = GitBundle(**reader, "no-such-run", tmp_.path());
  EXPECT_EQ(none.status().code(), Code::kNotFound) << none.status().ToString();
}

TEST_F(CanvasGitTest, ReRunAddsOnlyNewChangesAndNothingWhenUpToDate) {
  BuildRun();
  const std::string dir = tmp_.Sub("repo");
  auto first = Export("r", dir);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  const int before = CommitCount(dir);

  auto again = Export("r", dir);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->up_to_date);
  EXPECT_EQ(again->commits_added, 0u);
  EXPECT_EQ(again->head, first->head);
  EXPECT_EQ(CommitCount(dir), before);

  // More events: two changes of this run, one of another run, one anomaly.
  Write("other", "x", "b.txt", "more\n");
  Emit("r", "t4", "file.delete", {{"path", "tools/gen.py"}}, kT0 + 100 * 1000000000LL);
  Emit("r", "t4", "file.delete", {{"path", "no/such/file"}});
  Write("r", "t4", "src/new/file.txt", "new\n", false, "", kT0 + 101 * 1000000000LL);
  auto third = Export("r", dir);
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_FALSE(third->created);
  EXPECT_EQ(third->commits_added, 2u);
  EXPECT_EQ(third->from, first->to);
  EXPECT_EQ(CommitCount(dir), before + 2);
  EXPECT_EQ(GitOut(dir, "rev-parse HEAD~2"), first->head + "\n");  // history kept, extended
  EXPECT_EQ(GitOut(dir, "rev-parse refs/tink/base"), first->base_commit + "\n");
  EXPECT_EQ(
      GitOut(dir, "log -1 --format=%s HEAD~1"),
      "file.delete tools/gen.py (LSN " + std::to_string(Changes("r", first->to)[0].lsn) + ")\n");
  const Lsn base = BasePoint("r");
  EXPECT_EQ(GitOut(dir, "diff --no-renames refs/tink/base HEAD"), CanvasDiff("r", base, third->to));
  // The worktree followed: the deleted file is gone, the new one is there, nothing is dirty.
  EXPECT_FALSE(std::filesystem::exists(dir + "/tools/gen.py"));
  EXPECT_EQ(testing::ReadFile(dir + "/src/new/file.txt"), "new\n");
  EXPECT_EQ(GitOut(dir, "status --porcelain"), "");
  EXPECT_EQ(GitOut(dir, "config tink.lsn"), std::to_string(third->to) + "\n");

  auto fourth = Export("r", dir);
  ASSERT_TRUE(fourth.ok());
  EXPECT_TRUE(fourth->up_to_date);
  EXPECT_EQ(CommitCount(dir), before + 2);
}

TEST_F(CanvasGitTest, ALaterBaseWriteMovesTheBaseRef) {
  Write("r", "setup", "a.txt", "a\n", true);
  Write("r", "t", "a.txt", "b\n");
  const std::string dir = tmp_.Sub("repo");
  auto first = Export("r", dir);
  ASSERT_TRUE(first.ok());
  Write("r", "setup", "c.txt", "c\n", true);  // the harness recorded more of the repository
  Write("r", "t", "c.txt", "d\n");
  auto second = Export("r", dir);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->commits_added, 2u);
  EXPECT_NE(second->base_commit, first->base_commit);
  EXPECT_EQ(GitOut(dir, "rev-parse refs/tink/base"), GitOut(dir, "rev-parse HEAD~1"));
  EXPECT_EQ(GitOut(dir, "diff --no-renames refs/tink/base HEAD"),
            CanvasDiff("r", BasePoint("r"), second->to));
}

TEST_F(CanvasGitTest, RefusesDirectoriesThatAreNotItsExportOfThisRun) {
  Write("r", "t", "a.txt", "a\n");
  Write("s", "t", "b.txt", "b\n");
  namespace fs = std::filesystem;

  // A non-empty directory of someone else's: refused, untouched.
  const std::string foreign = tmp_.Sub("foreign");
  fs::create_directories(foreign);
  { std::ofstream(foreign + "/keep.txt") << "mine\n"; }
  auto r1 = Export("r", foreign);
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.status().code(), Code::kInvalidArgument) << r1.status().ToString();
  EXPECT_FALSE(fs::exists(foreign + "/.git"));
  EXPECT_EQ(testing::ReadFile(foreign + "/keep.txt"), "mine\n");

  // A git repository tink did not write.
  const std::string plain = tmp_.Sub("plain");
  fs::create_directories(plain);
  ASSERT_EQ(Git(plain, "init -q").exit_code, 0);
  auto r2 = Export("r", plain);
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.status().code(), Code::kInvalidArgument);
  EXPECT_NE(r2.status().message().find("did not write"), std::string::npos)
      << r2.status().ToString();

  // Our export of another run.
  const std::string ours = tmp_.Sub("ours");
  ASSERT_TRUE(Export("r", ours).ok());
  auto r3 = Export("s", ours);
  ASSERT_FALSE(r3.ok());
  EXPECT_EQ(r3.status().code(), Code::kInvalidArgument);
  EXPECT_NE(r3.status().message().find("run 'r', not 's'"), std::string::npos)
      << r3.status().ToString();

  // Our export, but someone committed on top: new changes have nowhere to go.
  ASSERT_EQ(Git(ours, "-c user.name=u -c user.email=u@x commit -q --allow-empty -m mine").exit_code,
            0);
  Write("r", "t", "a.txt", "c\n");
  auto r4 = Export("r", ours);
  ASSERT_FALSE(r4.ok());
  EXPECT_EQ(r4.status().code(), Code::kConflict) << r4.status().ToString();

  // An unknown run.
  auto r5 = Export("nope", tmp_.Sub("fresh"));
  ASSERT_FALSE(r5.ok());
  EXPECT_EQ(r5.status().code(), Code::kNotFound);
  EXPECT_FALSE(fs::exists(tmp_.Sub("fresh")));
}

TEST_F(CanvasGitTest, AFileThatIsAlsoADirectoryNeverReachesTheExport) {
  // The canvas refuses "a/b" while "a" is a file (an anomaly), so both exports see a consistent
  // tree: nothing to skip, and the repository's diff is still the canvas's.
  Write("r", "t", "a", "file a\n", true);
  Write("r", "t", "a/b", "under a\n", true);
  Write("r", "t", "c.txt", "c\n");
  const std::string dir = tmp_.Sub("repo");
  auto res = Export("r", dir);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_TRUE(res->skipped.empty());
  EXPECT_EQ(GitOut(dir, "ls-tree -r --name-only HEAD"), "a\nc.txt\n");

  auto reader = engine_->NewReader();
  ASSERT_TRUE(reader.ok());
  CanvasReader canvas(**reader);
  auto anomalies = canvas.Anomalies(std::string("r"), canvas.head());
  ASSERT_TRUE(anomalies.ok());
  ASSERT_EQ(anomalies->size(), 1u);
  EXPECT_EQ((*anomalies)[0].path, "a/b");
  auto tree = ExportTree(**reader, "r", canvas.head(), tmp_.Sub("tree"));
  ASSERT_TRUE(tree.ok()) << tree.status().ToString();
  EXPECT_EQ(tree->files, 2u);
  EXPECT_TRUE(tree->skipped.empty());
  EXPECT_EQ(testing::ReadFile(tmp_.Sub("tree") + "/a"), "file a\n");
  EXPECT_TRUE(std::filesystem::exists(tmp_.Sub("tree") + "/" + kTreeMarker));
}

TEST(CanvasGitNames, AuthorIdentityIsSanitised) {
  EXPECT_EQ(GitAuthorName("task-1"), "task-1");
  EXPECT_EQ(GitAuthorName(""), "agent");
  EXPECT_EQ(GitAuthorName("<evil>"), "_evil_");
  EXPECT_EQ(GitAuthorEmail("t 1", "run/7"), "t-1@run-7.tink");
  EXPECT_EQ(GitAuthorEmail("", ""), "agent@run.tink");
}

}  // namespace
}  // namespace tink::engine
