#include "shell/server/server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

#include "shell/server/api.h"
#include "shell/server/mcp_route.h"
#include "shell/server/listen.h"
#include "shell/server/llm_proxy.h"
#include "shell/server/strand_sink.h"
#include "shell/server/metrics.h"
#include "shell/server/otlp_receiver.h"
#include "shell/server/views.h"
#include "shell/server/web.h"

namespace tink::server {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
using net::awaitable;
using net::use_awaitable;
using Tcp = net::ip::tcp;
using Local = net::local::stream_protocol;

constexpr auto kHeartbeat = std::chrono::seconds(15);
constexpr auto kWriteTimeout = std::chrono::seconds(60);
constexpr size_t kChunkBytes = 256 << 10;

// A follower waiting for new events: the watcher sets `notified` and cancels the timer.
struct Waiter {
  explicit Waiter(net::any_io_executor ex) : timer(ex) {}
  net::steady_timer timer;
  std::atomic<bool> notified{false};
  std::atomic<bool> registered{false};
};

// What Stop needs of a connection: whether it is between requests, and how to end it.
struct Connection {
  net::any_io_executor ex;  // the connection's strand
  bool alive = true;   // on the connection's strand only
  bool idle = false;   // waiting for a request's first bytes
  std::function<void()> cancel;
};

// One blocking call's answer (default-constructible, as co_spawn's completion needs).
struct ChunkOut {
  Status status;
  std::string text;
  bool end = false;
};

}  // namespace

class Server::Impl {
 public:
  Impl(engine::Engine* engine, ServerOptions options, std::shared_ptr<Metrics> metrics)
      : engine_(engine),
        options_(std::move(options)),
        metrics_holder_(metrics ? std::move(metrics) : std::make_shared<Metrics>()),
        metrics_(*metrics_holder_),
        api_(engine, options_, &metrics_),
        proxy_(engine, options_),
        otlp_(engine, &metrics_),
        mcp_(engine, options_.version, options_.mcp_allow_exec, options_.store_path),
        views_(engine),
        append_pool_(options_.append_workers),
        llm_pool_(options_.llm_workers),
        read_pool_(options_.read_workers),
        stream_pool_(2),
        control_(net::make_strand(ioc_)),
        grace_(control_) {}

  ~Impl() {
    StopWatcher();
    append_pool_.join();
    read_pool_.join();
    stream_pool_.join();
    llm_pool_.join();
  }

  Status Start();
  std::string url() const { return url_; }
  void Run();
  void Stop();

 private:
  template <class Acceptor>
  awaitable<void> Accept(Acceptor& acceptor);
  template <class Stream>
  awaitable<void> Session(Stream stream);
  Response TooLarge() const {
    return ErrorResponse(http::status::payload_too_large, "too_large",
                         "the body is over the limit of " + std::to_string(options_.max_body) +
                             " bytes (--max-body)");
  }
  template <class Stream>
  awaitable<bool> Handle(Stream& stream, Request req, const Target& target);
  template <class Stream>
  awaitable<bool> Write(Stream& stream, Response res, bool keep_alive);
  template <class Stream>
  awaitable<bool> StreamEvents(Stream& stream, const Request& req, const Target& target,
                               bool follow);
  template <class Stream>
  awaitable<Response> RunQuery(Stream& stream, const Request& req, const Target& target,
                               bool mcp);

  // Runs f() on `pool` and resumes the awaiting coroutine on its own executor with the result.
  // Not a coroutine itself (a lambda coroutine's captures were destroyed twice by GCC 12): an
  // async operation whose handler is posted back, with the io_context's work kept counted
  // meanwhile so Run cannot return under a blocking call.
  template <class R, class F>
  auto OnPool(net::thread_pool& pool, F f) {
    return net::async_initiate<const net::use_awaitable_t<>&, void(std::exception_ptr, R)>(
        [&pool](auto handler, F fn) {
          auto home = net::prefer(net::get_associated_executor(handler),
                                  net::execution::outstanding_work.tracked);
          net::post(pool, [handler = std::move(handler), fn = std::move(fn),
                           home = std::move(home)]() mutable {
            std::exception_ptr error;
            R result{};
            try {
              result = fn();
            } catch (...) {
              error = std::current_exception();
            }
            net::post(home, [handler = std::move(handler), error,
                             result = std::move(result)]() mutable {
              std::move(handler)(error, std::move(result));
            });
          });
        },
        use_awaitable, std::move(f));
  }
  // A blocking handler on a pool, with every exception turned into a 500.
  template <class F>
  auto Blocking(net::thread_pool& pool, F f) {
    return OnPool<Response>(pool, [f = std::move(f)]() mutable -> Response {
      try {
        return f();
      } catch (const std::bad_alloc&) {
        return ErrorResponse(http::status::service_unavailable, "overloaded", "out of memory");
      } catch (const std::exception& e) {
        return ErrorResponse(http::status::internal_server_error, "internal", e.what());
      }
    });
  }

