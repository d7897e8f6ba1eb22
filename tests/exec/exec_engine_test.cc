// engine/exec in-process (how tink mcp's exec tool calls it): output captured instead of passed
// through, and a store slower than the command: the command is never held up (every byte it
// writes is read), what could not be recorded is counted and noted, and the recorded chunks are
// exactly the bytes at their offsets.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "engine/exec/exec.h"
#include "support/temp_dir.h"

namespace tink::exec {
namespace {

using nlohmann::json;

// Collects events. With `block_until` set, an append of output waits until that file exists
// (at most two minutes): a store that is stuck while the command runs.
struct MemorySink {
  std::mutex mu;
  std::vector<schema::EventInput> events;
  std::string block_until;
  size_t calls = 0;
  EventSink Fn() {
    return [this](std::span<const schema::EventInput> group) -> Result<std::vector<log::Lsn>> {
      if (!block_until.empty() && group.front().type == "tool.output") {
        const auto end = std::chrono::steady_clock::now() + std::chrono::minutes(2);
        while (::access(block_until.c_str(), F_OK) != 0 && std::chrono::steady_clock::now() < end) {
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
      }
      std::lock_guard<std::mutex> lock(mu);
      ++calls;
      std::vector<log::Lsn> lsns;
      for (const schema::EventInput& e : group) {
        events.push_back(e);
        lsns.push_back(events.size());
      }
      return lsns;
    };
  }
  std::vector<json> OfType(const std::string& type) {
    std::vector<json> out;
    for (const schema::EventInput& e : events) {
      if (e.type == type) out.push_back(json::parse(e.data_json));
    }
    return out;
  }
};

TEST(ExecEngineTest, CapturesOutputInProcess) {
  testing::TempDir tmp;
  MemorySink sink;
  ExecOptions o;
  o.argv = {"sh", "-c", "echo captured; echo warn >&2; exit 2"};
  o.workdir = tmp.path();
  o.stdout_fd = -1;
  o.stderr_fd = -1;
  o.run = "r";
  o.task = "t";
  o.tool = "mcp.exec";
  Result<ExecOutcome> out = RunRecorded(o, sink.Fn());
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->exit_code, 2);
  EXPECT_EQ(out->ShellExitCode(), 2);
  EXPECT_EQ(out->Failure(), "exit code 2");
  EXPECT_EQ(out->stdout_text, "captured\n");
  EXPECT_EQ(out->stderr_text, "warn\n");
  EXPECT_EQ(out->run, "r");
  EXPECT_FALSE(out->run_generated);
  EXPECT_EQ(out->first_lsn, 1u);
  EXPECT_EQ(out->last_lsn, sink.events.size());
  EXPECT_EQ(sink.OfType("run.started").size(), 0u);
  EXPECT_EQ(sink.OfType("tool.call").at(0)["tool"], "mcp.exec");
  EXPECT_EQ(sink.events.back().type, "task.failed");
  EXPECT_EQ(sink.events.back().stream, "run/r/task/t");
}

TEST(ExecEngineTest, ASlowStoreNeverHoldsTheCommandUp) {
  testing::TempDir tmp;
  MemorySink sink;
  sink.block_until = tmp.Sub("done");
  ExecOptions o;
  // 48 MiB, more than the 16 MiB the appender may have waiting, while the store is stuck until
  // the command has written all of it: only a reader that never waits for the store lets the
  // command get to its end.
  o.argv = {"sh", "-c", "head -c " + std::to_string(48 << 20) + " /dev/zero && touch done"};
  o.workdir = tmp.path();
  o.record_files = false;
  o.stdout_fd = -1;
  o.output_cap_bytes = 64 << 20;
  Result<ExecOutcome> out = RunRecorded(o, sink.Fn());
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->exit_code, 0);
  EXPECT_EQ(out->stdout_bytes, 48u << 20) << "every byte was read";
  EXPECT_GT(out->dropped_bytes, 0u) << "the slow store could not take everything";
  EXPECT_TRUE(out->stdout_truncated);
  // Recorded chunks are runs of the exact bytes at their offsets; with the dropped ones they
  // account for the whole stream.
  uint64_t recorded = 0;
  json note;
  for (const json& d : sink.OfType("tool.output")) {
    if (d.value("truncated", false)) {
      note = d;
      continue;
    }
    EXPECT_EQ(d["encoding"], "base64");  // NUL bytes
    recorded += d["text"].get<std::string>().size() / 4 * 3;
  }
  ASSERT_TRUE(note.is_object());
  EXPECT_EQ(note["dropped_bytes"].get<uint64_t>(), out->dropped_bytes);
  EXPECT_EQ(note["offset"].get<uint64_t>(), 48u << 20);
  // Base64 rounds up to whole groups of 3: compare within the padding.
  EXPECT_NEAR(static_cast<double>(recorded + out->dropped_bytes), 48.0 * (1 << 20),
              3.0 * sink.OfType("tool.output").size());
  const json result = sink.OfType("tool.result").at(0);
  EXPECT_EQ(result["output_truncated"], true);
}

TEST(ExecEngineTest, BadOptionsRunNothing) {
  MemorySink sink;
  ExecOptions o;
  EXPECT_TRUE(RunRecorded(o, sink.Fn()).status().IsInvalidArgument());  // no argv
  o.argv = {"true"};
  o.env = {{"A=B", "x"}};
  EXPECT_TRUE(RunRecorded(o, sink.Fn()).status().IsInvalidArgument());
  o.env.clear();
  o.argv = {"surely-not-a-command-xyz"};
  EXPECT_TRUE(RunRecorded(o, sink.Fn()).status().IsNotFound());
  EXPECT_TRUE(sink.events.empty());
  // A store that refuses the first group: nothing runs.
  testing::TempDir tmp;
  o.workdir = tmp.path();
  const EventSink refusing =
      [](std::span<const schema::EventInput>) -> Result<std::vector<log::Lsn>> {
    return Status::IOError("disk full");
  };
  o.argv = {"touch", tmp.Sub("marker")};
  EXPECT_TRUE(RunRecorded(o, refusing).status().IsIOError());
  EXPECT_NE(::access(tmp.Sub("marker").c_str(), F_OK), 0);
}

TEST(ExecEngineTest, SecretLookingNames) {
  for (const char* n : {"API_TOKEN", "aws_secret_access_key", "GITHUB_PAT_PASSWORD", "Auth",
                        "MY_CREDENTIALS", "SSH_PRIVATE"}) {
    EXPECT_TRUE(IsSecretName(n)) << n;
  }
  for (const char* n : {"PATH", "HOME", "LANG", "CC", "TERM"}) EXPECT_FALSE(IsSecretName(n)) << n;
}

}  // namespace
}  // namespace tink::exec
