// ShellSession as `tink serve` uses it (shell_session.h): attached to an engine its caller owns,
// output and errors to memory streams, dot-commands refused, cancel sticky; and the client
// helpers of remote.h that need no daemon (token discovery, error answers, exit codes, URL
// encoding, cutting a streamed body into lines).
#include "shell/cli/shell_session.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <tuple>

#include "engine/engine.h"
#include "shell/cli/remote.h"
#include "shell/cli/views.h"
#include "support/temp_dir.h"

namespace tink::cli {
namespace {

// A FILE* writing to memory, as the daemon gives a session.
class MemFile {
 public:
  MemFile() : f_(open_memstream(&buf_, &size_)) {}
  ~MemFile() {
    if (f_ != nullptr) std::fclose(f_);
    std::free(buf_);
  }
  std::FILE* get() { return f_; }
  std::string Text() {
    std::fflush(f_);
    return std::string(buf_, size_);
  }

 private:
  char* buf_ = nullptr;
  size_t size_ = 0;
  std::FILE* f_;
};

class AttachedSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto e = engine::Engine::Open(tmp_.Sub("store"), {});
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(e).value();
    Append(3);
  }
  void Append(int n) {
    std::vector<schema::EventInput> events(n);
    for (auto& e : events) {
      e.stream = "run/r1";
      e.type = "note";
      e.run = "r1";
      e.data_json = R"({"text":"hi"})";
    }
    auto r = engine_->Append(events);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_TRUE(engine_->WaitForProjections(r->lsns.back(), std::chrono::seconds(10)));
  }
  // What a fresh session per request gives for `script`.
  int Query(const std::string& script, ShellConfig config = {}) {
    out_ = std::make_unique<MemFile>();
    err_ = std::make_unique<MemFile>();
    ShellSession session(config);
    session.Attach(engine_.get());
    session.set_output(out_->get());
    session.set_errors(err_->get());
    return session.RunScript(script, "");
  }

  testing::TempDir tmp_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<MemFile> out_, err_;
};

TEST_F(AttachedSessionTest, RunsQueriesOverTheCallersEngineIntoTheGivenFiles) {
  ShellConfig config;
  config.format = query::Format::kJsonl;
  EXPECT_EQ(Query("events | count", config), 0);
  EXPECT_EQ(out_->Text(), "{\"count\":3}\n");
  EXPECT_EQ(err_->Text(), "");
  // Several statements, in order.
  EXPECT_EQ(Query("events | count; events | where lsn == 2 | select lsn", config), 0);
  EXPECT_EQ(out_->Text(), "{\"count\":3}\n{\"lsn\":2}\n");
  // The session did not close the engine: it still appends, and a new session sees it.
  Append(1);
  EXPECT_EQ(Query("events | count", config), 0);
  EXPECT_EQ(out_->Text(), "{\"count\":4}\n");
}

TEST_F(AttachedSessionTest, ErrorsGoToTheErrorFileAsOneLine) {
  EXPECT_EQ(Query("events | count; evnts | count"), 2);
  EXPECT_NE(out_->Text().find("3"), std::string::npos) << out_->Text();
  const std::string err = err_->Text();
  EXPECT_TRUE(err.starts_with("error at 1:17: ")) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
}

TEST_F(AttachedSessionTest, DotCommandsCanBeRefused) {
  ShellConfig config;
  config.allow_dot_commands = false;
  EXPECT_EQ(Query(".mode csv\nevents | count", config), 2);
  EXPECT_EQ(err_->Text(), "error: dot-commands are not accepted here\n");
  EXPECT_EQ(out_->Text(), "");
  EXPECT_EQ(Query("events | count;\n.output /tmp/x", config), 2);
  EXPECT_EQ(err_->Text(), "error: dot-commands are not accepted here\n");
  // Allowed by default: .output with no file comes back to the given output, not stdout.
  EXPECT_EQ(Query(".mode jsonl\n.output\nevents | count"), 0);
  EXPECT_EQ(out_->Text(), "{\"count\":3}\n");
}

TEST_F(AttachedSessionTest, CancelIsStickyAcrossStatements) {
  out_ = std::make_unique<MemFile>();
  err_ = std::make_unique<MemFile>();
  ShellSession session(ShellConfig{});
  session.Attach(engine_.get());
  session.set_output(out_->get());
  session.set_errors(err_->get());
  session.cancel().store(true);
  EXPECT_EQ(session.RunScript("events; events | count", ""), 2);
  EXPECT_EQ(err_->Text(), "cancelled\n");
}

TEST_F(AttachedSessionTest, ViewsWriteToTheGivenFile) {
  MemFile tasks;
  TasksRequest r;
  r.json = true;
  ASSERT_TRUE(WriteTasks(*engine_, r, tasks.get()).ok());
  EXPECT_EQ(tasks.Text(), "[]\n");
  TasksRequest bad;
  bad.history = true;
  EXPECT_TRUE(WriteTasks(*engine_, bad, tasks.get()).IsInvalidArgument());
  bad = {};
  bad.as_of = "yesterday";
  EXPECT_TRUE(CheckTasksRequest(bad).IsInvalidArgument());

  MemFile report;
  Status s = WriteReport(*engine_, "no-such-run", false, report.get());
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_EQ(report.Text(), "");

  const nlohmann::ordered_json stats = StatsJson(*engine_, "S");
  EXPECT_EQ(stats["store"], "S");
  EXPECT_EQ(stats["events"], 3);
  EXPECT_FALSE(stats.contains("recovery"));
  MemFile text;
  nlohmann::ordered_json with_counters = stats;
  with_counters["connections"] = 7;  // a daemon's own keys are ignored
  WriteStatsText(with_counters, text.get());
  const std::string t = text.Text();
  EXPECT_TRUE(t.starts_with("store       S\nstore id    ")) << t;
  EXPECT_NE(t.find("events      3\n"), std::string::npos) << t;
  EXPECT_NE(t.find("first       LSN 1 at "), std::string::npos) << t;
  EXPECT_EQ(t.find("connections"), std::string::npos) << t;
}

