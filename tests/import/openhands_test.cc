// The OpenHands reader against real recordings (tests/data/agent-runs/openhands, SOURCES.md §1):
// the mapping of import.h, the traps SOURCES.md lists, and errors that name file, record, field.
#include <gtest/gtest.h>

#include <set>

#include "engine/import/openhands_internal.h"
#include "import/import_test_util.h"
#include "support/temp_dir.h"

namespace tink::import_test {
namespace {

using engine::import::ImportOpenHands;
using engine::import::Options;

const char* const kRuns[] = {"ponylang__ponyc-4595", "ponylang__ponyc-4593",
                             "ponylang__ponyc-4588"};

Options OpenHands() {
  Options o;
  o.format = "openhands";
  return o;
}

std::vector<ImportedRun> MustImport(const std::string& path, const Options& opt = OpenHands()) {
  auto runs = ImportOpenHands(path, opt);
  EXPECT_TRUE(runs.ok()) << runs.status().ToString();
  return runs.ok() ? std::move(runs).value() : std::vector<ImportedRun>{};
}

// One run of output.jsonl, with its repository files as --base.
ImportedRun WithBase(const std::string& instance) {
  Options o = OpenHands();
  o.select = instance;
  o.base_dir = DataPath("base/ponyc-" + instance.substr(instance.rfind('-') + 1));
  auto runs = MustImport(DataPath("openhands/output.jsonl"), o);
  EXPECT_EQ(runs.size(), 1u);
  return runs.empty() ? ImportedRun{} : std::move(runs[0]);
}

// The recording itself, for counts the test derives independently of the reader.
json Record(size_t i) {
  std::istringstream in(Slurp(DataPath("openhands/output.jsonl")));
  std::string line;
  for (size_t k = 0; std::getline(in, line); ++k) {
    if (k == i) return json::parse(line);
  }
  return json();
}

std::string TaskState(const ImportedRun& r, const std::string& task) {
  std::string state;
  for (const auto* e : TaskEvents(r, task)) {
    if (e->type.starts_with("task.")) state = e->type.substr(5);
  }
  return state;
}

TEST(OpenHandsImport, EveryRecordOfOutputJsonlImportsAsOneValidRun) {
  auto runs = MustImport(DataPath("openhands/output.jsonl"));
  ASSERT_EQ(runs.size(), 3u);
  std::set<std::string> ids;
  for (size_t i = 0; i < 3; ++i) {
    const ImportedRun& r = runs[i];
    SCOPED_TRACE(r.run);
    EXPECT_EQ(r.source_id, kRuns[i]);
    EXPECT_EQ(r.run, kRuns[i]);
    ASSERT_FALSE(r.events.empty());
    EXPECT_EQ(r.events[0].type, "run.started");
    json started = Data(r.events[0]);
    EXPECT_EQ(started["agent"], "openhands");
    EXPECT_EQ(started["model"], "openai/openrouter-llama-4-maverick");
    EXPECT_EQ(started["meta"]["repo"], "ponylang/ponyc");
    EXPECT_EQ(started["meta"]["instance_id"], kRuns[i]);
    EXPECT_EQ(started["meta"]["max_iterations"], 50);
    EXPECT_EQ(started["meta"]["root"], "/workspace/ponylang__ponyc__0.1");
    EXPECT_EQ(started["task"], Record(i)["instruction"]);
    EXPECT_EQ(started["meta"]["base_commit"], Record(i)["instance"]["base_commit"]);
    for (const auto& e : r.events) {
      auto enc = schema::EncodeEvent(e);
      EXPECT_TRUE(enc.ok()) << e.id << ": " << enc.status().ToString();
      EXPECT_TRUE(ids.insert(e.id).second) << "id repeats: " << e.id;
      EXPECT_EQ(e.run, r.run);
      EXPECT_TRUE(e.id.starts_with(r.run + "/")) << e.id;
      EXPECT_TRUE(e.stream == "run/" + r.run || e.stream == "run/" + r.run + "/memory" ||
                  e.stream.starts_with("run/" + r.run + "/task/"))
          << e.stream;
      // 2025-04-30, no zone in the recording: read as UTC.
      EXPECT_GE(e.occurred_ns, int64_t{1745971200} * 1000000000);
      EXPECT_LT(e.occurred_ns, int64_t{1746057600} * 1000000000);
    }
  }
  // The first event's time, exactly (no zone = UTC).
  EXPECT_EQ(runs[0].events[0].occurred_ns, *schema::ParseTime("2025-04-30T16:32:54.707474Z"));
}

TEST(OpenHandsImport, ToolCallsResultsAndEditsMatchTheRecording) {
  // SOURCES.md §1: edit actions 2 / 11 / 16, accepted 1 / 1 / 4, rejected 1 / 10 / 12.
  const size_t edits[] = {2, 11, 16}, accepted[] = {1, 1, 4}, rejected[] = {1, 10, 12};
  auto runs = MustImport(DataPath("openhands/output.jsonl"));
  ASSERT_EQ(runs.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    const ImportedRun& r = runs[i];
    SCOPED_TRACE(r.run);
    // One tool.call per run/read/edit action, one tool.result per observation answering one.
    size_t tool_actions = 0;
    const json rec = Record(i);
    for (const json& ev : rec["history"]) {
      std::string a = ev.value("action", "");
      tool_actions += (a == "run" || a == "read" || a == "edit") ? 1 : 0;
    }
    EXPECT_EQ(CountType(r, "tool.call"), tool_actions);
    EXPECT_EQ(CountType(r, "tool.result"), tool_actions);
    size_t edit_tasks = 0, failed_edits = 0;
    for (const auto& e : r.events) {
      if (e.type != "task.created") continue;
      json d = Data(e);
      if (!d["name"].get<std::string>().starts_with("edit: ")) continue;
      ++edit_tasks;
      EXPECT_EQ(d["parent"], "agent");
      if (TaskState(r, d["task"]) == "failed") ++failed_edits;
    }
    EXPECT_EQ(edit_tasks, edits[i]);
    EXPECT_EQ(failed_edits, rejected[i]);
    EXPECT_EQ(FileEvents(r).size(), accepted[i]);
  }
}

TEST(OpenHandsImport, RejectedEditsWhoseOldStrIsPresentMakeNoFileEvent) {
  auto r = WithBase("ponylang__ponyc-4588");
  // 33, 41, 47, 53: old_str occurs twice; 60: once, but new_str == old_str. All rejected.
  for (const char* task : {"33", "41", "47", "53", "60"}) {
    SCOPED_TRACE(task);
    auto events = TaskEvents(r, task);
    EXPECT_TRUE(HasType(events, "tool.call"));
    EXPECT_TRUE(HasType(events, "task.failed"));
    EXPECT_FALSE(HasType(events, "file.patch"));
    EXPECT_FALSE(HasType(events, "file.write"));
    for (const auto* e : events) {
      if (e->type == "tool.result") {
        EXPECT_EQ(Data(*e)["ok"], false);
        EXPECT_FALSE(Data(*e)["error"].get<std::string>().empty());
      }
    }
  }
  // Accepted: 29, 43, 56 insert; 45 str_replace.
  for (const char* task : {"29", "43", "45", "56"}) {
    SCOPED_TRACE(task);
    auto events = TaskEvents(r, task);
    EXPECT_TRUE(HasType(events, "file.patch"));
    EXPECT_TRUE(HasType(events, "task.succeeded"));
  }
}

TEST(OpenHandsImport, FailedRunsAndErrorObservationsAreFailedTasks) {
  auto runs = MustImport(DataPath("openhands/output.jsonl"));
  ASSERT_EQ(runs.size(), 3u);
  // ponyc-4588 event 15: grep found nothing, exit code 1.
  const ImportedRun& r = runs[2];
  EXPECT_EQ(TaskState(r, "15"), "failed");
  for (const auto* e : TaskEvents(r, "15")) {
    if (e->type == "tool.result") {
      EXPECT_EQ(Data(*e)["exit_code"], 1);
      EXPECT_EQ(Data(*e)["ok"], false);
    }
    if (e->type == "task.failed") {
      EXPECT_EQ(Data(*e)["error"], "exit code 1");
    }
  }
  EXPECT_EQ(TaskState(r, "5"), "succeeded");
  // `error` observations with cause null (4593 event 29, 4588 event 55): a failed task each.
  for (auto [run, task] : {std::pair{1, "29"}, std::pair{2, "55"}}) {
    auto events = TaskEvents(runs[run], task);
    ASSERT_TRUE(HasType(events, "task.failed")) << task;
    for (const auto* e : events) {
      if (e->type == "task.failed") {
        EXPECT_TRUE(Data(*e)["error"].get<std::string>().starts_with(
            "Parameter 'command' is expected to be one of"));
      }
    }
  }
}

TEST(OpenHandsImport, RunOutcomeAndFinalPatch) {
  auto runs = MustImport(DataPath("openhands/output.jsonl"));
  ASSERT_EQ(runs.size(), 3u);
  const char* status[] = {"succeeded", "succeeded", "failed"};
  for (size_t i = 0; i < 3; ++i) {
    const ImportedRun& r = runs[i];
    SCOPED_TRACE(r.run);
    ASSERT_EQ(r.events.back().type, "run.finished");
    json fin = Data(r.events.back());
    EXPECT_EQ(fin["status"], status[i]);
    EXPECT_EQ(TaskState(r, "agent"), status[i]);
    // The recorded patch, verbatim (no final newline), as final_patch and as a note.
    std::string expected = Slurp(
        DataPath(std::string("expected/ponyc-") + std::string(kRuns[i]).substr(16) + ".patch"));
    ASSERT_TRUE(r.final_patch.has_value());
    EXPECT_EQ(*r.final_patch, expected);
    bool noted = false;
    for (const auto& e : r.events) {
      if (e.type == "note" && Data(e)["kind"] == "final_patch") {
        noted = true;
        EXPECT_EQ(Data(e)["text"], expected);
      }
    }
    EXPECT_TRUE(noted);
  }
  EXPECT_EQ(Data(runs[2].events.back())["error"],
            "RuntimeError: Agent reached maximum iteration in headless mode. Current iteration: "
            "50, max iteration: 50");
}

TEST(OpenHandsImport, LlmResponsesThoughtsAndUserMessages) {
  auto runs = MustImport(DataPath("openhands/output.jsonl"));
  ASSERT_EQ(runs.size(), 3u);
  const ImportedRun& r = runs[0];
  std::set<std::string> call_ids;
  for (const auto& e : r.events) {
    if (e.type != "llm.response") continue;
    json d = Data(e);
    EXPECT_EQ(e.stream, "run/" + r.run + "/task/agent");
    EXPECT_TRUE(call_ids.insert(d["call_id"]).second) << "one event per model response";
    EXPECT_EQ(d["model"], "meta-llama/llama-4-maverick");
    EXPECT_GT(d["input_tokens"].get<int64_t>(), 0);
    EXPECT_GT(d["output_tokens"].get<int64_t>(), 0);
    EXPECT_GT(d["latency_ms"].get<double>(), 0);
    EXPECT_TRUE(d["tool_calls"].is_array());
  }
  // 21 tool calls, a think and a finish: 23 model responses.
  EXPECT_EQ(call_ids.size(), 23u);
  // The first tool call's arguments as the model sent them.
  for (const auto& e : r.events) {
    if (e.type == "tool.call") {
      json d = Data(e);
      EXPECT_EQ(d["call_id"], "5");
      EXPECT_EQ(d["tool"], "execute_bash");
      EXPECT_EQ(d["args"]["command"], "ls -l /workspace/ponylang__ponyc__0.1");
      break;
    }
  }
  size_t thoughts = 0, users = 0;
  for (const auto& e : r.events) {
    if (e.type != "note") continue;
    thoughts += Data(e)["kind"] == "thought" ? 1 : 0;
    users += Data(e)["kind"] == "user" ? 1 : 0;
  }
  EXPECT_EQ(thoughts, 1u);  // the think action
  EXPECT_EQ(users, 1u);     // the task message
}

TEST(OpenHandsImport, SedInPlaceIsNotInterpretedButWarned) {
  auto runs = MustImport(DataPath("openhands/output.jsonl"));
  ASSERT_EQ(runs.size(), 3u);
  const auto& w = runs[2].warnings;
  EXPECT_NE(std::find(w.begin(), w.end(),
                      "event 62: shell command may change files (sed -i); not replayed"),
            w.end());
  // The sed task is an ordinary successful run, with no file event.
  EXPECT_EQ(TaskState(runs[2], "62"), "succeeded");
  EXPECT_FALSE(HasType(TaskEvents(runs[2], "62"), "file.patch"));
  // ponyc-4595 writes /workspace/test.c and test.pony: outside the repository, no warning.
  for (const std::string& warning : runs[0].warnings) {
    EXPECT_EQ(warning.find("shell command"), std::string::npos) << warning;
  }
}

// A diff without its "index <blob>..<blob>" line (abbreviation lengths differ).
std::string WithoutIndexLines(const std::string& diff) {
  std::string out;
  for (const std::string& l : Lines(diff)) {
    if (!l.starts_with("index ")) out += l + "\n";
  }
  return out;
}

// base + expected patch (with the final newline it lacks), through libgit2's applier.
std::string ExpectedFinal(const std::string& run, const std::string& rel) {
  std::string base = Slurp(DataPath("base/" + run + "/" + rel));
  std::string patch = Slurp(DataPath("expected/" + run + ".patch")) + "\n";
  auto applied = projections::text::ApplyPatch(base, patch);
  EXPECT_TRUE(applied.ok()) << applied.status().ToString();
  return applied.ok() ? *applied : "";
}

TEST(OpenHandsImport, WithBaseTheFinalViewIsTheRecordedPatch) {
  const std::pair<const char*, const char*> cases[] = {
      {"ponylang__ponyc-4595", "src/libponyc/ast/parser.c"},
      {"ponylang__ponyc-4593", "packages/cli/command_parser.pony"}};
  for (auto [instance, rel] : cases) {
    SCOPED_TRACE(instance);
    ImportedRun r = WithBase(instance);
    EXPECT_TRUE(r.warnings.empty()) << r.warnings.front();
    // The base copy first (on task agent; the data folder's BASE.txt comes along), then the
    // accepted edit as a diff of the view.
    size_t base = 0;
    for (const auto& e : r.events) {
      if (e.type == "file.write" && Data(e).value("base", false)) {
        EXPECT_EQ(e.stream, "run/" + r.run + "/task/agent");
        base += Data(e)["path"] == rel ? 1 : 0;
      }
    }
    EXPECT_EQ(base, 1u);
    auto edits = FileEvents(r);
    ASSERT_EQ(edits.size(), 1u);
    EXPECT_EQ(edits[0]->type, "file.patch");
    std::string run = std::string("ponyc-") + std::string(instance).substr(16);
    auto files = FoldFiles(r);
    EXPECT_EQ(files[rel], ExpectedFinal(run, rel));
    // And the diff from base to the view is the recorded patch.
    std::string base_text = Slurp(DataPath("base/" + run + "/" + rel));
    auto diff = projections::text::UnifiedDiff({rel, std::string_view(base_text)},
                                               {rel, std::string_view(files[rel])});
    ASSERT_TRUE(diff.ok());
    EXPECT_EQ(WithoutIndexLines(*diff),
              WithoutIndexLines(Slurp(DataPath("expected/" + run + ".patch")) + "\n"));
  }
}

TEST(OpenHandsImport, WithBasePonyc4588DiffersOnlyInTheSedLine) {
  ImportedRun r = WithBase("ponylang__ponyc-4588");
  const std::string rel = "src/libponyc/expr/match.c";
  EXPECT_EQ(FileEvents(r).size(), 4u);
  auto files = FoldFiles(r);
  std::vector<std::string> got = Lines(files[rel]);
  std::vector<std::string> want = Lines(ExpectedFinal("ponyc-4588", rel));
  ASSERT_EQ(got.size(), want.size());
  std::vector<size_t> differ;
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i] != want[i]) differ.push_back(i);
  }
  ASSERT_EQ(differ.size(), 1u);
  EXPECT_EQ(differ[0], 316u);  // line 317, the one `sed -i '317s/^/...'` indents
  EXPECT_EQ("      " + got[316], want[316]);
}

