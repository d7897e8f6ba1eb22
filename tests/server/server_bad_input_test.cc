// Bad input never gets a 5xx and never changes what is stored (docs/http.md, "Errors"): malformed
// JSON, truncated bodies (Content-Length larger than what is sent, then close), bodies over
// --max-body (413, with Content-Length and chunked), a slowloris client dribbling its headers a
// byte per 100 ms (disconnected after --header-timeout, while other clients are served),
// unauthenticated writes, and bytes that are not HTTP at all (a 4xx or the connection closed).
// After each, /healthz answers 200 and the log is byte for byte what it was.
#include <atomic>
#include <random>
#include <thread>

#include "server/server_test_util.h"

namespace tink::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

constexpr int kMaxBody = 4096;

class BadInputTest : public ServerTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(Start({"--max-body", std::to_string(kMaxBody)})) << server_.error();
    Append(Note("before/a", "one", "before-1") + "\n" + Note("before/b", "two", "before-2") + "\n" +
           Envelope("run/1", "run.started", {{"name", "r"}}, "before-3", "1") + "\n");
    ASSERT_NO_FATAL_FAILURE(Snapshot());
  }

  void Snapshot() {
    const HttpResponse r = Get("/v1/events");
    ASSERT_EQ(r.status, 200) << r.Describe();
    stored_ = r.body;
  }

  // The server is up and the log unchanged.
  void ExpectUnharmed() {
    const HttpResponse h = HttpRequest(server_.tcp(), "GET", "/healthz");
    EXPECT_EQ(h.status, 200) << h.Describe() << "\nserver stderr: " << server_.stderr_text();
    const HttpResponse r = Get("/v1/events");
    EXPECT_EQ(r.status, 200) << r.Describe();
    EXPECT_EQ(r.body, stored_) << "what was stored changed";
    EXPECT_TRUE(server_.running());
  }

  std::string RawHead(const std::string& method, const std::string& target,
                      const std::string& more_headers) {
    return method + " " + target + " HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " +
           server_.token() + "\r\n" + more_headers + "\r\n";
  }

  std::string stored_;
};

TEST_F(BadInputTest, MalformedJson) {
  // Under --max-body, so they are parsed (a body over it is the 413 test's business).
  const std::string deep(3000, '[');
  const std::string nul_in_string =
      std::string(R"({"stream":"s","type":"note","data":{"text":"a)") + '\0' + "b\"}}";
  const std::vector<std::string> bodies = {
      "{",
      R"({"stream":"s","type":"note","data":{"text":"x"})",
      R"({"stream":"s","type":"note","data":{"text":"x"}}})",
      R"({"stream":"s" "type":"note"})",
      "\xff\xfe",
      nul_in_string,
      R"({"stream":"s","type":"note","data":{"n":1e999999}})",
      deep,
      std::string(2000, ' '),
      "\n\n\n",
  };
  for (const std::string& body : bodies) {
    SCOPED_TRACE(body.substr(0, 60));
    const HttpResponse e = Post("/v1/events", body, {{"Content-Type", "application/json"}});
    EXPECT_TRUE(IsClientError(e));
    const HttpResponse q = Post("/v1/query", body, {{"Content-Type", "application/json"}});
    EXPECT_TRUE(IsClientError(q));
  }
  // A batch whose last line is cut: nothing of it is written.
  const std::string cut = Note("s", "complete", "cut-1") + "\n" + R"({"stream":"s","type":"no)";
  EXPECT_TRUE(IsClientError(Post("/v1/events", cut)));
  ExpectUnharmed();
}

