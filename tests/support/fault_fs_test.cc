// The fault-injecting FileSystem itself: the log's fault and power-loss tests are only as good
// as its model, so its promises are checked here.
#include "support/fault_fs.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/run_command.h"
#include "support/temp_dir.h"

namespace tink::testing {
namespace {

using Op = FaultInjectionFS::Op;

std::unique_ptr<log::WritableFile> Create(FaultInjectionFS& fs, const std::string& path) {
  auto f = fs.OpenWritable(path, log::OpenMode::kCreateNew);
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  return f.ok() ? std::move(*f) : nullptr;
}

TEST(FaultFsTest, NthCallFailsAndStaysFailedUntilClear) {
  TempDir tmp;
  FaultInjectionFS fs;
  auto f = Create(fs, tmp.Sub("a"));
  ASSERT_TRUE(f);
  fs.FailAt(Op::kWrite, 2, Status::IOError("disk full", SubCode::kNoSpace));
  EXPECT_TRUE(f->Write(0, "one").ok());
  EXPECT_TRUE(f->Write(3, "two").IsNoSpace());
  EXPECT_TRUE(f->Write(6, "three").IsNoSpace());
  EXPECT_TRUE(f->Sync().ok()) << "other operations are unaffected";
  EXPECT_EQ(fs.Calls(Op::kWrite), 3);
  EXPECT_EQ(fs.Calls(Op::kSync), 1);
  fs.Clear();
  EXPECT_TRUE(f->Write(3, "two").ok());
  EXPECT_EQ(ReadFile(tmp.Sub("a")), "onetwo");

  fs.FailAt(Op::kCreate, 1, Status::IOError("EIO"));
  EXPECT_FALSE(fs.OpenWritable(tmp.Sub("b"), log::OpenMode::kCreateNew).ok());
  EXPECT_FALSE(std::filesystem::exists(tmp.Sub("b")));
  fs.FailAt(Op::kSyncDir, 1, Status::IOError("EIO"));
  EXPECT_FALSE(fs.SyncDir(tmp.path()).ok());
  fs.FailAt(Op::kAllocate, 1, Status::IOError("EIO"));
  EXPECT_FALSE(f->Allocate(4096).ok());
  fs.FailAt(Op::kTruncate, 1, Status::IOError("EIO"));
  EXPECT_FALSE(f->Truncate(0).ok());
}

TEST(FaultFsTest, ShortWriteStoresAPrefixThenFails) {
  TempDir tmp;
  FaultInjectionFS fs;
  auto f = Create(fs, tmp.Sub("a"));
  ASSERT_TRUE(f);
  fs.FailAt(Op::kWrite, 1, Status::IOError("EIO"), 4);
  EXPECT_FALSE(f->Write(0, "abcdefgh").ok());
  EXPECT_EQ(ReadFile(tmp.Sub("a")), "abcd");
}

TEST(FaultFsTest, DropUnsyncedDataRevertsToTheLastSync) {
  TempDir tmp;
  FaultInjectionFS fs;
  auto durable = Create(fs, tmp.Sub("durable"));
  ASSERT_TRUE(durable && durable->Write(0, "synced").ok() && durable->Sync().ok());
  ASSERT_TRUE(fs.SyncDir(tmp.path()).ok());
  ASSERT_TRUE(durable->Write(6, "+lost").ok());
  ASSERT_TRUE(durable->Write(0, "S").ok());
  auto never_synced = Create(fs, tmp.Sub("entry-durable-only"));
  ASSERT_TRUE(never_synced && never_synced->Write(0, "data").ok());
  ASSERT_TRUE(fs.SyncDir(tmp.path()).ok());
  auto new_file = Create(fs, tmp.Sub("no-entry"));
  ASSERT_TRUE(new_file && new_file->Write(0, "x").ok() && new_file->Sync().ok());

  fs.Crash();
  EXPECT_FALSE(durable->Write(0, "z").ok()) << "the machine is off";
  EXPECT_FALSE(durable->Sync().ok());
  fs.DropUnsyncedData();
  fs.Restart();
  EXPECT_EQ(ReadFile(tmp.Sub("durable")), "synced");
  EXPECT_EQ(ReadFile(tmp.Sub("entry-durable-only")), "") << "its data was never synced";
  EXPECT_FALSE(std::filesystem::exists(tmp.Sub("no-entry"))) << "created after the last SyncDir";
  EXPECT_TRUE(durable->Write(0, "again").ok()) << "Restart ends the crash";
}

TEST(FaultFsTest, CrashAtASyncAndRenames) {
  TempDir tmp;
  FaultInjectionFS fs;
  auto f = Create(fs, tmp.Sub("a"));
  ASSERT_TRUE(f && f->Write(0, "one").ok() && f->Sync().ok() && fs.SyncDir(tmp.path()).ok());
  fs.CrashAt(Op::kSync, 2);
  ASSERT_TRUE(f->Write(3, "two").ok() && f->Sync().ok());
  ASSERT_TRUE(f->Write(6, "three").ok());
  EXPECT_FALSE(f->Sync().ok()) << "the power went off in this fsync";
  EXPECT_FALSE(f->Write(0, "x").ok());
  EXPECT_FALSE(fs.Rename(tmp.Sub("a"), tmp.Sub("b")).ok());
  fs.DropUnsyncedData();
  fs.Restart();
  EXPECT_EQ(ReadFile(tmp.Sub("a")), "onetwo");

  // A rename is durable only with a SyncDir after it.
  ASSERT_TRUE(fs.Rename(tmp.Sub("a"), tmp.Sub("b")).ok());
  fs.DropUnsyncedData();
  EXPECT_FALSE(std::filesystem::exists(tmp.Sub("b")));
}

TEST(FaultFsTest, TornDropKeepsEachBlockOldOrNew) {
  TempDir tmp;
  FaultInjectionFS fs;
  const std::string old_image(64 * 512, 'o'), new_image(64 * 512, 'n');
  auto f = Create(fs, tmp.Sub("a"));
  ASSERT_TRUE(f && f->Write(0, old_image).ok() && f->Sync().ok() && fs.SyncDir(tmp.path()).ok());
  ASSERT_TRUE(f->Write(0, new_image).ok());
  fs.DropUnsyncedData(/*torn_seed=*/42, /*block=*/512);
  const std::string got = ReadFile(tmp.Sub("a"));
  ASSERT_EQ(got.size(), old_image.size());
  int kept = 0;
  for (size_t b = 0; b < 64; ++b) {
    const std::string block = got.substr(b * 512, 512);
    ASSERT_TRUE(block == old_image.substr(0, 512) || block == new_image.substr(0, 512)) << b;
    kept += block[0] == 'n';
  }
  EXPECT_GT(kept, 0);
  EXPECT_LT(kept, 64);
  // What survived is now durable: a second power loss changes nothing.
  fs.DropUnsyncedData();
  EXPECT_EQ(ReadFile(tmp.Sub("a")), got);
}

// fsyncgate: after a failed fsync the kernel marks the pages clean; a later successful fsync does
// not write them, so a power loss loses them although every later sync "succeeded". Rewriting
// them makes them dirty (and durable at the next sync) again.
TEST(FaultFsTest, FailedSyncLeavesItsBytesCleanButNotDurable) {
  TempDir tmp;
  FaultInjectionFS fs;
  auto f = Create(fs, tmp.Sub("a"));
  ASSERT_TRUE(f && f->Write(0, "AAAA").ok() && f->Sync().ok() && fs.SyncDir(tmp.path()).ok());
  ASSERT_TRUE(f->Write(4, "BBBB").ok());
  fs.FailAt(FaultInjectionFS::Op::kSync, 1, Status::IOError("injected EIO"));
  EXPECT_FALSE(f->Sync().ok());
  fs.Clear();
  ASSERT_TRUE(f->Write(8, "CCCC").ok());
  ASSERT_TRUE(f->Sync().ok());
  EXPECT_EQ(ReadFile(tmp.Sub("a")), "AAAABBBBCCCC") << "the page cache still shows them";
  fs.DropUnsyncedData();
  EXPECT_EQ(ReadFile(tmp.Sub("a")), std::string("AAAA\0\0\0\0CCCC", 12));
  // Rewritten, they are dirty again and the next sync keeps them.
  ASSERT_TRUE(f->Write(4, "BBBB").ok());
  ASSERT_TRUE(f->Sync().ok());
  fs.DropUnsyncedData();
  EXPECT_EQ(ReadFile(tmp.Sub("a")), "AAAABBBBCCCC");
}

}  // namespace
}  // namespace tink::testing
