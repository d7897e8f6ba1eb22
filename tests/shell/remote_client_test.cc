// The `tink` commands' client side of --server against a scripted stand-in for the daemon (a
// Boost.Beast server in the test, answering as docs/http.md says): what each command sends
// (paths, parameters, bodies, the bearer token), how it prints answers, the exit code and the
// one line of each kind of error answer, query error positions, and log --follow's reconnection
// with Last-Event-ID printing each event once; and the REPL over --server in a pty (tmux), with
// Ctrl-C cancelling a request the daemon has not answered. tests/shell/remote_cli_test.cc runs
// the same commands against the real `tink serve`.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <utility>  // before Boost.Asio (Boost 1.74 with g++ 12)

#include "support/run_command.h"
#include "support/temp_dir.h"

namespace tink {
namespace {

namespace http = boost::beast::http;
using boost::asio::ip::tcp;
using testing::CommandResult;
using testing::RunCommand;
using testing::ShellQuote;

using Request = http::request<http::string_body>;

// What the stand-in answers: a status, a body and whether to keep the connection. `truncate`:
// announce a longer body than is sent and close (a connection dropped mid-answer).
struct Answer {
  unsigned status = 200;
  std::string body;
  std::string content_type = "application/json";
  bool truncate = false;
};

Answer Error(unsigned status, const std::string& code, const std::string& message) {
  return {status, nlohmann::json{{"error", {{"code", code}, {"message", message}}}}.dump()};
}

// A daemon stand-in on 127.0.0.1:PORT: a thread per connection, its requests answered in order
// by the handler (which must be thread-safe); every request is recorded.
class FakeDaemon {
 public:
  explicit FakeDaemon(std::function<Answer(const Request&)> handler)
      : handler_(std::move(handler)),
        acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeDaemon() {
    stop_ = true;
    boost::system::error_code ec;
    tcp::socket wake(io_);
    wake.connect({boost::asio::ip::make_address("127.0.0.1"), port_}, ec);
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<Request> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  void Serve() {
    while (!stop_) {
      tcp::socket sock(io_);
      boost::system::error_code ec;
      acceptor_.accept(sock, ec);
      if (ec || stop_) break;
      connections_.emplace_back(
          [this, s = std::move(sock)]() mutable { Connection(std::move(s)); });
    }
    for (std::thread& t : connections_) t.join();
  }

  // Answers the requests of one connection until the client closes it.
  void Connection(tcp::socket sock) {
    boost::system::error_code ec;
    boost::beast::flat_buffer buf;
    while (true) {
      Request req;
      http::read(sock, buf, req, ec);
      if (ec) break;
      {
        std::lock_guard lock(mu_);
        requests_.push_back(req);
      }
      const Answer a = handler_(req);
      http::response<http::string_body> res{static_cast<http::status>(a.status), 11};
      res.set(http::field::content_type, a.content_type);
      res.body() = a.body;
      if (a.truncate) {
        // Headers announcing more than is sent, then the connection goes away.
        res.content_length(a.body.size() + 1000);
        http::response_serializer<http::string_body> sr(res);
        http::write_header(sock, sr, ec);
        boost::asio::write(sock, boost::asio::buffer(a.body), ec);
        break;
      }
      res.prepare_payload();
      http::write(sock, res, ec);
      if (ec) break;
    }
    sock.close(ec);
  }

  std::function<Answer(const Request&)> handler_;
  boost::asio::io_context io_;
  tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::vector<std::thread> connections_;  // joined when the accept loop ends
  std::mutex mu_;
  std::vector<Request> requests_;
};

std::string Target(const Request& r) { return std::string(r.target()); }
std::string Header(const Request& r, const char* name) { return std::string(r[name]); }

class RemoteClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(store_);
    std::ofstream(store_ + "/token") << "secret-from-store\n";
  }
  CommandResult Tink(const FakeDaemon& d, const std::string& args, const std::string& input = "",
                     const std::string& env = "") {
    return RunCommand("env -u TINKERBELL_SERVER -u TINKERBELL_TOKEN -u TINKERBELL_TOKEN_FILE " +
                          env + " " + TINK_BIN + " --store " + ShellQuote(store_) + " --server " +
                          d.url() + " " + args,
                      input);
  }
  testing::TempDir tmp_;
  std::string store_ = tmp_.Sub("store");
};

TEST_F(RemoteClientTest, AppendPostsTheValidatedBatchAndPrintsTheLsns) {
  FakeDaemon d([](const Request&) {
    return Answer{200, R"({"lsns":[41,42],"first_lsn":41,"last_lsn":42,"duplicate":false})"};
  });
  const std::string in =
      "{\"stream\":\"a\",\"type\":\"note\",\"data\":{\"text\":\"one\"}}\n\n"
      "{\"stream\":\"a\",\"type\":\"note\",\"data\":{\"text\":\"two\"},\"id\":\"x2\"}\n";
  CommandResult r = Tink(d, "append --expect 3", in);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "41\n42\n");
  CommandResult j = Tink(d,
                         "append --json --stream s/1 --type x.custom --id i1 --run r "
                         "--occurred 2026-01-02T03:04:05Z --causation 7 --data '{\"v\":1.50}'");
  ASSERT_EQ(j.exit_code, 0) << j.err;
  EXPECT_EQ(j.out, "{\"lsn\":41,\"duplicate\":false}\n{\"lsn\":42,\"duplicate\":false}\n");

