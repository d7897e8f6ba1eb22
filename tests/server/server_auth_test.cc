// Authentication and the start of `tink serve` (docs/http.md, "Authentication" and the flags):
// every request but GET /healthz needs `Authorization: Bearer TOKEN` (none or malformed: 401
// unauthorized; a wrong token: 403 forbidden), over TCP and the UNIX socket alike, and a refused
// request writes nothing; STORE/token is created 0600 with 32 hex digits and kept across
// restarts; --token-file replaces it and is refused at start when group or others can read it;
// --listen none serves the UNIX socket only (created 0600, a stale socket file replaced); a
// non-loopback --listen without --public is refused.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>

#include "server/server_test_util.h"

namespace tink::testing {
namespace {

struct Endpoint {
  std::string method;
  std::string target;
  std::string body;
};

// One request for every authenticated endpoint of docs/http.md.
std::vector<Endpoint> AuthenticatedEndpoints() {
  return {
      {"GET", "/v1/events", ""},
      {"GET", "/v1/events?follow=1", ""},
      {"POST", "/v1/events", Note("auth/s", "must not be written")},
      {"POST", "/v1/query", R"({"query":"events | count"})"},
      {"GET", "/v1/tasks", ""},
      {"GET", "/v1/runs/r1/report", ""},
      {"GET", "/v1/stats", ""},
      {"GET", "/metrics", ""},
  };
}

mode_t Mode(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode;
}

class AuthTest : public ServerTest {};

TEST_F(AuthTest, HealthzNeedsNoTokenOnBothListeners) {
  ASSERT_TRUE(Start()) << server_.error();
  for (const HttpEndpoint& ep : {server_.tcp(), server_.unix_socket()}) {
    SCOPED_TRACE(ep.ToString());
    const HttpResponse r = HttpRequest(ep, "GET", "/healthz");
    ASSERT_EQ(r.status, 200) << r.Describe();
    const nlohmann::json j = ParseJson(r.body);
    EXPECT_EQ(j.value("status", ""), "ok") << r.body;
    ASSERT_TRUE(j.contains("last_lsn") && j["last_lsn"].is_number_unsigned()) << r.body;
    EXPECT_EQ(j["last_lsn"].get<uint64_t>(), 0u) << r.body;
  }
  Append(Note("h/s", "one") + "\n" + Note("h/s", "two") + "\n");
  const nlohmann::json j = ParseJson(HttpRequest(server_.unix_socket(), "GET", "/healthz").body);
  EXPECT_EQ(j.value("last_lsn", uint64_t{0}), 2u) << j.dump();
}

TEST_F(AuthTest, NoOrMalformedAuthorizationIs401) {
  ASSERT_TRUE(Start()) << server_.error();
  const std::vector<HttpHeaders> bad = {
      {},
      {{"Authorization", "Basic dXNlcjpwYXNz"}},
      {{"Authorization", "Bearer"}},
      {{"Authorization", "Bearer "}},
      {{"Authorization", server_.token()}},  // the token without the scheme
      {{"Authorization", "Token " + server_.token()}},
  };
  for (const HttpEndpoint& ep : {server_.tcp(), server_.unix_socket()}) {
    for (const Endpoint& e : AuthenticatedEndpoints()) {
      for (const HttpHeaders& h : bad) {
        SCOPED_TRACE(ep.ToString() + " " + e.method + " " + e.target + " with " +
                     (h.empty() ? "no Authorization" : h[0].second));
        const HttpResponse r = HttpRequest(ep, e.method, e.target, e.body, h);
        EXPECT_TRUE(IsError(r, 401, "unauthorized"));
      }
    }
  }
  EXPECT_TRUE(Events().empty()) << "a refused POST wrote events";
}

TEST_F(AuthTest, WrongTokenIs403) {
  ASSERT_TRUE(Start()) << server_.error();
  const std::string t = server_.token();
  ASSERT_FALSE(t.empty());
  std::string flipped = t;
  flipped.back() = flipped.back() == '0' ? '1' : '0';
  const std::vector<std::string> wrong = {flipped, t.substr(0, t.size() - 1), t + "0",
                                          "0123456789abcdef0123456789abcdef"};
  for (const HttpEndpoint& ep : {server_.tcp(), server_.unix_socket()}) {
    for (const Endpoint& e : AuthenticatedEndpoints()) {
      for (const std::string& w : wrong) {
        if (w == t) continue;
        SCOPED_TRACE(ep.ToString() + " " + e.method + " " + e.target + " with token " + w);
        const HttpResponse r = HttpRequest(ep, e.method, e.target, e.body, Bearer(w));
        EXPECT_TRUE(IsError(r, 403, "forbidden"));
      }
    }
  }
  EXPECT_TRUE(Events().empty()) << "a refused POST wrote events";
}

// docs/http.md: "An unauthenticated request is answered before its body is read, and the
// connection is then closed." A client announcing a large body gets its 401/403 without sending
// it, then the close.
TEST_F(AuthTest, UnauthenticatedRequestIsAnsweredBeforeItsBodyThenClosed) {
  ASSERT_TRUE(Start()) << server_.error();
  for (const HttpEndpoint& ep : {server_.tcp(), server_.unix_socket()}) {
    for (const std::string auth : {"", "Authorization: Bearer wrong-token\r\n"}) {
      SCOPED_TRACE(ep.ToString() + (auth.empty() ? " no token" : " wrong token"));
      HttpConnection c(ep, std::chrono::milliseconds(10000));
      ASSERT_TRUE(c.WriteRaw("POST /v1/events HTTP/1.1\r\nHost: localhost\r\n" + auth +
                             "Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n"));
      const HttpResponse r = c.ReadResponse();
      if (auth.empty()) {
        EXPECT_TRUE(IsError(r, 401, "unauthorized"));
      } else {
        EXPECT_TRUE(IsError(r, 403, "forbidden"));
      }
      EXPECT_TRUE(c.WaitClosed(std::chrono::milliseconds(10000))) << "the connection stayed open";
    }
  }
  EXPECT_TRUE(Events().empty());
}

TEST_F(AuthTest, RightTokenIsServedOnBothListeners) {
  ASSERT_TRUE(Start()) << server_.error();
  for (const HttpEndpoint& ep : {server_.tcp(), server_.unix_socket()}) {
    SCOPED_TRACE(ep.ToString());
    const HttpResponse a =
        HttpRequest(ep, "POST", "/v1/events", Note("auth/ok", ep.ToString()), server_.auth());
    EXPECT_EQ(a.status, 200) << a.Describe();
    const HttpResponse s = HttpRequest(ep, "GET", "/v1/stats", "", server_.auth());
    EXPECT_EQ(s.status, 200) << s.Describe();
  }
  EXPECT_EQ(Events().size(), 2u);
}

TEST_F(AuthTest, StoreTokenIsCreated0600AndKept) {
  ASSERT_TRUE(Start()) << server_.error();
  const std::string path = store_ + "/token";
  EXPECT_EQ(Mode(path) & 07777, 0600u) << path;
  const std::string token = server_.token();
  EXPECT_TRUE(std::regex_match(token, std::regex("[0-9a-f]{32}"))) << "token '" << token << "'";
  ASSERT_EQ(Stop(), 0) << server_.stderr_text();
  ASSERT_TRUE(Start()) << server_.error();
  EXPECT_EQ(server_.token(), token) << "a restart replaced STORE/token";
  const HttpResponse r = Get("/v1/stats");
  EXPECT_EQ(r.status, 200) << r.Describe();
}

TEST_F(AuthTest, TokenFileReadableByOthersIsRefusedAtStart) {
  for (const mode_t mode : {0644, 0640, 0604}) {
    char octal[8];
    std::snprintf(octal, sizeof octal, "%04o", static_cast<unsigned>(mode));
    SCOPED_TRACE(std::string("mode ") + octal);
    const std::string file = tmp_.Sub("token-" + std::to_string(mode));
    std::ofstream(file) << "an-agent-token-0123456789";
    ASSERT_EQ(::chmod(file.c_str(), mode), 0);
    EXPECT_FALSE(server_.Start(Options({"--token-file", file})))
        << "tink serve started with a token file of mode " << octal;
    const int code = server_.exit_code();
    EXPECT_GT(code, 0) << server_.stderr_text();
    EXPECT_LT(code, 128) << "killed by a signal: " << server_.stderr_text();
    const std::string err = server_.stderr_text();
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << "want one clear line: " << err;
    EXPECT_NE(err.find(file), std::string::npos) << "the line does not name the file: " << err;
    EXPECT_EQ(err.find("listening on"), std::string::npos) << err;
  }
}

TEST_F(AuthTest, TokenFileIsTheTokenAccepted) {
  const std::string file = tmp_.Sub("token");
  const std::string token = "agent-fleet-token-7f3a9c";
  std::ofstream(file) << token;
  ASSERT_EQ(::chmod(file.c_str(), 0600), 0);
  ASSERT_TRUE(Start({"--token-file", file})) << server_.error();
  const HttpResponse ok = HttpRequest(server_.tcp(), "GET", "/v1/stats", "", Bearer(token));
  EXPECT_EQ(ok.status, 200) << ok.Describe();
  const HttpResponse unix_ok =
      HttpRequest(server_.unix_socket(), "POST", "/v1/events", Note("tf/s", "x"), Bearer(token));
  EXPECT_EQ(unix_ok.status, 200) << unix_ok.Describe();
  const HttpResponse wrong =
      HttpRequest(server_.tcp(), "GET", "/v1/stats", "", Bearer("agent-fleet-token-7f3a9d"));
  EXPECT_TRUE(IsError(wrong, 403, "forbidden"));
  // STORE/token, if the server made one anyway, is not what it accepts now.
  if (!server_.token().empty() && server_.token() != token) {
    const HttpResponse store_token =
        HttpRequest(server_.tcp(), "GET", "/v1/stats", "", Bearer(server_.token()));
    EXPECT_TRUE(IsError(store_token, 403, "forbidden"));
  }
}

TEST_F(AuthTest, UnixSocketOnlyIsCreated0600) {
  ServerOptions o = Options();
  o.listen = "none";
  ASSERT_TRUE(server_.Start(o)) << server_.error();
  EXPECT_TRUE(S_ISSOCK(Mode(socket_))) << socket_;
  EXPECT_EQ(Mode(socket_) & 0777, 0600u);
  const HttpResponse h = HttpRequest(server_.unix_socket(), "GET", "/healthz");
  EXPECT_EQ(h.status, 200) << h.Describe();
  const HttpResponse a = HttpRequest(server_.unix_socket(), "POST", "/v1/events",
                                     Note("unix/s", "only"), server_.auth());
  EXPECT_EQ(a.status, 200) << a.Describe();
  EXPECT_EQ(server_.port(), 0);
  EXPECT_EQ(server_.ready_line().find("http://"), std::string::npos)
      << "--listen none, but the ready line names a TCP address: " << server_.ready_line();
}

TEST_F(AuthTest, StaleSocketFileIsReplaced) {
  // A socket file left by a process that died: bound, never unlinked.
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", socket_.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ::close(fd);
  ASSERT_TRUE(S_ISSOCK(Mode(socket_)));
  ASSERT_TRUE(Start()) << server_.error();
  const HttpResponse h = HttpRequest(server_.unix_socket(), "GET", "/healthz");
  EXPECT_EQ(h.status, 200) << h.Describe();
}

TEST_F(AuthTest, NonLoopbackListenNeedsPublic) {
  ServerOptions o = Options();
  o.listen = "0.0.0.0:0";
  EXPECT_FALSE(server_.Start(o)) << "tink serve bound 0.0.0.0 without --public";
  EXPECT_GT(server_.exit_code(), 0) << server_.stderr_text();
  EXPECT_LT(server_.exit_code(), 128) << server_.stderr_text();
  const std::string err = server_.stderr_text();
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << "want one clear line: " << err;
  EXPECT_NE(err.find("--public"), std::string::npos) << err;
}

// The daemon is the store's only writer: a second `tink serve` on the same store is refused at
// start (one line, a non-zero exit) and the first goes on serving.
TEST_F(AuthTest, SecondDaemonOnTheSameStoreIsRefused) {
  ASSERT_TRUE(Start()) << server_.error();
  Append(Note("one/s", "x"));
  TinkServer second(kTinkBin);
  ServerOptions o = Options();
  o.socket = tmp_.Sub("second.sock");
  EXPECT_FALSE(second.Start(o)) << "two daemons on one store";
  EXPECT_GT(second.exit_code(), 0) << second.stderr_text();
  EXPECT_LT(second.exit_code(), 128) << second.stderr_text();
  const std::string err = second.stderr_text();
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << "want one clear line: " << err;
  EXPECT_NE(err.find(store_), std::string::npos) << "the line does not name the store: " << err;
  const HttpResponse h = HttpRequest(server_.tcp(), "GET", "/healthz");
  EXPECT_EQ(h.status, 200) << h.Describe();
  Append(Note("one/s", "y"));
  EXPECT_EQ(Events().size(), 2u);
}

// A log damaged in the middle (a bad record followed by valid ones) is corruption: the daemon
// does not open it for writing and says so at start (DESIGN.md: exit 3, naming where).
TEST_F(AuthTest, CorruptLogIsRefusedAtStart) {
  ASSERT_TRUE(Start()) << server_.error();
  std::string batch;
  for (int i = 0; i < 20; ++i) {
    batch += Note("c/s", i == 5 ? "DAMAGE-THIS-EVENT-TEXT" : "event " + std::to_string(i)) + "\n";
  }
  Append(batch);
  ASSERT_EQ(Stop(), 0) << server_.stderr_text();
  // Flip a byte inside event 6's text in its segment (FlatBuffers keep strings as they are).
  bool damaged = false;
  for (const auto& entry : std::filesystem::directory_iterator(store_ + "/log")) {
    std::string bytes = ReadFile(entry.path().string());
    const size_t at = bytes.find("DAMAGE-THIS-EVENT-TEXT");
    if (at == std::string::npos) continue;
    bytes[at + 3] ^= 0x20;
    std::ofstream(entry.path(), std::ios::binary | std::ios::trunc) << bytes;
    damaged = true;
  }
  ASSERT_TRUE(damaged) << "the event's text was not found in " << store_ << "/log";
  EXPECT_FALSE(Start()) << "tink serve opened a corrupt log for writing";
  EXPECT_EQ(server_.exit_code(), 3) << server_.stderr_text();
  const std::string err = server_.stderr_text();
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << "want one clear line: " << err;
  EXPECT_NE(err.find(".seg"), std::string::npos) << "the line does not name the segment: " << err;
}

}  // namespace
}  // namespace tink::testing
