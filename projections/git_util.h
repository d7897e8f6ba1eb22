// Small libgit2 helpers shared by the canvas's diffs (projections/textdiff.cc) and its git export
// (engine/canvas_git.cc): one-time library initialisation, the last error as text, an owning
// pointer for libgit2 objects, object ids as hex.
//
// Thread safety: Init is safe to call from any thread; the rest are plain values.
#pragma once

#include <git2.h>

#include <mutex>
#include <string>
#include <string_view>

namespace tink::projections::git {

inline void Init() {
  static std::once_flag once;
  std::call_once(once, [] { git_libgit2_init(); });
}

// "<what>: <libgit2's last error message>" (just `what` when libgit2 has none).
inline std::string LastError(std::string_view what) {
  const git_error* e = git_error_last();
  std::string msg(what);
  if (e != nullptr && e->message != nullptr) {
    msg += ": ";
    msg += e->message;
  }
  return msg;
}

// Owns a libgit2 object: GitPtr<git_tree, git_tree_free> t; git_tree_lookup(t.out(), ...).
template <typename T, void (*Free)(T*)>
struct GitPtr {
  T* p = nullptr;
  GitPtr() = default;
  GitPtr(const GitPtr&) = delete;
  GitPtr& operator=(const GitPtr&) = delete;
  ~GitPtr() {
    if (p != nullptr) Free(p);
  }
  T** out() { return &p; }
  T* get() const { return p; }
};

inline std::string OidHex(const git_oid& oid) {
  char hex[GIT_OID_HEXSZ + 1];
  git_oid_tostr(hex, sizeof hex, &oid);
  return hex;
}

}  // namespace tink::projections::git
