// The SWE-agent reader (engine/import/swe_agent.cc) on the recorded trajectories in
// tests/data/agent-runs/swe-agent/ (see tests/data/agent-runs/SOURCES.md). Expected numbers are
// read from the recordings themselves where possible.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "engine/import/import.h"
#include "projections/textdiff.h"
#include "schema/schema.h"
#include "support/run_command.h"
#include "support/temp_dir.h"

namespace tink::engine::import {
namespace {

using nlohmann::json;
namespace text = projections::text;

const std::string kData = TINK_TEST_DATA;
const std::string kMarshmallow = kData + "/swe-agent/marshmallow-code__marshmallow-1867.traj";
const std::string kTestRepo1 = kData + "/swe-agent/6e44b9__sweagenttestrepo-1c2844.traj";
const std::string kTestRepo0 = kData + "/swe-agent/swe-agent__test-repo-i1.traj";
const std::string kBase = kData + "/base/marshmallow-1867";

json Load(const std::string& path) { return json::parse(tink::testing::ReadFile(path)); }

ImportedRun ImportOne(const std::string& path, Options opt = {}) {
  opt.format = "swe-agent";
  auto runs = ImportFile(path, opt);
  EXPECT_TRUE(runs.ok()) << runs.status().ToString();
  if (!runs.ok() || runs->size() != 1) {
    ADD_FAILURE() << path << ": expected one run";
    return {};
  }
  ImportedRun run = std::move(runs->front());
  // ImportFile appends each warning as a note {kind: import_warning} after the reader's events;
  // they are checked here and dropped, so the tests see what the reader made.
  size_t notes = 0;
  while (!run.events.empty() && run.events.back().type == "note" &&
         json::parse(run.events.back().data_json).value("kind", "") == "import_warning") {
    run.events.pop_back();
    ++notes;
  }
  EXPECT_EQ(notes, run.warnings.size());
  return run;
}

struct Ev {
  std::string type, stream;
  json data;
};

std::vector<Ev> Events(const ImportedRun& run, std::string_view type_prefix = "") {
  std::vector<Ev> out;
  for (const schema::EventInput& e : run.events) {
    if (!e.type.starts_with(type_prefix)) {
      continue;
    }
    out.push_back({e.type, e.stream, json::parse(e.data_json)});
  }
  return out;
}

std::vector<Ev> OnTask(const ImportedRun& run, const std::string& task,
                       std::string_view type_prefix = "") {
  std::vector<Ev> out;
  for (Ev& e : Events(run, type_prefix)) {
    if (e.stream == "run/" + run.run + "/task/" + task) {
      out.push_back(std::move(e));
    }
  }
  return out;
}

// The files after replaying the run's file events over `files`, as the canvas would.
std::map<std::string, std::string> Replay(const ImportedRun& run,
                                          std::map<std::string, std::string> files = {}) {
  for (const Ev& e : Events(run, "file.")) {
    const std::string path = e.data["path"];
    if (e.type == "file.write") {
      files[path] = e.data["content"];
    } else if (e.type == "file.patch") {
      auto applied = text::ApplyPatch(files[path], e.data["diff"].get<std::string>());
      EXPECT_TRUE(applied.ok()) << path << ": " << applied.status().ToString();
      if (applied.ok()) {
        files[path] = *applied;
      }
    } else if (e.type == "file.delete") {
      files.erase(path);
    } else if (e.type == "file.rename") {
      files[e.data["to"]] = files[path];
      files.erase(path);
    }
  }
  return files;
}

// A recorded final patch compared with a replayed diff: CRLF -> LF, a leading empty line and a
// missing final newline ignored, `index` lines compared by blob-id prefix (and mode).
::testing::AssertionResult SamePatch(const std::string& ours, const std::string& recorded) {
  auto lines = [](const std::string& p) {
    std::string lf;
    for (size_t i = 0; i < p.size(); ++i) {
      if (p[i] != '\r' || i + 1 >= p.size() || p[i + 1] != '\n') {
        lf += p[i];
      }
    }
    while (lf.starts_with("\n")) {
      lf.erase(0, 1);
    }
    if (!lf.ends_with("\n")) {
      lf += '\n';
    }
    std::vector<std::string> out;
    for (std::string_view l : text::SplitLines(lf)) {
      out.emplace_back(l);
    }
    return out;
  };
  // "index A..B MODE" -> {A, B}.
  auto blobs = [](const std::string& l) {
    const size_t dots = l.find("..");
    const size_t sp = l.find(' ', dots);
    return std::pair(l.substr(6, dots - 6), l.substr(dots + 2, sp - dots - 2));
  };
  auto prefix = [](const std::string& p, const std::string& q) {
    return !p.empty() && !q.empty() && (p.starts_with(q) || q.starts_with(p));
  };
  const std::vector<std::string> a = lines(ours), b = lines(recorded);
  if (a.size() != b.size()) {
    return ::testing::AssertionFailure()
           << a.size() << " lines vs " << b.size() << "\n--- replayed\n"
           << ours << "\n--- recorded\n"
           << recorded;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].starts_with("index ") && b[i].starts_with("index ")) {
      // Abbreviated ids: each must be a prefix of the other. Modes are not compared: the
      // importer's file view does not track them.
      auto [xa, xb] = blobs(a[i]);
      auto [ya, yb] = blobs(b[i]);
      if (prefix(xa, ya) && prefix(xb, yb)) {
        continue;
      }
    }
    if (a[i] != b[i]) {
      return ::testing::AssertionFailure()
             << "line " << i + 1 << ":\n  replayed: " << a[i] << "\n  recorded: " << b[i];
    }
  }
  return ::testing::AssertionSuccess();
}