// ---- remote.h helpers

TEST(RemoteHelpersTest, ErrorAnswersMapToOneLineAndTheExitCodes) {
  RemoteResponse r;
  r.status = 409;
  r.body = R"({"error":{"code":"conflict","message":"stream a is at version 3"}})";
  HttpError e = ParseHttpError(r);
  EXPECT_EQ(e.code, "conflict");
  EXPECT_EQ(e.ToString(), "stream a is at version 3 (HTTP 409)");
  EXPECT_EQ(ExitForHttp(e), 2);
  for (auto [status, code, exit] :
       std::vector<std::tuple<long, std::string, int>>{{400, "query_error", 2},
                                                       {401, "unauthorized", 2},
                                                       {403, "forbidden", 2},
                                                       {404, "not_found", 2},
                                                       {413, "too_large", 2},
                                                       {429, "too_many_requests", 2},
                                                       {500, "corruption", 3},
                                                       {500, "io_error", 4},
                                                       {503, "overloaded", 4},
                                                       {503, "query_timeout", 4}}) {
    r.status = status;
    r.body = R"({"error":{"code":")" + code + R"(","message":"m\nn"}})";
    e = ParseHttpError(r);
    EXPECT_EQ(ExitForHttp(e), exit) << code;
    EXPECT_EQ(e.message, "m n") << "one line";
  }
  // Not the documented shape (a proxy's page, an empty body): still one line.
  r.status = 502;
  r.body = "<html>\nBad gateway\n";
  e = ParseHttpError(r);
  EXPECT_EQ(e.ToString(), "<html> (HTTP 502)");
  EXPECT_EQ(ExitForHttp(e), 4);
  r.body = "";
  EXPECT_EQ(ParseHttpError(r).ToString(), "the server answered with an error (HTTP 502)");
}

TEST(RemoteHelpersTest, TokenComesFromTheEnvironmentThenItsFileThenTheStore) {
  testing::TempDir tmp;
  ::unsetenv("TINKERBELL_TOKEN");
  ::unsetenv("TINKERBELL_TOKEN_FILE");
  EXPECT_EQ(*FindToken(tmp.Sub("nostore")), "");
  std::filesystem::create_directories(tmp.Sub("store"));
  std::ofstream(tmp.Sub("store/token")) << "fromstore\n";
  EXPECT_EQ(*FindToken(tmp.Sub("store")), "fromstore");
  std::ofstream(tmp.Sub("tokfile")) << "  fromfile \n";
  ::setenv("TINKERBELL_TOKEN_FILE", tmp.Sub("tokfile").c_str(), 1);
  EXPECT_EQ(*FindToken(tmp.Sub("store")), "fromfile");
  ::setenv("TINKERBELL_TOKEN", "fromenv", 1);
  EXPECT_EQ(*FindToken(tmp.Sub("store")), "fromenv");
  ::unsetenv("TINKERBELL_TOKEN");
  ::setenv("TINKERBELL_TOKEN_FILE", tmp.Sub("missing").c_str(), 1);
  EXPECT_TRUE(FindToken(tmp.Sub("store")).status().IsInvalidArgument());
  ::unsetenv("TINKERBELL_TOKEN_FILE");
}

TEST(RemoteHelpersTest, UrlsAreCheckedAndValuesEncoded) {
  EXPECT_TRUE(RemoteClient::Create("http://127.0.0.1:7070", "").ok());
  EXPECT_TRUE(RemoteClient::Create("http://localhost:7070/", "").ok());
  EXPECT_TRUE(RemoteClient::Create("unix:/tmp/s.sock", "").ok());
  for (const char* bad : {"https://h:1", "h:1", "http://", "http://h:1/v1", "unix:", ""}) {
    EXPECT_TRUE(RemoteClient::Create(bad, "").status().IsInvalidArgument()) << bad;
  }
  EXPECT_EQ(UrlEncode("run/7 x&y=z~._-"), "run%2F7%20x%26y%3Dz~._-");
}

TEST(RemoteHelpersTest, LineCutterJoinsPiecesAndDropsCarriageReturns) {
  std::vector<std::string> lines;
  LineCutter cut([&](std::string_view l) {
    lines.emplace_back(l);
    return l != "stop";
  });
  EXPECT_TRUE(cut.Feed("ab"));
  EXPECT_TRUE(cut.Feed("c\r\nd\n\ne"));
  EXPECT_TRUE(cut.Feed("f"));
  EXPECT_TRUE(cut.Finish());
  EXPECT_EQ(lines, (std::vector<std::string>{"abc", "d", "", "ef"}));
  lines.clear();
  EXPECT_FALSE(cut.Feed("x\nstop\ny\n"));
  EXPECT_EQ(lines, (std::vector<std::string>{"x", "stop"}));
}

}  // namespace
}  // namespace tink::cli
