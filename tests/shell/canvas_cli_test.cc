// `tink canvas` as a user drives it, on stores built with `tink append` of JSONL envelopes:
// blame after write -> patch -> patch, anomalies (a patch that does not apply, paths that try to
// escape), export (modes, the marker, refusing a foreign directory, nothing written outside),
// diff (default points, --stat, bad points), git (commits, HEAD, incremental), verify (equal
// under normalisation: exit 0; different: exit 3 with the first differing hunk), ls/cat/runs.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "projections/textdiff.h"
#include "support/run_command.h"
#include "support/temp_dir.h"

namespace tink {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::CommandResult;
using testing::RunCommand;
using testing::ShellQuote;

json Envelope(const std::string& type, const std::string& run, const std::string& task, json data) {
  data["task"] = task;
  return {{"stream", "run/" + run + "/task/" + task}, {"type", type}, {"run", run}, {"data", data}};
}
json WriteEv(const std::string& run, const std::string& task, const std::string& path,
             const std::string& content, bool base = false, const std::string& mode = "") {
  json d = {{"path", path}, {"content", content}};
  if (base) d["base"] = true;
  if (!mode.empty()) d["mode"] = mode;
  return Envelope("file.write", run, task, d);
}
json PatchEv(const std::string& run, const std::string& task, const std::string& path,
             const std::string& diff) {
  return Envelope("file.patch", run, task, {{"path", path}, {"diff", diff}});
}

std::set<std::string> FilesUnder(const std::string& root, const std::string& except) {
  std::set<std::string> out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    std::string p = it->path().string();
    if (p.rfind(except, 0) == 0) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    out.insert(p);
  }
  return out;
}

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

class CanvasCliTest : public ::testing::Test {
 protected:
  CommandResult Tink(const std::string& args, const std::string& input = "") {
    return RunCommand(std::string(TINK_BIN) + " --store " + ShellQuote(store_) + " " + args, input);
  }
  // Appends the events as one JSONL batch; returns their LSNs.
  std::vector<uint64_t> Append(const std::vector<json>& events) {
    std::string in;
    for (const json& e : events) in += e.dump() + "\n";
    CommandResult r = Tink("append", in);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::vector<uint64_t> lsns;
    std::istringstream s(r.out);
    for (std::string l; std::getline(s, l);) lsns.push_back(std::stoull(l));
    return lsns;
  }
  // One run: a base file (LSN 1), a rewrite by t1 (2), a patch by t2 (3), a patch by t3 (4).
  void WritePatchPatch() {
    Append({WriteEv("r", "setup", "src/f.py", "a\nb\nc\nd\n", true)});
    Append({WriteEv("r", "t1", "src/f.py", "a\nB\nc\nd\n")});
    Append({PatchEv("r", "t2", "src/f.py", "@@ -2,3 +2,4 @@\n B\n c\n+c2\n d\n")});
    Append({PatchEv("r", "t3", "src/f.py",
                    "--- a/src/f.py\n+++ b/src/f.py\n@@ -1,2 +1,2 @@\n-a\n+A\n B\n")});
  }

  // No user or system git configuration (diff prefixes, colours) in the way.
  std::string GitEnv() { return "GIT_CONFIG_NOSYSTEM=1 HOME=" + ShellQuote(tmp_.path()) + " "; }

  testing::TempDir tmp_;
  std::string store_ = tmp_.Sub("store");
};

