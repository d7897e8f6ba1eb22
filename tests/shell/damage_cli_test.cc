// Damage as a user meets it through `tink`: a zeroed byte in the last record of an acknowledged
// batch makes `tink verify` exit 3 naming segment, offset and LSNs, read commands exit 3 after
// what precedes it, a writer refuses to open, and no command changes a byte of the store. While
// a writer holds the store, what looks like damage at the end of the log is a write in progress:
// readers stop before it silently and verify re-reads until it is stable.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "engine/store_lock.h"
#include "log/format.h"
#include "support/run_command.h"
#include "support/temp_dir.h"

namespace tink {
namespace {

using testing::CommandResult;
using testing::ReadFile;
using testing::RunCommand;
using testing::ShellQuote;
namespace fs = std::filesystem;

const std::string kSeg = "log/00000000000000000001.seg";

struct RecordAt {
  uint64_t offset = 0, payload = 0, length = 0, end = 0;  // end: after padding and end mark
};

// Walks the records of a segment written by this build (format 2).
std::map<uint64_t, RecordAt> Records(const std::string& d) {
  std::map<uint64_t, RecordAt> out;
  uint64_t off = log::kSegmentHeaderSize;
  while (off + log::kRecordHeaderSize <= d.size() && log::GetU64(d.data() + off) != 0) {
    const uint64_t lsn = log::GetU64(d.data() + off + 16);
    const uint32_t len = log::GetU32(d.data() + off + 32);
    const uint8_t flags = static_cast<uint8_t>(d[off + 37]);
    const uint64_t end = off + log::RecordSpan(len, flags, log::kWriteEndMarkSize);
    out[lsn] = {off, off + log::kRecordHeaderSize, len, end};
    off = end;
  }
  return out;
}

// Overwrites the file's bytes in place (never truncating it: a concurrent reader must not see a
// short file).
void WriteFile(const std::string& path, const std::string& data) {
  std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
}

// Every file under the store with its bytes: "changes nothing" means this stays equal.
std::map<std::string, std::string> Snapshot(const std::string& store) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(store)) {
    if (e.is_regular_file()) out[e.path().string()] = ReadFile(e.path().string());
  }
  return out;
}

// The files that differ between two snapshots (added, removed or changed), by name.
std::string Changed(const std::map<std::string, std::string>& a,
                    const std::map<std::string, std::string>& b) {
  std::string out;
  for (const auto& [name, bytes] : a) {
    auto it = b.find(name);
    if (it == b.end() || it->second != bytes) out += name + " ";
  }
  for (const auto& [name, bytes] : b) {
    if (!a.count(name)) out += name + " ";
  }
  return out;
}

class DamageCliTest : public ::testing::Test {
 protected:
  CommandResult Tink(const std::string& args, const std::string& input = "") {
    return RunCommand(std::string(TINK_BIN) + " --store " + ShellQuote(store_) + " " + args,
                      input);
  }
  void AppendEvents(int n, bool one_batch) {
    std::string lines;
    for (int i = 1; i <= n; ++i) {
      lines += R"({"stream":"run/1/task/1","type":"note","run":"1","data":{"text":"step )" +
               std::to_string(i) + R"( of the agent's work, long enough to span some bytes"}})" +
               "\n";
      if (!one_batch) {
        ASSERT_EQ(Tink("append", lines).exit_code, 0);
        lines.clear();
      }
    }
    if (one_batch) {
      CommandResult r = Tink("append", lines);
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
  }
  testing::TempDir tmp_;
  std::string store_ = tmp_.Sub("store");
};

