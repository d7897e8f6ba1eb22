// The JSONL reader: our own envelopes, checked as `tink append` checks them, grouped into runs,
// ids kept or derived from the line, and errors naming file, record, line and field.
#include <gtest/gtest.h>

#include "import/import_test_util.h"
#include "support/temp_dir.h"

namespace tink::import_test {
namespace {

using engine::import::ImportJsonl;
using engine::import::ImportOpenHands;
using engine::import::Options;

Options Jsonl() {
  Options o;
  o.format = "jsonl";
  return o;
}

// The envelope `tink append` reads for an event.
std::string Envelope(const schema::EventInput& e) {
  json j = {{"stream", e.stream}, {"type", e.type}};
  if (!e.id.empty()) j["id"] = e.id;
  if (!e.run.empty()) j["run"] = e.run;
  if (e.occurred_ns != 0) j["occurred"] = schema::FormatTime(e.occurred_ns);
  if (e.causation != 0) j["causation"] = e.causation;
  j["data"] = json::parse(e.data_json);
  return j.dump();
}

class JsonlImport : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = tmp_.Sub(name);
    WriteText(path, text);
    return path;
  }
  std::vector<ImportedRun> Must(const std::string& path, const Options& o = Jsonl()) {
    auto r = ImportJsonl(path, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : std::vector<ImportedRun>{};
  }
  std::string Error(const std::string& path, const Options& o = Jsonl()) {
    auto r = ImportJsonl(path, o);
    EXPECT_FALSE(r.ok());
    if (r.ok()) return "";
    EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
    EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status().message();
    return r.status().message();
  }
  testing::TempDir tmp_;
};

TEST_F(JsonlImport, ShippedRunReadsBackLineForLine) {
  const std::string path = DataPath("mini-swe-agent-github_issue.jsonl");
  auto runs = Must(path);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].run, "mini-swe-agent-github-issue");
  EXPECT_EQ(runs[0].source_id, "mini-swe-agent-github-issue");
  std::istringstream in(Slurp(path));
  std::string line;
  size_t i = 0;
  for (; std::getline(in, line); ++i) {
    ASSERT_LT(i, runs[0].events.size());
    auto want = schema::ParseEnvelopeJson(line);
    ASSERT_TRUE(want.ok());
    const auto& got = runs[0].events[i];
    EXPECT_EQ(got.id, want->id);
    EXPECT_EQ(got.stream, want->stream);
    EXPECT_EQ(got.type, want->type);
    EXPECT_EQ(got.run, want->run);
    EXPECT_EQ(json::parse(got.data_json), json::parse(want->data_json));
  }
  EXPECT_EQ(i, runs[0].events.size());
}

TEST_F(JsonlImport, RoundTripOfAnImportedOpenHandsRun) {
  Options oh;
  oh.format = "openhands";
  oh.select = "ponylang__ponyc-4595";
  auto orig = ImportOpenHands(DataPath("openhands/output.jsonl"), oh);
  ASSERT_TRUE(orig.ok()) << orig.status().ToString();
  std::string text;
  for (const auto& e : (*orig)[0].events) text += Envelope(e) + "\n";
  auto back = Must(Write("ponyc.jsonl", text));
  ASSERT_EQ(back.size(), 1u);
  const auto& a = (*orig)[0].events;
  const auto& b = back[0].events;
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].id, b[i].id);
    EXPECT_EQ(a[i].stream, b[i].stream);
    EXPECT_EQ(a[i].type, b[i].type);
    EXPECT_EQ(a[i].run, b[i].run);
    EXPECT_EQ(a[i].occurred_ns, b[i].occurred_ns);
    EXPECT_EQ(json::parse(a[i].data_json), json::parse(b[i].data_json));
  }
}