TEST_F(CanvasCliTest, BlameAttributesEachLineAfterWritePatchPatch) {
  WritePatchPatch();
  CommandResult r = Tink("canvas blame --run r src/f.py --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json lines = json::parse(r.out);
  ASSERT_EQ(lines.size(), 5u) << r.out;
  struct Want {
    uint64_t lsn;
    const char* task;
    const char* type;
    const char* text;
  } want[] = {{4, "t3", "file.patch", "A"},
              {2, "t1", "file.write", "B"},
              {1, "setup", "file.write", "c"},
              {3, "t2", "file.patch", "c2"},
              {1, "setup", "file.write", "d"}};
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(lines[i]["line"], i + 1);
    EXPECT_EQ(lines[i]["lsn"], want[i].lsn) << i;
    EXPECT_EQ(lines[i]["task"], want[i].task) << i;
    EXPECT_EQ(lines[i]["type"], want[i].type) << i;
    EXPECT_EQ(lines[i]["path"], "src/f.py");
    EXPECT_EQ(lines[i]["text"], want[i].text) << i;
  }
  // The text form: "LSN task type | text", columns aligned.
  CommandResult text = Tink("canvas blame --run r src/f.py");
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_EQ(text.out,
            "4 t3    file.patch | A\n"
            "2 t1    file.write | B\n"
            "1 setup file.write | c\n"
            "3 t2    file.patch | c2\n"
            "1 setup file.write | d\n");
  // As of LSN 2, before either patch.
  CommandResult early = Tink("canvas blame --run r src/f.py --as-of 2");
  ASSERT_EQ(early.exit_code, 0) << early.err;
  EXPECT_EQ(early.out,
            "1 setup file.write | a\n"
            "2 t1    file.write | B\n"
            "1 setup file.write | c\n"
            "1 setup file.write | d\n");

  CommandResult missing = Tink("canvas blame --run r src/nope.py");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("src/nope.py"), std::string::npos) << missing.err;
  CommandResult norun = Tink("canvas blame --run zzz src/f.py");
  EXPECT_EQ(norun.exit_code, 2);
  EXPECT_NE(norun.err.find("run 'zzz' has no canvas"), std::string::npos) << norun.err;
  CommandResult badlsn = Tink("canvas blame --run r src/f.py --as-of 999");
  EXPECT_EQ(badlsn.exit_code, 2);
  EXPECT_NE(badlsn.err.find("past the canvas's last LSN 4"), std::string::npos) << badlsn.err;
  CommandResult badtime = Tink("canvas blame --run r src/f.py --as-of yesterday");
  EXPECT_EQ(badtime.exit_code, 2);
  EXPECT_NE(badtime.err.find("--as-of"), std::string::npos) << badtime.err;
}

TEST_F(CanvasCliTest, APatchThatDoesNotApplyIsAnAnomalyAndChangesNothing) {
  WritePatchPatch();
  auto lsns = Append({PatchEv("r", "t4", "src/f.py", "@@ -1,2 +1,2 @@\n-zzz\n+yyy\n B\n")});
  ASSERT_EQ(lsns.size(), 1u);
  CommandResult an = Tink("canvas anomalies --json");
  ASSERT_EQ(an.exit_code, 0) << an.err;
  json a = json::parse(an.out);
  ASSERT_EQ(a.size(), 1u) << an.out;
  EXPECT_EQ(a[0]["lsn"], lsns[0]);
  EXPECT_EQ(a[0]["run"], "r");
  EXPECT_EQ(a[0]["task"], "t4");
  EXPECT_EQ(a[0]["type"], "file.patch");
  EXPECT_EQ(a[0]["path"], "src/f.py");
  EXPECT_NE(a[0]["reason"].get<std::string>().find("does not apply"), std::string::npos);
  CommandResult text = Tink("canvas anomalies --run r");
  EXPECT_NE(text.out.find("does not apply"), std::string::npos) << text.out;
  EXPECT_EQ(Tink("canvas anomalies --run other --json").out, "[]\n");
  // A run whose only file event was refused has no canvas, but its anomaly is listed.
  Append({WriteEv("bad", "t", "/abs", "x\n")});
  json only = json::parse(Tink("canvas anomalies --run bad --json").out);
  ASSERT_EQ(only.size(), 1u);
  EXPECT_EQ(only[0]["path"], "/abs");
  EXPECT_EQ(Tink("canvas ls --run bad").exit_code, 2);

  // The file is what it was before the patch, last written at LSN 4.
  EXPECT_EQ(Tink("canvas cat --run r src/f.py").out, "A\nB\nc\nc2\nd\n");
  json ls = json::parse(Tink("canvas ls --run r --json").out);
  ASSERT_EQ(ls.size(), 1u);
  EXPECT_EQ(ls[0]["lsn"], 4);
  EXPECT_EQ(Tink("canvas diff --run r --from 4").out, "");
}