TEST_F(BadInputTest, TruncatedBodies) {
  // A complete, valid envelope, but the request claims more: the server must wait for the rest
  // and, when the client goes away, store nothing.
  const std::string valid = Note("truncated", "must not be stored", "trunc-1");
  for (const bool half_close : {true, false}) {
    SCOPED_TRACE(half_close ? "half-close, then read" : "close");
    HttpConnection c(server_.tcp());
    ASSERT_TRUE(c.WriteRaw(RawHead("POST", "/v1/events",
                                   "Content-Type: application/json\r\nContent-Length: " +
                                       std::to_string(valid.size() + 200) + "\r\n") +
                           valid));
    if (half_close) {
      c.ShutdownSend();
      const HttpResponse r = c.ReadResponse();
      // Either a 4xx answer or the connection closed without one; never a 200.
      if (r.status != 0) {
        EXPECT_TRUE(IsClientError(r));
      } else {
        EXPECT_TRUE(r.peer_closed) << r.error;
      }
    }
    c.Close();
  }
  // Chunked, cut inside a chunk.
  {
    HttpConnection c(server_.unix_socket());
    ASSERT_TRUE(c.WriteRaw(RawHead("POST", "/v1/events", "Transfer-Encoding: chunked\r\n") +
                           "1000\r\n" + valid));
    c.ShutdownSend();
    const HttpResponse r = c.ReadResponse();
    if (r.status != 0) {
      EXPECT_TRUE(IsClientError(r));
    } else {
      EXPECT_TRUE(r.peer_closed) << r.error;
    }
  }
  // A body cut in the middle of a JSONL batch whose first line is whole.
  {
    const std::string batch = valid + "\n" + Note("truncated", "second", "trunc-2") + "\n";
    HttpConnection c(server_.tcp());
    ASSERT_TRUE(c.WriteRaw(
        RawHead("POST", "/v1/events", "Content-Length: " + std::to_string(batch.size()) + "\r\n") +
        batch.substr(0, valid.size() + 10)));
    c.Close();
  }
  ExpectUnharmed();
  // The daemon noticed the clients going away: a full request on a new connection is served.
  const json ok = Append(Note("after", "x"));
  EXPECT_TRUE(ok.is_object());
}

TEST_F(BadInputTest, BodiesOverMaxBodyAre413) {
  std::string big;
  while (big.size() <= static_cast<size_t>(kMaxBody)) {
    big += Note("big", "a line of a batch over the limit", "") + "\n";
  }
  EXPECT_TRUE(IsError(Post("/v1/events", big), 413, "too_large"));
  EXPECT_TRUE(IsError(Post("/v1/query", json({{"query", "events | count"}, {"pad", big}}).dump()),
                      413, "too_large"));
  {
    HttpConnection c(server_.tcp());
    EXPECT_TRUE(IsError(c.Request("POST", "/v1/events", big, server_.auth(), /*chunked=*/true), 413,
                        "too_large"));
  }
  // A huge Content-Length is refused from the header alone (the body is never sent).
  {
    HttpConnection c(server_.unix_socket());
    ASSERT_TRUE(c.WriteRaw(RawHead("POST", "/v1/events", "Content-Length: 10000000000000\r\n")));
    EXPECT_TRUE(IsError(c.ReadResponse(), 413, "too_large"));
  }
  // Exactly at the limit is not too large (what it holds may be bad: any answer but 413/5xx).
  std::string at_limit = Note("limit", "x");
  at_limit += std::string(kMaxBody - at_limit.size(), ' ');
  const HttpResponse r = Post("/v1/events", at_limit);
  EXPECT_NE(r.status, 413) << r.Describe();
  EXPECT_LT(r.status, 500) << r.Describe();
  if (r.status == 200) {
    ASSERT_NO_FATAL_FAILURE(Snapshot());
  }
  ExpectUnharmed();
}

TEST_F(BadInputTest, SlowlorisHeadersTimeOutWhileOthersAreServed) {
  // docs/http.md: a client that does not send its headers within --header-timeout (10 s by
  // default; 1 s here) is disconnected without an answer. Its request line and ~400 bytes of
  // headers dribbled at a byte per 100 ms would take 40 s, so the daemon must cut it first.
  ASSERT_EQ(Stop(), 0) << server_.stderr_text();
  ASSERT_TRUE(Start({"--max-body", std::to_string(kMaxBody), "--header-timeout", "1000"}))
      << server_.error();
  const std::string head =
      "POST /v1/events HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + std::string(400, 'z') +
      "\r\n\r\n";
  std::atomic<bool> finished{false};
  HttpResponse answer;
  size_t sent = 0;
  std::string write_error;
  std::thread slow([&] {
    HttpConnection c(server_.tcp(), milliseconds(5000));
    std::string err;
    if (!c.Connect(&err)) {
      write_error = err;
      finished = true;
      return;
    }
    for (; sent < head.size(); ++sent) {
      // The pause between bytes is a poll: an answer (or the close) ends the dribble.
      if (c.WaitReadable(milliseconds(100))) break;
      if (!c.WriteRaw(std::string_view(head).substr(sent, 1), &err)) {
        write_error = err;
        break;
      }
    }
    answer = c.ReadResponse();
    finished = true;
  });
  // Meanwhile other clients are served, over and over.
  int served = 0;
  while (!finished.load()) {
    const HttpResponse h = HttpRequest(server_.unix_socket(), "GET", "/healthz");
    EXPECT_EQ(h.status, 200) << h.Describe();
    if (served % 10 == 0) {
      const json a = Append(Note("meanwhile", std::to_string(served)));
      EXPECT_TRUE(a.is_object());
    }
    ++served;
    std::this_thread::sleep_for(milliseconds(50));
  }
  slow.join();
  EXPECT_GT(served, 0);
  EXPECT_LT(sent, head.size()) << "the server let a client take " << head.size() / 10
                               << " s over its headers";
  EXPECT_EQ(answer.status, 0) << "want a disconnect without an answer, got " << answer.Describe();
  EXPECT_TRUE(answer.peer_closed) << answer.error << " (write: " << write_error << ")";
  ASSERT_NO_FATAL_FAILURE(Snapshot());
  ExpectUnharmed();
}

