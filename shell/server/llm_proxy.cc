#include "shell/server/llm_proxy.h"

#include <curl/curl.h>
#include <xxhash.h>

#include <boost/beast/core/string.hpp>
#include <chrono>
#include <cstdio>
#include <random>

#include "shell/cli/remote.h"
#include "shell/server/llm_answer.h"
#include "shell/server/replay.h"

namespace tink::server {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr int kMaxBodyDepth = 40;                 // FlexBuffers stores data 50 levels deep
constexpr size_t kMaxUpstreamAnswer = 64ull << 20;  // a non-streamed upstream answer
constexpr std::string_view kReplayPrefix = "/replay/";
constexpr size_t kMaxIdBytes = 200;

double Ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

std::string RandomHex(size_t digits) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* kHex = "0123456789abcdef";
  std::string s;
  while (s.size() < digits) {
    uint64_t v = rng();
    for (int i = 0; i < 16 && s.size() < digits; ++i, v >>= 4) s += kHex[v & 15];
  }
  return s;
}

std::string Header(const Request& req, std::string_view name) {
  auto it = req.find(name);
  return it == req.end() ? "" : std::string(it->value());
}

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// "/replay/RUN/v1/chat/completions" -> RUN and "/v1/chat/completions".
bool SplitReplay(std::string_view path, std::string* run, std::string* endpoint) {
  if (!path.starts_with(kReplayPrefix)) {
    *endpoint = std::string(path);
    return false;
  }
  path.remove_prefix(kReplayPrefix.size());
  const size_t v1 = path.find("/v1/");
  if (v1 == std::string_view::npos || v1 == 0) {
    *endpoint = "";
    return true;
  }
  *run = std::string(path.substr(0, v1));
  *endpoint = std::string(path.substr(v1));
  return true;
}

