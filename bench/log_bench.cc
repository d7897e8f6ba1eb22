// Google Benchmark for the log: durable and non-durable appends from 1 and 16 threads, batch
// appends, and scan+verify. Stores live under $TINK_BENCH_DIR (default ./bench-scratch).
#include <benchmark/benchmark.h>

#include <memory>

#include "bench/bench_util.h"
#include "log/log.h"

namespace tink::bench {
namespace {

std::unique_ptr<log::Log> g_log;
const std::vector<std::string>& Data() {
  static const auto* d = new std::vector<std::string>(Payloads(4096, 256));
  return *d;
}

void OpenLog(log::Durability::Mode mode) {
  log::LogOptions o;
  o.durability.mode = mode;
  auto r = log::Log::Open(ScratchDir("log_bench"), o);
  if (!r.ok()) std::abort();
  g_log = std::move(r).value();
}
void SetupAlways(const benchmark::State&) { OpenLog(log::Durability::Mode::kAlways); }
void SetupNone(const benchmark::State&) { OpenLog(log::Durability::Mode::kNone); }
void Teardown(const benchmark::State&) { g_log.reset(); }

void BM_Append(benchmark::State& state) {
  const auto& data = Data();
  size_t i = static_cast<size_t>(state.thread_index()) * 97;
  for (auto _ : state) {
    auto r = g_log->Append(data[i++ % data.size()]);
    if (!r.ok()) state.SkipWithError(r.status().ToString().c_str());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * 256);
}
BENCHMARK(BM_Append)->Name("Append256/always")->Setup(SetupAlways)->Teardown(Teardown)
    ->Threads(1)->Threads(16)->UseRealTime();
BENCHMARK(BM_Append)->Name("Append256/none")->Setup(SetupNone)->Teardown(Teardown)
    ->Threads(1)->Threads(16)->UseRealTime();

void BM_AppendBatch(benchmark::State& state) {
  const auto& data = Data();
  std::vector<std::string_view> batch(1000);
  for (size_t k = 0; k < batch.size(); ++k) batch[k] = data[k % data.size()];
  for (auto _ : state) {
    auto r = g_log->Append(batch);
    if (!r.ok()) state.SkipWithError(r.status().ToString().c_str());
  }
  state.SetItemsProcessed(state.iterations() * batch.size());
  state.SetBytesProcessed(state.iterations() * batch.size() * 256);
}
BENCHMARK(BM_AppendBatch)->Name("AppendBatch1000x256/none")->Setup(SetupNone)
    ->Teardown(Teardown)->UseRealTime();

void BM_ScanVerify(benchmark::State& state) {
  // Built once (400k records, ~118 MB of records) and kept for every repetition.
  static std::unique_ptr<log::Log> scan_log = [] {
    log::LogOptions o;
    o.durability.mode = log::Durability::Mode::kNone;
    auto r = log::Log::Open(ScratchDir("log_bench_scan"), o);
    if (!r.ok()) std::abort();
    const auto& data = Data();
    std::vector<std::string_view> batch(1000);
    for (size_t k = 0; k < batch.size(); ++k) batch[k] = data[k % data.size()];
    for (int b = 0; b < 400; ++b) {
      if (!(*r)->Append(batch).ok()) std::abort();
    }
    return std::move(r).value();
  }();
  uint64_t bytes = 0;
  for (auto _ : state) {
    bytes = 0;
    auto it = scan_log->NewIterator(1);
    for (; it->Valid(); it->Next()) bytes += log::RecordSpan(it->record().payload.size());
    if (!it->status().ok()) state.SkipWithError(it->status().ToString().c_str());
  }
  state.SetBytesProcessed(state.iterations() * bytes);
}
BENCHMARK(BM_ScanVerify)->Name("ScanVerify")->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tink::bench

BENCHMARK_MAIN();
