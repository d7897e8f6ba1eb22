// The `tink` commands over a live `tink serve` (docs/shell.md "Talking to a daemon",
// docs/http.md): each test starts a daemon on a store of real recorded runs, on a free loopback
// port and a UNIX socket, and stops it at the end. Remote and local output must be the same
// bytes (they read the same store: the local command opens it read-only while the daemon holds
// it); appends over --server come back from log over --server and from the store itself; log
// --follow prints every appended event once, across a restart of the daemon; and the exit codes
// of bad queries, conflicts and wrong tokens are those of DESIGN.md §6.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "support/run_command.h"
#include "support/temp_dir.h"

namespace tink {
namespace {

using nlohmann::json;
using testing::CommandResult;
using testing::ReadFile;
using testing::RunCommand;
using testing::ShellQuote;
using testing::SpawnToFiles;
using Clock = std::chrono::steady_clock;

constexpr const char* kRun = "ponylang__ponyc-4588";

// Waits up to `seconds` for pred(); false if it never held.
template <typename Pred>
bool WaitFor(Pred pred, double seconds) {
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

// A child process started with posix_spawn: stdout and stderr to files, killed if still running
// when destroyed.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const std::string& out, const std::string& err) {
    pid_ = SpawnToFiles(argv, out, err);
  }
  ~Child() {
    if (pid_ > 0 && !Stop(SIGTERM, 15)) Stop(SIGKILL, 5);
  }
  bool running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      exit_status_ = status;
      return false;
    }
    return true;
  }
  // Sends sig and waits up to `seconds` for the exit; true if it exited.
  bool Stop(int sig, double seconds) {
    if (pid_ <= 0) return true;
    ::kill(pid_, sig);
    return WaitFor([this] { return !running(); }, seconds);
  }
  int exit_status() const { return exit_status_; }

 private:
  pid_t pid_ = -1;
  int exit_status_ = -1;
};

class RemoteCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string data = TINK_TEST_DATA;
    CommandResult r =
        Local("import --format openhands " + ShellQuote(data + "/openhands/output.jsonl") +
              " --select " + kRun + " --base " + ShellQuote(data + "/base/ponyc-4588"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = Local("import --format openhands " + ShellQuote(data + "/openhands/basic.json"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    StartDaemon();
  }

  // Starts `tink serve` and reads its URL from the line it prints when it listens.
  void StartDaemon() {
    const std::string log = tmp_.Sub("serve.err." + std::to_string(++starts_));
    daemon_ = std::make_unique<Child>(
        std::vector<std::string>{TINK_BIN, "serve", "--store", store_, "--listen", "127.0.0.1:0",
                                 "--socket", socket_},
        tmp_.Sub("serve.out"), log);
    static const std::regex kListening(R"(tink serve: listening on (http://127\.0\.0\.1:[0-9]+))");
    std::smatch m;
    std::string text;
    const bool up = WaitFor(
        [&] {
          text = ReadFile(log);
          return std::regex_search(text, m, kListening) || !daemon_->running();
        },
        30);
    ASSERT_TRUE(up && !m.empty()) << "tink serve did not start listening: " << text;
    url_ = m[1];
  }

  // `tink ARGS` on the store here; `Remote` the same through the daemon (TCP, or its socket).
  CommandResult Local(const std::string& args, const std::string& input = "") {
    return RunCommand(Env() + TINK_BIN + " --store " + ShellQuote(store_) + " " + args, input);
  }
  CommandResult Remote(const std::string& args, const std::string& input = "",
                       const std::string& env = "") {
    return RunCommand(Env() + env + " " + TINK_BIN + " --store " + ShellQuote(store_) +
                          " --server " + url_ + " " + args,
                      input);
  }
  CommandResult Socket(const std::string& args, const std::string& input = "") {
    return RunCommand(Env() + TINK_BIN + " --store " + ShellQuote(store_) +
                          " --server unix:" + ShellQuote(socket_) + " " + args,
                      input);
  }
  static std::string Env() {
    return "env -u TINKERBELL_SERVER -u TINKERBELL_TOKEN -u TINKERBELL_TOKEN_FILE ";
  }
  // `tink ARGS` prints the same locally, over TCP and over the socket (which must be something,
  // unless `may_be_empty`).
  void ExpectSame(const std::string& args, const std::string& input = "",
                  bool may_be_empty = false) {
    SCOPED_TRACE(args);
    CommandResult local = Local(args, input);
    CommandResult remote = Remote(args, input);
    ASSERT_EQ(local.exit_code, 0) << local.err;
    EXPECT_EQ(remote.exit_code, 0) << remote.err;
    if (!may_be_empty) {
      EXPECT_FALSE(local.out.empty());
    }
    EXPECT_EQ(remote.out, local.out);
    EXPECT_EQ(remote.err, local.err);
    CommandResult socket = Socket(args, input);
    EXPECT_EQ(socket.exit_code, 0) << socket.err;
    EXPECT_EQ(socket.out, local.out);
  }
  uint64_t LastLsn() {
    CommandResult r = Remote("stats --json");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out)["last_lsn"].get<uint64_t>();
  }

  testing::TempDir tmp_;
  std::string store_ = tmp_.Sub("store");
  std::string socket_ = tmp_.Sub("tink.sock");
  std::string url_;
  int starts_ = 0;
  std::unique_ptr<Child> daemon_;
};

TEST_F(RemoteCliTest, ShellOutputIsTheSameBytesInEveryFormat) {
  const std::string queries =
      "runs | sort run; "
      "tasks | select run, task, state, name | limit 20; "
      "events | group by type | sort type; "
      "events as of 400 | where type == 'tool.result' | select lsn, type, data.exit_code | "
      "limit 5";
  for (const char* format : {"table", "json", "jsonl", "csv", "markdown"}) {
    ExpectSame("shell --format " + std::string(format) + " -c " + ShellQuote(queries));
  }
  // Dot-commands run here; queries from stdin and from a script file go one by one.
  ExpectSame("shell", ".mode csv\nruns | sort run;\n.mode json\nevents | count\n");
  std::ofstream(tmp_.Sub("script.tql")) << "runs | count;\n.mode jsonl\ntasks | count\n";
  ExpectSame("shell " + ShellQuote(tmp_.Sub("script.tql")));
  ExpectSame("shell -c " + ShellQuote(".read " + tmp_.Sub("script.tql")));
}

TEST_F(RemoteCliTest, TasksReportAndStatsAreTheSameBytes) {
  for (const std::string& args :
       {std::string("tasks"), std::string("tasks --json"), std::string("tasks --runs"),
        std::string("tasks --runs --json"), std::string("tasks --anomalies --json"),
        std::string("tasks --run ") + kRun + " --json", std::string("tasks --as-of 30"),
        std::string("report --run ") + kRun, std::string("report --json --run ") + kRun,
        std::string("report"), std::string("report --json"), std::string("stats"),
        std::string("stats --json"), std::string("log --json --run ") + kRun,
        std::string("log --type tool.result --from 5 --to 200")}) {
    ExpectSame(args);
  }
  ExpectSame("tasks --anomalies", "", /*may_be_empty=*/true);  // none in these runs
}

TEST_F(RemoteCliTest, AppendOverServerThenLogOverServerReturnsTheEvents) {
  const uint64_t before = LastLsn();
  CommandResult one =
      Remote("append --stream run/x --type note --id n1 --data '{\"text\":\"one\"}'");
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_EQ(one.out, std::to_string(before + 1) + "\n");
  CommandResult batch =
      Remote("append --json",
             "{\"stream\":\"run/x\",\"type\":\"note\",\"data\":{\"text\":\"two\"}}\n"
             "{\"stream\":\"run/x\",\"type\":\"note\",\"data\":{\"text\":\"3\"}}\n");
  ASSERT_EQ(batch.exit_code, 0) << batch.err;
  EXPECT_EQ(batch.out, "{\"lsn\":" + std::to_string(before + 2) + ",\"duplicate\":false}\n" +
                           "{\"lsn\":" + std::to_string(before + 3) + ",\"duplicate\":false}\n");
  // The same id again: nothing written, the original LSN, as local.
  CommandResult again =
      Remote("append --stream run/x --type note --id n1 --data '{\"text\":\"one\"}'");
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, std::to_string(before + 1) + "\n");
  EXPECT_NE(again.err.find("already in the store"), std::string::npos) << again.err;

  CommandResult log = Remote("log --json --stream run/x");
  ASSERT_EQ(log.exit_code, 0) << log.err;
  std::istringstream in(log.out);
  std::vector<std::string> texts;
  for (std::string l; std::getline(in, l);) texts.push_back(json::parse(l)["data"]["text"]);
  EXPECT_EQ(texts, (std::vector<std::string>{"one", "two", "3"}));
  // The store has them: the local reader prints the same bytes.
  EXPECT_EQ(Local("log --json --stream run/x").out, log.out);
}

