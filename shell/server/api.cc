#include "shell/server/api.h"

#include <curl/curl.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>
#include <regex>

#include "schema/schema.h"
#include "shell/cli/shell_session.h"
#include "shell/cli/views.h"
#include "shell/server/llm_proxy.h"
#include "shell/server/views.h"
#include "shell/server/web.h"

namespace tink::server {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

constexpr auto kOwnWritesWait = std::chrono::milliseconds(2000);

std::string PercentDecode(std::string_view s) {
  std::string plus(s);
  for (char& c : plus) {
    if (c == '+') c = ' ';
  }
  int n = 0;
  char* out = curl_easy_unescape(nullptr, plus.data(), static_cast<int>(plus.size()), &n);
  if (out == nullptr) return plus;
  std::string r(out, static_cast<size_t>(n));
  curl_free(out);
  return r;
}

// A FILE* that writes into a string (glibc's fopencookie), for the CLI's writers, with a cap:
// past `limit` bytes writes fail and `on_overflow` runs once (the query is cancelled), so an
// answer never holds more memory than the cap.
class MemFile {
 public:
  explicit MemFile(size_t limit = SIZE_MAX, std::function<void()> on_overflow = {})
      : limit_(limit), on_overflow_(std::move(on_overflow)) {
    cookie_io_functions_t io{};
    io.write = &MemFile::WriteFn;
    f_ = ::fopencookie(this, "w", io);
  }
  ~MemFile() {
    if (f_ != nullptr) std::fclose(f_);
  }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;
  std::FILE* get() { return f_; }
  bool ok() const { return f_ != nullptr; }
  bool overflowed() const { return overflowed_; }
  std::string Take() {
    std::fflush(f_);
    return std::move(buf_);
  }

 private:
  static ssize_t WriteFn(void* cookie, const char* data, size_t n) {
    auto* self = static_cast<MemFile*>(cookie);
    if (self->overflowed_ || self->buf_.size() + n > self->limit_) {
      if (!self->overflowed_ && self->on_overflow_) self->on_overflow_();
      self->overflowed_ = true;
      return -1;
    }
    self->buf_.append(data, n);
    return static_cast<ssize_t>(n);
  }
  std::string buf_;
  size_t limit_;
  std::function<void()> on_overflow_;
  bool overflowed_ = false;
  std::FILE* f_ = nullptr;
};

bool Truthy(const std::string* v) {
  return v != nullptr && (*v == "1" || *v == "true" || v->empty());
}

Result<uint64_t> ParseU64(const std::string& name, const std::string& v) {
  if (v.empty() || v.size() > 19 || v.find_first_not_of("0123456789") != std::string::npos) {
    return Status::InvalidArgument("parameter '" + name + "': not a number: " + v);
  }
  return std::stoull(v);
}

std::string OneLine(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

}  // namespace

Result<Target> ParseTarget(std::string_view target) {
  Target t;
  const size_t q = target.find('?');
  t.path = PercentDecode(target.substr(0, q));
  if (q == std::string_view::npos) return t;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    std::string_view kv = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (kv.empty()) continue;
    const size_t eq = kv.find('=');
    std::string key = PercentDecode(kv.substr(0, eq));
    std::string value = eq == std::string_view::npos ? "" : PercentDecode(kv.substr(eq + 1));
    t.params[std::move(key)] = std::move(value);
  }
  return t;
}

