// Every example in docs/shell.md runs (DESIGN.md §7): the runner builds the demo store exactly as
// scripts/demo does (the imports listed in scripts/demo-imports, in order, so LSNs match), cuts
// each ```tink-example block into commands and their expected output (the format is described in
// docs/shell.md, "Runnable examples"), runs each command through `tink shell -c` and compares
// stdout+stderr exactly. A second test checks the examples cover every source, verb, operator and
// output format.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "support/run_command.h"
#include "support/temp_dir.h"

namespace tink {
namespace {

using testing::CommandResult;
using testing::RunCommand;
using testing::ShellQuote;

const std::string kSource = TINK_SOURCE_DIR;

struct Example {
  int line = 0;                    // of the `tink>` line in docs/shell.md
  std::vector<std::string> setup;  // the block's earlier .mode commands
  std::string command;             // may span lines (continuations)
  std::vector<std::string> expected;
};

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

std::vector<Example> ParseExamples(const std::string& doc) {
  std::vector<Example> out;
  const std::vector<std::string> lines = Lines(doc);
  bool in_block = false;
  std::vector<std::string> modes;
  Example* cur = nullptr;
  auto close = [&] {
    if (cur == nullptr) return;
    while (!cur->expected.empty() && cur->expected.back().empty()) cur->expected.pop_back();
    if (cur->command.starts_with(".mode")) modes.push_back(cur->command);
    cur = nullptr;
  };
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    if (!in_block) {
      if (l == "```tink-example") {
        in_block = true;
        modes.clear();
      }
      continue;
    }
    if (l == "```") {
      close();
      in_block = false;
      continue;
    }
    if (l.starts_with("tink> ")) {
      close();
      out.push_back({static_cast<int>(i) + 1, modes, l.substr(6), {}});
      cur = &out.back();
      continue;
    }
    const size_t cont = l.find_first_not_of(' ');
    if (cur != nullptr && cur->expected.empty() && cont != std::string::npos &&
        l.compare(cont, 5, "...> ") == 0) {
      cur->command += "\n" + l.substr(cont + 5);
      continue;
    }
    if (cur != nullptr) cur->expected.push_back(l);
  }
  return out;
}

// A record time (when the import ran) in the store's format; kTimePattern stands for one.
const std::string kTimePattern = "YYYY-MM-DDTHH:MM:SS.NNNNNNNNNZ";

bool LineMatches(const std::string& want, const std::string& got) {
  if (want.find(kTimePattern) == std::string::npos) return want == got;
  std::string re;
  for (size_t i = 0; i < want.size();) {
    if (want.compare(i, kTimePattern.size(), kTimePattern) == 0) {
      re += R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z)";
      i += kTimePattern.size();
      continue;
    }
    if (std::strchr(R"(\^$.|?*+()[]{}-)", want[i]) != nullptr) re += '\\';
    re += want[i++];
  }
  return std::regex_match(got, std::regex(re));
}

// Exact, except that a line "..." in the expected output stands for any number of lines and
// YYYY-MM-DDTHH:MM:SS.NNNNNNNNNZ for any record time.
bool Matches(const std::vector<std::string>& want, size_t wi, const std::vector<std::string>& got,
             size_t gi) {
  if (wi == want.size()) return gi == got.size();
  if (want[wi] == "...") {
    for (size_t g = gi; g <= got.size(); ++g) {
      if (Matches(want, wi + 1, got, g)) return true;
    }
    return false;
  }
  return gi < got.size() && LineMatches(want[wi], got[gi]) && Matches(want, wi + 1, got, gi + 1);
}

std::string Join(const std::vector<std::string>& lines) {
  std::string s;
  for (const std::string& l : lines) s += l + "\n";
  return s;
}

class ShellDocsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    store_ = dir_->Sub("demo.store");
    std::ifstream in(kSource + "/scripts/demo-imports");
    ASSERT_TRUE(in) << "scripts/demo-imports";
    for (std::string l; std::getline(in, l);) {
      if (l.empty() || l[0] == '#') continue;
      CommandResult r = RunCommand("cd " + ShellQuote(kSource) + " && " + TINK_BIN + " --store " +
                                   ShellQuote(store_) + " import " + l);
      ASSERT_EQ(r.exit_code, 0) << l << "\n" << r.err;
    }
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::vector<Example> Examples() {
    return ParseExamples(testing::ReadFile(kSource + "/docs/shell.md"));
  }

  static testing::TempDir* dir_;
  static std::string store_;
};

testing::TempDir* ShellDocsTest::dir_ = nullptr;
std::string ShellDocsTest::store_;

