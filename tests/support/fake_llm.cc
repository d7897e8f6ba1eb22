#include "support/fake_llm.h"

#include <atomic>
#include <utility>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <nlohmann/json.hpp>

namespace tink::testing {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Tcp = net::ip::tcp;
using nlohmann::json;

std::string LastUser(const json& body) {
  std::string last;
  const json input = body.value("input", json());
  if (input.is_string()) return input.get<std::string>();
  const json msgs = body.contains("messages") ? body["messages"] : input;
  for (const json& m : msgs.is_array() ? msgs : json::array()) {
    if (m.is_object() && m.value("role", "") == "user" && m.contains("content") &&
        m["content"].is_string()) {
      last = m["content"].get<std::string>();
    }
  }
  return last;
}

json Chunk(const std::string& model, const json& delta, const json& finish) {
  return {{"id", "chatcmpl-fake"},
          {"object", "chat.completion.chunk"},
          {"created", 1700000000},
          {"model", model},
          {"choices", json::array({{{"index", 0}, {"delta", delta}, {"finish_reason", finish}}})}};
}

const json kUsage = {{"prompt_tokens", 5},
                     {"completion_tokens", 3},
                     {"total_tokens", 8},
                     {"prompt_tokens_details", {{"cached_tokens", 2}}}};

}  // namespace

struct FakeLlm::Impl {
  net::io_context ioc;
  Tcp::acceptor acceptor{ioc};
  std::thread accept_thread;
  mutable std::mutex mu;
  std::condition_variable gate_cv;
  bool gate_open = false;
  std::vector<Seen> seen;
  std::vector<std::thread> workers;
  std::vector<std::shared_ptr<Tcp::socket>> sockets;
  std::atomic<bool> stopping{false};

  void Serve(std::shared_ptr<Tcp::socket> sock) {
    beast::error_code ec;
    beast::flat_buffer buf;
    for (;;) {
      http::request<http::string_body> req;
      http::read(*sock, buf, req, ec);
      if (ec) return;
      Seen s{std::string(req.method_string()), std::string(req.target()), req.body(), {}};
      for (const auto& f : req) {
        std::string name(f.name_string());
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        s.headers[name] = std::string(f.value());
      }
      {
        std::lock_guard<std::mutex> l(mu);
        seen.push_back(s);
      }
      if (!Answer(*sock, req)) return;
      if (!req.keep_alive()) return;
    }
  }

  bool Write(Tcp::socket& sock, unsigned status, const std::string& type, const std::string& body,
             bool keep) {
    http::response<http::string_body> res{static_cast<http::status>(status), 11};
    res.set(http::field::content_type, type);
    res.set("x-request-id", "req-fake-1");
    res.keep_alive(keep);
    res.body() = body;
    res.prepare_payload();
    beast::error_code ec;
    http::write(sock, res, ec);
    return !ec;
  }