Response TextResponse(http::status status, std::string_view content_type, std::string body) {
  Response res{status, 11};
  res.set(http::field::content_type, content_type);
  res.set(http::field::cache_control, "no-store");
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

Response ErrorResponse(http::status status, std::string_view code, std::string_view message,
                       const std::string& extra_json_fields) {
  ordered_json e;
  e["code"] = code;
  e["message"] = OneLine(std::string(message));
  std::string body =
      ordered_json{{"error", e}}.dump(-1, ' ', false, json::error_handler_t::replace);
  if (!extra_json_fields.empty()) {
    // Inside "error": ...,"message":"..."} -> ...,"message":"...",EXTRA}}
    body.insert(body.size() - 2, "," + extra_json_fields);
  }
  body += '\n';
  Response res = TextResponse(status, "application/json", std::move(body));
  if (status == http::status::unauthorized) res.set(http::field::www_authenticate, "Bearer");
  return res;
}

Response ErrorFor(const Status& s, std::string_view bad_request_code) {
  switch (s.code()) {
    case Code::kOk:
      return TextResponse(http::status::ok, "application/json", "{}\n");
    case Code::kInvalidArgument:
    case Code::kNotSupported:
      return ErrorResponse(http::status::bad_request, bad_request_code, s.message());
    case Code::kNotFound:
      return ErrorResponse(http::status::not_found, "not_found", s.message());
    case Code::kConflict:
      return ErrorResponse(http::status::conflict, "conflict", s.message());
    case Code::kCorruption:
      return ErrorResponse(http::status::internal_server_error, "corruption", s.message());
    case Code::kIOError:
    case Code::kFailed:
      return ErrorResponse(http::status::internal_server_error, "io_error", s.message());
  }
  return ErrorResponse(http::status::internal_server_error, "internal", s.message());
}

Api::Api(engine::Engine* engine, const ServerOptions& options, Metrics* metrics)
    : engine_(engine), options_(options), metrics_(metrics) {}

std::optional<Response> Api::CheckAuth(const Request& req) const {
  std::string_view given;
  bool by_cookie = false;
  // X-Tinkerbell-Token leaves Authorization to the caller (the recording proxy forwards it).
  if (auto x = req.find("X-Tinkerbell-Token"); x != req.end()) {
    given = x->value();
  } else if (auto it = req.find(http::field::authorization); it != req.end()) {
    std::string_view v = it->value();
    constexpr std::string_view kBearer = "Bearer ";
    if (v.size() <= kBearer.size() ||
        !boost::beast::iequals(v.substr(0, kBearer.size()), kBearer)) {
      return ErrorResponse(http::status::unauthorized, "unauthorized",
                           "malformed Authorization header: expected 'Bearer TOKEN'");
    }
    given = v.substr(kBearer.size());
  } else if (auto c = req.find(http::field::cookie);
             c != req.end() && web::CookieToken(c->value())) {
    // The web view's session (POST /login set it).
    given = *web::CookieToken(c->value());
    by_cookie = true;
  } else {
    return ErrorResponse(http::status::unauthorized, "unauthorized",
                         "missing Authorization: Bearer TOKEN (the token is in STORE/token)");
  }
  if (!web::TokenEquals(given, options_.token)) {
    return ErrorResponse(http::status::forbidden, "forbidden", "wrong token");
  }
  const bool safe = req.method() == http::verb::get || req.method() == http::verb::head;
  if (by_cookie && !safe && !web::SameOrigin(req)) {
    return ErrorResponse(http::status::forbidden, "forbidden",
                         "a cross-origin request with the session cookie");
  }
  return std::nullopt;
}

void WaitForOwnWrites(engine::Engine* engine) {
  (void)engine->WaitForProjections(engine->log().LastLsn(), kOwnWritesWait);
}

Response Api::Append(const Request& req, const Target& t) {
  const auto started = std::chrono::steady_clock::now();
  engine::AppendOptions ao;
  if (const std::string* v = t.Param("expected_version")) {
    auto x = engine::Expected::Parse(*v);
    if (!x.ok()) return ErrorFor(x.status().WithContext("parameter 'expected_version'"));
    ao.expected = *x;
  }
  const std::string& body = req.body();
  std::vector<schema::EventInput> events;
  bool not_an_object = false;  // a line that is not JSON, or not an object: bad_request
  auto add = [&](std::string_view text, const std::string& where) -> Status {
    const size_t first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos || text[first] != '{') {
      not_an_object = true;
      return Status::InvalidArgument(where + ": not a JSON object (an event envelope is one)");
    }
    Result<schema::EventInput> e = schema::ParseEnvelopeJson(text);
    if (!e.ok() && e.status().message().find("malformed JSON") != std::string::npos) {
      not_an_object = true;
    }
    if (e.ok()) {
      Result<std::string> enc = schema::EncodeEvent(*e);
      if (!enc.ok()) e = enc.status();
    }
    if (!e.ok()) return e.status().WithContext(where);
    events.push_back(std::move(e).value());
    return Status::Ok();
  };
  json whole = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (whole.is_object()) {
    if (Status s = add(body, "body"); !s.ok()) {
      return ErrorFor(s, not_an_object ? "bad_request" : "bad_event");
    }
  } else {
    size_t pos = 0;
    for (size_t line = 1; pos < body.size(); ++line) {
      size_t nl = body.find('\n', pos);
      if (nl == std::string::npos) nl = body.size();
      std::string_view text(body.data() + pos, nl - pos);
      pos = nl + 1;
      if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
      if (text.find_first_not_of(" \t") == std::string_view::npos) continue;
      if (Status s = add(text, "line " + std::to_string(line)); !s.ok()) {
        return ErrorFor(s, not_an_object ? "bad_request" : "bad_event");
      }
    }
  }
  if (events.empty()) {
    return ErrorResponse(http::status::bad_request, "bad_event",
                         "no events in the body (one JSON envelope, or JSONL)");
  }
  Result<engine::AppendOutcome> out = engine_->Append(events, ao);
  if (!out.ok()) {
    const Status& s = out.status();
    if (s.code() == Code::kConflict) {
      static const std::regex kVersion("is at version ([0-9]+|no_stream)");
      std::smatch m;
      const std::string msg = s.message();
      std::string extra;
      if (std::regex_search(msg, m, kVersion)) {
        extra = m[1] == "no_stream" ? "\"actual_version\":\"no_stream\""
                                    : "\"actual_version\":" + m[1].str();
      }
      return ErrorResponse(http::status::conflict, "conflict", msg, extra);
    }
    return ErrorFor(s, "bad_event");
  }
  ordered_json j;
  j["lsns"] = out->lsns;
  j["first_lsn"] = out->lsns.front();
  j["last_lsn"] = out->lsns.back();
  j["duplicate"] = out->duplicate;
  metrics_->append_requests.Increment();
  if (!out->duplicate) metrics_->appended_events.Increment(static_cast<double>(out->lsns.size()));
  metrics_->append_seconds.Observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  return TextResponse(http::status::ok, "application/json", j.dump() + "\n");
}

