// Helpers for the importer tests: the data folder, reading and writing files, looking at the
// events a reader returned.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "engine/import/import.h"
#include "projections/textdiff.h"
#include "schema/schema.h"

namespace tink::import_test {

using engine::import::ImportedRun;
using nlohmann::json;

// A file of the recorded runs in tests/data/agent-runs (see its SOURCES.md).
inline std::string DataPath(const std::string& rel) {
  return std::string(TINK_TEST_DATA) + "/" + rel;
}

inline std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

inline json Data(const schema::EventInput& e) { return json::parse(e.data_json); }

inline size_t CountType(const ImportedRun& r, const std::string& type) {
  size_t n = 0;
  for (const auto& e : r.events) n += e.type == type ? 1 : 0;
  return n;
}

// The run's own file events (not the --base copies).
inline std::vector<const schema::EventInput*> FileEvents(const ImportedRun& r) {
  std::vector<const schema::EventInput*> out;
  for (const auto& e : r.events) {
    if (e.type.starts_with("file.") && !Data(e).value("base", false)) out.push_back(&e);
  }
  return out;
}

// Events on one task's stream.
inline std::vector<const schema::EventInput*> TaskEvents(const ImportedRun& r,
                                                         const std::string& task) {
  std::vector<const schema::EventInput*> out;
  const std::string stream = "run/" + r.run + "/task/" + task;
  for (const auto& e : r.events) {
    if (e.stream == stream) out.push_back(&e);
  }
  return out;
}

inline bool HasType(const std::vector<const schema::EventInput*>& events, const std::string& t) {
  for (const auto* e : events) {
    if (e->type == t) return true;
  }
  return false;
}

// Folds the run's file events as the canvas does: file.write sets the content, file.patch applies
// its diff to the current content (failing the test when it does not apply).
inline std::map<std::string, std::string> FoldFiles(const ImportedRun& r) {
  std::map<std::string, std::string> files;
  for (const auto& e : r.events) {
    if (!e.type.starts_with("file.")) continue;
    json d = Data(e);
    const std::string path = d["path"];
    if (e.type == "file.write") {
      files[path] = d["content"];
    } else if (e.type == "file.patch") {
      auto applied = projections::text::ApplyPatch(files[path], d["diff"].get<std::string>());
      EXPECT_TRUE(applied.ok()) << e.id << ": " << applied.status().ToString();
      if (applied.ok()) files[path] = *applied;
    } else if (e.type == "file.delete") {
      files.erase(path);
    } else if (e.type == "file.rename") {
      files[d["to"].get<std::string>()] = files[path];
      files.erase(path);
    }
  }
  return files;
}

inline std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  for (std::string_view l : projections::text::SplitLines(text)) out.emplace_back(l);
  return out;
}

}  // namespace tink::import_test
