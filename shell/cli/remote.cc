// RemoteClient (remote.h) on libcurl's easy interface.
#include "shell/cli/remote.h"

#include <curl/curl.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

#include "shell/cli/common.h"

namespace tink::cli {
namespace {

// Bounded so that `tink` never hangs on an address nothing answers at.
constexpr long kConnectTimeoutMs = 5000;
// An error answer is one small JSON object; more than this is not kept.
constexpr size_t kMaxErrorBody = 64 * 1024;

std::string Trim(std::string s) {
  const char* ws = " \t\r\n";
  s.erase(0, s.find_first_not_of(ws));
  const size_t end = s.find_last_not_of(ws);
  s.erase(end == std::string::npos ? 0 : end + 1);
  return s;
}

Result<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::InvalidArgument("cannot read " + path + ": " + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Transfer {
  CURL* curl = nullptr;
  const RemoteRequest* req = nullptr;
  RemoteResponse* resp = nullptr;
  bool decided = false;  // the status is known: stream to on_body or collect
  bool stream = false;
};

size_t OnWrite(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t len = size * n;
  if (!t->decided) {
    long code = 0;
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
    t->resp->status = code;
    t->stream = code >= 200 && code < 300 && t->req->on_body != nullptr;
    t->decided = true;
  }
  if (t->stream) {
    if (!t->req->on_body(std::string_view(data, len))) {
      t->resp->stopped = true;
      return CURL_WRITEFUNC_ERROR;
    }
    return len;
  }
  const bool error_answer = t->resp->status < 200 || t->resp->status >= 300;
  if (!error_answer || t->resp->body.size() < kMaxErrorBody) t->resp->body.append(data, len);
  return len;
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  if (t->req->cancel != nullptr && t->req->cancel->load()) {
    t->resp->stopped = true;
    return 1;  // CURLE_ABORTED_BY_CALLBACK
  }
  return 0;
}

}  // namespace

void CurlGlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

RemoteClient::RemoteClient(std::string url, std::string base, std::string socket_path,
                           std::string token)
    : url_(std::move(url)),
      base_(std::move(base)),
      socket_path_(std::move(socket_path)),
      token_(std::move(token)) {}

RemoteClient::~RemoteClient() {
  if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

Result<std::unique_ptr<RemoteClient>> RemoteClient::Create(const std::string& url,
                                                           std::string token) {
  std::string base, socket_path;
  if (url.starts_with("unix:")) {
    socket_path = url.substr(5);
    if (socket_path.empty()) {
      return Status::InvalidArgument("--server 'unix:': expected http://HOST:PORT or unix:PATH");
    }
    base = "http://localhost";
  } else if (url.starts_with("http://")) {
    base = url;
    if (base.size() > 7 && base.ends_with("/")) base.pop_back();
    const std::string_view host_port = std::string_view(base).substr(7);
    if (host_port.empty() || host_port.find('/') != std::string_view::npos ||
        host_port.find_first_of("?#@ ") != std::string_view::npos) {
      return Status::InvalidArgument("--server '" + url +
                                     "': expected http://HOST:PORT or unix:PATH");
    }
  } else {
    return Status::InvalidArgument("--server '" + url +
                                   "': expected http://HOST:PORT or unix:PATH (tink serve speaks "
                                   "plain HTTP on loopback and on a UNIX socket)");
  }
  CurlGlobalInit();
  std::unique_ptr<RemoteClient> c(
      new RemoteClient(url, std::move(base), std::move(socket_path), std::move(token)));
  c->curl_ = curl_easy_init();
  if (c->curl_ == nullptr) return Status::IOError("libcurl: curl_easy_init failed");
  return c;
}

Result<RemoteResponse> RemoteClient::Send(const RemoteRequest& req) {
  CURL* curl = static_cast<CURL*>(curl_);
  curl_easy_reset(curl);  // keeps the open connection, drops the last request's options
  RemoteResponse resp;
  Transfer t{curl, &req, &resp};
  char errbuf[CURL_ERROR_SIZE] = {};
  const std::string url = base_ + req.target;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  if (!socket_path_.empty()) curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, socket_path_.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, kConnectTimeoutMs);
  // The answer is sent by the daemon; a proxy from the environment would only get in the way.
  curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
  if (req.stall_seconds > 0) {
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, req.stall_seconds);
  }
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &OnWrite);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, &OnProgress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &t);

  curl_slist* headers = nullptr;
  const std::string auth = "Authorization: Bearer " + token_;
  if (!token_.empty()) headers = curl_slist_append(headers, auth.c_str());
  const std::string ctype = "Content-Type: " + req.content_type;
  if (req.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    headers = curl_slist_append(headers, ctype.c_str());
    // No "Expect: 100-continue" round trip for large bodies: the daemon reads the body anyway.
    headers = curl_slist_append(headers, "Expect:");
  } else if (req.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  }
  for (const std::string& h : req.headers) headers = curl_slist_append(headers, h.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

  const CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
  if (rc == CURLE_OK || resp.stopped) {
    if (resp.status == 0) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp.status);
    return resp;
  }
  const std::string what = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);
  long connect_code = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &connect_code);
  if (connect_code == 0 && (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
                            rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_GOT_NOTHING)) {
    return Status::IOError("cannot connect to tink serve at " + url_ + ": " + what +
                           " (is it running?)");
  }
  return Status::IOError("the connection to tink serve at " + url_ + " failed: " + what);
}