Response Api::Query(const Request& req, const Target& t, CancelLink* cancel,
                    const std::atomic<bool>* timed_out) {
  std::string text;
  std::string format = "json";
  uint64_t max_rows = 0;
  if (const std::string* f = t.Param("format")) format = *f;
  auto ct = req.find(http::field::content_type);
  const bool is_json = ct != req.end() && ct->value().find("json") != std::string_view::npos;
  if (is_json || (!req.body().empty() && req.body().front() == '{')) {
    json j = json::parse(req.body(), nullptr, false);
    if (!j.is_object() || !j.contains("query") || !j["query"].is_string()) {
      return ErrorResponse(http::status::bad_request, "bad_request",
                           "body: expected {\"query\":\"...\",\"format\":\"json\"}");
    }
    text = j["query"].get<std::string>();
    if (j.contains("format")) {
      if (!j["format"].is_string()) {
        return ErrorResponse(http::status::bad_request, "bad_request",
                             "field \"format\": not a string");
      }
      format = j["format"].get<std::string>();
    }
    if (j.contains("max_rows")) {
      if (!j["max_rows"].is_number_unsigned()) {
        return ErrorResponse(http::status::bad_request, "bad_request",
                             "field \"max_rows\": not a non-negative integer");
      }
      max_rows = j["max_rows"].get<uint64_t>();
    }
  } else {
    text = req.body();
  }
  std::optional<query::Format> fmt = query::ParseFormat(format);
  if (!fmt) {
    return ErrorResponse(http::status::bad_request, "bad_request",
                         "format: " + format + " is not one of json, jsonl, csv, table, markdown");
  }
  if (text.find_first_not_of(" \t\r\n;") == std::string::npos) {
    return ErrorResponse(http::status::bad_request, "bad_request", "empty query");
  }
  WaitForOwnWrites();
  cli::ShellConfig config;
  config.format = *fmt;
  config.allow_dot_commands = false;
  bool truncated = false;
  config.format_options.max_rows = max_rows;
  config.format_options.truncated = &truncated;
  cli::ShellSession session(config);
  session.Attach(engine_);
  MemFile out(options_.max_answer, [cancel] { cancel->Cancel(); });
  MemFile err(64 << 10);
  if (!out.ok() || !err.ok()) {
    return ErrorResponse(http::status::service_unavailable, "overloaded", "out of memory");
  }
  session.set_output(out.get());
  session.set_errors(err.get());
  cancel->Attach(&session.cancel());
  const auto started = std::chrono::steady_clock::now();
  const int rc = session.RunScript(text, "");
  cancel->Attach(nullptr);
  metrics_->queries.Increment();
  metrics_->query_seconds.Observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  std::string body = out.Take();
  if (rc == 0) {
    const char* type = *fmt == query::Format::kJson    ? "application/json"
                       : *fmt == query::Format::kJsonl ? "application/x-ndjson"
                       : *fmt == query::Format::kCsv   ? "text/csv; charset=utf-8"
                                                       : "text/plain; charset=utf-8";
    Response res = TextResponse(http::status::ok, type, std::move(body));
    if (truncated) res.set("X-Tinkerbell-Truncated", std::to_string(max_rows));
    return res;
  }
  std::string message = OneLine(err.Take());
  if (out.overflowed()) {
    return ErrorResponse(http::status::bad_request, "query_error",
                         "the answer is over " + std::to_string(options_.max_answer >> 20) +
                             " MiB; narrow it (where, select, limit) or read events with GET "
                             "/v1/events, which streams");
  }
  if (timed_out != nullptr && timed_out->load()) {
    return ErrorResponse(http::status::service_unavailable, "query_timeout",
                         "the query ran longer than " +
                             std::to_string(options_.query_timeout.count()) +
                             " ms and was cancelled");
  }
  if (message.empty()) message = "the query failed";
  if (rc == 3) return ErrorResponse(http::status::internal_server_error, "corruption", message);
  if (rc == 4) return ErrorResponse(http::status::internal_server_error, "io_error", message);
  return ErrorResponse(http::status::bad_request, "query_error", message);
}