  void AddWaiter(const std::shared_ptr<Waiter>& w);
  void NotifyAll();
  void WatchLoop();
  void StopWatcher();
  void ConnectionClosed();

  engine::Engine* engine_;
  ServerOptions options_;
  std::shared_ptr<Metrics> metrics_holder_;
  Metrics& metrics_;
  Api api_;
  LlmProxy proxy_;
  OtlpReceiver otlp_;  // POST /v1/traces
  McpRoute mcp_;       // /mcp
  views::Views views_;  // the web view's JSON: /v1/runs, /v1/runs/{run}/timeline|file|bundle
  net::io_context ioc_;
  net::thread_pool append_pool_, llm_pool_, read_pool_, stream_pool_;
  std::optional<Tcp::acceptor> tcp_;
  std::optional<Local::acceptor> unix_;
  std::string url_;
  // Stop and the end of the last connection meet here (grace_ is used on this strand only).
  net::strand<net::io_context::executor_type> control_;
  net::steady_timer grace_;

  std::atomic<bool> stopping_{false};
  std::atomic<size_t> connections_{0};
  std::atomic<size_t> pending_appends_{0};
  std::atomic<size_t> pending_reads_{0};
  std::atomic<size_t> pending_llm_{0};

  std::mutex conn_mu_;
  std::set<std::shared_ptr<Connection>> conns_;  // guarded by conn_mu_

  std::mutex wait_mu_;
  std::vector<std::weak_ptr<Waiter>> waiters_;  // guarded by wait_mu_
  std::atomic<bool> watch_stop_{false};
  std::thread watcher_;
};

Status Server::Impl::Start() {
  if (!options_.listen.empty()) {
    RETURN_IF_ERROR(BindTcp(ioc_, options_.listen, &tcp_, &url_));
  }
  if (!options_.socket_path.empty()) {
    RETURN_IF_ERROR(BindUnix(ioc_, options_.socket_path, &unix_));
  }
  if (!tcp_ && !unix_) return Status::InvalidArgument("nothing to listen on (--listen none and no --socket)");
  watcher_ = std::thread([this] { WatchLoop(); });
  net::post(read_pool_, [this] { views_.Warm(); });
  if (tcp_) net::co_spawn(ioc_, Accept(*tcp_), net::detached);
  if (unix_) net::co_spawn(ioc_, Accept(*unix_), net::detached);
  return Status::Ok();
}

void Server::Impl::Run() {
  std::vector<std::thread> threads;
  for (size_t i = 1; i < std::max<size_t>(1, options_.io_threads); ++i) {
    threads.emplace_back([this] { ioc_.run(); });
  }
  ioc_.run();
  for (std::thread& t : threads) t.join();
  StopWatcher();
  // Blocking calls still running when the grace period ran out finish before the caller closes
  // the engine under them (queries are cancelled by their time limit).
  append_pool_.join();
  read_pool_.join();
  stream_pool_.join();
  llm_pool_.join();
}

void Server::Impl::Stop() {
  net::post(control_, [this] {
    if (stopping_.exchange(true)) return;
    views_.Cancel();
    beast::error_code ec;
    if (tcp_) tcp_->close(ec);
    if (unix_) unix_->close(ec);
    if (!options_.socket_path.empty()) ::unlink(options_.socket_path.c_str());
    NotifyAll();  // followers end their streams
    {
      std::lock_guard<std::mutex> l(conn_mu_);
      for (const std::shared_ptr<Connection>& c : conns_) {
        // On the connection's strand (cancel touches its socket): idle ones are closed now,
        // busy ones finish their request and then close.
        net::post(c->ex, [c] {
          if (c->alive && c->idle && c->cancel) c->cancel();
        });
      }
    }
    if (connections_.load() == 0) {
      grace_.cancel();
      return;
    }
    grace_.expires_after(options_.shutdown_grace);
    grace_.async_wait([this](beast::error_code e) {
      if (!e) ioc_.stop();  // the grace period ran out: in-flight requests are abandoned
    });
  });
}

