// A crash at any point of a replay leaves a usable state: the old generation or the new one,
// never a mix, and no leftover column families. A child process (engine_replay_child) replays
// every projection, or only `streams`, and is killed by a kill point ($TINK_KILL_AT): in the
// middle of the rebuild (projector.before_state_write:3), just before the swap, just after it
// (before the old generation is dropped) and after the drop; with RocksDB's WAL for the state on
// and off; and in the bulk load, after an SST ingest and after the last one. After each kill the store opens without a state reset, its projections are at the
// head and equal to a fresh replay (Engine::Check), every id is found, and the state holds one
// column family per projection (plus default).
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "engine/engine.h"
#include "engine/engine_test_util.h"
#include "projections/indexes.h"
#include "support/temp_dir.h"

extern char** environ;

namespace tink::engine {
namespace {

constexpr int kBatches = 200;
constexpr int kPerBatch = 100;  // 20,000 events: five batches of the projection driver

std::string Id(int b, int k) { return "e-" + std::to_string(b) + "-" + std::to_string(k); }

// Runs the child; returns "killed", "exit N" or "signal N".
std::string RunChild(const std::string& store, const std::string& projection, bool wal,
                     const std::string& kill_at, const std::string& bulk_bytes = "") {
  std::vector<std::string> args = {REPLAY_CHILD_BIN, store, projection, wal ? "1" : "0"};
  if (!bulk_bytes.empty()) args.push_back(bulk_bytes);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::string_view(*e).rfind("TINK_KILL_AT=", 0) != 0) env.emplace_back(*e);
  }
  if (!kill_at.empty()) env.push_back("TINK_KILL_AT=" + kill_at);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return "fork failed";
  if (pid == 0) {
    ::execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) return "killed";
  if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
  return "exit " + std::to_string(WEXITSTATUS(status));
}

size_t ProjectionCount() {
  testing::TempDir tmp;
  auto e = Engine::Open(tmp.path() + "/s", test::Fast());
  return e.ok() ? (*e)->ProjectionNames().size() : 0;
}

// What is wrong with the store after a child died ("" if nothing).
std::string CheckStore(const std::string& store) {
  std::string err;
  {
    auto opened = Engine::Open(store, test::Fast());
    if (!opened.ok()) return "reopen: " + opened.status().ToString();
    Engine& e = **opened;
    for (const std::string& r : e.state_resets()) err += "state reset: " + r + "; ";
    const Lsn head = static_cast<Lsn>(kBatches * kPerBatch);
    if (e.log().LastLsn() != head) err += "the log changed; ";
    if (e.ProjectionsApplied() != head) {
      err += "projections at " + std::to_string(e.ProjectionsApplied()) + "; ";
    }
    auto reader = e.NewReader();
    if (!reader.ok()) return err + reader.status().ToString();
    for (int b = 0; b < kBatches; b += 7) {
      auto lsn = projections::LookupId(**reader, Id(b, kPerBatch - 1));
      if (!lsn.ok() || *lsn != std::optional<Lsn>(static_cast<Lsn>((b + 1) * kPerBatch))) {
        err += "id " + Id(b, kPerBatch - 1) + " not found at its LSN; ";
        break;
      }
    }
    auto v = projections::StreamVersion(**reader, "s-3");
    if (!v.ok() || *v != std::optional<uint64_t>(kBatches / 10 * kPerBatch - 1)) {
      err += "stream s-3 has the wrong version; ";
    }
    reader->reset();
    err += test::CheckProblems(e);
    Status s = e.Close();
    if (!s.ok()) err += "close: " + s.ToString();
  }
  std::vector<std::string> cfs;
  rocksdb::Status ls = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), StateDir(store), &cfs);
  if (!ls.ok()) return err + "listing column families: " + ls.ToString();
  const size_t projections = ProjectionCount();
  if (cfs.size() != projections + 1) {
    std::string names;
    for (const std::string& c : cfs) names += c + " ";
    err += "the state has column families " + names + "(a generation was left behind); ";
  }
  return err;
}

TEST(ReplayCrashTest, KilledAnywhereLeavesAUsableState) {
#ifndef TINK_KILL_POINTS
  FAIL() << "kill points are compiled out of this build: run the tests from a non-Release build";
#endif
  testing::TempDir tmp;
  const std::string store = tmp.path() + "/store";
  {
    auto e = Engine::Open(store, test::Fast());
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    for (int b = 0; b < kBatches; ++b) {
      std::vector<schema::EventInput> batch;
      for (int k = 0; k < kPerBatch; ++k) {
        batch.push_back(test::Note("s-" + std::to_string(b % 10), "x", Id(b, k), "r1"));
      }
      ASSERT_TRUE((*e)->Append(batch).ok());
    }
    ASSERT_TRUE((*e)->Close().ok());
  }
  int kills = 0;
  for (const char* projection : {"all", "streams"}) {
    for (bool wal : {true, false}) {
      for (const char* point : {"projector.before_state_write:3", "replay.before_swap:1",
                                "replay.after_swap:1", "replay.after_drop:1"}) {
        SCOPED_TRACE(std::string(point) + ", replay of " + projection +
                     (wal ? ", RocksDB WAL on" : ", RocksDB WAL off"));
        ASSERT_EQ(RunChild(store, projection, wal, point), "killed");
        ++kills;
        ASSERT_EQ(CheckStore(store), "");
      }
    }
  }
  EXPECT_EQ(kills, 16);
  // The bulk load with a small bound (it ingests SST files several times): killed after the
  // second ingest (rebuilt column families hold ingested files no meta key names yet), and
  // after the last one, before the swap.
  for (bool wal : {true, false}) {
    for (const char* point : {"replay.after_ingest:2", "replay.after_bulk:1"}) {
      SCOPED_TRACE(std::string(point) + ", bulk replay" + (wal ? ", RocksDB WAL on" : ""));
      ASSERT_EQ(RunChild(store, "all", wal, point, "262144"), "killed");
      ASSERT_EQ(CheckStore(store), "");
    }
  }
  // And a replay that is not killed finishes on the state the kills left.
  ASSERT_EQ(RunChild(store, "all", false, ""), "exit 0");
  EXPECT_EQ(CheckStore(store), "");
}

}  // namespace
}  // namespace tink::engine
