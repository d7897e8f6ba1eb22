// The MCP core (shell/mcp/mcp.h) on a small store: what a client sends that is wrong gets the
// JSON-RPC error the spec names (never a crash), each tool answers what the shell verb answers,
// and every call is recorded on mcp/SESSION — or, when recording fails, the answer is withheld.
#include "shell/mcp/mcp.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>

#include "engine/engine.h"
#include "engine/engine_test_util.h"
#include "shell/mcp/backend.h"
#include "shell/mcp/exec_tool.h"
#include "support/temp_dir.h"

namespace tink::mcp {
namespace {

using nlohmann::json;

class McpTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new tink::testing::TempDir();
    auto e = engine::Engine::Open(dir_->Sub("store"), engine::test::Fast());
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = e->release();
    backend_ = NewEngineBackend(engine_).release();
    auto ev = [](const char* stream, const char* type, json data, const char* run = "r1") {
      Json e;
      e["stream"] = stream;
      e["type"] = type;
      if (run[0] != 0) e["run"] = run;
      e["data"] = std::move(data);
      return e;
    };
    std::vector<Json> events = {
        ev("run/r1", "run.started", {{"name", "demo"}}),
        ev("run/r1/task/t1", "task.created", {{"task", "t1"}, {"name", "build"}}),
        ev("run/r1/task/t1", "task.started", {{"task", "t1"}}),
        ev("run/r1/task/t1", "tool.call",
           {{"task", "t1"}, {"call_id", "c1"}, {"tool", "bash"}, {"args", {{"command", "make"}}}}),
        ev("run/r1/task/t1", "tool.result",
           {{"task", "t1"}, {"call_id", "c1"}, {"tool", "bash"}, {"exit_code", 2}}),
        ev("run/r1/task/t1", "task.failed", {{"task", "t1"}, {"error", "make failed"}}),
        ev("run/r1/task/t1", "file.write",
           {{"task", "t1"}, {"path", "a.txt"}, {"content", "one\n"}, {"base", true}}),
        ev("run/r1/task/t1", "file.write",
           {{"task", "t1"}, {"path", "a.txt"}, {"content", "one\ntwo\n"}}),
        ev("memory/r1", "memory.node", {{"id", "n1"}, {"labels", {"A"}}}),
        ev("memory/r1", "memory.node", {{"id", "n2"}, {"labels", {"B"}}}),
        ev("memory/r1", "memory.edge", {{"src", "n1"}, {"rel", "R"}, {"dst", "n2"}}),
        ev("run/r2", "run.started", {{"name", "other"}}, "r2"),
    };
    auto lsns = backend_->Append(events);
    ASSERT_TRUE(lsns.ok()) << lsns.status().ToString();
    ASSERT_TRUE(engine_->WaitForProjections(lsns->back(), std::chrono::seconds(20)));
  }
  static void TearDownTestSuite() {
    delete backend_;
    (void)engine_->Close();
    delete engine_;
    delete dir_;
  }

  void SetUp() override {
    server_ = std::make_unique<McpServer>(backend_, ServerOptions{"test", {}});
    session_.id = NewSessionId();
  }