TEST_F(CanvasCliTest, PathTraversalIsAnAnomalyAndExportWritesOnlyInsideDir) {
  Append({WriteEv("r", "t", "ok/file.txt", "fine\n"),
          WriteEv("r", "t", "../../etc/passwd", "root::0:0::/:/bin/sh\n"),
          WriteEv("r", "t", "/etc/passwd", "root::0:0::/:/bin/sh\n"),
          WriteEv("r", "t", "a/../../x", "x\n"),
          WriteEv("r", "t", ".git/hooks/post-checkout", "#!/bin/sh\n", false, "100755"),
          Envelope("file.rename", "r", "t", {{"path", "ok/file.txt"}, {"to", "../../moved"}})});
  json an = json::parse(Tink("canvas anomalies --run r --json").out);
  std::set<std::string> paths;
  for (const json& a : an) paths.insert(a["path"].get<std::string>());
  EXPECT_EQ(paths, (std::set<std::string>{"../../etc/passwd", "/etc/passwd", "a/../../x",
                                          ".git/hooks/post-checkout", "../../moved"}))
      << an.dump();

  const std::string out = tmp_.Sub("deep/inner/out");
  const std::set<std::string> before = FilesUnder(tmp_.path(), store_);
  CommandResult e = Tink("canvas export --run r " + ShellQuote(out));
  ASSERT_EQ(e.exit_code, 0) << e.err;
  EXPECT_NE(e.out.find("exported 1 file (5 B)"), std::string::npos) << e.out;
  std::set<std::string> after = FilesUnder(tmp_.path(), store_);
  std::set<std::string> added;
  for (const std::string& p : after) {
    if (!before.contains(p)) added.insert(p);
  }
  EXPECT_EQ(added,
            (std::set<std::string>{tmp_.Sub("deep"), tmp_.Sub("deep/inner"), out,
                                   out + "/.tink-canvas", out + "/ok", out + "/ok/file.txt"}));
  // The same through git.
  CommandResult g = Tink("canvas git --run r --out " + ShellQuote(tmp_.Sub("repo")));
  ASSERT_EQ(g.exit_code, 0) << g.err;
  after = FilesUnder(tmp_.path(), store_);
  for (const std::string& p : after) {
    if (before.contains(p) || added.contains(p)) continue;
    EXPECT_EQ(p.rfind(tmp_.Sub("repo"), 0), 0u) << p << " written outside the repository";
  }
  EXPECT_FALSE(fs::exists(tmp_.Sub("repo/.git/hooks/post-checkout")));
}

