// The live recorder (issue 13): `tink append --line-buffered` acknowledging lines as they arrive
// through a pipe, and read-only commands run beside a writer (they take no lock, never make it
// fail, never see damage, and never go backwards).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "engine/engine.h"
#include "support/child_process.h"
#include "support/run_command.h"
#include "support/temp_dir.h"

namespace tink {
namespace {

using testing::ChildProcess;
using testing::CommandResult;
using testing::RunCommand;
using testing::ShellQuote;
using namespace std::chrono_literals;

// A deadline for answers that come within milliseconds, so that a failing test ends instead of
// hanging; never a measurement.
constexpr auto kPatience = 60s;

std::string Note(int i) {
  return R"({"stream":"run/1/notes","type":"note","run":"1","data":{"text":"line )" +
         std::to_string(i) + R"("}})";
}

std::string TaskCreated(int i) {
  return R"({"stream":"run/1/task/)" + std::to_string(i) +
         R"(","type":"task.created","run":"1","data":{"task":")" + std::to_string(i) +
         R"(","name":"step )" + std::to_string(i) + R"("}})";
}

bool MentionsCorruption(std::string err) {
  std::transform(err.begin(), err.end(), err.begin(), [](unsigned char c) { return std::tolower(c); });
  return err.find("corrupt") != std::string::npos;
}

class LiveCliTest : public ::testing::Test {
 protected:
  std::string Bin() const { return std::string(TINK_BIN) + " --store " + ShellQuote(store_); }
  CommandResult Tink(const std::string& args, const std::string& input = "") {
    return RunCommand(Bin() + " " + args, input);
  }
  uint64_t LogCount() {
    CommandResult r = Tink("log --json");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return static_cast<uint64_t>(std::count(r.out.begin(), r.out.end(), '\n'));
  }

  testing::TempDir tmp_;
  std::string store_ = tmp_.Sub("store");
};

// Each line written to the pipe is acknowledged (its LSN printed) while the input is still open,
// and a reader started meanwhile sees it. A bad line then stops the command with exit 2, naming
// the line and the field; what was acknowledged before it stays, nothing after it is written.
TEST_F(LiveCliTest, LineBufferedAcknowledgesEachLineBeforeTheInputEnds) {
  ChildProcess w(Bin() + " append --line-buffered");
  ASSERT_TRUE(w.started());
  for (int i = 1; i <= 5; ++i) {
    ASSERT_TRUE(w.Write(Note(i) + "\n"));
    std::optional<std::string> ack = w.ReadLine(kPatience);
    ASSERT_TRUE(ack.has_value()) << "no LSN for line " << i << " while the input is open; stderr: "
                                 << w.Err();
    EXPECT_EQ(*ack, std::to_string(i));
    // A reader beside the writer: no lock wait, no error, and the acknowledged event is there.
    CommandResult c = Tink("shell --format csv -c 'events | count'");
    ASSERT_EQ(c.exit_code, 0) << c.err;
    EXPECT_EQ(c.out, "count\n" + std::to_string(i) + "\n");
  }
  // A blank line is skipped (it still counts as line 6); line 7 names a field the type lacks.
  ASSERT_TRUE(w.Write("\n" + std::string(R"({"stream":"run/1/notes","type":"note","data":{"txt":"x"}})") +
                      "\n" + Note(8) + "\n"));
  EXPECT_EQ(w.ReadRest(kPatience), "") << "nothing from the bad line on is acknowledged";
  EXPECT_EQ(w.Wait(), 2);
  const std::string err = w.Err();
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_NE(err.find("tink append: "), std::string::npos) << err;
  EXPECT_NE(err.find("stdin line 7"), std::string::npos) << err;
  EXPECT_NE(err.find("txt"), std::string::npos) << "names the field: " << err;
  EXPECT_NE(err.find("5 events before it are stored"), std::string::npos) << err;

  EXPECT_EQ(LogCount(), 5u);
  CommandResult v = Tink("verify");
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
}

