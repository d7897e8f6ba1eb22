#include "shell/server/web.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "shell/server/web_assets.h"

namespace tink::server::web {
namespace {

// Nothing from outside the machine: every script, style, image and connection is the daemon's.
constexpr std::string_view kPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'";

std::string_view ContentType(std::string_view path) {
  const size_t dot = path.rfind('.');
  const std::string_view ext = dot == std::string_view::npos ? "" : path.substr(dot + 1);
  if (ext == "html") return "text/html; charset=utf-8";
  if (ext == "js" || ext == "mjs") return "text/javascript; charset=utf-8";
  if (ext == "css") return "text/css; charset=utf-8";
  if (ext == "svg") return "image/svg+xml";
  if (ext == "png") return "image/png";
  if (ext == "ico") return "image/x-icon";
  if (ext == "json") return "application/json";
  if (ext == "txt" || ext == "md") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

// A relative path that stays inside the folder: no empty, '.' or '..' segment, no backslash.
bool SafeRelative(std::string_view rel) {
  if (rel.empty() || rel.front() == '/' || rel.find('\\') != std::string_view::npos ||
      rel.find('\0') != std::string_view::npos) {
    return false;
  }
  size_t start = 0;
  while (start <= rel.size()) {
    size_t end = rel.find('/', start);
    if (end == std::string_view::npos) end = rel.size();
    const std::string_view seg = rel.substr(start, end - start);
    if (seg.empty() || seg == "." || seg == "..") return false;
    start = end + 1;
  }
  return true;
}

// The file's bytes: from $TINK_WEB_DIR when set (development: edit, reload), else compiled in.
std::optional<std::string> Find(std::string_view rel) {
  if (!SafeRelative(rel)) return std::nullopt;
  if (const char* dir = std::getenv("TINK_WEB_DIR"); dir != nullptr && *dir != '\0') {
    std::ifstream in(std::string(dir) + "/" + std::string(rel), std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream s;
    s << in.rdbuf();
    if (in.bad()) return std::nullopt;
    return std::move(s).str();
  }
  const auto assets = EmbeddedWebAssets();
  auto it = std::lower_bound(assets.begin(), assets.end(), rel,
                             [](const WebAsset& a, std::string_view p) { return a.path < p; });
  if (it == assets.end() || it->path != rel) return std::nullopt;
  return std::string(it->data);
}

Response FileResponse(const Request& req, std::string_view rel, std::string body) {
  Response res{http::status::ok, req.version()};
  res.set(http::field::content_type, ContentType(rel));
  res.set(http::field::cache_control, "no-cache");
  res.set("X-Content-Type-Options", "nosniff");
  if (rel.ends_with(".html")) {
    res.set("Content-Security-Policy", kPolicy);
    res.set("X-Frame-Options", "DENY");
    res.set("Referrer-Policy", "no-referrer");
  }
  res.body() = std::move(body);
  res.prepare_payload();
  if (req.method() == http::verb::head) res.body().clear();
  return res;
}

std::string CookieHeader(std::string_view value, bool clear) {
  std::string c =
      std::string(kCookie) + "=" + std::string(value) + "; HttpOnly; SameSite=Strict; Path=/";
  if (clear) c += "; Max-Age=0";
  return c;
}

}  // namespace

bool IsPublic(std::string_view path) {
  return path == "/healthz" || path == "/login" || path == "/logout" || path.starts_with("/ui/") ||
         path == "/favicon.ico";
}

Response Asset(const Request& req, std::string_view rel) {
  std::optional<std::string> body = Find(rel);
  if (!body) {
    if (EmbeddedWebAssets().empty() && std::getenv("TINK_WEB_DIR") == nullptr) {
      return ErrorResponse(http::status::not_found, "not_found",
                           "this tink was built without the web view (shell/web/)");
    }
    return ErrorResponse(http::status::not_found, "not_found", "no file /ui/" + std::string(rel));
  }
  return FileResponse(req, rel, std::move(*body));
}

Response LoginPage(const Request& req) { return Asset(req, "login.html"); }

Response Redirect(std::string_view location) {
  Response res{http::status::see_other, 11};
  res.set(http::field::location, location);
  res.set(http::field::cache_control, "no-store");
  res.prepare_payload();
  return res;
}

Response Login(const Request& req, const std::string& token) {
  // The form body: token=VALUE (application/x-www-form-urlencoded), parsed as a query string.
  std::string form = req.body();
  std::replace(form.begin(), form.end(), '+', ' ');
  Result<Target> t = ParseTarget("/login?" + form);
  const std::string* given = t.ok() ? t->Param("token") : nullptr;
  std::string value = given == nullptr ? "" : *given;
  while (!value.empty() && (value.back() == ' ' || value.back() == '\n' || value.back() == '\r')) {
    value.pop_back();
  }
  if (value.empty() || !TokenEquals(value, token)) return Redirect("/login?error=1");
  Response res = Redirect("/");
  res.set(http::field::set_cookie, CookieHeader(token, false));
  return res;
}

Response Logout() {
  Response res = Redirect("/login");
  res.set(http::field::set_cookie, CookieHeader("", true));
  return res;
}

std::optional<std::string_view> CookieToken(std::string_view header) {
  while (!header.empty()) {
    const size_t semi = header.find(';');
    std::string_view pair = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    while (!pair.empty() && pair.back() == ' ') pair.remove_suffix(1);
    if (pair.size() > kCookie.size() && pair.starts_with(kCookie) && pair[kCookie.size()] == '=') {
      return pair.substr(kCookie.size() + 1);
    }
  }
  return std::nullopt;
}

bool SameOrigin(const Request& req) {
  auto origin = req.find(http::field::origin);
  if (origin == req.end()) return true;  // not a browser's cross-site request
  auto host = req.find(http::field::host);
  if (host == req.end()) return false;
  const std::string_view o = origin->value();
  return o == "http://" + std::string(host->value()) ||
         o == "https://" + std::string(host->value());
}

bool TokenEquals(std::string_view given, std::string_view want) {
  unsigned char diff = given.size() == want.size() ? 0 : 1;
  for (size_t i = 0; i < want.size(); ++i) {
    diff |= static_cast<unsigned char>(want[i] ^ (i < given.size() ? given[i] : 0));
  }
  return diff == 0;
}

}  // namespace tink::server::web
