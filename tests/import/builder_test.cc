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

}  // namespace
}  // namespace tink::import_test