std::string WriteJson(const tink::testing::TempDir& dir, const std::string& name, const json& j) {
  std::string path = dir.Sub(name);
  std::ofstream(path, std::ios::binary) << j.dump();
  return path;
}

TEST(SweAgentImport, EveryTrajectoryImportsAsOneValidRun) {
  for (const std::string& path : {kMarshmallow, kTestRepo1, kTestRepo0}) {
    SCOPED_TRACE(path);
    const json traj = Load(path);
    ImportedRun run = ImportOne(path);
    const std::string stem = FileStem(path);
    EXPECT_EQ(run.source_id, stem);
    EXPECT_EQ(run.run, stem);
    ASSERT_FALSE(run.events.empty());
    // Every event is a valid catalog event, and ids are unique.
    std::set<std::string> ids;
    for (const schema::EventInput& e : run.events) {
      auto enc = schema::EncodeEvent(e);
      EXPECT_TRUE(enc.ok()) << e.type << " " << e.data_json.substr(0, 200) << ": "
                            << enc.status().ToString();
      EXPECT_TRUE(ids.insert(e.id).second) << "duplicate id " << e.id;
      EXPECT_EQ(e.run, stem);
      EXPECT_EQ(e.occurred_ns, 0) << "the trajectories hold no times";
    }
    // run.started first, run.finished last; one tool.call per recorded step.
    EXPECT_EQ(run.events.front().type, "run.started");
    EXPECT_EQ(run.events.back().type, "run.finished");
    const json started = json::parse(run.events.front().data_json);
    EXPECT_EQ(started["agent"], "swe-agent");
    EXPECT_EQ(started["meta"]["format"], "swe-agent");
    const bool v0 = traj["trajectory"][0]["state"].is_string();
    EXPECT_EQ(started["meta"]["version"], v0 ? "0.x" : "1.x");
    EXPECT_EQ(started["meta"]["exit_status"], traj["info"]["exit_status"]);
    EXPECT_EQ(Events(run, "tool.call").size(), traj["trajectory"].size());
    EXPECT_EQ(Events(run, "tool.result").size(), traj["trajectory"].size());
    EXPECT_EQ(Events(run, "llm.response").size(), traj["trajectory"].size());
    EXPECT_FALSE(started.value("task", "").empty());
    // Submitted: the agent task and the run succeed, and the final patch is kept verbatim.
    EXPECT_EQ(json::parse(run.events.back().data_json)["status"], "succeeded");
    ASSERT_TRUE(run.final_patch.has_value());
    EXPECT_EQ(*run.final_patch, traj["info"]["submission"].get<std::string>());
    auto notes = OnTask(run, "agent", "note");
    ASSERT_EQ(notes.size(), 1u);
    EXPECT_EQ(notes[0].data["kind"], "final_patch");
    EXPECT_EQ(notes[0].data["text"], traj["info"]["submission"]);
    EXPECT_EQ(OnTask(run, "agent", "task.succeeded").size(), 1u);
  }
}