bool GoodId(const std::string& id) {
  if (id.empty() || id.size() > kMaxIdBytes) return false;
  for (unsigned char c : id) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

// The upstream's answer headers passed on to the client (request ids, rate limits).
bool PassOn(std::string_view name) {
  namespace beast = boost::beast;
  return beast::iequals(name, "x-request-id") || beast::iequals(name, "retry-after") ||
         (name.size() > 7 && beast::iequals(name.substr(0, 7), "openai-")) ||
         (name.size() > 12 && beast::iequals(name.substr(0, 12), "x-ratelimit-"));
}

// The state of one upstream exchange, shared with libcurl's callbacks.
struct Exchange {
  ResponseSink* sink = nullptr;
  bool client_stream = false;
  long status = 0;
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool streaming = false, client_gone = false, too_big = false, got_first = false;
  Clock::time_point first_byte;
  SseParser sse;
  json chunks = json::array();

  // Relayed events are re-framed one by one (upstream comments are dropped); the stream's last
  // event ([DONE], or the Responses API's response.completed/failed/incomplete) is held back
  // until the answer is recorded, so a client that has the whole answer knows it is in the log.
  std::string relay, held;

  void OnEvent(std::string_view event, std::string_view data) {
    const bool last = data == "[DONE]" || event == "response.completed" ||
                      event == "response.failed" || event == "response.incomplete";
    (last ? held : relay) += SseEvent(event, data);
    if (data == "[DONE]") return;
    json c = json::parse(data, nullptr, false);
    if (!c.is_discarded() && JsonDepth(data) <= kMaxBodyDepth) chunks.push_back(std::move(c));
  }
};

size_t OnHeader(char* p, size_t size, size_t n, void* user) {
  auto* x = static_cast<Exchange*>(user);
  std::string_view line(p, size * n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.starts_with("HTTP/")) {  // a new answer (after a 100 Continue or a redirect)
    x->headers.clear();
    x->content_type.clear();
    const size_t sp = line.find(' ');
    x->status = sp == std::string_view::npos ? 0 : std::atol(std::string(line.substr(sp + 1, 3)).c_str());
    return size * n;
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return size * n;
  std::string_view name = line.substr(0, colon), value = line.substr(colon + 1);
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (boost::beast::iequals(name, "content-type")) x->content_type = std::string(value);
  if (PassOn(name)) x->headers.emplace_back(std::string(name), std::string(value));
  return size * n;
}

size_t OnBody(char* p, size_t size, size_t n, void* user) {
  auto* x = static_cast<Exchange*>(user);
  std::string_view data(p, size * n);
  if (!x->got_first) {
    x->got_first = true;
    x->first_byte = Clock::now();
    x->streaming = x->client_stream && x->status / 100 == 2 &&
                   x->content_type.starts_with("text/event-stream") && x->sink != nullptr;
    if (x->streaming && !x->sink->Begin(static_cast<int>(x->status), x->content_type, x->headers)) {
      x->client_gone = true;
      return 0;
    }
  }
  if (x->streaming) {
    x->sse.Feed(data, [x](std::string_view ev, std::string_view d) { x->OnEvent(ev, d); });
    if (!x->relay.empty() && !x->sink->Chunk(x->relay)) {
      x->client_gone = true;
      return 0;
    }
    x->relay.clear();
    return data.size();
  }
  if (x->body.size() + data.size() > kMaxUpstreamAnswer) {
    x->too_big = true;
    return 0;
  }
  x->body.append(data);
  return data.size();
}

// The parts of an llm.response/llm.error's data an answer gives.
void PutAnswer(const LlmAnswer& a, json* d) {
  if (!a.model.empty()) (*d)["model"] = a.model;
  if (!a.content.empty()) (*d)["content"] = a.content;
  if (!a.tool_calls.is_null()) (*d)["tool_calls"] = a.tool_calls;
  if (!a.finish_reason.empty()) (*d)["finish_reason"] = a.finish_reason;
  if (a.input_tokens) (*d)["input_tokens"] = *a.input_tokens;
  if (a.output_tokens) (*d)["output_tokens"] = *a.output_tokens;
  if (a.cached_tokens) (*d)["cached_tokens"] = *a.cached_tokens;
}

// A replayed answer for a recording without `raw` (an imported run): a chat.completion made of
// the recorded fields.
json SynthesizedCompletion(const RecordedCall& c) {
  const json& a = c.answer;
  json msg = {{"role", "assistant"}, {"content", a.value("content", std::string())}};
  if (a.contains("tool_calls")) msg["tool_calls"] = a["tool_calls"];
  json out = {{"id", "chatcmpl-replay-" + c.call_id},
              {"object", "chat.completion"},
              {"model", a.value("model", c.body.value("model", std::string()))},
              {"choices", json::array({{{"index", 0},
                                        {"message", msg},
                                        {"finish_reason", a.value("finish_reason", "stop")}}})}};
  if (a.contains("input_tokens") || a.contains("output_tokens")) {
    const int64_t in = a.value("input_tokens", int64_t{0}), o = a.value("output_tokens", int64_t{0});
    out["usage"] = {{"prompt_tokens", in}, {"completion_tokens", o}, {"total_tokens", in + o}};
  }
  return out;
}

}  // namespace

Response ProxyError(http::status status, std::string_view code, std::string_view message,
                    const std::string& extra_json_fields) {
  std::string extra = "\"type\":" + json(std::string(code)).dump();
  if (!extra_json_fields.empty()) extra += "," + extra_json_fields;
  return ErrorResponse(status, code, message, extra);
}


struct LlmProxy::Call {
  const Request* req = nullptr;
  std::string endpoint;  // "/v1/chat/completions" | "/v1/responses"
  json body;
  std::string run, task, call_id, stream_name;
  bool stream = false;
  uint64_t request_lsn = 0;
  Clock::time_point start;

  std::string Id(const char* what) const { return run + "/llm/" + call_id + "/" + what; }
  // The llm.request data: model and messages as typed fields, the rest of the body in params.
  json RequestData(const std::string& provider) const {
    json params = body;
    json d = {{"task", task}, {"call_id", call_id}, {"endpoint", endpoint}, {"stream", stream}};
    if (body.contains("model")) d["model"] = body["model"];
    const char* messages = endpoint == "/v1/responses" ? "input" : "messages";
    if (body.contains(messages)) d["messages"] = body[messages];
    params.erase("model");
    params.erase(messages);
    params.erase("stream");
    d["params"] = params;
    if (!provider.empty()) d["provider"] = provider;
    return d;
  }
};

LlmProxy::LlmProxy(engine::Engine* engine, const ServerOptions& options)
    : engine_(engine),
      options_(options),
      recorder_(engine),
      books_(std::make_unique<ReplayBooks>(engine)) {
  cli::CurlGlobalInit();  // before any worker thread makes a handle
}
LlmProxy::~LlmProxy() {
  for (void* h : idle_handles_) curl_easy_cleanup(static_cast<CURL*>(h));
}

void* LlmProxy::TakeHandle() {
  {
    std::lock_guard<std::mutex> l(handles_mu_);
    if (!idle_handles_.empty()) {
      void* h = idle_handles_.back();
      idle_handles_.pop_back();
      return h;
    }
  }
  return curl_easy_init();
}

void LlmProxy::GiveBack(void* handle) {
  CURL* curl = static_cast<CURL*>(handle);
  curl_easy_reset(curl);  // options cleared; the connection cache stays
  {
    std::lock_guard<std::mutex> l(handles_mu_);
    if (idle_handles_.size() < kIdleHandles) {
      idle_handles_.push_back(curl);
      return;
    }
  }
  curl_easy_cleanup(curl);
}

bool LlmProxy::Handles(std::string_view path) {
  std::string run, endpoint;
  SplitReplay(path, &run, &endpoint);
  return endpoint == "/v1/chat/completions" || endpoint == "/v1/responses";
}

const LlmUpstream* LlmProxy::Choose(const Request& req, std::string* model) const {
  const auto& ups = options_.llm_upstreams;
  if (ups.empty()) return nullptr;
  const std::string named = Header(req, "X-Tinkerbell-Upstream");
  if (!named.empty()) {
    for (const LlmUpstream& u : ups) {
      if (u.name == named) return &u;
    }
    return nullptr;
  }
  const size_t slash = model->find('/');
  if (slash != std::string::npos) {
    for (const LlmUpstream& u : ups) {
      if (u.name == model->substr(0, slash)) {
        *model = model->substr(slash + 1);
        return &u;
      }
    }
  }
  const LlmUpstream* best = nullptr;
  for (const LlmUpstream& u : ups) {
    if (model->starts_with(u.name) && (best == nullptr || u.name.size() > best->name.size())) {
      best = &u;
    }
  }
  return best != nullptr ? best : &ups.front();
}

ProxyOut LlmProxy::Handle(const Request& req, const Target& t, ResponseSink* sink) {
  ProxyOut out;
  try {
    Call call;
    call.req = &req;
    call.start = Clock::now();
    std::string replay_of;
    const bool replay_path = SplitReplay(t.path, &replay_of, &call.endpoint);
    if (!replay_path && !options_.replay_run.empty()) replay_of = options_.replay_run;
    if (replay_path && replay_of.empty()) {
      out.response = ProxyError(http::status::not_found, "not_found",
                                "expected /replay/RUN/v1/chat/completions or /v1/responses");
      return out;
    }
    if (req.method() != http::verb::post) {
      out.response = ProxyError(http::status::method_not_allowed, "method_not_allowed",
                                std::string(req.method_string()) + " " + t.path + ": use POST");
      out.response.set(http::field::allow, "POST");
      return out;
    }
    const std::string& text = req.body();
    if (JsonDepth(text) > kMaxBodyDepth) {
      out.response = ProxyError(http::status::bad_request, "invalid_request_error",
                                "the JSON body nests deeper than " + std::to_string(kMaxBodyDepth) +
                                    " levels");
      return out;
    }
    call.body = json::parse(text, nullptr, false);
    if (call.body.is_discarded() || !call.body.is_object()) {
      out.response = ProxyError(http::status::bad_request, "invalid_request_error",
                                "the body is not a JSON object");
      return out;
    }
    if (call.body.contains("model") && !call.body["model"].is_string()) {
      out.response = ProxyError(http::status::bad_request, "invalid_request_error",
                                "'model' must be a string");
      return out;
    }
    call.stream = call.body.value("stream", json(false)) == json(true);
    call.task = Header(req, "X-Tinkerbell-Task");
    if (call.task.empty()) call.task = "agent";
    call.run = Header(req, "X-Tinkerbell-Run");
    if (!GoodId(call.task) || (!call.run.empty() && !GoodId(call.run))) {
      out.response = ProxyError(http::status::bad_request, "invalid_request_error",
                                "X-Tinkerbell-Run / X-Tinkerbell-Task: 1 to 200 bytes, no "
                                "control characters");
      return out;
    }
    call.call_id = "c" + RandomHex(16);
    if (!replay_of.empty()) return Replay(call, replay_of, sink);
    return Forward(call, sink);
  } catch (const std::bad_alloc&) {
    out.response = ProxyError(http::status::service_unavailable, "overloaded", "out of memory");
  } catch (const std::exception& e) {
    out.response = ProxyError(http::status::internal_server_error, "internal", e.what());
  }
  return out;
}

ProxyOut LlmProxy::Forward(Call& call, ResponseSink* sink) {
  ProxyOut out;
  const Request& req = *call.req;
  std::string model = call.body.value("model", std::string());
  const LlmUpstream* up = Choose(req, &model);
  if (up == nullptr) {
    const std::string named = Header(req, "X-Tinkerbell-Upstream");
    out.response = named.empty()
                       ? ProxyError(http::status::service_unavailable, "no_upstream",
                                    "no LLM upstream is configured (tink serve --llm-upstream "
                                    "NAME=URL)")
                       : ProxyError(http::status::bad_request, "invalid_request_error",
                                    "X-Tinkerbell-Upstream: no upstream named '" + named + "'");
    return out;
  }
  // Who pays upstream: the caller's own key when it authenticated with X-Tinkerbell-Token,
  // else the upstream's configured key.
  const bool own_key = !Header(req, "X-Tinkerbell-Token").empty();
  const std::string client_auth = own_key ? Header(req, "Authorization") : "";
  if (call.run.empty()) {
    const std::string key = own_key ? client_auth : options_.token;
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx",
                  static_cast<unsigned long long>(XXH3_64bits(key.data(), key.size())));
    call.run = "llm-" + std::string(hex, 12);
  }
  call.stream_name = "run/" + call.run + "/task/" + call.task;
  json started = {{"name", call.run}, {"agent", "llm-proxy"}, {"meta", {{"source", "proxy"}}}};
  if (!model.empty()) started["model"] = model;
  if (Status s = recorder_.EnsureRunAndTask(call.run, call.task, started); !s.ok()) {
    out.response = ErrorFor(s);
    return out;
  }
  Result<uint64_t> lsn = recorder_.Append(call.run, call.stream_name, "llm.request",
                                          call.Id("request"), call.RequestData(up->name));
  if (!lsn.ok()) {
    out.response = ErrorFor(lsn.status());
    return out;
  }
  call.request_lsn = *lsn;

  // The body forwarded: as sent, unless the model lost its "NAME/" prefix.
  std::string forwarded = req.body();
  if (call.body.contains("model") && call.body["model"].get<std::string>() != model) {
    json b = call.body;
    b["model"] = model;
    forwarded = Dump(b);
  }
  Exchange x;
  x.sink = sink;
  x.client_stream = call.stream;
  CURL* curl = static_cast<CURL*>(TakeHandle());
  if (curl == nullptr) {
    out.response = ProxyError(http::status::internal_server_error, "internal", "curl_easy_init failed");
    return out;
  }
  std::string url = up->url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  url += call.endpoint.substr(3);  // "/v1/chat/completions" -> base + "/chat/completions"
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/json");
  headers = curl_slist_append(headers, call.stream ? "Accept: text/event-stream" : "Accept: application/json");
  headers = curl_slist_append(headers, "Accept-Encoding: identity");
  headers = curl_slist_append(headers, "Expect:");
  const std::string auth = own_key ? client_auth : (up->key.empty() ? "" : "Bearer " + up->key);
  if (!auth.empty()) headers = curl_slist_append(headers, ("Authorization: " + auth).c_str());
  for (const char* h : {"OpenAI-Organization", "OpenAI-Project", "OpenAI-Beta"}) {
    const std::string v = Header(req, h);
    if (!v.empty()) headers = curl_slist_append(headers, (std::string(h) + ": " + v).c_str());
  }
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, forwarded.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(forwarded.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.llm_connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.llm_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &x);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &x);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
  char curl_error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_error);
  const CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  if (rc == CURLE_OK) {
    GiveBack(curl);
  } else {
    curl_easy_cleanup(curl);  // a failed exchange may leave a connection in a bad state
  }
  const Clock::time_point end = Clock::now();

  json d = {{"task", call.task}, {"call_id", call.call_id}, {"provider", up->name},
            {"latency_ms", Ms(end - call.start)}};
  if (!model.empty()) d["model"] = call.body.value("model", model);
  if (x.got_first && call.stream) d["ttft_ms"] = Ms(x.first_byte - call.start);
  std::string type = "llm.response";
  std::string error;
  int status = static_cast<int>(x.status);
  if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && x.client_gone)) {
    const bool timeout = rc == CURLE_OPERATION_TIMEDOUT;
    status = timeout ? 504 : 502;
    error = x.too_big ? "the upstream's answer is over 64 MiB"
                      : std::string(timeout ? "the upstream timed out: " : "the upstream failed: ") +
                            (curl_error[0] != 0 ? curl_error : curl_easy_strerror(rc));
  } else if (x.client_gone) {
    status = 499;
    error = "the client closed the connection before the answer ended";
  }
  if (x.streaming) {
    d["raw"] = x.chunks;
    LlmAnswer a = SummarizeChunks(x.chunks);
    PutAnswer(a, &d);
    if (error.empty() && !a.error.empty()) error = a.error;
  } else if (error.empty()) {
    json body = JsonDepth(x.body) <= kMaxBodyDepth ? json::parse(x.body, nullptr, false) : json();
    const bool is_json = !body.is_discarded() && !body.is_null();
    if (is_json) d["raw"] = body;
    LlmAnswer a = is_json ? SummarizeBody(body) : LlmAnswer{};
    if (status / 100 == 2) {
      PutAnswer(a, &d);
    } else {
      error = !a.error.empty() ? a.error
                               : "HTTP " + std::to_string(status) + ": " + x.body.substr(0, 300);
    }
  }
  d["status"] = status;
  if (!error.empty()) {
    type = "llm.error";
    d["error"] = error;
    for (const char* f : {"content", "tool_calls", "finish_reason", "input_tokens",
                          "output_tokens", "cached_tokens", "ttft_ms"}) {
      d.erase(f);
    }
  }
  Result<uint64_t> recorded = recorder_.Append(call.run, call.stream_name, type,
                                               call.Id(type == "llm.error" ? "error" : "response"),
                                               d, call.request_lsn);
  if (x.streaming || x.client_gone) {
    out.streamed = true;
    out.keep_alive = false;
    if (!x.client_gone) {
      if (!error.empty()) {
        // The status line went out with the first chunk: the error becomes the stream's last
        // event, so the client does not take a cut-off answer for a whole one.
        (void)sink->Chunk(SseEvent("", Dump(json{{"error", {{"message", error}, {"type", "upstream_error"}}}})));
      }
      const bool ok = x.held.empty() || sink->Chunk(x.held);  // now that it is recorded
      out.keep_alive = ok && sink->End() && error.empty();
    }
    return out;
  }
  if (!recorded.ok()) {
    // The answer exists but could not be recorded: the caller must not believe it was.
    out.response = ErrorFor(recorded.status());
    return out;
  }
  if (rc != CURLE_OK) {
    out.response = ProxyError(status == 504 ? http::status::gateway_timeout : http::status::bad_gateway,
                              status == 504 ? "upstream_timeout" : "upstream_unreachable", error);
    return out;
  }
  out.response = TextResponse(static_cast<http::status>(x.status),
                              x.content_type.empty() ? "application/json" : x.content_type,
                              std::move(x.body));
  for (const auto& [k, v] : x.headers) out.response.set(k, v);
  return out;
}