TEST_F(CanvasCliTest, ExportWritesModesRefusesAForeignDirAndReplacesItsOwn) {
  auto l = Append({WriteEv("r", "setup", "bin/run.sh", "#!/bin/sh\necho hi\n", true, "100755"),
                   WriteEv("r", "setup", "lib/a/b/c.txt", "deep\n", true)});
  Append({WriteEv("r", "t", "new.txt", "new\n"),
          Envelope("file.delete", "r", "t", {{"path", "lib/a/b/c.txt"}})});

  const std::string foreign = tmp_.Sub("foreign");
  fs::create_directories(foreign);
  WriteText(foreign + "/mine.txt", "do not touch\n");
  CommandResult refused = Tink("canvas export --run r " + ShellQuote(foreign));
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("not empty"), std::string::npos) << refused.err;
  EXPECT_EQ(testing::ReadFile(foreign + "/mine.txt"), "do not touch\n");
  EXPECT_FALSE(fs::exists(foreign + "/new.txt"));

  const std::string out = tmp_.Sub("out");
  CommandResult e = Tink("canvas export --run r " + ShellQuote(out));
  ASSERT_EQ(e.exit_code, 0) << e.err;
  EXPECT_EQ(e.out, "exported 2 files (22 B) of run r as of LSN 4 to " + out + "\n");
  EXPECT_EQ(testing::ReadFile(out + "/bin/run.sh"), "#!/bin/sh\necho hi\n");
  EXPECT_EQ(testing::ReadFile(out + "/new.txt"), "new\n");
  EXPECT_FALSE(fs::exists(out + "/lib"));
  struct stat st;
  ASSERT_EQ(::stat((out + "/bin/run.sh").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0755u);
  ASSERT_EQ(::stat((out + "/new.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  std::string marker = testing::ReadFile(out + "/.tink-canvas");
  EXPECT_NE(marker.find("run r\n"), std::string::npos) << marker;
  EXPECT_NE(marker.find("lsn 4\n"), std::string::npos) << marker;

  // Ours: exported again as of LSN 2, the content is replaced (new.txt goes, lib/ comes back).
  WriteText(out + "/stray.txt", "left over\n");
  CommandResult again =
      Tink("canvas export --run r --as-of " + std::to_string(l[1]) + " " + ShellQuote(out));
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("replacing"), std::string::npos) << again.out;
  EXPECT_FALSE(fs::exists(out + "/new.txt"));
  EXPECT_FALSE(fs::exists(out + "/stray.txt"));
  EXPECT_EQ(testing::ReadFile(out + "/lib/a/b/c.txt"), "deep\n");
  EXPECT_NE(testing::ReadFile(out + "/.tink-canvas").find("lsn 2\n"), std::string::npos);

  CommandResult norun = Tink("canvas export --run nope " + ShellQuote(tmp_.Sub("x")));
  EXPECT_EQ(norun.exit_code, 2);
  EXPECT_FALSE(fs::exists(tmp_.Sub("x")));
}

TEST_F(CanvasCliTest, DiffDefaultsToTheBasePointAndTakesPoints) {
  WritePatchPatch();
  CommandResult d = Tink("canvas diff --run r");
  ASSERT_EQ(d.exit_code, 0) << d.err;
  const std::string a = "a\nb\nc\nd\n", b = "A\nB\nc\nc2\nd\n";
  const std::string want = "diff --git a/src/f.py b/src/f.py\nindex " +
                           projections::text::GitBlobId(a).substr(0, 7) + ".." +
                           projections::text::GitBlobId(b).substr(0, 7) +
                           " 100644\n--- a/src/f.py\n+++ b/src/f.py\n"
                           "@@ -1,4 +1,5 @@\n-a\n-b\n+A\n+B\n c\n+c2\n d\n";
  EXPECT_EQ(d.out, want);
  EXPECT_EQ(Tink("canvas diff --run r --from 1 --to now").out, want);
  CommandResult one = Tink("canvas diff --run r --from 2 --to 3");
  EXPECT_NE(one.out.find("+c2\n"), std::string::npos) << one.out;
  EXPECT_EQ(one.out.find("+A\n"), std::string::npos) << one.out;
  CommandResult none = Tink("canvas diff --run r --from 4 --to 4");
  EXPECT_EQ(none.exit_code, 0);
  EXPECT_EQ(none.out, "");
  CommandResult stat = Tink("canvas diff --run r --stat");
  EXPECT_EQ(stat.out,
            " src/f.py |     5 +++--\n 1 file changed, 3 insertions(+), 2 deletions(-)\n");
  EXPECT_EQ(Tink("canvas diff --run r --to 77").exit_code, 2);
  EXPECT_EQ(Tink("canvas diff --run r --from x1").exit_code, 2);
  EXPECT_EQ(Tink("canvas diff").exit_code, 1);  // --run is required
}

TEST_F(CanvasCliTest, VerifyEqualUnderNormalisationExits0AndDifferentExits3) {
  WritePatchPatch();
  Append({WriteEv("r", "t5", "docs/new.md", "# new\n")});
  const std::string diff = Tink("canvas diff --run r").out;
  ASSERT_NE(diff.find("docs/new.md"), std::string::npos);

  // As a harness records it: CRLF, a leading empty line, no final newline, longer blob ids on
  // one file's index line, the files in another order, a function context after a hunk range.
  const std::string blob_a = projections::text::GitBlobId("a\nb\nc\nd\n");
  const std::string blob_b = projections::text::GitBlobId("A\nB\nc\nc2\nd\n");
  std::string py = "diff --git a/src/f.py b/src/f.py\nindex " + blob_a.substr(0, 12) + ".." +
                   blob_b.substr(0, 10) +
                   " 100644\n--- a/src/f.py\n+++ b/src/f.py\n"
                   "@@ -1,4 +1,5 @@ def main():\n-a\n-b\n+A\n+B\n c\n+c2\n d\n";
  std::string md = diff.substr(diff.find("diff --git a/docs"),
                               diff.find("diff --git a/src") - diff.find("diff --git a/docs"));
  std::string recorded = "\n" + py + md;
  recorded.pop_back();  // no final newline
  std::string crlf;
  for (char c : recorded) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  WriteText(tmp_.Sub("expected.patch"), crlf);
  CommandResult ok =
      Tink("canvas verify --run r --expect " + ShellQuote(tmp_.Sub("expected.patch")));
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_EQ(ok.out, "canvas matches " + tmp_.Sub("expected.patch") + " (2 files, 2 hunks)\n");

  // One line different: exit 3, the path, the hunk from both sides, the differing line.
  std::string other = py;
  other.replace(other.find("+c2\n"), 4, "+c3\n");
  WriteText(tmp_.Sub("other.patch"), md + other);
  CommandResult bad = Tink("canvas verify --run r --expect " + ShellQuote(tmp_.Sub("other.patch")));
  EXPECT_EQ(bad.exit_code, 3) << bad.out << bad.err;
  EXPECT_NE(bad.out.find("src/f.py: hunk 1 of 1"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("  expected: +c3\n  canvas:   +c2\n"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("--- expected"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("+++ canvas\n@@ -1,4 +1,5 @@\n-a\n-b\n+A\n+B\n c\n+c2\n d\n"),
            std::string::npos)
      << bad.out;
  EXPECT_NE(bad.err.find("src/f.py"), std::string::npos) << bad.err;

  // A wrong blob id (same hunks) differs too; a file only in the expected patch differs.
  std::string wrong_id = py;
  wrong_id.replace(wrong_id.find(blob_b.substr(0, 10)), 10, "0123456789");
  WriteText(tmp_.Sub("id.patch"), md + wrong_id);
  CommandResult id = Tink("canvas verify --run r --expect " + ShellQuote(tmp_.Sub("id.patch")));
  EXPECT_EQ(id.exit_code, 3);
  EXPECT_NE(id.out.find("index lines differ"), std::string::npos) << id.out;
  WriteText(tmp_.Sub("extra.patch"),
            md + py + "diff --git a/z b/z\n--- a/z\n+++ b/z\n@@ -1 +1 @@\n-1\n+2\n");
  CommandResult extra =
      Tink("canvas verify --run r --expect " + ShellQuote(tmp_.Sub("extra.patch")));
  EXPECT_EQ(extra.exit_code, 3);
  EXPECT_NE(extra.out.find("z: changed in the expected patch, unchanged in the canvas"),
            std::string::npos)
      << extra.out;
  // Missing from the expected patch: the canvas changed docs/new.md.
  WriteText(tmp_.Sub("short.patch"), py);
  CommandResult shrt =
      Tink("canvas verify --run r --expect " + ShellQuote(tmp_.Sub("short.patch")));
  EXPECT_EQ(shrt.exit_code, 3);
  EXPECT_NE(shrt.out.find("docs/new.md: changed in the canvas"), std::string::npos) << shrt.out;

  EXPECT_EQ(Tink("canvas verify --run r --expect " + ShellQuote(tmp_.Sub("none"))).exit_code, 2);
}

TEST_F(CanvasCliTest, GitCommandWritesCommitsAndIsIncremental) {
  WritePatchPatch();
  const std::string repo = tmp_.Sub("repo");
  CommandResult g = Tink("canvas git --run r --out " + ShellQuote(repo));
  ASSERT_EQ(g.exit_code, 0) << g.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(g.out, m, std::regex("wrote 4 commits .*HEAD ([0-9a-f]{40})\n")))
      << g.out;
  CommandResult head = RunCommand(GitEnv() + "git -C " + ShellQuote(repo) + " rev-parse HEAD");
  EXPECT_EQ(head.out, m[1].str() + "\n");
  CommandResult gd =
      RunCommand(GitEnv() + "git -C " + ShellQuote(repo) +
                 " -c core.abbrev=7 diff --no-color --no-renames refs/tink/base HEAD");
  EXPECT_EQ(gd.out, Tink("canvas diff --run r").out);

  CommandResult same = Tink("canvas git --run r --out " + ShellQuote(repo));
  EXPECT_EQ(same.exit_code, 0);
  EXPECT_NE(same.out.find("up to date"), std::string::npos) << same.out;
  Append({WriteEv("r", "t9", "later.txt", "later\n")});
  CommandResult more = Tink("canvas git --run r --out " + ShellQuote(repo) + " --json");
  ASSERT_EQ(more.exit_code, 0) << more.err;
  json j = json::parse(more.out);
  EXPECT_EQ(j["commits_added"], 1);
  EXPECT_EQ(j["from_lsn"], 4);
  EXPECT_EQ(j["to_lsn"], 5);
  EXPECT_EQ(testing::ReadFile(repo + "/later.txt"), "later\n");

  const std::string foreign = tmp_.Sub("foreign");
  fs::create_directories(foreign);
  WriteText(foreign + "/x", "x");
  CommandResult refused = Tink("canvas git --run r --out " + ShellQuote(foreign));
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("not a git export of run 'r'"), std::string::npos) << refused.err;
}

TEST_F(CanvasCliTest, LsCatAndRuns) {
  WritePatchPatch();
  Append({WriteEv("s", "u", "x/y.sh", "#!/bin/sh\n", false, "100755")});
  CommandResult ls = Tink("canvas ls --run s --json");
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  json l = json::parse(ls.out);
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0]["path"], "x/y.sh");
  EXPECT_EQ(l[0]["mode"], "100755");
  EXPECT_EQ(l[0]["size"], 10);
  EXPECT_EQ(l[0]["lsn"], 5);
  EXPECT_EQ(l[0]["task"], "u");
  CommandResult text = Tink("canvas ls --run r");
  EXPECT_NE(text.out.find(std::string("100644 ") + "        11" + " " + "       4" + " " +
                          "t3              " + " src/f.py\n"),
            std::string::npos)
      << text.out;
  EXPECT_EQ(Tink("canvas cat --run r src/f.py --as-of 1").out, "a\nb\nc\nd\n");
  CommandResult nofile = Tink("canvas cat --run r nope.txt");
  EXPECT_EQ(nofile.exit_code, 2);
  EXPECT_NE(nofile.err.find("no file 'nope.txt' in run 'r'"), std::string::npos) << nofile.err;
  json runs = json::parse(Tink("canvas runs --json").out);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0]["run"], "r");
  EXPECT_EQ(runs[0]["base_lsn"], 1);
  EXPECT_EQ(runs[0]["changes"], 4);
  EXPECT_EQ(runs[1]["run"], "s");
  EXPECT_EQ(json::parse(Tink("canvas runs --as-of 4 --json").out).size(), 1u);
}

