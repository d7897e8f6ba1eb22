// Working-directory snapshots and the canvas events between two of them.
#include "engine/exec/internal/snapshot.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "engine/exec/internal/output.h"
#include "projections/textdiff.h"

namespace tink::exec::internal {
namespace {

namespace fs = std::filesystem;

std::string Hex128(std::string_view bytes) {
  const XXH128_hash_t h = XXH3_128bits(bytes.data(), bytes.size());
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(h.high64),
                static_cast<unsigned long long>(h.low64));
  return buf;
}

// Reads a whole regular file without following a symlink put in its place meanwhile.
std::optional<std::string> ReadRegular(const std::string& path, uint64_t size_hint) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return std::nullopt;
  std::string out;
  out.reserve(size_hint);
  char buf[1 << 16];
  for (;;) {
    const ssize_t r = ::read(fd, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      ::close(fd);
      return std::nullopt;
    }
    if (r == 0) break;
    out.append(buf, static_cast<size_t>(r));
  }
  ::close(fd);
  return out;
}

// The text the canvas gets for a file's content.
std::string CanvasContent(const FileState& f) {
  if (IsText(*f.content)) return *f.content;
  return BinaryStub(f.size, f.hash);
}

FileEvent Event(std::string type, const nlohmann::json& data) {
  FileEvent e;
  e.type = std::move(type);
  e.data_json = data.dump();
  e.bytes = e.data_json.size();
  return e;
}

FileEvent Write(const std::string& task, const std::string& path, const FileState& f, bool base) {
  nlohmann::json d;
  d["task"] = task;
  d["path"] = path;
  d["content"] = CanvasContent(f);
  if (base) d["base"] = true;
  d["mode"] = f.mode;
  return Event("file.write", d);
}

}  // namespace

std::string BinaryStub(uint64_t size, const std::string& hash) {
  return "tink exec: binary file, " + std::to_string(size) + " bytes, xxh3-128 " + hash + "\n";
}

Snapshot TakeSnapshot(const std::string& root, const SnapshotLimits& limits,
                      const Snapshot* unchanged_from) {
  Snapshot snap;
  size_t total = 0;
  std::error_code ec;
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
  if (ec) {
    snap.complete = false;
    snap.notes.push_back("cannot read " + root + ": " + ec.message());
    return snap;
  }
  for (const fs::recursive_directory_iterator end; it != end; it.increment(ec)) {
    if (ec) {
      snap.notes.push_back("cannot read under " + root + ": " + ec.message());
      ec.clear();
      continue;
    }
    const fs::directory_entry& entry = *it;
    const std::string name = entry.path().filename().string();
    const fs::file_status st = entry.symlink_status(ec);
    if (ec) {
      ec.clear();
      continue;
    }
    const bool excluded = std::find(limits.exclude.begin(), limits.exclude.end(),
                                    entry.path().string()) != limits.exclude.end();
    if (fs::is_directory(st)) {
      if (name == ".git" || excluded) it.disable_recursion_pending();
      continue;
    }
    if (excluded) continue;
    const std::string rel = entry.path().lexically_relative(root).generic_string();
    if (!fs::is_regular_file(st) && !fs::is_symlink(st)) continue;  // fifos, sockets, devices
    if (name == ".git") continue;                                   // a worktree's .git file
    if (!IsText(rel)) {
      snap.notes.push_back("skipped a path that is not UTF-8 text");
      continue;
    }
    if (snap.files.size() >= limits.max_files) {
      snap.complete = false;
      snap.notes.push_back("more than " + std::to_string(limits.max_files) +
                           " files under the working directory: file changes not recorded");
      return snap;
    }
    const std::string full = entry.path().string();
    struct stat sb {};
    if (::lstat(full.c_str(), &sb) != 0) continue;
    FileState f;
    f.size = static_cast<uint64_t>(sb.st_size);
    if (S_ISLNK(sb.st_mode)) {
      f.mode = "120000";
      std::string target(static_cast<size_t>(sb.st_size) + 1, '\0');
      const ssize_t n = ::readlink(full.c_str(), target.data(), target.size());
      if (n < 0) continue;
      target.resize(static_cast<size_t>(n));
      f.size = target.size();
      f.hash = Hex128(target);
      f.content = std::move(target);
    } else {
      f.mode = (sb.st_mode & 0111) != 0 ? "100755" : "100644";
      if (f.size > limits.max_file_bytes || total + f.size > limits.max_total_bytes) {
        f.hash = "size " + std::to_string(f.size) + " mtime " + std::to_string(sb.st_mtim.tv_sec) +
                 "." + std::to_string(sb.st_mtim.tv_nsec);
      } else {
        std::optional<std::string> content = ReadRegular(full, f.size);
        if (!content) {
          snap.notes.push_back("cannot read " + rel);
          continue;
        }
        f.size = content->size();
        f.hash = Hex128(*content);
        const FileState* before = nullptr;
        if (unchanged_from != nullptr) {
          auto it = unchanged_from->files.find(rel);
          if (it != unchanged_from->files.end()) before = &it->second;
        }
        if (before == nullptr || before->hash != f.hash || before->mode != f.mode) {
          total += content->size();
          f.content = std::move(content);
        }
      }
    }
    snap.files.emplace(rel, std::move(f));
  }
  return snap;
}