  // Sends one message; the parsed answer (null for none).
  json Send(std::string_view message) {
    Reply r = server_->Handle(message, &session_, nullptr);
    if (r.body.empty()) return nullptr;
    json j = json::parse(r.body, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.body;
    EXPECT_EQ(j["jsonrpc"], "2.0");
    return j;
  }
  json Call(const std::string& tool, const json& args, int id = 7) {
    json m = {{"jsonrpc", "2.0"},
              {"id", id},
              {"method", "tools/call"},
              {"params", {{"name", tool}, {"arguments", args}}}};
    json r = Send(m.dump());
    EXPECT_TRUE(r.contains("result")) << r.dump();
    return r["result"];
  }
  // The rows `tink shell --format json` would print for `statement`.
  static json Rows(const std::string& statement) {
    auto a = backend_->Query(statement, 100000, nullptr);
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    return json::parse(a->rows.dump());
  }
  static int ErrorCode(const json& answer) {
    return answer.contains("error") ? answer["error"]["code"].get<int>() : 0;
  }

  static tink::testing::TempDir* dir_;
  static engine::Engine* engine_;
  static Backend* backend_;
  std::unique_ptr<McpServer> server_;
  Session session_;
};

tink::testing::TempDir* McpTest::dir_ = nullptr;
engine::Engine* McpTest::engine_ = nullptr;
Backend* McpTest::backend_ = nullptr;

TEST_F(McpTest, InitializeNegotiatesTheVersion) {
  for (const char* v : {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"}) {
    json r = Send(json{
        {"jsonrpc", "2.0"},
        {"id", 1},
        {"method", "initialize"},
        {"params", {{"protocolVersion", v}, {"clientInfo", {{"name", "t"}, {"version", "9"}}}}}}
                      .dump());
    EXPECT_EQ(r["result"]["protocolVersion"], v);
  }
  json r = Send(
      R"({"jsonrpc":"2.0","id":"x","method":"initialize","params":{"protocolVersion":"1999-01-01"}})");
  EXPECT_EQ(r["id"], "x");
  EXPECT_EQ(r["result"]["protocolVersion"], kLatestProtocol);
  EXPECT_EQ(r["result"]["serverInfo"]["name"], "tinkerbell");
  EXPECT_TRUE(r["result"]["capabilities"].contains("tools"));
  EXPECT_TRUE(r["result"]["capabilities"].contains("resources"));
  EXPECT_TRUE(r["result"]["instructions"].is_string());
  EXPECT_EQ(ErrorCode(Send(R"({"jsonrpc":"2.0","id":2,"method":"initialize","params":{}})")),
            -32602);
  EXPECT_TRUE(Send(R"({"jsonrpc":"2.0","method":"notifications/initialized"})").is_null());
  EXPECT_EQ(Send(R"({"jsonrpc":"2.0","id":3,"method":"ping"})")["result"], json::object());
}

TEST_F(McpTest, BadMessagesGetJsonRpcErrors) {
  EXPECT_EQ(ErrorCode(Send("{not json")), -32700);
  EXPECT_EQ(ErrorCode(Send("")), -32700);
  EXPECT_EQ(ErrorCode(Send("\"a string\"")), -32600);
  EXPECT_EQ(ErrorCode(Send(R"({"jsonrpc":"1.0","id":1,"method":"ping"})")), -32600);
  EXPECT_EQ(ErrorCode(Send(R"({"id":1,"method":"ping"})")), -32600);
  EXPECT_EQ(ErrorCode(Send(R"({"jsonrpc":"2.0","id":null,"method":"ping"})")), -32600);
  EXPECT_EQ(ErrorCode(Send(R"({"jsonrpc":"2.0","id":1,"method":7})")), -32600);
  EXPECT_EQ(ErrorCode(Send(R"({"jsonrpc":"2.0","id":1,"method":"frobnicate"})")), -32601);
  EXPECT_EQ(ErrorCode(Send(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":[1]})")),
            -32602);
  EXPECT_EQ(ErrorCode(Send(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{}})")),
            -32602);
  json batch = Send(
      R"([{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"ping"}])");
  EXPECT_EQ(ErrorCode(batch), -32600);
  EXPECT_NE(batch["error"]["message"].get<std::string>().find("batch"), std::string::npos);
  // A client's response to nothing, and an unknown notification: no answer.
  EXPECT_TRUE(Send(R"({"jsonrpc":"2.0","id":5,"result":{}})").is_null());
  EXPECT_TRUE(Send(R"({"jsonrpc":"2.0","method":"notifications/whatever"})").is_null());
}

TEST_F(McpTest, DeepNestingAndHugeIdsAreRefusedOrEchoed) {
  std::string deep(100000, '[');
  EXPECT_EQ(ErrorCode(Send(deep)), -32700);
  std::string nested = R"({"jsonrpc":"2.0","id":1,"method":"ping","params":{"a":)" +
                       std::string(70, '[') + std::string(70, ']') + "}}";
  EXPECT_EQ(ErrorCode(Send(nested)), -32700);
  // 64 levels is fine.
  std::string ok = R"({"jsonrpc":"2.0","id":1,"method":"ping","params":{"a":)" +
                   std::string(60, '[') + std::string(60, ']') + "}}";
  EXPECT_EQ(ErrorCode(Send(ok)), 0);
  json r = Send(R"({"jsonrpc":"2.0","id":18446744073709551615,"method":"ping"})");
  EXPECT_EQ(r["id"], 18446744073709551615ull);
  std::string long_id(100000, 'x');
  r = Send(R"({"jsonrpc":"2.0","id":")" + long_id + R"(","method":"ping"})");
  EXPECT_EQ(r["id"], long_id);
  // A float id is not an MCP id: refused, answered with id null.
  r = Send(R"({"jsonrpc":"2.0","id":1.5,"method":"ping"})");
  EXPECT_EQ(ErrorCode(r), -32600);
  EXPECT_TRUE(r["id"].is_null());
}

// Mutated messages (bytes flipped, dropped, duplicated; cut short) are always answered with
// one JSON-RPC object, or nothing for a notification: never a crash, never a non-JSON line.
TEST_F(McpTest, MutatedMessagesAlwaysGetAWellFormedAnswer) {
  const std::vector<std::string> seeds = {
      R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","clientInfo":{"name":"f","version":"1"}}})",
      R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"query","arguments":{"query":"runs | select run","limit":5}}})",
      R"({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"timeline","arguments":{"task":"r1/t1","as_of":"4"}}})",
      R"({"jsonrpc":"2.0","id":"x","method":"resources/read","params":{"uri":"tinkerbell://run/r1/file/a.txt?as_of=7"}})",
      R"({"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"memory_path","arguments":{"a":"n1","b":"n2"}}})",
  };
  std::mt19937 rng(20261207);
  const std::string alphabet = "{}[]\":,\\0123456789 -eE.tfnul\x01\xff";
  int answered = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string m = seeds[rng() % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !m.empty(); ++e) {
      const size_t at = rng() % m.size();
      switch (rng() % 4) {
        case 0:
          m[at] = alphabet[rng() % alphabet.size()];
          break;
        case 1:
          m.erase(at, 1 + rng() % 8);
          break;
        case 2:
          m.insert(at, m.substr(at, 1 + rng() % 16));
          break;
        default:
          m.resize(at);
          break;
      }
    }
    Reply r = server_->Handle(m, &session_, nullptr);
    if (r.body.empty()) continue;
    json j = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(j.is_object()) << "input: " << m << "\nanswer: " << r.body;
    EXPECT_EQ(j["jsonrpc"], "2.0");
    EXPECT_TRUE(j.contains("result") != j.contains("error")) << r.body;
    ++answered;
  }
  EXPECT_GT(answered, 2000);
}