  const auto reqs = d.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].method(), http::verb::post);
  EXPECT_EQ(Target(reqs[0]), "/v1/events?expected_version=3");
  EXPECT_EQ(Header(reqs[0], "Authorization"), "Bearer secret-from-store");
  EXPECT_EQ(reqs[0].body(),
            "{\"stream\":\"a\",\"type\":\"note\",\"data\":{\"text\":\"one\"}}\n"
            "{\"stream\":\"a\",\"type\":\"note\",\"data\":{\"text\":\"two\"},\"id\":\"x2\"}\n");
  EXPECT_EQ(Target(reqs[1]), "/v1/events");
  EXPECT_EQ(reqs[1].body(),
            "{\"stream\":\"s/1\",\"type\":\"x.custom\",\"data\":{\"v\":1.50},\"id\":\"i1\","
            "\"run\":\"r\",\"occurred\":\"2026-01-02T03:04:05Z\",\"causation\":7}\n");
}

TEST_F(RemoteClientTest, DuplicateAnswerIsReportedAsLocal) {
  FakeDaemon d([](const Request&) { return Answer{200, R"({"lsns":[5],"duplicate":true})"}; });
  CommandResult r = Tink(d, "append --stream a --type note --id same");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "5\n");
  EXPECT_EQ(r.err,
            "tink append: already in the store (same id); nothing written, original LSN below\n");
}

TEST_F(RemoteClientTest, ErrorAnswersAreOneLineWithTheExitCodesOfDesign6) {
  struct Case {
    Answer answer;
    int exit;
    std::string line;
  };
  const std::vector<Case> cases = {
      {Error(409, "conflict", "stream a: expected version 3, actual 5"), 2,
       "tink stats: stream a: expected version 3, actual 5 (HTTP 409)\n"},
      {Error(401, "unauthorized", "no bearer token"), 2,
       "tink stats: no bearer token (HTTP 401)\n"},
      {Error(403, "forbidden", "wrong token"), 2, "tink stats: wrong token (HTTP 403)\n"},
      {Error(500, "corruption", "segment 3 offset 4096: checksum mismatch at LSN 77"), 3,
       "tink stats: segment 3 offset 4096: checksum mismatch at LSN 77 (HTTP 500)\n"},
      {Error(500, "io_error", "fsync failed"), 4, "tink stats: fsync failed (HTTP 500)\n"},
      {Error(503, "overloaded", "too many connections"), 4,
       "tink stats: too many connections (HTTP 503)\n"},
      {Answer{502, "<html>bad gateway</html>", "text/html"}, 4,
       "tink stats: <html>bad gateway</html> (HTTP 502)\n"},
  };
  for (const Case& c : cases) {
    FakeDaemon d([&](const Request&) { return c.answer; });
    CommandResult r = Tink(d, "stats");
    EXPECT_EQ(r.exit_code, c.exit) << r.err;
    EXPECT_EQ(r.err, c.line);
    EXPECT_EQ(r.out, "");
  }
  // The same mapping for the other commands.
  FakeDaemon d([](const Request&) { return Error(500, "corruption", "damaged at LSN 9"); });
  for (const char* cmd : {"tasks", "report --run r", "log", "log --follow",
                          "append --stream a --type note", "shell -c runs"}) {
    CommandResult r = Tink(d, cmd);
    EXPECT_EQ(r.exit_code, 3) << cmd << ": " << r.err;
    // The shell prints a query's error as a local shell does (the daemon's line, no status).
    const bool shell = std::string_view(cmd).starts_with("shell");
    EXPECT_NE(r.err.find(shell ? "damaged at LSN 9\n" : "damaged at LSN 9 (HTTP 500)\n"),
              std::string::npos)
        << cmd << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << cmd << ": " << r.err;
  }
}