// Real recorded runs (tests/data/agent-runs, SOURCES.md): imported with their base repositories,
// the canvas's diff from the base equals the harness's recorded final patch, except for ponyc-4588
// where the agent changed the line once more with `sed -i` in a shell command, which no file event
// records: exactly that one line differs.
class CanvasImportTest : public CanvasCliTest {
 protected:
  void Import(const std::string& format, const std::string& file, const std::string& base,
              const std::string& select = "") {
    const std::string data = TINK_DATA_DIR;
    CommandResult r =
        Tink("import --format " + format + " " + ShellQuote(data + "/" + file) + " --base " +
             ShellQuote(data + "/base/" + base) + (select.empty() ? "" : " --select " + select));
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }
  CommandResult Verify(const std::string& run, const std::string& expected) {
    return Tink("canvas verify --run " + run + " --expect " +
                ShellQuote(std::string(TINK_DATA_DIR) + "/expected/" + expected + ".patch"));
  }
};

TEST_F(CanvasImportTest, OpenHandsAndSweAgentRunsMatchTheirRecordedPatches) {
  Import("openhands", "openhands/output.jsonl", "ponyc-4595", "ponylang__ponyc-4595");
  Import("openhands", "openhands/output.jsonl", "ponyc-4593", "ponylang__ponyc-4593");
  Import("swe-agent", "swe-agent/marshmallow-code__marshmallow-1867.traj", "marshmallow-1867");
  for (auto [run, patch] : std::vector<std::pair<std::string, std::string>>{
           {"ponylang__ponyc-4595", "ponyc-4595"},
           {"ponylang__ponyc-4593", "ponyc-4593"},
           {"marshmallow-code__marshmallow-1867", "marshmallow-1867"}}) {
    CommandResult v = Verify(run, patch);
    EXPECT_EQ(v.exit_code, 0) << run << "\n" << v.out << v.err;
    EXPECT_NE(v.out.find("canvas matches "), std::string::npos) << v.out;
    EXPECT_NE(v.out.find("(1 file, 1 hunk)"), std::string::npos) << v.out;
  }
  // The same verification against another run's patch fails.
  EXPECT_EQ(Verify("ponylang__ponyc-4593", "ponyc-4595").exit_code, 3);

  // The git export of an imported run: its diff is the canvas's, and its last commit is the
  // event blame names for the added line.
  const std::string repo = tmp_.Sub("ponyc-4595");
  CommandResult g = Tink("canvas git --run ponylang__ponyc-4595 --json --out " + ShellQuote(repo));
  ASSERT_EQ(g.exit_code, 0) << g.err;
  json gj = json::parse(g.out);
  CommandResult count =
      RunCommand(GitEnv() + "git -C " + ShellQuote(repo) + " rev-list --count HEAD");
  EXPECT_EQ(count.out, std::to_string(gj["commits_added"].get<int>()) + "\n");
  CommandResult gd =
      RunCommand(GitEnv() + "git -C " + ShellQuote(repo) +
                 " -c core.abbrev=7 diff --no-color --no-renames refs/tink/base HEAD");
  EXPECT_EQ(gd.out, Tink("canvas diff --run ponylang__ponyc-4595").out);
  json blame = json::parse(
      Tink("canvas blame --run ponylang__ponyc-4595 src/libponyc/ast/parser.c --json").out);
  uint64_t lsn = 0;
  for (const json& l : blame) {
    if (l["text"] == "  SET_FLAG(AST_FLAG_IN_PARENS);" && l["line"] == 696) lsn = l["lsn"];
  }
  ASSERT_NE(lsn, 0u) << "the added line is not at 696";
  CommandResult subject =
      RunCommand(GitEnv() + "git -C " + ShellQuote(repo) + " log -1 --format=%s HEAD");
  EXPECT_EQ(subject.out, "file.patch src/libponyc/ast/parser.c (LSN " + std::to_string(lsn) +
                             ", tool str_replace_editor)\n");
}

