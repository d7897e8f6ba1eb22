// `--server` / $TINKERBELL_SERVER without a daemon (docs/shell.md "Talking to a daemon"): a
// daemon that is not running is exit 4 with one line naming the URL; commands without a remote
// form, --sync, --explain, and a malformed URL or token file are exit 2 before anything is sent;
// an explicit --store beats $TINKERBELL_SERVER. Nothing here creates or changes a store.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "support/run_command.h"
#include "support/temp_dir.h"

namespace tink {
namespace {

using testing::CommandResult;
using testing::RunCommand;
using testing::ShellQuote;

// A loopback port nothing listens on: bound, then closed.
int ClosedPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  socklen_t len = sizeof(a);
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  ::close(fd);
  return ntohs(a.sin_port);
}

int Lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

class ServerOptionTest : public ::testing::Test {
 protected:
  // `tink ARGS` with no $TINKERBELL_* from the test's own environment.
  CommandResult Tink(const std::string& args, const std::string& input = "",
                     const std::string& env = "") {
    return RunCommand(
        "env -u TINKERBELL_SERVER -u TINKERBELL_TOKEN -u TINKERBELL_TOKEN_FILE "
        "TINKERBELL_STORE=" +
            ShellQuote(store_) + " " + env + " " + std::string(TINK_BIN) + " " + args,
        input);
  }

  testing::TempDir tmp_;
  std::string store_ = tmp_.Sub("store");
  std::string url_ = "http://127.0.0.1:" + std::to_string(ClosedPort());
};

TEST_F(ServerOptionTest, NoDaemonIsExit4WithOneLineNamingTheUrl) {
  const std::string event = "{\"stream\":\"a\",\"type\":\"note\",\"data\":{\"text\":\"x\"}}\n";
  for (const std::string& cmd :
       {std::string("log"), std::string("log --json --follow"), std::string("stats"),
        std::string("stats --json"), std::string("tasks"), std::string("tasks --runs --json"),
        std::string("report --run r1"), std::string("report"), std::string("append"),
        std::string("append --stream a --type note"), std::string("shell -c 'events | count'"),
        std::string("shell --format csv"), std::string("shell --connect " + url_ + " -c 'runs'"),
        std::string("mcp")}) {
    SCOPED_TRACE(cmd);
    // Both spellings: before the command and after it.
    for (const std::string& args : {"--server " + url_ + " " + cmd, cmd + " --server " + url_}) {
      CommandResult r = Tink(args, cmd.starts_with("append") ? event : "events | count\n");
      EXPECT_EQ(r.exit_code, 4) << args << "\n" << r.err;
      EXPECT_EQ(Lines(r.err), 1) << r.err;
      EXPECT_NE(r.err.find("cannot connect to tink serve at " + url_), std::string::npos) << r.err;
      EXPECT_NE(r.err.find("is it running?"), std::string::npos) << r.err;
      EXPECT_EQ(r.out, "");
    }
  }
  EXPECT_FALSE(std::filesystem::exists(store_)) << "a remote command created the store";
}

TEST_F(ServerOptionTest, UnixSocketThatDoesNotExistIsExit4) {
  const std::string url = "unix:" + tmp_.Sub("no.sock");
  CommandResult r = Tink("stats --server " + url);
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("tink stats: IO error: cannot connect to tink serve at " + url),
            std::string::npos)
      << r.err;
  EXPECT_EQ(Lines(r.err), 1) << r.err;
}

TEST_F(ServerOptionTest, EnvironmentNamesTheDaemonUnlessStoreIsGiven) {
  CommandResult remote = Tink("stats", "", "TINKERBELL_SERVER=" + url_);
  EXPECT_EQ(remote.exit_code, 4) << remote.err;
  EXPECT_NE(remote.err.find(url_), std::string::npos) << remote.err;

  // An explicit --store opens that store here, whatever the environment says.
  ASSERT_EQ(Tink("--store " + ShellQuote(store_) + " append --stream a --type note").exit_code, 0);
  CommandResult local =
      Tink("--store " + ShellQuote(store_) + " stats --json", "", "TINKERBELL_SERVER=" + url_);
  EXPECT_EQ(local.exit_code, 0) << local.err;
  EXPECT_NE(local.out.find("\"events\":1"), std::string::npos) << local.out;
  // ...and --server beats --store (which then only names the token file's store).
  CommandResult both = Tink("--store " + ShellQuote(store_) + " --server " + url_ + " stats");
  EXPECT_EQ(both.exit_code, 4) << both.err;
}

