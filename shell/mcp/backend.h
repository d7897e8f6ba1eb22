// Where the MCP server's tools get their answers (docs/mcp.md): one statement of the shell
// language, a run's report, a canvas file, an append. Three places implement it:
//   - a store this process opened for writing (`tink mcp --store S`),
//   - the daemon's own engine, in-process (`POST /mcp` on `tink serve`, as POST /v1/query runs),
//   - a daemon over HTTP (`tink mcp --server URL`: /v1/query, /v1/runs/R/report, /v1/events).
// The first two are NewEngineBackend; the third is NewRemoteBackend.
//
// Errors: a mistake of the caller (a query error, an unknown run or file) is InvalidArgument or
// NotFound whose message is the line `tink shell -c` prints ("error at 1:7: ..."); the store's
// own failures keep their codes (IOError, Corruption). Nothing here throws.
//
// Thread safety: an engine backend may be used by several threads at once (each call makes its
// own query Provider; the Engine is thread-safe); a remote backend by one thread at a time (one
// libcurl handle).
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "schema/status.h"
#include "shell/query/query.h"

namespace tink::cli {
class RemoteClient;
}

namespace tink::mcp {

using Json = nlohmann::ordered_json;

// What one statement answered: rows (JSON objects, as `tink shell --format json` prints them),
// or text (the canvas `diff` verb).
struct QueryAnswer {
  Json rows = Json::array();
  std::optional<std::string> text;
  bool truncated = false;  // there were more than `limit` rows
};

class Backend {
 public:
  virtual ~Backend() = default;
  // One statement of the shell language (docs/shell.md "Query language"), at most `limit` rows.
  // `cancel` (may be null) stops a long query (Cancelled()).
  virtual Result<QueryAnswer> Query(const std::string& text, size_t limit,
                                    const query::Cancel* cancel) = 0;
  // What `tink report --run RUN --json` prints, parsed.
  virtual Result<Json> Report(const std::string& run) = 0;
  // A canvas file's content as of `as_of` ("" for now, an LSN, or an ISO 8601 time); NotFound
  // when the run has no such file then.
  virtual Result<std::string> FileContent(const std::string& run, const std::string& path,
                                          const std::string& as_of) = 0;
  // Appends events (envelopes in the input form of docs/events.md) as one atomic batch: their
  // LSNs, in order.
  virtual Result<std::vector<uint64_t>> Append(const std::vector<Json>& events) = 0;
};

// Over an engine the caller owns and keeps open (for writing, if Append is to work).
std::unique_ptr<Backend> NewEngineBackend(engine::Engine* engine);
// Over a daemon.
std::unique_ptr<Backend> NewRemoteBackend(std::unique_ptr<cli::RemoteClient> client);

}  // namespace tink::mcp