TEST_F(McpTest, ToolsListHasSchemas) {
  json r = Send(R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})")["result"];
  std::set<std::string> names;
  for (const json& t : r["tools"]) {
    names.insert(t["name"]);
    EXPECT_EQ(t["inputSchema"]["type"], "object") << t["name"];
    EXPECT_EQ(t["outputSchema"]["type"], "object") << t["name"];
    EXPECT_TRUE(t["description"].is_string());
  }
  EXPECT_EQ(names,
            (std::set<std::string>{"query", "why", "timeline", "report", "runs_diff", "canvas_diff",
                                   "canvas_blame", "memory_neighbors", "memory_path", "remember"}));
}

TEST_F(McpTest, UnknownToolAndBadArguments) {
  json r = Send(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"nope"}})");
  EXPECT_EQ(ErrorCode(r), -32602);
  EXPECT_NE(r["error"]["message"].get<std::string>().find("Unknown tool: nope"), std::string::npos);
  // exec is unknown unless enabled.
  EXPECT_EQ(
      ErrorCode(Send(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"exec"}})")),
      -32602);
  struct Case {
    const char* tool;
    json args;
    const char* says;
  };
  for (const Case& c :
       {Case{"query", json::object(), "missing argument 'query'"},
        Case{"query", {{"query", 5}}, "'query' must be a string"},
        Case{"query", {{"query", "runs"}, {"limit", 0}}, "from 1 to 10000"},
        Case{"query", {{"query", "runs"}, {"limit", "3"}}, "must be an integer"},
        Case{"query", {{"query", "runs"}, {"colour", 1}}, "unknown argument 'colour'"},
        Case{"timeline", json::object(), "either run or task"},
        Case{"query", {{"query", "runs | wher x"}}, "error at 1:8"},
        Case{"why", {{"task", "r1/nope"}}, "error at"},
        Case{"remember", json::object(), "nothing to remember"},
        Case{"remember", {{"nodes", {{{"id", "x"}, {"colour", 1}}}}}, "colour"},
        Case{"canvas_diff", {{"run", "r1"}, {"to", "3"}}, "'to' needs 'from'"}}) {
    json res = Call(c.tool, c.args);
    EXPECT_EQ(res["isError"], true) << c.tool << " " << c.args.dump();
    const std::string text = res["content"][0]["text"];
    EXPECT_NE(text.find(c.says), std::string::npos) << c.tool << ": " << text;
    EXPECT_FALSE(res.contains("structuredContent"));
  }
}

