// A blocking HTTP/1.1 client for the HTTP benchmarks (tink_compare's http class, tink_http_bench):
// one persistent (keep-alive) TCP connection, Boost.Beast's synchronous reads and writes, the
// bearer token on every request; and an SSE reader for GET /v1/events?follow=1 that hands every
// event's LSN to a callback as its bytes arrive. No retries, no reconnects: a benchmark that loses
// its connection reports an error.
//
// Not thread-safe: one HttpClient per thread (each owns its io_context and socket). Errors come
// back as a non-empty string; bench/ only.
#pragma once

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <utility>

namespace tink::bench {

// "http://127.0.0.1:PORT" (server::Server::url) -> PORT; 0 if there is none.
inline uint16_t PortOf(const std::string& url) {
  const size_t colon = url.rfind(':');
  if (colon == std::string::npos) {
    return 0;
  }
  return static_cast<uint16_t>(std::strtoul(url.c_str() + colon + 1, nullptr, 10));
}

class HttpClient {
 public:
  struct Reply {
    int status = 0;
    std::string body;
  };

  HttpClient(uint16_t port, const std::string& token) : port_(port), socket_(ioc_) {
    req_.version(11);
    req_.set(boost::beast::http::field::host, "127.0.0.1");
    req_.set(boost::beast::http::field::authorization, "Bearer " + token);
    req_.keep_alive(true);
  }
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Connects to 127.0.0.1:port with TCP_NODELAY (requests are one write each anyway).
  std::string Connect() {
    boost::system::error_code ec;
    const boost::asio::ip::tcp::endpoint ep(boost::asio::ip::make_address_v4("127.0.0.1"), port_);
    socket_.connect(ep, ec);
    if (ec) {
      return "connect 127.0.0.1:" + std::to_string(port_) + ": " + ec.message();
    }
    socket_.set_option(boost::asio::ip::tcp::no_delay(true), ec);
    return "";
  }

  // One request and its whole answer on the kept connection. A non-2xx status is not an error
  // here: the caller looks at reply->status.
  std::string Do(boost::beast::http::verb method, std::string_view target,
                 std::string_view content_type, std::string body, Reply* reply) {
    namespace http = boost::beast::http;
    req_.method(method);
    req_.target(target);
    if (content_type.empty()) {
      req_.erase(http::field::content_type);
    } else {
      req_.set(http::field::content_type, content_type);
    }
    req_.body() = std::move(body);
    req_.prepare_payload();
    boost::system::error_code ec;
    http::write(socket_, req_, ec);
    if (ec) {
      return "write: " + ec.message();
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(std::numeric_limits<uint64_t>::max());
    http::read(socket_, buffer_, parser, ec);
    if (ec) {
      return "read: " + ec.message();
    }
    reply->status = static_cast<int>(parser.get().result_int());
    reply->body = std::move(parser.get().body());
    if (!parser.get().keep_alive()) {
      return "the server closed the connection";
    }
    return "";
  }

  std::string Post(std::string_view target, std::string_view content_type, std::string body,
                   Reply* reply) {
    return Do(boost::beast::http::verb::post, target, content_type, std::move(body), reply);
  }

  // GET `target` (a follow=1 SSE stream) and calls on_event(lsn) for each `id:` line as it is
  // parsed, until on_event returns false, the stream ends, or the connection is shut down
  // (Shutdown, from another thread). on_open runs once the answer's headers are in.
  std::string Follow(std::string_view target, const std::function<void()>& on_open,
                     const std::function<bool(uint64_t lsn)>& on_event) {
    namespace http = boost::beast::http;
    req_.method(http::verb::get);
    req_.target(target);
    req_.erase(http::field::content_type);
    req_.body().clear();
    req_.prepare_payload();
    boost::system::error_code ec;
    http::write(socket_, req_, ec);
    if (ec) {
      return "write: " + ec.message();
    }
    http::response_parser<http::empty_body> parser;
    parser.body_limit(std::numeric_limits<uint64_t>::max());
    http::read_header(socket_, buffer_, parser, ec);
    if (ec) {
      return "read header: " + ec.message();
    }
    if (parser.get().result_int() != 200) {
      return "status " + std::to_string(parser.get().result_int());
    }
    on_open();
    // SSE framing: events end at a blank line; only the `id:` lines matter here.
    std::string pending;
    bool stop = false;
    auto on_chunk = [&](uint64_t, std::string_view data, boost::system::error_code&) {
      pending.append(data);
      size_t start = 0;
      for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
        std::string_view line(pending.data() + start, nl - start);
        if (!stop && line.starts_with("id: ")) {
          stop = !on_event(std::strtoull(std::string(line.substr(4)).c_str(), nullptr, 10));
        }
      }
      pending.erase(0, start);
      return data.size();
    };
    parser.on_chunk_body(on_chunk);
    while (!stop && !parser.is_done()) {
      http::read_some(socket_, buffer_, parser, ec);
      if (ec == http::error::end_of_chunk) {
        continue;
      }
      if (ec) {
        return stop ? "" : "read: " + ec.message();
      }
    }
    return "";
  }

  // Ends a blocking Follow or Do from another thread (shutdown(2) on the descriptor: the kernel
  // call is thread-safe, unlike the socket object).
  void Shutdown() { ::shutdown(socket_.native_handle(), SHUT_RDWR); }

 private:
  uint16_t port_;
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
  boost::beast::http::request<boost::beast::http::string_body> req_;
};

}  // namespace tink::bench
