// The JSON and download endpoints of the web view (docs/http.md "The web view"):
//   GET /v1/runs[?run=R]                  every run (or one) with its LLM calls and tokens
//   GET /v1/runs/{run}/timeline           the Gantt window of a run as of an LSN
//   GET /v1/runs/{run}/file?path=P        a canvas file's bytes as of an LSN
//   GET /v1/runs/{run}/bundle             the run's canvas history as a git bundle
// Handlers block (engine reads): the transport runs them on the query workers. The run digests
// of the timeline (query/gantt.h) and the token totals are kept between requests.
#pragma once

#include <atomic>
#include <list>
#include <memory>
#include <mutex>
#include <string>

#include "engine/engine.h"
#include "shell/query/gantt.h"
#include "shell/server/api.h"

namespace tink::server::views {

// /v1/runs/{run}/timeline|file|bundle
bool IsRunView(std::string_view path);

class Views {
 public:
  explicit Views(engine::Engine* engine) : engine_(engine) {}
  Response Handle(const Request& req, const Target& t);
  // Reads the token totals of every run (a worker runs it at start: on a store of millions of
  // events the first GET /v1/runs would otherwise wait seconds for it). Cancel() stops it.
  void Warm();
  void Cancel() { cancel_.store(true); }

 private:
  Response Runs(const Target& t);
  Response Timeline(const std::string& run, const Target& t);
  Response File(const std::string& run, const Target& t);
  Response Bundle(const std::string& run);
  Result<std::shared_ptr<const query::RunDigest>> Digest(const std::string& run);

  engine::Engine* engine_;
  std::atomic<bool> cancel_{false};
  std::atomic<bool> warming_{false};  // Warm() holds totals_mu_
  std::mutex totals_mu_;
  query::LlmTotals totals_;
  struct CachedDigest {
    std::string run;
    uint64_t head = 0;  // the log's last LSN when it was made
    std::shared_ptr<const query::RunDigest> digest;
  };
  std::mutex digest_mu_;
  std::list<CachedDigest> digests_;  // most recently used first, at most kDigests
};

}  // namespace tink::server::views