TEST_F(McpTest, QueryToolAnswersRowsAndTruncates) {
  json res =
      Call("query", {{"query", "events | where run == 'r1' | select lsn, type"}, {"limit", 3}});
  EXPECT_EQ(res["isError"], false);
  const json& s = res["structuredContent"];
  EXPECT_EQ(s["truncated"], true);
  json all = Rows("events | where run == 'r1' | select lsn, type");
  ASSERT_GT(all.size(), 3u);
  EXPECT_EQ(s["rows"], json(std::vector<json>(all.begin(), all.begin() + 3)));
  // The text block is the structured content as JSON.
  EXPECT_EQ(json::parse(res["content"][0]["text"].get<std::string>()), s);
  res = Call("query", {{"query", "runs | where run in ['r1', 'r2'] | select run | sort run"}});
  EXPECT_EQ(res["structuredContent"]["truncated"], false);
  EXPECT_EQ(res["structuredContent"]["rows"], json::parse(R"([{"run":"r1"},{"run":"r2"}])"));
}

TEST_F(McpTest, VerbToolsEqualTheShell) {
  struct Case {
    const char* tool;
    json args;
    const char* statement;
  };
  for (const Case& c :
       {Case{"why", {{"task", "r1/t1"}}, "why r1/t1"},
        Case{"timeline", {{"run", "r1"}}, "timeline r1"},
        Case{"timeline", {{"task", "r1/t1"}, {"as_of", "4"}}, "timeline r1/t1 as of 4"},
        Case{"runs_diff", {{"a", "r1"}, {"b", "r2"}}, "diff r1 r2"},
        Case{"canvas_blame", {{"run", "r1"}, {"path", "a.txt"}}, "blame a.txt --run r1"},
        Case{"memory_neighbors", {{"node", "n1"}}, "neighbors n1"},
        Case{"memory_path", {{"a", "n1"}, {"b", "n2"}, {"depth", 2}}, "path n1 n2 depth 2"}}) {
    json res = Call(c.tool, c.args);
    ASSERT_EQ(res["isError"], false) << c.tool << ": " << res.dump();
    json want = Rows(c.statement);
    EXPECT_FALSE(want.empty()) << c.statement;
    EXPECT_EQ(res["structuredContent"]["rows"], want) << c.tool;
  }
  json rel = Call("memory_neighbors", {{"node", "n1"}, {"rel", "OTHER"}});
  EXPECT_EQ(rel["structuredContent"]["rows"], json::array());
}

TEST_F(McpTest, CanvasDiffAndReport) {
  json res = Call("canvas_diff", {{"run", "r1"}});
  ASSERT_EQ(res["isError"], false) << res.dump();
  const std::string diff = res["structuredContent"]["diff"];
  EXPECT_NE(diff.find("+two"), std::string::npos) << diff;
  res = Call("report", {{"run", "r1"}});
  ASSERT_EQ(res["isError"], false) << res.dump();
  EXPECT_TRUE(res["structuredContent"].is_object());
  res = Call("report", {{"run", "no-such-run"}});
  EXPECT_EQ(res["isError"], true);
}

