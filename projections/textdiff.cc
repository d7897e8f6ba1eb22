#include "projections/textdiff.h"

#include "projections/git_util.h"

#include <git2.h>
#include <git2/sys/mempack.h>
#include <git2/sys/repository.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <mutex>

namespace tink::projections::text {
namespace {

using git::GitPtr;
void InitLibgit2() { git::Init(); }
std::string LastGitError(std::string_view what) { return git::LastError(what); }

using Patch = GitPtr<git_patch, git_patch_free>;
using Diff = GitPtr<git_diff, git_diff_free>;
using Tree = GitPtr<git_tree, git_tree_free>;
using TreeBuilder = GitPtr<git_treebuilder, git_treebuilder_free>;
using Index = GitPtr<git_index, git_index_free>;
using Blob = GitPtr<git_blob, git_blob_free>;

struct Buf {
  git_buf b = GIT_BUF_INIT;
  ~Buf() { git_buf_dispose(&b); }
};

// An in-memory repository (mempack object database) per thread, for git_apply_to_tree.
struct MemRepo {
  git_repository* repo = nullptr;
  git_odb* odb = nullptr;
  git_odb_backend* mempack = nullptr;
  bool ok = false;
  MemRepo() {
    InitLibgit2();
    if (git_odb_new(&odb) != 0 || git_mempack_new(&mempack) != 0 ||
        git_odb_add_backend(odb, mempack, 1) != 0 || git_repository_wrap_odb(&repo, odb) != 0) {
      return;
    }
    ok = true;
  }
  ~MemRepo() {
    if (repo != nullptr) git_repository_free(repo);
    if (odb != nullptr) git_odb_free(odb);  // frees the backend
  }
};

// Replaces whatever file headers `diff` has with one canonical header for path "f", so bare
// hunks and any a/ b/ naming apply alike. A diff for more than one file is refused.
Result<std::string> CanonicalPatch(std::string_view diff) {
  size_t hunk = std::string_view::npos;
  size_t pos = 0;
  int headers = 0;
  while (pos < diff.size()) {
    size_t end = diff.find('\n', pos);
    std::string_view line = diff.substr(pos, end == std::string_view::npos ? diff.size() - pos
                                                                          : end - pos);
    if (line.starts_with("+++ ")) ++headers;
    if (line.starts_with("@@ ") && hunk == std::string_view::npos) hunk = pos;
    if (line.starts_with("diff --git ") && hunk != std::string_view::npos) {
      return Status::InvalidArgument("the diff touches more than one file");
    }
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  if (headers > 1) return Status::InvalidArgument("the diff touches more than one file");
  if (hunk == std::string_view::npos) return Status::InvalidArgument("the diff has no hunk");
  std::string out = "diff --git a/f b/f\n--- a/f\n+++ b/f\n";
  out.append(diff.substr(hunk));
  if (!out.empty() && out.back() != '\n') out.push_back('\n');
  return out;
}

// `git apply` finds a hunk whose stated position is off by searching for its preimage (context
// and removed lines) nearby; libgit2 applies at the stated line only. So when a patch does not
// apply as written, each hunk header is rewritten to where its preimage occurs nearest to the
// stated line (at or after the previous hunk), and the patch is tried once more. The lines
// themselves are never changed.
std::optional<std::string> RelocateHunks(std::string_view content, const std::string& patch) {
  std::vector<std::string_view> text = SplitLines(content);
  std::vector<std::string_view> lines = SplitLines(patch);
  std::string out;
  size_t min_line = 0;   // 0-based: a hunk may not start before the previous one ended
  int64_t shift = 0;     // new-side offset from the lines added/removed by earlier hunks
  for (size_t i = 0; i < lines.size();) {
    std::string_view l = lines[i];
    if (!l.starts_with("@@ -")) {
      out.append(l).push_back('\n');
      ++i;
      continue;
    }
    long old_start = 0, new_start = 0;
    if (std::sscanf(std::string(l).c_str(), "@@ -%ld", &old_start) != 1) return std::nullopt;
    size_t end = i + 1;
    std::vector<std::string_view> pre;
    int64_t old_count = 0, new_count = 0;
    std::string body;
    for (; end < lines.size() && !lines[end].starts_with("@@ "); ++end) {
      std::string_view b = lines[end];
      if (b.starts_with("diff --git ")) break;
      if (!b.empty() && (b[0] == ' ' || b[0] == '-')) {
        pre.push_back(b.substr(1));
        ++old_count;
      }
      if (!b.empty() && (b[0] == ' ' || b[0] == '+')) ++new_count;
      body.append(b).push_back('\n');
    }
    // Search outward from the stated position for the preimage.
    auto matches = [&](size_t at) {
      if (at + pre.size() > text.size()) return false;
      for (size_t k = 0; k < pre.size(); ++k) {
        if (text[at + k] != pre[k]) return false;
      }
      return true;
    };
    size_t stated = old_start > 0 ? static_cast<size_t>(old_start - 1) : 0;
    std::optional<size_t> found;
    for (size_t d = 0; !found && d <= std::max(stated, text.size()); ++d) {
      if (stated >= d && stated - d >= min_line && matches(stated - d)) found = stated - d;
      else if (stated + d >= min_line && matches(stated + d)) found = stated + d;
    }
    if (!found) return std::nullopt;
    old_start = static_cast<long>(*found) + (old_count == 0 ? 0 : 1);
    new_start = static_cast<long>(static_cast<int64_t>(*found) + shift) + (new_count == 0 ? 0 : 1);
    out += "@@ -" + std::to_string(old_start) + "," + std::to_string(old_count) + " +" +
           std::to_string(new_start) + "," + std::to_string(new_count) + " @@\n";
    out += body;
    min_line = *found + pre.size();
    shift += new_count - old_count;
    i = end;
  }
  return out;
}

// git_patch_from_buffers knows no file modes: its header always says 100644. Rewrites the header
// lines (those before "--- ", "@@" or a binary patch) to the sides' modes as `git diff` prints
// them: "new file mode M", "deleted file mode M", "index X..Y M" when the mode is unchanged, and
// "old mode A" / "new mode B" before a bare "index X..Y" when it changed.
std::string WithModes(std::string diff, const FileSide& a, const FileSide& b) {
  std::string out;
  size_t pos = 0;
  bool header = true;
  while (pos < diff.size()) {
    size_t end = diff.find('\n', pos);
    end = end == std::string::npos ? diff.size() : end + 1;
    std::string_view line(diff.data() + pos, end - pos);
    pos = end;
    if (header && (line.starts_with("--- ") || line.starts_with("@@") ||
                   line.starts_with("GIT binary patch") || line.starts_with("Binary files"))) {
      header = false;
    }
    if (header && line.starts_with("new file mode ")) {
      out += "new file mode " + b.mode + "\n";
    } else if (header && line.starts_with("deleted file mode ")) {
      out += "deleted file mode " + a.mode + "\n";
    } else if (header && line.starts_with("index ") && a.content && b.content) {
      std::string_view ids = line.substr(6);
      ids = ids.substr(0, ids.find_first_of(" \n"));
      if (a.mode == b.mode) {
        out += "index " + std::string(ids) + " " + a.mode + "\n";
      } else {
        out += "old mode " + a.mode + "\nnew mode " + b.mode + "\nindex " + std::string(ids) + "\n";
      }
    } else {
      out.append(line);
    }
  }
  return out;
}

}  // namespace

std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) {
      lines.push_back(text.substr(pos));
      break;
    }
    lines.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return lines;
}