TEST_F(RemoteClientTest, ReadCommandsSendTheirFlagsAndPrintTheAnswer) {
  FakeDaemon d([](const Request& r) {
    const std::string t = Target(r);
    if (t.starts_with("/v1/stats")) {
      return Answer{200,
                    R"({"store":"S","store_id":"ab","events":2,"segments":1,"bytes":2048,)"
                    R"("first_lsn":1,"last_lsn":2,"first_time":"2026-01-01T00:00:00.000000000Z",)"
                    R"("last_time":"2026-01-01T00:00:01.000000000Z","torn_tail":false,)"
                    R"("projections_applied":2,"connections":3})"};
    }
    if (t.starts_with("/v1/tasks?runs=1&format=json")) {
      return Answer{200, R"([{"run":"ok1","status":"succeeded","started_lsn":1},)"
                         R"({"run":"bad1","status":"failed","started_lsn":5},)"
                         R"({"run":"ok2","status":"succeeded","started_lsn":9}])"};
    }
    return Answer{200, "answer of " + t + "\n", "text/plain"};
  });
  CommandResult stats = Tink(d, "stats --json");
  ASSERT_EQ(stats.exit_code, 0) << stats.err;
  // The daemon's own counters are left out: the shape of a local `stats --json`.
  EXPECT_EQ(stats.out,
            R"({"store":"S","store_id":"ab","events":2,"segments":1,"bytes":2048,"first_lsn":1,)"
            R"("last_lsn":2,"first_time":"2026-01-01T00:00:00.000000000Z",)"
            R"("last_time":"2026-01-01T00:00:01.000000000Z","torn_tail":false})"
            "\n");
  CommandResult text = Tink(d, "stats");
  EXPECT_EQ(text.out,
            "store       S\nstore id    ab\nevents      2\nsegments    1\n"
            "bytes       2048 (2.0 KiB)\n"
            "first       LSN 1 at 2026-01-01T00:00:00.000000000Z\n"
            "last        LSN 2 at 2026-01-01T00:00:01.000000000Z\n");

  CommandResult tasks =
      Tink(d, "tasks --run 'r 1' --task t/2 --as-of 2026-01-01T00:00:00Z --history --json");
  ASSERT_EQ(tasks.exit_code, 0) << tasks.err;
  EXPECT_EQ(tasks.out,
            "answer of /v1/tasks?format=json&run=r%201&task=t%2F2&as_of=2026-01-01T00%3A00%3A00Z"
            "&history=1\n");
  EXPECT_EQ(Tink(d, "tasks --runs").out, "answer of /v1/tasks?format=text&runs=1\n");
  EXPECT_EQ(Tink(d, "tasks --anomalies --run r").out,
            "answer of /v1/tasks?format=text&run=r&anomalies=1\n");
  EXPECT_EQ(Tink(d, "report --run r1 --json").out, "answer of /v1/runs/r1/report?format=json\n");
  EXPECT_EQ(Tink(d, "report --run 'a/b' --as-of 40").out,
            "answer of /v1/runs/a%2Fb/report?format=text&as_of=40\n");
  // Without --run: the most recent failed run, as a local report picks it.
  EXPECT_EQ(Tink(d, "report").out, "answer of /v1/runs/bad1/report?format=text\n");
  for (const Request& r : d.requests()) {
    EXPECT_EQ(r.method(), http::verb::get);
    EXPECT_EQ(Header(r, "Authorization"), "Bearer secret-from-store");
  }
  // The token of the environment wins over the store's.
  Tink(d, "stats", "", "TINKERBELL_TOKEN=from-env");
  EXPECT_EQ(Header(d.requests().back(), "Authorization"), "Bearer from-env");
}