TEST_F(McpTest, RememberAppendsWithProvenanceAndCallsAreRecorded) {
  Send(
      R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","clientInfo":{"name":"gtest","version":"1.2"}}})");
  json res = Call("remember", {{"nodes", {{{"id", "fact:x"}, {"labels", {"Fact"}}}}},
                               {"edges", {{{"src", "fact:x"}, {"rel", "ABOUT"}, {"dst", "n1"}}}}});
  ASSERT_EQ(res["isError"], false) << res.dump();
  const json& s = res["structuredContent"];
  ASSERT_EQ(s["lsns"].size(), 2u);
  const uint64_t call_lsn = s["call_lsn"];
  EXPECT_GT(call_lsn, 0u);
  // The fact is in the graph, caused by the recorded call.
  json n = Call("memory_neighbors", {{"node", "fact:x"}});
  ASSERT_EQ(n["structuredContent"]["rows"].size(), 1u);
  EXPECT_EQ(n["structuredContent"]["rows"][0]["id"], "n1");
  const std::string stream = "mcp/" + session_.id;
  json rows = Rows("events | where stream == '" + stream + "' | select lsn, type, causation, data");
  ASSERT_GE(rows.size(), 6u) << rows.dump();
  EXPECT_EQ(rows[0]["type"], "note");
  EXPECT_NE(rows[0]["data"]["text"].get<std::string>().find("gtest 1.2"), std::string::npos);
  EXPECT_EQ(rows[1]["type"], "tool.call");
  EXPECT_EQ(rows[1]["data"]["tool"], "remember");
  EXPECT_EQ(rows[1]["lsn"], call_lsn);
  EXPECT_EQ(rows[2]["type"], "memory.node");
  EXPECT_EQ(rows[2]["causation"], call_lsn);
  EXPECT_EQ(rows[4]["type"], "tool.result");
  EXPECT_EQ(rows[4]["data"]["ok"], true);
  // The neighbors call after it: a call and a result in one append.
  EXPECT_EQ(rows[5]["type"], "tool.call");
  EXPECT_EQ(rows[5]["data"]["tool"], "memory_neighbors");
  EXPECT_EQ(rows[5]["data"]["args"], json({{"node", "fact:x"}}));
  // A failed call is recorded as failed.
  Call("why", {{"task", "r1/nope"}});
  rows = Rows("events | where stream == '" + stream + "' and type == 'tool.result' | select data");
  EXPECT_EQ(rows.back()["data"]["ok"], false);
  EXPECT_NE(rows.back()["data"]["error"].get<std::string>().find("error at"), std::string::npos);
}

TEST_F(McpTest, Resources) {
  json list = Send(R"({"jsonrpc":"2.0","id":1,"method":"resources/list"})")["result"]["resources"];
  ASSERT_GE(list.size(), 2u);  // r1, r2 (and rx when the exec test ran first)
  EXPECT_EQ(list[0]["uri"], "tinkerbell://run/r1");
  json t = Send(R"({"jsonrpc":"2.0","id":1,"method":"resources/templates/list"})")["result"];
  EXPECT_EQ(t["resourceTemplates"].size(), 2u);
  auto read = [&](const std::string& uri) {
    return Send(json{
        {"jsonrpc", "2.0"}, {"id", 3}, {"method", "resources/read"}, {"params", {{"uri", uri}}}}
                    .dump());
  };
  json r = read("tinkerbell://run/r1/file/a.txt");
  EXPECT_EQ(r["result"]["contents"][0]["text"], "one\ntwo\n");
  EXPECT_EQ(r["result"]["contents"][0]["mimeType"], "text/plain");
  r = read("tinkerbell://run/r1/file/a.txt?as_of=7");
  EXPECT_EQ(r["result"]["contents"][0]["text"], "one\n");
  r = read("tinkerbell://run/r1");
  json run = json::parse(r["result"]["contents"][0]["text"].get<std::string>());
  EXPECT_EQ(run["run"], "r1");
  EXPECT_EQ(run["timeline"], Rows("timeline r1"));
  EXPECT_EQ(ErrorCode(read("tinkerbell://run/r1/file/nope.txt")), -32002);
  EXPECT_EQ(ErrorCode(read("http://example.com/")), -32602);
  EXPECT_EQ(ErrorCode(read("tinkerbell://run/r1/file/a.txt?colour=1")), -32602);
  EXPECT_EQ(ErrorCode(read("tinkerbell://run/r1/file/%zz")), -32602);
}

// A backend whose appends fail: every answer is withheld, saying why.
class NoAppend final : public Backend {
 public:
  explicit NoAppend(Backend* real) : real_(real) {}
  Result<QueryAnswer> Query(const std::string& t, size_t l, const query::Cancel* c) override {
    return real_->Query(t, l, c);
  }
  Result<Json> Report(const std::string& run) override { return real_->Report(run); }
  Result<std::string> FileContent(const std::string& r, const std::string& p,
                                  const std::string& a) override {
    return real_->FileContent(r, p, a);
  }
  Result<std::vector<uint64_t>> Append(const std::vector<Json>&) override {
    return Status::IOError("disk on fire");
  }

 private:
  Backend* real_;
};

