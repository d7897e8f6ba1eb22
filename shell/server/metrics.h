// The daemon's metrics (docs/http.md, "GET /metrics"): prometheus-cpp counters, gauges and
// histograms in one registry, written in the Prometheus text format 0.0.4 by its TextSerializer.
// Names start with `tinkerbell_`; counters end in `_total`, latencies are `_seconds` histograms;
// no label carries a run, stream or id (their number is unbounded).
//
// Thread safety: every member may be used from any thread (prometheus-cpp's metrics are atomic).
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "log/log.h"

namespace tink::server {

class Metrics {
 public:
  Metrics();

  // The text exposition; `log` (may be null) refreshes the fsync count and `lag` the projection
  // lag gauge first.
  std::string Render(const log::LogCounters* log, uint64_t lag);

  // One group commit of the log (engine::EngineOptions::on_commit).
  void ObserveCommit(uint64_t records, uint64_t bytes) {
    group_events.Observe(static_cast<double>(records));
    appended_bytes.Increment(static_cast<double>(bytes));
  }
  // One HTTP answer with this status code.
  void CountStatus(int status);

  prometheus::Counter& appended_events;   // tinkerbell_appends_total
  prometheus::Counter& append_requests;   // tinkerbell_append_requests_total
  prometheus::Counter& appended_bytes;    // tinkerbell_append_bytes_total
  prometheus::Histogram& append_seconds;  // request received -> acknowledged
  prometheus::Histogram& group_events;    // tinkerbell_group_commit_events
  prometheus::Counter& fsyncs;            // tinkerbell_fsyncs_total (from the log's counters)
  prometheus::Counter& queries;           // tinkerbell_queries_total
  prometheus::Histogram& query_seconds;
  prometheus::Gauge& projection_lag;      // events appended but not yet applied
  prometheus::Gauge& connections;         // tinkerbell_open_connections
  prometheus::Gauge& followers;           // open follow (SSE) streams
  prometheus::Counter& otlp_spans;        // tinkerbell_otlp_spans_total: accepted by /v1/traces
  prometheus::Counter& otlp_rejected;     // tinkerbell_otlp_rejected_spans_total

 private:
  explicit Metrics(std::shared_ptr<prometheus::Registry> registry);
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* http_;
  std::mutex mu_;  // fsyncs_seen_
  uint64_t fsyncs_seen_ = 0;
};

}  // namespace tink::server
