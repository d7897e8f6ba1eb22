// `tink shell` without a terminal, as scripts use it: -c in every format (json parses as one
// array, csv has a header row), several queries in one -c, a query error (exit 2, one line
// "error at L:C: ...", positions counted in the whole input), script files with dot-commands
// (.mode .output .schema .read .timer, unknown ones), queries piped on stdin, usage errors.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "support/run_command.h"
#include "support/temp_dir.h"

namespace tink {
namespace {

using nlohmann::json;
using testing::CommandResult;
using testing::ReadFile;
using testing::RunCommand;
using testing::ShellQuote;

class ShellCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Three custom events: LSN 1-3, with a comma and quotes in a string and a nested object.
    const std::string events =
        R"({"stream":"t/1","type":"x.test","id":"e1","data":{"n":1,"s":"plain"}})"
        "\n"
        R"({"stream":"t/1","type":"x.test","id":"e2","data":{"n":2,"s":"a,\"b\""}})"
        "\n"
        R"({"stream":"t/2","type":"x.other","id":"e3","data":{"n":3,"obj":{"k":[1,2]}}})"
        "\n";
    CommandResult r = Tink("append", events);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  CommandResult Tink(const std::string& args, const std::string& input = "") {
    return RunCommand(std::string(TINK_BIN) + " --store " + ShellQuote(store_) + " " + args, input);
  }
  CommandResult Shell(const std::string& query, const std::string& flags = "") {
    return Tink("shell " + flags + " -c " + ShellQuote(query));
  }
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = dir_.Sub(name);
    std::ofstream(path) << text;
    return path;
  }

  testing::TempDir dir_;
  std::string store_ = dir_.Sub("store");
};

TEST_F(ShellCliTest, EveryFormat) {
  const std::string q = "events | select lsn, type, stream | limit 2";
  CommandResult t = Shell(q);
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_EQ(t.out,
            "lsn  type    stream\n"
            "---  ------  ------\n"
            "  1  x.test  t/1\n"
            "  2  x.test  t/1\n");

  CommandResult j = Shell(q, "--format json");
  ASSERT_EQ(j.exit_code, 0) << j.err;
  json arr = json::parse(j.out);
  ASSERT_TRUE(arr.is_array());
  ASSERT_EQ(arr.size(), 2u);
  EXPECT_EQ(arr[1], json({{"lsn", 2}, {"type", "x.test"}, {"stream", "t/1"}}));

  CommandResult l = Shell(q, "--format jsonl");
  ASSERT_EQ(l.exit_code, 0) << l.err;
  EXPECT_EQ(l.out,
            "{\"lsn\":1,\"type\":\"x.test\",\"stream\":\"t/1\"}\n"
            "{\"lsn\":2,\"type\":\"x.test\",\"stream\":\"t/1\"}\n");

  CommandResult c = Shell("events | select lsn, data | limit 2", "--format csv");
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_EQ(c.out,
            "lsn,data\n"
            "1,\"{\"\"n\"\":1,\"\"s\"\":\"\"plain\"\"}\"\n"
            "2,\"{\"\"n\"\":2,\"\"s\"\":\"\"a,\\\"\"b\\\"\"\"\"}\"\n");

  CommandResult m = Shell(q, "--format markdown");
  ASSERT_EQ(m.exit_code, 0) << m.err;
  EXPECT_EQ(m.out,
            "| lsn | type | stream |\n"
            "|---|---|---|\n"
            "| 1 | x.test | t/1 |\n"
            "| 2 | x.test | t/1 |\n");
}

TEST_F(ShellCliTest, JsonOfAllEventsIsOneArray) {
  CommandResult r = Shell("events", "--format json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json arr = json::parse(r.out);
  ASSERT_TRUE(arr.is_array());
  ASSERT_EQ(arr.size(), 3u);
  EXPECT_EQ(arr[2]["data"]["obj"]["k"], json({1, 2}));
}

TEST_F(ShellCliTest, SeveralQueriesInOneCommand) {
  CommandResult r = Shell("events | count; .mode csv\nevents | select lsn | limit 1", "");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "count\n-----\n    3\nlsn\n1\n");
}