  bool Answer(Tcp::socket& sock, const http::request<http::string_body>& req) {
    const json body = json::parse(req.body(), nullptr, false);
    const bool keep = req.keep_alive();
    if (body.is_discarded() || !body.is_object()) {
      return Write(sock, 400, "application/json",
                   R"({"error":{"message":"bad json","type":"invalid_request_error"}})", keep);
    }
    const std::string model = body.value("model", std::string());
    const std::string said = "echo: " + LastUser(body);
    if (model == "fail-429") {
      return Write(sock, 429, "application/json",
                   R"({"error":{"message":"rate limited","type":"rate_limit_error"}})", keep);
    }
    if (model == "html-500") {
      return Write(sock, 500, "text/html", "<html><body>upstream broke</body></html>", keep);
    }
    if (model == "slow") std::this_thread::sleep_for(std::chrono::seconds(3));
    if (req.target() == "/v1/responses") {
      json r = {{"id", "resp_fake"},
                {"object", "response"},
                {"status", "completed"},
                {"model", model},
                {"output", json::array({{{"type", "message"},
                                         {"role", "assistant"},
                                         {"content", json::array({{{"type", "output_text"},
                                                                   {"text", said}}})}}})},
                {"usage", {{"input_tokens", 4}, {"output_tokens", 2},
                           {"input_tokens_details", {{"cached_tokens", 0}}}}}};
      if (!body.value("stream", false)) return Write(sock, 200, "application/json", r.dump(), keep);
      // The Responses API streams named events, the last one the whole response.
      http::response<http::empty_body> head{http::status::ok, 11};
      head.set(http::field::content_type, "text/event-stream");
      head.chunked(true);
      head.keep_alive(false);
      http::response_serializer<http::empty_body> sr{head};
      beast::error_code ec;
      http::write_header(sock, sr, ec);
      const json events[] = {
          {{"type", "response.created"}, {"response", {{"id", "resp_fake"}, {"status", "in_progress"}}}},
          {{"type", "response.output_text.delta"}, {"delta", "echo: "}},
          {{"type", "response.output_text.delta"}, {"delta", LastUser(body)}},
          {{"type", "response.completed"}, {"response", r}}};
      for (const json& e : events) {
        const std::string ev = "event: " + e["type"].get<std::string>() + "\ndata: " + e.dump() + "\n\n";
        net::write(sock, http::make_chunk(net::buffer(ev)), ec);
        if (ec) return false;
      }
      net::write(sock, http::make_chunk_last(), ec);
      return false;
    }
    if (body.value("stream", false)) {
      http::response<http::empty_body> head{http::status::ok, 11};
      head.set(http::field::content_type, "text/event-stream");
      head.chunked(true);
      head.keep_alive(false);
      http::response_serializer<http::empty_body> sr{head};
      beast::error_code ec;
      http::write_header(sock, sr, ec);
      auto send = [&](const std::string& data) {
        const std::string ev = "data: " + data + "\n\n";
        net::write(sock, http::make_chunk(net::buffer(ev)), ec);
        return !ec;
      };
      if (!send(Chunk(model, {{"role", "assistant"}, {"content", "echo: "}}, nullptr).dump())) {
        return false;
      }
      if (model == "gated") {
        std::unique_lock<std::mutex> l(mu);
        gate_cv.wait_for(l, std::chrono::seconds(20), [&] { return gate_open || stopping.load(); });
      }
      json last = Chunk(model, json::object(), "stop");
      last["usage"] = kUsage;
      if (!send(Chunk(model, {{"content", LastUser(body)}}, nullptr).dump()) ||
          !send(last.dump()) || !send("[DONE]")) {
        return false;
      }
      net::write(sock, http::make_chunk_last(), ec);
      return false;  // closes the connection
    }
    json r = {{"id", "chatcmpl-fake"},
              {"object", "chat.completion"},
              {"created", 1700000000},
              {"model", model},
              {"choices", json::array({{{"index", 0},
                                        {"message", {{"role", "assistant"}, {"content", said}}},
                                        {"finish_reason", "stop"}}})},
              {"usage", kUsage}};
    return Write(sock, 200, "application/json", r.dump(), keep);
  }
};

FakeLlm::FakeLlm() : impl_(std::make_unique<Impl>()) {}
FakeLlm::~FakeLlm() { Stop(); }

bool FakeLlm::Start(std::string* error) {
  beast::error_code ec;
  const Tcp::endpoint ep(net::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec) impl_->acceptor.bind(ep, ec);
  if (!ec) impl_->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    if (error) *error = "fake upstream: " + ec.message();
    return false;
  }
  port_ = impl_->acceptor.local_endpoint().port();
  impl_->accept_thread = std::thread([this] {
    for (;;) {
      auto sock = std::make_shared<Tcp::socket>(impl_->ioc);
      beast::error_code e;
      impl_->acceptor.accept(*sock, e);
      if (e || impl_->stopping.load()) return;
      std::lock_guard<std::mutex> l(impl_->mu);
      impl_->sockets.push_back(sock);
      impl_->workers.emplace_back([this, sock] { impl_->Serve(sock); });
    }
  });
  return true;
}

void FakeLlm::Stop() {
  if (impl_->stopping.exchange(true)) return;
  beast::error_code ec;
  impl_->acceptor.cancel(ec);
  impl_->acceptor.close(ec);
  // accept() may not wake on close: connect once to unblock it.
  if (port_ != 0) {
    Tcp::socket poke(impl_->ioc);
    poke.connect(Tcp::endpoint(net::ip::make_address("127.0.0.1"), port_), ec);
  }
  ReleaseGate();
  if (impl_->accept_thread.joinable()) impl_->accept_thread.join();
  std::vector<std::thread> workers;
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    for (auto& s : impl_->sockets) s->shutdown(Tcp::socket::shutdown_both, ec);
    workers.swap(impl_->workers);
  }
  for (std::thread& t : workers) t.join();
}

std::string FakeLlm::base_url() const {
  return "http://127.0.0.1:" + std::to_string(port_) + "/v1";
}

std::vector<FakeLlm::Seen> FakeLlm::requests() const {
  std::lock_guard<std::mutex> l(impl_->mu);
  return impl_->seen;
}

void FakeLlm::ReleaseGate() {
  std::lock_guard<std::mutex> l(impl_->mu);
  impl_->gate_open = true;
  impl_->gate_cv.notify_all();
}

}  // namespace tink::testing
