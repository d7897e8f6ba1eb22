#include "shell/server/views.h"

#include <cctype>
#include <chrono>
#include <cstdlib>

#include "engine/canvas_git.h"
#include "projections/canvas.h"
#include "schema/schema.h"

namespace tink::server::views {
namespace {

constexpr std::string_view kPrefix = "/v1/runs/";
constexpr std::string_view kKinds[] = {"/timeline", "/file", "/bundle"};
constexpr size_t kDigests = 8;
constexpr size_t kMaxLimit = 1000;

Result<uint64_t> Number(const Target& t, const std::string& name, uint64_t fallback) {
  const std::string* v = t.Param(name);
  if (v == nullptr || v->empty()) return fallback;
  if (v->size() > 19 || v->find_first_not_of("0123456789") != std::string::npos) {
    return Status::InvalidArgument("parameter '" + name + "': not a number: " + *v);
  }
  return std::stoull(*v);
}

Response Json(const query::Json& j) {
  return TextResponse(http::status::ok, "application/json",
                      j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    }
    i += n;
  }
  return true;
}

}  // namespace

bool IsRunView(std::string_view path) {
  if (!path.starts_with(kPrefix)) return false;
  for (std::string_view kind : kKinds) {
    if (path.size() > kPrefix.size() + kind.size() && path.ends_with(kind)) return true;
  }
  return false;
}

Response Views::Handle(const Request& req, const Target& t) {
  (void)req;
  try {
    if (t.path == "/v1/runs") return Runs(t);
    for (std::string_view kind : kKinds) {
      if (!t.path.ends_with(kind)) continue;
      const std::string run =
          t.path.substr(kPrefix.size(), t.path.size() - kPrefix.size() - kind.size());
      if (kind == "/timeline") return Timeline(run, t);
      if (kind == "/file") return File(run, t);
      return Bundle(run);
    }
    return ErrorResponse(http::status::not_found, "not_found", "no endpoint " + t.path);
  } catch (const std::exception& e) {
    return ErrorResponse(http::status::internal_server_error, "internal",
                         std::string("internal error: ") + e.what());
  }
}

void Views::Warm() {
  std::lock_guard<std::mutex> l(totals_mu_);
  warming_.store(true);
  struct Done {
    std::atomic<bool>* flag;
    ~Done() { flag->store(false); }
  } done{&warming_};
  // A failure (or a stop) changes nothing: the next GET /v1/runs reads what is missing.
  (void)query::UpdateLlmTotals(engine_, &totals_, &cancel_);
}

Response Views::Runs(const Target& t) {
  WaitForOwnWrites(engine_);
  auto reader = engine_->NewReader();
  if (!reader.ok()) return ErrorFor(reader.status());
  const std::string* only = t.Param("run");
  if (only != nullptr && only->empty()) {
    return ErrorResponse(http::status::bad_request, "bad_request", "parameter 'run' is empty");
  }
  if (only != nullptr) {
    // One run: the shared totals when they are up to date (and not being filled right now),
    // else the run's own llm.response events.
    std::unique_lock<std::mutex> l(totals_mu_, std::try_to_lock);
    const bool ready = l.owns_lock() && totals_.scanned == engine_->log().LastLsn();
    Result<query::Json> out =
        query::RunsOverview(engine_, **reader, ready ? &totals_ : nullptr, only);
    if (!out.ok()) return ErrorFor(out.status());
    return Json(*out);
  }
  // While the start-up read of the totals runs (seconds on a store of millions of events), the
  // runs come without them rather than after them ("totals_pending": the page asks again).
  std::unique_lock<std::mutex> l(totals_mu_, std::try_to_lock);
  if (!l.owns_lock() && warming_.load()) {
    Result<query::Json> out = query::RunsOverview(engine_, **reader, nullptr, nullptr);
    if (!out.ok()) return ErrorFor(out.status());
    return Json(*out);
  }
  if (!l.owns_lock()) l.lock();
  if (Status s = query::UpdateLlmTotals(engine_, &totals_, &cancel_); !s.ok()) return ErrorFor(s);
  Result<query::Json> out = query::RunsOverview(engine_, **reader, &totals_, nullptr);
  if (!out.ok()) return ErrorFor(out.status());
  return Json(*out);
}