ProxyOut LlmProxy::Replay(Call& call, const std::string& original, ResponseSink* sink) {
  ProxyOut out;
  if (call.run == original) {
    out.response = ProxyError(http::status::bad_request, "invalid_request_error",
                              "X-Tinkerbell-Run: a replay of run '" + original +
                                  "' cannot be recorded into that run; name another");
    return out;
  }
  json started = {{"agent", "replay"}, {"meta", {{"replay_of", original}}}};
  if (call.body.contains("model")) started["model"] = call.body["model"];
  if (call.run.empty()) {
    call.run = books_->DefaultSession(original);
    // A re-run that was served the whole recording and asks again is the agent run once more:
    // a new session (RUN-replay-2, ...) instead of divergences with nothing left to compare.
    if (!call.run.empty() && books_->Exhausted(call.run)) call.run.clear();
    if (call.run.empty()) {
      Result<std::string> run = recorder_.NewRun(original + "-replay", started);
      if (!run.ok()) {
        out.response = ErrorFor(run.status());
        return out;
      }
      books_->SetDefaultSession(original, *run);
      call.run = books_->DefaultSession(original);
    }
  }
  started["name"] = call.run;
  if (Status s = recorder_.EnsureRunAndTask(call.run, call.task, started); !s.ok()) {
    out.response = ErrorFor(s);
    return out;
  }
  call.stream_name = "run/" + call.run + "/task/" + call.task;
  Result<ReplayMatch> m = books_->Next(original, call.run, call.endpoint, call.body);
  if (!m.ok()) {
    out.response = m.status().code() == Code::kNotFound
                       ? ProxyError(http::status::not_found, "replay_not_found", m.status().message())
                       : ErrorFor(m.status());
    return out;
  }
  if (m->call == nullptr) {
    json closest;  // null
    if (m->closest != nullptr) {
      closest = {{"position", *m->closest_position}, {"call_id", m->closest->call_id},
                 {"lsn", m->closest->lsn}};
    }
    json div = {{"original", original}, {"position", m->position}, {"endpoint", call.endpoint},
                {"request", call.RequestData("")}, {"closest", closest},
                {"differences", m->differences}, {"reason", m->reason}};
    div["request"].erase("task");
    div["request"].erase("call_id");
    (void)recorder_.Append(call.run, "run/" + call.run, "replay.divergence",
                           call.run + "/divergence/" + std::to_string(m->position), div);
    std::string first = m->differences.empty() ? "" : m->differences[0].value("path", std::string());
    std::string msg = "replay of run '" + original + "' diverged at request " +
                      std::to_string(m->position) + ": " + m->reason +
                      (first.empty() ? "" : " (first at " + first + ")");
    out.response = ProxyError(http::status::conflict, "replay_divergence", msg,
                              "\"position\":" + std::to_string(m->position) +
                                  ",\"differences\":" + Dump(m->differences));
    return out;
  }
  const RecordedCall& rec = *m->call;
  Result<uint64_t> lsn = recorder_.Append(call.run, call.stream_name, "llm.request",
                                          call.Id("request"), call.RequestData("replay"));
  if (!lsn.ok()) {
    out.response = ErrorFor(lsn.status());
    return out;
  }
  // The recorded answer, recorded again on the re-run (with this exchange's own latency).
  json d = rec.answer;
  d["task"] = call.task;
  d["call_id"] = call.call_id;
  d["provider"] = "replay";
  const json raw = d.value("raw", json());
  const bool is_error = rec.answer_type == "llm.error" || rec.answer_type.empty();
  int status = d.value("status", is_error ? 500 : 200);
  if (rec.answer_type.empty()) {
    d = {{"task", call.task}, {"call_id", call.call_id}, {"provider", "replay"},
         {"error", "the recorded call never got an answer"}};
    status = 502;
  }
  const bool sse = !is_error && rec.stream && raw.is_array();
  d.erase("latency_ms");
  d.erase("ttft_ms");
  if (sse) {
    if (!sink->Begin(status, "text/event-stream", {})) {
      out.streamed = true;
      out.keep_alive = false;
      return out;
    }
    d["ttft_ms"] = Ms(Clock::now() - call.start);
    const bool responses = call.endpoint == "/v1/responses";
    bool ok = true;
    for (const json& chunk : raw) {
      const std::string name = responses ? chunk.value("type", std::string()) : "";
      if (!(ok = sink->Chunk(SseEvent(name, Dump(chunk))))) break;
    }
    // Recorded before the stream's end reaches the client: a re-run that goes on to its next
    // call finds this one's answer before that call in the log.
    d["latency_ms"] = Ms(Clock::now() - call.start);
    (void)recorder_.Append(call.run, call.stream_name, "llm.response", call.Id("response"), d,
                           *lsn);
    if (ok && !responses) ok = sink->Chunk(SseEvent("", "[DONE]"));
    out.streamed = true;
    out.keep_alive = ok && sink->End();
    return out;
  } else {
    json body = raw;
    if (body.is_null()) {
      body = is_error ? json{{"error", {{"message", d.value("error", std::string("replayed error"))},
                                        {"type", "replayed_error"}}}}
                      : SynthesizedCompletion(rec);
    }
    out.response = TextResponse(static_cast<http::status>(status), "application/json", Dump(body) + "\n");
  }
  d["latency_ms"] = Ms(Clock::now() - call.start);
  const std::string type = is_error ? "llm.error" : "llm.response";
  (void)recorder_.Append(call.run, call.stream_name, type,
                         call.Id(is_error ? "error" : "response"), d, *lsn);
  return out;
}

}  // namespace tink::server
