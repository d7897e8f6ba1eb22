// The deterministic workload of the engine crash tests, shared by the child that appends
// (crash_child.cc) and the parent that checks (projections_crash_test.cc): batch `b` of writer
// thread `t` is always the same events with the same ids, so a child restarted after a kill
// re-sends the batch that was in flight and must get it back as a duplicate if it was written.
//
// Even threads drive tasks through the scheduler's state machine (created, ready, started, then
// succeeded or failed), each step a batch of the task event and a note on the task's stream,
// appended with the exact expected version of that stream. Odd threads append batches of 1..7
// notes over a few shared streams with expected version any.
#pragma once

#include <string>
#include <vector>

#include "engine/engine.h"
#include "schema/schema.h"

namespace tink::engine::crash {

struct Batch {
  std::vector<schema::EventInput> events;
  AppendOptions options;
};

inline std::string Json(const std::string& k, const std::string& v) {
  return "\"" + k + "\":\"" + v + "\"";
}

inline Batch MakeBatch(int t, uint64_t b) {
  Batch out;
  const std::string tp = "t" + std::to_string(t);
  if (t % 2 == 0) {
    const uint64_t task = b / 4;
    const uint64_t step = b % 4;
    const std::string task_id = tp + "-" + std::to_string(task);
    const std::string run = std::to_string(task % 3 + 1);
    const std::string stream = "run/" + run + "/task/" + task_id;
    static const char* kTypes[] = {"task.created", "task.ready", "task.started", "task.succeeded"};
    std::string type = kTypes[step];
    std::string data = "{" + Json("task", task_id);
    switch (step) {
      case 0:
        data += "," + Json("name", "work " + task_id) + ",\"priority\":" + std::to_string(task % 7);
        break;
      case 1:
        data += "," + Json("reason", "created");
        break;
      case 2:
        data += "," + Json("worker", "w" + std::to_string(task % 4));
        break;
      case 3:
        if (task % 5 == 4) {
          type = "task.failed";
          data += "," + Json("error", "boom") + ",\"retryable\":false";
        } else {
          data += ",\"result\":{\"n\":" + std::to_string(task) + "}";
        }
        break;
    }
    data += "}";
    schema::EventInput e;
    e.id = tp + "-task-" + std::to_string(task) + "-" + std::to_string(step);
    e.stream = stream;
    e.type = type;
    e.run = run;
    e.data_json = data;
    schema::EventInput n;
    n.id = e.id + "-note";
    n.stream = stream;
    n.type = "note";
    n.run = run;
    n.data_json =
        "{" + Json("task", task_id) + "," + Json("text", "step " + std::to_string(step)) + "}";
    out.events = {e, n};
    // Versions 2*step and 2*step+1.
    out.options.expected = step == 0 ? Expected{Expected::Kind::kNoStream, 0}
                                     : Expected{Expected::Kind::kExact, 2 * step - 1};
    return out;
  }
  const size_t n = 1 + b % 7;
  for (size_t k = 0; k < n; ++k) {
    schema::EventInput e;
    e.id = tp + "-note-" + std::to_string(b) + "-" + std::to_string(k);
    e.stream = "notes/" + std::to_string((b + k) % 5);
    e.type = "note";
    e.run = std::to_string(b % 3 + 1);
    e.data_json = "{" + Json("text", std::string(b % 50, 'x') + std::to_string(k)) + "}";
    out.events.push_back(e);
  }
  return out;
}

}  // namespace tink::engine::crash
