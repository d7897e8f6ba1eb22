// The memory events the importers add (engine/import/memory.cc, docs/import.md "Memory"), on the
// recorded runs in tests/data/agent-runs: one node per entity and one edge per relation, each
// right after the event that introduced it, nodes before the edges that name them, deterministic
// ids, and nothing for the base files or for our own JSONL.
#include <map>
#include <set>

#include "import/import_test_util.h"

namespace tink::import_test {
namespace {

struct Mem {
  std::map<std::string, json> nodes;  // id -> data
  std::map<std::string, json> edges;  // id -> data
};

std::vector<ImportedRun> MustImport(const std::string& format, const std::string& rel,
                                    const std::string& base = "") {
  engine::import::Options opt;
  opt.format = format;
  if (!base.empty()) opt.base_dir = DataPath(base);
  auto runs = engine::import::ImportFile(DataPath(rel), opt);
  EXPECT_TRUE(runs.ok()) << rel << ": " << runs.status().ToString();
  return runs.ok() ? std::move(runs).value() : std::vector<ImportedRun>{};
}

// The run's memory events, checking the invariants every import keeps on the way.
Mem Memory(const ImportedRun& r) {
  Mem m;
  const std::string stream = "run/" + r.run + "/memory";
  for (const auto& e : r.events) {
    if (!e.type.starts_with("memory.")) continue;
    EXPECT_EQ(e.stream, stream) << e.id;
    EXPECT_EQ(e.run, r.run) << e.id;
    auto enc = schema::EncodeEvent(e);
    EXPECT_TRUE(enc.ok()) << e.id << ": " << enc.status().ToString();
    json d = Data(e);
    const std::string id = d["id"];
    if (e.type == "memory.node") {
      EXPECT_EQ(e.id, r.run + "/memory/node/" + id);
      EXPECT_TRUE(m.nodes.emplace(id, d).second) << "node twice: " << id;
      EXPECT_EQ(d["labels"].size(), 1u) << id;
    } else {
      EXPECT_EQ(e.type, "memory.edge");
      EXPECT_EQ(e.id, r.run + "/memory/edge/" + id);
      EXPECT_EQ(id, d["src"].get<std::string>() + "|" + d["rel"].get<std::string>() + "|" +
                        d["dst"].get<std::string>());
      // Both ends are nodes asserted earlier in the same import.
      EXPECT_TRUE(m.nodes.contains(d["src"])) << id;
      EXPECT_TRUE(m.nodes.contains(d["dst"])) << id;
      EXPECT_TRUE(m.edges.emplace(id, d).second) << "edge twice: " << id;
      if (e.occurred_ns != 0) {
        EXPECT_EQ(d["valid_from"], schema::FormatTime(e.occurred_ns)) << id;
      } else {
        EXPECT_FALSE(d.contains("valid_from")) << id;
      }
    }
  }
  return m;
}

std::set<std::string> WithLabel(const Mem& m, const std::string& label) {
  std::set<std::string> ids;
  for (const auto& [id, d] : m.nodes) {
    if (d["labels"][0] == label) ids.insert(id);
  }
  return ids;
}

std::set<std::string> Rel(const Mem& m, const std::string& rel) {
  std::set<std::string> ids;
  for (const auto& [id, d] : m.edges) {
    if (d["rel"] == rel) ids.insert(id);
  }
  return ids;
}

TEST(ImportMemory, MarshmallowHasItsFilesTasksAndTools) {
  for (bool with_base : {false, true}) {
    SCOPED_TRACE(with_base ? "with --base" : "without --base");
    auto runs = MustImport("swe-agent", "swe-agent/marshmallow-code__marshmallow-1867.traj",
                           with_base ? "base/marshmallow-1867" : "");
    ASSERT_EQ(runs.size(), 1u);
    const ImportedRun& r = runs[0];
    const std::string R = r.run;
    ASSERT_EQ(R, "marshmallow-code__marshmallow-1867");
    Mem m = Memory(r);

    const std::string run = "run:" + R;
    ASSERT_TRUE(m.nodes.contains(run));
    EXPECT_EQ(m.nodes[run]["labels"], json::array({"Run"}));
    EXPECT_EQ(m.nodes[run]["props"]["agent"], "swe-agent");
    EXPECT_EQ(m.nodes[run]["props"]["model"], "gpt-4o");

    // The files the agent changed, and only those (the --base files are the repository).
    const std::string fields = "file:" + R + "/src/marshmallow/fields.py";
    const std::string repro = "file:" + R + "/reproduce.py";
    EXPECT_EQ(WithLabel(m, "File"), (std::set<std::string>{repro, fields}));
    EXPECT_EQ(m.nodes[fields]["props"], json({{"path", "src/marshmallow/fields.py"}, {"run", R}}));

    // Step 7's accepted edit of fields.py; step 6's edit was rejected: no MODIFIES, a FAILED_ON.
    const std::string step7 = "task:" + R + "/step-7", step6 = "task:" + R + "/step-6";
    EXPECT_EQ(m.nodes[step7]["labels"], json::array({"Task"}));
    EXPECT_EQ(m.nodes[step7]["props"]["task"], "step-7");
    EXPECT_EQ(
        Rel(m, "MODIFIES"),
        (std::set<std::string>{
            "task:" + R + "/step-0|MODIFIES|" + repro, "task:" + R + "/step-1|MODIFIES|" + repro,
            step7 + "|MODIFIES|" + fields, "task:" + R + "/step-9|MODIFIES|" + repro}));
    EXPECT_EQ(m.edges[step7 + "|MODIFIES|" + fields]["props"], json({{"kind", "patch"}}));
    EXPECT_EQ(m.edges["task:" + R + "/step-0|MODIFIES|" + repro]["props"]["kind"], "write");
    EXPECT_EQ(m.edges["task:" + R + "/step-9|MODIFIES|" + repro]["props"]["kind"], "delete");
    EXPECT_EQ(Rel(m, "FAILED_ON"), std::set<std::string>{step6 + "|FAILED_ON|tool:edit"});
    EXPECT_NE(m.edges[step6 + "|FAILED_ON|tool:edit"]["props"]["error"].get<std::string>().find(
                  "syntax error"),
              std::string::npos);

    // Tools are shared across runs: "tool:<name>", once each.
    for (const char* t :
         {"create", "insert", "python", "ls", "find_file", "open", "edit", "rm", "submit"}) {
      const std::string id = std::string("tool:") + t;
      ASSERT_TRUE(m.nodes.contains(id)) << id;
      EXPECT_EQ(m.nodes[id]["labels"], json::array({"Tool"}));
      EXPECT_EQ(m.nodes[id]["props"], json({{"name", t}}));
    }
    EXPECT_TRUE(m.edges.contains(step7 + "|USES|tool:edit"));
    EXPECT_TRUE(m.edges.contains("task:" + R + "/step-8|USES|tool:python"));

    // The tree: every task under the run, every step under the agent loop.
    const size_t tasks = CountType(r, "task.created");
    EXPECT_EQ(WithLabel(m, "Task").size(), tasks);
    EXPECT_EQ(Rel(m, "HAS_TASK").size(), tasks);
    EXPECT_EQ(Rel(m, "SUBTASK_OF").size(), tasks - 1);
    EXPECT_TRUE(m.edges.contains(step7 + "|SUBTASK_OF|task:" + R + "/agent"));
    // SWE-agent trajectories have no times: no valid_from (open).
    EXPECT_FALSE(m.edges[step7 + "|SUBTASK_OF|task:" + R + "/agent"].contains("valid_from"));
  }
}

TEST(ImportMemory, EachMemoryEventFollowsTheEventThatIntroducedIt) {
  auto runs = MustImport("swe-agent", "swe-agent/marshmallow-code__marshmallow-1867.traj");
  ASSERT_EQ(runs.size(), 1u);
  const auto& ev = runs[0].events;
  for (size_t i = 0; i < ev.size(); ++i) {
    if (ev[i].type != "memory.node" || Data(ev[i])["labels"][0] != "File") continue;
    // Back over the memory events to the file event that named the file.
    size_t k = i;
    while (k > 0 && ev[k - 1].type.starts_with("memory.")) --k;
    ASSERT_GT(k, 0u);
    EXPECT_TRUE(ev[k - 1].type.starts_with("file.")) << ev[k - 1].id;
    EXPECT_EQ("file:" + runs[0].run + "/" + Data(ev[k - 1])["path"].get<std::string>(),
              Data(ev[i])["id"]);
  }
  // The reader's own events keep their order: the last is still run.finished.
  size_t last = ev.size();
  while (last > 0 && ev[last - 1].type == "note") --last;
  ASSERT_GT(last, 0u);
  EXPECT_EQ(ev[last - 1].type, "run.finished");
}

TEST(ImportMemory, OpenHandsEditsAndTimes) {
  auto runs = MustImport("openhands", "openhands/basic.json");
  ASSERT_EQ(runs.size(), 1u);
  Mem m = Memory(runs[0]);
  EXPECT_EQ(WithLabel(m, "File"), std::set<std::string>{"file:basic/game_2048.py"});
  EXPECT_EQ(Rel(m, "MODIFIES"),
            std::set<std::string>{"task:basic/3|MODIFIES|file:basic/game_2048.py"});
  EXPECT_TRUE(m.edges.contains("task:basic/3|USES|tool:str_replace_editor"));
  EXPECT_TRUE(m.edges.contains("run:basic|HAS_TASK|task:basic/agent"));
  // OpenHands records times: valid_from is the introducing event's source time.
  EXPECT_EQ(m.edges["task:basic/3|MODIFIES|file:basic/game_2048.py"]["valid_from"],
            "2025-01-27T22:45:13.801384000Z");
}

TEST(ImportMemory, OpenHandsRejectedEditsAreFailedOnTheEditor) {
  auto runs = MustImport("openhands", "openhands/output.jsonl");
  ASSERT_EQ(runs.size(), 3u);
  for (const ImportedRun& r : runs) {
    SCOPED_TRACE(r.run);
    Mem m = Memory(r);
    // A task per task.created; a MODIFIES per (task, path) of an accepted edit.
    EXPECT_EQ(WithLabel(m, "Task").size(), CountType(r, "task.created"));
    std::set<std::string> modifies;
    for (const auto* e : FileEvents(r)) {
      json d = Data(*e);
      modifies.insert("task:" + r.run + "/" + d["task"].get<std::string>() +
                      "|MODIFIES|file:" + r.run + "/" + d["path"].get<std::string>());
    }
    EXPECT_EQ(Rel(m, "MODIFIES"), modifies);
    // A FAILED_ON per failed tool task.
    size_t failed_tools = 0;
    for (const auto& e : r.events) {
      if (e.type == "tool.result" && !Data(e).value("ok", true)) ++failed_tools;
    }
    EXPECT_EQ(Rel(m, "FAILED_ON").size(), failed_tools);
    EXPECT_GT(failed_tools, 0u);
  }
}

TEST(ImportMemory, EveryShippedRecordingKeepsTheInvariants) {
  const std::pair<const char*, const char*> files[] = {
      {"openhands", "openhands/basic_gui_mode.json"},
      {"openhands", "openhands/wrong_initial_state.json"},
      {"swe-agent", "swe-agent/6e44b9__sweagenttestrepo-1c2844.traj"},
      {"swe-agent", "swe-agent/swe-agent__test-repo-i1.traj"},
      {"otlp", "otel/LANGCHAIN_trace.json"},
      {"otlp", "otel/LLAMA_INDEX_trace.json"},
      {"otlp", "otel/OPENAI_trace.json"},
      {"otlp", "otel/TINYAGENT_trace.json"},
  };
  for (const auto& [format, file] : files) {
    SCOPED_TRACE(file);
    auto runs = MustImport(format, file);
    ASSERT_FALSE(runs.empty());
    for (const ImportedRun& r : runs) {
      Mem m = Memory(r);
      EXPECT_TRUE(m.nodes.contains("run:" + r.run));
      EXPECT_EQ(WithLabel(m, "Task").size(), CountType(r, "task.created"));
      EXPECT_FALSE(WithLabel(m, "Tool").empty());
    }
    // Deterministic: the same file gives the same events.
    auto again = MustImport(format, file);
    for (size_t i = 0; i < runs.size(); ++i) {
      ASSERT_EQ(again[i].events.size(), runs[i].events.size());
      for (size_t k = 0; k < runs[i].events.size(); ++k) {
        EXPECT_EQ(again[i].events[k].id, runs[i].events[k].id);
        EXPECT_EQ(again[i].events[k].data_json, runs[i].events[k].data_json);
      }
    }
  }
}

TEST(ImportMemory, OtlpToolsAreToolNodesWithTimes) {
  auto runs = MustImport("otlp", "otel/OPENAI_trace.json");
  ASSERT_EQ(runs.size(), 1u);
  const ImportedRun& r = runs[0];
  Mem m = Memory(r);
  std::set<std::string> tools;
  for (const auto& e : r.events) {
    if (e.type == "tool.call") tools.insert("tool:" + Data(e)["tool"].get<std::string>());
  }
  EXPECT_EQ(WithLabel(m, "Tool"), tools);
  EXPECT_TRUE(WithLabel(m, "File").empty());  // the spans record no file changes
  for (const std::string& id : Rel(m, "USES")) {
    EXPECT_TRUE(m.edges[id].contains("valid_from")) << id;
  }
}

TEST(ImportMemory, OurOwnJsonlGetsNoInventedMemory) {
  auto runs = MustImport("jsonl", "mini-swe-agent-github_issue.jsonl");
  ASSERT_FALSE(runs.empty());
  for (const ImportedRun& r : runs) {
    EXPECT_EQ(CountType(r, "memory.node") + CountType(r, "memory.edge"), 0u) << r.run;
  }
}

TEST(ImportMemory, BaseFilesAloneMakeNoMemory) {
  engine::import::RunBuilder b("r", "r");
  ASSERT_TRUE(b.LoadBase(DataPath("base/marshmallow-1867"), 0).ok());
  ImportedRun r = b.Finish();
  for (const auto& e : r.events) EXPECT_FALSE(e.type.starts_with("memory.")) << e.id;
}

TEST(ImportMemory, RenamesModifyBothPathsAndLinkThem) {
  engine::import::RunBuilder b("r", "r");
  b.Add("start", "run.started", "", R"({"name":"r"})", 0);
  b.Add("t/created", "task.created", "t", R"({"task":"t","name":"mv"})", 0);
  b.WriteFile("t/w", "t", "a.txt", "x\n", 5);
  b.RenameFile("t/mv", "t", "a.txt", "b.txt", 6);
  ImportedRun r = b.Finish();
  Mem m = Memory(r);
  EXPECT_EQ(WithLabel(m, "File"), (std::set<std::string>{"file:r/a.txt", "file:r/b.txt"}));
  EXPECT_EQ(m.edges["task:r/t|MODIFIES|file:r/a.txt"]["props"]["kind"], "write");
  EXPECT_EQ(m.edges["task:r/t|MODIFIES|file:r/b.txt"]["props"]["kind"], "rename");
  EXPECT_EQ(m.edges["file:r/a.txt|RENAMED_TO|file:r/b.txt"]["props"], json({{"task", "t"}}));
  EXPECT_EQ(m.edges["file:r/a.txt|RENAMED_TO|file:r/b.txt"]["valid_from"], schema::FormatTime(6));
}

}  // namespace
}  // namespace tink::import_test
