// Bad input never aborts `tink` (issue 14, item 9): whatever the arguments, the store path or the
// data, every command exits 0, 2, 3 or 4 with at most one line on stderr naming the command —
// never a signal, never a C++ exception message from the runtime.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "support/run_command.h"
#include "support/temp_dir.h"

namespace tink {
namespace {

using testing::CommandResult;
using testing::RunCommand;
using testing::ShellQuote;

std::string Repeat(const std::string& s, size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

class BadInputCli : public ::testing::Test {
 protected:
  // `args` runs with --store `store` (quoted here). Long arguments go through a file and $(cat)
  // so the command line stays short for /bin/sh; one argument can still be at most 128 KiB
  // (Linux MAX_ARG_STRLEN), so the deep and long inputs below stay under that.
  CommandResult Tink(const std::string& store, const std::string& args,
                     const std::string& input = "") {
    return RunCommand(std::string(TINK_BIN) + " --store " + ShellQuote(store) + " " + args, input);
  }
  std::string ArgFile(const std::string& name, const std::string& text) {
    const std::string path = tmp_.Sub(name);
    std::ofstream(path, std::ios::binary) << text;
    return "\"$(cat " + ShellQuote(path) + ")\"";
  }

  testing::TempDir tmp_;
  std::string store_ = tmp_.Sub("store");
};

// The contract: a documented exit code and one line on stderr, "tink <cmd>: ..." (a query error
// in `tink shell -c` is "error at L:C: ...", docs/shell.md).
void ExpectOneLine(const CommandResult& r, const std::string& prefix, int want_exit) {
  EXPECT_EQ(r.exit_code, want_exit) << r.err;
  EXPECT_EQ(r.err.rfind(prefix, 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(r.err.find("terminate"), std::string::npos) << r.err;
}

void ExpectCleanFailure(const CommandResult& r, const std::string& cmd, int want_exit) {
  ExpectOneLine(r, "tink " + cmd + ": ", want_exit);
}

TEST_F(BadInputCli, StorePathThatIsAFile) {
  const std::string file = tmp_.Sub("plain-file");
  std::ofstream(file) << "not a store\n";
  for (const std::string cmd : {"log", "stats", "verify", "replay", "tasks"}) {
    SCOPED_TRACE(cmd);
    CommandResult r = Tink(file, cmd);
    ExpectCleanFailure(r, cmd, 2);
    EXPECT_NE(r.err.find(file), std::string::npos) << r.err;
  }
  // The writer's open fails on STORE/LOCK (engine/engine.cc): an I/O error naming it.
  CommandResult a = Tink(file, "append --stream s --type note --data '{\"text\":\"x\"}'");
  ExpectCleanFailure(a, "append", 4);
  EXPECT_NE(a.err.find(file + "/LOCK: Not a directory"), std::string::npos) << a.err;
  CommandResult s = Tink(file, "shell -c 'events | count'");
  ExpectCleanFailure(s, "shell", 2);
}

TEST_F(BadInputCli, StorePathThroughASymlinkLoopOrAFile) {
  // ELOOP and ENOTDIR hold for root too (unlike a chmod 000 directory).
  const std::string loop = tmp_.Sub("loop");
  std::filesystem::create_symlink(loop, loop);
  const std::string file = tmp_.Sub("plain-file");
  std::ofstream(file) << "x";
  for (const std::string& store : {loop, loop + "/store", file + "/store"}) {
    SCOPED_TRACE(store);
    CommandResult l = Tink(store, "log");
    EXPECT_TRUE(l.exit_code == 2 || l.exit_code == 4) << l.exit_code << " " << l.err;
    EXPECT_EQ(l.err.rfind("tink log: ", 0), 0u) << l.err;
    EXPECT_EQ(std::count(l.err.begin(), l.err.end(), '\n'), 1) << l.err;
    CommandResult a = Tink(store, "append --stream s --type note --data '{\"text\":\"x\"}'");
    EXPECT_TRUE(a.exit_code == 2 || a.exit_code == 4) << a.exit_code << " " << a.err;
    EXPECT_EQ(a.err.rfind("tink append: ", 0), 0u) << a.err;
    EXPECT_EQ(std::count(a.err.begin(), a.err.end(), '\n'), 1) << a.err;
  }
}

TEST_F(BadInputCli, UnreadableStoreFolder) {
  ASSERT_EQ(Tink(store_, "append --stream s --type note --data '{\"text\":\"x\"}'").exit_code, 0);
  // The log folder replaced by a file: what an unreadable store looks like, also to root.
  std::filesystem::remove_all(store_ + "/log");
  std::ofstream(store_ + "/log") << "x";
  CommandResult r = Tink(store_, "log");
  EXPECT_TRUE(r.exit_code == 2 || r.exit_code == 3 || r.exit_code == 4) << r.exit_code << r.err;
  EXPECT_EQ(r.err.rfind("tink log: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST_F(BadInputCli, NonUtf8Arguments) {
  const std::string bad = "\xff\xfe";
  // Names that must be text are refused, naming the flag.
  CommandResult s =
      Tink(store_, "append --stream " + ShellQuote("s" + bad) + " --type note --data '{}'");
  ExpectCleanFailure(s, "append", 2);
  CommandResult t =
      Tink(store_, "append --stream s --type " + ShellQuote("n" + bad) + " --data '{}'");
  ExpectCleanFailure(t, "append", 2);
  CommandResult d = Tink(
      store_, "append --stream s --type note --data " + ShellQuote("{\"text\":\"" + bad + "\"}"));
  ExpectCleanFailure(d, "append", 2);
  // Nothing was stored; filters and queries with such bytes run and find nothing.
  ASSERT_EQ(Tink(store_, "append --stream s --type note --data '{\"text\":\"ok\"}'").exit_code, 0);
  CommandResult l = Tink(store_, "log --json --stream " + ShellQuote(bad));
  EXPECT_EQ(l.exit_code, 0) << l.err;
  EXPECT_EQ(l.out, "");
  CommandResult q = Tink(store_, "shell -c " + ShellQuote("events | where type == '" + bad + "'"));
  EXPECT_TRUE(q.exit_code == 0 || q.exit_code == 2) << q.exit_code << " " << q.err;
  EXPECT_EQ(q.err.find("terminate"), std::string::npos) << q.err;
  CommandResult all = Tink(store_, "log --json");
  EXPECT_EQ(all.exit_code, 0) << all.err;
  EXPECT_EQ(std::count(all.out.begin(), all.out.end(), '\n'), 1) << all.out;
}

TEST_F(BadInputCli, DeeplyNestedDataIsRefused) {
  const std::string deep = "{\"a\":" + Repeat("[", 60000) + Repeat("]", 60000) + "}";
  CommandResult r = Tink(store_, "append --stream s --type note --data " + ArgFile("deep", deep));
  ExpectCleanFailure(r, "append", 2);
  // The same through stdin, as a JSONL envelope.
  CommandResult j =
      Tink(store_, "append", "{\"stream\":\"s\",\"type\":\"x.custom\",\"data\":" + deep + "}\n");
  ExpectCleanFailure(j, "append", 2);
  CommandResult q = Tink(
      store_, "shell -c " + ArgFile("q", "events | where " + Repeat("not ", 30000) + "lsn == 1"));
  ExpectOneLine(q, "error at 1:816: expression nested deeper than 200 levels", 2);
}

TEST_F(BadInputCli, RegexOverALongStringAnswers) {
  const std::string text = Repeat("ab", 50000);
  ASSERT_EQ(Tink(store_, "append --stream s --type note --data " +
                             ArgFile("data", "{\"text\":\"" + text + "\"}"))
                .exit_code,
            0);
  CommandResult r =
      Tink(store_, "shell --format csv -c \"events | where data.text =~ '^(a|b)*\\$' | count\"");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "count\n1\n");
  CommandResult bad = Tink(store_, "shell -c \"events | where data.text =~ '(a'\"");
  ExpectOneLine(bad, "error at 1:29: bad regex '(a': ", 2);
}

}  // namespace
}  // namespace tink
