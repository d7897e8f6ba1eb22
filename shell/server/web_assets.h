// The web view's files (shell/web/, docs/web.md), compiled into the binary by
// shell/server/embed_web.cmake: one entry per file, its path relative to shell/web/.
#pragma once

#include <span>
#include <string_view>

namespace tink::server {

struct WebAsset {
  std::string_view path;  // "index.html", "pages/runs.js", ...
  std::string_view data;
};

// Every embedded file, sorted by path.
std::span<const WebAsset> EmbeddedWebAssets();

}  // namespace tink::server
