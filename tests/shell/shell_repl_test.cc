// The interactive `tink shell` driven through a pty, as a person at a terminal: a private tmux
// server (its own socket, no config) runs the REPL; keys go in with send-keys and the screen comes
// back with capture-pane. Covers a query, multi-line input, Up-arrow history recall, TAB
// completion of a source, Ctrl-C at the prompt (drops the line) and during a long query (cancels
// it; the shell answers the next one), the history file, and Ctrl-D (exit 0).
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/run_command.h"
#include "support/temp_dir.h"

namespace tink {
namespace {

using testing::CommandResult;
using testing::ReadFile;
using testing::RunCommand;
using testing::ShellQuote;

constexpr int kBigEvents = 200000;

class ShellReplTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (RunCommand("command -v tmux").exit_code != 0) return;
    dir_ = new testing::TempDir();
    // Enough events that printing all of them to a terminal takes seconds (Ctrl-C lands in it).
    std::string jsonl;
    for (int i = 0; i < kBigEvents; ++i) {
      jsonl += R"({"stream":"s/)" + std::to_string(i % 50) + R"(","type":"x.test","data":{"n":)" +
               std::to_string(i) + "}}\n";
    }
    CommandResult r = RunCommand(std::string(TINK_BIN) + " --store " +
                                     ShellQuote(dir_->Sub("store")) + " append --sync none",
                                 jsonl);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(dir_, nullptr) << "tmux is needed to drive the REPL (scripts/deps installs it)";
    socket_ = dir_->Sub("tmux-" + std::to_string(::getpid()) + "-" +
                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    history_ = dir_->Sub(std::string("history-") +
                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    exit_file_ = history_ + ".exit";
  }
  void TearDown() override {
    if (!socket_.empty()) Tmux("kill-server");
  }

  CommandResult Tmux(const std::string& args) {
    return RunCommand("tmux -S " + ShellQuote(socket_) + " -f /dev/null " + args);
  }
  void Start() {
    const std::string cmd = "env TERM=xterm TINK_HISTORY=" + ShellQuote(history_) + " " + TINK_BIN +
                            " --store " + ShellQuote(dir_->Sub("store")) + " shell; echo $? > " +
                            ShellQuote(exit_file_);
    CommandResult r = Tmux("new-session -d -s t -x 150 -y 40 " + ShellQuote(cmd));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_TRUE(WaitFor("tink> ")) << Screen();
  }
  // Literal text (-l), then optionally a key name such as Enter, Up, Tab, C-c, C-d.
  // tmux reads a word ending in ';' as its own command separator, so ';' goes as hex.
  void Type(const std::string& text, const std::string& key = "") {
    size_t start = 0;
    while (start < text.size()) {
      size_t semi = text.find(';', start);
      if (semi == std::string::npos) semi = text.size();
      if (semi > start) Tmux("send-keys -t t -l " + ShellQuote(text.substr(start, semi - start)));
      if (semi < text.size()) Tmux("send-keys -t t -H 3b");
      start = semi + 1;
    }
    if (!key.empty()) Tmux("send-keys -t t " + key);
  }
  std::string Screen() { return Tmux("capture-pane -p -J -t t -S -200").out; }
  // Waits until the screen satisfies pred (up to 20 s).
  template <typename Pred>
  bool WaitUntil(Pred pred) {
    for (int i = 0; i < 400; ++i) {
      if (pred(Screen())) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  bool WaitFor(const std::string& text, int count = 1) {
    return WaitUntil([&](const std::string& s) { return Count(s, text) >= count; });
  }
  static int Count(const std::string& s, const std::string& what) {
    int n = 0;
    for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
    return n;
  }
  // The exit code the shell left, once it has ended.
  int ExitCode() {
    for (int i = 0; i < 200; ++i) {
      std::ifstream in(exit_file_);
      int rc = -1;
      if (in >> rc) return rc;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return -1;
  }

  static testing::TempDir* dir_;
  std::string socket_, history_, exit_file_;
};

testing::TempDir* ShellReplTest::dir_ = nullptr;

const std::string kCount = std::to_string(kBigEvents);
const std::string kTableCount = "------\n" + kCount + "\n";  // `events | count` in table mode
const std::string kCsvCount = "count\n" + kCount + "\n";     // and in csv mode

TEST_F(ShellReplTest, QueryHistoryCompletionAndCtrlD) {
  Start();
  // A query ended by ';'.
  Type("events | count;", "Enter");
  ASSERT_TRUE(WaitFor(kTableCount)) << Screen();

  // Multi-line: no ';', so the continuation prompt; a blank line ends it.
  Type("events", "Enter");
  ASSERT_TRUE(WaitFor("  ...> ")) << Screen();
  Type("| count", "Enter");
  Type("", "Enter");
  ASSERT_TRUE(WaitFor(kTableCount, 2)) << Screen();

  // Up-arrow recalls the last statement (as one line, with its ';'); Enter runs it again.
  Type("", "Up");
  ASSERT_TRUE(WaitFor("tink> events | count;", 2)) << Screen();
  Type("", "Enter");
  ASSERT_TRUE(WaitFor(kTableCount, 3)) << Screen();

  // TAB completes a source name.
  Type("segm", "Tab");
  ASSERT_TRUE(WaitFor("tink> segments ")) << Screen();
  Type("| count;", "Enter");
  ASSERT_TRUE(WaitFor("tink> segments | count;")) << Screen();
  // TAB on an ambiguous prefix lists the choices: keywords and the source's fields.
  Type("events | s", "Tab");
  ASSERT_TRUE(WaitUntil([](const std::string& s) {
    return s.find("select") != std::string::npos && s.find("sort") != std::string::npos &&
           s.find("stream") != std::string::npos;
  })) << Screen();
  Type("", "C-c");

  // A query error keeps the REPL up, with a caret under the column.
  Type("events | where tpye == 1;", "Enter");
  ASSERT_TRUE(WaitFor("error at 1:16: unknown field 'tpye'")) << Screen();
  ASSERT_TRUE(WaitFor("^")) << Screen();
  Type(".nope", "Enter");
  ASSERT_TRUE(WaitFor("unknown command '.nope'")) << Screen();
  Type(".mode csv", "Enter");
  Type("events | count;", "Enter");
  ASSERT_TRUE(WaitFor(kCsvCount)) << Screen();

  // Ctrl-D at an empty prompt leaves with exit 0; the history file has the statements.
  Type("", "C-d");
  EXPECT_EQ(ExitCode(), 0) << Screen();
  const std::string hist = ReadFile(history_);
  EXPECT_NE(hist.find("segments"), std::string::npos) << hist;
}

TEST_F(ShellReplTest, HistoryFileIsLoadedAtStart) {
  std::ofstream(history_) << "_HiStOrY_V2_\nevents\\040|\\040count;\n";
  Start();
  Type("", "Up");
  ASSERT_TRUE(WaitFor("tink> events | count;")) << Screen();
  Type("", "Enter");
  ASSERT_TRUE(WaitFor(kTableCount)) << Screen();
  Type(".quit", "Enter");
  EXPECT_EQ(ExitCode(), 0) << Screen();
}

TEST_F(ShellReplTest, CtrlCCancelsTheQueryNotTheShell) {
  Start();
  // At the prompt Ctrl-C drops the line (and a pending multi-line query).
  Type("events | wh", "C-c");
  Type("events", "Enter");
  ASSERT_TRUE(WaitFor("  ...> ")) << Screen();
  Type("", "C-c");
  Type("segments | count;", "Enter");
  ASSERT_TRUE(WaitFor("count\n")) << Screen();

  // Printing every event to the terminal takes seconds: Ctrl-C stops it.
  Type("events;", "Enter");
  ASSERT_TRUE(WaitFor("x.test")) << Screen();
  Type("", "C-c");
  ASSERT_TRUE(WaitFor("cancelled")) << Screen();
  // The shell is still there and answers.
  Type(".mode csv", "Enter");
  Type("events | count;", "Enter");
  ASSERT_TRUE(WaitFor(kCsvCount)) << Screen();
  Type("", "C-d");
  EXPECT_EQ(ExitCode(), 0) << Screen();
}

}  // namespace
}  // namespace tink