TEST_F(RemoteClientTest, LogPrintsTheJsonlAnswerAsLocalDoes) {
  const std::string e1 =
      R"({"lsn":1,"time":"2026-01-01T00:00:00.000000000Z","id":"a","stream":"s","type":"note","data":{"text":"x"}})";
  const std::string e2 =
      R"({"lsn":2,"time":"2026-01-01T00:00:01.000000000Z","id":"b","stream":"s","type":"note","data":{}})";
  FakeDaemon d([&](const Request&) {
    return Answer{200, e1 + "\n" + e2 + "\n", "application/x-ndjson"};
  });
  CommandResult json = Tink(d,
                            "log --json --from 1 --to 9 --stream s --type note --run 'a b' "
                            "--since 2026-01-01T00:00:00Z");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_EQ(json.out, e1 + "\n" + e2 + "\n");
  EXPECT_EQ(Target(d.requests().back()),
            "/v1/events?from=1&to=9&stream=s&run=a%20b&type=note&since=2026-01-01T00%3A00%3A00Z");
  CommandResult text = Tink(d, "log");
  ASSERT_EQ(text.exit_code, 0) << text.err;
  // The text form of a local `tink log`: LSN, time, type, stream, data.
  char want[512];
  std::snprintf(want, sizeof(want), "%-6s %s  %-16s %-24s %s\n%-6s %s  %-16s %-24s %s\n", "1",
                "2026-01-01T00:00:00.000000000Z", "note", "s", "{\"text\":\"x\"}", "2",
                "2026-01-01T00:00:01.000000000Z", "note", "s", "{}");
  EXPECT_EQ(text.out, want);
}

TEST_F(RemoteClientTest, FollowReconnectsWithLastEventIdAndPrintsEachEventOnce) {
  auto ev = [](int lsn) {
    return "id: " + std::to_string(lsn) + "\nevent: event\ndata: {\"lsn\":" + std::to_string(lsn) +
           ",\"type\":\"note\"}\n\n";
  };
  std::atomic<int> calls{0};
  FakeDaemon d([&](const Request&) {
    switch (++calls) {
      case 1:  // two events and half of a third, then the connection drops
        return Answer{200, ": keepalive\n\n" + ev(1) + ev(2) + "id: 3\nevent: event\ndata: {\"l",
                      "text/event-stream", /*truncate=*/true};
      case 2:  // the daemon is restarting
        return Error(503, "overloaded", "shutting down");
      case 3:  // replays 2 (printed already), then 3 and 4; the stream ends
        return Answer{200, ev(2) + ev(3) + ev(4), "text/event-stream"};
      default:
        return Answer{200, ev(5), "text/event-stream"};
    }
  });
  CommandResult r = Tink(d, "log --json --follow --to 5");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "{\"lsn\":1,\"type\":\"note\"}\n{\"lsn\":2,\"type\":\"note\"}\n"
            "{\"lsn\":3,\"type\":\"note\"}\n{\"lsn\":4,\"type\":\"note\"}\n"
            "{\"lsn\":5,\"type\":\"note\"}\n");
  // One line for the drop (the 503 while reconnecting is retried quietly) and one for the
  // stream the daemon ended.
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 2) << r.err;
  EXPECT_NE(r.err.find("failed"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("closed the stream; reconnecting\n"), std::string::npos) << r.err;
  const auto reqs = d.requests();
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_EQ(Target(reqs[0]), "/v1/events?from=1&to=5&follow=1");
  EXPECT_EQ(Header(reqs[0], "Last-Event-ID"), "");
  EXPECT_EQ(Target(reqs[1]), "/v1/events?from=3&to=5&follow=1");
  EXPECT_EQ(Header(reqs[1], "Last-Event-ID"), "2");
  EXPECT_EQ(Header(reqs[2], "Last-Event-ID"), "2");
  EXPECT_EQ(Header(reqs[3], "Last-Event-ID"), "4");
}