std::string GitBlobId(std::string_view content) {
  InitLibgit2();
  git_oid oid;
  if (git_odb_hash(&oid, content.data(), content.size(), GIT_OBJECT_BLOB) != 0) return {};
  return git::OidHex(oid);
}

Result<std::string> UnifiedDiff(const FileSide& a, const FileSide& b, int context_lines) {
  InitLibgit2();
  if (a.content == b.content && (a.content.has_value() == b.content.has_value()) &&
      a.mode == b.mode) {
    return std::string();
  }
  if (!a.content && !b.content) return std::string();
  if (a.content && b.content && *a.content == *b.content) {  // only the mode changed
    return "diff --git a/" + a.path + " b/" + b.path + "\nold mode " + a.mode + "\nnew mode " +
           b.mode + "\n";
  }
  git_diff_options opts = GIT_DIFF_OPTIONS_INIT;
  opts.context_lines = static_cast<uint32_t>(context_lines);
  opts.flags |= GIT_DIFF_SHOW_BINARY;
  const std::string& path = a.content ? a.path : b.path;
  // A missing side is the empty buffer with no path (libgit2 then prints new/deleted file).
  std::string_view ac = a.content.value_or(std::string_view());
  std::string_view bc = b.content.value_or(std::string_view());
  Patch patch;
  if (git_patch_from_buffers(patch.out(), a.content ? ac.data() : nullptr, ac.size(),
                             a.content ? a.path.c_str() : nullptr,
                             b.content ? bc.data() : nullptr, bc.size(),
                             b.content ? b.path.c_str() : nullptr, &opts) != 0) {
    return Status::IOError(LastGitError("diff of " + path));
  }
  Buf buf;
  if (git_patch_to_buf(&buf.b, patch.get()) != 0) {
    return Status::IOError(LastGitError("diff of " + path));
  }
  return WithModes(std::string(buf.b.ptr, buf.b.size), a, b);
}