// Lines already in the pipe when the command starts go in as they come; the end of input ends
// it with exit 0, every event stored in order.
TEST_F(LiveCliTest, LineBufferedReadsToTheEndOfInput) {
  std::string input;
  for (int i = 1; i <= 2500; ++i) input += Note(i) + "\n";
  input += Note(2501);  // no newline at the end: still a line
  CommandResult r = Tink("append --line-buffered --sync none", input);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string want;
  for (int i = 1; i <= 2501; ++i) want += std::to_string(i) + "\n";
  EXPECT_EQ(r.out, want);
  EXPECT_EQ(LogCount(), 2501u);

  CommandResult j = Tink("append --line-buffered --json", Note(0) + "\n");
  ASSERT_EQ(j.exit_code, 0) << j.err;
  EXPECT_EQ(j.out, "{\"lsn\":2502,\"duplicate\":false}\n");
}

TEST_F(LiveCliTest, LineBufferedRefusesFlagsOfOneBatch) {
  CommandResult r = Tink("append --line-buffered --expect no_stream", Note(1) + "\n");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--expect"), std::string::npos) << r.err;
  r = Tink("append --line-buffered --stream s --type note", "");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--line-buffered"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(store_)) << "nothing was opened";
}

// The same ids again: nothing is written and the original LSNs come back (as without the flag).
TEST_F(LiveCliTest, LineBufferedIsIdempotentByEventId) {
  const std::string line = R"({"stream":"s","type":"note","id":"once","data":{"text":"a"}})";
  CommandResult a = Tink("append --line-buffered", line + "\n");
  ASSERT_EQ(a.exit_code, 0) << a.err;
  CommandResult b = Tink("append --line-buffered", line + "\n");
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_EQ(b.out, a.out);
  EXPECT_NE(b.err.find("already in the store"), std::string::npos) << b.err;
  EXPECT_EQ(LogCount(), 1u);
}

// Read-only commands in a loop beside a writer for a few seconds: they never fail (no exit 4
// from a lock, no exit 3 or "corrupt" from a write in progress), what they count never goes
// down, and at the end they see everything that was acknowledged.
class ReadersBesideWriterTest : public LiveCliTest,
                                public ::testing::WithParamInterface<bool /*line_buffered*/> {};

