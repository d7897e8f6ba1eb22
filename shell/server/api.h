// The endpoints of tink serve (docs/http.md) as plain functions from a parsed request to an
// answer, apart from the transport (server.cc): each one validates its input, calls the engine
// (blocking: the transport runs them on a worker pool) and turns every failure into the one
// error shape {"error":{"code","message"}} with its status (ErrorFor). Nothing here throws past
// its caller: a handler that meets an exception answers 500 internal.
#pragma once

#include <boost/beast/http.hpp>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "engine/engine.h"
#include "shell/query/query.h"
#include "shell/server/metrics.h"
#include "shell/server/server.h"

namespace tink::server {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

// The path and the decoded query parameters of a request target.
struct Target {
  std::string path;
  std::map<std::string, std::string> params;
  const std::string* Param(const std::string& name) const {
    auto it = params.find(name);
    return it == params.end() ? nullptr : &it->second;
  }
};
Result<Target> ParseTarget(std::string_view target);

// {"error":{"code":CODE,"message":MESSAGE}} (plus `extra` fields inside "error").
Response ErrorResponse(http::status status, std::string_view code, std::string_view message,
                       const std::string& extra_json_fields = "");
// A Status as an answer: InvalidArgument/NotSupported 400, NotFound 404, Conflict 409,
// Corruption 500 corruption, IOError/Failed 500 io_error.
Response ErrorFor(const Status& s, std::string_view bad_request_code = "bad_request");
Response TextResponse(http::status status, std::string_view content_type, std::string body);
// Read-your-writes for the read endpoints: waits (at most 2 s) until the projections have
// applied every event the log holds, so what a client was acknowledged is in what it reads.
void WaitForOwnWrites(engine::Engine* engine);

// Connects the transport's "cancel this request" (client gone, time limit) to a query's
// cancel flag, which exists only while the query runs.
class CancelLink {
 public:
  void Cancel() {
    std::lock_guard<std::mutex> l(mu_);
    cancelled_ = true;
    if (target_ != nullptr) target_->store(true);
  }
  void Attach(query::Cancel* target) {
    std::lock_guard<std::mutex> l(mu_);
    target_ = target;
    if (cancelled_ && target_ != nullptr) target_->store(true);
  }

 private:
  std::mutex mu_;
  query::Cancel* target_ = nullptr;
  bool cancelled_ = false;
};

// Where a follow or events stream is: the filter and the next LSN to read.
struct EventCursor {
  engine::LogQuery q;     // q.from advances
  uint64_t limit = 0;     // events left to send (0: no limit)
  uint64_t sent = 0;
  bool sse = false;       // text/event-stream framing instead of JSONL
  bool heads = false;     // follow=1&heads=1: `head` events ({"last_lsn":N}) instead of events
};

// Which handler a request goes to (server.cc's Handle switches on it).
enum class Route {
  kAnswered, kStats, kAppend, kEvents, kQuery, kTasks, kReport, kLlm, kOtlp, kMcp, kView
};

class Api {
 public:
  Api(engine::Engine* engine, const ServerOptions& options, Metrics* metrics);

  // The route of a request; the quick ones (health, metrics, 404, 405) are answered in *early.
  Route Classify(const Request& req, const Target& t, Response* early);

  // Token check: empty when allowed, else the 401/403 answer.
  std::optional<Response> CheckAuth(const Request& req) const;

  // Blocking handlers.
  Response Append(const Request& req, const Target& t);
  Response Query(const Request& req, const Target& t, CancelLink* cancel,
                 const std::atomic<bool>* timed_out);
  Response Tasks(const Target& t);
  Response Report(const std::string& run, const Target& t);
  Response Stats(size_t connections);
  Response Health();
  Response MetricsText();

  // GET /v1/events: the cursor for a request (400 answer on bad parameters).
  Result<EventCursor> OpenCursor(const Request& req, const Target& t, bool sse);
  // Up to ~max_bytes of matching events from c->q.from up to the log's head (at most c->q.to),
  // formatted for the stream; advances c. *end: the cursor is past q.to (or its limit).
  Result<std::string> ReadChunk(EventCursor* c, size_t max_bytes, bool* end);

  engine::Engine& engine() { return *engine_; }

 private:
  void WaitForOwnWrites() { server::WaitForOwnWrites(engine_); }

  engine::Engine* engine_;
  const ServerOptions& options_;
  Metrics* metrics_;
};

}  // namespace tink::server