TEST(OpenHandsImport, WithoutBaseAcceptedEditsKeepTheObservationsDiff) {
  Options o = OpenHands();
  o.select = "ponylang__ponyc-4595";
  auto runs = MustImport(DataPath("openhands/output.jsonl"), o);
  ASSERT_EQ(runs.size(), 1u);
  auto edits = FileEvents(runs[0]);
  ASSERT_EQ(edits.size(), 1u);
  EXPECT_EQ(edits[0]->type, "file.patch");
  EXPECT_EQ(Data(*edits[0])["path"], "src/libponyc/ast/parser.c");
  EXPECT_EQ(Data(*edits[0])["task"], "31");
  EXPECT_TRUE(Data(*edits[0])["diff"].get<std::string>().find("+  SET_FLAG(AST_FLAG_IN_PARENS);") !=
              std::string::npos);
  ASSERT_EQ(runs[0].warnings.size(), 1u);
  EXPECT_TRUE(runs[0].warnings[0].starts_with("event 31: edit of src/libponyc/ast/parser.c"))
      << runs[0].warnings[0];
}

TEST(OpenHandsImport, BasicJsonOldEditShapeCreatesTheGameFile) {
  auto runs = MustImport(DataPath("openhands/basic.json"));
  ASSERT_EQ(runs.size(), 1u);
  const ImportedRun& r = runs[0];
  EXPECT_EQ(r.run, "basic");
  EXPECT_EQ(r.source_id, "basic");
  json list = json::parse(Slurp(DataPath("openhands/basic.json")));
  const std::string new_content = list[2]["extras"]["new_content"];
  EXPECT_EQ(new_content.size(), 3409u);
  auto files = FileEvents(r);
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0]->type, "file.write");
  EXPECT_EQ(Data(*files[0])["path"], "game_2048.py");
  EXPECT_EQ(Data(*files[0])["content"], new_content);
  EXPECT_EQ(Data(r.events.back())["status"], "succeeded");
  EXPECT_FALSE(r.final_patch.has_value());
  // The file text of the create is also in translated_ipython_code, as Python source.
  auto kwargs = engine::import::internal::ParsePythonKwargs(
      list[1]["args"]["translated_ipython_code"].get<std::string>(), "file_editor");
  ASSERT_TRUE(kwargs.ok()) << kwargs.status().ToString();
  EXPECT_EQ((*kwargs)["command"], "create");
  EXPECT_EQ((*kwargs)["file_text"], new_content);
}