Result<std::string> ApplyPatch(std::string_view content, std::string_view diff) {
  if (diff.empty()) return std::string(content);  // what UnifiedDiff says of no change
  auto canonical = CanonicalPatch(diff);
  if (!canonical.ok()) return canonical.status();
  thread_local MemRepo mem;
  if (!mem.ok) return Status::IOError(LastGitError("in-memory repository"));
  struct Reset {
    git_odb_backend* b;
    ~Reset() { git_mempack_reset(b); }
  } reset{mem.mempack};

  git_oid blob_id, tree_id;
  if (git_blob_create_from_buffer(&blob_id, mem.repo, content.data(), content.size()) != 0) {
    return Status::IOError(LastGitError("blob"));
  }
  TreeBuilder tb;
  if (git_treebuilder_new(tb.out(), mem.repo, nullptr) != 0 ||
      git_treebuilder_insert(nullptr, tb.get(), "f", &blob_id, GIT_FILEMODE_BLOB) != 0 ||
      git_treebuilder_write(&tree_id, tb.get()) != 0) {
    return Status::IOError(LastGitError("tree"));
  }
  Tree tree;
  if (git_tree_lookup(tree.out(), mem.repo, &tree_id) != 0) {
    return Status::IOError(LastGitError("tree"));
  }
  Diff parsed;
  if (git_diff_from_buffer(parsed.out(), canonical->data(), canonical->size()) != 0) {
    return Status::InvalidArgument(LastGitError("the diff does not parse"));
  }
  Index index;
  if (git_apply_to_tree(index.out(), mem.repo, tree.get(), parsed.get(), nullptr) != 0) {
    std::string why = LastGitError("the patch does not apply");
    std::optional<std::string> moved = RelocateHunks(content, *canonical);
    Diff reparsed;
    if (!moved || git_diff_from_buffer(reparsed.out(), moved->data(), moved->size()) != 0 ||
        git_apply_to_tree(index.out(), mem.repo, tree.get(), reparsed.get(), nullptr) != 0) {
      return Status::Conflict(why);
    }
  }
  const git_index_entry* entry = git_index_get_bypath(index.get(), "f", 0);
  if (entry == nullptr) return std::string();
  Blob blob;
  if (git_blob_lookup(blob.out(), mem.repo, &entry->id) != 0) {
    return Status::IOError(LastGitError("patched blob"));
  }
  return std::string(static_cast<const char*>(git_blob_rawcontent(blob.get())),
                     static_cast<size_t>(git_blob_rawsize(blob.get())));
}

Result<std::vector<int64_t>> LineOrigins(std::string_view before, std::string_view after) {
  InitLibgit2();
  std::vector<int64_t> origin(SplitLines(after).size(), -1);
  git_diff_options opts = GIT_DIFF_OPTIONS_INIT;
  opts.context_lines = 0;
  opts.flags |= GIT_DIFF_FORCE_TEXT;
  // Unchanged lines are those outside every hunk; walk the hunks and map the gaps between them.
  struct Walk {
    std::vector<int64_t>* origin;
    int64_t old_next = 1, new_next = 1;  // 1-based next line after the previous hunk
    void Gap(int64_t new_end) {          // lines [new_next, new_end) are unchanged
      for (int64_t n = new_next; n < new_end; ++n) {
        size_t i = static_cast<size_t>(n - 1);
        if (i < origin->size()) (*origin)[i] = old_next + (n - new_next) - 1;
      }
    }
  } walk{&origin};
  auto hunk_cb = [](const git_diff_delta*, const git_diff_hunk* h, void* payload) -> int {
    auto* w = static_cast<Walk*>(payload);
    // With zero context, a pure insertion reports old_start as the line before it.
    int64_t old_start = h->old_lines == 0 ? h->old_start + 1 : h->old_start;
    int64_t new_start = h->new_lines == 0 ? h->new_start + 1 : h->new_start;
    w->Gap(new_start);
    w->old_next = old_start + h->old_lines;
    w->new_next = new_start + h->new_lines;
    return 0;
  };
  if (git_diff_buffers(before.data(), before.size(), nullptr, after.data(), after.size(), nullptr,
                       &opts, nullptr, nullptr, hunk_cb, nullptr, &walk) != 0) {
    return Status::IOError(LastGitError("line diff"));
  }
  walk.Gap(static_cast<int64_t>(origin.size()) + 1);
  return origin;
}

}  // namespace tink::projections::text