void Server::Impl::ConnectionClosed() {
  metrics_.connections.Decrement();
  if (connections_.fetch_sub(1) == 1 && stopping_.load()) {
    net::post(control_, [this] { grace_.cancel(); });
  }
}

template <class Acceptor>
awaitable<void> Server::Impl::Accept(Acceptor& acceptor) {
  using Socket = typename Acceptor::protocol_type::socket;
  using Stream = beast::basic_stream<typename Acceptor::protocol_type>;
  for (;;) {
    beast::error_code ec;
    Socket socket = co_await acceptor.async_accept(net::make_strand(ioc_),
                                                   net::redirect_error(use_awaitable, ec));
    if (stopping_.load() || ec == net::error::operation_aborted) co_return;
    if (ec) {
      // Out of descriptors or memory: wait a little instead of spinning.
      net::steady_timer t(ioc_, std::chrono::milliseconds(50));
      co_await t.async_wait(net::redirect_error(use_awaitable, ec));
      continue;
    }
    // Answers are written in pieces (a stream's chunks, then its last chunk): without
    // TCP_NODELAY, Nagle holds each small write until the client's delayed ACK (~40 ms).
    if constexpr (std::is_same_v<typename Acceptor::protocol_type, Tcp>) {
      socket.set_option(Tcp::no_delay(true), ec);
    }
    Stream stream(std::move(socket));
    auto ex = stream.get_executor();
    net::co_spawn(ex, Session(std::move(stream)), net::detached);
  }
}

template <class Stream>
awaitable<bool> Server::Impl::Write(Stream& stream, Response res, bool keep_alive) {
  res.keep_alive(keep_alive && !stopping_.load());
  metrics_.CountStatus(static_cast<int>(res.result_int()));
  stream.expires_after(kWriteTimeout);
  beast::error_code ec;
  co_await http::async_write(stream, res, net::redirect_error(use_awaitable, ec));
  stream.expires_never();
  co_return !ec && res.keep_alive();
}

template <class Stream>
awaitable<void> Server::Impl::Session(Stream stream) {
  metrics_.connections.Increment();
  connections_.fetch_add(1);
  auto conn = std::make_shared<Connection>();
  conn->ex = stream.get_executor();
  conn->cancel = [&stream] { stream.cancel(); };
  {
    std::lock_guard<std::mutex> l(conn_mu_);
    conns_.insert(conn);
  }
  struct Closer {
    Impl* self;
    std::shared_ptr<Connection> conn;
    ~Closer() {
      conn->alive = false;
      {
        std::lock_guard<std::mutex> l(self->conn_mu_);
        self->conns_.erase(conn);
      }
      self->ConnectionClosed();
    }
  } closer{this, conn};

  beast::flat_buffer buffer;
  if (connections_.load() > options_.max_connections) {
    {
      Response answer = ErrorResponse(http::status::service_unavailable, "overloaded",
                                 "too many connections (--max-connections " +
                                     std::to_string(options_.max_connections) + ")");
      co_await Write(stream, std::move(answer), false);
    }
    co_return;
  }
  for (;;) {
    if (stopping_.load()) break;
    beast::error_code ec;
    http::request_parser<http::string_body> parser;
    parser.header_limit(16 * 1024);
    parser.body_limit(options_.max_body);
    stream.expires_after(options_.header_timeout);
    conn->idle = true;
    co_await http::async_read_header(stream, buffer, parser, net::redirect_error(use_awaitable, ec));
    conn->idle = false;
    if (ec == http::error::body_limit) {
      {
        Response answer = TooLarge();
        co_await Write(stream, std::move(answer), false);
      }
      break;
    }
    if (ec == http::error::header_limit) {
      {
        Response answer = ErrorResponse(http::status::request_header_fields_too_large, "bad_request",
                                   "the request headers are over 16 KiB");
        co_await Write(stream, std::move(answer), false);
      }
      break;
    }
    if (ec == http::error::end_of_stream || ec == net::error::eof || ec == beast::error::timeout ||
        ec == net::error::operation_aborted || ec == net::error::connection_reset ||
        ec == net::error::broken_pipe) {
      break;  // the client left, stalled (slowloris) or the server is stopping: just close
    }
    if (ec) {
      {
        Response answer = ErrorResponse(http::status::bad_request, "bad_request",
                                   "malformed HTTP request: " + ec.message());
        co_await Write(stream, std::move(answer), false);
      }
      break;
    }
    const auto& header = parser.get();
    Result<Target> target = ParseTarget(header.target());
    if (!target.ok()) {
      {
        Response answer = ErrorFor(target.status());
        co_await Write(stream, std::move(answer), false);
      }
      break;
    }
    // Authentication before the body is read: an unauthenticated client cannot make the server
    // buffer anything. The body is then unread, so the connection closes after the answer.
    if (!web::IsPublic(target->path)) {
      if (std::optional<Response> denied = api_.CheckAuth(header)) {
        // The web view without a (valid) cookie: its login page.
        if (target->path == "/") *denied = web::Redirect("/login");
        co_await Write(stream, std::move(*denied), false);
        break;
      }
    }
    if (header[http::field::expect] == "100-continue") {
      http::response<http::empty_body> cont{http::status::continue_, header.version()};
      co_await http::async_write(stream, cont, net::redirect_error(use_awaitable, ec));
      if (ec) break;
    }
    stream.expires_after(options_.request_timeout);
    co_await http::async_read(stream, buffer, parser, net::redirect_error(use_awaitable, ec));
    stream.expires_never();
    if (ec == http::error::body_limit) {
      {
        Response answer = TooLarge();
        co_await Write(stream, std::move(answer), false);
      }
      break;
    }
    if (ec) {
      const bool malformed = ec.category() == http::make_error_code(http::error::bad_chunk).category();
      if (malformed) {
        Response answer = ErrorResponse(
            http::status::bad_request, "bad_request",
            ec == http::error::partial_message ? std::string("the body ended before its Content-Length")
                                               : "malformed body: " + ec.message());
        co_await Write(stream, std::move(answer), false);
      }
      break;  // timeout, reset: close
    }
    Request req = parser.release();
    const bool keep = co_await Handle(stream, std::move(req), *target);
    if (!keep) break;
  }
  beast::error_code ignored;
  beast::get_lowest_layer(stream).socket().shutdown(net::socket_base::shutdown_send, ignored);
}

