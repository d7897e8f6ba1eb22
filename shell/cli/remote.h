// RemoteClient: the `tink` command's client of a running `tink serve` (docs/http.md), for
// `--server URL` / $TINKERBELL_SERVER (docs/shell.md "Talking to a daemon"). HTTP/1.1 through
// libcurl, on loopback TCP (`http://HOST:PORT`) or a UNIX socket (`unix:PATH`), with the bearer
// token of FindToken; answers are collected or streamed to a callback as they arrive.
//
// Errors: a transport failure (nothing listens at the URL, the connection dropped mid-answer) is
// an IOError Status naming the URL; an answer with a non-2xx status is not a Status error:
// RemoteResponse::status says it, and FailHttp prints it as one line with the exit code of
// DESIGN.md §6.
//
// Thread safety: one RemoteClient per thread (it keeps one libcurl handle, whose connection is
// reused from one request to the next).
#pragma once

#include <atomic>
#include <functional>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "schema/status.h"

namespace tink::cli {

struct RemoteRequest {
  std::string method = "GET";  // GET or POST
  std::string target;          // path and query, already encoded: "/v1/events?from=3"
  std::string body;            // POST only
  std::string content_type = "application/json";
  std::vector<std::string> headers;  // more headers, "Name: value"
  // Called with each piece of a 2xx answer's body as it arrives; returning false ends the
  // transfer (RemoteResponse::stopped). Without it the body is collected in RemoteResponse::body.
  // An error answer's body is always collected.
  std::function<bool(std::string_view)> on_body;
  // When set to true (by another thread or a signal handler), the transfer ends within about a
  // second (RemoteResponse::stopped).
  const std::atomic<bool>* cancel = nullptr;
  // The transfer is dropped (IOError) when less than one byte arrives in this many seconds: an
  // answer the daemon still computes is silent for at most its query timeout (30 s by default),
  // and a follow stream sends a keepalive every 15 s.
  long stall_seconds = 120;
};

struct RemoteResponse {
  long status = 0;       // the HTTP status; 0 if the transfer was stopped before an answer
  std::string body;      // an error answer's body, or a 2xx body when no on_body was given
  bool stopped = false;  // on_body returned false, or *cancel was set
};

class RemoteClient {
 public:
  // url: "http://HOST:PORT" (a trailing '/' is allowed, a path is not) or "unix:PATH". token: sent
  // as `Authorization: Bearer TOKEN`; "" sends no Authorization (the daemon answers 401).
  // InvalidArgument for a URL of another form.
  static Result<std::unique_ptr<RemoteClient>> Create(const std::string& url, std::string token);
  ~RemoteClient();
  RemoteClient(const RemoteClient&) = delete;
  RemoteClient& operator=(const RemoteClient&) = delete;

  // One request. IOError for a transport failure: "cannot connect to tink serve at URL: ...
  // (is it running?)" when nothing answered, "the connection to URL failed: ..." when it broke.
  Result<RemoteResponse> Send(const RemoteRequest& req);

  const std::string& url() const { return url_; }

 private:
  RemoteClient(std::string url, std::string base, std::string socket_path, std::string token);

  std::string url_;          // as given
  std::string base_;         // "http://HOST:PORT", or "http://localhost" for a socket
  std::string socket_path_;  // unix:PATH
  std::string token_;
  void* curl_ = nullptr;  // CURL*
};

// The bearer token: $TINKERBELL_TOKEN, else the contents of the file named by
// $TINKERBELL_TOKEN_FILE, else STORE/token of `store_path` when it exists (surrounding
// whitespace dropped); "" if none is found. InvalidArgument if $TINKERBELL_TOKEN_FILE names a
// file that cannot be read.
Result<std::string> FindToken(const std::string& store_path);

// The client of a command: FindToken(store_path), then RemoteClient::Create(url, token).
Result<std::unique_ptr<RemoteClient>> ConnectRemote(const std::string& url,
                                                    const std::string& store_path);

// An error answer, {"error":{"code":C,"message":M}} (docs/http.md "Errors"). A body of another
// shape gives code "" and its first line (or the status) as the message.
struct HttpError {
  long status = 0;
  std::string code;
  std::string message;
  std::string ToString() const;  // "MESSAGE (HTTP STATUS)"
};
HttpError ParseHttpError(const RemoteResponse& r);

// The exit code of DESIGN.md §6 for an error answer: "corruption" 3; any other 4xx 2; 5xx (and
// anything else) 4.
int ExitForHttp(const HttpError& e);

// Prints "tink CMD: MESSAGE (HTTP STATUS)" to stderr (one line) and returns ExitForHttp.
int FailHttp(std::string_view cmd, const RemoteResponse& r);

// POST /v1/events: `ndjson` (one envelope per line) appended by the daemon as one atomic batch
// (docs/http.md). A 2xx answer gives its LSNs and whether the batch was a duplicate. Another
// status is Failed "refused by the daemon: MESSAGE (HTTP STATUS)", and that answer is kept in
// `*refused` (if given and still empty) for FailHttp or a caller's own mapping. IOError for a
// transport failure or an answer without a well-formed "lsns" array.
struct PostedEvents {
  std::vector<uint64_t> lsns;
  bool duplicate = false;
};
Result<PostedEvents> PostEvents(RemoteClient& client, std::string ndjson,
                                std::optional<RemoteResponse>* refused = nullptr);

// GET `target` and copy a 2xx answer to stdout as it arrives; else FailHttp. The exit code.
int SendAndPrint(RemoteClient& client, std::string_view cmd, const std::string& target);

// Cuts a streamed body into lines (without the '\n'; a '\r' before it is dropped) for a callback
// that returns false to stop.
class LineCutter {
 public:
  explicit LineCutter(std::function<bool(std::string_view line)> on_line)
      : on_line_(std::move(on_line)) {}
  // A piece of the body; false once on_line returned false.
  bool Feed(std::string_view piece);
  // The end of the body: a last line without '\n' is passed on.
  bool Finish();

 private:
  std::function<bool(std::string_view)> on_line_;
  std::string partial_;
};

// Percent-encodes s for a query string value (RFC 3986 unreserved characters stay).
std::string UrlEncode(std::string_view s);

// curl_global_init, once per process (libcurl's global init is not thread-safe: every user of
// libcurl here calls this before its first handle: the remote client, tink serve's LLM proxy).
void CurlGlobalInit();

}  // namespace tink::cli
