// `tink runs diff/list`, the shell verbs `diff RUN_A RUN_B` and `divergence RUN`, and the
// divergence section of `tink report` (docs/shell.md "tink runs", docs/replay.md "Comparing runs
// and reading divergences"), on runs appended here with `tink append`:
//   base   four llm calls, four tool calls, files a.py and b.py;
//   same   the same requests, calls and files under other ids (no divergence);
//   third  the third llm call's last message differs;
//   tools  the second tool differs, a.py deleted, b.py different, c.py new;
//   extra  an llm call inserted at position 1 (the alignment keeps the rest equal);
//   r2     a replay of base with two replay.divergence events (as the replay proxy writes them).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "support/run_command.h"
#include "support/temp_dir.h"
#include "support/tink_server.h"

namespace tink {
namespace {

using nlohmann::json;
using testing::CommandResult;
using testing::RunCommand;
using testing::ShellQuote;

struct RunSpec {
  std::string id;
  std::vector<std::string> prompts = {"p0", "p1", "p2", "p3"};
  std::vector<std::string> tools = {"bash", "bash", "bash", "bash"};
  std::vector<std::pair<std::string, std::string>> files = {{"a.py", "a = 1\n"},
                                                            {"b.py", "b = 1\n"}};
  std::vector<std::string> deletes;
  json params = {{"temperature", 0}};  // of every llm.request
};

std::string Events(const RunSpec& r) {
  std::string out;
  auto add = [&](const std::string& type, json data, bool task = true) {
    json e = {{"stream", "run/" + r.id + (task ? "/task/main" : "")},
              {"type", type},
              {"run", r.id},
              {"data", std::move(data)}};
    out += e.dump() + "\n";
  };
  add("run.started", {{"name", "fix " + r.id}, {"agent", "demo"}, {"model", "gpt-4o"}}, false);
  add("task.created", {{"task", "main"}, {"name", "solve"}});
  add("task.started", {{"task", "main"}});
  const size_t n = std::max(r.prompts.size(), r.tools.size());
  for (size_t i = 0; i < n; ++i) {
    if (i < r.prompts.size()) {
      json msgs = json::array({{{"role", "system"}, {"content", "be careful"}},
                               {{"role", "user"}, {"content", "fix it"}}});
      if (i > 0) {
        msgs.push_back({{"role", "assistant"}, {"content", "step"}});
        msgs.push_back({{"role", "user"}, {"content", r.prompts[i]}});
      }
      const std::string call = r.id + "-c" + std::to_string(i);
      add("llm.request", {{"task", "main"},
                          {"call_id", call},
                          {"model", "gpt-4o"},
                          {"messages", msgs},
                          {"params", r.params}});
      add("llm.response", {{"task", "main"}, {"call_id", call}, {"content", "ok"}});
    }
    if (i < r.tools.size()) {
      const std::string call = r.id + "-t" + std::to_string(i);
      add("tool.call", {{"task", "main"},
                        {"call_id", call},
                        {"tool", r.tools[i]},
                        {"args", {{"command", "ls " + std::to_string(i)}}}});
      add("tool.result", {{"task", "main"},
                          {"call_id", call},
                          {"tool", r.tools[i]},
                          {"output", ""},
                          {"exit_code", 0}});
    }
  }
  for (const auto& [path, content] : r.files) {
    add("file.write", {{"task", "main"}, {"path", path}, {"content", content}});
  }
  for (const std::string& path : r.deletes) add("file.delete", {{"task", "main"}, {"path", path}});
  add("task.succeeded", {{"task", "main"}});
  add("run.finished", {{"status", "succeeded"}}, false);
  return out;
}

const std::string kLong(300, 'x');

std::string ReplayEvents() {
  std::string out;
  out += json({{"stream", "run/r2"},
               {"type", "run.started"},
               {"run", "r2"},
               {"data", {{"name", "r2"}, {"agent", "replay"}, {"meta", {{"replay_of", "base"}}}}}})
             .dump() +
         "\n";
  const json req = {{"model", "gpt-4o"}, {"messages", json::array()}, {"params", json::object()}};
  out +=
      json({{"stream", "run/r2"},
            {"type", "replay.divergence"},
            {"run", "r2"},
            {"id", "r2/divergence/1"},
            {"data",
             {{"original", "base"},
              {"position", 1},
              {"endpoint", "/v1/chat/completions"},
              {"request", req},
              {"closest", {{"position", 1}, {"call_id", "base-c1"}, {"lsn", 7}}},
              {"differences",
               json::array(
                   {{{"path", "/messages/1/content"}, {"recorded", "fix it"}, {"actual", kLong}}})},
              {"reason", "request differs"}}}})
          .dump() +
      "\n";
  out += json({{"stream", "run/r2"},
               {"type", "replay.divergence"},
               {"run", "r2"},
               {"id", "r2/divergence/3"},
               {"data",
                {{"original", "base"},
                 {"position", 3},
                 {"endpoint", "/v1/chat/completions"},
                 {"request", req},
                 {"closest", nullptr},
                 {"differences", json::array()},
                 {"reason", "no recorded request left"}}}})
             .dump() +
         "\n";
  return out;
}

class RunsCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new tink::testing::TempDir();
    std::string in;
    in += Events(RunSpec{"base"});
    in += Events(RunSpec{"same"});
    RunSpec third{"third"};
    third.prompts[2] = "CHANGED";
    in += Events(third);
    RunSpec tools{"tools"};
    tools.tools[1] = "cargo";
    // tools writes a.py as base does, then deletes it.
    tools.files = {{"a.py", "a = 1\n"}, {"b.py", "b = 2\n"}, {"c.py", "c\n"}};
    tools.deletes = {"a.py"};
    in += Events(tools);
    RunSpec extra{"extra"};
    extra.prompts = {"p0", "NEW", "p1", "p2", "p3"};
    in += Events(extra);
    in += ReplayEvents();
    CommandResult r =
        RunCommand(std::string(TINK_BIN) + " --store " + ShellQuote(Store()) + " append", in);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::string Store() { return dir_->path() + "/store"; }

