// Small helpers shared by the benchmarks: a scratch directory on the benchmarked disk, payloads,
// and a deadline-bounded multi-threaded driver.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace tink::bench {

// $TINK_BENCH_DIR, else ./bench-scratch (the repository's disk, not tmpfs).
inline std::string ScratchDir(const std::string& name) {
  const char* env = std::getenv("TINK_BENCH_DIR");
  std::filesystem::path base = env && *env ? env : "bench-scratch";
  std::filesystem::path p = base / name;
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p.string();
}

// Printable random payloads, so the same bytes fit every baseline (JSON strings included).
inline std::vector<std::string> Payloads(size_t n, size_t size, uint32_t seed = 42) {
  std::mt19937 rng(seed);
  std::vector<std::string> out(n);
  for (auto& p : out) {
    p.resize(size);
    for (char& c : p) c = static_cast<char>('a' + rng() % 26);
  }
  return out;
}

struct Rate {
  uint64_t ops = 0;
  double seconds = 0;
  double per_sec() const { return seconds > 0 ? ops / seconds : 0; }
};

// Runs op(thread, i) on `threads` threads until `seconds` pass or `max_ops` total ops are done.
// op returns false to stop (an error).
inline Rate RunFor(int threads, double seconds, uint64_t max_ops,
                   const std::function<bool(int, uint64_t)>& op) {
  std::atomic<uint64_t> done{0};
  std::atomic<bool> stop{false};
  const auto t0 = std::chrono::steady_clock::now();
  const auto deadline = t0 + std::chrono::duration<double>(seconds);
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      for (uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        if (!op(t, i)) {
          stop = true;
          break;
        }
        if (done.fetch_add(1, std::memory_order_relaxed) + 1 >= max_ops ||
            ((i & 15) == 0 && std::chrono::steady_clock::now() >= deadline)) {
          stop = true;
        }
      }
    });
  }
  for (auto& t : ts) t.join();
  Rate r;
  r.ops = done.load();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace tink::bench