Response Api::Tasks(const Target& t) {
  cli::TasksRequest r;
  if (const std::string* v = t.Param("run")) r.run = *v;
  if (const std::string* v = t.Param("task")) r.task = *v;
  if (const std::string* v = t.Param("as_of")) r.as_of = *v;
  r.history = Truthy(t.Param("history"));
  r.runs = Truthy(t.Param("runs"));
  r.anomalies = Truthy(t.Param("anomalies"));
  r.tty = Truthy(t.Param("tty"));
  const std::string* format = t.Param("format");
  r.json = format == nullptr || *format == "json";
  if (format != nullptr && *format != "json" && *format != "text") {
    return ErrorResponse(http::status::bad_request, "bad_request",
                         "parameter 'format': json or text, not " + *format);
  }
  WaitForOwnWrites();
  MemFile out;
  if (Status s = cli::WriteTasks(*engine_, r, out.get()); !s.ok()) return ErrorFor(s);
  return TextResponse(http::status::ok, r.json ? "application/json" : "text/plain; charset=utf-8",
                      out.Take());
}

Response Api::Report(const std::string& run, const Target& t) {
  const std::string* format = t.Param("format");
  const bool as_json = format == nullptr || *format == "json";
  if (format != nullptr && *format != "json" && *format != "text") {
    return ErrorResponse(http::status::bad_request, "bad_request",
                         "parameter 'format': json or text, not " + *format);
  }
  cli::ReportRequest r;
  r.run = run;
  r.json = as_json;
  if (const std::string* v = t.Param("as_of")) r.as_of = *v;
  WaitForOwnWrites();
  MemFile out;
  if (Status s = cli::WriteReport(*engine_, r, out.get()); !s.ok()) return ErrorFor(s);
  return TextResponse(http::status::ok, as_json ? "application/json" : "text/plain; charset=utf-8",
                      out.Take());
}

