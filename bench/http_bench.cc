// Google Benchmark for tink serve's HTTP API (docs/http.md), served from this process
// (bench/http_served.h: server::Server over an engine opened as `tink serve` opens it, --sync
// always) to clients that are threads of this process, one keep-alive connection each
// (bench/http_client.h). The comparison with the engine in-process is tink_compare --only http;
// this is the per-request view:
//   Http/Healthz          GET /healthz round trip: the transport alone (no engine call)
//   Http/PostEvent        POST /v1/events of one note event, durable, from 1 and 16 clients
//   Http/PostJsonl1000    POST /v1/events of 1,000 events as JSONL, durable, one client
//
// Stores live in a fresh <dir>/tink-bench-XXXXXX (dir: $TINK_BENCH_DIR, else the build directory)
// that is removed at exit. Usual Google Benchmark flags apply (--benchmark_filter, _min_time, ...).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <memory>

#include "bench/bench_util.h"
#include "bench/http_client.h"
#include "bench/http_served.h"

namespace tink::bench {
namespace {

ScratchDir* g_scratch = nullptr;

// One served store per run. Thread 0 starts it in SetUp and stops it in TearDown; the other
// threads use it only inside the timed loop, which starts and ends with a barrier across all
// threads, so each connects lazily in its first iteration (one connect in thousands of requests).
class Http : public benchmark::Fixture {
 public:
  void SetUp(benchmark::State& st) override {
    if (st.thread_index() != 0) {
      return;
    }
    served_ = std::make_unique<Served>();
    if (std::string e = served_->Start(g_scratch->Sub("http")); !e.empty()) {
      std::fprintf(stderr, "serve: %s\n", e.c_str());
      std::abort();
    }
    syncs0_ = served_->engine().log().counters().syncs;
    records0_ = served_->engine().log().counters().records;
  }

  void TearDown(benchmark::State& st) override {
    if (st.thread_index() != 0) {
      return;
    }
    const log::LogCounters c = served_->engine().log().counters();
    if (c.syncs > syncs0_) {
      st.counters["ev/fsync"] =
          static_cast<double>(c.records - records0_) / static_cast<double>(c.syncs - syncs0_);
    }
    if (std::string e = served_->Stop(); !e.empty()) {
      st.SkipWithError(e.c_str());
    }
    served_.reset();
  }

 protected:
  // Sends `body` to `target` (GET when body is empty) once per iteration; `events` per request.
  void Loop(benchmark::State& st, boost::beast::http::verb method, const char* target,
            const char* content_type, const std::string& body, int64_t events) {
    std::unique_ptr<HttpClient> client;
    for (auto _ : st) {
      if (!client) {
        client = std::make_unique<HttpClient>(served_->port(), Served::kToken);
        if (std::string e = client->Connect(); !e.empty()) {
          st.SkipWithError(e.c_str());
          break;
        }
      }
      HttpClient::Reply reply;
      std::string e = client->Do(method, target, content_type, body, &reply);
      if (e.empty() && reply.status != 200) {
        e = "status " + std::to_string(reply.status);
      }
      if (!e.empty()) {
        st.SkipWithError(e.c_str());
        break;
      }
    }
    st.SetItemsProcessed(st.iterations() * events);
  }

 private:
  std::unique_ptr<Served> served_;
  uint64_t syncs0_ = 0, records0_ = 0;
};

BENCHMARK_DEFINE_F(Http, Healthz)(benchmark::State& st) {
  Loop(st, boost::beast::http::verb::get, "/healthz", "", "", 1);
}
BENCHMARK_REGISTER_F(Http, Healthz)->UseRealTime();

BENCHMARK_DEFINE_F(Http, PostEvent)(benchmark::State& st) {
  Loop(st, boost::beast::http::verb::post, "/v1/events", "application/json",
       NoteJson(st.thread_index()), 1);
}
BENCHMARK_REGISTER_F(Http, PostEvent)->Threads(1)->Threads(16)->UseRealTime();

BENCHMARK_DEFINE_F(Http, PostJsonl1000)(benchmark::State& st) {
  std::string body;
  for (int i = 0; i < 1000; ++i) {
    body += NoteJson(i % 64) + "\n";
  }
  Loop(st, boost::beast::http::verb::post, "/v1/events", "application/x-ndjson", body, 1000);
}
BENCHMARK_REGISTER_F(Http, PostJsonl1000)->UseRealTime();

}  // namespace
}  // namespace tink::bench

int main(int argc, char** argv) {
  using namespace tink::bench;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
    return 1;
  }
  ScratchDir scratch(BenchBase(""));
  g_scratch = &scratch;
  const DiskInfo disk = DescribeDisk(scratch.path());
  benchmark::AddCustomContext("bench_dir", scratch.path());
  benchmark::AddCustomContext("bench_disk",
                              disk.device + " " + disk.fstype + " " + disk.rotational);
  if (disk.in_memory) {
    std::fprintf(stderr, "WARNING: %s is %s (in memory): durable numbers mean nothing\n",
                 scratch.path().c_str(), disk.fstype.c_str());
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
