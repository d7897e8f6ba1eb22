// The child process of the engine crash tests (projections_crash_test.cc): opens the store for
// writing and appends the crash workload (crash_workload.h) from several threads until it is
// killed (by the parent, or by a kill point named in $TINK_KILL_AT) or has sent `max` batches per
// thread. Each acknowledged batch is reported on stdout as one line, written with one write()
// (atomic on a pipe):
//
//   A <thread> <batch> <duplicate 0|1> <lsn>...
//
// Usage: engine_crash_child STORE FLAGS MAX START0 [START1 ...]
// FLAGS: letters; t = run the tail thread, n = no RocksDB WAL for the state ("-" for none).
// Exit codes: 0 done, 2 usage, 3 open failed, 4 an append failed, 5 close failed.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/crash_workload.h"
#include "engine/engine.h"

int main(int argc, char** argv) {
  using namespace tink;
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s STORE FLAGS MAX START0 [START1 ...]\n", argv[0]);
    return 2;
  }
  const std::string store = argv[1];
  engine::EngineOptions o;
  const std::string flags = argv[2];
  o.tail = flags.find('t') != std::string::npos;
  o.rocksdb_wal = flags.find('n') == std::string::npos;
  const uint64_t max = std::strtoull(argv[3], nullptr, 10);
  std::vector<uint64_t> start;
  for (int i = 4; i < argc; ++i) start.push_back(std::strtoull(argv[i], nullptr, 10));

  auto opened = engine::Engine::Open(store, o);
  if (!opened.ok()) {
    std::fprintf(stderr, "crash child: open: %s\n", opened.status().ToString().c_str());
    _exit(3);
  }
  engine::Engine& eng = **opened;
  std::mutex out_mu;
  std::vector<std::thread> threads;
  for (size_t t = 0; t < start.size(); ++t) {
    threads.emplace_back([&, t] {
      for (uint64_t b = start[t]; b < start[t] + max; ++b) {
        engine::crash::Batch batch = engine::crash::MakeBatch(static_cast<int>(t), b);
        auto r = eng.Append(batch.events, batch.options);
        if (!r.ok()) {
          std::fprintf(stderr, "crash child: thread %zu batch %llu: %s\n", t,
                       static_cast<unsigned long long>(b), r.status().ToString().c_str());
          _exit(4);
        }
        std::string line =
            "A " + std::to_string(t) + " " + std::to_string(b) + " " + (r->duplicate ? "1" : "0");
        for (log::Lsn lsn : r->lsns) line += " " + std::to_string(lsn);
        line += "\n";
        std::lock_guard<std::mutex> l(out_mu);
        if (::write(1, line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(6);
      }
    });
  }
  for (auto& t : threads) t.join();
  Status s = eng.Close();
  if (!s.ok()) {
    std::fprintf(stderr, "crash child: close: %s\n", s.ToString().c_str());
    _exit(5);
  }
  _exit(0);
}