TEST_F(McpTest, AnAnswerThatCannotBeRecordedIsWithheld) {
  NoAppend backend(backend_);
  McpServer server(&backend, ServerOptions{});
  Reply r = server.Handle(
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"query","arguments":{"query":"runs"}}})",
      &session_, nullptr);
  json j = json::parse(r.body);
  EXPECT_EQ(j["result"]["isError"], true);
  const std::string text = j["result"]["content"][0]["text"];
  EXPECT_NE(text.find("withheld"), std::string::npos) << text;
  EXPECT_NE(text.find("disk on fire"), std::string::npos) << text;
  EXPECT_FALSE(j["result"].contains("structuredContent"));
  r = server.Handle(
      R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"remember","arguments":{"nodes":[{"id":"q"}]}}})",
      &session_, nullptr);
  j = json::parse(r.body);
  EXPECT_EQ(j["result"]["isError"], true);
  EXPECT_NE(j["result"]["content"][0]["text"].get<std::string>().find("not run"),
            std::string::npos);
}

TEST_F(McpTest, ExecToolIsListedOnlyWhenEnabled) {
  ServerOptions o;
  o.exec = [](const Json& args, const Session&) -> Result<Json> {
    return Json{{"exit_code", 0}, {"argv", args["command"]}};
  };
  McpServer server(backend_, o);
  Reply r = server.Handle(R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})", &session_, nullptr);
  EXPECT_NE(r.body.find("\"exec\""), std::string::npos);
  r = server.Handle(
      R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"exec","arguments":{"command":["true"]}}})",
      &session_, nullptr);
  json j = json::parse(r.body);
  EXPECT_EQ(j["result"]["isError"], false) << r.body;
  EXPECT_EQ(j["result"]["structuredContent"]["exit_code"], 0);
}

// The real executor: a command that writes a file in its workdir, through the exec tool.
TEST_F(McpTest, ExecToolRunsARecordedCommand) {
  ServerOptions o;
  o.exec = NewExecTool(
      [](std::span<const schema::EventInput> group) -> Result<std::vector<log::Lsn>> {
        ASSIGN_OR_RETURN(engine::AppendOutcome out, engine_->Append(group));
        return std::move(out.lsns);
      },
      {});
  McpServer server(backend_, o);
  tink::testing::TempDir work;
  json call = {{"jsonrpc", "2.0"},
               {"id", 1},
               {"method", "tools/call"},
               {"params",
                {{"name", "exec"},
                 {"arguments",
                  {{"command", {"sh", "-c", "echo out; echo made > f.txt; exit 3"}},
                   {"workdir", work.path()},
                   {"run", "rx"}}}}}};
  json j = json::parse(server.Handle(call.dump(), &session_, nullptr).body);
  ASSERT_EQ(j["result"]["isError"], false) << j.dump();
  const json& s = j["result"]["structuredContent"];
  EXPECT_EQ(s["run"], "rx");
  EXPECT_EQ(s["exit_code"], 3);
  EXPECT_EQ(s["failure"], "exit code 3");
  EXPECT_EQ(s["stdout"], "out\n");
  EXPECT_EQ(s["files_changed"], 1);
  auto file = backend_->FileContent("rx", "f.txt", "");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(*file, "made\n");
  json rows = Rows("tasks | where run == 'rx' | select state");
  EXPECT_EQ(rows, json::parse(R"([{"state":"failed"}])"));
  // Bad arguments and a command that cannot start are tool errors.
  call["params"]["arguments"] = {{"command", json::array()}};
  j = json::parse(server.Handle(call.dump(), &session_, nullptr).body);
  EXPECT_EQ(j["result"]["isError"], true);
  call["params"]["arguments"] = {{"command", {"no-such-command-for-mcp-test"}}, {"timeout", 5}};
  j = json::parse(server.Handle(call.dump(), &session_, nullptr).body);
  EXPECT_EQ(j["result"]["isError"], true);
  EXPECT_NE(j["result"]["content"][0]["text"].get<std::string>().find("not found"),
            std::string::npos);
  call["params"]["arguments"] = {{"command", {"true"}}, {"timeout", 99999}};
  j = json::parse(server.Handle(call.dump(), &session_, nullptr).body);
  EXPECT_EQ(j["result"]["isError"], true);
}

}  // namespace
}  // namespace tink::mcp
