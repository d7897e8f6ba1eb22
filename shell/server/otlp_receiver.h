// POST /v1/traces (docs/http.md): OTLP/HTTP trace export into the store, usable without the HTTP
// server (a bench or a test calls Receive directly).
//
// A request body (application/json or application/x-protobuf, optionally gzip) is decoded into
// normalized spans (engine/import/otlp.h). Each request is one Engine::Append batch holding
//   - one `otel.span` event per span not received before: stream "otel/<trace id>", id
//     "otel/<trace id>/<span id>", run = the trace's run, data = the span (SpanToJson). This is
//     the durable record of what was acknowledged; a re-sent span is skipped (idempotent).
//   - the mapped events (MapTrace, the importer's mapping) that became resolvable: a span is
//     mapped once its ancestors up to the trace's root (the first span without a parent) are
//     known. Until then it waits, in memory and as its otel.span event; a trace not in memory
//     is reloaded from its otel.span events (Engine::Scan of its stream) on its next request.
// The run of a trace is its trace id, or the resource attribute `tinkerbell.run` when set.
// Mapped event ids are "<run>/<key>" as the importer makes them; an id already in the store is
// never appended again (checked with projections::LookupId), so a task or run that ended is
// not ended twice.
//
// Memory: at most max_traces traces are held; beyond, the least recently used fully mapped
// trace is dropped first (then any), to be reloaded from the log when needed.
//
// Thread safety: Receive may be called from any thread; one mutex serializes requests.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>

#include "engine/engine.h"
#include "engine/import/otlp.h"
#include "schema/thread_annotations.h"
#include "shell/server/api.h"
#include "shell/server/metrics.h"

namespace tink::server {

inline constexpr size_t kOtlpMaxBody = 20u << 20;        // bytes, compressed or not; 413 beyond
inline constexpr size_t kOtlpMaxSpanBytes = 8u << 20;    // one span's JSON; 400 beyond

struct OtlpResult {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  size_t accepted = 0;        // spans decoded and usable (new or re-sent)
  size_t rejected = 0;        // spans left out (partial success)
  size_t appended = 0;        // events appended by this request
};

class OtlpReceiver {
 public:
  // `engine` is open for writing and outlives the receiver; `metrics` may be null.
  OtlpReceiver(engine::Engine* engine, Metrics* metrics, size_t max_traces = 10000);

  // One export request. Statuses: 200 (body: the ExportTraceServiceResponse in the request's
  // content type), 400 bad body (nothing stored), 413 over kOtlpMaxBody (compressed or
  // decompressed), 415 unsupported Content-Type / Content-Encoding, 500/503 store errors.
  OtlpResult Receive(std::string_view body, std::string_view content_type,
                     std::string_view content_encoding);

  size_t traces_held() const;

 private:
  struct Trace {
    std::string run;
    std::map<std::string, engine::import::OtelSpan> spans;  // by span id
    std::string root;                                       // first parentless span's id
    std::set<std::string> emitted;  // mapped event ids known to be in the store
    bool complete = false;          // every span held is mapped
    // Born in this process: the log had no span of it when it was first loaded. With its own
    // run (the trace id), its mapped ids are then new unless `emitted` has them: no store
    // lookups are needed (Receive).
    bool fresh = false;
    std::string trace_id;
    std::list<std::string>::iterator lru;
  };

  Trace* Load(const std::string& trace_id, Status* error) REQUIRES(mu_);
  void Evict(const std::string& trace_id) REQUIRES(mu_);
  void Trim() REQUIRES(mu_);
  // The mapped events of t not emitted yet (needs the store check, see Receive).
  Result<std::vector<schema::EventInput>> Resolve(const std::string& trace_id, Trace& t)
      REQUIRES(mu_);

  engine::Engine* engine_;
  Metrics* metrics_;
  size_t max_traces_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Trace> traces_ GUARDED_BY(mu_);
  std::list<std::string> lru_ GUARDED_BY(mu_);  // most recent first
};

// The HTTP face of Receive (Content-Type / Content-Encoding from the request's headers).
Response OtlpAnswer(OtlpReceiver& receiver, const Request& req);

}  // namespace tink::server