FileChanges DiffSnapshots(const Snapshot& before, const Snapshot& after, const std::string& task) {
  FileChanges out;
  if (!before.complete || !after.complete) {
    out.notes.push_back("file changes not recorded: the working directory has too many files");
    return out;
  }
  auto too_large = [&](const std::string& path, const char* what) {
    out.notes.push_back(std::string(what) + " " + path +
                        " not recorded: larger than the snapshot's limits");
  };
  std::vector<std::string> deleted, created, modified;
  for (const auto& [path, f] : before.files) {
    auto it = after.files.find(path);
    if (it == after.files.end()) {
      deleted.push_back(path);
    } else if (it->second.hash != f.hash || it->second.mode != f.mode) {
      modified.push_back(path);
    }
  }
  for (const auto& [path, f] : after.files) {
    if (!before.files.count(path)) created.push_back(path);
  }
  // Renames: content that left one path and arrived, unchanged, at another.
  std::vector<std::pair<std::string, std::string>> renames;
  std::set<std::string> renamed_from, renamed_to;
  for (const std::string& d : deleted) {
    const FileState& old = before.files.at(d);
    if (!old.content) continue;
    for (const std::string& c : created) {
      const FileState& now = after.files.at(c);
      if (renamed_to.count(c) || !now.content || now.hash != old.hash) continue;
      renames.emplace_back(d, c);
      renamed_from.insert(d);
      renamed_to.insert(c);
      break;
    }
  }
  // Base content of everything the command touched that existed before.
  for (const std::string& path : deleted) {
    const FileState& f = before.files.at(path);
    if (!f.content) {
      too_large(path, "deletion of");
      continue;
    }
    out.base.push_back(Write(task, path, f, /*base=*/true));
  }
  std::set<std::string> skipped;
  for (const std::string& path : modified) {
    const FileState& f = before.files.at(path);
    if (!f.content || !after.files.at(path).content) {
      too_large(path, "change of");
      skipped.insert(path);
      continue;
    }
    out.base.push_back(Write(task, path, f, /*base=*/true));
  }
  // Deletes and renames first, so that a new file may take a name a removed one had.
  for (const std::string& path : deleted) {
    if (renamed_from.count(path) || !before.files.at(path).content) continue;
    nlohmann::json d;
    d["task"] = task;
    d["path"] = path;
    out.changes.push_back(Event("file.delete", d));
    ++out.changed_paths;
  }
  for (const auto& [from, to] : renames) {
    nlohmann::json d;
    d["task"] = task;
    d["path"] = from;
    d["to"] = to;
    out.changes.push_back(Event("file.rename", d));
    ++out.changed_paths;
    if (before.files.at(from).mode != after.files.at(to).mode) {
      out.changes.push_back(Write(task, to, after.files.at(to), /*base=*/false));
    }
  }
  for (const std::string& path : modified) {
    if (skipped.count(path)) continue;
    const FileState& old = before.files.at(path);
    const FileState& now = after.files.at(path);
    ++out.changed_paths;
    const bool text = IsText(*old.content) && IsText(*now.content);
    if (text && old.mode == now.mode && old.mode != "120000") {
      projections::text::FileSide a{path, std::string_view(*old.content), old.mode};
      projections::text::FileSide b{path, std::string_view(*now.content), now.mode};
      Result<std::string> diff = projections::text::UnifiedDiff(a, b);
      if (diff.ok() && !diff->empty() && diff->size() < now.content->size()) {
        nlohmann::json d;
        d["task"] = task;
        d["path"] = path;
        d["diff"] = *diff;
        out.changes.push_back(Event("file.patch", d));
        continue;
      }
    }
    out.changes.push_back(Write(task, path, now, /*base=*/false));
  }
  for (const std::string& path : created) {
    if (renamed_to.count(path)) continue;
    const FileState& f = after.files.at(path);
    if (!f.content) {
      too_large(path, "creation of");
      continue;
    }
    out.changes.push_back(Write(task, path, f, /*base=*/false));
    ++out.changed_paths;
  }
  out.notes.insert(out.notes.end(), after.notes.begin(), after.notes.end());
  return out;
}

}  // namespace tink::exec::internal
