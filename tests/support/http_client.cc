#include "http_client.h"

// Boost 1.74 + g++ 12: <utility> before Asio (STYLE.md build notes).
#include <poll.h>

#include <algorithm>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>

namespace tink::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Protocol = asio::generic::stream_protocol;
using Stream = beast::basic_stream<Protocol>;
using Clock = std::chrono::steady_clock;

// Beast 1.74 takes boost::string_view.
beast::string_view Bsv(std::string_view s) { return {s.data(), s.size()}; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool ToAsio(const HttpEndpoint& e, Protocol::endpoint* out, std::string* error) {
  if (e.is_unix()) {
    *out = Protocol::endpoint(asio::local::stream_protocol::endpoint(e.unix_path));
    return true;
  }
  beast::error_code ec;
  const asio::ip::address address = asio::ip::make_address(e.host, ec);
  if (ec) {
    *error = "bad address " + e.host + ": " + ec.message();
    return false;
  }
  *out = Protocol::endpoint(asio::ip::tcp::endpoint(address, e.port));
  return true;
}

// Runs one asynchronous operation on `ioc` until it completes. The stream's expiry (set by the
// caller) bounds it: on expiry Beast closes the socket and the operation ends with
// beast::error::timeout.
template <class Start>
beast::error_code RunOne(asio::io_context& ioc, Start&& start) {
  beast::error_code result = asio::error::would_block;
  start([&result](beast::error_code ec, auto&&...) { result = ec; });
  ioc.restart();
  ioc.run();
  return result;
}

bool IsClose(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == http::error::partial_message ||
         ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == asio::error::connection_aborted;
}

void FillFailure(HttpResponse* r, const std::string& what, const beast::error_code& ec) {
  r->status = 0;
  r->error = what + ": " + ec.message();
  r->peer_closed = IsClose(ec);
}

template <class Fields>
void CopyHeaders(const Fields& fields, HttpResponse* r) {
  for (const auto& f : fields) {
    const std::string name =
        Lower(std::string_view(f.name_string().data(), f.name_string().size()));
    const std::string value(f.value().data(), f.value().size());
    auto [it, inserted] = r->headers.emplace(name, value);
    if (!inserted) it->second += "," + value;
  }
}

}  // namespace

std::string HttpEndpoint::ToString() const {
  return is_unix() ? "unix:" + unix_path : host + ":" + std::to_string(port);
}

std::string HttpResponse::Header(std::string_view name) const {
  auto it = headers.find(Lower(name));
  return it == headers.end() ? "" : it->second;
}

std::string HttpResponse::Describe() const {
  if (status == 0) return "no answer: " + error;
  std::string b = body.size() > 600 ? body.substr(0, 600) + "..." : body;
  return "status " + std::to_string(status) + ": " + b;
}

HttpHeaders Bearer(const std::string& token, HttpHeaders more) {
  more.emplace_back("Authorization", "Bearer " + token);
  return more;
}

// ---------------------------------------------------------------------------------------------
// HttpConnection

struct HttpConnection::Impl {
  asio::io_context ioc;
  Stream stream{ioc};
  beast::flat_buffer buffer;
  bool open = false;
  bool head = false;  // the last request was HEAD: its answer has no body to read
};

HttpConnection::HttpConnection(HttpEndpoint endpoint, Millis timeout)
    : endpoint_(std::move(endpoint)), timeout_(timeout) {}

HttpConnection::~HttpConnection() { Close(); }

bool HttpConnection::connected() const { return impl_ && impl_->open; }

void HttpConnection::Close() {
  if (!impl_) return;
  beast::error_code ignored;
  impl_->stream.socket().close(ignored);
  impl_->open = false;
}

bool HttpConnection::Connect(std::string* error) {
  std::string err;
  Protocol::endpoint ep;
  Close();
  impl_ = std::make_unique<Impl>();
  if (!ToAsio(endpoint_, &ep, &err)) {
    if (error) *error = err;
    return false;
  }
  impl_->stream.expires_after(timeout_);
  const beast::error_code ec = RunOne(
      impl_->ioc, [&](auto handler) { impl_->stream.async_connect(ep, std::move(handler)); });
  if (ec) {
    if (error) *error = "connect to " + endpoint_.ToString() + ": " + ec.message();
    Close();
    return false;
  }
  if (!endpoint_.is_unix()) {
    beast::error_code ignored;
    impl_->stream.socket().set_option(asio::ip::tcp::no_delay(true), ignored);
  }
  impl_->open = true;
  ++connects_;
  return true;
}