TEST(OpenHandsImport, GuiModeRunWithoutFinishStaysUnfinished) {
  auto runs = MustImport(DataPath("openhands/basic_gui_mode.json"));
  ASSERT_EQ(runs.size(), 1u);
  const ImportedRun& r = runs[0];
  EXPECT_EQ(CountType(r, "run.finished"), 0u);
  EXPECT_EQ(TaskState(r, "agent"), "started");
  // The http.server never returned: exit code -1, a failed task.
  EXPECT_EQ(TaskState(r, "13"), "failed");
  for (const auto* e : TaskEvents(r, "13")) {
    if (e->type == "tool.result") {
      EXPECT_EQ(Data(*e)["exit_code"], -1);
    }
  }
  std::set<std::string> paths;
  for (const auto* e : FileEvents(r)) paths.insert(Data(*e)["path"]);
  EXPECT_EQ(paths, (std::set<std::string>{"todo-app/index.html", "todo-app/app.js"}));
  // The agent's closing message has no model response recorded: an llm.response of its text.
  bool closing = false;
  for (const auto& e : r.events) {
    closing |= e.type == "llm.response" &&
               Data(e)["content"].get<std::string>().starts_with("I've created a complete Vue.js");
  }
  EXPECT_TRUE(closing);
}

TEST(OpenHandsImport, WrongInitialStateMoveIsWarnedNotReplayed) {
  auto runs = MustImport(DataPath("openhands/wrong_initial_state.json"));
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_TRUE(FileEvents(runs[0]).empty());
  ASSERT_EQ(runs[0].warnings.size(), 1u);
  EXPECT_EQ(runs[0].warnings[0], "event 5: shell command may change files (mv); not replayed");
  EXPECT_EQ(Data(runs[0].events.back())["status"], "succeeded");
}

