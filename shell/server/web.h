// The web view's side of tink serve (docs/web.md, docs/http.md "The web view"): its files
// (GET / and GET /ui/PATH, compiled in, or read from $TINK_WEB_DIR for development), the login
// page that turns the bearer token into an HttpOnly, SameSite=Strict cookie, and the cookie's
// parsing for Api::CheckAuth. Nothing here blocks or throws.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "shell/server/api.h"

namespace tink::server::web {

// The cookie that carries the token after a login.
inline constexpr std::string_view kCookie = "tink_token";

// Paths answered without a token: the login page, the logout and the static files (they hold
// no data).
bool IsPublic(std::string_view path);

// GET|HEAD / (rel = index.html) and /ui/PATH (rel = PATH): the file, or 404.
Response Asset(const Request& req, std::string_view rel);
// GET /login: the login page. POST /login (form: token=...): 303 to / with the cookie set when
// the token is right, else 303 to /login?error=1. POST /logout: the cookie cleared, 303 /login.
Response LoginPage(const Request& req);
Response Login(const Request& req, const std::string& token);
Response Logout();
// 303 to LOCATION (GET / without a token goes to /login).
Response Redirect(std::string_view location);

// The token in a Cookie header, if it has tink_token.
std::optional<std::string_view> CookieToken(std::string_view cookie_header);
// A cookie-authenticated request that changes something must come from the page itself: an
// Origin other than the request's own host is refused (SameSite=Strict already keeps browsers
// from sending the cookie cross-site; this holds for older ones too).
bool SameOrigin(const Request& req);

// Constant-time comparison (the length is not a secret worth hiding).
bool TokenEquals(std::string_view given, std::string_view want);

}  // namespace tink::server::web
