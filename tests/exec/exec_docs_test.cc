// Every `console` block of docs/exec.md runs as written: in one fresh directory with a fresh
// store ($TINKERBELL_STORE), each `$ COMMAND` line through sh with tink first on $PATH, stdout
// and stderr together; the lines after it are its output, and a last line `[exit N]` its exit
// code (0 when there is none).
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "exec/exec_test_util.h"

namespace tink::exectest {
namespace {

using testing::ReadFile;

struct Step {
  int line = 0;
  std::string command;
  std::string expected;
  int exit_code = 0;
};

std::vector<Step> ParseSteps(const std::string& doc) {
  std::vector<Step> steps;
  std::istringstream in(doc);
  std::string line;
  bool in_block = false;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (!in_block) {
      in_block = line == "```console";
      continue;
    }
    if (line == "```") {
      in_block = false;
      continue;
    }
    if (line.starts_with("$ ")) {
      steps.push_back(Step{n, line.substr(2), "", 0});
    } else if (!steps.empty()) {
      if (line.starts_with("[exit ") && line.ends_with("]")) {
        steps.back().exit_code = std::stoi(line.substr(6));
      } else {
        steps.back().expected += line + "\n";
      }
    }
  }
  return steps;
}

TEST(ExecDocsTest, EveryConsoleExampleRuns) {
  const std::string doc = ReadFile(std::string(TINK_SOURCE_DIR) + "/docs/exec.md");
  const std::vector<Step> steps = ParseSteps(doc);
  ASSERT_GE(steps.size(), 8u) << "docs/exec.md lost its examples";
  testing::TempDir tmp;
  const std::string bin_dir = std::filesystem::path(TINK_BIN).parent_path().string();
  for (const Step& s : steps) {
    const CommandResult r =
        RunCommand("cd " + ShellQuote(tmp.path()) + " && unset TINKERBELL_SERVER && PATH=" +
                   ShellQuote(bin_dir) + ":$PATH TINKERBELL_STORE=" + ShellQuote(tmp.Sub("store")) +
                   " sh -c " + ShellQuote(s.command) + " 2>&1");
    EXPECT_EQ(r.out, s.expected) << "docs/exec.md:" << s.line << ": " << s.command;
    EXPECT_EQ(r.exit_code, s.exit_code) << "docs/exec.md:" << s.line << ": " << s.command;
  }
}

}  // namespace
}  // namespace tink::exectest