TEST_F(ShellCliTest, QueryErrorIsOneLineWithPositionAndExit2) {
  CommandResult r = Shell("events | where tpye == 'x'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(std::regex_match(r.err, std::regex("error at 1:16: unknown field 'tpye'.*\n")))
      << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;

  // The second query of the input: its line and column in the whole text; the first ran.
  r = Shell("events | count;\nevents | where tpye == 'x'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "count\n-----\n    3\n");
  EXPECT_TRUE(r.err.starts_with("error at 2:16: ")) << r.err;

  r = Shell("events | count; events | where tpye == 'x'");
  EXPECT_TRUE(r.err.starts_with("error at 1:32: ")) << r.err;

  r = Shell("nosuchsource");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(r.err.starts_with("error at 1:1: ")) << r.err;
}

TEST_F(ShellCliTest, ScriptFileWithDotCommands) {
  const std::string out = dir_.Sub("out.csv");
  const std::string inner = Write("inner.tql", "events | count;\n");
  const std::string script = Write("script.tql",
                                   ".mode csv\n"
                                   "events | where data.n >= 2\n"
                                   "  | select lsn, type\n"
                                   "\n"
                                   ".output " +
                                       out +
                                       "\n"
                                       "events | select lsn | limit 1;\n"
                                       ".output\n"
                                       ".mode jsonl\n"
                                       ".read " +
                                       inner +
                                       "\n"
                                       ".mode\n"
                                       ".quit\n"
                                       "events | count;\n");
  CommandResult r = Tink("shell " + ShellQuote(script));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "lsn,type\n2,x.test\n3,x.other\n"
            "{\"count\":3}\n"
            "jsonl\n");
  EXPECT_EQ(ReadFile(out), "lsn\n1\n");
}

TEST_F(ShellCliTest, ScriptStopsAtFirstErrorNamingTheFile) {
  const std::string script =
      Write("bad.tql", "events | count;\n\nevents | where tpye == 1;\nevents;\n");
  CommandResult r = Tink("shell " + ShellQuote(script));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "count\n-----\n    3\n");
  EXPECT_TRUE(r.err.starts_with(script + ": error at 3:16: ")) << r.err;
}

TEST_F(ShellCliTest, Schema) {
  CommandResult r = Shell(".schema events");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out.starts_with("events: ")) << r.out;
  EXPECT_NE(r.out.find("\n  lsn "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\n  data "), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("\nruns: "), std::string::npos) << r.out;

  r = Shell(".schema");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* s :
       {"events", "runs", "tasks", "files", "nodes", "edges", "anomalies", "segments"}) {
    EXPECT_NE(r.out.find(std::string(s) + ": "), std::string::npos) << s << "\n" << r.out;
  }
  r = Shell(".schema nope");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown source 'nope'"), std::string::npos) << r.err;
}

TEST_F(ShellCliTest, DotCommandErrors) {
  CommandResult r = Shell(".frobnicate");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "error: unknown command '.frobnicate' (.help lists them)\n");
  r = Shell(".mode xml");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown format 'xml'"), std::string::npos) << r.err;
  r = Shell(".read " + dir_.Sub("missing.tql"));
  EXPECT_EQ(r.exit_code, 2);
  r = Shell(".help");
  ASSERT_EQ(r.exit_code, 0);
  for (const char* c :
       {".help", ".mode", ".timer", ".read", ".output", ".schema", ".open", ".quit"}) {
    EXPECT_NE(r.out.find(c), std::string::npos) << c;
  }
}

TEST_F(ShellCliTest, TimerPrintsToStderr) {
  CommandResult r = Shell(".timer on\nevents | count");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "count\n-----\n    3\n");
  EXPECT_TRUE(std::regex_match(r.err, std::regex("time: [0-9.]+ s, 1 row\n"))) << r.err;
}

TEST_F(ShellCliTest, OpenAnotherStore) {
  const std::string other = dir_.Sub("other");
  CommandResult a = RunCommand(std::string(TINK_BIN) + " --store " + ShellQuote(other) + " append",
                               R"({"stream":"o","type":"x.test","data":{}})"
                               "\n");
  ASSERT_EQ(a.exit_code, 0) << a.err;
  CommandResult r = Shell("events | count; .open " + other + "\nevents | count");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "count\n-----\n    3\ncount\n-----\n    1\n");
  r = Shell(".open " + dir_.Sub("nowhere"));
  EXPECT_EQ(r.exit_code, 2);
}

TEST_F(ShellCliTest, QueriesFromStdin) {
  CommandResult r = Tink("shell --format csv", "events | count;\nevents | select lsn\n| limit 1\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "count\n3\nlsn\n1\n");
}

TEST_F(ShellCliTest, UsageAndStoreErrors) {
  EXPECT_EQ(Tink("shell --format xml -c 'events'").exit_code, 1);
  CommandResult r = RunCommand(std::string(TINK_BIN) + " --store " +
                               ShellQuote(dir_.Sub("nowhere")) + " shell -c 'events'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("tink shell: "), std::string::npos) << r.err;
  r = Tink("shell " + ShellQuote(dir_.Sub("missing.tql")));
  EXPECT_EQ(r.exit_code, 2);
  r = Tink("shell --help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--format"), std::string::npos);
}

}  // namespace
}  // namespace tink