TEST_F(RemoteClientTest, FollowStopsAtAnErrorEventOrAnErrorAtTheStart) {
  // The daemon's error event carries its Status text; an error object is understood too.
  FakeDaemon d([](const Request&) {
    return Answer{200,
                  "id: 1\nevent: event\ndata: {\"lsn\":1}\n\nevent: error\ndata: "
                  "Corruption: segment 2: bad checksum\n\n",
                  "text/event-stream", /*truncate=*/true};
  });
  CommandResult r = Tink(d, "log --json --follow");
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_EQ(r.out, "{\"lsn\":1}\n");
  EXPECT_EQ(r.err, "tink log: Corruption: segment 2: bad checksum\n");
  FakeDaemon io([](const Request&) {
    return Answer{200,
                  "event: error\ndata: {\"error\":{\"code\":\"io_error\",\"message\":\"EIO\"}}\n\n",
                  "text/event-stream"};
  });
  CommandResult e = Tink(io, "log --json --follow");
  EXPECT_EQ(e.exit_code, 4) << e.err;
  EXPECT_EQ(e.err, "tink log: EIO\n");
  FakeDaemon denied([](const Request&) { return Error(403, "forbidden", "wrong token"); });
  CommandResult f = Tink(denied, "log --follow");
  EXPECT_EQ(f.exit_code, 2) << f.err;
  EXPECT_EQ(f.err, "tink log: wrong token (HTTP 403)\n");
}

