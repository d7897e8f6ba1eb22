// tink exec's file recording (docs/exec.md "Files"): a command that edits, creates, deletes,
// renames and chmods files in a git working copy; the canvas diff of its run must be what
// `git diff` says the command did (hunk headers compared by their ranges: the function context
// after them depends on git's diff driver), and `tink canvas verify` must agree.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "exec/exec_test_util.h"

namespace tink::exectest {
namespace {

using testing::ReadFile;

class ExecFilesTest : public ::testing::Test, public ExecTestBase {
 protected:
  void Write(const std::string& rel, const std::string& content) {
    const std::string path = wd() + "/" + rel;
    RunCommand("mkdir -p " + ShellQuote(path.substr(0, path.rfind('/'))));
    std::ofstream(path, std::ios::binary) << content;
  }
  std::string wd() const { return tmp_.Sub("wd"); }
  CommandResult Git(const std::string& args) {
    return RunCommand("cd " + ShellQuote(wd()) +
                      " && git -c user.name=t -c user.email=t@t -c core.fileMode=true "
                      "-c init.defaultBranch=main " +
                      args);
  }
};

// "@@ -a,b +c,d @@ context" -> "@@ -a,b +c,d @@".
std::string NormalizeHunkHeaders(const std::string& diff) {
  std::istringstream in(diff);
  std::string out, line;
  while (std::getline(in, line)) {
    if (line.starts_with("@@ ")) {
      const size_t end = line.find(" @@", 3);
      if (end != std::string::npos) line = line.substr(0, end + 3);
    }
    out += line + "\n";
  }
  return out;
}

TEST_F(ExecFilesTest, CanvasDiffOfTheRunIsTheGitDiffOfTheWorkdir) {
  std::string lines;
  for (int i = 1; i <= 40; ++i) lines += "line " + std::to_string(i) + "\n";
  Write("edit.txt", lines);
  Write("keep.txt", "untouched\n");
  Write("gone.txt", "to be deleted\n");
  Write("old/name.txt", "moved as it is\nsecond line\n");
  Write("run.sh", "#!/bin/sh\necho hi\n");
  Write("src/mod.c", "int f(void) {\n  return 1;\n}\n");
  ASSERT_EQ(Git("init -q && git -c user.name=t -c user.email=t@t add -A && "
                "git -c user.name=t -c user.email=t@t commit -q -m base")
                .exit_code,
            0);

  const std::string script =
      "sed -i 's/^line 20$/line twenty/; /^line 30$/d' edit.txt && "
      "echo 'appended' >> src/mod.c && "
      "rm gone.txt && "
      "mkdir -p new && mv old/name.txt new/name.txt && "
      "chmod +x run.sh && "
      "printf 'brand new\\n' > created.txt && "
      "mkdir -p deep/er && printf 'no newline at end' > deep/er/x.txt";
  CommandResult r =
      Tink("exec --json --workdir " + ShellQuote(wd()) + " -- sh -c " + ShellQuote(script));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json summary = Summary(r);
  const std::string run = summary["run"];
  EXPECT_EQ(summary["files_changed"], 7);

  const std::vector<json> events = Events(run);
  ASSERT_EQ(OfType(events, "file.rename").size(), 1u);
  EXPECT_EQ(OfType(events, "file.rename")[0]["data"]["path"], "old/name.txt");
  EXPECT_EQ(OfType(events, "file.rename")[0]["data"]["to"], "new/name.txt");
  ASSERT_EQ(OfType(events, "file.delete").size(), 1u);
  EXPECT_EQ(OfType(events, "file.delete")[0]["data"]["path"], "gone.txt");
  ASSERT_EQ(OfType(events, "file.patch").size(), 1u) << "a small edit of a long file is a patch";
  EXPECT_EQ(OfType(events, "file.patch")[0]["data"]["path"], "edit.txt");
  size_t base = 0;
  for (const json& w : OfType(events, "file.write")) {
    if (w["data"].value("base", false)) ++base;
    EXPECT_NE(w["data"]["path"], "keep.txt") << "an untouched file is not recorded";
  }
  // edit.txt, src/mod.c, gone.txt, old/name.txt, run.sh as they were.
  EXPECT_EQ(base, 5u);
  const json result = OfType(events, "tool.result").at(0)["data"];
  EXPECT_EQ(result["files_changed"], 7);
  r = Tink("canvas anomalies --run " + run);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.find("patch"), std::string::npos) << r.out;

