// tink exec (docs/exec.md): exit codes, signals, timeouts that kill the whole process group,
// large and binary output recorded chunk by chunk (re-assembled to the exact bytes up to the
// cap, the truncation noted), secrets kept out of the store, a kill -9 of tink exec in the
// middle of a command, and the same recording through a tink serve.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/beast/core/detail/base64.hpp>
#include <map>
#include <random>

#include "exec/exec_test_util.h"
#include "support/tink_server.h"

namespace tink::exectest {
namespace {

using testing::ReadFile;
using testing::SpawnToFiles;

class ExecCliTest : public ::testing::Test, public ExecTestBase {
 protected:
  // The bytes of one stream as recorded: the tool.output chunks in seq order, decoded; checks
  // that offsets are contiguous. `note` receives the truncation note if there is one.
  static std::string Recorded(const std::vector<json>& events, const std::string& stream,
                              json* note = nullptr) {
    std::map<int64_t, json> chunks;
    for (const json& e : OfType(events, "tool.output")) {
      if (e["data"]["stream"] == stream) chunks[e["data"]["seq"].get<int64_t>()] = e["data"];
    }
    std::string out;
    int64_t expect_seq = 0;
    for (const auto& [seq, d] : chunks) {
      EXPECT_EQ(seq, expect_seq++) << "chunks of " << stream << " have a gap in seq";
      if (d.value("truncated", false)) {
        if (note != nullptr) *note = d;
        continue;
      }
      EXPECT_EQ(d["offset"].get<uint64_t>(), out.size()) << "chunk " << seq << " of " << stream;
      const std::string text = d["text"];
      if (d.value("encoding", "") == "base64") {
        namespace b64 = boost::beast::detail::base64;
        std::string raw(b64::decoded_size(text.size()), '\0');
        raw.resize(b64::decode(raw.data(), text.data(), text.size()).first);
        out += raw;
      } else {
        EXPECT_FALSE(d.contains("encoding"));
        out += text;
      }
    }
    return out;
  }
};

TEST_F(ExecCliTest, ExitCodesSignalsAndTheEventsOfOneRun) {
  CommandResult r = Tink("exec --json --no-files -- sh -c 'echo out; echo err >&2; exit 3'");
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_EQ(r.out, "out\n");  // passed through as it came
  EXPECT_EQ(r.err.substr(0, 4), "err\n");
  const json summary = Summary(r);
  ASSERT_TRUE(summary.is_object()) << r.err;
  EXPECT_EQ(summary["exit_code"], 3);
  const std::string run = summary["run"];
  const std::vector<json> events = Events(run);
  std::vector<std::string> types;
  for (const json& e : events) {
    if (e["type"] != "tool.output") types.push_back(e["type"]);
  }
  EXPECT_EQ(types,
            (std::vector<std::string>{"run.started", "task.created", "task.ready", "task.started",
                                      "tool.call", "tool.result", "task.failed", "run.finished"}));
  EXPECT_EQ(events.front()["lsn"], summary["first_lsn"]);
  EXPECT_EQ(events.back()["lsn"], summary["last_lsn"]);
  const json result = OfType(events, "tool.result").at(0)["data"];
  EXPECT_EQ(result["exit_code"], 3);
  EXPECT_EQ(result["ok"], false);
  EXPECT_EQ(result["tool"], "exec");
  EXPECT_EQ(result["output"], "err\n") << "the end of stderr";
  EXPECT_EQ(result["stdout_bytes"], 4);
  EXPECT_EQ(result["stderr_bytes"], 4);
  EXPECT_TRUE(result.contains("duration_ms") && result.contains("max_rss_kb") &&
              result.contains("cpu_user_ms"));
  EXPECT_EQ(OfType(events, "task.failed").at(0)["data"]["error"], "exit code 3");
  EXPECT_EQ(OfType(events, "run.finished").at(0)["data"]["status"], "failed");
  EXPECT_EQ(Recorded(events, "stdout"), "out\n");
  EXPECT_EQ(Recorded(events, "stderr"), "err\n");
  const json call = OfType(events, "tool.call").at(0)["data"];
  EXPECT_EQ(call["args"]["argv"], json({"sh", "-c", "echo out; echo err >&2; exit 3"}));

  // The scheduler saw a failed task.
  r = Tink("tasks --run " + run);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("failed"), std::string::npos) << r.out;
  // why: the failure, the failing result, its call; the timeline shows the output.
  const std::string task0 = OfType(events, "task.created").at(0)["data"]["task"];
  r = Tink("shell -c " + ShellQuote("why " + run + "/" + task0));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("last failing result  exec exit 3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("exec: sh -c echo out; echo err >&2; exit 3"), std::string::npos) << r.out;
  r = Tink("shell -c " + ShellQuote("timeline " + run));
  EXPECT_NE(r.out.find("stdout: out"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("stderr: err"), std::string::npos) << r.out;

  // Success, into the same run as a child task.
  const std::string task = OfType(events, "task.created").at(0)["data"]["task"];
  r = Tink("exec --no-files --run " + run + " --task t2 --parent " + task + " -- true");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const std::vector<json> more = Events(run);
  EXPECT_EQ(OfType(more, "run.started").size(), 1u) << "a given run is not started again";
  ASSERT_EQ(OfType(more, "task.succeeded").size(), 1u);
  EXPECT_EQ(OfType(more, "task.succeeded")[0]["data"]["task"], "t2");
  const json created = OfType(more, "task.created").at(1)["data"];
  EXPECT_EQ(created["task"], "t2");
  EXPECT_EQ(created["parent"], task);

  EXPECT_EQ(Tink("exec --no-files -- sh -c 'exit 255'").exit_code, 255);
  EXPECT_EQ(Tink("exec --no-files -- sh -c 'kill -TERM $$'").exit_code, 128 + SIGTERM);
  r = Tink("exec --json --no-files -- sh -c 'kill -KILL $$'");
  EXPECT_EQ(r.exit_code, 128 + SIGKILL);
  const json killed = OfType(Events(Summary(r)["run"]), "tool.result").at(0)["data"];
  EXPECT_EQ(killed["signal"], SIGKILL);
  EXPECT_FALSE(killed.contains("exit_code"));
}

TEST_F(ExecCliTest, TinksOwnFailures) {
  CommandResult r = Tink("exec -- no-such-command-here");
  EXPECT_EQ(r.exit_code, 127);
  EXPECT_NE(r.err.find("command not found: no-such-command-here"), std::string::npos) << r.err;
  r = Tink("exec -- " + ShellQuote(tmp_.path()));  // a directory: not executable
  EXPECT_EQ(r.exit_code, 126) << r.err;
  EXPECT_EQ(Tink("exec").exit_code, 1);  // no command: usage
  r = Tink("exec --env NOEQUALS -- true");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--env expects NAME=VALUE"), std::string::npos) << r.err;
  r = Tink("exec --workdir " + ShellQuote(tmp_.Sub("missing")) + " -- true");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("is not a directory"), std::string::npos) << r.err;
  // None of these ran anything, so nothing was recorded.
  EXPECT_TRUE(Events().empty());
}

TEST_F(ExecCliTest, TimeoutKillsTheWholeProcessGroup) {
  const std::string pidfile = tmp_.Sub("grandchild.pid");
  // The pid file is written before the timeout on any machine (3 s is generous for a fork).
  CommandResult r = Tink("exec --json --no-files --timeout 3 -- sh -c " +
                         ShellQuote("sleep 1000 & echo $! > " + ShellQuote(pidfile) + "; wait"));
  EXPECT_EQ(r.exit_code, 124) << r.err;
  const json summary = Summary(r);
  EXPECT_EQ(summary["timed_out"], true);
  const std::string pid_text = ReadFile(pidfile);
  ASSERT_FALSE(pid_text.empty()) << "the command did not get to start its child";
  const pid_t grandchild = std::stoi(pid_text);
  EXPECT_TRUE(WaitFor([&] { return ProcessGone(grandchild); }, 30))
      << "the grandchild " << grandchild << " outlived the timeout";
  const std::vector<json> events = Events(summary["run"]);
  const json result = OfType(events, "tool.result").at(0)["data"];
  EXPECT_EQ(result["timed_out"], true);
  EXPECT_EQ(result["signal"], SIGTERM);
  EXPECT_EQ(OfType(events, "task.failed").at(0)["data"]["error"],
            "timed out (killed by signal 15)");

  // A command that ignores SIGTERM gets SIGKILL after the grace.
  r = Tink("exec --json --no-files --timeout 0.5 -- sh -c 'trap \"\" TERM; sleep 1000'");
  EXPECT_EQ(r.exit_code, 124) << r.err;
}

TEST_F(ExecCliTest, LargeTextOutputIsRecordedWholeInUtf8Chunks) {
  // 2-byte characters across 64 KiB chunk boundaries, and over 6 MiB in all.
  const std::string script = tmp_.Sub("gen.sh");
  std::string text;
  for (int i = 0; i < 70000; ++i) text += "é";
  text += "\n";
  { std::ofstream(tmp_.Sub("utf8.txt")) << text; }
  CommandResult r = Tink("exec --json --no-files -- sh -c " +
                         ShellQuote("cat " + ShellQuote(tmp_.Sub("utf8.txt")) + "; seq 1 1000000"));
  ASSERT_EQ(r.exit_code, 0) << r.err.substr(0, 500);
  const CommandResult expected =
      RunCommand("cat " + ShellQuote(tmp_.Sub("utf8.txt")) + "; seq 1 1000000");
  EXPECT_GT(expected.out.size(), 6u << 20);
  EXPECT_TRUE(r.out == expected.out) << "passed through differently";
  const std::vector<json> events = Events(Summary(r)["run"]);
  json note;
  EXPECT_TRUE(Recorded(events, "stdout", &note) == expected.out);
  EXPECT_TRUE(note.is_null()) << "nothing was truncated: " << note.dump();
  size_t chunks = 0;
  for (const json& e : OfType(events, "tool.output")) {
    EXPECT_LE(e["data"]["text"].get<std::string>().size(), 64u << 10);
    EXPECT_FALSE(e["data"].contains("encoding")) << "UTF-8 text is never base64";
    ++chunks;
  }
  EXPECT_GE(chunks, expected.out.size() / (64 << 10));
}

TEST_F(ExecCliTest, BinaryOutputPastTheCapIsTruncatedAndNoted) {
  const std::string bin = tmp_.Sub("random.bin");
  {
    std::mt19937 gen(7);
    std::string bytes(5 << 20, '\0');
    for (char& c : bytes) c = static_cast<char>(gen() & 0xff);
    std::ofstream(bin, std::ios::binary) << bytes;
  }
  const std::string all = ReadFile(bin);
  const size_t cap = 3'000'000;
  CommandResult r = Tink("exec --json --no-files --output-cap " + std::to_string(cap) + " -- cat " +
                         ShellQuote(bin));
  ASSERT_EQ(r.exit_code, 0) << r.err.substr(0, 300);
  EXPECT_TRUE(r.out == all) << "everything is passed through, past the cap too";
  const std::vector<json> events = Events(Summary(r)["run"]);
  json note;
  const std::string recorded = Recorded(events, "stdout", &note);
  EXPECT_EQ(recorded.size(), cap);
  EXPECT_TRUE(recorded == all.substr(0, cap)) << "the recorded bytes differ";
  ASSERT_TRUE(note.is_object());
  EXPECT_EQ(note["truncated"], true);
  EXPECT_EQ(note["dropped_bytes"], all.size() - cap);
  EXPECT_EQ(note["offset"], all.size());
  const json result = OfType(events, "tool.result").at(0)["data"];
  EXPECT_EQ(result["stdout_bytes"], all.size());
  EXPECT_EQ(result["output_truncated"], true);
}

TEST_F(ExecCliTest, SecretsAreNotRecorded) {
  // The values reach the command (it checks their lengths), never the store; a secret-looking
  // name is not recorded either, an ordinary one is (by name).
  CommandResult r = Tink(
      "exec --json --no-files --env API_TOKEN=s3cret-value --env VISIBLE_NAME=plain-value -- "
      "sh -c '[ ${#API_TOKEN} -eq 12 ] && [ ${#MY_PASSWORD} -eq 14 ] && "
      "[ ${#VISIBLE_NAME} -eq 11 ]'",
      "MY_PASSWORD=hunter2-hunter ");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const CommandResult log = Tink("log --json");
  ASSERT_EQ(log.exit_code, 0);
  // No value, secret-looking or not (the names are in the argv here, so that is not checked).
  for (const char* secret : {"s3cret-value", "hunter2-hunter", "plain-value"}) {
    EXPECT_EQ(log.out.find(secret), std::string::npos) << secret << " is in the store";
  }
  // Not in the log's bytes either (no other encoding of it).
  const CommandResult grep = RunCommand("grep -r -l -a s3cret-value " + ShellQuote(store_));
  EXPECT_EQ(grep.out, "") << "a log file holds the secret";
  const json call = OfType(Events(Summary(r)["run"]), "tool.call").at(0)["data"]["args"];
  EXPECT_EQ(call["env"], json({"VISIBLE_NAME"}));
  EXPECT_EQ(call["env_hidden"], 1);
}

TEST_F(ExecCliTest, KillNineOfTinkExecLeavesAConsistentLog) {
  const std::string pidfile = tmp_.Sub("command.pid");
  const std::string out = tmp_.Sub("exec.out");
  const pid_t tink = SpawnToFiles(
      {TINK_BIN, "--store", store_, "exec", "--no-files", "--run", "r1", "--", "sh", "-c",
       "echo started; echo $$ > " + pidfile + ".tmp; mv " + pidfile + ".tmp " + pidfile +
           "; exec sleep 1000"},
      out, tmp_.Sub("exec.err"));
  ASSERT_GT(tink, 0);
  ASSERT_TRUE(WaitFor([&] { return !ReadFile(pidfile).empty(); }, 60))
      << ReadFile(tmp_.Sub("exec.err"));
  ASSERT_TRUE(WaitFor([&] { return ReadFile(out) == "started\n"; }, 60));
  const pid_t command = std::stoi(ReadFile(pidfile));
  ASSERT_EQ(::kill(tink, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(tink, &status, 0), tink);
  EXPECT_TRUE(WaitFor([&] { return ProcessGone(command); }, 30))
      << "the command outlived tink exec";

  CommandResult r = Tink("verify");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::vector<json> events = Events("r1");
  std::vector<std::string> types;
  for (const json& e : events) types.push_back(e["type"]);
  ASSERT_GE(types.size(), 4u) << r.err;
  EXPECT_EQ(std::vector<std::string>(types.begin(), types.begin() + 4),
            (std::vector<std::string>{"task.created", "task.ready", "task.started", "tool.call"}));
  EXPECT_TRUE(OfType(events, "tool.result").empty());
  // The store takes a writer again.
  r = Tink("exec --no-files --run r1 -- true");
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(ExecCliTest, CtrlCStopsTheCommandAndRecordsTheEnd) {
  const std::string out = tmp_.Sub("exec.out");
  const pid_t tink = SpawnToFiles({TINK_BIN, "--store", store_, "exec", "--no-files", "--run", "r2",
                                   "--", "sh", "-c", "echo started; exec sleep 1000"},
                                  out, tmp_.Sub("exec.err"));
  ASSERT_GT(tink, 0);
  ASSERT_TRUE(WaitFor([&] { return ReadFile(out) == "started\n"; }, 60))
      << ReadFile(tmp_.Sub("exec.err"));
  ASSERT_EQ(::kill(tink, SIGINT), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(tink, &status, 0), tink);
  ASSERT_TRUE(WIFEXITED(status)) << "tink exec died of the signal instead of recording the end";
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGTERM);
  const std::vector<json> events = Events("r2");
  ASSERT_EQ(OfType(events, "task.failed").size(), 1u);
  EXPECT_EQ(OfType(events, "task.failed")[0]["data"]["error"], "cancelled (killed by signal 15)");
  EXPECT_EQ(Recorded(events, "stdout"), "started\n");
}

TEST_F(ExecCliTest, ThroughTinkServe) {
  testing::TinkServer server(TINK_BIN);
  testing::ServerOptions so;
  so.store = store_;
  ASSERT_TRUE(server.Start(so)) << server.error();
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port());
  CommandResult r =
      RunCommand(std::string(TINK_BIN) + " --store " + ShellQuote(store_) + " --server " + url +
                 " exec --json --no-files -- sh -c 'echo remote; exit 5'");
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_EQ(r.out, "remote\n");
  const json summary = Summary(r);
  ASSERT_TRUE(summary.is_object()) << r.err;
  // Read back through the daemon too.
  r = RunCommand(std::string(TINK_BIN) + " --store " + ShellQuote(store_) + " --server " + url +
                 " log --json --run " + ShellQuote(summary["run"].get<std::string>()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<json> events;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) events.push_back(json::parse(line));
  EXPECT_EQ(Recorded(events, "stdout"), "remote\n");
  EXPECT_EQ(OfType(events, "tool.result").at(0)["data"]["exit_code"], 5);
  EXPECT_EQ(events.back()["lsn"], summary["last_lsn"]);
  // --sync is the daemon's.
  r = RunCommand(std::string(TINK_BIN) + " --store " + ShellQuote(store_) + " --server " + url +
                 " exec --sync none -- true");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  // A daemon that is not there: tink's own failure, nothing run.
  const std::string marker = tmp_.Sub("marker");
  r = RunCommand(std::string(TINK_BIN) + " --server unix:" + ShellQuote(tmp_.Sub("nosock")) +
                 " exec -- touch " + ShellQuote(marker));
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_TRUE(ReadFile(marker).empty() && ::access(marker.c_str(), F_OK) != 0);
}

}  // namespace
}  // namespace tink::exectest