TEST(SweAgentImport, StepsBecomeChildTasksWithTheRecordedCallAndResult) {
  const json traj = Load(kMarshmallow);
  ImportedRun run = ImportOne(kMarshmallow);
  for (size_t i = 0; i < traj["trajectory"].size(); ++i) {
    SCOPED_TRACE(i);
    const json& step = traj["trajectory"][i];
    const std::string task = "step-" + std::to_string(i);
    auto created = OnTask(run, task, "task.created");
    ASSERT_EQ(created.size(), 1u);
    EXPECT_EQ(created[0].data["parent"], "agent");
    const std::string action = step["action"];
    EXPECT_EQ(created[0].data["name"], action.substr(0, std::min(action.find('\n'), size_t{80})));
    auto call = OnTask(run, task, "tool.call");
    ASSERT_EQ(call.size(), 1u);
    EXPECT_EQ(call[0].data["args"]["command"], action);
    EXPECT_EQ(call[0].data["tool"], action.substr(0, action.find(' ')));
    auto result = OnTask(run, task, "tool.result");
    ASSERT_EQ(result.size(), 1u);
    // The observation is kept as recorded, CRLF included.
    EXPECT_EQ(result[0].data["output"], step["observation"]);
    EXPECT_DOUBLE_EQ(result[0].data["duration_ms"].get<double>(),
                     step["execution_time"].get<double>() * 1000.0);
  }
  // Structured arguments of the function call are kept next to the command.
  auto insert_call = OnTask(run, "step-1", "tool.call");
  EXPECT_EQ(insert_call[0].data["args"]["arguments"]["text"].get<std::string>().substr(0, 40),
            "from marshmallow.fields import TimeDelta");
  EXPECT_NE(std::string(OnTask(run, "step-1", "tool.result")[0].data["output"]).find("\r\n"),
            std::string::npos);
}

TEST(SweAgentImport, MarshmallowRejectedEditHasNoFileEventAndFails) {
  for (bool with_base : {false, true}) {
    SCOPED_TRACE(with_base ? "with --base" : "without --base");
    Options opt;
    if (with_base) {
      opt.base_dir = kBase;
    }
    ImportedRun run = ImportOne(kMarshmallow, opt);
    // Step 6: the linter rejected the edit although its SEARCH text is in the file.
    EXPECT_TRUE(OnTask(run, "step-6", "file.").empty());
    auto failed = OnTask(run, "step-6", "task.failed");
    ASSERT_EQ(failed.size(), 1u);
    EXPECT_NE(failed[0].data["error"].get<std::string>().find("syntax error"), std::string::npos);
    EXPECT_TRUE(OnTask(run, "step-6", "task.succeeded").empty());
    EXPECT_EQ(OnTask(run, "step-6", "tool.result")[0].data["ok"], false);
    // Step 7: accepted, exactly one patch of fields.py.
    auto files = OnTask(run, "step-7", "file.");
    ASSERT_EQ(files.size(), 1u);
    EXPECT_EQ(files[0].type, "file.patch");
    EXPECT_EQ(files[0].data["path"], "src/marshmallow/fields.py");
    EXPECT_NE(files[0].data["diff"].get<std::string>().find(
                  "+        return int(round(value.total_seconds() / base_unit.total_seconds()))"),
              std::string::npos);
    EXPECT_EQ(OnTask(run, "step-7", "task.succeeded").size(), 1u);
  }
}

TEST(SweAgentImport, MarshmallowReproduceScriptIsCreatedFilledAndDeleted) {
  const json traj = Load(kMarshmallow);
  ImportedRun run = ImportOne(kMarshmallow);
  std::vector<std::pair<std::string, std::string>> seen;  // (task, type) on reproduce.py
  for (const schema::EventInput& e : run.events) {
    if (!e.type.starts_with("file.")) {
      continue;
    }
    json d = json::parse(e.data_json);
    if (d["path"] == "reproduce.py") {
      seen.emplace_back(d["task"], e.type);
    }
  }
  const std::vector<std::pair<std::string, std::string>> want = {
      {"step-0", "file.write"}, {"step-1", "file.patch"}, {"step-9", "file.delete"}};
  EXPECT_EQ(seen, want);
  // After the insert, the content is what the recorded view of step 1 shows.
  ImportedRun upto = run;
  upto.events.clear();
  for (const schema::EventInput& e : run.events) {
    if (e.stream.ends_with("/task/step-9")) {
      break;
    }
    upto.events.push_back(e);
  }
  // (Without --base, fields.py's patch is a bare hunk for the recorded base: seed it.)
  const std::map<std::string, std::string> base = {
      {"src/marshmallow/fields.py", tink::testing::ReadFile(kBase + "/src/marshmallow/fields.py")}};
  auto files = Replay(upto, base);
  ASSERT_TRUE(files.contains("reproduce.py"));
  std::string shown;
  std::string obs = traj["trajectory"][1]["observation"];
  for (std::string_view l : text::SplitLines(obs)) {
    if (!l.empty() && l.back() == '\r') {
      l.remove_suffix(1);
    }
    size_t colon = l.find(':');
    if (l.starts_with("[File:") || colon == std::string_view::npos) {
      continue;
    }
    shown += std::string(l.substr(colon + 1)) + "\n";
  }
  EXPECT_EQ(files["reproduce.py"] + "\n", shown);
  EXPECT_FALSE(Replay(run, base).contains("reproduce.py"));
}