// GCC 12 miscompiles some temporaries inside co_await expressions (a conditional operator's
// result was destroyed twice): every answer here is a named local before it is awaited on.
template <class Stream>
awaitable<bool> Server::Impl::Handle(Stream& stream, Request req, const Target& t) {
  const bool keep = req.keep_alive();
  Response res;
  const Route route = api_.Classify(req, t, &res);
  switch (route) {
    case Route::kAnswered: break;
    case Route::kEvents: {
      const std::string* follow = t.Param("follow");
      const bool f = follow != nullptr && (*follow == "1" || *follow == "true");
      const bool more = co_await StreamEvents(stream, req, t, f);
      co_return more;
    }
    case Route::kStats: {
      auto fn = [this] { return api_.Stats(connections_.load()); };
      res = co_await Blocking(read_pool_, std::move(fn));
      break;
    }
    case Route::kAppend: {
      if (pending_appends_.fetch_add(1) >= options_.max_pending_appends) {
        res = ErrorResponse(http::status::service_unavailable, "overloaded",
                            "too many appends waiting; retry");
      } else {
        auto fn = [this, &req, &t] { return api_.Append(req, t); };
        res = co_await Blocking(append_pool_, std::move(fn));
      }
      pending_appends_.fetch_sub(1);
      break;
    }
    case Route::kOtlp: {
      if (pending_appends_.fetch_add(1) >= options_.max_pending_appends) {
        res = ErrorResponse(http::status::service_unavailable, "overloaded",
                            "too many appends waiting; retry");
      } else {
        auto fn = [this, &req] { return OtlpAnswer(otlp_, req); };
        res = co_await Blocking(append_pool_, std::move(fn));
      }
      pending_appends_.fetch_sub(1);
      break;
    }
    case Route::kQuery: {
      res = co_await RunQuery(stream, req, t, false);
      break;
    }
    case Route::kMcp: {
      res = co_await RunQuery(stream, req, t, true);
      break;
    }
    case Route::kLlm: {
      if (pending_llm_.fetch_add(1) >= options_.max_pending_llm) {
        pending_llm_.fetch_sub(1);
        res = ProxyError(http::status::service_unavailable, "overloaded",
                         "too many LLM calls in flight; retry");
        break;
      }
      auto sink = std::make_shared<StrandSink<Stream>>(stream, req.version(), keep, kWriteTimeout,
                                                       &metrics_);
      auto fn = [this, &req, &t, sink] { return proxy_.Handle(req, t, sink.get()); };
      ProxyOut out = co_await OnPool<ProxyOut>(llm_pool_, std::move(fn));
      pending_llm_.fetch_sub(1);
      if (out.streamed) {
        const bool more = out.keep_alive && keep && !stopping_.load();
        co_return more;
      }
      res = std::move(out.response);
      break;
    }
    case Route::kView:
    case Route::kTasks:
    case Route::kReport: {
      if (pending_reads_.fetch_add(1) >= options_.max_queued_reads + options_.read_workers) {
        res = ErrorResponse(http::status::too_many_requests, "too_many_requests",
                            "too many queries waiting; retry");
      } else {
        constexpr size_t kPrefix = std::string_view("/v1/runs/").size();
        constexpr size_t kSuffix = std::string_view("/report").size();
        std::string run;
        if (route == Route::kReport) run = t.path.substr(kPrefix, t.path.size() - kPrefix - kSuffix);
        auto fn = [this, &req, &t, route, run] {
          if (route == Route::kView) return views_.Handle(req, t);  // the web view's JSON
          return route == Route::kTasks ? api_.Tasks(t) : api_.Report(run, t);
        };
        res = co_await Blocking(read_pool_, std::move(fn));
      }
      pending_reads_.fetch_sub(1);
      break;
    }
  }
  const bool more = co_await Write(stream, std::move(res), keep);
  co_return more;
}

