// `tink import` as a user drives it: one atomic append per file, re-import is a no-op, a bad file
// exits 2 with nothing of it stored, --select / --base / --json / --dry-run.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/run_command.h"
#include "support/temp_dir.h"

namespace tink {
namespace {

using nlohmann::json;
using testing::CommandResult;
using testing::RunCommand;
using testing::ShellQuote;

std::string Data(const std::string& rel) { return std::string(TINK_TEST_DATA) + "/" + rel; }

class ImportCliTest : public ::testing::Test {
 protected:
  CommandResult Tink(const std::string& args) {
    return RunCommand(std::string(TINK_BIN) + " --store " + ShellQuote(store_) + " " + args);
  }
  // Events `tink log` shows (optionally for one run).
  size_t LogCount(const std::string& run = "") {
    CommandResult r = Tink("log --json" + (run.empty() ? "" : " --run " + ShellQuote(run)));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return static_cast<size_t>(std::count(r.out.begin(), r.out.end(), '\n'));
  }
  std::vector<json> JsonLines(const std::string& out) {
    std::vector<json> v;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) v.push_back(json::parse(line));
    return v;
  }

  testing::TempDir tmp_;
  std::string store_ = tmp_.Sub("store");
};

TEST_F(ImportCliTest, ImportingAFileTwiceIsANoOp) {
  const std::string file = ShellQuote(Data("openhands/output.jsonl"));
  CommandResult a = Tink("import --format openhands --json " + file);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  auto first = JsonLines(a.out);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0]["duplicate"], false);
  ASSERT_EQ(first[0]["runs"].size(), 3u);
  EXPECT_EQ(first[0]["runs"][0]["run"], "ponylang__ponyc-4595");
  EXPECT_EQ(first[0]["runs"][0]["first_lsn"], 1);
  EXPECT_EQ(first[0]["runs"][2]["files"], json::array({"src/libponyc/expr/match.c"}));
  EXPECT_EQ(first[0]["runs"][2]["final_patch"], true);
  const size_t total = LogCount();
  EXPECT_EQ(total, first[0]["runs"][2]["last_lsn"].get<size_t>());

  CommandResult b = Tink("import --format openhands --json " + file);
  ASSERT_EQ(b.exit_code, 0) << b.err;
  auto second = JsonLines(b.out);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0]["duplicate"], true);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(second[0]["runs"][i]["first_lsn"], first[0]["runs"][i]["first_lsn"]);
    EXPECT_EQ(second[0]["runs"][i]["last_lsn"], first[0]["runs"][i]["last_lsn"]);
  }
  EXPECT_EQ(LogCount(), total);

  CommandResult c = Tink("import --format openhands " + file);
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_EQ(c.out, Data("openhands/output.jsonl") +
                       ": already imported (run ponylang__ponyc-4595, ponylang__ponyc-4593, "
                       "ponylang__ponyc-4588, " +
                       std::to_string(total) + " events)\n");
  EXPECT_EQ(c.err, "");  // no warnings for a file already imported
  EXPECT_EQ(LogCount(), total);
}

// The memory events are part of the file's batch: re-import writes none of them again, and a
// second run that uses the same tools (the shared "tool:<name>" nodes) is not a partial duplicate.
TEST_F(ImportCliTest, MemoryEventsReimportAsANoOpAndToolsAreShared) {
  auto memory = [&](const std::string& run) {
    CommandResult r = Tink("log --json --stream " + ShellQuote("run/" + run + "/memory"));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return JsonLines(r.out);
  };
  const std::string m = ShellQuote(Data("swe-agent/marshmallow-code__marshmallow-1867.traj"));
  ASSERT_EQ(Tink("import --format swe-agent " + m).exit_code, 0);
  const size_t total = LogCount();
  const auto first = memory("marshmallow-code__marshmallow-1867");
  ASSERT_FALSE(first.empty());
  CommandResult again = Tink("import --format swe-agent " + m);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("already imported"), std::string::npos) << again.out;
  EXPECT_EQ(LogCount(), total);
  EXPECT_EQ(memory("marshmallow-code__marshmallow-1867"), first);

  // Another run with tools in common (open, edit, python, submit, ...).
  CommandResult other =
      Tink("import --format swe-agent " + ShellQuote(Data("swe-agent/swe-agent__test-repo-i1.traj")));
  ASSERT_EQ(other.exit_code, 0) << other.err;
  bool shares = false;
  for (const json& e : memory("swe-agent__test-repo-i1")) {
    shares |= e["type"] == "memory.node" && e["data"]["id"] == "tool:edit";
  }
  EXPECT_TRUE(shares);
}

