// Well-formed JSON of the wrong shape never throws out of an importer (issue 14, item 9): every
// field of every recording in tests/data/agent-runs, replaced in turn by a value of each other
// JSON kind, by 100000 nested arrays, or by a string holding such JSON text (the readers parse
// JSON found inside strings: tool arguments, OTel attributes), gives either a run whose events
// encode or InvalidArgument naming the file; never an exception, never a stack overflow.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "engine/import/import.h"
#include "schema/schema.h"
#include "support/run_command.h"
#include "support/temp_dir.h"

namespace tink::engine::import {
namespace {

using nlohmann::json;

const std::string kData = TINK_TEST_DATA;

// The recording as a JSON value; a .jsonl file becomes an array of its lines. 128-bit OTel ids
// are made strings first so that a re-dumped copy keeps them exact.
json LoadRecording(const std::string& path, bool lines, size_t max_lines) {
  static const std::regex kBigInt("(: *)(-?[0-9]{20,})");
  const std::string text = std::regex_replace(tink::testing::ReadFile(path), kBigInt, "$1\"$2\"");
  if (!lines) return json::parse(text);
  json out = json::array();
  size_t start = 0;
  while (start < text.size() && out.size() < max_lines) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) out.push_back(json::parse(text.substr(start, end - start)));
    start = end + 1;
  }
  return out;
}

std::string Repeat(const std::string& s, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

// Stands for 100000 nested arrays, spliced in as text (dumping such a value would recurse).
const std::string kDeepMarker = "@@deep@@";
const std::string kDeepText = Repeat("[", 100000) + Repeat("]", 100000);

void WriteRecording(const std::string& path, const json& doc, bool lines) {
  std::string text;
  if (!lines) {
    text = doc.dump();
  } else {
    for (const json& l : doc) text += l.dump() + "\n";
  }
  const std::string quoted = "\"" + kDeepMarker + "\"";
  if (size_t at = text.find(quoted); at != std::string::npos)
    text.replace(at, quoted.size(), kDeepText);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

// One pointer per "shape" path (array indices generalised to *), up to two occurrences each
// (first and last), so every field the readers look at is hit without trying all of them.
void Collect(const json& j, const json::json_pointer& at, const std::string& shape,
             std::map<std::string, std::vector<json::json_pointer>>& out) {
  out[shape].push_back(at);
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      Collect(*it, at / it.key(), shape + "/" + it.key(), out);
    }
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i) Collect(j[i], at / i, shape + "/*", out);
  }
}

struct Target {
  json::json_pointer ptr;
  bool first = false;  // the first occurrence of its shape (the deep values go only there)
};

std::vector<Target> Targets(const json& doc) {
  std::map<std::string, std::vector<json::json_pointer>> shapes;
  Collect(doc, json::json_pointer(), "", shapes);
  std::vector<Target> out;
  for (auto& [shape, ptrs] : shapes) {
    if (shape.empty()) continue;
    out.push_back({ptrs.front(), true});
    if (ptrs.size() > 1) out.push_back({ptrs.back(), false});
  }
  return out;
}

const std::vector<json>& Replacements() {
  static const std::vector<json> kValues = {
      json(5),           json(-7),           json(uint64_t{18446744073709551615u}),
      json(1.5),         json("x"),          json::array(),
      json::object(),    json(nullptr),      json(true),
      json::array({1}),  json({{"k", "v"}}), json("2026-13-45T99:99:99Z"),
      json(kDeepMarker),  // 100000 nested arrays
      json(kDeepText),    // a string holding them as JSON text
  };
  return kValues;
}

struct Recording {
  std::string file;
  std::string format;
  bool lines = false;
  size_t max_lines = 1000;
  bool first_only = false;  // only the first occurrence of each shape (a large recording)
};

void MutateEveryField(const Recording& rec) {
  SCOPED_TRACE(rec.file);
  tink::testing::TempDir dir;
  const json doc = LoadRecording(kData + "/" + rec.file, rec.lines, rec.max_lines);
  const std::string path = dir.Sub("rec" + std::string(rec.lines ? ".jsonl" : ".json"));
  Options opt;
  opt.format = rec.format;

  // The unmutated copy imports: the mutations below start from a valid recording.
  WriteRecording(path, doc, rec.lines);
  {
    auto r = ImportFile(path, opt);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  size_t tried = 0, refused = 0;
  for (const auto& [ptr, first] : Targets(doc)) {
    for (const json& v : Replacements()) {
      const bool deep = v.is_string() && (v.get_ref<const std::string&>() == kDeepMarker ||
                                          v.get_ref<const std::string&>() == kDeepText);
      // Later occurrences of a shape get only a few kinds (the whole set costs minutes).
      const bool few = v == json(5) || v == json("x") || v == json::array();
      if (doc.at(ptr) == v || (!first && (deep || !few || rec.first_only))) continue;
      json bad = doc;
      bad[ptr] = v;
      WriteRecording(path, bad, rec.lines);
      ++tried;
      try {
        auto r = ImportFile(path, opt);
        if (r.ok()) {
          // What an importer returns is appendable, or refused as bad input.
          for (const ImportedRun& run : *r) {
            for (const schema::EventInput& e : run.events) {
              auto enc = schema::EncodeEvent(e);
              EXPECT_TRUE(enc.ok() || enc.status().IsInvalidArgument())
                  << ptr.to_string() << " = " << v.dump().substr(0, 40) << ": "
                  << enc.status().ToString();
            }
          }
          continue;
        }
        ++refused;
        EXPECT_TRUE(r.status().IsInvalidArgument())
            << ptr.to_string() << " = " << v.dump().substr(0, 40) << ": " << r.status().ToString();
        EXPECT_NE(r.status().message().find(path), std::string::npos)
            << ptr.to_string() << " = " << v.dump().substr(0, 40) << ": " << r.status().ToString();
      } catch (const std::exception& e) {
        ADD_FAILURE() << ptr.to_string() << " = " << v.dump().substr(0, 40) << ": threw "
                      << e.what();
      }
    }
  }
  // Both outcomes happened: the test changed what the reader reads.
  EXPECT_GT(tried, 100u);
  EXPECT_GT(refused, 0u);
}

TEST(WrongTypes, SweAgentNeverThrows) {
  for (const char* f : {"swe-agent/marshmallow-code__marshmallow-1867.traj",
                        "swe-agent/6e44b9__sweagenttestrepo-1c2844.traj",
                        "swe-agent/swe-agent__test-repo-i1.traj"}) {
    MutateEveryField({f, "swe-agent"});
  }
}

TEST(WrongTypes, OpenHandsNeverThrows) {
  for (const char* f : {"openhands/basic.json", "openhands/basic_gui_mode.json",
                        "openhands/wrong_initial_state.json"}) {
    MutateEveryField({f, "openhands"});
  }
  MutateEveryField({"openhands/output.jsonl", "openhands", /*lines=*/true, /*max_lines=*/1,
                    /*first_only=*/true});
}

TEST(WrongTypes, OtlpNeverThrows) {
  for (const char* f : {"otel/OPENAI_trace.json", "otel/LANGCHAIN_trace.json",
                        "otel/LLAMA_INDEX_trace.json", "otel/TINYAGENT_trace.json"}) {
    MutateEveryField({f, "otlp"});
  }
}

TEST(WrongTypes, JsonlNeverThrows) {
  MutateEveryField({"mini-swe-agent-github_issue.jsonl", "jsonl", /*lines=*/true});
}

}  // namespace
}  // namespace tink::engine::import
