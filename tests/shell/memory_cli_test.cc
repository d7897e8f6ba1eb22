// `tink memory` as a user drives it: on an imported SWE-agent run (the graph the importer adds,
// docs/import.md "Memory") and on a store built with `tink append` of memory events (a
// replacement, retractions, a cascade, valid times, an anomaly), every subcommand in text and
// --json, as of a past LSN vs the head, and the exit codes for bad input.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "support/run_command.h"
#include "support/temp_dir.h"

namespace tink {
namespace {

using nlohmann::json;
using testing::CommandResult;
using testing::RunCommand;
using testing::ShellQuote;

const std::string kRun = "marshmallow-code__marshmallow-1867";
const std::string kFields = "file:" + kRun + "/src/marshmallow/fields.py";
const std::string kRepro = "file:" + kRun + "/reproduce.py";
const std::string kStep7 = "task:" + kRun + "/step-7";

class MemoryCliTest : public ::testing::Test {
 protected:
  CommandResult Tink(const std::string& args, const std::string& input = "") {
    return RunCommand(std::string(TINK_BIN) + " --store " + ShellQuote(store_) + " " + args, input);
  }
  // Runs a command that must succeed and print one JSON document.
  json Json(const std::string& args) {
    CommandResult r = Tink(args);
    EXPECT_EQ(r.exit_code, 0) << args << "\n" << r.err;
    json j = json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(j.is_discarded()) << args << ": not one JSON document:\n" << r.out;
    return j;
  }
  void ImportMarshmallow() {
    const std::string data = TINK_TEST_DATA;
    CommandResult r =
        Tink("import --format swe-agent --base " + ShellQuote(data + "/base/marshmallow-1867") +
             " " + ShellQuote(data + "/swe-agent/" + kRun + ".traj"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  // The LSN of the memory event that asserted node or edge `id`.
  uint64_t LsnOf(const std::string& id) {
    CommandResult r = Tink("log --json --stream " + ShellQuote("run/" + kRun + "/memory"));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::istringstream in(r.out);
    for (std::string l; std::getline(in, l);) {
      json e = json::parse(l);
      if (e["data"]["id"] == id) return e["lsn"];
    }
    ADD_FAILURE() << "no memory event for " << id;
    return 0;
  }
  // One memory event appended on its own (so it has its own LSN).
  void Add(const std::string& type, json data) {
    json e = {{"stream", "memory/x"}, {"type", type}, {"run", "x"}, {"data", std::move(data)}};
    CommandResult r = Tink("append", e.dump() + "\n");
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  // LSN 1-3 nodes a, b, c; 4 a-KNOWS->b valid [2026-01-01, 2026-06-01); 5 b-KNOWS->c; 6 a
  // replaced; 7 a|KNOWS|b retracted; 8 an edge to an unknown node (anomaly); 9 c retracted
  // (cascading to b|KNOWS|c).
  void BuildHistory() {
    Add("memory.node", {{"id", "a"}, {"labels", {"Person"}}, {"props", json::object()}});
    Add("memory.node", {{"id", "b"}, {"labels", {"Person"}}, {"props", {{"age", 40}}}});
    Add("memory.node", {{"id", "c"}, {"labels", {"City"}}, {"props", json::object()}});
    Add("memory.edge", {{"src", "a"},
                        {"rel", "KNOWS"},
                        {"dst", "b"},
                        {"props", {{"since", 2020}}},
                        {"valid_from", "2026-01-01T00:00:00Z"},
                        {"valid_to", "2026-06-01T00:00:00Z"}});
    Add("memory.edge", {{"src", "b"}, {"rel", "LIVES_IN"}, {"dst", "c"}});
    Add("memory.node", {{"id", "a"}, {"labels", {"Person"}}, {"props", {{"age", 31}}}});
    Add("memory.retract", {{"target", "a|KNOWS|b"}, {"kind", "edge"}, {"reason", "wrong"}});
    Add("memory.edge", {{"src", "a"}, {"rel", "KNOWS"}, {"dst", "z"}});
    Add("memory.retract", {{"target", "c"}, {"kind", "node"}, {"reason", "gone"}});
  }

  testing::TempDir tmp_;
  std::string store_ = tmp_.Sub("store");
};

std::set<std::string> Ids(const json& arr) {
  std::set<std::string> ids;
  for (const json& n : arr) ids.insert(n["id"].get<std::string>());
  return ids;
}

TEST_F(MemoryCliTest, NodeOfAnImportedRun) {
  ImportMarshmallow();
  json n = Json("memory node " + ShellQuote(kFields) + " --json");
  EXPECT_EQ(n["id"], kFields);
  EXPECT_EQ(n["labels"], json::array({"File"}));
  EXPECT_EQ(n["props"]["path"], "src/marshmallow/fields.py");
  EXPECT_EQ(n["run"], kRun);
  EXPECT_EQ(n["lsn"], LsnOf(kFields));
  EXPECT_EQ(n["event_id"], kRun + "/memory/node/" + kFields);

  CommandResult text = Tink("memory node " + ShellQuote(kFields));
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("labels  File\n"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("lsn     " + std::to_string(LsnOf(kFields)) + "\n"), std::string::npos);

  // As of the LSN before it was asserted, the file was not known yet: exit 2, saying when it was.
  const uint64_t at = LsnOf(kFields);
  CommandResult before =
      Tink("memory node " + ShellQuote(kFields) + " --as-of " + std::to_string(at - 1));
  EXPECT_EQ(before.exit_code, 2);
  EXPECT_NE(before.err.find("is not known as of LSN " + std::to_string(at - 1) +
                            " (first asserted at LSN " + std::to_string(at) + ")"),
            std::string::npos)
      << before.err;
  EXPECT_EQ(
      Json("memory node " + ShellQuote(kFields) + " --json --as-of " + std::to_string(at))["id"],
      kFields);
}

TEST_F(MemoryCliTest, NeighborsFollowRelsDirectionsAndLabels) {
  ImportMarshmallow();
  // Who modified fields.py: step 7, reached along its MODIFIES edge.
  json in = Json("memory neighbors " + ShellQuote(kFields) + " --dir in --json");
  ASSERT_EQ(in.size(), 1u) << in;
  EXPECT_EQ(in[0]["id"], kStep7);
  EXPECT_EQ(in[0]["depth"], 1);
  EXPECT_EQ(in[0]["via"]["rel"], "MODIFIES");
  EXPECT_EQ(in[0]["via"]["props"]["kind"], "patch");

  // The files of the run: two hops out from the run, File nodes only.
  json files =
      Json("memory neighbors " + ShellQuote("run:" + kRun) + " --depth 2 --label File --json");
  EXPECT_EQ(Ids(files), (std::set<std::string>{kFields, kRepro}));
  for (const json& f : files) EXPECT_EQ(f["depth"], 2);
  // As of before fields.py's node, only reproduce.py.
  json early = Json("memory neighbors " + ShellQuote("run:" + kRun) +
                    " --depth 2 --label File --json --as-of " + std::to_string(LsnOf(kFields) - 1));
  EXPECT_EQ(Ids(early), std::set<std::string>{kRepro});

  // The rejected edit: step 6 FAILED_ON the edit tool; --rel filters, repeatable.
  json failed = Json("memory neighbors tool:edit --dir in --rel FAILED_ON --json");
  EXPECT_EQ(Ids(failed), std::set<std::string>{"task:" + kRun + "/step-6"});
  json both = Json("memory neighbors tool:edit --dir in --rel FAILED_ON --rel USES --json");
  EXPECT_EQ(Ids(both),
            (std::set<std::string>{"task:" + kRun + "/step-6", "task:" + kRun + "/step-7"}));

  CommandResult text = Tink("memory neighbors " + ShellQuote(kFields) + " --dir in --depth 2");
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("DEPTH  NODE"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("-[MODIFIES]-> " + kFields), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("2 nodes within 2 hops of " + kFields), std::string::npos) << text.out;
}

TEST_F(MemoryCliTest, PathAboutNodesAndHistoryOfAnImportedRun) {
  ImportMarshmallow();
  json p = Json("memory path " + ShellQuote("run:" + kRun) + " " + ShellQuote(kFields) + " --json");
  EXPECT_EQ(p["found"], true);
  EXPECT_EQ(p["hops"], 2);
  ASSERT_EQ(p["edges"].size(), 2u);
  EXPECT_EQ(p["edges"][0]["id"], "run:" + kRun + "|HAS_TASK|" + kStep7);
  EXPECT_EQ(p["edges"][1]["id"], kStep7 + "|MODIFIES|" + kFields);
  // Against the edges' direction there is none (exit 0), unless both ways are allowed.
  json none =
      Json("memory path " + ShellQuote(kFields) + " " + ShellQuote("run:" + kRun) + " --json");
  EXPECT_EQ(none["found"], false);
  EXPECT_EQ(none["edges"], json::array());
  CommandResult none_text =
      Tink("memory path " + ShellQuote(kFields) + " " + ShellQuote("run:" + kRun));
  EXPECT_EQ(none_text.exit_code, 0);
  EXPECT_NE(none_text.out.find("no path from " + kFields), std::string::npos) << none_text.out;
  json back = Json("memory path " + ShellQuote(kFields) + " " + ShellQuote("run:" + kRun) +
                   " --dir both --json");
  EXPECT_EQ(back["hops"], 2);
  CommandResult walk = Tink("memory path " + ShellQuote(kFields) + " tool:edit --dir both");
  ASSERT_EQ(walk.exit_code, 0) << walk.err;
  EXPECT_NE(walk.out.find("<-[MODIFIES]-"), std::string::npos) << walk.out;
  EXPECT_NE(walk.out.find("2 hops from " + kFields + " to tool:edit"), std::string::npos);

  json about = Json("memory about " + ShellQuote(kStep7) + " --json");
  EXPECT_EQ(about["node"]["id"], kStep7);
  std::set<std::string> out;
  for (const json& e : about["out"])
    out.insert(e["rel"].get<std::string>() + " " + e["dst"].get<std::string>());
  EXPECT_EQ(out, (std::set<std::string>{"MODIFIES " + kFields, "SUBTASK_OF task:" + kRun + "/agent",
                                        "USES tool:edit"}));
  ASSERT_EQ(about["in"].size(), 1u);
  EXPECT_EQ(about["in"][0]["src"], "run:" + kRun);
  EXPECT_EQ(about["valid_at"], nullptr);
  CommandResult about_text = Tink("memory about " + ShellQuote(kStep7));
  ASSERT_EQ(about_text.exit_code, 0);
  EXPECT_NE(about_text.out.find("out (3):"), std::string::npos) << about_text.out;
  EXPECT_NE(about_text.out.find("in (1):"), std::string::npos) << about_text.out;

  // Every tool the run called is a Tool node.
  std::set<std::string> tools;
  CommandResult calls = Tink("log --json --type tool.call");
  std::istringstream in(calls.out);
  for (std::string l; std::getline(in, l);)
    tools.insert("tool:" + json::parse(l)["data"]["tool"].get<std::string>());
  EXPECT_EQ(Ids(Json("memory nodes --label Tool --json")), tools);
  EXPECT_EQ(Json("memory nodes --label Tool --limit 2 --json").size(), 2u);
  CommandResult nodes = Tink("memory nodes --label File");
  EXPECT_NE(nodes.out.find("ID "), std::string::npos);
  EXPECT_NE(nodes.out.find(kFields), std::string::npos);
  EXPECT_NE(Tink("memory nodes --label Nope").out.find("no Nope nodes"), std::string::npos);

  json h = Json("memory history " + ShellQuote(kFields) + " --json");
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0]["ended_by"], nullptr);
  EXPECT_EQ(h[0]["retracted"], false);
  json anomalies = Json("memory anomalies --json");
  EXPECT_EQ(anomalies, json::array());  // the importer's graph is well-formed
}

TEST_F(MemoryCliTest, HistorySaysWhatEndedEachVersion) {
  BuildHistory();
  json a = Json("memory history a --json");
  ASSERT_EQ(a.size(), 2u) << a;
  EXPECT_EQ(a[0]["lsn"], 1);
  EXPECT_EQ(a[0]["props"], json::object());
  EXPECT_EQ(a[0]["ended_by"]["lsn"], 6);
  EXPECT_EQ(a[0]["ended_by"]["how"], "superseded");
  EXPECT_EQ(a[1]["props"]["age"], 31);
  EXPECT_EQ(a[1]["ended_by"], nullptr);

  json ab = Json("memory history --edge 'a|KNOWS|b' --json");
  ASSERT_EQ(ab.size(), 2u) << ab;
  EXPECT_EQ(ab[0]["valid_from"], "2026-01-01T00:00:00.000000000Z");
  EXPECT_EQ(ab[0]["ended_by"]["lsn"], 7);
  EXPECT_EQ(ab[0]["ended_by"]["how"], "retracted");
  EXPECT_EQ(ab[0]["ended_by"]["reason"], "wrong");
  EXPECT_EQ(ab[0]["ended_by"]["run"], "x");
  EXPECT_EQ(ab[1]["retracted"], true);

  // Retracting c retracted its edge too, at the same LSN.
  json bc = Json("memory history --edge 'b|LIVES_IN|c' --json");
  ASSERT_EQ(bc.size(), 2u) << bc;
  EXPECT_EQ(bc[0]["ended_by"]["lsn"], 9);
  EXPECT_EQ(bc[0]["ended_by"]["reason"], "node c retracted: gone");

  CommandResult text = Tink("memory history --edge 'a|KNOWS|b'");
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("retracted at LSN 7"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("retracted: wrong"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("asserted a -[KNOWS]-> b {\"since\":2020} valid [2026-01-01"),
            std::string::npos)
      << text.out;
  CommandResult node_text = Tink("memory history a");
  EXPECT_NE(node_text.out.find("superseded at LSN 6"), std::string::npos) << node_text.out;
}

TEST_F(MemoryCliTest, AsOfAndValidAtAgainstTheHead) {
  BuildHistory();
  // As of LSN 5 a knew b, and through b, c.
  json then = Json("memory neighbors a --depth 2 --as-of 5 --json");
  EXPECT_EQ(Ids(then), (std::set<std::string>{"b", "c"}));
  // Now the edge is retracted and c is gone.
  EXPECT_EQ(Json("memory neighbors a --depth 2 --json"), json::array());
  // Valid time: the edge held from January to June 2026.
  EXPECT_EQ(Ids(Json("memory neighbors a --as-of 5 --valid-at 2026-03-01T00:00:00Z --json")),
            std::set<std::string>{"b"});
  EXPECT_EQ(Json("memory neighbors a --as-of 5 --valid-at 2026-07-01T00:00:00Z --json"),
            json::array());
  json about = Json("memory about a --as-of 5 --valid-at 2026-03-01T00:00:00Z --json");
  EXPECT_EQ(about["as_of"], 5);
  EXPECT_EQ(about["valid_at"], "2026-03-01T00:00:00.000000000Z");
  ASSERT_EQ(about["out"].size(), 1u);
  EXPECT_EQ(about["out"][0]["props"]["since"], 2020);

  json p = Json("memory path a c --as-of 5 --json");
  EXPECT_EQ(p["hops"], 2);
  CommandResult gone = Tink("memory path a c");
  EXPECT_EQ(gone.exit_code, 2);
  EXPECT_NE(gone.err.find("node 'c' was retracted at LSN 9 (gone)"), std::string::npos) << gone.err;

  EXPECT_EQ(Json("memory node a --as-of 5 --json")["props"], json::object());
  EXPECT_EQ(Json("memory node a --json")["props"]["age"], 31);
  // A time before the first event: nothing was known.
  CommandResult early = Tink("memory node a --as-of 2000-01-01T00:00:00Z");
  EXPECT_EQ(early.exit_code, 2);
  EXPECT_NE(early.err.find("not known as of LSN 0"), std::string::npos) << early.err;

  EXPECT_EQ(Ids(Json("memory nodes --json")), (std::set<std::string>{"a", "b"}));
  EXPECT_EQ(Ids(Json("memory nodes --as-of 5 --json")), (std::set<std::string>{"a", "b", "c"}));

  json an = Json("memory anomalies --json");
  ASSERT_EQ(an.size(), 1u) << an;
  EXPECT_EQ(an[0]["lsn"], 8);
  EXPECT_EQ(an[0]["run"], "x");
  EXPECT_EQ(Json("memory anomalies --as-of 7 --json"), json::array());
  CommandResult an_text = Tink("memory anomalies");
  EXPECT_NE(an_text.out.find("LSN  RUN"), std::string::npos) << an_text.out;
  EXPECT_NE(Tink("memory anomalies --as-of 7").out.find("no anomalies, as of LSN 7"),
            std::string::npos);
}

TEST_F(MemoryCliTest, BadInputExitCodes) {
  BuildHistory();
  for (const char* cmd : {"node nope", "neighbors nope", "path a nope", "path nope a", "about nope",
                          "history nope", "history --edge 'a|nope|b'"}) {
    CommandResult r = Tink(std::string("memory ") + cmd);
    EXPECT_EQ(r.exit_code, 2) << cmd << ": " << r.err;
    EXPECT_NE(r.err.find("nope"), std::string::npos) << cmd << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
  }
  CommandResult past = Tink("memory node a --as-of 999");
  EXPECT_EQ(past.exit_code, 2);
  EXPECT_NE(past.err.find("past the memory graph's last LSN 9"), std::string::npos) << past.err;
  EXPECT_EQ(Tink("memory node a --as-of yesterday").exit_code, 2);
  CommandResult valid = Tink("memory about a --valid-at soon");
  EXPECT_EQ(valid.exit_code, 2);
  EXPECT_NE(valid.err.find("--valid-at"), std::string::npos) << valid.err;

  // Usage: exit 1.
  for (const char* cmd : {"", "bogus", "node", "path a", "neighbors a --dir sideways",
                          "neighbors a --depth 0", "nodes --limit 0", "node a --nope"}) {
    EXPECT_EQ(Tink(std::string("memory ") + cmd).exit_code, 1) << cmd;
  }
  CommandResult help = RunCommand(std::string(TINK_BIN) + " memory --help");
  EXPECT_EQ(help.exit_code, 0);
  for (const char* sub : {"node", "neighbors", "path", "about", "history", "nodes", "anomalies"}) {
    EXPECT_NE(help.out.find(sub), std::string::npos) << sub;
  }
  CommandResult top = RunCommand(std::string(TINK_BIN) + " --help");
  EXPECT_NE(top.out.find("memory"), std::string::npos);
  CommandResult nostore = RunCommand(std::string(TINK_BIN) + " --store " +
                                     ShellQuote(tmp_.Sub("none")) + " memory nodes");
  EXPECT_EQ(nostore.exit_code, 2) << nostore.err;
}

}  // namespace
}  // namespace tink
