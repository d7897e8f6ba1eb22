// A store served over HTTP from the benchmark's own process (tink_compare's http class,
// tink_http_bench): an engine::Engine opened for writing as `tink serve` opens it (durability
// `always`, the metrics hook on every group commit), a server::Server over it on 127.0.0.1 port
// 0 with a fixed token, Run() on a thread of its own. And the note event the HTTP benchmarks
// post.
//
// Not thread-safe (Start and Stop from one thread; the server itself serves any number of
// clients). bench/ only.
#pragma once

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench/http_client.h"
#include "engine/engine.h"
#include "shell/server/metrics.h"
#include "shell/server/server.h"

namespace tink::bench {

// The event of the ingest and follow rows: a note in a stream per client.
inline std::string NoteJson(int client) {
  const std::string c = std::to_string(client);
  return R"({"stream":"run/bench/task/)" + c + R"(","type":"note","run":"bench","data":{"task":")" +
         c +
         R"(","kind":"thought","text":"The division truncates instead of rounding, so 345 )"
         R"(becomes 344; the serializer should round half to even as the field's precision )"
         R"(says, and the test expects that too."}})";
}

// An engine opened for writing in `dir` the way `tink serve` opens it (metrics: may be null;
// mode: --sync, `always` unless a row says otherwise; fs: null for the real file system, else a
// wrapper such as CountingFileSystem that outlives the engine).
inline Result<std::unique_ptr<engine::Engine>> OpenEngine(
    const std::string& dir, const std::shared_ptr<server::Metrics>& metrics,
    log::Durability::Mode mode = log::Durability::Mode::kAlways, log::FileSystem* fs = nullptr) {
  engine::EngineOptions eo;
  eo.durability.mode = mode;
  eo.fs = fs;
  if (metrics) {
    eo.on_commit = [metrics](uint64_t records, uint64_t bytes) {
      metrics->ObserveCommit(records, bytes);
    };
  }
  return engine::Engine::Open(dir, eo);
}

// A store in `dir` served over HTTP from this process: the engine, the server on 127.0.0.1 port
// 0 and the thread running it. Stop (also run by the destructor) stops the server, joins the
// thread and closes the engine.
class Served {
 public:
  static constexpr const char* kToken = "bench-token-0123456789abcdef";

  ~Served() { (void)Stop(); }

  std::string Start(const std::string& dir,
                    log::Durability::Mode mode = log::Durability::Mode::kAlways,
                    log::FileSystem* fs = nullptr,
                    std::vector<server::LlmUpstream> upstreams = {}) {
    auto metrics = std::make_shared<server::Metrics>();
    auto eng = OpenEngine(dir, metrics, mode, fs);
    if (!eng.ok()) {
      return eng.status().ToString();
    }
    engine_ = std::move(eng).value();
    server::ServerOptions so;
    so.listen = "127.0.0.1:0";
    so.token = kToken;
    so.store_path = dir;
    so.llm_upstreams = std::move(upstreams);
    server_ = std::make_unique<server::Server>(engine_.get(), so, metrics);
    if (Status s = server_->Start(); !s.ok()) {
      return s.ToString();
    }
    port_ = PortOf(server_->url());
    runner_ = std::thread([this] { server_->Run(); });
    return "";
  }

  std::string Stop() {
    if (server_) {
      server_->Stop();
      if (runner_.joinable()) {
        runner_.join();
      }
      server_.reset();
    }
    std::string err;
    if (engine_) {
      if (Status s = engine_->Close(); !s.ok()) {
        err = s.ToString();
      }
      engine_.reset();
    }
    return err;
  }

  engine::Engine& engine() { return *engine_; }
  uint16_t port() const { return port_; }

 private:
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<server::Server> server_;
  std::thread runner_;
  uint16_t port_ = 0;
};

}  // namespace tink::bench