HttpResponse HttpConnection::Request(std::string_view method, std::string_view target,
                                     std::string_view body, const HttpHeaders& headers,
                                     bool chunked) {
  HttpResponse r;
  if (!connected() && !Connect(&r.error)) return r;
  http::request<http::string_body> req;
  const http::verb verb = http::string_to_verb(Bsv(method));
  if (verb == http::verb::unknown) {
    req.method_string(Bsv(method));
  } else {
    req.method(verb);
  }
  req.target(Bsv(target));
  req.version(11);
  impl_->head = verb == http::verb::head;
  bool has_host = false;
  for (const auto& [name, value] : headers) {
    req.insert(Bsv(name), Bsv(value));
    has_host = has_host || Lower(name) == "host";
  }
  if (!has_host) req.set(http::field::host, "localhost");
  req.body() = std::string(body);
  if (chunked) {
    req.chunked(true);
  } else {
    req.prepare_payload();
  }
  impl_->stream.expires_after(timeout_);
  const beast::error_code ec = RunOne(
      impl_->ioc, [&](auto handler) { http::async_write(impl_->stream, req, std::move(handler)); });
  if (ec) {
    FillFailure(&r, "write " + std::string(method) + " " + std::string(target), ec);
    Close();
    return r;
  }
  return ReadResponse();
}

bool HttpConnection::WriteRaw(std::string_view bytes, std::string* error) {
  if (!connected() && !Connect(error)) return false;
  impl_->stream.expires_after(timeout_);
  const beast::error_code ec = RunOne(impl_->ioc, [&](auto handler) {
    asio::async_write(impl_->stream, asio::buffer(bytes.data(), bytes.size()), std::move(handler));
  });
  if (ec) {
    if (error) *error = "write: " + ec.message();
    Close();
    return false;
  }
  return true;
}

void HttpConnection::ShutdownSend() {
  if (!connected()) return;
  beast::error_code ignored;
  impl_->stream.socket().shutdown(asio::socket_base::shutdown_send, ignored);
}

HttpResponse HttpConnection::ReadResponse() {
  HttpResponse r;
  if (!connected()) {
    r.error = "not connected";
    return r;
  }
  http::response_parser<http::string_body> parser;
  parser.body_limit(std::uint64_t{1} << 34);
  parser.skip(impl_->head);
  impl_->stream.expires_after(timeout_);
  const beast::error_code ec = RunOne(impl_->ioc, [&](auto handler) {
    http::async_read(impl_->stream, impl_->buffer, parser, std::move(handler));
  });
  if (ec) {
    FillFailure(&r, "read answer from " + endpoint_.ToString(), ec);
    Close();
    return r;
  }
  const auto& res = parser.get();
  r.status = static_cast<int>(res.result_int());
  CopyHeaders(res, &r);
  r.body = res.body();
  if (!res.keep_alive()) Close();
  return r;
}

bool HttpConnection::WaitClosed(Millis timeout) {
  if (!connected()) return true;
  const auto deadline = Clock::now() + timeout;
  char scratch[4096];
  impl_->buffer.consume(impl_->buffer.size());
  for (;;) {
    const auto left = std::chrono::duration_cast<Millis>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    impl_->stream.expires_after(left);
    const beast::error_code ec = RunOne(impl_->ioc, [&](auto handler) {
      impl_->stream.async_read_some(asio::buffer(scratch), std::move(handler));
    });
    if (!ec) continue;
    const bool closed = IsClose(ec);
    Close();
    return closed;
  }
}

bool HttpConnection::WaitReadable(Millis timeout) {
  if (!connected()) return true;
  if (impl_->buffer.size() > 0) return true;
  pollfd p{};
  p.fd = impl_->stream.socket().native_handle();
  p.events = POLLIN;
  return ::poll(&p, 1, static_cast<int>(timeout.count())) > 0;
}

HttpResponse HttpRequest(const HttpEndpoint& endpoint, std::string_view method,
                         std::string_view target, std::string_view body, const HttpHeaders& headers,
                         std::chrono::milliseconds timeout) {
  HttpConnection c(endpoint, timeout);
  return c.Request(method, target, body, headers);
}

// ---------------------------------------------------------------------------------------------
// SseReader

struct SseReader::Impl {
  asio::io_context ioc;
  Stream stream{ioc};
  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  SseEvent current;          // the event being cut
  bool current_any = false;  // a field of `current` was seen
  bool open = false;

  // Reads some body bytes into `out` within `timeout`.
  beast::error_code ReadSome(std::chrono::milliseconds timeout, std::string* out) {
    char buf[8192];
    auto& body = parser.get().body();
    body.data = buf;
    body.size = sizeof buf;
    stream.expires_after(timeout);
    beast::error_code ec = RunOne(ioc, [&](auto handler) {
      http::async_read_some(stream, buffer, parser, std::move(handler));
    });
    if (ec == http::error::need_buffer) ec = {};
    out->append(buf, sizeof buf - body.size);
    body.data = nullptr;
    body.size = 0;
    return ec;
  }
};

SseReader::SseReader(HttpEndpoint endpoint) : endpoint_(std::move(endpoint)) {}

SseReader::~SseReader() { Close(); }

void SseReader::Close() {
  if (!impl_) return;
  beast::error_code ignored;
  impl_->stream.socket().close(ignored);
  impl_->open = false;
}

HttpResponse SseReader::Open(std::string_view target, const HttpHeaders& headers, Millis timeout) {
  return Open("GET", target, "", headers, timeout);
}

