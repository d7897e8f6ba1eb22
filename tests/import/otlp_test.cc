// The OTLP reader (engine/import/otlp.cc) on any-agent's GenAI traces in
// tests/data/agent-runs/otel/ (see tests/data/agent-runs/SOURCES.md). Expected numbers are
// derived from the trace files.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "engine/import/import.h"
#include "schema/schema.h"
#include "support/run_command.h"
#include "support/temp_dir.h"

namespace tink::engine::import {
namespace {

using nlohmann::json;

const std::string kOtel = std::string(TINK_TEST_DATA) + "/otel";
const std::vector<std::string> kTraces = {"OPENAI_trace.json", "LANGCHAIN_trace.json",
                                          "LLAMA_INDEX_trace.json", "TINYAGENT_trace.json"};

json Load(const std::string& path) { return json::parse(tink::testing::ReadFile(path)); }

std::string Trace(const std::string& name) { return kOtel + "/" + name; }

// For a modified copy: trace ids are 128-bit integers, which nlohmann would round to a double, so
// they are made strings first (the reader takes ids as decimal integers or strings).
json LoadForEdit(const std::string& path) {
  static const std::regex kBigId("(\"trace_id\": )([0-9]{20,})");
  return json::parse(std::regex_replace(tink::testing::ReadFile(path), kBigId, "$1\"$2\""));
}

ImportedRun ImportOne(const std::string& path, Options opt = {}) {
  opt.format = "otlp";
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
  int64_t occurred = 0;
  json data;
};

std::vector<Ev> Events(const ImportedRun& run, std::string_view type_prefix = "") {
  std::vector<Ev> out;
  for (const schema::EventInput& e : run.events) {
    if (e.type.starts_with(type_prefix)) {
      out.push_back({e.type, e.stream, e.occurred_ns, json::parse(e.data_json)});
    }
  }
  return out;
}

std::string SpanId(const json& span) {
  const json& id = span["context"]["span_id"];
  return id.is_string() ? id.get<std::string>() : std::to_string(id.get<uint64_t>());
}

std::string Op(const json& span) { return span["attributes"].value("gen_ai.operation.name", ""); }

size_t CountOp(const json& trace, const std::string& op) {
  size_t n = 0;
  for (const json& s : trace["spans"]) {
    n += Op(s) == op;
  }
  return n;
}

std::string WriteJson(const tink::testing::TempDir& dir, const std::string& name, const json& j) {
  std::string path = dir.Sub(name);
  std::ofstream(path, std::ios::binary) << j.dump();
  return path;
}

TEST(OtlpImport, EveryTraceImportsAsOneValidRun) {
  for (const std::string& name : kTraces) {
    SCOPED_TRACE(name);
    const json trace = Load(Trace(name));
    ImportedRun run = ImportOne(Trace(name));
    const std::string stem = FileStem(name);
    EXPECT_EQ(run.source_id, stem);
    EXPECT_EQ(run.run, stem);
    std::set<std::string> ids;
    for (const schema::EventInput& e : run.events) {
      auto enc = schema::EncodeEvent(e);
      EXPECT_TRUE(enc.ok()) << e.type << " " << e.data_json.substr(0, 200) << ": "
                            << enc.status().ToString();
      EXPECT_TRUE(ids.insert(e.id).second) << "duplicate id " << e.id;
      EXPECT_NE(e.occurred_ns, 0) << e.id << ": every span has times";
      // The spans record no file changes; none are invented (write_file has no path).
      EXPECT_FALSE(e.type.starts_with("file.")) << e.id;
    }
    // One tool task per execute_tool span, one llm call per call_llm span.
    const size_t tools = CountOp(trace, "execute_tool"), llms = CountOp(trace, "call_llm");
    EXPECT_GT(tools, 0u);
    EXPECT_EQ(Events(run, "tool.call").size(), tools);
    EXPECT_EQ(Events(run, "tool.result").size(), tools);
    EXPECT_EQ(Events(run, "llm.request").size(), llms);
    EXPECT_EQ(Events(run, "llm.response").size(), llms);
    EXPECT_EQ(Events(run, "task.created").size(), tools + 1);  // + the root "agent"
    // Every span but the root becomes a tool call or an llm call.
    EXPECT_EQ(tools + llms + 1, trace["spans"].size());

    const json started = json::parse(run.events.front().data_json);
    EXPECT_EQ(run.events.front().type, "run.started");
    EXPECT_EQ(started["name"], stem);
    EXPECT_EQ(started["agent"], "any_agent");
    EXPECT_EQ(started["model"], "mistral/mistral-small-latest");
    EXPECT_EQ(started["meta"]["spans"], trace["spans"].size());
    EXPECT_TRUE(started["task"].get<std::string>().starts_with("Find what year it is"));
    const json fin = json::parse(run.events.back().data_json);
    EXPECT_EQ(run.events.back().type, "run.finished");
    EXPECT_EQ(fin["status"], "succeeded");
    EXPECT_EQ(json::parse(fin["summary"].get<std::string>()), trace["final_output"]);
    // write_file's missing path is reported, not papered over.
    bool warned = false;
    for (const std::string& w : run.warnings) {
      warned |= w.find("write_file") != std::string::npos;
    }
    EXPECT_TRUE(warned);
  }
}

TEST(OtlpImport, RootIsFoundAlthoughLastAndTimesComeFromTheSpans) {
  for (const std::string& name : kTraces) {
    SCOPED_TRACE(name);
    const json trace = Load(Trace(name));
    const json& root = trace["spans"].back();  // any-agent writes the root last
    ASSERT_EQ(Op(root), "invoke_agent");
    ASSERT_TRUE(root["parent"].is_object());
    ASSERT_TRUE(root["parent"]["span_id"].is_null());
    ImportedRun run = ImportOne(Trace(name));
    const int64_t start = root["start_time"], end = root["end_time"];
    EXPECT_EQ(run.events.front().occurred_ns, start);
    EXPECT_EQ(run.events.back().occurred_ns, end);
    // Events follow the spans in time order (they nest: no overlaps in these traces).
    for (size_t i = 1; i < run.events.size(); ++i) {
      EXPECT_LE(run.events[i - 1].occurred_ns, run.events[i].occurred_ns) << run.events[i].id;
    }
    // Calls at the span's start, results at its end; the tool task hangs under "agent".
    for (const json& s : trace["spans"]) {
      const std::string id = SpanId(s);
      if (Op(s) == "execute_tool") {
        for (const Ev& e : Events(run)) {
          if (e.stream != "run/" + run.run + "/task/" + id) {
            continue;
          }
          if (e.type == "task.created") {
            EXPECT_EQ(e.data["parent"], "agent");
            EXPECT_EQ(e.data["name"],
                      "tool: " + s["attributes"]["gen_ai.tool.name"].get<std::string>());
          }
          if (e.type == "tool.call") {
            EXPECT_EQ(e.occurred, s["start_time"].get<int64_t>());
            EXPECT_EQ(e.data["args"],
                      json::parse(s["attributes"]["gen_ai.tool.args"].get<std::string>()));
          }
          if (e.type == "tool.result") {
            EXPECT_EQ(e.occurred, s["end_time"].get<int64_t>());
            EXPECT_EQ(e.data["ok"], true);
            EXPECT_EQ(e.data["output"], s["attributes"]["gen_ai.output"]);
          }
        }
      }
    }
  }
}

TEST(OtlpImport, LlmCallsCarryModelMessagesTokensAndCost) {
  const json trace = Load(kOtel + "/OPENAI_trace.json");
  ImportedRun run = ImportOne(kOtel + "/OPENAI_trace.json");
  const json* first = nullptr;
  for (const json& s : trace["spans"]) {
    if (Op(s) == "call_llm" && (first == nullptr || s["start_time"] < (*first)["start_time"])) {
      first = &s;
    }
  }
  ASSERT_NE(first, nullptr);
  const json& a = (*first)["attributes"];
  const std::string id = SpanId(*first);
  bool saw_request = false, saw_response = false;
  for (const Ev& e : Events(run, "llm.")) {
    if (e.data["call_id"] != id) {
      continue;
    }
    EXPECT_EQ(e.stream, "run/" + run.run + "/task/agent");
    if (e.type == "llm.request") {
      saw_request = true;
      EXPECT_EQ(e.data["messages"], json::parse(a["gen_ai.input.messages"].get<std::string>()));
      EXPECT_EQ(e.data["model"], a["gen_ai.request.model"]);
      EXPECT_EQ(e.occurred, (*first)["start_time"].get<int64_t>());
    } else {
      saw_response = true;
      EXPECT_EQ(e.data["content"], a["gen_ai.output"]);
      EXPECT_EQ(e.data["input_tokens"], a["gen_ai.usage.input_tokens"]);
      EXPECT_EQ(e.data["output_tokens"], a["gen_ai.usage.output_tokens"]);
      EXPECT_DOUBLE_EQ(
          e.data["cost_usd"].get<double>(),
          a["gen_ai.usage.input_cost"].get<double>() + a["gen_ai.usage.output_cost"].get<double>());
      EXPECT_EQ(e.occurred, (*first)["end_time"].get<int64_t>());
    }
  }
  EXPECT_TRUE(saw_request);
  EXPECT_TRUE(saw_response);
}

TEST(OtlpImport, TraceIdKeepsAll128Bits) {
  // Trace ids are 128-bit decimal integers: more than a double (or uint64) holds.
  const std::string raw = tink::testing::ReadFile(kOtel + "/OPENAI_trace.json");
  const size_t at = raw.find("\"trace_id\": ") + 12;
  const std::string digits = raw.substr(at, raw.find_first_not_of("0123456789", at) - at);
  ASSERT_GT(digits.size(), 20u);
  ImportedRun run = ImportOne(kOtel + "/OPENAI_trace.json");
  EXPECT_EQ(json::parse(run.events.front().data_json)["meta"]["trace_id"], digits);
}

TEST(OtlpImport, SpanWithMissingParentAttachesToAgent) {
  tink::testing::TempDir dir;
  json trace = LoadForEdit(kOtel + "/OPENAI_trace.json");
  size_t tool = 0;
  while (Op(trace["spans"][tool]) != "execute_tool") {
    ++tool;
  }
  trace["spans"][tool]["parent"]["span_id"] = 12345;
  ImportedRun run = ImportOne(WriteJson(dir, "orphan_trace.json", trace));
  const std::string id = SpanId(trace["spans"][tool]);
  bool created = false;
  for (const Ev& e : Events(run, "task.created")) {
    if (e.data["task"] == id) {
      created = true;
      EXPECT_EQ(e.data["parent"], "agent");
    }
  }
  EXPECT_TRUE(created);
  bool warned = false;
  for (const std::string& w : run.warnings) {
    warned |= w.find("spans[" + std::to_string(tool) + "]") != std::string::npos &&
              w.find("12345") != std::string::npos;
  }
  EXPECT_TRUE(warned);
  EXPECT_EQ(json::parse(run.events.back().data_json)["status"], "succeeded");
}

TEST(OtlpImport, ErrorStatusFailsTheToolTaskAndTheRun) {
  tink::testing::TempDir dir;
  json trace = LoadForEdit(kOtel + "/LANGCHAIN_trace.json");
  size_t tool = 0;
  while (Op(trace["spans"][tool]) != "execute_tool") {
    ++tool;
  }
  trace["spans"][tool]["status"] = {{"status_code", "error"},
                                    {"description", "timezone server down"}};
  ImportedRun run = ImportOne(WriteJson(dir, "error_trace.json", trace));
  const std::string task = SpanId(trace["spans"][tool]);
  bool result = false, failed = false;
  for (const Ev& e : Events(run)) {
    if (e.stream != "run/" + run.run + "/task/" + task) {
      continue;
    }
    if (e.type == "tool.result") {
      result = true;
      EXPECT_EQ(e.data["ok"], false);
      EXPECT_EQ(e.data["error"], "timezone server down");
    }
    failed |= e.type == "task.failed";
    EXPECT_NE(e.type, "task.succeeded");
  }
  EXPECT_TRUE(result);
  EXPECT_TRUE(failed);
  const json fin = json::parse(run.events.back().data_json);
  EXPECT_EQ(fin["status"], "failed");
  EXPECT_EQ(fin["error"], "timezone server down");
}

TEST(OtlpImport, RunOptionAndMultipleTraces) {
  tink::testing::TempDir dir;
  Options opt;
  opt.run = "otel-1";
  ImportedRun run = ImportOne(kOtel + "/TINYAGENT_trace.json", opt);
  EXPECT_EQ(run.run, "otel-1");
  EXPECT_EQ(run.source_id, "TINYAGENT_trace");
  for (const schema::EventInput& e : run.events) {
    EXPECT_TRUE(e.id.starts_with("otel-1/"));
  }
  // Two traces in one file: two runs, told apart by trace id.
  json a = LoadForEdit(kOtel + "/OPENAI_trace.json"),
       b = LoadForEdit(kOtel + "/LANGCHAIN_trace.json");
  json both = a;
  for (const json& s : b["spans"]) {
    both["spans"].push_back(s);
  }
  const std::string path = WriteJson(dir, "two_trace.json", both);
  Options plain;
  plain.format = "otlp";
  auto runs = ImportFile(path, plain);
  ASSERT_TRUE(runs.ok()) << runs.status().ToString();
  ASSERT_EQ(runs->size(), 2u);
  EXPECT_NE((*runs)[0].source_id, (*runs)[1].source_id);
  EXPECT_EQ(Events((*runs)[0], "tool.call").size(), CountOp(a, "execute_tool"));
  EXPECT_EQ(Events((*runs)[1], "tool.call").size(), CountOp(b, "execute_tool"));
  Options one = plain;
  one.run = "x";
  EXPECT_FALSE(ImportFile(path, one).ok()) << "--run needs a single run";
}

TEST(OtlpImport, MalformedInputNamesFileRecordAndField) {
  tink::testing::TempDir dir;
  struct Case {
    std::string name;
    std::function<void(json&)> mutate;
    std::vector<std::string> want;
  };
  const std::vector<Case> cases = {
      {"time_trace.json",
       [](json& t) { t["spans"][2]["start_time"] = "yesterday"; },
       {"spans[2]", "'start_time'", "yesterday"}},
      {"end_trace.json",
       [](json& t) { t["spans"][1].erase("end_time"); },
       {"spans[1]", "'end_time'", "missing"}},
      {"ctx_trace.json",
       [](json& t) { t["spans"][0].erase("context"); },
       {"spans[0]", "'context'"}},
      {"id_trace.json",
       [](json& t) { t["spans"][3]["context"]["span_id"] = json::array(); },
       {"spans[3]", "'context.span_id'"}},
      {"attr_trace.json",
       [](json& t) { t["spans"][4]["attributes"] = "x"; },
       {"spans[4]", "'attributes'"}},
      {"dup_trace.json",
       [](json& t) { t["spans"][1]["context"]["span_id"] = t["spans"][0]["context"]["span_id"]; },
       {"'context.span_id'", "duplicate"}},
      {"spans_trace.json", [](json& t) { t["spans"] = json::object(); }, {"'spans'", "an array"}},
      {"noroot_trace.json",
       [](json& t) {
         t["spans"].back()["parent"]["span_id"] = t["spans"][0]["context"]["span_id"];
         t["spans"][0]["parent"]["span_id"] = t["spans"].back()["context"]["span_id"];
       },
       {"root"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    json trace = LoadForEdit(kOtel + "/OPENAI_trace.json");
    c.mutate(trace);
    const std::string path = WriteJson(dir, c.name, trace);
    Options opt;
    opt.format = "otlp";
    auto r = ImportFile(path, opt);
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
    EXPECT_NE(r.status().message().find(path + ": "), std::string::npos) << r.status().message();
    for (const std::string& w : c.want) {
      EXPECT_NE(r.status().message().find(w), std::string::npos) << r.status().message();
    }
  }
  const std::string junk = dir.Sub("junk_trace.json");
  std::ofstream(junk) << "{\"spans\": [{]";
  Options opt;
  opt.format = "otlp";
  auto j = ImportFile(junk, opt);
  ASSERT_FALSE(j.ok());
  EXPECT_NE(j.status().message().find(junk + ": malformed JSON at byte"), std::string::npos)
      << j.status().message();
}

}  // namespace
}  // namespace tink::engine::import
