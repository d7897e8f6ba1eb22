// RunGuarded (shell/cli/common.h): the last net under every `tink` command. An exception that
// escapes a command becomes one line "tink <cmd>: ..." on stderr and a documented exit code,
// never std::terminate (issue 14, item 9).
#include <gtest/gtest.h>

#include <filesystem>
#include <new>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <system_error>

#include "shell/cli/common.h"

namespace tink::cli {
namespace {

struct Outcome {
  int exit_code;
  std::string err;
};

Outcome Guarded(const std::function<int()>& fn) {
  ::testing::internal::CaptureStderr();
  const int code = RunGuarded("demo", fn);
  return {code, ::testing::internal::GetCapturedStderr()};
}

TEST(RunGuarded, PassesTheCommandsExitCodeThrough) {
  EXPECT_EQ(Guarded([] { return 0; }).exit_code, 0);
  EXPECT_EQ(Guarded([] { return 3; }).exit_code, 3);
  EXPECT_EQ(Guarded([] { return 3; }).err, "");
}

TEST(RunGuarded, JsonOfAnUnexpectedShapeIsAnInputError) {
  Outcome o = Guarded([] { return nlohmann::json(5).get<std::string>().empty() ? 0 : 1; });
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_EQ(o.err.rfind("tink demo: unexpected JSON: ", 0), 0u) << o.err;
  EXPECT_EQ(std::count(o.err.begin(), o.err.end(), '\n'), 1) << o.err;
  Outcome p = Guarded([] { return static_cast<int>(nlohmann::json::parse("{").size()); });
  EXPECT_EQ(p.exit_code, 2);
  EXPECT_EQ(p.err.rfind("tink demo: ", 0), 0u) << p.err;
}

TEST(RunGuarded, SystemAndMemoryFailuresAreIOErrors) {
  Outcome fs = Guarded([]() -> int {
    throw std::filesystem::filesystem_error(
        "status", "/x/loop", std::make_error_code(std::errc::too_many_symbolic_link_levels));
  });
  EXPECT_EQ(fs.exit_code, 4);
  EXPECT_EQ(fs.err.rfind("tink demo: ", 0), 0u) << fs.err;
  EXPECT_NE(fs.err.find("/x/loop"), std::string::npos) << fs.err;
  EXPECT_EQ(std::count(fs.err.begin(), fs.err.end(), '\n'), 1) << fs.err;

  Outcome sys = Guarded([]() -> int {
    throw std::system_error(std::make_error_code(std::errc::permission_denied), "open");
  });
  EXPECT_EQ(sys.exit_code, 4);
  EXPECT_EQ(sys.err.rfind("tink demo: open: ", 0), 0u) << sys.err;

  Outcome mem = Guarded([]() -> int { throw std::bad_alloc(); });
  EXPECT_EQ(mem.exit_code, 4);
  EXPECT_EQ(mem.err, "tink demo: out of memory\n");

  Outcome other = Guarded([]() -> int { throw std::runtime_error("line one\nline two"); });
  EXPECT_EQ(other.exit_code, 4);
  EXPECT_EQ(other.err, "tink demo: internal error: line one line two\n");

  Outcome odd = Guarded([]() -> int { throw 42; });
  EXPECT_EQ(odd.exit_code, 4);
  EXPECT_EQ(odd.err, "tink demo: internal error: unknown exception\n");
}

}  // namespace
}  // namespace tink::cli