TEST(OpenHandsImport, OptionsSelectRunAndRoot) {
  Options o = OpenHands();
  o.run = "mine";
  auto three = ImportOpenHands(DataPath("openhands/output.jsonl"), o);
  ASSERT_FALSE(three.ok());
  EXPECT_TRUE(three.status().IsInvalidArgument());
  EXPECT_NE(three.status().message().find("3 runs"), std::string::npos);

  o.select = "ponylang__ponyc-4593";
  auto one = MustImport(DataPath("openhands/output.jsonl"), o);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].run, "mine");
  EXPECT_EQ(one[0].source_id, "ponylang__ponyc-4593");
  for (const auto& e : one[0].events) {
    EXPECT_TRUE(e.id.starts_with("mine/")) << e.id;
    EXPECT_TRUE(e.stream.starts_with("run/mine")) << e.stream;
  }

  o.select = "ponylang__ponyc-9999";
  auto none = ImportOpenHands(DataPath("openhands/output.jsonl"), o);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("ponylang__ponyc-4595"), std::string::npos);

  Options root = OpenHands();
  root.select = "ponylang__ponyc-4595";
  root.root = "/workspace";
  auto rooted = MustImport(DataPath("openhands/output.jsonl"), root);
  ASSERT_EQ(rooted.size(), 1u);
  ASSERT_EQ(FileEvents(rooted[0]).size(), 1u);
  EXPECT_EQ(Data(*FileEvents(rooted[0])[0])["path"],
            "ponylang__ponyc__0.1/src/libponyc/ast/parser.c");
}