TEST_F(RemoteCliTest, FollowPrintsEachAppendedEventOnceAcrossADaemonRestart) {
  const uint64_t from = LastLsn() + 1;
  const std::string out = tmp_.Sub("follow.out");
  Child follower({"/bin/sh", "-c",
                  Env() + TINK_BIN + " --store " + ShellQuote(store_) + " log --json --follow " +
                      "--from " + std::to_string(from) + " --server unix:" + ShellQuote(socket_)},
                 out, tmp_.Sub("follow.err"));
  auto lines = [&] {
    const std::string text = ReadFile(out);
    return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
  };
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(Remote("append --stream run/f --type note --data '{\"text\":\"" + std::to_string(i) +
                     "\"}'")
                  .exit_code,
              0);
  }
  ASSERT_TRUE(WaitFor([&] { return lines() == 3; }, 20)) << ReadFile(out);

  // The daemon goes away and comes back on the same socket: the follower reconnects with
  // Last-Event-ID and prints the events after the last one it printed, none twice.
  ASSERT_TRUE(daemon_->Stop(SIGTERM, 20));
  StartDaemon();
  for (int i = 3; i < 5; ++i) {
    ASSERT_EQ(Remote("append --stream run/f --type note --data '{\"text\":\"" + std::to_string(i) +
                     "\"}'")
                  .exit_code,
              0);
  }
  ASSERT_TRUE(WaitFor([&] { return lines() == 5; }, 30)) << ReadFile(out);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // nothing more comes
  std::istringstream in(ReadFile(out));
  uint64_t lsn = from;
  int i = 0;
  for (std::string l; std::getline(in, l); ++i, ++lsn) {
    json e = json::parse(l);
    EXPECT_EQ(e["lsn"], lsn);
    EXPECT_EQ(e["data"]["text"], std::to_string(i));
  }
  EXPECT_EQ(i, 5);
  EXPECT_TRUE(follower.running()) << ReadFile(tmp_.Sub("follow.err"));
}

TEST_F(RemoteCliTest, ExitCodesOfBadQueriesConflictsAndTokens) {
  CommandResult query = Remote("shell -c 'runs | sort'");
  CommandResult local_query = Local("shell -c 'runs | sort'");
  EXPECT_EQ(query.exit_code, 2) << query.err;
  EXPECT_EQ(local_query.exit_code, 2);
  EXPECT_EQ(query.err, local_query.err);  // "error at L:C: ..." as local, positions included
  CommandResult second = Remote("shell -c 'runs | count; runs | sort'");
  EXPECT_EQ(second.err, Local("shell -c 'runs | count; runs | sort'").err);

  ASSERT_EQ(Remote("append --stream run/c --type note --expect no_stream").exit_code, 0);
  CommandResult conflict = Remote("append --stream run/c --type note --expect no_stream");
  EXPECT_EQ(conflict.exit_code, 2) << conflict.err;
  EXPECT_NE(conflict.err.find("(HTTP 409)"), std::string::npos) << conflict.err;
  EXPECT_TRUE(conflict.err.starts_with("tink append: ")) << conflict.err;
  EXPECT_EQ(std::count(conflict.err.begin(), conflict.err.end(), '\n'), 1) << conflict.err;

  CommandResult wrong = Remote("stats", "", "TINKERBELL_TOKEN=not-the-token");
  EXPECT_EQ(wrong.exit_code, 2) << wrong.err;
  EXPECT_NE(wrong.err.find("(HTTP 403)"), std::string::npos) << wrong.err;
  CommandResult wrong_shell = Remote("shell -c 'runs'", "", "TINKERBELL_TOKEN=not-the-token");
  EXPECT_EQ(wrong_shell.exit_code, 2) << wrong_shell.err;
  // No token at all (a store path without one): 401.
  CommandResult none =
      RunCommand(Env() + TINK_BIN + " --store " + ShellQuote(tmp_.Sub("elsewhere")) + " --server " +
                 url_ + " tasks");
  EXPECT_EQ(none.exit_code, 2) << none.err;
  EXPECT_NE(none.err.find("(HTTP 401)"), std::string::npos) << none.err;

  CommandResult no_run = Remote("report --run no-such-run");
  EXPECT_EQ(no_run.exit_code, 2) << no_run.err;
  EXPECT_NE(no_run.err.find("(HTTP 404)"), std::string::npos) << no_run.err;
}

}  // namespace
}  // namespace tink