Response Api::Stats(size_t connections) {
  ordered_json j = cli::StatsJson(*engine_, options_.store_path);
  j["projections_applied"] = engine_->ProjectionsApplied();
  j["connections"] = connections;
  return TextResponse(http::status::ok, "application/json", j.dump() + "\n");
}

Response Api::Health() {
  Status s = engine_->log().status();
  if (s.ok()) s = engine_->projection_status();
  if (!s.ok()) {
    return ErrorResponse(http::status::service_unavailable, "unhealthy", s.ToString());
  }
  ordered_json j;
  j["status"] = "ok";
  j["last_lsn"] = engine_->log().LastLsn();
  return TextResponse(http::status::ok, "application/json", j.dump() + "\n");
}

Response Api::MetricsText() {
  const log::LogCounters c = engine_->log().counters();
  const log::Lsn last = engine_->log().LastLsn();
  const log::Lsn applied = engine_->ProjectionsApplied();
  return TextResponse(http::status::ok, "text/plain; version=0.0.4; charset=utf-8",
                      metrics_->Render(&c, last > applied ? last - applied : 0));
}

Result<EventCursor> Api::OpenCursor(const Request& req, const Target& t, bool sse) {
  EventCursor c;
  c.sse = sse;
  for (const auto& [name, value] : t.params) {
    if (name == "from") {
      ASSIGN_OR_RETURN(c.q.from, ParseU64(name, value));
      if (c.q.from == 0) c.q.from = 1;
    } else if (name == "to") {
      ASSIGN_OR_RETURN(c.q.to, ParseU64(name, value));
    } else if (name == "limit") {
      ASSIGN_OR_RETURN(c.limit, ParseU64(name, value));
    } else if (name == "stream") {
      c.q.stream = value;
    } else if (name == "run") {
      c.q.run = value;
    } else if (name == "type") {
      c.q.type = value;
    } else if (name == "since" || name == "until") {
      Result<int64_t> ns = schema::ParseTime(value);
      if (!ns.ok()) return ns.status().WithContext("parameter '" + name + "'");
      if (name == "since") {
        c.q.since_ns = *ns;
        c.q.has_since = true;
      } else {
        c.q.until_ns = *ns;
        c.q.has_until = true;
      }
    } else if (name == "follow" || name == "heads") {
      if (value != "1" && value != "0" && value != "true" && value != "false") {
        return Status::InvalidArgument("parameter '" + name + "': 1 or 0, not '" + value + "'");
      }
      if (name == "heads") c.heads = value == "1" || value == "true";
    } else {
      return Status::InvalidArgument(
          "unknown parameter '" + name +
          "' (from, to, stream, run, type, since, until, limit, follow, heads)");
    }
  }
  if (c.heads) {
    // Where the log's end is, not what is in it: for a page that only needs to know when to
    // refresh (the web view's runs), however fast the store is written.
    if (!sse) return Status::InvalidArgument("parameter 'heads' needs follow=1");
    for (const char* filter : {"to", "limit", "stream", "run", "type", "since", "until"}) {
      if (t.Param(filter) != nullptr) {
        return Status::InvalidArgument(std::string("parameter '") + filter +
                                       "' does not apply with heads=1 (only from)");
      }
    }
  }
  auto last_id = req.find("Last-Event-ID");
  if (last_id != req.end()) {
    ASSIGN_OR_RETURN(uint64_t lsn, ParseU64("Last-Event-ID", std::string(last_id->value())));
    c.q.from = std::max(c.q.from, lsn + 1);
  }
  return c;
}