template <class Stream>
awaitable<Response> Server::Impl::RunQuery(Stream& stream, const Request& req, const Target& t,
                                           bool mcp) {
  if (pending_reads_.fetch_add(1) >= options_.max_queued_reads + options_.read_workers) {
    pending_reads_.fetch_sub(1);
    Response busy = ErrorResponse(http::status::too_many_requests, "too_many_requests",
                                  "too many queries waiting; retry");
    co_return busy;
  }
  auto link = std::make_shared<CancelLink>();
  auto timed_out = std::make_shared<std::atomic<bool>>(false);
  // The time limit.
  net::steady_timer limit(stream.get_executor(), options_.query_timeout);
  limit.async_wait([link, timed_out](beast::error_code ec) {
    if (!ec) {
      timed_out->store(true);
      link->Cancel();
    }
  });
  // The client going away: the socket becomes readable with nothing to read (EOF) or an error.
  auto& socket = beast::get_lowest_layer(stream).socket();
  const int fd = socket.native_handle();
  socket.async_wait(net::socket_base::wait_read, [link, fd](beast::error_code ec) {
    if (ec) return;
    char c;
    const ssize_t n = ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) link->Cancel();
  });
  auto fn = [this, &req, &t, link, timed_out, mcp] {
    return mcp ? mcp_.Handle(req, link.get()) : api_.Query(req, t, link.get(), timed_out.get());
  };
  Response r = co_await Blocking(read_pool_, std::move(fn));
  pending_reads_.fetch_sub(1);
  limit.cancel();
  beast::error_code ignored;
  socket.cancel(ignored);
  co_return r;
}