TEST(SweAgentImport, MarshmallowWithBaseReproducesTheRecordedPatch) {
  Options opt;
  opt.base_dir = kBase;
  ImportedRun run = ImportOne(kMarshmallow, opt);
  const std::string base = tink::testing::ReadFile(kBase + "/src/marshmallow/fields.py");
  // The base files come first, on task agent, marked base.
  auto writes = OnTask(run, "agent", "file.write");
  ASSERT_FALSE(writes.empty());
  bool saw_fields = false;
  for (const Ev& w : writes) {
    EXPECT_EQ(w.data["base"], true);
    if (w.data["path"] == "src/marshmallow/fields.py") {
      saw_fields = true;
      EXPECT_EQ(w.data["content"], base);
    }
  }
  EXPECT_TRUE(saw_fields);
  auto files = Replay(run);
  ASSERT_TRUE(files.contains("src/marshmallow/fields.py"));
  EXPECT_FALSE(files.contains("reproduce.py"));
  auto diff = text::UnifiedDiff(
      {"src/marshmallow/fields.py", std::string_view(base)},
      {"src/marshmallow/fields.py", std::string_view(files["src/marshmallow/fields.py"])});
  ASSERT_TRUE(diff.ok()) << diff.status().ToString();
  const std::string expected = tink::testing::ReadFile(kData + "/expected/marshmallow-1867.patch");
  EXPECT_TRUE(SamePatch(*diff, expected));
  // The recorded final patch is that file, byte for byte (CRLF and all).
  EXPECT_EQ(run.final_patch.value_or(""), expected);
  // Replaying with the base, the view of every accepted edit agrees with the observation.
  EXPECT_TRUE(run.warnings.empty()) << run.warnings.front();
}

TEST(SweAgentImport, MarshmallowWithoutBaseRebuildsThePatchFromTheView) {
  ImportedRun run = ImportOne(kMarshmallow);
  // Nothing of fields.py is known: the patch is rebuilt from the view, with a warning...
  bool warned = false;
  for (const std::string& w : run.warnings) {
    warned |= w.starts_with("step 7:") && w.find("src/marshmallow/fields.py") != std::string::npos;
  }
  EXPECT_TRUE(warned);
  // ...and applied to the base it gives the same file as the replay with --base.
  const std::string base = tink::testing::ReadFile(kBase + "/src/marshmallow/fields.py");
  auto files = Replay(run, {{"src/marshmallow/fields.py", base}});
  Options opt;
  opt.base_dir = kBase;
  auto with_base = Replay(ImportOne(kMarshmallow, opt));
  EXPECT_EQ(files["src/marshmallow/fields.py"], with_base["src/marshmallow/fields.py"]);
  EXPECT_NE(files["src/marshmallow/fields.py"], base);
}

