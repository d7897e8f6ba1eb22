// Engine: store layout and permissions, the writer lock, atomic validated batches, read-only
// opens beside a writer.
#include "engine/engine.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "schema/schema.h"
#include "support/temp_dir.h"

namespace tink::engine {
namespace {

schema::EventInput Note(std::string text) {
  schema::EventInput e;
  e.stream = "run/1";
  e.type = "note";
  e.data_json = "{\"text\":\"" + text + "\"}";
  return e;
}

mode_t ModeOf(const std::string& path) {
  struct stat st;
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

TEST(EngineTest, CreatesStoreWithPrivatePermissions) {
  testing::TempDir tmp;
  const std::string store = tmp.Sub("s");
  auto eng = Engine::Open(store, {});
  ASSERT_TRUE(eng.ok()) << eng.status().ToString();
  auto r = (*eng)->Append(std::vector<schema::EventInput>{Note("a")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(ModeOf(store), 0700u);
  EXPECT_EQ(ModeOf(store + "/log"), 0700u);
  EXPECT_EQ(ModeOf(store + "/LOCK"), 0600u);
  EXPECT_EQ(ModeOf(store + "/log/00000000000000000001.seg"), 0600u);
}

TEST(EngineTest, SecondWriterGetsClearLockError) {
  testing::TempDir tmp;
  auto first = Engine::Open(tmp.Sub("s"), {});
  ASSERT_TRUE(first.ok());
  auto second = Engine::Open(tmp.Sub("s"), {});
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(second.status().IsIOError());
  EXPECT_NE(second.status().message().find("locked by another process (pid "), std::string::npos)
      << second.status().ToString();
  ASSERT_TRUE((*first)->Close().ok());
  first->reset();
  EXPECT_TRUE(Engine::Open(tmp.Sub("s"), {}).ok()) << "lock must be released on close";
}

TEST(EngineTest, BatchWithOneBadEventWritesNothing) {
  testing::TempDir tmp;
  auto eng = Engine::Open(tmp.Sub("s"), {});
  ASSERT_TRUE(eng.ok());
  std::vector<schema::EventInput> batch = {Note("a"), Note("b"), Note("c")};
  batch[1].type = "task.bogus";
  auto r = (*eng)->Append(batch);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument());
  EXPECT_NE(r.status().message().find("event 2"), std::string::npos) << r.status().ToString();
  EXPECT_EQ((*eng)->log().LastLsn(), 0u);

  batch[1].type = "note";
  r = (*eng)->Append(batch);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->lsns.front(), 1u);
  EXPECT_EQ(r->lsns.back(), 3u);
}

TEST(EngineTest, GeneratesIdsAndReadsEventsBack) {
  testing::TempDir tmp;
  auto eng = Engine::Open(tmp.Sub("s"), {});
  ASSERT_TRUE(eng.ok());
  std::vector<schema::EventInput> batch = {Note("x"), Note("y")};
  batch[1].id = "client-id-7";
  ASSERT_TRUE((*eng)->Append(batch).ok());
  std::vector<std::string> ids;
  for (auto it = (*eng)->Read(1); it->Valid(); it->Next()) {
    auto v = schema::DecodeEvent(it->record().payload);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    EXPECT_EQ(v->stream, "run/1");
    EXPECT_EQ(v->type, "note");
    ids.emplace_back(v->id);
  }
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(ids[0].size(), 32u);
  EXPECT_EQ(ids[0].find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(ids[1], "client-id-7");
}

TEST(EngineTest, ReadOnlyOpenSeesWriterDataAndTakesNoLock) {
  testing::TempDir tmp;
  auto writer = Engine::Open(tmp.Sub("s"), {});
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Append(std::vector<schema::EventInput>{Note("a"), Note("b")}).ok());
  EngineOptions ro;
  ro.read_only = true;
  auto reader = Engine::Open(tmp.Sub("s"), ro);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->log().LastLsn(), 2u);
  auto bad = (*reader)->Append(std::vector<schema::EventInput>{Note("c")});
  EXPECT_FALSE(bad.ok());
}

TEST(EngineTest, ReadOnlyOpenOfMissingStoreIsNotFound) {
  testing::TempDir tmp;
  EngineOptions ro;
  ro.read_only = true;
  auto r = Engine::Open(tmp.Sub("nope"), ro);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsNotFound());
  EXPECT_FALSE(::access(tmp.Sub("nope").c_str(), F_OK) == 0) << "read-only must not create";
}

}  // namespace
}  // namespace tink::engine