TEST(OpenHandsImport, ImportingTwiceGivesTheSameEvents) {
  auto a = MustImport(DataPath("openhands/output.jsonl"));
  auto b = MustImport(DataPath("openhands/output.jsonl"));
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].events.size(), b[i].events.size());
    for (size_t k = 0; k < a[i].events.size(); ++k) {
      EXPECT_EQ(a[i].events[k].id, b[i].events[k].id);
      EXPECT_EQ(a[i].events[k].data_json, b[i].events[k].data_json);
      EXPECT_EQ(a[i].events[k].occurred_ns, b[i].events[k].occurred_ns);
    }
  }
}

// --- malformed input ---

class OpenHandsBadInput : public ::testing::Test {
 protected:
  // Imports `text` from a file named `name`; expects InvalidArgument and returns its message.
  std::string Error(const std::string& name, const std::string& text) {
    std::string path = tmp_.Sub(name);
    WriteText(path, text);
    auto r = ImportOpenHands(path, OpenHands());
    EXPECT_FALSE(r.ok());
    if (r.ok()) return "";
    EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
    EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status().message();
    return r.status().message();
  }
  testing::TempDir tmp_;
};

TEST_F(OpenHandsBadInput, TruncatedJsonNamesRecordLineAndByte) {
  std::string first = Slurp(DataPath("openhands/output.jsonl"));
  first = first.substr(0, first.find('\n'));
  std::string good = first + "\n";
  std::string msg = Error("cut.jsonl", good + "\n" + first.substr(0, 5000) + "\n");
  EXPECT_NE(msg.find("record 2 (line 3)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("malformed JSON at byte"), std::string::npos) << msg;

  std::string list = Slurp(DataPath("openhands/basic.json"));
  msg = Error("cut.json", list.substr(0, list.size() / 2));
  EXPECT_NE(msg.find("malformed JSON at byte"), std::string::npos) << msg;
}

TEST_F(OpenHandsBadInput, HistoryNotAListNamesTheField) {
  std::string msg = Error("h.jsonl", R"({"instance_id": "x", "history": {"id": 0}})"
                                     "\n");
  EXPECT_NE(msg.find("record 1 (line 1): field 'history': expected an array, got an object"),
            std::string::npos)
      << msg;
  msg = Error("n.jsonl", R"({"history": []})"
                         "\n");
  EXPECT_NE(msg.find("field 'instance_id': missing"), std::string::npos) << msg;
}

TEST_F(OpenHandsBadInput, EventWithoutIdOrWithBadFieldsNamesRecordAndField) {
  std::string ok = R"({"instance_id": "a", "history": [{"id": 0, "source": "user"}]})";
  std::string msg = Error("id.jsonl", ok + "\n" +
                                          R"({"instance_id": "b", "history": [{"id": 0}, )"
                                          R"({"timestamp": "2025-01-01T00:00:00"}]})"
                                          "\n");
  EXPECT_NE(msg.find("record 2 (line 2): field 'history[1].id': missing"), std::string::npos)
      << msg;
  msg = Error("dup.json", R"([{"id": 0}, {"id": 0}])");
  EXPECT_NE(msg.find("field '[1].id': id 0 repeats"), std::string::npos) << msg;
  msg = Error("ts.json", R"([{"id": 0, "timestamp": "yesterday"}])");
  EXPECT_NE(msg.find("field '[0].timestamp': not an ISO 8601 time"), std::string::npos) << msg;
  msg = Error(
      "ec.json",
      R"([{"id": 1, "observation": "run", "cause": 0, "extras": {"metadata": {"exit_code": "0"}}}])");
  EXPECT_NE(msg.find("field '[0].extras.metadata.exit_code': expected an integer, got a string"),
            std::string::npos)
      << msg;
  msg = Error("cause.json", R"([{"id": 1, "observation": "run", "cause": "zero"}])");
  EXPECT_NE(msg.find("field '[0].cause'"), std::string::npos) << msg;
  msg = Error("empty.json", "  \n");
  EXPECT_NE(msg.find("empty"), std::string::npos) << msg;
}

// --- the helpers ---

TEST(OpenHandsHelpers, ShellFileChangesSeesOnlyChangesUnderTheRoot) {
  using engine::import::internal::ShellFileChanges;
  const std::string root = "/workspace/repo";
  using V = std::vector<std::string>;
  EXPECT_EQ(ShellFileChanges("sed -i 's/a/b/' /workspace/repo/x.c", root, ""), V{"sed -i"});
  EXPECT_EQ(ShellFileChanges("sed -n 1,5p /workspace/repo/x.c", root, ""), V{});
  EXPECT_EQ(ShellFileChanges("echo hi > /workspace/test.c", root, ""), V{});
  EXPECT_EQ(ShellFileChanges("cd /workspace/repo && echo hi >> notes.txt", root, ""),
            V{"redirection"});
  EXPECT_EQ(ShellFileChanges("echo hi > notes.txt", root, "/workspace/repo/src"), V{"redirection"});
  EXPECT_EQ(ShellFileChanges("echo hi > notes.txt", root, ""), V{});  // directory unknown
  EXPECT_EQ(ShellFileChanges("echo \"a => b\" && make 2>&1 > /dev/null", root, root), V{});
  EXPECT_EQ(ShellFileChanges("cat > /workspace/repo/a.py << 'EOF'", root, ""), V{"redirection"});
  EXPECT_EQ(ShellFileChanges("rm -rf /workspace/repo/build && mv a /workspace/repo/b", root, ""),
            (V{"rm", "mv"}));
  EXPECT_EQ(ShellFileChanges("python3 -c 'open(\"x\",\"w\")' | tee /workspace/repo/log", root, ""),
            V{"tee"});
}

TEST(OpenHandsHelpers, PythonKwargsReadsReprLiterals) {
  using engine::import::internal::ParsePythonKwargs;
  auto k = ParsePythonKwargs(
      R"(print(file_editor(**{'command': 'insert', 'path': "/a/it's.py", 'insert_line': 3, )"
      R"('new_str': 'x\ty\n\'q\' \\ \xe9\u20ac', 'view_range': [1, -1], 'x': None, 'y': True})))",
      "file_editor");
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  EXPECT_EQ((*k)["command"], "insert");
  EXPECT_EQ((*k)["path"], "/a/it's.py");
  EXPECT_EQ((*k)["insert_line"], 3);
  EXPECT_EQ((*k)["new_str"], "x\ty\n'q' \\ \xC3\xA9\xE2\x82\xAC");
  EXPECT_EQ((*k)["view_range"], json::array({1, -1}));
  EXPECT_TRUE((*k)["x"].is_null());
  EXPECT_EQ((*k)["y"], true);
  EXPECT_FALSE(ParsePythonKwargs("print(file_editor(**{'a': 'unterminated}))", "file_editor").ok());
  EXPECT_TRUE(ParsePythonKwargs("print('hi')", "file_editor").status().IsNotFound());
}

TEST(OpenHandsHelpers, EditorStrReplaceAndInsert) {
  using engine::import::internal::InsertAfterLine;
  using engine::import::internal::StrReplaceOnce;
  size_t found = 0;
  EXPECT_EQ(StrReplaceOnce("a b a", "b", "c", &found), "a c a");
  EXPECT_EQ(found, 1u);
  EXPECT_FALSE(StrReplaceOnce("a b a", "a", "c", &found));
  EXPECT_EQ(found, 2u);
  EXPECT_FALSE(StrReplaceOnce("a b a", "z", "c", &found));
  EXPECT_EQ(found, 0u);
  // Not found as given: the editor strips both strings and tries once more.
  EXPECT_EQ(StrReplaceOnce("x = 1\n", "\n x = 1 \n", "  y = 2\n", &found), "y = 2\n");
  EXPECT_EQ(InsertAfterLine("a\nb\n", 0, "new"), "new\na\nb\n");
  EXPECT_EQ(InsertAfterLine("a\nb\n", 1, "new"), "a\nnew\nb\n");
  EXPECT_EQ(InsertAfterLine("a\nb\n", 2, "new"), "a\nb\nnew\n");
  EXPECT_EQ(InsertAfterLine("a\nb\n", 3, "new"), "a\nb\n\nnew");  // after the empty last line
  EXPECT_FALSE(InsertAfterLine("a\nb\n", 4, "new"));
  EXPECT_FALSE(InsertAfterLine("a\nb\n", -1, "new"));
  EXPECT_FALSE(InsertAfterLine("a\nb\n", std::nullopt, "new"));
}

TEST(OpenHandsHelpers, FirstLineCutsOnCharacterBoundaries) {
  using engine::import::internal::FirstLine;
  EXPECT_EQ(FirstLine("\n\n  hello world \nnext", 80), "hello world");
  std::string euros;
  for (int i = 0; i < 40; ++i) euros += "\xE2\x82\xAC";  // 3 bytes each
  std::string cut = FirstLine(euros, 10);
  EXPECT_LE(cut.size(), 10u);
  EXPECT_EQ(cut, "\xE2\x82\xAC\xE2\x82\xAC\xE2\x80\xA6");  // two euros and an ellipsis
}

}  // namespace
}  // namespace tink::import_test