TEST_F(ServerOptionTest, CommandsWithoutARemoteFormAreExit2) {
  for (const std::string& cmd :
       {std::string("import --format jsonl x.jsonl"), std::string("verify"),
        std::string("recover --truncate-at 3"), std::string("replay"),
        std::string("canvas ls --run r"), std::string("memory nodes"),
        std::string("runs diff a b"), std::string("runs list")}) {
    SCOPED_TRACE(cmd);
    const std::string name =
        cmd.substr(0, cmd.find(' ') == std::string::npos ? cmd.size() : cmd.find(' '));
    const std::string want = "tink " + name +
                             ": --server is not supported for this command; run it on the "
                             "daemon's machine with --store\n";
    CommandResult before = Tink("--server " + url_ + " " + cmd);
    EXPECT_EQ(before.exit_code, 2) << before.err;
    EXPECT_EQ(before.err, want);
    CommandResult after = Tink(cmd + " --server " + url_);
    EXPECT_EQ(after.exit_code, 2) << after.err;
    EXPECT_EQ(after.err, want);
    CommandResult env = Tink(cmd, "", "TINKERBELL_SERVER=" + url_);
    EXPECT_EQ(env.exit_code, 2) << env.err;
    EXPECT_NE(env.err.find("$TINKERBELL_SERVER is set, but --server is not supported"),
              std::string::npos)
        << env.err;
  }
  EXPECT_FALSE(std::filesystem::exists(store_));
}

TEST_F(ServerOptionTest, FlagsWithoutARemoteMeaningAreExit2BeforeAnythingIsSent) {
  // Exit 2, not the 4 of the closed port: the request was never made.
  CommandResult sync = Tink("append --server " + url_ + " --stream a --type note --sync none");
  EXPECT_EQ(sync.exit_code, 2) << sync.err;
  EXPECT_EQ(sync.err,
            "tink append: --sync cannot be given with --server: durability is the daemon's "
            "setting (tink serve --sync)\n");
  CommandResult sync_always =
      Tink("append --server " + url_ + " --stream a --type note --sync always");
  EXPECT_EQ(sync_always.exit_code, 2) << sync_always.err;

  CommandResult explain = Tink("log --explain --server " + url_);
  EXPECT_EQ(explain.exit_code, 2) << explain.err;
  EXPECT_EQ(explain.err, "tink log: --explain is not supported with --server\n");

  CommandResult max = Tink("report --run r --max-failures 3 --server " + url_);
  EXPECT_EQ(max.exit_code, 2) << max.err;
  EXPECT_EQ(max.err, "tink report: --max-failures is not supported with --server\n");
}

TEST_F(ServerOptionTest, BadInputIsCheckedHereWithTheLocalMessages) {
  // The same validation and words as without --server, before connecting.
  CommandResult bad_line =
      Tink("append --server " + url_, "{\"stream\":\"a\",\"type\":\"note\"}\n{\"stream\":1}\n");
  EXPECT_EQ(bad_line.exit_code, 2) << bad_line.err;
  EXPECT_NE(bad_line.err.find("stdin line 2"), std::string::npos) << bad_line.err;
  CommandResult bad_data = Tink("append --server " + url_ + " --stream a --type note --data '[1]'");
  EXPECT_EQ(bad_data.exit_code, 2) << bad_data.err;
  CommandResult bad_expect =
      Tink("append --server " + url_ + " --stream a --type note --expect sometimes");
  EXPECT_EQ(bad_expect.exit_code, 2) << bad_expect.err;
  EXPECT_NE(bad_expect.err.find("--expect"), std::string::npos) << bad_expect.err;
  CommandResult history = Tink("tasks --history --server " + url_);
  EXPECT_EQ(history.exit_code, 2) << history.err;
  EXPECT_EQ(history.err, "tink tasks: Invalid argument: --history needs --run and --task\n");
  CommandResult since = Tink("log --since yesterday --server " + url_);
  EXPECT_EQ(since.exit_code, 2) << since.err;
  EXPECT_NE(since.err.find("--since"), std::string::npos) << since.err;
}

TEST_F(ServerOptionTest, MalformedUrlOrTokenFileIsExit2) {
  for (const std::string& url : {std::string("ftp://host"), std::string("127.0.0.1:7070"),
                                 std::string("http://127.0.0.1:7070/v1"), std::string("unix:")}) {
    SCOPED_TRACE(url);
    CommandResult r = Tink("stats --server " + ShellQuote(url));
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("expected http://HOST:PORT or unix:PATH"), std::string::npos) << r.err;
    CommandResult s = Tink("shell -c runs --server " + ShellQuote(url));
    EXPECT_EQ(s.exit_code, 2) << s.err;
  }
  CommandResult token = Tink("stats --server " + url_, "",
                             "TINKERBELL_TOKEN_FILE=" + ShellQuote(tmp_.Sub("missing")));
  EXPECT_EQ(token.exit_code, 2) << token.err;
  EXPECT_NE(token.err.find("$TINKERBELL_TOKEN_FILE"), std::string::npos) << token.err;
  EXPECT_EQ(Lines(token.err), 1) << token.err;
}

}  // namespace
}  // namespace tink