  ASSERT_EQ(Git("add -A").exit_code, 0);
  const CommandResult git = Git("diff --cached --no-renames");
  ASSERT_EQ(git.exit_code, 0) << git.err;
  const CommandResult canvas = Tink("canvas diff --run " + run);
  ASSERT_EQ(canvas.exit_code, 0) << canvas.err;
  EXPECT_FALSE(git.out.empty());
  EXPECT_EQ(NormalizeHunkHeaders(canvas.out), NormalizeHunkHeaders(git.out));

  std::ofstream(tmp_.Sub("git.diff")) << git.out;
  r = Tink("canvas verify --run " + run + " --expect " + ShellQuote(tmp_.Sub("git.diff")));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;

  // A second command in the same run: the base moves to what it found, the diff is its own.
  ASSERT_EQ(Git("-c user.name=t -c user.email=t@t commit -q -m step1").exit_code, 0);
  r = Tink("exec --run " + run + " --workdir " + ShellQuote(wd()) +
           " -- sh -c 'echo more >> created.txt && rm keep.txt'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(Git("add -A").exit_code, 0);
  const CommandResult git2 = Git("diff --cached --no-renames");
  const CommandResult canvas2 = Tink("canvas diff --run " + run);
  EXPECT_EQ(NormalizeHunkHeaders(canvas2.out), NormalizeHunkHeaders(git2.out));
}

TEST_F(ExecFilesTest, BinaryFilesAreRecordedByHash) {
  Write("data.bin", std::string("\x00\x01\xfe\xff", 4));
  CommandResult r = Tink("exec --json --workdir " + ShellQuote(wd()) +
                         " -- sh -c 'printf \"\\000\\377x\" > data.bin; cp data.bin copy.bin'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<json> events = Events(Summary(r)["run"]);
  std::map<std::string, std::string> writes;  // path -> content (not base)
  std::string base;
  for (const json& w : OfType(events, "file.write")) {
    if (w["data"].value("base", false)) {
      base = w["data"]["content"];
    } else {
      writes[w["data"]["path"]] = w["data"]["content"];
    }
  }
  EXPECT_EQ(base.rfind("tink exec: binary file, 4 bytes, xxh3-128 ", 0), 0u) << base;
  ASSERT_EQ(writes.size(), 2u);
  EXPECT_EQ(writes["data.bin"].rfind("tink exec: binary file, 3 bytes, xxh3-128 ", 0), 0u);
  EXPECT_EQ(writes["data.bin"], writes["copy.bin"]) << "same content, same hash";
  EXPECT_NE(writes["data.bin"], base);
}

TEST_F(ExecFilesTest, GitDirectoryAndUnchangedFilesAreLeftOut) {
  Write("a.txt", "a\n");
  ASSERT_EQ(Git("init -q").exit_code, 0);
  // The command writes inside .git (as git itself does) and touches nothing else.
  CommandResult r = Tink("exec --json --workdir " + ShellQuote(wd()) +
                         " -- sh -c 'echo x > .git/scratch; cat a.txt'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Summary(r)["files_changed"], 0);
  const std::vector<json> events = Events(Summary(r)["run"]);
  for (const char* t : {"file.write", "file.patch", "file.delete", "file.rename"}) {
    EXPECT_TRUE(OfType(events, t).empty()) << t;
  }
  // The store under the workdir: its own writes are not the command's.
  r = Tink("exec --json --workdir " + ShellQuote(tmp_.path()) + " -- true");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Summary(r)["files_changed"], 0);
  // --no-files: nothing is looked at.
  r = Tink("exec --json --no-files --workdir " + ShellQuote(wd()) + " -- sh -c 'echo y > b.txt'");
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_TRUE(OfType(Events(Summary(r)["run"]), "file.write").empty());
  EXPECT_FALSE(
      OfType(Events(Summary(r)["run"]), "tool.result").at(0)["data"].contains("files_changed"));
}

}  // namespace
}  // namespace tink::exectest