TEST_F(RemoteClientTest, ShellPostsEachStatementAndReportsErrorsAsLocal) {
  FakeDaemon d([](const Request& r) {
    const auto q = nlohmann::json::parse(r.body());
    const std::string text = q["query"];
    if (text.starts_with("runs | sort")) {
      return Error(400, "query_error", "error at 1:8: sort needs a field");
    }
    if (text == "boom") return Error(500, "io_error", "error: IO error: disk on fire");
    if (text == "busy") return Error(503, "overloaded", "too many queries waiting");
    return Answer{200, "[" + q["format"].get<std::string>() + "] " + text + "\n", "text/plain"};
  });
  CommandResult r = Tink(d, "shell --format csv -c 'runs | count; .mode jsonl\nevents\n| count'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "[csv] runs | count\n[jsonl] events\n| count\n");
  const auto reqs = d.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(Target(reqs[0]), "/v1/query");
  EXPECT_EQ(reqs[0].method(), http::verb::post);
  EXPECT_EQ(reqs[0].body(), R"({"format":"csv","query":"runs | count"})");

  // The daemon counts from the statement's start; the shell from the input's, as local.
  CommandResult e = Tink(d, "shell -c 'runs | count;  runs | sort'");
  EXPECT_EQ(e.exit_code, 2);
  EXPECT_EQ(e.out, "[table] runs | count\n");
  EXPECT_EQ(e.err, "error at 1:23: sort needs a field\n");
  std::ofstream(tmp_.Sub("q.tql")) << "runs | count\n\n\n  runs | sort\n";
  CommandResult f = Tink(d, "shell " + ShellQuote(tmp_.Sub("q.tql")));
  EXPECT_EQ(f.exit_code, 2);
  EXPECT_EQ(f.err, tmp_.Sub("q.tql") + ": error at 4:10: sort needs a field\n");

  // The daemon's session failing prints its error line as a local session would; an error of
  // the daemon itself names the HTTP status.
  CommandResult io = Tink(d, "shell -c boom");
  EXPECT_EQ(io.exit_code, 4);
  EXPECT_EQ(io.err, "error: IO error: disk on fire\n");
  CommandResult busy = Tink(d, "shell -c busy");
  EXPECT_EQ(busy.exit_code, 4);
  EXPECT_EQ(busy.err, "tink shell: too many queries waiting (HTTP 503)\n");
  CommandResult open = Tink(d, "shell -c '.open elsewhere'");
  EXPECT_EQ(open.exit_code, 2);
  EXPECT_NE(open.err.find(".open: not available with --server"), std::string::npos) << open.err;
  // Dot-commands that only change settings here work, and .schema needs no store.
  CommandResult schema = Tink(d, "shell -c '.schema segments'");
  EXPECT_EQ(schema.exit_code, 0) << schema.err;
  EXPECT_TRUE(schema.out.starts_with("segments: ")) << schema.out;
}

// The REPL over --server, driven through a pty as tests/shell/shell_repl_test.cc drives it.
TEST_F(RemoteClientTest, ReplSendsQueriesAndCtrlCCancelsARequestInFlight) {
  ASSERT_EQ(RunCommand("command -v tmux").exit_code, 0)
      << "tmux is needed to drive the REPL (scripts/deps installs it)";
  std::atomic<bool> release{false};
  FakeDaemon d([&](const Request& r) {
    const std::string text = nlohmann::json::parse(r.body())["query"];
    if (text == "slow") {
      // Answers only when the test lets it (after the client gave up on it).
      for (int i = 0; i < 600 && !release; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      return Answer{200, "late\n", "text/plain"};
    }
    if (text == "runs | sort") return Error(400, "query_error", "error at 1:8: sort needs a field");
    return Answer{
        200,
        "<" + nlohmann::json::parse(r.body())["format"].get<std::string>() + ":" + text + ">\n",
        "text/plain"};
  });
  const std::string socket = tmp_.Sub("tmux.sock"), exit_file = tmp_.Sub("exit");
  auto tmux = [&](const std::string& args) {
    return RunCommand("tmux -S " + ShellQuote(socket) + " -f /dev/null " + args);
  };
  auto screen = [&] { return tmux("capture-pane -p -J -t t -S -200").out; };
  auto wait_for = [&](const std::string& text) {
    for (int i = 0; i < 400; ++i) {
      if (screen().find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  };
  auto type = [&](const std::string& text, const std::string& key) {
    if (!text.empty()) tmux("send-keys -t t -l " + ShellQuote(text));
    tmux("send-keys -t t " + key);
  };
  const std::string cmd = "env -u TINKERBELL_SERVER -u TINKERBELL_TOKEN TERM=xterm TINK_HISTORY=" +
                          ShellQuote(tmp_.Sub("history")) + " " + TINK_BIN + " --store " +
                          ShellQuote(store_) + " shell --server " + d.url() + "; echo $? > " +
                          ShellQuote(exit_file);
  ASSERT_EQ(tmux("new-session -d -s t -x 150 -y 40 " + ShellQuote(cmd)).exit_code, 0);
  ASSERT_TRUE(wait_for("tink> ")) << screen();

  type("runs", "Enter");
  type("", "Enter");
  ASSERT_TRUE(wait_for("<table:runs>")) << screen();
  type(".mode jsonl", "Enter");
  type("tasks", "Enter");
  type("", "Enter");
  ASSERT_TRUE(wait_for("<jsonl:tasks>")) << screen();
  // A query error: the caret under the column, then the error line; the REPL stays.
  type("runs | sort", "Enter");
  type("", "Enter");
  ASSERT_TRUE(wait_for("error at 1:8: sort needs a field")) << screen();
  ASSERT_TRUE(wait_for("         ^")) << screen();
  type(".open elsewhere", "Enter");
  ASSERT_TRUE(wait_for(".open: not available with --server")) << screen();

  // Ctrl-C while the daemon has not answered: the request is dropped, the prompt comes back.
  type("slow", "Enter");
  type("", "Enter");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  type("", "C-c");
  ASSERT_TRUE(wait_for("cancelled")) << screen();
  release = true;
  type("events", "Enter");
  type("", "Enter");
  ASSERT_TRUE(wait_for("<jsonl:events>")) << screen();
  EXPECT_EQ(screen().find("late"), std::string::npos) << screen();
  type("", "C-d");
  std::string rc;
  for (int i = 0; i < 200 && rc.empty(); ++i) {
    rc = testing::ReadFile(exit_file);
    if (rc.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(rc, "0\n") << screen();
  tmux("kill-server");
}

}  // namespace
}  // namespace tink