TEST_F(ImportCliTest, TextOutputNamesRunsLsnsFilesAndWarnsOnStderr) {
  CommandResult a = Tink("import --format openhands " + ShellQuote(Data("openhands/output.jsonl")) +
                         " " + ShellQuote(Data("openhands/basic.json")));
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_NE(a.out.find("output.jsonl: run ponylang__ponyc-4595: "), std::string::npos) << a.out;
  EXPECT_NE(a.out.find("events appended, LSN 1.."), std::string::npos) << a.out;
  EXPECT_NE(a.out.find("basic.json: run basic: 26 events appended"), std::string::npos) << a.out;
  EXPECT_NE(a.out.find("files: game_2048.py"), std::string::npos) << a.out;
  EXPECT_NE(a.err.find("run ponylang__ponyc-4588: warning: event 62: shell command may change "
                       "files (sed -i); not replayed"),
            std::string::npos)
      << a.err;
}

TEST_F(ImportCliTest, BadFileExits2AndNothingOfItIsStored) {
  std::string text;
  {
    std::ifstream in(Data("openhands/output.jsonl"));
    std::getline(in, text);
  }
  const std::string bad = tmp_.Sub("bad.jsonl");
  {
    std::ofstream out(bad);
    out << text << "\n"
        << R"({"instance_id": "x", "history": "not a list"})"
        << "\n";
  }
  CommandResult r =
      Tink("import --format openhands " + ShellQuote(Data("openhands/basic.json")) + " " +
           ShellQuote(bad) + " " + ShellQuote(Data("openhands/wrong_initial_state.json")));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find(bad + ": record 2 (line 2): field 'history': expected an array"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("nothing of " + bad + " was stored; the 1 file before it stays imported"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(LogCount(), 26u);  // basic.json only: 16 events and 10 of memory
  EXPECT_EQ(LogCount("ponylang__ponyc-4595"), 0u);
  EXPECT_EQ(LogCount("wrong_initial_state"), 0u);

  CommandResult missing = Tink("import --format openhands " + ShellQuote(tmp_.Sub("nope.json")));
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("no such file"), std::string::npos) << missing.err;
}

TEST_F(ImportCliTest, SelectPicksOneRunAndBaseMakesDiffs) {
  CommandResult r =
      Tink("import --format openhands --json --select ponylang__ponyc-4593 --base " +
           ShellQuote(Data("base/ponyc-4593")) + " " + ShellQuote(Data("openhands/output.jsonl")));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto out = JsonLines(r.out);
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0]["runs"].size(), 1u);
  const json& run = out[0]["runs"][0];
  EXPECT_EQ(run["run"], "ponylang__ponyc-4593");
  EXPECT_EQ(run["warnings"], json::array());
  EXPECT_EQ(LogCount(), run["events"].get<size_t>());
  EXPECT_EQ(LogCount("ponylang__ponyc-4593"), run["events"].get<size_t>());
  EXPECT_EQ(LogCount("ponylang__ponyc-4595"), 0u);
  CommandResult patches = Tink("log --json --type file.patch");
  EXPECT_EQ(std::count(patches.out.begin(), patches.out.end(), '\n'), 1);

  // --run and --base need one run.
  CommandResult three =
      Tink("import --format openhands --run x " + ShellQuote(Data("openhands/output.jsonl")));
  EXPECT_EQ(three.exit_code, 2);
  EXPECT_NE(three.err.find("--select"), std::string::npos) << three.err;
}

