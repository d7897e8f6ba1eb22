#include "shell/server/metrics.h"

#include <prometheus/text_serializer.h>

#include <sstream>

namespace tink::server {
namespace {

using prometheus::Histogram;

// Latencies from 50 us to 10 s: an fsync is ~0.1-10 ms, a query up to seconds.
Histogram::BucketBoundaries LatencyBuckets() {
  return {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
          0.025,   0.05,   0.1,     0.25,   0.5,   1,      2.5,    10};
}

Histogram::BucketBoundaries GroupBuckets() { return {1, 2, 4, 8, 16, 32, 64, 128, 256, 1024, 4096}; }

}  // namespace

Metrics::Metrics()
    : Metrics(std::make_shared<prometheus::Registry>()) {}

Metrics::Metrics(std::shared_ptr<prometheus::Registry> r)
    : appended_events(prometheus::BuildCounter()
                          .Name("tinkerbell_appends_total")
                          .Help("Events appended (acknowledged)")
                          .Register(*r)
                          .Add({})),
      append_requests(prometheus::BuildCounter()
                          .Name("tinkerbell_append_requests_total")
                          .Help("Append requests acknowledged (a batch is one request)")
                          .Register(*r)
                          .Add({})),
      appended_bytes(prometheus::BuildCounter()
                         .Name("tinkerbell_append_bytes_total")
                         .Help("Bytes written to the log by group commits")
                         .Register(*r)
                         .Add({})),
      append_seconds(prometheus::BuildHistogram()
                         .Name("tinkerbell_append_seconds")
                         .Help("Append requests: body received to acknowledged")
                         .Register(*r)
                         .Add({}, LatencyBuckets())),
      group_events(prometheus::BuildHistogram()
                       .Name("tinkerbell_group_commit_events")
                       .Help("Events per group commit (one write, one fsync under always)")
                       .Register(*r)
                       .Add({}, GroupBuckets())),
      fsyncs(prometheus::BuildCounter()
                 .Name("tinkerbell_fsyncs_total")
                 .Help("fdatasync calls on log segments that succeeded")
                 .Register(*r)
                 .Add({})),
      queries(prometheus::BuildCounter()
                  .Name("tinkerbell_queries_total")
                  .Help("Queries run (POST /v1/query)")
                  .Register(*r)
                  .Add({})),
      query_seconds(prometheus::BuildHistogram()
                        .Name("tinkerbell_query_seconds")
                        .Help("Query run time")
                        .Register(*r)
                        .Add({}, LatencyBuckets())),
      projection_lag(prometheus::BuildGauge()
                         .Name("tinkerbell_projection_lag_events")
                         .Help("Events in the log that not every projection has applied yet")
                         .Register(*r)
                         .Add({})),
      connections(prometheus::BuildGauge()
                      .Name("tinkerbell_open_connections")
                      .Help("Open HTTP connections (TCP and UNIX socket)")
                      .Register(*r)
                      .Add({})),
      followers(prometheus::BuildGauge()
                    .Name("tinkerbell_followers")
                    .Help("Open follow streams (GET /v1/events?follow=1)")
                    .Register(*r)
                    .Add({})),
      otlp_spans(prometheus::BuildCounter()
                     .Name("tinkerbell_otlp_spans_total")
                     .Help("Spans POST /v1/traces accepted (stored as otel.span; re-sent ones too)")
                     .Register(*r)
                     .Add({})),
      otlp_rejected(prometheus::BuildCounter()
                        .Name("tinkerbell_otlp_rejected_spans_total")
                        .Help("Spans POST /v1/traces rejected (partial success)")
                        .Register(*r)
                        .Add({})),
      registry_(std::move(r)),
      http_(&prometheus::BuildCounter()
                 .Name("tinkerbell_http_requests_total")
                 .Help("HTTP answers by status code")
                 .Register(*registry_)) {}

void Metrics::CountStatus(int status) {
  http_->Add({{"code", std::to_string(status)}}).Increment();
}

std::string Metrics::Render(const log::LogCounters* log, uint64_t lag) {
  if (log != nullptr) {
    std::lock_guard<std::mutex> l(mu_);
    if (log->syncs > fsyncs_seen_) {
      fsyncs.Increment(static_cast<double>(log->syncs - fsyncs_seen_));
      fsyncs_seen_ = log->syncs;
    }
  }
  projection_lag.Set(static_cast<double>(lag));
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, registry_->Collect());
  return out.str();
}

}  // namespace tink::server