HttpResponse SseReader::Open(std::string_view method, std::string_view target,
                             std::string_view body, const HttpHeaders& headers, Millis timeout) {
  HttpResponse r;
  Close();
  impl_ = std::make_unique<Impl>();
  impl_->parser.body_limit(boost::none);
  pending_.clear();
  error_.clear();
  ended_ = false;
  Protocol::endpoint ep;
  if (!ToAsio(endpoint_, &ep, &r.error)) return r;
  impl_->stream.expires_after(timeout);
  beast::error_code ec = RunOne(
      impl_->ioc, [&](auto handler) { impl_->stream.async_connect(ep, std::move(handler)); });
  if (ec) {
    FillFailure(&r, "connect to " + endpoint_.ToString(), ec);
    return r;
  }
  impl_->open = true;
  http::request<http::string_body> req{http::string_to_verb(Bsv(method)), Bsv(target), 11};
  req.set(http::field::host, "localhost");
  for (const auto& [name, value] : headers) req.insert(Bsv(name), Bsv(value));
  if (!body.empty() || method != "GET") {
    req.body() = std::string(body);
    req.prepare_payload();
  }
  impl_->stream.expires_after(timeout);
  ec = RunOne(impl_->ioc,
              [&](auto handler) { http::async_write(impl_->stream, req, std::move(handler)); });
  if (ec) {
    FillFailure(&r, "write " + std::string(method) + " " + std::string(target), ec);
    Close();
    return r;
  }
  impl_->stream.expires_after(timeout);
  ec = RunOne(impl_->ioc, [&](auto handler) {
    http::async_read_header(impl_->stream, impl_->buffer, impl_->parser, std::move(handler));
  });
  if (ec) {
    FillFailure(&r, "read answer header for " + std::string(method) + " " + std::string(target), ec);
    Close();
    return r;
  }
  r.status = static_cast<int>(impl_->parser.get().result_int());
  CopyHeaders(impl_->parser.get().base(), &r);
  if (r.status == 200) return r;
  // An error answer: read its (small) body whole.
  const auto deadline = Clock::now() + timeout;
  while (!impl_->parser.is_done()) {
    const auto left = std::chrono::duration_cast<Millis>(deadline - Clock::now());
    if (left.count() <= 0 || impl_->ReadSome(left, &r.body)) break;
  }
  Close();
  return r;
}

std::optional<SseEvent> SseReader::TakeEvent() {
  for (;;) {
    const size_t nl = pending_.find('\n');
    if (nl == std::string::npos) return std::nullopt;
    std::string line = pending_.substr(0, nl);
    pending_.erase(0, nl + 1);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) {
      if (!impl_->current_any) continue;
      SseEvent e = std::move(impl_->current);
      impl_->current = {};
      impl_->current_any = false;
      return e;
    }
    if (line[0] == ':') {
      ++comments_;
      continue;
    }
    const size_t colon = line.find(':');
    const std::string field = line.substr(0, colon);
    std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.erase(0, 1);
    SseEvent& e = impl_->current;
    if (field == "id") {
      e.id = value;
    } else if (field == "event") {
      e.event = value;
    } else if (field == "data") {
      e.data += (impl_->current_any && !e.data.empty() ? "\n" : "") + value;
    }
    impl_->current_any = true;
  }
}

std::optional<SseEvent> SseReader::Next(Millis timeout) {
  if (!impl_) {
    error_ = "not open";
    return std::nullopt;
  }
  if (!ready_.empty()) {
    SseEvent e = std::move(ready_.front());
    ready_.erase(ready_.begin());
    return e;
  }
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (std::optional<SseEvent> e = TakeEvent()) return e;
    if (!impl_->open) return std::nullopt;
    if (impl_->parser.is_done()) {
      ended_ = true;
      error_ = "the server ended the stream";
      Close();
      return std::nullopt;
    }
    const auto left = std::chrono::duration_cast<Millis>(deadline - Clock::now());
    if (left.count() <= 0) {
      error_ = "no event within " + std::to_string(timeout.count()) + " ms";
      Close();
      return std::nullopt;
    }
    const beast::error_code ec = impl_->ReadSome(left, &pending_);
    if (!ec) continue;
    if (std::optional<SseEvent> e = TakeEvent()) {
      // Deliver what arrived before the failure; the next call reports it.
      Close();
      error_ = "stream read: " + ec.message();
      ended_ = IsClose(ec);
      return e;
    }
    ended_ = IsClose(ec);
    error_ = ec == beast::error::timeout
                 ? "no event within " + std::to_string(timeout.count()) + " ms"
                 : "stream read: " + ec.message();
    Close();
    return std::nullopt;
  }
}

bool SseReader::WaitComment(Millis timeout) {
  if (!impl_) return false;
  const int before = comments_;
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    while (std::optional<SseEvent> e = TakeEvent()) ready_.push_back(std::move(*e));
    if (comments_ > before) return true;
    if (!impl_->open || impl_->parser.is_done()) return false;
    const auto left = std::chrono::duration_cast<Millis>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    const beast::error_code ec = impl_->ReadSome(left, &pending_);
    if (ec) {
      while (std::optional<SseEvent> e = TakeEvent()) ready_.push_back(std::move(*e));
      error_ = "stream read: " + ec.message();
      ended_ = IsClose(ec);
      Close();
      return comments_ > before;
    }
  }
}

}  // namespace tink::testing