TEST_F(JsonlImport, GroupsByRunInOrderAndDerivesMissingIdsFromTheLine) {
  const std::string text =
      R"({"stream":"run/a","type":"run.started","run":"a","data":{"name":"A"}})"
      "\n"
      "\n"
      R"({"stream":"notes","type":"note","data":{"text":"no run"}})"
      "\r\n"
      R"({"stream":"run/b","type":"run.started","run":"b","id":"b-start"})"
      "\n"
      R"({"stream":"run/a/task/1","type":"task.created","run":"a","data":{"task":"1"}})"
      "\n";
  const std::string path = Write("mixed.events.jsonl", text);
  auto runs = Must(path);
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0].run, "a");
  EXPECT_EQ(runs[1].run, "");
  EXPECT_EQ(runs[2].run, "b");
  ASSERT_EQ(runs[0].events.size(), 2u);
  EXPECT_EQ(runs[0].events[0].id, "mixed/1");
  EXPECT_EQ(runs[0].events[1].id, "mixed/5");  // the line, blank lines counted
  EXPECT_EQ(runs[1].events[0].id, "mixed/3");
  EXPECT_EQ(runs[2].events[0].id, "b-start");  // kept
  // Deterministic: the same file gives the same ids.
  auto again = Must(path);
  EXPECT_EQ(again[0].events[1].id, "mixed/5");
}

TEST_F(JsonlImport, SelectAndRunRewriteOneRun) {
  const std::string text =
      R"({"stream":"run/a","type":"run.started","run":"a","id":"1"})"
      "\n"
      R"({"stream":"run/a/task/1","type":"task.created","run":"a","id":"2","data":{"task":"1"}})"
      "\n"
      R"({"stream":"run/ab","type":"note","run":"a","id":"3","data":{"text":"x"}})"
      "\n"
      R"({"stream":"memory/a","type":"note","run":"a","id":"4","data":{"text":"y"}})"
      "\n"
      R"({"stream":"run/b","type":"run.started","run":"b","id":"5"})"
      "\n";
  const std::string path = Write("two.jsonl", text);
  Options o = Jsonl();
  o.run = "new";
  std::string msg = Error(path, o);
  EXPECT_NE(msg.find("holds 2 runs"), std::string::npos) << msg;

  o.select = "a";
  auto runs = Must(path, o);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].run, "new");
  EXPECT_EQ(runs[0].source_id, "a");
  ASSERT_EQ(runs[0].events.size(), 4u);
  EXPECT_EQ(runs[0].events[0].stream, "run/new");
  EXPECT_EQ(runs[0].events[1].stream, "run/new/task/1");
  EXPECT_EQ(runs[0].events[2].stream, "run/ab");    // another run's prefix: untouched
  EXPECT_EQ(runs[0].events[3].stream, "memory/a");  // not a run stream
  for (const auto& e : runs[0].events) EXPECT_EQ(e.run, "new");
  EXPECT_EQ(runs[0].events[0].id, "1");  // ids kept

  Options missing = Jsonl();
  missing.select = "zzz";
  msg = Error(path, missing);
  EXPECT_NE(msg.find("no run 'zzz'"), std::string::npos) << msg;
}

TEST_F(JsonlImport, BadLinesNameFileRecordLineAndField) {
  const std::string good = R"({"stream":"run/a","type":"note","run":"a","data":{"text":"x"}})";
  std::string msg = Error(Write("colour.jsonl", good + "\n\n" +
                                                    R"({"stream":"s","type":"note","colour":1})"
                                                    "\n"));
  EXPECT_NE(msg.find("colour.jsonl: record 2 (line 3)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'colour'"), std::string::npos) << msg;

  msg = Error(Write("exit.jsonl", R"({"stream":"s","type":"tool.result","data":{"exit_code":"1"}})"
                                  "\n"));
  EXPECT_NE(msg.find("record 1 (line 1)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("field 'exit_code'"), std::string::npos) << msg;

  msg = Error(Write("cut.jsonl", good + "\n" + good.substr(0, 30) + "\n"));
  EXPECT_NE(msg.find("record 2 (line 2)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("malformed JSON"), std::string::npos) << msg;

  msg = Error(Write("dup.jsonl", R"({"stream":"s","type":"note","id":"x"})"
                                 "\n"
                                 R"({"stream":"t","type":"note","id":"x"})"
                                 "\n"));
  EXPECT_NE(msg.find("record 2 (line 2): field 'id': 'x' repeats the id of record 1"),
            std::string::npos)
      << msg;

  msg = Error(Write("empty.jsonl", "\n\n"));
  EXPECT_NE(msg.find("no events"), std::string::npos) << msg;

  Options base = Jsonl();
  base.base_dir = tmp_.path();
  msg = Error(Write("ok.jsonl", good + "\n"), base);
  EXPECT_NE(msg.find("--base"), std::string::npos) << msg;
}

}  // namespace
}  // namespace tink::import_test
