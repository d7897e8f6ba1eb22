// The checkpoint (docs/log-format.md "Checkpoint"): an open resumes the active segment's scan
// where the writer's last checkpoint says the synced records end, after checking the record it
// names. A stale, torn, foreign or mismatched checkpoint falls back to the full scan; damage
// before a good checkpoint is still found by readers and by verify; a crash between a sync and
// its checkpoint loses nothing.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "log/internal/record.h"
#include "log/internal/segment.h"
#include "log/log.h"
#include "log_test_util.h"
#include "support/fault_fs.h"
#include "support/run_command.h"
#include "support/temp_dir.h"

namespace tink::log {
namespace {

using testing::FaultInjectionFS;
using Op = FaultInjectionFS::Op;

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

const std::string kSeg = "00000000000000000001.seg";

// Checkpoints every KiB: most appends below are followed by one.
LogOptions Frequent() {
  LogOptions o;
  o.checkpoint_bytes = 1 << 10;
  return o;
}

LogOptions ReadOnly() {
  LogOptions o;
  o.read_only = true;
  return o;
}

// n appends of one 200-byte record each (one write each); returns them.
std::vector<Rec> AppendMany(const std::string& dir, int from, int n, LogOptions o = Frequent()) {
  auto log = Log::Open(dir, o);
  EXPECT_TRUE(log.ok()) << log.status().ToString();
  std::vector<Rec> out;
  for (int i = from; i < from + n; ++i) {
    auto r = (*log)->Append(Payload(i, 200));
    EXPECT_TRUE(r.ok());
    out.push_back({r->first_lsn, Payload(i, 200)});
  }
  return out;
}

// Offset of the record with this LSN in a segment written by AppendMany from LSN 1.
uint64_t OffsetOf(Lsn lsn) {
  return kSegmentHeaderSize + (lsn - 1) * (RecordSpan(200) + kWriteEndMarkSize);
}

// A read-only open's view, and whether its open reported damage (a full scan would have).
struct View {
  Lsn last = 0;
  std::vector<Rec> records;
  Status iter;
  Status damage;
};
View Look(const std::string& dir) {
  View v;
  RecoveryReport rep;
  auto log = Log::Open(dir, ReadOnly(), &rep);
  EXPECT_TRUE(log.ok()) << log.status().ToString();
  if (!log.ok()) return v;
  v.last = (*log)->LastLsn();
  v.records = ReadAll(**log, &v.iter);
  v.damage = rep.damage;
  return v;
}

// Flips one payload byte of record `lsn` (written by AppendMany).
void DamageRecord(const std::string& dir, Lsn lsn) {
  const std::string path = dir + "/" + kSeg;
  std::string d = testing::ReadFile(path);
  d[OffsetOf(lsn) + kRecordHeaderSize + 17] ^= 0x20;
  WriteFile(path, d);
}

TEST(CheckpointTest, ReopensResumeFromTheCheckpointAndServeEverything) {
  testing::TempDir tmp;
  std::vector<Rec> all = AppendMany(tmp.path(), 1, 400);
  ASSERT_TRUE(std::filesystem::exists(CheckpointPath(tmp.path())));
  View v = Look(tmp.path());
  EXPECT_EQ(v.last, 400u);
  EXPECT_EQ(v.records, all);
  EXPECT_TRUE(v.iter.ok()) << v.iter.ToString();

  // The index comes from the checkpoint too: seeks land on the right records.
  {
    auto log = Log::Open(tmp.path(), ReadOnly());
    ASSERT_TRUE(log.ok());
    for (Lsn from : {1u, 2u, 199u, 333u, 400u}) {
      Status st;
      const std::vector<Rec> got = ReadAll(**log, &st, from);
      ASSERT_EQ(got.size(), 401 - from) << from;
      EXPECT_EQ(got.front(), all[from - 1]);
      EXPECT_TRUE(st.ok()) << st.ToString();
    }
    const int64_t t = [&] {
      auto it = (*log)->NewIterator(250);
      return it->record().time_ns;
    }();
    EXPECT_LE((*log)->LsnAtTime(t), 250u);
  }

  // A writer that resumes from it (not the default) appends after it; sealing hashes the
  // segment from the file, and verify checks that footer against every byte.
  LogOptions resume = Frequent();
  resume.writer_scans_active_segment = false;
  resume.segment_size = 200 << 10;  // the next appends roll over
  std::vector<Rec> more = AppendMany(tmp.path(), 401, 600, resume);
  all.insert(all.end(), more.begin(), more.end());
  v = Look(tmp.path());
  EXPECT_EQ(v.records, all);
  auto ver = VerifyLog(tmp.path());
  ASSERT_TRUE(ver.ok());
  EXPECT_TRUE(ver->clean()) << ver->problems[0].what;
  EXPECT_EQ(ver->records, 1000u);
  auto log = Log::Open(tmp.path(), LogOptions{});
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_GE((*log)->Stats().segments.size(), 2u);
  EXPECT_TRUE((*log)->Stats().segments[0].sealed);
}

TEST(CheckpointTest, DamageBeforeTheCheckpointIsFoundByReadersVerifyAndWriters) {
  testing::TempDir tmp;
  const std::vector<Rec> all = AppendMany(tmp.path(), 1, 50);
  DamageRecord(tmp.path(), 20);

  // The reader's open resumes after record 50: it does not see record 20...
  View v = Look(tmp.path());
  EXPECT_TRUE(v.damage.ok()) << "the open scanned the checkpointed records: "
                             << v.damage.ToString();
  EXPECT_EQ(v.last, 50u);
  // ...but reading does: everything before it, then the damage by segment, offset and LSN.
  ASSERT_EQ(v.records.size(), 19u);
  EXPECT_TRUE(std::equal(v.records.begin(), v.records.end(), all.begin()));
  ASSERT_TRUE(v.iter.IsCorruption()) << v.iter.ToString();
  EXPECT_NE(v.iter.message().find("segment " + kSeg + " offset " + std::to_string(OffsetOf(20))),
            std::string::npos)
      << v.iter.ToString();
  EXPECT_NE(v.iter.message().find("(LSN 20)"), std::string::npos) << v.iter.ToString();
  // Verify reads every byte.
  auto ver = VerifyLog(tmp.path());
  ASSERT_TRUE(ver.ok());
  ASSERT_FALSE(ver->clean());
  EXPECT_EQ(ver->problems[0].segment, kSeg);
  EXPECT_EQ(ver->problems[0].offset, OffsetOf(20));
  EXPECT_EQ(ver->problems[0].lsn, 20u);

  // The default writer scans the whole active segment and refuses.
  auto w = Log::Open(tmp.path(), Frequent());
  ASSERT_FALSE(w.ok());
  EXPECT_TRUE(w.status().IsCorruption()) << w.status().ToString();
  EXPECT_NE(w.status().message().find("offset " + std::to_string(OffsetOf(20))),
            std::string::npos)
      << w.status().ToString();
}

TEST(CheckpointTest, StaleTornForeignOrMismatchedCheckpointsFallBackToAFullScan) {
  testing::TempDir tmp;
  const std::string dir = tmp.Sub("log");
  std::vector<Rec> all = AppendMany(dir, 1, 30);
  const std::string ckpt30 = testing::ReadFile(CheckpointPath(dir));
  std::vector<Rec> more = AppendMany(dir, 31, 30);
  all.insert(all.end(), more.begin(), more.end());
  const std::string good = testing::ReadFile(CheckpointPath(dir));
  const std::string seg = testing::ReadFile(dir + "/" + kSeg);
  // Another store with the same records (same LSNs, offsets; its own store id and times).
  const std::string other = tmp.Sub("other");
  AppendMany(other, 1, 60);
  const std::string foreign = testing::ReadFile(CheckpointPath(other));

  // A stale checkpoint (from LSN 30) is still true: the scan resumes there and finds 31..60.
  WriteFile(CheckpointPath(dir), ckpt30);
  View v = Look(dir);
  EXPECT_EQ(v.last, 60u);
  EXPECT_EQ(v.records, all);

  // Each of these must be ignored, and the whole segment scanned. The proof of a full scan:
  // damage at record 10 is reported by the open itself, which a resumed scan never reads.
  std::string damaged = seg;
  damaged[OffsetOf(10) + kRecordHeaderSize + 3] ^= 1;
  std::string flipped = good;
  flipped[40] ^= 1;  // its `end`: the checksum no longer matches
  std::string lies = good;
  // A well-formed checkpoint whose record does not match: LSN 59 claimed at record 60's offset.
  {
    internal::Checkpoint c;
    ASSERT_TRUE(internal::DecodeCheckpoint(good, &c).ok());
    c.last_lsn = 59;
    c.record_count = 59;
    lies = internal::EncodeCheckpoint(c);
  }
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"torn (half of it)", good.substr(0, good.size() / 2)},
      {"a flipped byte", flipped},
      {"another store's", foreign},
      {"empty", ""},
      {"naming a record that does not match", lies},
  };
  WriteFile(dir + "/" + kSeg, damaged);
  for (const auto& [what, bytes] : cases) {
    SCOPED_TRACE(what);
    WriteFile(CheckpointPath(dir), bytes);
    v = Look(dir);
    ASSERT_TRUE(v.damage.IsCorruption()) << "the checkpoint was trusted";
    EXPECT_NE(v.damage.message().find("offset " + std::to_string(OffsetOf(10))),
              std::string::npos)
        << v.damage.ToString();
    EXPECT_EQ(v.records.size(), 9u);
  }
  // No checkpoint at all (a store an older build wrote): the full scan, as before.
  std::filesystem::remove(CheckpointPath(dir));
  EXPECT_TRUE(Look(dir).damage.IsCorruption());