Result<std::shared_ptr<const query::RunDigest>> Views::Digest(const std::string& run) {
  const uint64_t head = engine_->log().LastLsn();
  {
    std::lock_guard<std::mutex> l(digest_mu_);
    for (auto it = digests_.begin(); it != digests_.end(); ++it) {
      if (it->run != run || it->head != head) continue;
      digests_.splice(digests_.begin(), digests_, it);
      return digests_.front().digest;
    }
  }
  ASSIGN_OR_RETURN(std::shared_ptr<const query::RunDigest> d,
                   query::DigestRun(engine_, run, nullptr));
  std::lock_guard<std::mutex> l(digest_mu_);
  std::erase_if(digests_, [&](const CachedDigest& c) { return c.run == run; });
  digests_.push_front({run, head, d});
  if (digests_.size() > kDigests) digests_.pop_back();
  return d;
}

Response Views::Timeline(const std::string& run, const Target& t) {
  query::GanttWindow w;
  Result<uint64_t> offset = Number(t, "offset", 0);
  Result<uint64_t> limit = Number(t, "limit", 200);
  Result<uint64_t> as_of = Number(t, "as_of", 0);
  for (const auto* r : {&offset, &limit, &as_of}) {
    if (!r->ok()) return ErrorFor(r->status());
  }
  if (*limit == 0 || *limit > kMaxLimit) {
    return ErrorResponse(http::status::bad_request, "bad_request",
                         "parameter 'limit': 1 to " + std::to_string(kMaxLimit));
  }
  w.offset = *offset;
  w.limit = *limit;
  if (t.Param("as_of") != nullptr && !t.Param("as_of")->empty()) w.as_of = *as_of;
  WaitForOwnWrites(engine_);
  Result<std::shared_ptr<const query::RunDigest>> d = Digest(run);
  if (!d.ok()) return ErrorFor(d.status());
  auto reader = engine_->NewReader();
  if (!reader.ok()) return ErrorFor(reader.status());
  Result<query::Json> out = query::RenderGantt(**reader, **d, w);
  if (!out.ok()) return ErrorFor(out.status());
  return Json(*out);
}

Response Views::File(const std::string& run, const Target& t) {
  const std::string* path = t.Param("path");
  if (path == nullptr || path->empty()) {
    return ErrorResponse(http::status::bad_request, "bad_request", "parameter 'path' is required");
  }
  Result<uint64_t> as_of = Number(t, "as_of", 0);
  if (!as_of.ok()) return ErrorFor(as_of.status());
  WaitForOwnWrites(engine_);
  auto reader = engine_->NewReader();
  if (!reader.ok()) return ErrorFor(reader.status());
  projections::CanvasReader canvas(**reader);
  const uint64_t lsn = *as_of == 0 ? canvas.head() : std::min<uint64_t>(*as_of, canvas.head());
  auto content = canvas.ReadFile(run, *path, lsn);
  if (!content.ok()) return ErrorFor(content.status());
  if (!content->has_value()) {
    return ErrorResponse(
        http::status::not_found, "not_found",
        "no file '" + *path + "' in run '" + run + "' as of LSN " + std::to_string(lsn));
  }
  std::string body = std::move(**content);
  const bool text = ValidUtf8(body);
  Response res = TextResponse(http::status::ok,
                              text ? "text/plain; charset=utf-8" : "application/octet-stream",
                              std::move(body));
  res.set("X-Content-Type-Options", "nosniff");
  res.set("X-Tinkerbell-Lsn", std::to_string(lsn));
  return res;
}

Response Views::Bundle(const std::string& run) {
  WaitForOwnWrites(engine_);
  auto reader = engine_->NewReader();
  if (!reader.ok()) return ErrorFor(reader.status());
  const char* tmp = std::getenv("TMPDIR");
  Result<std::string> bundle =
      engine::GitBundle(**reader, run, tmp != nullptr && *tmp != '\0' ? tmp : "/tmp");
  if (!bundle.ok()) return ErrorFor(bundle.status());
  Response res = TextResponse(http::status::ok, "application/x-git-bundle", std::move(*bundle));
  std::string name;
  for (char c : run)
    name +=
        (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') ? c : '_';
  res.set(http::field::content_disposition, "attachment; filename=\"" + name + ".bundle\"");
  return res;
}

}  // namespace tink::server::views