Result<std::string> Api::ReadChunk(EventCursor* c, size_t max_bytes, bool* end) {
  std::string out;
  *end = false;
  const log::Lsn head = engine_->log().LastLsn();
  if (c->q.from > c->q.to || (c->limit != 0 && c->sent >= c->limit)) {
    *end = true;
    return out;
  }
  if (c->q.from > head) return out;
  if (c->heads) {
    // One event for however far the log moved since the last one.
    out = "id: " + std::to_string(head) +
          "\nevent: head\ndata: {\"last_lsn\":" + std::to_string(head) + "}\n\n";
    c->q.from = head + 1;
    return out;
  }
  engine::LogQuery q = c->q;
  q.to = std::min(c->q.to, head);
  bool full = false;
  Status bad;
  Status s = engine_->Scan(q, [&](const log::LogRecord& r) {
    Result<std::string> js = schema::EventToJson(r.lsn, r.time_ns, r.payload);
    if (!js.ok()) {
      bad = js.status().WithContext("LSN " + std::to_string(r.lsn));
      return false;
    }
    if (c->sse) {
      out += "id: " + std::to_string(r.lsn) + "\nevent: event\ndata: ";
      out += *js;
      out += "\n\n";
    } else {
      out += *js;
      out += '\n';
    }
    c->q.from = r.lsn + 1;
    ++c->sent;
    if (out.size() >= max_bytes || (c->limit != 0 && c->sent >= c->limit)) {
      full = true;
      return false;
    }
    return true;
  });
  RETURN_IF_ERROR(bad);
  RETURN_IF_ERROR(s);
  // Everything up to q.to was looked at (matching or not): go on after it.
  if (!full) c->q.from = std::max(c->q.from, q.to + 1);
  if (c->q.from > c->q.to || (c->limit != 0 && c->sent >= c->limit)) *end = true;
  return out;
}

Route Api::Classify(const Request& req, const Target& t, Response* early) {
  const http::verb m = req.method();
  const std::string& path = t.path;
  const bool get = m == http::verb::get || m == http::verb::head;
  auto not_allowed = [&](const char* allowed) {
    *early = ErrorResponse(http::status::method_not_allowed, "method_not_allowed",
                           std::string(req.method_string()) + " " + path + ": use " + allowed);
    early->set(http::field::allow, allowed);
    return Route::kAnswered;
  };
  constexpr std::string_view kRuns = "/v1/runs/";
  constexpr std::string_view kReport = "/report";
  if (path == "/healthz") {
    if (!get) return not_allowed("GET");
    *early = Health();
    return Route::kAnswered;
  }
  if (path == "/metrics") {
    if (!get) return not_allowed("GET");
    *early = MetricsText();
    return Route::kAnswered;
  }
  // The web view (docs/web.md): pages and files, the login, the JSON views its pages read.
  if (path == "/" || path.starts_with("/ui/")) {
    if (!get) return not_allowed("GET");
    *early = web::Asset(
        req, path == "/" ? std::string_view("index.html") : std::string_view(path).substr(4));
    return Route::kAnswered;
  }
  if (path == "/login") {
    if (m == http::verb::post) {
      *early = web::Login(req, options_.token);
    } else if (get) {
      *early = web::LoginPage(req);
    } else {
      return not_allowed("GET, POST");
    }
    return Route::kAnswered;
  }
  if (path == "/logout") {
    if (m != http::verb::post) return not_allowed("POST");
    *early = web::Logout();
    return Route::kAnswered;
  }
  if (path == "/v1/runs") return get ? Route::kView : not_allowed("GET");
  if (path == "/v1/stats") return get ? Route::kStats : not_allowed("GET");
  if (path == "/v1/events") {
    if (m == http::verb::post) return Route::kAppend;
    return get ? Route::kEvents : not_allowed("GET, POST");
  }
  if (path == "/v1/traces") return m == http::verb::post ? Route::kOtlp : not_allowed("POST");
  if (path == "/v1/query") return m == http::verb::post ? Route::kQuery : not_allowed("POST");
  if (path == "/v1/tasks") return get ? Route::kTasks : not_allowed("GET");
  if (path == "/mcp") return Route::kMcp;           // McpRoute answers every method (GET is 405)
  if (LlmProxy::Handles(path)) return Route::kLlm;  // the proxy answers a wrong method itself
  if (path.size() > kRuns.size() + kReport.size() && path.starts_with(kRuns) &&
      path.ends_with(kReport)) {
    return get ? Route::kReport : not_allowed("GET");
  }
  if (path.starts_with(kRuns) && views::IsRunView(path))
    return get ? Route::kView : not_allowed("GET");
  *early = ErrorResponse(http::status::not_found, "not_found", "no endpoint " + path);
  return Route::kAnswered;
}

}  // namespace tink::server