  // The record the good checkpoint names is itself damaged: it does not match, full scan.
  WriteFile(dir + "/" + kSeg, seg);
  WriteFile(CheckpointPath(dir), good);
  std::string last_bad = seg;
  last_bad[OffsetOf(60) + kRecordHeaderSize + 3] ^= 1;
  WriteFile(dir + "/" + kSeg, last_bad);
  v = Look(dir);
  ASSERT_TRUE(v.damage.IsCorruption());
  EXPECT_NE(v.damage.message().find("LSN 60"), std::string::npos) << v.damage.ToString();
  EXPECT_EQ(v.records.size(), 59u);

  // After `tink recover --truncate-at`, the checkpoint is gone and new records are read.
  WriteFile(dir + "/" + kSeg, seg);
  WriteFile(CheckpointPath(dir), good);
  auto cut = TruncateLogAt(dir, 41);
  ASSERT_TRUE(cut.ok()) << cut.status().ToString();
  EXPECT_FALSE(std::filesystem::exists(CheckpointPath(dir)));
  std::vector<Rec> after(all.begin(), all.begin() + 40);
  std::vector<Rec> again = AppendMany(dir, 1041, 5);
  after.insert(after.end(), again.begin(), again.end());
  v = Look(dir);
  EXPECT_EQ(v.records, after);
  EXPECT_TRUE(v.iter.ok());
  EXPECT_TRUE(VerifyLog(dir)->clean());
}

