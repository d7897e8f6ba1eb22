// Hermetic replay (docs/replay.md): the recorded LLM exchanges of a run, served back to a re-run
// of the same agent in order, and the divergence when the re-run asks something else.
//
// A session is one re-run (its run id). At its first request the session loads the original
// run's llm.request events (with their llm.response / llm.error) from the log, in LSN order.
// Each request is compared with the recorded ones by endpoint and canonical body
// (CanonicalRequest): the first unused recorded request that is equal answers it (so calls that
// a concurrent agent makes in another order still match); if none is equal, the request is a
// divergence: its position in the session, the closest unused recorded request (fewest
// differing JSON paths, the earliest on a tie) and the paths that differ.
//
// Thread safety: every method may be called from any thread (one mutex).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "schema/status.h"

namespace tink::server {

// The request body as compared: the JSON body without the fields that do not change what the
// model is asked (query::kIgnoredRequestFields, shared with `runs diff`). nlohmann's objects are
// sorted, so equal values compare equal whatever order the client wrote their keys in.
nlohmann::json CanonicalRequest(const nlohmann::json& body);

// One recorded exchange of the original run.
struct RecordedCall {
  uint64_t lsn = 0;        // of the llm.request
  std::string call_id, endpoint;
  nlohmann::json body;     // the canonical request body
  bool stream = false;
  // The recorded answer: the llm.response or llm.error data (null: the call never ended).
  std::string answer_type;  // "llm.response" | "llm.error" | ""
  nlohmann::json answer;
};

struct ReplayMatch {
  size_t position = 0;                // of this request in the session, from 0
  const RecordedCall* call = nullptr;  // the answer; null: a divergence
  // A divergence: the closest unused recorded call (null if none is left) and the differences
  // [{path, recorded, actual}] (a JSON-pointer path; recorded or actual absent when the path
  // exists on one side only).
  const RecordedCall* closest = nullptr;
  std::optional<size_t> closest_position;
  nlohmann::json differences = nlohmann::json::array();
  std::string reason;
};

class ReplayBooks {
 public:
  explicit ReplayBooks(engine::Engine* engine) : engine_(engine) {}

  // The next request of session `session` (a run id) replaying `original`. NotFound when the
  // original run has no recorded LLM call. The returned pointers stay valid while the books
  // live (sessions are never dropped while their daemon runs; at most kMaxSessions are kept).
  Result<ReplayMatch> Next(const std::string& original, const std::string& session,
                           const std::string& endpoint, const nlohmann::json& body);

  // The session a caller without X-Tinkerbell-Run replays `original` in (empty: none yet), and
  // setting it once the run was created.
  std::string DefaultSession(const std::string& original);
  void SetDefaultSession(const std::string& original, const std::string& session);
  // Whether every recorded call of the session was served (a caller without X-Tinkerbell-Run
  // that starts again then gets a new session: a second re-run of the agent).
  bool Exhausted(const std::string& session);

  static constexpr size_t kMaxSessions = 10000;

 private:
  struct Session {
    std::string original;
    std::vector<std::shared_ptr<const RecordedCall>> calls;
    std::vector<bool> used;
    size_t seen = 0;
  };
  Result<std::vector<std::shared_ptr<const RecordedCall>>> Load(const std::string& original);

  engine::Engine* engine_;
  std::mutex mu_;
  std::map<std::string, Session> sessions_;           // guarded by mu_
  std::map<std::string, std::string> default_session_;  // original -> session; guarded by mu_
};

}  // namespace tink::server
