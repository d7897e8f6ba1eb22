// RunBuilder::LoadBase: a directory with a BASE.txt manifest yields exactly the files it lists,
// checked against their git blob ids; a plain directory yields every regular file.
#include <filesystem>

#include "import/import_test_util.h"
#include "support/temp_dir.h"

namespace tink::import_test {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> BasePaths(const ImportedRun& r) {
  std::vector<std::string> paths;
  for (const auto& e : r.events) {
    json d = json::parse(e.data_json);
    if (e.type == "file.write" && d.value("base", false)) paths.push_back(d["path"]);
  }
  return paths;
}

TEST(LoadBase, ManifestNamesTheFilesAndTheirBlobs) {
  engine::import::RunBuilder b("r", "r");
  ASSERT_TRUE(b.LoadBase(DataPath("base/ponyc-4595"), 0).ok());
  ImportedRun r = b.Finish();
  EXPECT_EQ(BasePaths(r), std::vector<std::string>{"src/libponyc/ast/parser.c"}) << "no BASE.txt";
}

TEST(LoadBase, AFileThatIsNotTheManifestsIsRefused) {
  tink::testing::TempDir dir;
  fs::copy(DataPath("base/ponyc-4595"), dir.path(), fs::copy_options::recursive);
  std::string file = dir.path() + "/src/libponyc/ast/parser.c";
  fs::permissions(file, fs::perms::owner_write, fs::perm_options::add);
  WriteText(file, Slurp(file) + "// changed\n");
  engine::import::RunBuilder b("r", "r");
  Status s = b.LoadBase(dir.path(), 0);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("not the file BASE.txt names"), std::string::npos) << s.ToString();
}

TEST(LoadBase, WithoutManifestEveryRegularFileButGit) {
  tink::testing::TempDir dir;
  fs::create_directories(dir.path() + "/a/b");
  fs::create_directories(dir.path() + "/.git");
  WriteText(dir.path() + "/a/b/x.txt", "x\n");
  WriteText(dir.path() + "/top.sh", "#!/bin/sh\n");
  WriteText(dir.path() + "/.git/config", "[core]\n");
  fs::permissions(dir.path() + "/top.sh", fs::perms::owner_exec, fs::perm_options::add);
  engine::import::RunBuilder b("r", "r");
  ASSERT_TRUE(b.LoadBase(dir.path(), 0).ok());
  ImportedRun r = b.Finish();
  EXPECT_EQ(BasePaths(r), (std::vector<std::string>{"a/b/x.txt", "top.sh"}));
  EXPECT_EQ(json::parse(r.events[1].data_json)["mode"], "100755");
  EXPECT_EQ(json::parse(r.events[0].data_json)["mode"], "100644");
}

// --base DIR never reads outside DIR (issue 14, item 9): a BASE.txt path with "..", an absolute
// path, or a symlink that leads out of DIR is refused, naming the manifest line. Each outside
// file is given its true size and blob, so only the path rule can refuse it.
class BaseEscape : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(base_ + "/src");
    WriteText(dir_.path() + "/outside.txt", "secret\n");
    WriteText(base_ + "/src/in.txt", "inside\n");
  }
  std::string Line(const std::string& path, const std::string& content) {
    return "100644 " + std::to_string(content.size()) + " " +
           projections::text::GitBlobId(content) + " " + path + "\n";
  }
  void Manifest(const std::string& extra) {
    WriteText(base_ + "/BASE.txt", "files:\n" + Line("src/in.txt", "inside\n") + extra);
  }
  Status Load() {
    engine::import::RunBuilder b("r", "r");
    return b.LoadBase(base_, 0);
  }
  void ExpectRefused(const std::string& what) {
    Status s = Load();
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.ToString();
    EXPECT_NE(s.message().find(base_ + "/BASE.txt line 3"), std::string::npos) << s.ToString();
    EXPECT_NE(s.message().find(what), std::string::npos) << s.ToString();
  }

  tink::testing::TempDir dir_;
  std::string base_ = dir_.path() + "/base";
};

TEST_F(BaseEscape, DotDotInTheManifestIsRefused) {
  Manifest(Line("../outside.txt", "secret\n"));
  ExpectRefused("'../outside.txt'");
  Manifest(Line("src/../../outside.txt", "secret\n"));
  ExpectRefused("'src/../../outside.txt'");
}

TEST_F(BaseEscape, AbsolutePathInTheManifestIsRefused) {
  const std::string abs = dir_.path() + "/outside.txt";
  Manifest(Line(abs, "secret\n"));
  ExpectRefused("'" + abs + "'");
}

TEST_F(BaseEscape, SymlinkOutOfTheBaseIsRefused) {
  fs::create_symlink("../../outside.txt", base_ + "/src/link.txt");
  Manifest(Line("src/link.txt", "secret\n"));
  ExpectRefused("'src/link.txt'");
  // A symlinked folder on the way out too.
  fs::create_directory_symlink(dir_.path(), base_ + "/up");
  Manifest(Line("up/outside.txt", "secret\n"));
  ExpectRefused("'up/outside.txt'");
}

TEST_F(BaseEscape, SymlinkLoopInTheManifestIsRefused) {
  fs::create_symlink("loop", base_ + "/loop");
  Manifest(Line("loop", "secret\n"));
  ExpectRefused("'loop'");
}

TEST_F(BaseEscape, SymlinkInsideTheBaseIsRead) {
  fs::create_symlink("in.txt", base_ + "/src/alias.txt");
  Manifest(Line("src/alias.txt", "inside\n"));
  engine::import::RunBuilder b("r", "r");
  ASSERT_TRUE(b.LoadBase(base_, 0).ok());
  EXPECT_EQ(BasePaths(b.Finish()), (std::vector<std::string>{"src/alias.txt", "src/in.txt"}));
}

TEST_F(BaseEscape, WithoutManifestASymlinkOutIsRefused) {
  fs::create_symlink("../../outside.txt", base_ + "/src/link.txt");
  Status s = Load();
  EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find("src/link.txt"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("outside"), std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace tink::import_test