TEST_F(ShellDocsTest, EveryExampleRuns) {
  const std::vector<Example> examples = Examples();
  ASSERT_GE(examples.size(), 20u) << "docs/shell.md lost its examples?";
  int failed = 0;
  for (const Example& e : examples) {
    std::string text;
    for (const std::string& m : e.setup) text += m + "\n";
    text += e.command;
    CommandResult r = RunCommand("cd " + ShellQuote(kSource) + " && " + TINK_BIN + " --store " +
                                 ShellQuote(store_) + " shell -c " + ShellQuote(text) + " 2>&1");
    const std::vector<std::string> got = Lines(r.out);
    bool error = false;
    for (const std::string& l : e.expected) error = error || l.starts_with("error");
    const int want_rc = error ? 2 : 0;
    if (!Matches(e.expected, 0, got, 0) || r.exit_code != want_rc) {
      ++failed;
      ADD_FAILURE() << "docs/shell.md:" << e.line << ": tink> " << e.command << "\n--- expected"
                    << " (exit " << want_rc << ")\n"
                    << Join(e.expected) << "--- got (exit " << r.exit_code << ")\n"
                    << r.out;
    }
  }
  EXPECT_EQ(failed, 0) << failed << " of " << examples.size() << " examples differ";
}

// The reference shows every part of the language at work, not only in the grammar.
TEST_F(ShellDocsTest, ExamplesCoverTheLanguage) {
  std::string all;
  for (const Example& e : Examples()) {
    for (const std::string& m : e.setup) all += m + "\n";
    all += e.command + "\n";
  }
  auto has = [&](const std::string& pattern) {
    return std::regex_search(all, std::regex(pattern, std::regex::multiline));
  };
  for (const char* source :
       {"events", "runs", "tasks", "files", "nodes", "edges", "anomalies", "segments"}) {
    EXPECT_TRUE(has(std::string("^") + source + "\\b")) << "no example of source " << source;
  }
  for (const char* verb :
       {"timeline", "why", "history", "diff", "blame", "neighbors", "path", "divergence"}) {
    EXPECT_TRUE(has(std::string("^") + verb + " ")) << "no example of verb " << verb;
  }
  for (const char* op : {"\\| where ", "\\| select ", "\\| sort ", "\\| limit ", "\\| count",
                         "\\| group by ", " as of ", " between "}) {
    EXPECT_TRUE(has(op)) << "no example of " << op;
  }
  for (const char* mode : {"json", "jsonl", "csv", "markdown", "table"}) {
    EXPECT_TRUE(has(std::string("^\\.mode ") + mode + "$")) << "no example of .mode " << mode;
  }
}

// scripts/demo ends with the queries of scripts/demo-queries; docs/shell.md shows each with its
// output (so EveryExampleRuns checks what the demo prints).
TEST_F(ShellDocsTest, TheDemosQueriesAreExamples) {
  std::set<std::string> documented;
  for (const Example& e : Examples()) documented.insert(e.command);
  std::ifstream in(kSource + "/scripts/demo-queries");
  ASSERT_TRUE(in) << "scripts/demo-queries";
  int queries = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    ++queries;
    EXPECT_TRUE(documented.count(line)) << "scripts/demo-queries: '" << line
                                        << "' is not an example in docs/shell.md";
  }
  EXPECT_EQ(queries, 3) << "the demo ends with three queries: what failed and why";
}

TEST(ShellDocsRunnerTest, ParsesBlocks) {
  const std::string doc =
      "text\n```\ntink> not an example\n```\n"
      "```tink-example\n"
      "tink> .mode csv\n"
      "tink> runs\n"
      "  ...> | count\n"
      "count\n"
      "3\n"
      "\n"
      "tink> bad\n"
      "error at 1:1: no\n"
      "```\n";
  std::vector<Example> e = ParseExamples(doc);
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0].command, ".mode csv");
  EXPECT_EQ(e[1].command, "runs\n| count");
  EXPECT_EQ(e[1].setup, std::vector<std::string>{".mode csv"});
  EXPECT_EQ(e[1].expected, (std::vector<std::string>{"count", "3"}));
  EXPECT_EQ(e[1].line, 7);
  EXPECT_EQ(e[2].expected, std::vector<std::string>{"error at 1:1: no"});
  EXPECT_TRUE(Matches({"a", "...", "d"}, 0, {"a", "b", "c", "d"}, 0));
  EXPECT_TRUE(Matches({"a", "...", "d"}, 0, {"a", "d"}, 0));
  EXPECT_FALSE(Matches({"a", "...", "d"}, 0, {"a", "b"}, 0));
  EXPECT_TRUE(Matches({"1 (x) YYYY-MM-DDTHH:MM:SS.NNNNNNNNNZ a"}, 0,
                      {"1 (x) 2026-12-05T20:12:33.306623011Z a"}, 0));
  EXPECT_FALSE(Matches({"1 (x) YYYY-MM-DDTHH:MM:SS.NNNNNNNNNZ a"}, 0, {"1 (x) 2026-12-05 a"}, 0));
}

}  // namespace
}  // namespace tink
