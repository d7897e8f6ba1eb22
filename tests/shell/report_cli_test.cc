// `tink report` on a real failed run (OpenHands ponyc-4588, shipped in tests/data/agent-runs):
// every number it prints is recomputed here from `tink log --json` and `tink tasks --json`, so the
// report is checked against the log, not against itself.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "support/run_command.h"
#include "support/temp_dir.h"

namespace tink {
namespace {

using nlohmann::json;
using testing::CommandResult;
using testing::RunCommand;
using testing::ShellQuote;

constexpr const char* kRun = "ponylang__ponyc-4588";

class ReportCliTest : public ::testing::Test {
 protected:
  CommandResult Tink(const std::string& args) {
    return RunCommand(std::string(TINK_BIN) + " --store " + ShellQuote(store_) + " " + args);
  }
  void SetUp() override {
    std::string data = TINK_TEST_DATA;
    CommandResult r = Tink("import --format openhands " + ShellQuote(data + "/openhands/output.jsonl") +
                           " --select " + kRun + " --base " + ShellQuote(data + "/base/ponyc-4588"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // A second run that succeeded, imported later: the default report must still pick the failed one.
    r = Tink("import --format openhands " + ShellQuote(data + "/openhands/basic.json"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  std::vector<json> Events() {
    CommandResult r = Tink(std::string("log --json --run ") + kRun);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::vector<json> out;
    std::istringstream in(r.out);
    for (std::string l; std::getline(in, l);) out.push_back(json::parse(l));
    return out;
  }
  tink::testing::TempDir dir_;
  std::string store_ = dir_.path() + "/store";
};

TEST_F(ReportCliTest, JsonMatchesTheLog) {
  CommandResult r = Tink(std::string("report --json --run ") + kRun);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json rep = json::parse(r.out);
  EXPECT_EQ(rep["run"], kRun);
  EXPECT_EQ(rep["status"], "failed");
  EXPECT_NE(rep["error"].get<std::string>().find("maximum iteration"), std::string::npos);

  std::vector<json> events = Events();
  EXPECT_EQ(rep["events"].get<size_t>(), events.size());
  size_t results = 0;
  std::vector<uint64_t> failed;
  std::vector<std::string> warnings;
  for (const json& e : events) {
    if (e["type"] == "tool.result") {
      ++results;
      const json& d = e["data"];
      bool bad = (d.contains("ok") && d["ok"] == false) ||
                 (d.contains("exit_code") && d["exit_code"] != 0) ||
                 (d.contains("error") && !d["error"].get<std::string>().empty());
      if (bad) failed.push_back(e["lsn"].get<uint64_t>());
    }
    if (e["type"] == "note" && e["data"].value("kind", "") == "import_warning") {
      warnings.push_back(e["data"]["text"]);
    }
  }
  EXPECT_EQ(rep["tool_results"].get<size_t>(), results);
  ASSERT_EQ(rep["failed_tool_calls"].size(), failed.size());
  ASSERT_FALSE(failed.empty());
  for (size_t i = 0; i < failed.size(); ++i) {
    EXPECT_EQ(rep["failed_tool_calls"][i]["lsn"].get<uint64_t>(), failed[i]);
  }

  // Task counts agree with the scheduler.
  CommandResult t = Tink(std::string("tasks --json --run ") + kRun);
  ASSERT_EQ(t.exit_code, 0) << t.err;
  std::map<std::string, int> states;
  for (const json& task : json::parse(t.out)) ++states[task["state"]];
  for (const auto& [state, n] : states) EXPECT_EQ(rep["tasks"][state].get<int>(), n) << state;

  // The one file it changed, and the sed -i that the canvas cannot replay.
  ASSERT_EQ(rep["files"].size(), 1u);
  EXPECT_EQ(rep["files"][0]["path"], "src/libponyc/expr/match.c");
  EXPECT_EQ(rep["files"][0]["status"], "modified");
  EXPECT_EQ(rep["final_patch"], "differs from the canvas");
  EXPECT_EQ(rep["import_warnings"].size(), warnings.size());
  bool sed = false;
  for (const auto& w : warnings) sed = sed || w.find("sed -i") != std::string::npos;
  EXPECT_TRUE(sed) << "the sed -i of event 62 is reported";

  // The memory the importer added: counted from the run's memory events.
  size_t nodes = 0, edges = 0, files = 0;
  for (const json& e : events) {
    nodes += e["type"] == "memory.node";
    edges += e["type"] == "memory.edge";
    files += e["type"] == "memory.node" && e["data"]["labels"][0] == "File";
  }
  EXPECT_GT(nodes, 0u);
  EXPECT_EQ(rep["memory"]["nodes"], nodes);
  EXPECT_EQ(rep["memory"]["edges"], edges);
  EXPECT_EQ(rep["memory"]["labels"]["File"], files);
  EXPECT_EQ(files, 1u);  // match.c
}

TEST_F(ReportCliTest, TextPicksTheFailedRunAndNamesWhatToDoNext) {
  CommandResult r = Tink("report");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(std::string("Run ") + kRun + ": failed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Failed tool calls:"), std::string::npos);
  EXPECT_NE(r.out.find("src/libponyc/expr/match.c"), std::string::npos);
  EXPECT_NE(r.out.find("DIFFERS"), std::string::npos);
  EXPECT_NE(r.out.find("tink canvas diff --run"), std::string::npos);
  EXPECT_NE(r.out.find("\nMemory: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(std::string("tink memory neighbors run:") + kRun), std::string::npos);
}

TEST_F(ReportCliTest, UnknownRunIsExit2) {
  CommandResult r = Tink("report --run no-such-run");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no run 'no-such-run'"), std::string::npos) << r.err;
}

TEST_F(ReportCliTest, AsOfBeforeTheEndShowsTheRunUnfinished) {
  std::vector<json> events = Events();
  ASSERT_GT(events.size(), 10u);
  uint64_t mid = events[events.size() / 2]["lsn"];
  CommandResult r = Tink(std::string("report --json --run ") + kRun + " --as-of " + std::to_string(mid));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json rep = json::parse(r.out);
  EXPECT_NE(rep["status"], "failed");
  EXPECT_LE(rep["last_lsn"].get<uint64_t>(), mid);
}

}  // namespace
}  // namespace tink