TEST_F(DamageCliTest, ZeroedByteInAnAckedBatchIsReportedAndNothingIsChanged) {
  AppendEvents(20, /*one_batch=*/true);
  const std::string seg = store_ + "/" + kSeg;
  std::string d = ReadFile(seg);
  const auto recs = Records(d);
  ASSERT_EQ(recs.size(), 20u);
  const RecordAt last = recs.at(20);
  uint64_t pos = last.payload + last.length / 2;
  while (d[pos] == 0) ++pos;
  d[pos] = 0;
  WriteFile(seg, d);
  auto before = Snapshot(store_);

  CommandResult v = Tink("verify");
  EXPECT_EQ(v.exit_code, 3) << v.out << v.err;
  EXPECT_NE(v.out.find("segment 00000000000000000001.seg offset " + std::to_string(last.offset) +
                       " (LSNs 1..20)"),
            std::string::npos)
      << v.out;
  EXPECT_EQ(v.out.find("torn tail"), std::string::npos) << v.out;

  for (const char* cmd : {"log", "log --json", "tasks", "stats", "shell -c 'events | count'"}) {
    SCOPED_TRACE(cmd);
    CommandResult r = Tink(cmd);
    EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
    EXPECT_NE(r.err.find("offset " + std::to_string(last.offset)), std::string::npos) << r.err;
    EXPECT_EQ(r.out.find("step 20"), std::string::npos) << "a damaged event was served";
  }
  EXPECT_EQ(Changed(before, Snapshot(store_)), "") << "read commands changed the store";
  // A writer refuses: the batch is acknowledged data, not a torn tail to cut. (It took the
  // lock, so LOCK names its pid; nothing else changed.)
  CommandResult w = Tink("append --stream s --type note --data '{\"text\":\"x\"}'");
  EXPECT_EQ(w.exit_code, 3) << w.err;
  EXPECT_NE(w.err.find("recover --truncate-at 1"), std::string::npos) << w.err;
  auto after = Snapshot(store_);
  after.erase(store_ + "/LOCK");
  before.erase(store_ + "/LOCK");
  EXPECT_EQ(Changed(before, after), "") << "a refused writer changed the store";
}

TEST_F(DamageCliTest, ReadersStopBeforeAWriteInProgressWithoutCryingCorruption) {
  // A write in progress is never covered by the log's checkpoint (the writer rewrites it only
  // after a sync): keep the one written after event 3, as it would be while 4 and 5 are written.
  AppendEvents(3, /*one_batch=*/false);
  const std::string checkpoint = store_ + "/log/" + std::string(log::kCheckpointFileName);
  const std::string after3 = ReadFile(checkpoint);
  ASSERT_FALSE(after3.empty());
  AppendEvents(2, /*one_batch=*/false);
  WriteFile(checkpoint, after3);
  const std::string seg = store_ + "/" + kSeg;
  const std::string good = ReadFile(seg);
  const auto recs = Records(good);
  ASSERT_EQ(recs.size(), 5u);
  // What a reader can see while the kernel copies a write: event 4's bytes not there yet,
  // event 5's already are.
  std::string hole = good;
  for (uint64_t i = recs.at(4).offset; i < recs.at(4).end; ++i) hole[i] = 0;
  WriteFile(seg, hole);

  // No writer: this is damage, and readers say so.
  CommandResult r = Tink("log --json");
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("(LSN 4)"), std::string::npos) << r.err;

  // A writer holds the store: the same bytes are a write in progress.
  auto lock = engine::StoreLock::Acquire(store_);
  ASSERT_TRUE(lock.ok()) << lock.status().ToString();
  r = Tink("log --json");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_NE(r.out.find("step 3 "), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("step 5 "), std::string::npos) << r.out;
  r = Tink("shell -c 'events | count'");
  EXPECT_EQ(r.exit_code, 0) << r.err;

  // verify re-reads: the write completes while it looks, and it finds nothing wrong.
  std::thread finish([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    WriteFile(seg, good);
  });
  CommandResult v = Tink("verify");
  finish.join();
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  // Damage that stays is reported even with a writer at work.
  WriteFile(seg, hole);
  v = Tink("verify");
  EXPECT_EQ(v.exit_code, 3) << v.out;
}

}  // namespace
}  // namespace tink