TEST_F(ImportCliTest, DryRunAppendsNothingAndUsageErrorsExit1) {
  CommandResult d = Tink("import --format openhands --dry-run " +
                         ShellQuote(Data("openhands/basic_gui_mode.json")));
  ASSERT_EQ(d.exit_code, 0) << d.err;
  EXPECT_NE(d.out.find("dry run, nothing appended"), std::string::npos) << d.out;
  CommandResult stats = Tink("stats --json");
  if (stats.exit_code == 0) {
    EXPECT_EQ(json::parse(stats.out)["events"], 0);
  }

  CommandResult fmt = Tink("import --format nosuch " + ShellQuote(Data("openhands/basic.json")));
  EXPECT_EQ(fmt.exit_code, 1);
  CommandResult none = Tink("import --format openhands");
  EXPECT_EQ(none.exit_code, 1);
  CommandResult help = RunCommand(std::string(TINK_BIN) + " import --help");
  EXPECT_EQ(help.exit_code, 0);
  for (const char* f : {"openhands", "swe-agent", "otlp", "jsonl", "already imported"}) {
    EXPECT_NE(help.out.find(f), std::string::npos) << f;
  }
}

TEST_F(ImportCliTest, JsonlFileImportsLikeAppend) {
  CommandResult a =
      Tink("import --format jsonl " + ShellQuote(Data("mini-swe-agent-github_issue.jsonl")));
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(LogCount("mini-swe-agent-github-issue"), 36u);
  CommandResult b =
      Tink("import --format jsonl " + ShellQuote(Data("mini-swe-agent-github_issue.jsonl")));
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_NE(b.out.find("already imported (run mini-swe-agent-github-issue, 36 events)"),
            std::string::npos)
      << b.out;
  EXPECT_EQ(LogCount(), 36u);
}

// Issue 14, item 9: well-formed JSON of the wrong shape, a --base that is a symlink loop, and a
// BASE.txt that points outside its folder are input errors: exit 2 and one line on stderr.
TEST_F(ImportCliTest, WrongShapesAndBadBaseExit2WithOneLine) {
  auto expect_one_line = [](const CommandResult& r, const std::string& want) {
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(r.err.rfind("tink import: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find(want), std::string::npos) << r.err;
  };
  const std::string traj = tmp_.Sub("bad.traj");
  json t = json::parse(testing::ReadFile(Data("swe-agent/swe-agent__test-repo-i1.traj")));
  t["trajectory"][0]["action"] = 5;
  std::ofstream(traj) << t.dump();
  expect_one_line(Tink("import --format swe-agent " + ShellQuote(traj)),
                  traj + ": trajectory[0]: field 'action'");

  // Aborted before: nlohmann's value("role", "") on a number.
  const std::string role = tmp_.Sub("role.traj");
  t = json::parse(testing::ReadFile(Data("swe-agent/swe-agent__test-repo-i1.traj")));
  t["history"][1]["role"] = 5;
  std::ofstream(role) << t.dump();
  CommandResult r = Tink("import --format swe-agent " + ShellQuote(role));
  EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 2) << r.exit_code << " " << r.err;
  EXPECT_EQ(r.err.find("terminate"), std::string::npos) << r.err;

  const std::string oh = tmp_.Sub("bad.json");
  json h = json::parse(testing::ReadFile(Data("openhands/basic.json")));
  for (json& ev : h) {
    if (ev.contains("observation")) ev["observation"] = json::array();
  }
  std::ofstream(oh) << h.dump();
  expect_one_line(Tink("import --format openhands " + ShellQuote(oh)), oh + ": ");

  const std::string loop = tmp_.Sub("loop");
  std::filesystem::create_symlink(loop, loop);
  expect_one_line(Tink("import --format swe-agent --base " + ShellQuote(loop) + " " +
                       ShellQuote(Data("swe-agent/swe-agent__test-repo-i1.traj"))),
                  "--base " + loop + ": ");

  const std::string base = tmp_.Sub("base");
  std::filesystem::create_directories(base);
  std::ofstream(base + "/BASE.txt")
      << "100644 3 e69de29bb2d1d6434b8b29ae775ad8c2e48c5391 ../../etc/passwd\n";
  expect_one_line(Tink("import --format swe-agent --base " + ShellQuote(base) + " " +
                       ShellQuote(Data("swe-agent/swe-agent__test-repo-i1.traj"))),
                  base + "/BASE.txt line 1: ");
  EXPECT_EQ(LogCount("swe-agent__test-repo-i1"), 0u);
}

}  // namespace
}  // namespace tink