Result<std::string> FindToken(const std::string& store_path) {
  if (const char* t = std::getenv("TINKERBELL_TOKEN"); t != nullptr && *t != '\0') {
    return Trim(t);
  }
  if (const char* f = std::getenv("TINKERBELL_TOKEN_FILE"); f != nullptr && *f != '\0') {
    auto text = ReadSmallFile(f);
    if (!text.ok()) return text.status().WithContext("$TINKERBELL_TOKEN_FILE");
    return Trim(*text);
  }
  const std::string path = store_path + "/token";
  std::ifstream probe(path);
  if (!probe) return std::string();  // no token: the daemon answers 401, which is reported
  auto text = ReadSmallFile(path);
  if (!text.ok()) return std::string();
  return Trim(*text);
}

Result<std::unique_ptr<RemoteClient>> ConnectRemote(const std::string& url,
                                                    const std::string& store_path) {
  ASSIGN_OR_RETURN(std::string token, FindToken(store_path));
  return RemoteClient::Create(url, std::move(token));
}

std::string HttpError::ToString() const {
  return message + " (HTTP " + std::to_string(status) + ")";
}

HttpError ParseHttpError(const RemoteResponse& r) {
  HttpError e;
  e.status = r.status;
  auto j = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object() && j.contains("error") && j["error"].is_object()) {
    const auto& err = j["error"];
    if (err.contains("code") && err["code"].is_string()) e.code = err["code"].get<std::string>();
    if (err.contains("message") && err["message"].is_string()) {
      e.message = err["message"].get<std::string>();
    }
  }
  if (e.message.empty()) {
    e.message = Trim(r.body.substr(0, r.body.find('\n')));
    if (e.message.size() > 200) e.message = e.message.substr(0, 200) + "...";
    if (e.message.empty()) e.message = "the server answered with an error";
  }
  for (char& c : e.message) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return e;
}

int ExitForHttp(const HttpError& e) {
  if (e.code == "corruption") return 3;
  if (e.status >= 400 && e.status < 500) return 2;
  return 4;
}

int FailHttp(std::string_view cmd, const RemoteResponse& r) {
  const HttpError e = ParseHttpError(r);
  std::fflush(stdout);
  std::fprintf(stderr, "tink %.*s: %s\n", static_cast<int>(cmd.size()), cmd.data(),
               e.ToString().c_str());
  return ExitForHttp(e);
}

Result<PostedEvents> PostEvents(RemoteClient& client, std::string ndjson,
                                std::optional<RemoteResponse>* refused) {
  RemoteRequest req;
  req.method = "POST";
  req.target = "/v1/events";
  req.content_type = "application/x-ndjson";
  req.body = std::move(ndjson);
  ASSIGN_OR_RETURN(RemoteResponse resp, client.Send(req));
  if (resp.status < 200 || resp.status >= 300) {
    const HttpError err = ParseHttpError(resp);
    if (refused != nullptr && !refused->has_value()) *refused = std::move(resp);
    return Status::Failed("refused by the daemon: " + err.ToString());
  }
  const auto answer = nlohmann::json::parse(resp.body, nullptr, false);
  if (!answer.is_object() || !answer.contains("lsns") || !answer["lsns"].is_array()) {
    return Status::IOError("the daemon's answer has no lsns: " + resp.body.substr(0, 200));
  }
  PostedEvents out;
  for (const auto& l : answer["lsns"]) {
    if (!l.is_number_unsigned()) return Status::IOError("the daemon's answer has a bad lsn");
    out.lsns.push_back(l.get<uint64_t>());
  }
  const auto dup = answer.find("duplicate");
  out.duplicate = dup != answer.end() && dup->is_boolean() && dup->get<bool>();
  return out;
}

int SendAndPrint(RemoteClient& client, std::string_view cmd, const std::string& target) {
  RemoteRequest req;
  req.target = target;
  bool write_failed = false;
  req.on_body = [&write_failed](std::string_view piece) {
    write_failed = std::fwrite(piece.data(), 1, piece.size(), stdout) != piece.size();
    return !write_failed;
  };
  auto resp = client.Send(req);
  if (!resp.ok()) return Fail(cmd, resp.status());
  if (resp->status < 200 || resp->status >= 300) return FailHttp(cmd, *resp);
  if (write_failed || std::fflush(stdout) != 0) {
    return Fail(cmd, Status::IOError("writing to stdout failed"));
  }
  return 0;
}

bool LineCutter::Feed(std::string_view piece) {
  while (!piece.empty()) {
    const size_t nl = piece.find('\n');
    if (nl == std::string_view::npos) {
      partial_.append(piece);
      return true;
    }
    std::string_view line = piece.substr(0, nl);
    piece.remove_prefix(nl + 1);
    if (!partial_.empty()) {
      partial_.append(line);
      std::string whole = std::move(partial_);
      partial_.clear();
      if (!whole.empty() && whole.back() == '\r') whole.pop_back();
      if (!on_line_(whole)) return false;
    } else {
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (!on_line_(line)) return false;
    }
  }
  return true;
}

bool LineCutter::Finish() {
  if (partial_.empty()) return true;
  std::string last = std::move(partial_);
  partial_.clear();
  if (!last.empty() && last.back() == '\r') last.pop_back();
  return on_line_(last);
}

std::string UrlEncode(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace tink::cli
