// ExportGit: the canvas of a run as a git history (engine/canvas_git.h, docs/canvas.md).
#include "engine/canvas_git.h"

#include "projections/git_util.h"

#include <git2.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <system_error>
#include <unordered_map>

namespace tink::engine {
namespace {

namespace fs = std::filesystem;
using projections::CanvasChange;
using projections::CanvasReader;
using projections::FileVersion;

using projections::git::GitPtr;
using projections::git::OidHex;
void InitLibgit2() { projections::git::Init(); }

Status GitError(std::string_view what) {
  return Status::Failed(projections::git::LastError("git export: " + std::string(what)));
}

using Repo = GitPtr<git_repository, git_repository_free>;
using Config = GitPtr<git_config, git_config_free>;
using Tree = GitPtr<git_tree, git_tree_free>;
using TreeBuilder = GitPtr<git_treebuilder, git_treebuilder_free>;
using CommitPtr = GitPtr<git_commit, git_commit_free>;
using Signature = GitPtr<git_signature, git_signature_free>;
using Reference = GitPtr<git_reference, git_reference_free>;


std::string OneLine(std::string_view s) {
  std::string out(s);
  std::replace(out.begin(), out.end(), '\n', ' ');
  std::replace(out.begin(), out.end(), '\r', ' ');
  return out;
}

// Why `path` cannot go into a git tree ("" when it can): the canvas's own rule, plus no ".git"
// component at any depth (git and libgit2 refuse those, in any letter case).
std::string GitPathProblem(std::string_view path) {
  if (std::string why = projections::CanvasPathProblem(path); !why.empty()) return why;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    std::string part(path.substr(pos, end - pos));
    std::transform(part.begin(), part.end(), part.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (part == ".git") return "path has a .git component";
    pos = end + 1;
  }
  return "";
}

git_filemode_t FileMode(std::string_view mode) {
  if (mode == "100755") return GIT_FILEMODE_BLOB_EXECUTABLE;
  if (mode == "120000") return GIT_FILEMODE_LINK;
  return GIT_FILEMODE_BLOB;
}

// The tree being built: nested directories with cached tree ids, so a commit rewrites only the
// directories on the changed paths.
struct Dir {
  struct Entry {
    std::unique_ptr<Dir> dir;  // a directory, or else a file:
    git_oid oid{};
    git_filemode_t mode = GIT_FILEMODE_BLOB;
  };
  std::map<std::string, Entry, std::less<>> entries;
  git_oid tree{};
  bool dirty = true;
};

std::vector<std::string> Components(std::string_view path) {
  std::vector<std::string> parts;
  size_t pos = 0;
  while (true) {
    size_t end = path.find('/', pos);
    parts.emplace_back(path.substr(pos, end == std::string_view::npos ? path.npos : end - pos));
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  return parts;
}

// Places a file; "" or why it cannot be placed (a file/directory clash).
std::string Put(Dir* root, std::string_view path, const git_oid& oid, git_filemode_t mode) {
  std::vector<std::string> parts = Components(path);
  std::vector<Dir*> chain{root};
  Dir* d = root;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    auto it = d->entries.find(parts[i]);
    if (it == d->entries.end()) {
      it = d->entries.emplace(parts[i], Dir::Entry{std::make_unique<Dir>()}).first;
    } else if (!it->second.dir) {
      std::string prefix;
      for (size_t k = 0; k <= i; ++k) prefix += (k ? "/" : "") + parts[k];
      return prefix + " is a file";
    }
    d = it->second.dir.get();
    chain.push_back(d);
  }
  auto it = d->entries.find(parts.back());
  if (it != d->entries.end() && it->second.dir) return std::string(path) + " is a directory";
  Dir::Entry& e = d->entries[parts.back()];
  e.oid = oid;
  e.mode = mode;
  for (Dir* c : chain) c->dirty = true;
  return "";
}

void Remove(Dir* root, std::string_view path) {
  std::vector<std::string> parts = Components(path);
  std::vector<std::pair<Dir*, std::string>> chain;  // (dir, name in it)
  Dir* d = root;
  for (size_t i = 0; i < parts.size(); ++i) {
    auto it = d->entries.find(parts[i]);
    if (it == d->entries.end()) return;
    chain.emplace_back(d, parts[i]);
    if (i + 1 == parts.size()) {
      if (it->second.dir) return;  // a directory: not ours to remove by a file path
      break;
    }
    if (!it->second.dir) return;
    d = it->second.dir.get();
  }
  // Erase the file, then every directory the erase left empty.
  for (auto c = chain.rbegin(); c != chain.rend(); ++c) {
    auto it = c->first->entries.find(c->second);
    bool erase = !it->second.dir || it->second.dir->entries.empty();
    if (erase) c->first->entries.erase(it);
    c->first->dirty = true;
    for (auto up = c + 1; up != chain.rend(); ++up) up->first->dirty = true;
    if (!erase) break;
  }
}

Status WriteTree(git_repository* repo, Dir* d) {
  if (!d->dirty) return Status::Ok();
  TreeBuilder tb;
  if (git_treebuilder_new(tb.out(), repo, nullptr) != 0) return GitError("tree builder");
  for (auto& [name, e] : d->entries) {
    if (e.dir) {
      RETURN_IF_ERROR(WriteTree(repo, e.dir.get()));
      if (git_treebuilder_insert(nullptr, tb.get(), name.c_str(), &e.dir->tree,
                                 GIT_FILEMODE_TREE) != 0) {
        return GitError("tree entry " + name);
      }
    } else if (git_treebuilder_insert(nullptr, tb.get(), name.c_str(), &e.oid, e.mode) != 0) {
      return GitError("tree entry " + name);
    }
  }
  if (git_treebuilder_write(&d->tree, tb.get()) != 0) return GitError("tree");
  d->dirty = false;
  return Status::Ok();
}

// Loads an existing tree (the exported HEAD) into a Dir.
Status LoadTree(git_repository* repo, const git_oid& id, Dir* d) {
  Tree t;
  if (git_tree_lookup(t.out(), repo, &id) != 0) return GitError("tree " + OidHex(id));
  for (size_t i = 0, n = git_tree_entrycount(t.get()); i < n; ++i) {
    const git_tree_entry* te = git_tree_entry_byindex(t.get(), i);
    Dir::Entry e;
    if (git_tree_entry_type(te) == GIT_OBJECT_TREE) {
      e.dir = std::make_unique<Dir>();
      RETURN_IF_ERROR(LoadTree(repo, *git_tree_entry_id(te), e.dir.get()));
    } else {
      e.oid = *git_tree_entry_id(te);
      e.mode = git_tree_entry_filemode(te);
    }
    d->entries.emplace(git_tree_entry_name(te), std::move(e));
  }
  d->tree = id;
  d->dirty = false;
  return Status::Ok();
}

class Exporter {
 public:
  Exporter(CanvasReader& canvas, std::string_view run, git_repository* repo)
      : canvas_(canvas), run_(run), repo_(repo) {}

