// Google Benchmark for the log: single-record appends of 256 random bytes from 1 and 16 threads
// on one shared Log (durability always and none), batch appends of 1000 records (none), and
// scan+verify of a prebuilt ~128 MiB log. Durable appends also report ev/fsync: records per
// fdatasync, i.e. the group size the group commit reached (counted through the FileSystem seam).
//
// Stores live in a fresh <dir>/tink-bench-XXXXXX (dir: $TINK_BENCH_DIR, else the build directory)
// that is removed at exit. Usual Google Benchmark flags apply (--benchmark_filter, _min_time, ...).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <memory>

#include "bench/bench_util.h"
#include "log/log.h"

namespace tink::bench {
namespace {

constexpr size_t kPayload = 256;
constexpr size_t kBatch = 1000;
constexpr uint64_t kScanBytes = 128ULL << 20;  // record bytes of the scan log

ScratchDir* g_scratch = nullptr;

const std::vector<std::string>& Data() {
  static const auto* d = new std::vector<std::string>(Payloads(4096, kPayload));
  return *d;
}

// One Log shared by all threads of a run. Thread 0 opens it in SetUp and closes it in TearDown;
// the other threads meet it only inside the timed loop, which starts and ends with a barrier
// across all threads, so they never see it half-opened or closed.
class LogFixture : public benchmark::Fixture {
 public:
  explicit LogFixture(log::Durability::Mode mode) : mode_(mode) {}

  void SetUp(benchmark::State& st) override {
    if (st.thread_index() != 0) {
      return;
    }
    fs_ = std::make_unique<CountingFileSystem>();
    log::LogOptions o;
    o.fs = fs_.get();
    o.durability.mode = mode_;
    auto r = log::Log::Open(g_scratch->Sub("append"), o);
    if (!r.ok()) {
      std::fprintf(stderr, "open: %s\n", r.status().ToString().c_str());
      std::abort();
    }
    log_ = std::move(r).value();
    syncs0_ = fs_->syncs.load();
  }

  void TearDown(benchmark::State& st) override {
    if (st.thread_index() != 0) {
      return;
    }
    const uint64_t syncs = fs_->syncs.load() - syncs0_;
    if (mode_ == log::Durability::Mode::kAlways && syncs > 0) {
      st.counters["ev/fsync"] = static_cast<double>(log_->LastLsn()) / syncs;
    }
    if (Status s = log_->Close(); !s.ok()) {
      st.SkipWithError(s.ToString().c_str());
    }
    log_.reset();
    fs_.reset();
  }

 protected:
  void AppendOne(benchmark::State& st) {
    const auto& data = Data();
    size_t i = static_cast<size_t>(st.thread_index()) * 97;
    for (auto _ : st) {
      auto r = log_->Append(data[i++ % data.size()]);
      if (!r.ok()) {
        st.SkipWithError(r.status().ToString().c_str());
        break;
      }
    }
    st.SetItemsProcessed(st.iterations());
    st.SetBytesProcessed(st.iterations() * kPayload);
  }

  void AppendBatch(benchmark::State& st) {
    const auto& data = Data();
    std::vector<std::string_view> batch(kBatch);
    size_t i = 0;
    for (auto _ : st) {
      for (auto& b : batch) {
        b = data[i++ % data.size()];
      }
      auto r = log_->Append(batch);
      if (!r.ok()) {
        st.SkipWithError(r.status().ToString().c_str());
        break;
      }
    }
    st.SetItemsProcessed(st.iterations() * kBatch);
    st.SetBytesProcessed(st.iterations() * kBatch * kPayload);
  }

 private:
  const log::Durability::Mode mode_;
  std::unique_ptr<CountingFileSystem> fs_;
  std::unique_ptr<log::Log> log_;
  uint64_t syncs0_ = 0;
};

class Always : public LogFixture {
 public:
  Always() : LogFixture(log::Durability::Mode::kAlways) {}
};
class None : public LogFixture {
 public:
  None() : LogFixture(log::Durability::Mode::kNone) {}
};

BENCHMARK_DEFINE_F(Always, Append256)(benchmark::State& st) { AppendOne(st); }
BENCHMARK_REGISTER_F(Always, Append256)->Threads(1)->Threads(16)->UseRealTime();
BENCHMARK_DEFINE_F(None, Append256)(benchmark::State& st) { AppendOne(st); }
BENCHMARK_REGISTER_F(None, Append256)->Threads(1)->Threads(16)->UseRealTime();
BENCHMARK_DEFINE_F(None, AppendBatch1000x256)(benchmark::State& st) { AppendBatch(st); }
BENCHMARK_REGISTER_F(None, AppendBatch1000x256)->UseRealTime();

// The scan log: built once (mode none, synced), kept open for every repetition, closed before
// the scratch directory goes.
std::unique_ptr<log::Log> g_scan_log;

void BuildScanLog() {
  if (g_scan_log) {
    return;
  }
  log::LogOptions o;
  o.durability.mode = log::Durability::Mode::kNone;
  auto r = log::Log::Open(g_scratch->Sub("scan"), o);
  if (!r.ok()) {
    std::abort();
  }
  const auto& data = Data();
  std::vector<std::string_view> batch(kBatch);
  size_t i = 0;
  for (uint64_t bytes = 0; bytes < kScanBytes; bytes += kBatch * log::RecordSpan(kPayload)) {
    for (auto& b : batch) {
      b = data[i++ % data.size()];
    }
    if (!(*r)->Append(batch).ok()) {
      std::abort();
    }
  }
  if (!(*r)->Sync().ok()) {
    std::abort();
  }
  g_scan_log = std::move(r).value();
}

// Every record's checksum (header + payload), LSN sequence and hash chain, from the page cache.
void BM_ScanVerify(benchmark::State& st) {
  BuildScanLog();
  uint64_t bytes = 0, records = 0;
  for (auto _ : st) {
    bytes = records = 0;
    auto it = g_scan_log->NewIterator(1);
    for (; it->Valid(); it->Next()) {
      bytes += log::RecordSpan(it->record().payload.size());
      ++records;
    }
    if (!it->status().ok()) {
      st.SkipWithError(it->status().ToString().c_str());
      break;
    }
  }
  st.SetBytesProcessed(st.iterations() * bytes);
  st.SetItemsProcessed(st.iterations() * records);
  st.counters["MiB"] = static_cast<double>(bytes) / (1 << 20);
}
BENCHMARK(BM_ScanVerify)->Name("ScanVerify128MiB")->UseRealTime()->Unit(benchmark::kMillisecond);

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
  g_scan_log.reset();
  benchmark::Shutdown();
  return 0;
}