// The same task recorded by SWE-agent 0.x and 1.x: the same file change.
TEST(SweAgentImport, TestRepoZeroAndOneProduceTheSameChange) {
  std::vector<std::string> diffs;
  for (const std::string& path : {kTestRepo0, kTestRepo1}) {
    SCOPED_TRACE(path);
    const json traj = Load(path);
    ImportedRun run = ImportOne(path);
    // The pre-image blob and the result blob, from the recording's own final patch.
    const std::string sub = traj["info"]["submission"];
    const size_t idx = sub.find("index ");
    ASSERT_NE(idx, std::string::npos);
    const std::string pre = sub.substr(idx + 6, sub.find("..", idx) - idx - 6);
    const std::string post = sub.substr(sub.find("..", idx) + 2, pre.size());
    // No base: the whole-file view of `open` is the content before the run, checked against
    // the patch's pre-image blob.
    auto base = OnTask(run, "agent", "file.write");
    ASSERT_EQ(base.size(), 1u);
    EXPECT_EQ(base[0].data["path"], "tests/missing_colon.py");
    EXPECT_EQ(base[0].data["base"], true);
    EXPECT_EQ(base[0].data["mode"], "100755");
    EXPECT_TRUE(text::GitBlobId(base[0].data["content"].get<std::string>()).starts_with(pre));
    // Exactly one change, a patch of that file, by the edit step.
    std::vector<Ev> changes;
    for (Ev& e : Events(run, "file.")) {
      if (e.data.value("base", false)) {
        continue;
      }
      changes.push_back(std::move(e));
    }
    ASSERT_EQ(changes.size(), 1u);
    EXPECT_EQ(changes[0].type, "file.patch");
    EXPECT_EQ(changes[0].data["path"], "tests/missing_colon.py");
    EXPECT_EQ(changes[0].data["task"], "step-2");
    diffs.push_back(changes[0].data["diff"]);
    auto files = Replay(run);
    EXPECT_TRUE(text::GitBlobId(files["tests/missing_colon.py"]).starts_with(post));
    EXPECT_TRUE(SamePatch(diffs.back(), sub));
  }
  EXPECT_EQ(diffs[0], diffs[1]);
}

TEST(SweAgentImport, ZeroXStateIsReadBeforeTheAction) {
  // In 0.x the `open` step still records open_file "n/a"; the edit after it must still find
  // the file through the next step's state.
  const json traj = Load(kTestRepo0);
  ASSERT_TRUE(traj["trajectory"][1]["state"].get<std::string>().find("n/a") != std::string::npos);
  ImportedRun run = ImportOne(kTestRepo0);
  EXPECT_EQ(OnTask(run, "step-2", "file.patch").size(), 1u);
  EXPECT_TRUE(run.warnings.empty()) << run.warnings.front();
}

TEST(SweAgentImport, RunAndRootOptions) {
  Options opt;
  opt.run = "r42";
  opt.root = "/testbed/src";
  opt.base_dir = kBase + "/src";
  ImportedRun run = ImportOne(kMarshmallow, opt);
  EXPECT_EQ(run.run, "r42");
  EXPECT_EQ(run.source_id, "marshmallow-code__marshmallow-1867");
  for (const schema::EventInput& e : run.events) {
    EXPECT_EQ(e.run, "r42");
    EXPECT_TRUE(e.id.starts_with("r42/"));
    EXPECT_TRUE(e.stream.starts_with("run/r42"));
  }
  auto patch = OnTask(run, "step-7", "file.patch");
  ASSERT_EQ(patch.size(), 1u);
  EXPECT_EQ(patch[0].data["path"], "marshmallow/fields.py");
}

TEST(SweAgentImport, ImportIsDeterministic) {
  ImportedRun a = ImportOne(kMarshmallow), b = ImportOne(kMarshmallow);
  ASSERT_EQ(a.events.size(), b.events.size());
  for (size_t i = 0; i < a.events.size(); ++i) {
    EXPECT_EQ(a.events[i].id, b.events[i].id);
    EXPECT_EQ(a.events[i].data_json, b.events[i].data_json);
  }
}

TEST(SweAgentImport, ShellCommandsThatChangeFilesAreNotReplayed) {
  tink::testing::TempDir dir;
  json traj = Load(kMarshmallow);
  traj["trajectory"][3]["action"] = "sed -i 's/a/b/' src/marshmallow/fields.py";
  traj["trajectory"][4]["action"] = "echo x > notes.txt";
  traj["trajectory"][4]["observation"] = "";
  traj["trajectory"][8]["action"] = "rm -rf build";
  traj["trajectory"][8]["observation"] = "";
  traj["history"] = json::array();  // the structured calls no longer match
  ImportedRun run = ImportOne(WriteJson(dir, "edited.traj", traj));
  for (int step : {3, 4, 8}) {
    SCOPED_TRACE(step);
    const std::string task = "step-" + std::to_string(step);
    EXPECT_TRUE(OnTask(run, task, "file.").empty());
    bool warned = false;
    for (const std::string& w : run.warnings) {
      warned |= w.starts_with("step " + std::to_string(step) + ":");
    }
    EXPECT_TRUE(warned) << task;
  }
  // A plain rm whose observation shows no error is still a deletion.
  EXPECT_EQ(OnTask(run, "step-9", "file.delete").size(), 1u);
}