  // The file's state as of `lsn` into the tree: placed, or removed when it does not exist.
  Status Sync(std::string_view path, Lsn lsn, std::vector<std::string>* skipped) {
    if (std::string why = GitPathProblem(path); !why.empty()) {
      skipped->push_back(std::string(path) + ": " + why);
      return Status::Ok();
    }
    auto st = canvas_.Stat(run_, path, lsn);
    if (!st.ok()) return st.status();
    if (!st->has_value()) {
      Remove(&root_, path);
      return Status::Ok();
    }
    return Place(**st, skipped);
  }

  Status Place(const FileVersion& v, std::vector<std::string>* skipped) {
    if (std::string why = GitPathProblem(v.path); !why.empty()) {
      skipped->push_back(v.path + ": " + why);
      return Status::Ok();
    }
    auto blob = Blob(v.hash);
    if (!blob.ok()) return blob.status();
    if (std::string why = Put(&root_, v.path, *blob, FileMode(v.mode)); !why.empty()) {
      skipped->push_back(v.path + ": " + why);
    }
    return Status::Ok();
  }

  Result<git_oid> Commit(const std::optional<git_oid>& parent, std::string_view task,
                         int64_t time_ns, const std::string& message) {
    RETURN_IF_ERROR(WriteTree(repo_, &root_));
    Tree tree;
    if (git_tree_lookup(tree.out(), repo_, &root_.tree) != 0) return GitError("tree");
    Signature sig;
    int64_t secs = time_ns >= 0 ? time_ns / 1000000000 : -((-time_ns + 999999999) / 1000000000);
    if (git_signature_new(sig.out(), GitAuthorName(task).c_str(),
                          GitAuthorEmail(task, run_).c_str(), static_cast<git_time_t>(secs),
                          0) != 0) {
      return GitError("signature for task '" + std::string(task) + "'");
    }
    CommitPtr parent_commit;
    const git_commit* parents[1] = {nullptr};
    size_t nparents = 0;
    if (parent) {
      if (git_commit_lookup(parent_commit.out(), repo_, &*parent) != 0) return GitError("parent");
      parents[0] = parent_commit.get();
      nparents = 1;
    }
    git_oid id;
    if (git_commit_create(&id, repo_, nullptr, sig.get(), sig.get(), nullptr, message.c_str(),
                          tree.get(), nparents, parents) != 0) {
      return GitError("commit");
    }
    return id;
  }