TEST_F(BadInputTest, UnauthenticatedWritesChangeNothing) {
  const std::string body = Note("unauth", "must not be stored", "unauth-1");
  EXPECT_TRUE(IsError(HttpRequest(server_.tcp(), "POST", "/v1/events", body), 401, "unauthorized"));
  EXPECT_TRUE(IsError(
      HttpRequest(server_.unix_socket(), "POST", "/v1/events", body, Bearer("not-the-token")), 403,
      "forbidden"));
  // A refused request on a keep-alive connection: the next request on it is judged on its own
  // (or, had the server closed it, it would have said `Connection: close` and the client would
  // reconnect).
  HttpConnection c(server_.tcp());
  EXPECT_TRUE(IsError(c.Request("POST", "/v1/events", body), 401, "unauthorized"));
  const HttpResponse next = c.Request("GET", "/v1/stats", "", server_.auth());
  EXPECT_EQ(next.status, 200) << next.Describe();
  ExpectUnharmed();
}

TEST_F(BadInputTest, BytesThatAreNotHttp) {
  std::mt19937 rng(20261206);
  std::string random_bytes(4096, '\0');
  for (char& ch : random_bytes) ch = static_cast<char>(rng());
  const std::string tls_client_hello(
      "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\x5b\x90\x9d\x9b\x72\x0b\xbc\x0c\xbc\x2b\x92"
      "\xa8\x48\x97\xcf\xbd\x39\x04\xcc\x16\x0a\x85\x03\x90\x9f\x77\x04\x33\xd4\xde\x00\x00\x20",
      44);
  const std::vector<std::pair<std::string, std::string>> inputs = {
      {"random bytes", random_bytes},
      {"TLS ClientHello", tls_client_hello},
      {"words", "HELLO THERE\r\n\r\n"},
      {"no version", "GET /healthz\r\n\r\n"},
      {"header without colon", "GET /healthz HTTP/1.1\r\nHost x\r\n\r\n"},
      {"negative length", "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n"},
      {"two lengths",
       "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
       "Content-Length: 6\r\n\r\nhello!"},
      {"NUL in the request line",
       std::string("GET /hea") + '\0' + "lthz HTTP/1.1\r\nHost: x\r\n\r\n"},
      {"huge header",
       "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(200000, 'b') + "\r\n\r\n"},
      {"huge target",
       "GET /v1/events?stream=" + std::string(100000, 's') + " HTTP/1.1\r\nHost: x\r\n\r\n"},
      {"bad chunk size",
       "POST /v1/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
       "zz\r\nhello\r\n0\r\n\r\n"},
  };
  for (const auto& [name, bytes] : inputs) {
    SCOPED_TRACE(name);
    HttpConnection c(server_.tcp(), milliseconds(15000));
    std::string err;
    // The server may close before it has read everything (a large input): a failed write is
    // such a close.
    if (!c.WriteRaw(bytes, &err)) continue;
    const HttpResponse r = c.ReadResponse();
    if (r.status != 0) {
      EXPECT_TRUE(IsClientError(r));
    } else {
      EXPECT_TRUE(r.peer_closed) << "neither an answer nor a close: " << r.error;
    }
  }
  ExpectUnharmed();
}

}  // namespace
}  // namespace tink::testing