  CommandResult Tink(const std::string& args) {
    return RunCommand(std::string(TINK_BIN) + " --store " + ShellQuote(Store()) + " " + args);
  }
  json TinkJson(const std::string& args) {
    CommandResult r = Tink(args);
    EXPECT_EQ(r.exit_code, 0) << args << ": " << r.err;
    json j = json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.out;
    return j;
  }
  static std::vector<std::string> Marks(const json& calls) {
    std::vector<std::string> out;
    for (const json& c : calls) out.push_back(c["mark"]);
    return out;
  }

  static tink::testing::TempDir* dir_;
};

tink::testing::TempDir* RunsCliTest::dir_ = nullptr;

TEST_F(RunsCliTest, FirstDivergenceAtTheThirdLlmCall) {
  json d = TinkJson("runs diff base third --json");
  EXPECT_EQ(d["a"]["run"], "base");
  EXPECT_EQ(d["b"]["llm_calls"], 4);
  const json& f = d["first_divergence"];
  ASSERT_TRUE(f.is_object()) << d.dump(2);
  EXPECT_EQ(f["kind"], "llm");
  EXPECT_EQ(f["mark"], "changed");
  EXPECT_EQ(f["a"]["position"], 2);
  EXPECT_EQ(f["b"]["position"], 2);
  ASSERT_EQ(f["differences"].size(), 1u);
  EXPECT_EQ(f["differences"][0]["path"], "/messages/3/content");
  EXPECT_EQ(f["differences"][0]["a"], "p2");
  EXPECT_EQ(f["differences"][0]["b"], "CHANGED");
  EXPECT_EQ(Marks(d["llm"]["calls"]),
            (std::vector<std::string>{"equal", "equal", "changed", "equal"}));
  EXPECT_EQ(d["tools"]["counts"]["equal"], 4);
  EXPECT_EQ(d["files"]["counts"]["equal"], 2);

  CommandResult t = Tink("runs diff base third");
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_NE(t.out.find("First divergence: llm call A #2 / B #2: differs"), std::string::npos)
      << t.out;
  EXPECT_NE(t.out.find("/messages/3/content"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("B: \"CHANGED\""), std::string::npos) << t.out;
}

TEST_F(RunsCliTest, IdenticalRunsHaveNoDivergence) {
  json d = TinkJson("runs diff base same --json");
  EXPECT_TRUE(d["first_divergence"].is_null()) << d["first_divergence"].dump();
  EXPECT_EQ(Marks(d["llm"]["calls"]), std::vector<std::string>(4, "equal"));
  EXPECT_EQ(Marks(d["tools"]["calls"]), std::vector<std::string>(4, "equal"));
  EXPECT_EQ(Marks(d["files"]["files"]), std::vector<std::string>(2, "equal"));
  ASSERT_EQ(d["tasks"]["tasks"].size(), 1u);
  EXPECT_EQ(d["tasks"]["tasks"][0]["mark"], "equal");
  EXPECT_EQ(d["tasks"]["tasks"][0]["matched_by"], "id");
  CommandResult t = Tink("runs diff base same");
  EXPECT_NE(t.out.find("First divergence: none"), std::string::npos) << t.out;
}

TEST(RunsCliParamsTest, RequestsCompareAsAReplayMatchesThem) {
  tink::testing::TempDir dir;
  const std::string store = dir.Sub("store");
  RunSpec other_user{"other_user"};  // differs only in fields a replay ignores too
  other_user.params = {{"temperature", 0}, {"user", "u-42"}, {"metadata", {{"k", 1}}}};
  RunSpec seeded{"seeded"};
  seeded.params = {{"temperature", 0}, {"seed", 7}};
  const std::string in = Events(RunSpec{"base"}) + Events(other_user) + Events(seeded);
  const std::string tink = std::string(TINK_BIN) + " --store " + ShellQuote(store) + " ";
  ASSERT_EQ(RunCommand(tink + "append", in).exit_code, 0);
  auto diff = [&](const std::string& b) {
    CommandResult r = RunCommand(tink + "runs diff base " + b + " --json");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out, nullptr, false);
  };
  // The fields a replay ignores (docs/replay.md "Matching") make no difference here either.
  json d = diff("other_user");
  EXPECT_TRUE(d["first_divergence"].is_null()) << d["first_divergence"].dump();
  EXPECT_EQ(d["llm"]["counts"]["equal"], 4);
  // Any other field does.
  d = diff("seeded");
  const json& f = d["first_divergence"];
  ASSERT_TRUE(f.is_object()) << d.dump();
  EXPECT_EQ(f["kind"], "llm");
  ASSERT_FALSE(f["differences"].empty());
  EXPECT_EQ(f["differences"][0]["path"], "/params/seed");
}

TEST_F(RunsCliTest, DifferentToolsAndFiles) {
  json d = TinkJson("runs diff base tools --json");
  const json& f = d["first_divergence"];
  ASSERT_TRUE(f.is_object());
  // The second tool call (the run's 4th call) comes before the llm calls differ (they do not).
  EXPECT_EQ(f["kind"], "tool");
  EXPECT_EQ(f["a"]["position"], 1);
  ASSERT_FALSE(f["differences"].empty());
  EXPECT_EQ(f["differences"][0]["path"], "/tool");
  EXPECT_EQ(f["differences"][0]["a"], "bash");
  EXPECT_EQ(f["differences"][0]["b"], "cargo");
  EXPECT_EQ(d["llm"]["counts"]["equal"], 4);
  std::map<std::string, std::string> files;
  for (const json& x : d["files"]["files"]) files[x["path"]] = x["mark"];
  EXPECT_EQ(files, (std::map<std::string, std::string>{
                       {"a.py", "changed"}, {"b.py", "changed"}, {"c.py", "only_b"}}));
  for (const json& x : d["files"]["files"]) {
    if (x["path"] == "a.py") {
      EXPECT_EQ(x["b"]["deleted"], true);
    }
  }
  EXPECT_EQ(d["b"]["files"], 3);
}

TEST_F(RunsCliTest, AnInsertedCallIsOnlyInB) {
  json d = TinkJson("runs diff base extra --json");
  EXPECT_EQ(Marks(d["llm"]["calls"]),
            (std::vector<std::string>{"equal", "only_b", "equal", "equal", "equal"}));
  const json& f = d["first_divergence"];
  EXPECT_EQ(f["kind"], "llm");
  EXPECT_EQ(f["mark"], "only_b");
  EXPECT_TRUE(f["a"].is_null());
  EXPECT_EQ(f["b"]["position"], 1);
  // The calls after it are paired with their counterparts one position later.
  EXPECT_EQ(d["llm"]["calls"][2]["a"]["position"], 1);
  EXPECT_EQ(d["llm"]["calls"][2]["b"]["position"], 2);
}

TEST_F(RunsCliTest, BadArguments) {
  CommandResult r = Tink("runs diff base nope");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_NE(r.err.find("no run 'nope'"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(Tink("runs diff base").exit_code, 1);
  EXPECT_EQ(Tink("runs").exit_code, 1);
  r = RunCommand(std::string(TINK_BIN) + " runs diff base same --server http://127.0.0.1:9");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--server is not supported"), std::string::npos) << r.err;
  r = Tink("shell -c 'diff base nope'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no run 'nope'"), std::string::npos) << r.err;
  r = Tink("shell -c 'divergence nope'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no run 'nope'"), std::string::npos) << r.err;
  r = Tink("shell -c 'divergence same'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("not a replay"), std::string::npos) << r.err;
}

TEST_F(RunsCliTest, ShellVerbDiff) {
  json rows = TinkJson("shell --format json -c 'diff base third'");
  ASSERT_TRUE(rows.is_array());
  bool found = false;
  size_t llm = 0;
  for (const json& r : rows) {
    if (r["section"] == "first_divergence") {
      found = true;
      EXPECT_EQ(r["item"], "llm #2 #2");
      EXPECT_EQ(r["mark"], "changed");
      EXPECT_EQ(r["detail"], json::array({"/messages/3/content"}));
    }
    if (r["section"] == "llm") ++llm;
  }
  EXPECT_TRUE(found) << rows.dump();
  EXPECT_EQ(llm, 4u);
  // The canvas form of diff is still there.
  CommandResult c = Tink("shell -c 'diff --run tools b.py'");
  EXPECT_EQ(c.exit_code, 0) << c.err;
  EXPECT_NE(c.out.find("+b = 2"), std::string::npos) << c.out;
}

TEST_F(RunsCliTest, DivergenceVerbOfAReplay) {
  json rows = TinkJson("shell --format json -c 'divergence r2'");
  ASSERT_EQ(rows.size(), 2u) << rows.dump();
  EXPECT_EQ(rows[0]["run"], "r2");
  EXPECT_EQ(rows[0]["position"], 1);
  EXPECT_EQ(rows[0]["reason"], "request differs");
  EXPECT_EQ(rows[0]["closest_call"], "base-c1");
  EXPECT_EQ(rows[0]["closest_position"], 1);
  EXPECT_EQ(rows[0]["path"], "/messages/1/content");
  EXPECT_EQ(rows[0]["recorded"], "fix it");
  EXPECT_EQ(rows[0]["actual"], kLong);  // whole in JSON
  EXPECT_EQ(rows[1]["position"], 3);
  EXPECT_EQ(rows[1]["reason"], "no recorded request left");
  EXPECT_TRUE(rows[1]["closest_call"].is_null());
  EXPECT_TRUE(rows[1]["path"].is_null());

  CommandResult t = Tink("shell -c 'divergence r2'");
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_EQ(t.out.find(std::string(200, 'x')), std::string::npos) << "cut in a table";
  EXPECT_NE(t.out.find(std::string(199, 'x') + "…"), std::string::npos) << t.out;

  // The original: the divergences of every replay of it.
  json of_base = TinkJson("shell --format json -c 'divergence base'");
  EXPECT_EQ(of_base, rows);
}

TEST_F(RunsCliTest, ReportShowsTheDivergence) {
  json rep = TinkJson("report --run r2 --json");
  EXPECT_EQ(rep["replay_of"], "base");
  EXPECT_EQ(rep["divergences"], 2);
  EXPECT_EQ(rep["first_divergence"]["position"], 1);
  EXPECT_EQ(rep["first_divergence"]["differences"][0]["path"], "/messages/1/content");
  EXPECT_EQ(rep["first_divergence"]["differences"][0]["actual"], kLong);
  CommandResult t = Tink("report --run r2");
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_NE(t.out.find("Replay of base"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("Divergence: 2 requests did not match the recording of base"),
            std::string::npos)
      << t.out;
  EXPECT_NE(t.out.find("first at position 1"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("/messages/1/content"), std::string::npos) << t.out;

  json plain = TinkJson("report --run base --json");
  EXPECT_EQ(plain["replay_of"], "");
  EXPECT_EQ(plain["divergences"], 0);
  EXPECT_TRUE(plain["first_divergence"].is_null());
  t = Tink("report --run base");
  EXPECT_EQ(t.out.find("Divergence"), std::string::npos) << t.out;
  EXPECT_EQ(t.out.find("Replay of"), std::string::npos) << t.out;
}

TEST_F(RunsCliTest, RunsList) {
  json runs = TinkJson("runs list --json");
  std::map<std::string, json> by_id;
  for (const json& r : runs) by_id[r["run"]] = r;
  ASSERT_EQ(by_id.size(), 6u) << runs.dump();
  CommandResult log = Tink("log --json --run base");
  ASSERT_EQ(log.exit_code, 0);
  EXPECT_EQ(by_id["base"]["events"], std::count(log.out.begin(), log.out.end(), '\n'));
  EXPECT_EQ(by_id["base"]["llm_calls"], 4);
  EXPECT_EQ(by_id["base"]["tool_calls"], 4);
  EXPECT_EQ(by_id["base"]["status"], "succeeded");
  EXPECT_EQ(by_id["extra"]["llm_calls"], 5);
  EXPECT_EQ(by_id["r2"]["replay_of"], "base");
  EXPECT_EQ(by_id["r2"]["divergences"], 2);
  CommandResult t = Tink("runs list");
  EXPECT_NE(t.out.find("(replay of base)"), std::string::npos) << t.out;
}

// The daemon answers /v1/runs/R/report and /v1/query with the same code: a report and the verbs
// over --server print what they print locally (the local reads open the store read-only beside
// the daemon).
TEST_F(RunsCliTest, OverADaemon) {
  tink::testing::TinkServer server(TINK_BIN);
  tink::testing::ServerOptions o;
  o.store = Store();
  ASSERT_TRUE(server.Start(o)) << server.error();
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port());
  for (const std::string args :
       {"report --run r2", "report --run r2 --json", "shell --format json -c 'divergence r2'",
        "shell --format json -c 'diff base third'"}) {
    CommandResult local = Tink(args);
    CommandResult remote = Tink("--server " + url + " " + args);
    ASSERT_EQ(local.exit_code, 0) << args << ": " << local.err;
    ASSERT_EQ(remote.exit_code, 0) << args << ": " << remote.err;
    EXPECT_EQ(local.out, remote.out) << args;
  }
  // Local runs diff beside the daemon.
  EXPECT_EQ(Tink("runs diff base third --json").exit_code, 0);
}

}  // namespace
}  // namespace tink
