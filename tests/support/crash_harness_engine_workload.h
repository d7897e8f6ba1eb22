// The deterministic workload of the engine crash stress (crash_harness_engine.h), shared by the
// child that appends and the parent that checks: batch `b` of writer `w` in cycle `c` is always
// the same events with the same ids, so the parent can rebuild from an id everything that was
// sent under it, and a later child can re-send a batch as a client that lost its ack would.
//
// Each writer drives agent tasks, six batches per task; every event carries a client id
// "TAG.cC.wW.bB.eK" (TAG tells apart harness runs that share a store):
//   step 0  task.created + task.ready     task stream, expected no_stream   (versions 0, 1)
//   step 1  task.started                  task stream, expected 1           (version 2)
//   step 2  tool.call + note (thought)    task stream, expected 2           (versions 3, 4)
//   step 3  tool.result + file.write      task stream, expected 4           (versions 5, 6)
//   step 4  memory.node x2 + memory.edge  memory/RUN stream, expected any
//   step 5  task.succeeded | task.failed  task stream, expected 6           (version 7)
// A writer appends batch b+1 only after batch b was acknowledged, so after a kill at most one
// batch per writer (the one after the last acknowledged) is unknown.
#pragma once

#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "schema/schema.h"

namespace tink::testing::engine_crash {

struct BatchKey {
  uint64_t cycle = 0;
  int writer = 0;
  uint64_t batch = 0;
  auto operator<=>(const BatchKey&) const = default;
  std::string ToString() const {
    return "c" + std::to_string(cycle) + ".w" + std::to_string(writer) + ".b" +
           std::to_string(batch);
  }
};

struct Batch {
  std::vector<schema::EventInput> events;
  engine::AppendOptions options;
};

inline std::string EventId(const std::string& tag, const BatchKey& k, size_t e) {
  return tag + "." + k.ToString() + ".e" + std::to_string(e);
}

// The key and event index of an id made by EventId with this tag; nullopt for anything else.
inline std::optional<std::pair<BatchKey, size_t>> ParseEventId(const std::string& tag,
                                                               const std::string& id) {
  if (id.size() <= tag.size() + 1 || id.compare(0, tag.size(), tag) != 0 || id[tag.size()] != '.')
    return std::nullopt;
  unsigned long long c = 0, b = 0, e = 0;
  int w = 0, n = 0;
  const std::string rest = id.substr(tag.size() + 1);
  if (std::sscanf(rest.c_str(), "c%llu.w%d.b%llu.e%llu%n", &c, &w, &b, &e, &n) != 4 ||
      static_cast<size_t>(n) != rest.size()) {
    return std::nullopt;
  }
  return std::make_pair(BatchKey{c, w, b}, static_cast<size_t>(e));
}

// A small deterministic mix (splitmix64) so payload sizes and choices vary by key.
inline uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

inline Batch MakeBatch(const std::string& tag, const BatchKey& k) {
  Batch out;
  const uint64_t task = k.batch / 6;
  const uint64_t step = k.batch % 6;
  const uint64_t h = Mix(k.cycle * 1000003 + static_cast<uint64_t>(k.writer) * 7919 + k.batch);
  const std::string run = tag + "-" + std::to_string(k.cycle % 4 + 1);
  const std::string root = "c" + std::to_string(k.cycle) + "w" + std::to_string(k.writer) + "t0";
  const std::string task_id =
      "c" + std::to_string(k.cycle) + "w" + std::to_string(k.writer) + "t" + std::to_string(task);
  const std::string task_stream = "run/" + run + "/task/" + task_id;
  const std::string call_id = task_id + "-call";
  const std::string path =
      "src/w" + std::to_string(k.writer) + "/mod" + std::to_string(task % 7) + ".py";
  const auto add = [&](std::string stream, std::string type, const nlohmann::json& data) {
    schema::EventInput e;
    e.id = EventId(tag, k, out.events.size());
    e.stream = std::move(stream);
    e.type = std::move(type);
    e.run = run;
    e.data_json = data.dump();
    out.events.push_back(std::move(e));
  };
  using engine::Expected;
  switch (step) {
    case 0: {
      nlohmann::json created = {{"task", task_id},
                                {"name", "fix issue " + std::to_string(h % 1000)},
                                {"priority", static_cast<int>(h % 10)},
                                {"meta", {{"timeout_s", 60 + h % 600}}}};
      if (task != 0) created["parent"] = root;
      add(task_stream, "task.created", created);
      add(task_stream, "task.ready", {{"task", task_id}, {"reason", "created"}});
      out.options.expected = {Expected::Kind::kNoStream, 0};
      break;
    }
    case 1:
      add(task_stream, "task.started",
          {{"task", task_id}, {"worker", "w" + std::to_string(k.writer)}});
      out.options.expected = {Expected::Kind::kExact, 1};
      break;
    case 2:
      add(task_stream, "tool.call",
          {{"task", task_id},
           {"call_id", call_id},
           {"tool", "bash"},
           {"args",
            {{"command", "python -m pytest tests/test_" + std::to_string(h % 50) + ".py"}}}});
      add(task_stream, "note",
          {{"task", task_id},
           {"text", "Running the tests before touching " + path + std::string(h % 200, '.')},
           {"kind", "thought"}});
      out.options.expected = {Expected::Kind::kExact, 2};
      break;
    case 3: {
      const int exit_code = h % 3 == 0 ? 1 : 0;
      add(task_stream, "tool.result",
          {{"task", task_id},
           {"call_id", call_id},
           {"tool", "bash"},
           {"output", std::to_string(h % 97) + " passed\n" + std::string(h % 300, '-')},
           {"exit_code", exit_code},
           {"ok", exit_code == 0},
           {"duration_ms", static_cast<double>(h % 5000) / 4.0}});
      std::string content = "# " + task_id + "\n";
      for (uint64_t line = 0; line < 3 + h % 40; ++line) {
        content += "def f" + std::to_string(line) + "():\n    return " +
                   std::to_string(Mix(h + line) % 100000) + "\n";
      }
      add(task_stream, "file.write",
          {{"task", task_id}, {"path", path}, {"content", content}, {"mode", "100644"}});
      out.options.expected = {Expected::Kind::kExact, 4};
      break;
    }
    case 4: {
      const std::string file_node = "file:" + run + "/" + path;
      const std::string task_node = "task:" + task_id;
      add("memory/" + run, "memory.node",
          {{"id", file_node},
           {"labels", nlohmann::json::array({"File", "Python"})},
           {"props", {{"loc", 3 + h % 40}}}});
      add("memory/" + run, "memory.node",
          {{"id", task_node},
           {"labels", nlohmann::json::array({"Task"})},
           {"props", {{"writer", k.writer}}}});
      add("memory/" + run, "memory.edge",
          {{"id", task_id + "-modifies"},
           {"src", task_node},
           {"rel", "MODIFIES"},
           {"dst", file_node},
           {"props", {{"confidence", static_cast<double>(h % 100) / 100.0}}},
           {"valid_from", "2026-11-20T10:05:00Z"}});
      break;  // expected any
    }
    case 5:
      if (h % 5 == 0) {
        add(task_stream, "task.failed",
            {{"task", task_id}, {"error", "2 tests failed"}, {"retryable", false}});
      } else {
        add(task_stream, "task.succeeded",
            {{"task", task_id}, {"result", {{"passed", h % 97}, {"failed", 0}}}});
      }
      out.options.expected = {Expected::Kind::kExact, 6};
      break;
  }
  return out;
}

}  // namespace tink::testing::engine_crash
