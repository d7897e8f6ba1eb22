// StrandSink: the ResponseSink (llm_proxy.h) of one connection, for a handler that streams an
// answer from a worker thread (the proxy relaying an upstream's Server-Sent Events). Each call
// posts one asynchronous Beast write to the connection's strand and waits for it: the
// connection's coroutine is suspended on the worker meanwhile, so the stream has one user at a
// time, and every write has the server's write timeout (a client that stops reading ends the
// exchange instead of holding the worker). Internal to shell/server.
#pragma once

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>

#include "shell/server/llm_proxy.h"
#include "shell/server/metrics.h"

namespace tink::server {

template <class Stream>
class StrandSink final : public ResponseSink {
 public:
  StrandSink(Stream& stream, unsigned version, bool keep_alive,
             std::chrono::steady_clock::duration timeout, Metrics* metrics)
      : stream_(stream), version_(version), keep_alive_(keep_alive), timeout_(timeout),
        metrics_(metrics) {}

  bool Begin(int status, std::string_view content_type,
             const std::vector<std::pair<std::string, std::string>>& headers) override {
    head_.result(static_cast<unsigned>(status));
    head_.version(version_);
    head_.set(http::field::content_type, content_type);
    head_.set(http::field::cache_control, "no-store");
    for (const auto& [k, v] : headers) head_.set(k, v);
    head_.chunked(true);
    head_.keep_alive(keep_alive_);
    sr_.emplace(head_);
    metrics_->CountStatus(status);
    return Run([this](Done done) {
      stream_.expires_after(timeout_);
      http::async_write_header(stream_, *sr_,
                               [done](boost::beast::error_code ec, size_t) { done(ec); });
    });
  }

  bool Chunk(std::string_view data) override {
    if (data.empty()) return !failed_;
    auto buf = std::make_shared<std::string>(data);
    return Run([this, buf](Done done) {
      stream_.expires_after(timeout_);
      boost::asio::async_write(stream_, http::make_chunk(boost::asio::buffer(*buf)),
                               [buf, done](boost::beast::error_code ec, size_t) { done(ec); });
    });
  }

  bool End() override {
    return Run([this](Done done) {
      stream_.expires_after(timeout_);
      boost::asio::async_write(stream_, http::make_chunk_last(),
                               [done](boost::beast::error_code ec, size_t) { done(ec); });
    });
  }

 private:
  using Done = std::function<void(boost::beast::error_code)>;
  template <class Op>
  bool Run(Op op) {
    if (failed_) return false;
    auto done = std::make_shared<std::promise<boost::beast::error_code>>();
    std::future<boost::beast::error_code> f = done->get_future();
    boost::asio::post(stream_.get_executor(), [op = std::move(op), done]() mutable {
      op([done](boost::beast::error_code ec) { done->set_value(ec); });
    });
    // The write has its own timeout; this bound only matters when the io_context stopped.
    if (f.wait_for(timeout_ + std::chrono::seconds(5)) != std::future_status::ready) {
      failed_ = true;
      return false;
    }
    if (f.get()) failed_ = true;
    return !failed_;
  }

  Stream& stream_;
  unsigned version_;
  bool keep_alive_;
  std::chrono::steady_clock::duration timeout_;
  Metrics* metrics_;
  http::response<http::empty_body> head_;
  std::optional<http::response_serializer<http::empty_body>> sr_;
  bool failed_ = false;
};

}  // namespace tink::server