TEST_P(ReadersBesideWriterTest, ReadersNeverFailNorGoBackwards) {
  const bool line_buffered = GetParam();
  // The store exists with its state before the readers start (they need a store to read).
  ASSERT_EQ(Tink("append", TaskCreated(0) + "\n").exit_code, 0);

  std::atomic<bool> stop{false};
  std::atomic<int> acked{1}, tasks{1};
  std::string writer_error;
  std::thread writer([&] {
    // Notes and task.created events, in small bursts; each one acknowledged before the next.
    auto line = [&](int i) { return i % 3 == 0 ? TaskCreated(i) : Note(i); };
    int i = 1;
    if (line_buffered) {
      ChildProcess w(Bin() + " append --line-buffered");
      while (!stop.load() && writer_error.empty()) {
        std::string burst;
        const int n = 1 + i % 4;
        for (int k = 0; k < n; ++k) burst += line(i + k) + "\n";
        if (!w.Write(burst)) writer_error = "the writer's stdin closed: " + w.Err();
        for (int k = 0; k < n && writer_error.empty(); ++k) {
          std::optional<std::string> ack = w.ReadLine(kPatience);
          if (!ack || *ack != std::to_string(acked.load() + 1)) {
            writer_error = "unexpected acknowledgement '" + ack.value_or("(none)") + "': " + w.Err();
            break;
          }
          if ((i + k) % 3 == 0) ++tasks;
          ++acked;
        }
        i += n;
        std::this_thread::sleep_for(20ms);
      }
      w.CloseStdin();  // the end of input: the command closes the store and exits
      const std::string rest = w.ReadRest(kPatience);
      const int rc = w.Wait();
      if (writer_error.empty() && (rc != 0 || !rest.empty())) {
        writer_error = "exit " + std::to_string(rc) + ", output '" + rest + "': " + w.Err();
      }
    } else {
      while (!stop.load() && writer_error.empty()) {
        std::string batch;
        const int n = 1 + i % 4;
        for (int k = 0; k < n; ++k) batch += line(i + k) + "\n";
        CommandResult r = RunCommand(Bin() + " append", batch);
        if (r.exit_code != 0) {
          writer_error = "exit " + std::to_string(r.exit_code) + ": " + r.err;
          break;
        }
        for (int k = 0; k < n; ++k) {
          if ((i + k) % 3 == 0) ++tasks;
        }
        acked += n;
        i += n;
      }
    }
  });

  std::map<std::string, uint64_t> last;  // per query, the last count seen
  int rounds = 0;
  auto check = [&](const std::string& what, const CommandResult& r, uint64_t count) {
    EXPECT_EQ(r.exit_code, 0) << what << ": " << r.err;
    EXPECT_FALSE(MentionsCorruption(r.err)) << what << ": " << r.err;
    EXPECT_GE(count, last[what]) << what << " went backwards";
    last[what] = std::max(last[what], count);
  };
  const auto until = std::chrono::steady_clock::now() + 3s;
  while (std::chrono::steady_clock::now() < until && !::testing::Test::HasFailure()) {
    CommandResult c = Tink("shell --format csv -c 'events | count'");
    check("shell count", c,
          c.exit_code == 0 && c.out.size() > 6 ? std::stoull(c.out.substr(6)) : 0);
    CommandResult t = Tink("tasks --json");
    check("tasks", t, t.exit_code == 0 ? nlohmann::json::parse(t.out).size() : 0);
    CommandResult l = Tink("log --json");
    check("log", l, static_cast<uint64_t>(std::count(l.out.begin(), l.out.end(), '\n')));
    CommandResult s = Tink("stats --json");
    check("stats", s, s.exit_code == 0 ? nlohmann::json::parse(s.out)["events"].get<uint64_t>() : 0);
    ++rounds;
  }
  stop = true;
  writer.join();
  ASSERT_EQ(writer_error, "");
  EXPECT_GT(rounds, 0);
  EXPECT_GT(acked.load(), 1) << "the writer appended nothing while the readers ran";

  // The writer is done: every acknowledged event and task is there for a reader.
  EXPECT_EQ(LogCount(), static_cast<uint64_t>(acked.load()));
  CommandResult t = Tink("tasks --json");
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_EQ(nlohmann::json::parse(t.out).size(), static_cast<size_t>(tasks.load()));
  CommandResult v = Tink("verify");
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
}

INSTANTIATE_TEST_SUITE_P(Writers, ReadersBesideWriterTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return p.param ? "LineBuffered" : "RepeatedAppends";
                         });

// `tink tasks` on a terminal says when the projection state it answers from is behind the log.
// Here a writer holds the store and never flushes its state (state_flush_interval 0), so the
// reader sees the state as the previous writer left it.
TEST_F(LiveCliTest, TasksOnATerminalSaysWhenTheStateIsBehindTheLog) {
  ASSERT_EQ(Tink("append", TaskCreated(1) + "\n" + TaskCreated(2) + "\n").exit_code, 0);
  const std::string tty = "script -qec " + ShellQuote(Bin() + " tasks") + " /dev/null";
  CommandResult r = RunCommand(tty);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("(as of LSN 2)"), std::string::npos) << r.out;

  engine::EngineOptions o;
  o.state_flush_interval = 0ms;
  auto writer = engine::Engine::Open(store_, o);
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  std::vector<schema::EventInput> more(1);
  more[0].stream = "run/1/task/3";
  more[0].type = "task.created";
  more[0].run = "1";
  more[0].data_json = R"({"task":"3","name":"step 3"})";
  ASSERT_TRUE((*writer)->Append(more).ok());
  ASSERT_TRUE((*writer)->WaitForProjections(3, kPatience));

  r = RunCommand(tty);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("(as of LSN 2; the log has 3)"), std::string::npos) << r.out;
  // Without a terminal the output is for programs: rows only.
  r = Tink("tasks");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("as of"), std::string::npos) << r.out;
  ASSERT_TRUE((*writer)->Close().ok());

  r = RunCommand(tty);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("(as of LSN 3)"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace tink
