// The child of the engine crash stress (crash_harness_engine.h). Arguments after
// "--engine-child": STORE TAG CYCLE SEED WRITERS SEGMENT_SIZE FLAGS [C.W.B ...], the last ones
// naming batches of earlier cycles to re-send. FLAGS: "i" re-send batches writers have in flight,
// "-" do not. Runs until it is killed. Each acknowledgement is one
// line on stdout, written with one write() (shorter than PIPE_BUF, so atomic on a pipe):
//
//   A <how> <duplicate 0|1> <cycle> <writer> <batch> <lsn>...
//
// how: W a writer's first send; S a writer re-sending its batch right after the ack; I the retry
// thread re-sending a batch a writer has in flight; P the retry thread re-sending a batch
// acknowledged in this child; X the retry thread re-sending a batch the parent named. The first
// line is "O" once Engine::Open has returned.
// A failure is one line "E <what>" and exit code 4 (3: bad arguments).
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "support/crash_harness_engine.h"

namespace tink::testing {
namespace {

std::mutex out_mu;

void Emit(const std::string& line) {
  std::lock_guard<std::mutex> l(out_mu);
  if (::write(1, line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(5);
}

[[noreturn]] void Fail(const std::string& what) {
  Emit("E " + what + "\n");
  _exit(4);
}

}  // namespace

void EngineCrashChildMain(int argc, char** argv) {
  using engine_crash::BatchKey;
  if (argc < 9) _exit(3);
  const std::string store = argv[2];
  const std::string tag = argv[3];
  const uint64_t cycle = std::strtoull(argv[4], nullptr, 10);
  const uint32_t seed = static_cast<uint32_t>(std::strtoul(argv[5], nullptr, 10));
  const int writers = std::atoi(argv[6]);
  const uint64_t segment_size = std::strtoull(argv[7], nullptr, 10);
  const bool inflight = std::string(argv[8]).find('i') != std::string::npos;
  std::vector<BatchKey> resend;
  for (int i = 9; i < argc; ++i) {
    unsigned long long c = 0, b = 0;
    int w = 0;
    if (std::sscanf(argv[i], "%llu.%d.%llu", &c, &w, &b) != 3) _exit(3);
    resend.push_back({c, w, b});
  }

  engine::EngineOptions o;
  o.access = engine::Access::kWrite;
  o.durability.mode = log::Durability::Mode::kAlways;
  o.segment_size = segment_size;
  o.projections = true;
  o.tail = true;
  auto opened = engine::Engine::Open(store, o);
  if (!opened.ok()) Fail("open: " + opened.status().ToString());
  engine::Engine& eng = **opened;
  Emit("O\n");  // the open is done: the parent may start the clock of the kill

  const auto append = [&](const BatchKey& k, char how) {
    const engine_crash::Batch batch = engine_crash::MakeBatch(tag, k);
    auto r = eng.Append(batch.events, batch.options);
    if (!r.ok()) {
      Fail(std::string(1, how) + " " + k.ToString() + ": " + r.status().ToString());
    }
    // Only now is it acknowledged.
    std::string line = std::string("A ") + how + " " + (r->duplicate ? "1" : "0") + " " +
                       std::to_string(k.cycle) + " " + std::to_string(k.writer) + " " +
                       std::to_string(k.batch);
    for (log::Lsn lsn : r->lsns) line += " " + std::to_string(lsn);
    Emit(line + "\n");
  };

  // What the writers have in flight (the batch they are appending, or none) and what they have
  // had acknowledged: the retry thread picks from both.
  std::mutex mu;
  std::vector<int64_t> in_flight(writers, -1);  // guarded by mu
  std::vector<BatchKey> done;                   // guarded by mu

  std::vector<std::thread> ts;
  for (int w = 0; w < writers; ++w) {
    ts.emplace_back([&, w] {
      std::mt19937 rng(seed * 7919u + static_cast<uint32_t>(w));
      for (uint64_t b = 0;; ++b) {
        const BatchKey k{cycle, w, b};
        {
          std::lock_guard<std::mutex> l(mu);
          in_flight[w] = static_cast<int64_t>(b);
        }
        append(k, 'W');
        if (rng() % 8 == 0) append(k, 'S');  // the client lost the ack and sends it again
        std::lock_guard<std::mutex> l(mu);
        in_flight[w] = -1;
        done.push_back(k);
      }
    });
  }
  ts.emplace_back([&] {
    std::mt19937 rng(seed * 104729u + 1);
    for (const BatchKey& k : resend) append(k, 'X');
    for (;;) {
      std::optional<BatchKey> k;
      char how = 'I';
      {
        std::lock_guard<std::mutex> l(mu);
        const int w = static_cast<int>(rng() % static_cast<uint32_t>(writers));
        if (inflight && rng() % 4 != 0 && in_flight[w] >= 0) {
          k = BatchKey{cycle, w, static_cast<uint64_t>(in_flight[w])};
        } else if (!done.empty()) {
          k = done[rng() % done.size()];
          how = 'P';
        }
      }
      if (k) append(*k, how);
      // A short random pause so the re-sends land at varying points of the writers' appends.
      std::this_thread::sleep_for(std::chrono::microseconds(rng() % 1500));
    }
  });
  for (auto& t : ts) t.join();
  _exit(0);
}

}  // namespace tink::testing
