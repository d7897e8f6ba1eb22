// LlmRecorder: how the recording proxy and the replay (llm_proxy.h) write their events. Internal
// to shell/server. Thread safety: every method may be called from any thread.
#pragma once

#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "schema/status.h"

namespace tink::server {

// Appends the proxy's events: the run's run.started and the task's task.created/ready/started
// when their streams are new (expected version no_stream, so an agent that wrote them itself
// keeps its own), then the calls' events.
class LlmRecorder {
 public:
  explicit LlmRecorder(engine::Engine* engine) : engine_(engine) {}
  // started: the run.started data to use if the run is new.
  Status EnsureRunAndTask(const std::string& run, const std::string& task,
                          const nlohmann::json& started);
  // Makes a fresh run: run.started on run/<base>, or run/<base>-2, -3, ... if taken.
  Result<std::string> NewRun(const std::string& base, const nlohmann::json& started);
  Result<uint64_t> Append(const std::string& run, const std::string& stream,
                          const std::string& type, const std::string& id,
                          const nlohmann::json& data, uint64_t causation = 0);

 private:
  Result<bool> AppendIfNew(std::vector<schema::EventInput> events);
  engine::Engine* engine_;
  std::mutex mu_;
  std::set<std::string> known_;  // streams known to exist; guarded by mu_
};

}  // namespace tink::server