template <class Stream>
awaitable<bool> Server::Impl::StreamEvents(Stream& stream, const Request& req, const Target& t,
                                           bool follow) {
  const bool keep = req.keep_alive();
  Result<EventCursor> cursor = api_.OpenCursor(req, t, follow);
  if (!cursor.ok()) {
    Response bad = ErrorFor(cursor.status());
    const bool more = co_await Write(stream, std::move(bad), keep);
    co_return more;
  }
  auto c = std::make_shared<EventCursor>(std::move(cursor).value());

  http::response<http::empty_body> head{http::status::ok, req.version()};
  head.set(http::field::content_type, follow ? "text/event-stream" : "application/x-ndjson");
  head.set(http::field::cache_control, "no-store");
  head.chunked(true);
  head.keep_alive(keep && !follow);
  metrics_.CountStatus(200);
  beast::error_code ec;
  http::response_serializer<http::empty_body> sr{head};
  stream.expires_after(kWriteTimeout);
  co_await http::async_write_header(stream, sr, net::redirect_error(use_awaitable, ec));
  if (ec) co_return false;
  if (req.method() == http::verb::head) {
    co_await net::async_write(stream, http::make_chunk_last(), net::redirect_error(use_awaitable, ec));
    co_return !ec && head.keep_alive();
  }
  struct FollowerGauge {
    Metrics* m;
    bool on;
    FollowerGauge(Metrics* metrics, bool f) : m(metrics), on(f) {
      if (on) m->followers.Increment();
    }
    ~FollowerGauge() {
      if (on) m->followers.Decrement();
    }
  } gauge(&metrics_, follow);
  auto waiter = std::make_shared<Waiter>(stream.get_executor());
  for (;;) {
    if (stopping_.load() && follow) break;
    if (follow) {
      waiter->notified.store(false);
      AddWaiter(waiter);
    }
    auto read = [this, c] {
      ChunkOut out;
      try {
        Result<std::string> text = api_.ReadChunk(c.get(), kChunkBytes, &out.end);
        if (text.ok()) {
          out.text = std::move(text).value();
        } else {
          out.status = text.status();
        }
      } catch (const std::exception& e) {
        out.status = Status::Failed(std::string("internal error: ") + e.what());
      }
      return out;
    };
    ChunkOut chunk = co_await OnPool<ChunkOut>(stream_pool_, std::move(read));
    if (!chunk.status.ok()) {
      // The status line is gone: an SSE client gets an error event, then the stream ends
      // without its last chunk, so no client takes a cut-off answer for a whole one.
      if (follow) {
        const std::string text = "event: error\ndata: " + chunk.status.ToString() + "\n\n";
        co_await net::async_write(stream, http::make_chunk(net::buffer(text)),
                                  net::redirect_error(use_awaitable, ec));
      }
      co_return false;
    }
    if (!chunk.text.empty()) {
      stream.expires_after(kWriteTimeout);
      co_await net::async_write(stream, http::make_chunk(net::buffer(chunk.text)),
                                net::redirect_error(use_awaitable, ec));
      if (ec) co_return false;
      continue;
    }
    if (chunk.end || !follow) break;
    if (waiter->notified.load()) continue;
    waiter->timer.expires_after(kHeartbeat);
    co_await waiter->timer.async_wait(net::redirect_error(use_awaitable, ec));
    if (!ec) {
      static const std::string kKeepalive = ": keepalive\n\n";
      stream.expires_after(kWriteTimeout);
      co_await net::async_write(stream, http::make_chunk(net::buffer(kKeepalive)),
                                net::redirect_error(use_awaitable, ec));
      if (ec) co_return false;
    }
  }
  stream.expires_after(kWriteTimeout);
  co_await net::async_write(stream, http::make_chunk_last(), net::redirect_error(use_awaitable, ec));
  stream.expires_never();
  co_return !ec && head.keep_alive() && !stopping_.load();
}

void Server::Impl::AddWaiter(const std::shared_ptr<Waiter>& w) {
  if (w->registered.exchange(true)) return;
  std::lock_guard<std::mutex> l(wait_mu_);
  waiters_.push_back(w);
}

void Server::Impl::NotifyAll() {
  std::vector<std::weak_ptr<Waiter>> list;
  {
    std::lock_guard<std::mutex> l(wait_mu_);
    list.swap(waiters_);
  }
  for (const std::weak_ptr<Waiter>& weak : list) {
    std::shared_ptr<Waiter> w = weak.lock();
    if (!w) continue;
    w->registered.store(false);
    w->notified.store(true);
    net::post(w->timer.get_executor(), [w] { w->timer.cancel(); });
  }
}

void Server::Impl::WatchLoop() {
  log::Log& log = engine_->log();
  while (!watch_stop_.load()) {
    const log::Lsn last = log.LastLsn();
    if (log.WaitFor(last + 1, std::chrono::milliseconds(200))) NotifyAll();
  }
}

void Server::Impl::StopWatcher() {
  watch_stop_.store(true);
  if (watcher_.joinable()) watcher_.join();
}

Server::Server(engine::Engine* engine, ServerOptions options, std::shared_ptr<Metrics> metrics)
    : impl_(std::make_unique<Impl>(engine, std::move(options), std::move(metrics))) {}
Server::~Server() = default;
Status Server::Start() { return impl_->Start(); }
std::string Server::url() const { return impl_->url(); }
void Server::Run() { impl_->Run(); }
void Server::Stop() { impl_->Stop(); }

}  // namespace tink::server