// The writer stops at every write (records, end marks and checkpoints alike) and at every sync:
// either as a kill -9 (whatever was written stays: the page cache survives) or as a power loss
// (everything unsynced is gone). The next open, resumed from whatever checkpoint survived, serves
// every acknowledged record and at most the one write in flight, and a writer continues.
TEST(CheckpointTest, AKillOrPowerLossBetweenSyncAndCheckpointLosesNothing) {
  for (bool power_loss : {false, true}) {
    for (Op op : {Op::kWrite, Op::kSync}) {
      for (int at = 1; at <= 30; ++at) {
        for (bool resume : {false, true}) {
          SCOPED_TRACE(std::string(power_loss ? "power loss" : "kill") + " at " +
                       (op == Op::kWrite ? "write " : "sync ") + std::to_string(at) +
                       (resume ? ", writer resumes from the checkpoint" : ""));
          testing::TempDir tmp;
          FaultInjectionFS fs;
          LogOptions o = Frequent();
          o.fs = &fs;
          o.segment_size = 16 << 10;  // rollovers too
          o.writer_scans_active_segment = !resume;
          std::vector<Rec> acked;
          {
            auto log = Log::Open(tmp.path(), o);
            ASSERT_TRUE(log.ok());
            fs.CrashAt(op, at);
            for (int i = 1; i <= 200; ++i) {
              auto r = (*log)->Append(Payload(i, 200));
              if (!r.ok()) break;
              acked.push_back({r->first_lsn, Payload(i, 200)});
            }
          }
          ASSERT_LT(acked.size(), 200u) << "the crash never came";
          if (power_loss) fs.DropUnsyncedData();
          fs.Restart();
          LogOptions ro = o;
          ro.read_only = true;
          size_t have = 0;
          {
            auto log = Log::Open(tmp.path(), ro);
            ASSERT_TRUE(log.ok()) << log.status().ToString();
            Status st;
            const std::vector<Rec> got = ReadAll(**log, &st);
            EXPECT_TRUE(st.ok()) << st.ToString();
            ASSERT_GE(got.size(), acked.size());
            ASSERT_LE(got.size(), acked.size() + 1);
            EXPECT_TRUE(std::equal(acked.begin(), acked.end(), got.begin()));
            if (got.size() > acked.size()) {
              EXPECT_EQ(got.back().payload, Payload(got.size(), 200));
            }
            have = got.size();
          }
          auto log = Log::Open(tmp.path(), o);
          ASSERT_TRUE(log.ok()) << log.status().ToString();
          EXPECT_EQ((*log)->LastLsn(), have);
          auto r = (*log)->Append("after");
          ASSERT_TRUE(r.ok()) << r.status().ToString();
          EXPECT_EQ(r->first_lsn, have + 1);
          log->reset();
          auto v = VerifyLog(tmp.path());
          ASSERT_TRUE(v.ok());
          EXPECT_TRUE(v->clean()) << v->problems[0].what;
        }
      }
    }
  }
}

TEST(CheckpointTest, SegmentFilesGrowInStepsAndOpensReadOnlyWhatFollowsTheCheckpoint) {
  testing::TempDir tmp;
  {
    auto log = Log::Open(tmp.path(), LogOptions{});
    ASSERT_TRUE(log.ok());
    const std::string big(64 << 10, 'x');
    for (int i = 0; i < 80; ++i) ASSERT_TRUE((*log)->Append(big).ok());  // ~5 MiB
  }
  const uint64_t size = std::filesystem::file_size(tmp.path() + "/" + kSeg);
  EXPECT_GE(size, 80u * (64 << 10));
  EXPECT_LE(size, 80u * RecordSpan(64 << 10) + kSegmentHeaderSize + kAllocationStep);
  EXPECT_LT(size, kDefaultSegmentSize);
  View v = Look(tmp.path());
  EXPECT_EQ(v.last, 80u);
  EXPECT_EQ(v.records.size(), 80u);
}

}  // namespace
}  // namespace tink::log