  Dir& root() { return root_; }

 private:
  Result<git_oid> Blob(const std::string& hash) {
    auto it = blobs_.find(hash);
    if (it != blobs_.end()) return it->second;
    auto content = canvas_.Content(hash);
    if (!content.ok()) return content.status();
    git_oid oid;
    if (git_blob_create_from_buffer(&oid, repo_, content->data(), content->size()) != 0) {
      return GitError("blob");
    }
    blobs_.emplace(hash, oid);
    return oid;
  }

  CanvasReader& canvas_;
  std::string run_;
  git_repository* repo_;
  Dir root_;
  std::unordered_map<std::string, git_oid> blobs_;  // canvas hash -> blob id
};

std::string ChangeMessage(const CanvasChange& c) {
  std::string subject = c.type + " " + OneLine(c.path);
  if (!c.to.empty()) subject += " -> " + OneLine(c.to);
  subject += " (LSN " + std::to_string(c.lsn);
  if (!c.tool.empty()) subject += ", tool " + OneLine(c.tool);
  if (c.base) subject += ", base";
  subject += ")";
  std::string msg = subject + "\n\n";
  msg += "Tink-Run: " + OneLine(c.run) + "\n";
  msg += "Tink-Lsn: " + std::to_string(c.lsn) + "\n";
  msg += "Tink-Task: " + OneLine(c.task) + "\n";
  msg += "Tink-Type: " + c.type + "\n";
  if (!c.tool.empty()) msg += "Tink-Tool: " + OneLine(c.tool) + "\n";
  if (c.base) msg += "Tink-Base: true\n";
  return msg;
}

Result<std::optional<std::string>> ConfigString(git_config* cfg, const char* key) {
  git_buf buf = GIT_BUF_INIT;
  int rc = git_config_get_string_buf(&buf, cfg, key);
  if (rc == GIT_ENOTFOUND) return std::optional<std::string>();
  if (rc != 0) return GitError(std::string("config ") + key);
  std::string out(buf.ptr, buf.size);
  git_buf_dispose(&buf);
  return std::optional<std::string>(std::move(out));
}

struct Recorded {
  std::string run;
  Lsn lsn = 0, base = 0;
  git_oid commit{}, base_commit{};
};

// Opens out_dir as an earlier export of `run`, or says why it is not one.
Status OpenExisting(const std::string& out_dir, std::string_view run, Repo* repo, Recorded* rec) {
  const std::string refuse = out_dir + " is not empty and is not a git export of run '" +
                             std::string(run) + "' (export into a new or empty directory)";
  if (git_repository_open_ext(repo->out(), out_dir.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH,
                              nullptr) != 0) {
    return Status::InvalidArgument(refuse);
  }
  const char* workdir = git_repository_workdir(repo->get());
  std::error_code ec;
  if (workdir == nullptr || !fs::equivalent(workdir, out_dir, ec)) {
    return Status::InvalidArgument(refuse + ": it is a bare repository or not its worktree");
  }
  Config cfg;
  if (git_repository_config_snapshot(cfg.out(), repo->get()) != 0) return GitError("config");
  ASSIGN_OR_RETURN(std::optional<std::string> r, ConfigString(cfg.get(), "tink.run"));
  if (!r) return Status::InvalidArgument(refuse + ": a git repository tink did not write");
  if (*r != run) {
    return Status::InvalidArgument(out_dir + " is the git export of run '" + *r + "', not '" +
                                   std::string(run) + "'");
  }
  rec->run = *r;
  ASSIGN_OR_RETURN(std::optional<std::string> lsn, ConfigString(cfg.get(), "tink.lsn"));
  ASSIGN_OR_RETURN(std::optional<std::string> base, ConfigString(cfg.get(), "tink.base"));
  ASSIGN_OR_RETURN(std::optional<std::string> commit, ConfigString(cfg.get(), "tink.commit"));
  if (!lsn || !base || !commit || git_oid_fromstr(&rec->commit, commit->c_str()) != 0) {
    return Status::InvalidArgument(out_dir +
                                   ": tink.lsn, tink.base or tink.commit missing from "
                                   ".git/config (an interrupted export? export into a "
                                   "new directory)");
  }
  try {
    rec->lsn = std::stoull(*lsn);
    rec->base = std::stoull(*base);
  } catch (const std::exception&) {
    return Status::InvalidArgument(out_dir + ": bad tink.lsn or tink.base in .git/config");
  }
  git_oid main;
  if (git_reference_name_to_id(&main, repo->get(), "refs/heads/main") != 0 ||
      !git_oid_equal(&main, &rec->commit)) {
    return Status::Conflict(out_dir + ": refs/heads/main is not the commit tink exported last (" +
                            *commit + "); it moved since, so new changes have nowhere to go");
  }
  if (git_reference_name_to_id(&rec->base_commit, repo->get(), "refs/tink/base") != 0) {
    return Status::InvalidArgument(out_dir + ": refs/tink/base is missing");
  }
  return Status::Ok();
}

}  // namespace

std::string GitAuthorName(std::string_view task) {
  std::string name;
  for (char c : task) name.push_back(c == '<' || c == '>' || c == '\n' || c == '\r' ? '_' : c);
  bool blank = std::all_of(name.begin(), name.end(),
                           [](unsigned char c) { return std::isspace(c) || c == '.' || c == ','; });
  return blank ? "agent" : name;
}

std::string GitAuthorEmail(std::string_view task, std::string_view run) {
  auto clean = [](std::string_view s, const char* fallback) {
    std::string out;
    for (unsigned char c : s) {
      out.push_back(std::isalnum(c) || c == '.' || c == '_' || c == '-' ? static_cast<char>(c)
                                                                        : '-');
    }
    return out.empty() ? std::string(fallback) : out;
  };
  return clean(task, "agent") + "@" + clean(run, "run") + ".tink";
}

Result<GitExportResult> ExportGit(projections::StateReader& reader, std::string_view run,
                                  const std::string& out_dir, const GitExportOptions& options) {
  InitLibgit2();
  CanvasReader canvas(reader);
  const Lsn head = options.to == 0 ? canvas.head() : std::min(options.to, canvas.head());
  ASSIGN_OR_RETURN(std::vector<std::string> runs, canvas.Runs(head));
  if (std::find(runs.begin(), runs.end(), run) == runs.end()) {
    return Status::NotFound("run '" + std::string(run) +
                            "' has no canvas (no file events) as of "
                            "LSN " +
                            std::to_string(head));
  }
  ASSIGN_OR_RETURN(Lsn base, canvas.BasePoint(run, head));

  GitExportResult res;
  res.base_lsn = base;
  std::error_code ec;
  const bool exists = fs::exists(out_dir, ec);
  if (exists && !fs::is_directory(out_dir, ec)) {
    return Status::InvalidArgument(out_dir + " exists and is not a directory");
  }
  const bool fresh = !exists || fs::is_empty(out_dir, ec);
  Repo repo;
  Recorded rec;
  if (fresh) {
    git_repository_init_options init = GIT_REPOSITORY_INIT_OPTIONS_INIT;
    init.flags = GIT_REPOSITORY_INIT_MKPATH;
    init.initial_head = "main";
    if (git_repository_init_ext(repo.out(), out_dir.c_str(), &init) != 0) {
      return GitError("init " + out_dir);
    }
    // Named at once, so an interrupted first export is recognised as ours (and refused with
    // a clear reason) rather than as a stranger's repository.
    Config cfg;
    if (git_repository_config(cfg.out(), repo.get()) != 0 ||
        git_config_set_string(cfg.get(), "tink.run", std::string(run).c_str()) != 0) {
      return GitError("config");
    }
    res.created = true;
  } else {
    RETURN_IF_ERROR(OpenExisting(out_dir, run, &repo, &rec));
    if (rec.lsn > canvas.head()) {
      return Status::InvalidArgument(out_dir + " holds run '" + std::string(run) + "' up to LSN " +
                                     std::to_string(rec.lsn) +
                                     " but the store's canvas ends at LSN " +
                                     std::to_string(canvas.head()) + " (a different store?)");
    }
  }

  Exporter ex(canvas, run, repo.get());
  std::optional<git_oid> parent;
  git_oid base_commit{};
  Lsn from = 0;
  std::optional<git_oid> old_tree;
  if (fresh) {
    // The base commit: the tree as of the base point, dated and signed by the base event.
    ASSIGN_OR_RETURN(std::vector<FileVersion> files, canvas.Tree(run, base));
    for (const FileVersion& v : files) RETURN_IF_ERROR(ex.Place(v, &res.skipped));
    std::string task = "base";
    int64_t time_ns = 0;
    ASSIGN_OR_RETURN(std::vector<CanvasChange> first,
                     canvas.Changes(run, base == 0 ? 0 : base - 1, base == 0 ? head : base));
    if (!first.empty()) {
      time_ns = first.front().time_ns;
      if (base != 0 && !first.front().task.empty()) task = first.front().task;
    }
    std::string subject = base == 0 ? "base (empty)"
                                    : "base: " + std::to_string(files.size()) + " files (LSN " +
                                          std::to_string(base) + ")";
    std::string msg = subject + "\n\nTink-Run: " + OneLine(run) +
                      "\nTink-Lsn: " + std::to_string(base) + "\nTink-Type: base\n";
    ASSIGN_OR_RETURN(base_commit, ex.Commit(std::nullopt, task, time_ns, msg));
    parent = base_commit;
    res.commits_added = 1;
    from = base;
  } else {
    CommitPtr head_commit;
    if (git_commit_lookup(head_commit.out(), repo.get(), &rec.commit) != 0) {
      return GitError("commit " + OidHex(rec.commit));
    }
    old_tree = *git_commit_tree_id(head_commit.get());
    RETURN_IF_ERROR(LoadTree(repo.get(), *old_tree, &ex.root()));
    parent = rec.commit;
    base_commit = rec.base_commit;
    from = rec.lsn;
  }
  res.from = from;
  res.to = std::max(from, head);

  ASSIGN_OR_RETURN(std::vector<CanvasChange> changes, canvas.Changes(run, from, head));
  if (!fresh && changes.empty()) {
    res.up_to_date = true;
    res.head = OidHex(rec.commit);
    res.base_commit = OidHex(rec.base_commit);
    res.to = rec.lsn;
    return res;
  }
  for (const CanvasChange& c : changes) {
    RETURN_IF_ERROR(ex.Sync(c.path, c.lsn, &res.skipped));
    if (!c.to.empty()) RETURN_IF_ERROR(ex.Sync(c.to, c.lsn, &res.skipped));
    ASSIGN_OR_RETURN(git_oid id, ex.Commit(parent, c.task, c.time_ns, ChangeMessage(c)));
    // A base write after an earlier export moves the base point: refs/tink/base follows it, so
    // `git diff refs/tink/base HEAD` stays the canvas's diff from its base.
    if (c.lsn == base) base_commit = id;
    parent = id;
    ++res.commits_added;
  }

  // Refs, then what the repository remembers, then the worktree.
  Reference ref;
  if (git_reference_create(ref.out(), repo.get(), "refs/heads/main", &*parent, 1,
                           "tink canvas git") != 0) {
    return GitError("refs/heads/main");
  }
  Reference base_ref;
  if (git_reference_create(base_ref.out(), repo.get(), "refs/tink/base", &base_commit, 1,
                           "tink canvas git: base") != 0) {
    return GitError("refs/tink/base");
  }
  Config cfg;
  if (git_repository_config(cfg.out(), repo.get()) != 0 ||
      git_config_set_string(cfg.get(), "tink.run", std::string(run).c_str()) != 0 ||
      git_config_set_string(cfg.get(), "tink.lsn", std::to_string(res.to).c_str()) != 0 ||
      git_config_set_string(cfg.get(), "tink.base", std::to_string(base).c_str()) != 0 ||
      git_config_set_string(cfg.get(), "tink.commit", OidHex(*parent).c_str()) != 0) {
    return GitError("config");
  }
  res.head = OidHex(*parent);
  res.base_commit = OidHex(base_commit);

  if (options.checkout) {
    CommitPtr target;
    if (git_commit_lookup(target.out(), repo.get(), &*parent) != 0) return GitError("HEAD");
    Tree baseline;
    git_checkout_options co = GIT_CHECKOUT_OPTIONS_INIT;
    co.checkout_strategy = GIT_CHECKOUT_FORCE;
    if (old_tree) {
      // Files of the previous export that the new HEAD no longer has are removed.
      if (git_tree_lookup(baseline.out(), repo.get(), &*old_tree) != 0) return GitError("tree");
      co.baseline = baseline.get();
    }
    if (git_checkout_tree(repo.get(), reinterpret_cast<git_object*>(target.get()), &co) != 0) {
      return GitError("checkout of HEAD into " + out_dir);
    }
  }
  return res;
}

}  // namespace tink::engine
