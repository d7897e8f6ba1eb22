// An HTTP/1.1 client for the tests of `tink serve` (tests/server/), over loopback TCP or a UNIX
// socket, built on Boost.Beast: Beast writes the requests and parses the answers (no hand-written
// HTTP). Every call blocks until it is done or its time is up, so a test can never hang on the
// server: Beast's synchronous reads cannot time out, so each call runs Beast's async operation on
// a private io_context with the stream's expiry (beast::basic_stream) and returns when that
// operation completes. A timed-out or failed connection is closed and reported, never retried:
// a test that wants a retry (e.g. of an append whose answer was lost) does it itself.
//
// HttpConnection and SseReader are not thread-safe: one per thread. They own their sockets.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tink::testing {

// Where a server listens: TCP (host:port) when `host` is set, else the UNIX socket `unix_path`.
struct HttpEndpoint {
  std::string host;
  uint16_t port = 0;
  std::string unix_path;

  static HttpEndpoint Tcp(std::string host, uint16_t port) { return {std::move(host), port, ""}; }
  static HttpEndpoint Unix(std::string path) { return {"", 0, std::move(path)}; }
  bool is_unix() const { return host.empty(); }
  std::string ToString() const;  // "127.0.0.1:7070" or "unix:/path"
};

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
  int status = 0;            // 0: no answer was received (see `error`)
  std::string error;         // the transport failure, empty when an answer was read
  bool peer_closed = false;  // the failure was the server closing (EOF or reset)
  std::map<std::string, std::string> headers;  // names lower-cased; repeated names joined by ","
  std::string body;

  // The header's value, "" when absent. `name` in any case.
  std::string Header(std::string_view name) const;
  // "status 404: {...}" or "no answer: ..." for failure messages.
  std::string Describe() const;
};

// "Authorization: Bearer TOKEN" as a header list (plus `more`).
HttpHeaders Bearer(const std::string& token, HttpHeaders more = {});

class HttpConnection {
 public:
  using Millis = std::chrono::milliseconds;

  explicit HttpConnection(HttpEndpoint endpoint, Millis timeout = Millis(20000));
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Connects now (Request connects on demand). False with `error` set on failure.
  bool Connect(std::string* error = nullptr);
  // One request on this connection (keep-alive: the next request reuses it unless the server
  // answered `Connection: close`; then the next one connects again). The body gets a
  // Content-Length (or is sent chunked with `chunked`); `Host` is added when `headers` lacks it.
  HttpResponse Request(std::string_view method, std::string_view target, std::string_view body = "",
                       const HttpHeaders& headers = {}, bool chunked = false);

  // Raw access for malformed requests: write bytes as they are (connects first if needed).
  bool WriteRaw(std::string_view bytes, std::string* error = nullptr);
  // Half-closes the connection (shutdown of our sending side): the server reads EOF.
  void ShutdownSend();
  // Reads one answer (after WriteRaw). status 0 with peer_closed when the server closed first.
  HttpResponse ReadResponse();
  // True when the server closed the connection (EOF or reset) within `timeout`; any bytes it
  // sent first are discarded (ReadResponse reads an answer before).
  bool WaitClosed(Millis timeout);
  // True when bytes (or EOF) can be read within `timeout`; a plain poll(2), sends nothing.
  bool WaitReadable(Millis timeout);
  void Close();

  bool connected() const;
  int connects() const { return connects_; }  // how many times this object connected
  const HttpEndpoint& endpoint() const { return endpoint_; }
  void set_timeout(Millis timeout) { timeout_ = timeout; }

 private:
  struct Impl;
  HttpEndpoint endpoint_;
  Millis timeout_;
  int connects_ = 0;
  std::unique_ptr<Impl> impl_;
};

// One request on a fresh connection, closed afterwards.
HttpResponse HttpRequest(const HttpEndpoint& endpoint, std::string_view method,
                         std::string_view target, std::string_view body = "",
                         const HttpHeaders& headers = {},
                         std::chrono::milliseconds timeout = std::chrono::milliseconds(20000));

// A Server-Sent Events stream (GET ...?follow=1). Beast reads the HTTP framing (chunked or not);
// this class cuts the body into events: `id:`, `event:`, `data:` lines (several data lines are
// joined with "\n"), a blank line ends an event, lines starting with ':' are comments.
struct SseEvent {
  std::string id;
  std::string event;
  std::string data;
};

class SseReader {
 public:
  using Millis = std::chrono::milliseconds;

  explicit SseReader(HttpEndpoint endpoint);
  ~SseReader();
  SseReader(const SseReader&) = delete;
  SseReader& operator=(const SseReader&) = delete;

  // Sends the GET and reads the answer's header. The answer (status, headers; the body when the
  // status is not 200) is returned; events are read with Next only after a 200.
  HttpResponse Open(std::string_view target, const HttpHeaders& headers, Millis timeout);
  // The same with another method and a body (a POST answered with a stream: the LLM proxy).
  HttpResponse Open(std::string_view method, std::string_view target, std::string_view body,
                    const HttpHeaders& headers, Millis timeout);
  // The next event, waiting at most `timeout`. nullopt when the time is up, the stream ended or
  // failed: `error()` says which (a timeout closes the connection).
  std::optional<SseEvent> Next(Millis timeout);
  // Reads until a comment line arrives (true) or `timeout` passes, the stream ends or fails
  // (false). Events read meanwhile are kept for Next.
  bool WaitComment(Millis timeout);
  // Drops the connection at once (a client going away mid-stream).
  void Close();

  const std::string& error() const { return error_; }
  bool ended() const { return ended_; }       // the server ended the stream (clean EOF)
  int comments() const { return comments_; }  // comment lines seen (": keepalive")

 private:
  struct Impl;
  HttpEndpoint endpoint_;
  std::unique_ptr<Impl> impl_;
  std::string pending_;          // body bytes read but not yet cut into events
  std::vector<SseEvent> ready_;  // events cut by WaitComment, not yet returned by Next
  std::string error_;
  bool ended_ = false;
  int comments_ = 0;

  std::optional<SseEvent> TakeEvent();
};

}  // namespace tink::testing
