// GitBundle: a run's canvas history as one git bundle file (engine/canvas_git.h), for the web
// view's download. The history is ExportGit's; the pack is libgit2's packbuilder; the header is
// git's bundle format v2 ("# v2 git bundle", one "OID REFNAME" line per ref, an empty line).
#include <git2.h>
#include <stdlib.h>

#include <filesystem>
#include <system_error>

#include "engine/canvas_git.h"
#include "projections/git_util.h"

namespace tink::engine {
namespace {

using projections::git::GitPtr;
using projections::git::OidHex;

using Repo = GitPtr<git_repository, git_repository_free>;
using PackBuilder = GitPtr<git_packbuilder, git_packbuilder_free>;
using RevWalk = GitPtr<git_revwalk, git_revwalk_free>;

Status GitError(std::string_view what) {
  return Status::Failed(projections::git::LastError("git bundle: " + std::string(what)));
}

// Removes the directory (and what is in it) when it goes out of scope.
struct TempDir {
  std::string path;
  ~TempDir() {
    if (path.empty()) return;
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

}  // namespace

Result<std::string> GitBundle(projections::StateReader& reader, std::string_view run,
                              const std::string& tmp_parent) {
  TempDir dir;
  std::string tmpl = tmp_parent + "/tink-bundle-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return Status::IOError("git bundle: cannot make a directory under " + tmp_parent);
  }
  dir.path = tmpl;
  GitExportOptions options;
  options.checkout = false;
  ASSIGN_OR_RETURN(GitExportResult exported, ExportGit(reader, run, dir.path + "/repo", options));
  projections::git::Init();
  Repo repo;
  if (git_repository_open(repo.out(), (dir.path + "/repo").c_str()) != 0) return GitError("open");
  git_oid head, base;
  if (git_oid_fromstr(&head, exported.head.c_str()) != 0 ||
      git_oid_fromstr(&base, exported.base_commit.c_str()) != 0) {
    return GitError("the exported refs");
  }
  PackBuilder pb;
  if (git_packbuilder_new(pb.out(), repo.get()) != 0) return GitError("packbuilder");
  RevWalk walk;
  if (git_revwalk_new(walk.out(), repo.get()) != 0) return GitError("revwalk");
  if (git_revwalk_push(walk.get(), &head) != 0 || git_revwalk_push(walk.get(), &base) != 0) {
    return GitError("revwalk push");
  }
  if (git_packbuilder_insert_walk(pb.get(), walk.get()) != 0) return GitError("pack the history");
  git_buf pack = GIT_BUF_INIT;
  if (git_packbuilder_write_buf(&pack, pb.get()) != 0) return GitError("write the pack");
  std::string out = "# v2 git bundle\n";
  out += OidHex(head) + " HEAD\n";
  out += OidHex(head) + " refs/heads/main\n";
  out += OidHex(base) + " refs/tink/base\n";
  out += "\n";
  out.append(pack.ptr, pack.size);
  git_buf_dispose(&pack);
  return out;
}

}  // namespace tink::engine
