// tink exec --sandbox (docs/exec.md "Sandbox"): under bubblewrap the command has no network (a
// loopback port the test listens on cannot be reached from inside, and can from outside), the
// system is read-only (a write outside the workdir fails and leaves nothing), /tmp is its own,
// the workdir is writable (and its changes recorded), a timeout still kills it. Without bwrap,
// --sandbox is an error and the command never runs. bwrap is installed by scripts/deps; these
// tests are not skipped when it is missing: they fail.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>

#include "exec/exec_test_util.h"

namespace tink::exectest {
namespace {

using testing::ReadFile;

class ExecSandboxTest : public ::testing::Test, public ExecTestBase {
 protected:
  void SetUp() override {
    ASSERT_EQ(RunCommand("command -v bwrap").exit_code, 0)
        << "bubblewrap (bwrap) is not installed: run scripts/deps";
    RunCommand("mkdir -p " + ShellQuote(wd()));
  }
  std::string wd() const { return tmp_.Sub("wd"); }
};

// A TCP listener on 127.0.0.1 (a port the kernel picks), closed on destruction.
class Listener {
 public:
  Listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 16) != 0) {
      return;
    }
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~Listener() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST_F(ExecSandboxTest, NoNetwork) {
  Listener listener;
  ASSERT_GT(listener.port(), 0);
  const std::string connect =
      "bash -c 'exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(listener.port()) + "'";
  // Outside the sandbox the port is reachable (the control), inside it is not.
  CommandResult r = Tink("exec --no-files --workdir " + ShellQuote(wd()) + " -- " + connect);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = Tink("exec --json --no-files --sandbox --workdir " + ShellQuote(wd()) + " -- " + connect);
  EXPECT_NE(r.exit_code, 0) << "connected from inside the sandbox";
  const json summary = Summary(r);
  ASSERT_TRUE(summary.is_object()) << r.err;
  const std::vector<json> events = Events(summary["run"]);
  EXPECT_EQ(OfType(events, "tool.call").at(0)["data"]["args"]["sandbox"], true);
  EXPECT_EQ(OfType(events, "task.failed").size(), 1u);
}

TEST_F(ExecSandboxTest, ReadOnlyOutsideTheWorkdirWritableInside) {
  // A directory outside the workdir and outside /tmp (the sandbox's /tmp is its own, so a
  // directory under /tmp is not there at all): /var/tmp, not the build tree, which may itself
  // lie under /tmp (a CI clone).
  const std::string outside = "/var/tmp/tink_exec_sandbox_outside_" + std::to_string(::getpid());
  std::filesystem::create_directories(outside);
  const std::string tmp_name = "/tmp/tink-exec-sandbox-" + std::to_string(::getpid());
  CommandResult r = Tink("exec --no-files --sandbox --workdir " + ShellQuote(wd()) + " -- sh -c " +
                         ShellQuote("echo x > " + ShellQuote(outside + "/f")));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("Read-only file system"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(outside + "/f"));

  r = Tink("exec --json --sandbox --workdir " + ShellQuote(wd()) + " -- sh -c " +
           ShellQuote("echo inside > made.txt && echo t > " + tmp_name + " && cat " + tmp_name));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "t\n");
  EXPECT_EQ(ReadFile(wd() + "/made.txt"), "inside\n");
  EXPECT_FALSE(std::filesystem::exists(tmp_name)) << "the sandbox's /tmp is not the host's";
  const std::vector<json> events = Events(Summary(r)["run"]);
  ASSERT_EQ(OfType(events, "file.write").size(), 1u);
  EXPECT_EQ(OfType(events, "file.write")[0]["data"]["path"], "made.txt");
  std::filesystem::remove_all(outside);
}

TEST_F(ExecSandboxTest, TimeoutStillKills) {
  const std::string pidfile = wd() + "/pid";
  CommandResult r = Tink("exec --json --no-files --sandbox --timeout 1 --workdir " +
                         ShellQuote(wd()) + " -- sh -c 'sleep 1771 & wait'");
  EXPECT_EQ(r.exit_code, 124) << r.err;
  EXPECT_EQ(Summary(r)["timed_out"], true);
  // Nothing of it is left: no sleep 1771 of ours runs.
  EXPECT_TRUE(WaitFor([] { return RunCommand("pgrep -f '^sleep 1771$'").out.empty(); }, 30))
      << RunCommand("pgrep -af 'sleep 1771'").out;
}

TEST_F(ExecSandboxTest, WithoutBubblewrapNothingRuns) {
  const std::string marker = wd() + "/marker";
  // A PATH without bwrap (tink itself is given by its path).
  CommandResult r =
      RunCommand("PATH=" + ShellQuote(tmp_.Sub("empty-path")) + " " + TINK_BIN + " --store " +
                 ShellQuote(store_) + " exec --sandbox -- /bin/touch " + ShellQuote(marker));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("bubblewrap"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("the command was not run"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(marker));
  EXPECT_TRUE(Events().empty());
}

}  // namespace
}  // namespace tink::exectest