TEST_F(CanvasImportTest, Ponyc4588DiffersInTheOneLineTheAgentChangedWithSed) {
  Import("openhands", "openhands/output.jsonl", "ponyc-4588", "ponylang__ponyc-4588");
  CommandResult v = Verify("ponylang__ponyc-4588", "ponyc-4588");
  EXPECT_EQ(v.exit_code, 3) << v.out << v.err;
  EXPECT_NE(v.out.find("src/libponyc/expr/match.c: hunk 1 of 1 differs\n"), std::string::npos)
      << v.out;
  const std::string line =
      "if (ast_id(pattern_type) == TK_ISO) pattern_type = set_cap_and_ephemeral(pattern_type, "
      "TK_TRN, TK_EPHEMERAL);";
  EXPECT_NE(v.out.find("  expected: +      " + line + "\n  canvas:   +" + line + "\n"),
            std::string::npos)
      << v.out;
  // Both hunks are printed; they differ in that line only.
  size_t e = v.out.find("--- expected"), c = v.out.find("+++ canvas\n");
  ASSERT_NE(e, std::string::npos);
  ASSERT_NE(c, std::string::npos);
  std::vector<std::string> want, have;
  {
    std::istringstream in(v.out.substr(e, c - e));
    std::string l;
    std::getline(in, l);  // the "--- expected (FILE)" line
    while (std::getline(in, l)) want.push_back(l);
  }
  {
    std::istringstream in(v.out.substr(c + 11));
    for (std::string l; std::getline(in, l);) have.push_back(l);
  }
  ASSERT_EQ(want.size(), have.size());
  ASSERT_GT(want.size(), 5u);
  int differing = 0;
  for (size_t i = 0; i < want.size(); ++i) differing += want[i] != have[i];
  EXPECT_EQ(differing, 1);
}

}  // namespace
}  // namespace tink