TEST(SweAgentImport, FailedRmIsNoDeletion) {
  tink::testing::TempDir dir;
  json traj = Load(kMarshmallow);
  traj["trajectory"][9]["observation"] =
      "rm: cannot remove 'reproduce.py': No such file or directory";
  ImportedRun run = ImportOne(WriteJson(dir, "rm.traj", traj));
  EXPECT_TRUE(OnTask(run, "step-9", "file.").empty());
  EXPECT_EQ(OnTask(run, "step-9", "task.failed").size(), 1u);
}

TEST(SweAgentImport, CommandNotFoundFailsTheStep) {
  tink::testing::TempDir dir;
  json traj = Load(kMarshmallow);
  traj["trajectory"][3]["action"] = "lss -F";
  traj["trajectory"][3]["observation"] = "bash: lss: command not found";
  ImportedRun run = ImportOne(WriteJson(dir, "cnf.traj", traj));
  auto failed = OnTask(run, "step-3", "task.failed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].data["error"], "bash: lss: command not found");
  EXPECT_EQ(OnTask(run, "step-3", "tool.result")[0].data["ok"], false);
}

TEST(SweAgentImport, OtherExitStatusFailsTheRun) {
  tink::testing::TempDir dir;
  json traj = Load(kMarshmallow);
  traj["info"]["exit_status"] = "exit_cost";
  ImportedRun run = ImportOne(WriteJson(dir, "cost.traj", traj));
  const json fin = json::parse(run.events.back().data_json);
  EXPECT_EQ(run.events.back().type, "run.finished");
  EXPECT_EQ(fin["status"], "failed");
  EXPECT_NE(fin["error"].get<std::string>().find("exit_cost"), std::string::npos);
  EXPECT_EQ(OnTask(run, "agent", "task.failed").size(), 1u);
  EXPECT_TRUE(OnTask(run, "agent", "task.succeeded").empty());
}

// Malformed input: InvalidArgument naming the file, the record and the field; nothing returned.
TEST(SweAgentImport, MalformedInputNamesFileRecordAndField) {
  tink::testing::TempDir dir;
  struct Case {
    std::string name;
    std::function<void(json&)> mutate;
    std::vector<std::string> want;
  };
  const std::vector<Case> cases = {
      {"obs.traj",
       [](json& t) { t["trajectory"][2]["observation"] = 5; },
       {"trajectory[2]", "'observation'", "a string"}},
      {"action.traj",
       [](json& t) { t["trajectory"][4].erase("action"); },
       {"trajectory[4]", "'action'", "missing"}},
      {"step.traj", [](json& t) { t["trajectory"][1] = "oops"; }, {"trajectory[1]", "an object"}},
      {"time.traj",
       [](json& t) { t["trajectory"][0]["execution_time"] = "fast"; },
       {"trajectory[0]", "'execution_time'"}},
      {"notraj.traj", [](json& t) { t.erase("trajectory"); }, {"'trajectory'", "missing"}},
      {"sub.traj", [](json& t) { t["info"]["submission"] = json::array(); }, {"'info.submission'"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    json traj = Load(kMarshmallow);
    c.mutate(traj);
    const std::string path = WriteJson(dir, c.name, traj);
    Options opt;
    opt.format = "swe-agent";
    auto r = ImportFile(path, opt);
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
    EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status().message();
    for (const std::string& w : c.want) {
      EXPECT_NE(r.status().message().find(w), std::string::npos) << r.status().message();
    }
  }
  // 0.x: the state is JSON text; broken text is named too.
  json zero = Load(kTestRepo0);
  zero["trajectory"][3]["state"] = "{\"open_file\": ";
  const std::string path = WriteJson(dir, "state.traj", zero);
  Options opt;
  opt.format = "swe-agent";
  auto r = ImportFile(path, opt);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(path), std::string::npos);
  EXPECT_NE(r.status().message().find("trajectory[3]"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("'state'"), std::string::npos) << r.status().message();
  // Not JSON at all.
  const std::string junk = dir.Sub("junk.traj");
  std::ofstream(junk) << "{\"trajectory\": [";
  auto j = ImportFile(junk, opt);
  ASSERT_FALSE(j.ok());
  EXPECT_NE(j.status().message().find(junk + ": malformed JSON at byte"), std::string::npos)
      << j.status().message();
}

}  // namespace
}  // namespace tink::engine::import
