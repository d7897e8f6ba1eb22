// RunBuilder: one run's events under the mapping in import.h.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <map>
#include <optional>
#include <sstream>

#include "engine/import/import.h"
#include "projections/textdiff.h"

namespace tink::engine::import {

namespace fs = std::filesystem;
using nlohmann::json;

RunBuilder::RunBuilder(std::string run, std::string source_id) : run_(std::move(run)) {
  out_.run = run_;
  out_.source_id = std::move(source_id);
}

void RunBuilder::Add(std::string_view key, std::string_view type, std::string_view task,
                     std::string data_json, int64_t occurred_ns) {
  schema::EventInput e;
  e.id = run_ + "/" + std::string(key);
  e.stream = "run/" + run_;
  if (!task.empty()) e.stream += "/task/" + std::string(task);
  e.type = std::string(type);
  e.run = run_;
  e.occurred_ns = occurred_ns;
  e.data_json = std::move(data_json);
  out_.events.push_back(std::move(e));
}

namespace {

// A manifest line of BASE.txt: "<git mode> <size> <git blob sha1> <path>".
struct ManifestEntry {
  std::string mode, blob, path;
  uint64_t size = 0;
  size_t line = 0;
};

// A manifest path must name a file inside the folder by itself: relative, no "." or ".."
// component, no empty component. (Symlinks are checked when the file is read.)
bool PlainRelativePath(const std::string& path) {
  if (path.empty() || path.front() == '/' || path.find('\0') != std::string::npos) return false;
  size_t start = 0;
  while (true) {
    const size_t slash = path.find('/', start);
    const std::string_view part =
        std::string_view(path).substr(start, slash == std::string::npos ? slash : slash - start);
    if (part.empty() || part == "." || part == "..") return false;
    if (slash == std::string::npos) return true;
    start = slash + 1;
  }
}

// The entries of DIR/BASE.txt; nullopt when there is no manifest (or it lists nothing).
Result<std::optional<std::vector<ManifestEntry>>> ReadManifest(const std::string& dir) {
  const std::string name = (fs::path(dir) / "BASE.txt").string();
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(name, ec))) return std::optional<std::vector<ManifestEntry>>();
  ASSIGN_OR_RETURN(std::string text, ReadWholeFile(name));
  std::vector<ManifestEntry> entries;
  std::istringstream in(text);
  size_t lineno = 0;
  for (std::string line; std::getline(in, line);) {
    ++lineno;
    std::istringstream ls(line);
    ManifestEntry e;
    e.line = lineno;
    if (!(ls >> e.mode >> e.size >> e.blob)) continue;
    std::getline(ls >> std::ws, e.path);
    if ((e.mode == "100644" || e.mode == "100755") && e.blob.size() == 40 && !e.path.empty() &&
        e.blob.find_first_not_of("0123456789abcdef") == std::string::npos) {
      if (!PlainRelativePath(e.path)) {
        return Status::InvalidArgument(name + " line " + std::to_string(lineno) + ": path '" +
                                       e.path + "' is not a plain path inside --base " + dir +
                                       " (absolute paths, '.' and '..' are refused)");
      }
      entries.push_back(std::move(e));
    }
  }
  if (entries.empty()) return std::optional<std::vector<ManifestEntry>>();
  return std::optional<std::vector<ManifestEntry>>(std::move(entries));
}

// Where `rel` leads once every symlink is followed, if that is a regular file inside `root`
// (itself canonical); else why not.
Result<std::string> ResolveInside(const fs::path& root, const std::string& rel) {
  std::error_code ec;
  const fs::path real = fs::canonical(root / rel, ec);
  if (ec) return Status::InvalidArgument(ec.message());
  const std::string r = real.string(), prefix = root.string() + "/";
  if (r.compare(0, prefix.size(), prefix) != 0) {
    return Status::InvalidArgument("it leads outside the folder (to " + r + ")");
  }
  if (!fs::is_regular_file(fs::status(real, ec))) {
    return Status::InvalidArgument("not a regular file");
  }
  return r;
}

}  // namespace

Status RunBuilder::LoadBase(const std::string& dir, int64_t occurred_ns) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return Status::InvalidArgument("--base " + dir + ": not a directory" +
                                   (ec ? " (" + ec.message() + ")" : ""));
  }
  // Every file read must be inside the folder, after symlinks: a base is a copy of one
  // repository, and reading elsewhere would put an unrelated file into the log.
  const fs::path root = fs::canonical(dir, ec);
  if (ec) return Status::IOError("--base " + dir + ": " + ec.message());
  struct BaseFile {
    std::string path, mode;
    size_t line = 0;  // in BASE.txt; 0 without a manifest
  };
  std::vector<BaseFile> files;
  std::map<std::string, ManifestEntry> manifest;
  ASSIGN_OR_RETURN(auto m, ReadManifest(dir));
  if (m) {
    // A BASE.txt manifest (tests/data/agent-runs/base/*) names the repository's files with their
    // git mode, size and blob id: exactly those are the base, each checked against its blob id.
    for (ManifestEntry& e : *m) {
      files.push_back({e.path, e.mode, e.line});
      manifest[e.path] = std::move(e);
    }
  } else {
    fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec), end;
    if (ec) return Status::IOError("--base " + dir + ": " + ec.message());
    for (; it != end; it.increment(ec)) {
      if (ec) return Status::IOError("--base " + dir + ": " + ec.message());
      if (it->path().filename() == ".git") {
        it.disable_recursion_pending();
        continue;
      }
      if (!it->is_regular_file(ec)) continue;
      fs::perms p = it->status(ec).permissions();
      bool exec = (p & fs::perms::owner_exec) != fs::perms::none;
      // lexically: fs::relative would follow a symlink and name its target instead.
      files.push_back(
          {it->path().lexically_relative(dir).generic_string(), exec ? "100755" : "100644"});
    }
  }
  std::sort(files.begin(), files.end(),
            [](const BaseFile& a, const BaseFile& b) { return a.path < b.path; });
  for (const BaseFile& f : files) {
    Result<std::string> real = ResolveInside(root, f.path);
    if (!real.ok()) {
      if (f.line > 0) {
        return Status::InvalidArgument((fs::path(dir) / "BASE.txt").string() + " line " +
                                       std::to_string(f.line) + ": path '" + f.path +
                                       "': " + real.status().message());
      }
      return Status::InvalidArgument("--base " + dir + ": " + f.path + ": " +
                                     real.status().message());
    }
    auto content = ReadWholeFile(*real);
    if (!content.ok()) return content.status().WithContext("--base " + dir);
    if (auto m = manifest.find(f.path); m != manifest.end()) {
      std::string blob = projections::text::GitBlobId(*content);
      if (blob != m->second.blob || content->size() != m->second.size) {
        return Status::InvalidArgument("--base " + dir + ": " + f.path + " is not the file BASE.txt names (git blob " +
                                       blob + ", " + std::to_string(content->size()) + " bytes; BASE.txt: " +
                                       m->second.blob + ", " + std::to_string(m->second.size) + " bytes)");
      }
    }
    json data = {{"task", "agent"}, {"path", f.path}, {"content", *content}, {"base", true},
                 {"mode", f.mode}};
    Add("base/" + f.path, "file.write", "agent",
        data.dump(-1, ' ', false, json::error_handler_t::replace), occurred_ns);
    files_[f.path] = std::move(content).value();
  }
  return Status::Ok();
}

const std::string* RunBuilder::File(std::string_view path) const {
  auto it = files_.find(path);
  return it == files_.end() ? nullptr : &it->second;
}

void RunBuilder::WriteFile(std::string_view key, std::string_view task, std::string_view path,
                           std::string content, int64_t occurred_ns) {
  json data = {{"task", task}, {"path", path}, {"content", content}};
  Add(key, "file.write", task, data.dump(-1, ' ', false, json::error_handler_t::replace),
      occurred_ns);
  files_[std::string(path)] = std::move(content);
}

Status RunBuilder::EditFile(std::string_view key, std::string_view task, std::string_view path,
                            std::string new_content, int64_t occurred_ns) {
  const std::string* old = File(path);
  if (old == nullptr) {
    WriteFile(key, task, path, std::move(new_content), occurred_ns);
    return Status::Ok();
  }
  if (*old == new_content) return Status::Ok();
  std::string p(path);
  auto diff = projections::text::UnifiedDiff({p, std::string_view(*old)},
                                             {p, std::string_view(new_content)});
  if (!diff.ok()) return diff.status();
  json data = {{"task", task}, {"path", path}, {"diff", *diff}};
  Add(key, "file.patch", task, data.dump(-1, ' ', false, json::error_handler_t::replace),
      occurred_ns);
  files_[p] = std::move(new_content);
  return Status::Ok();
}

void RunBuilder::PatchFile(std::string_view key, std::string_view task, std::string_view path,
                           std::string diff, int64_t occurred_ns) {
  json data = {{"task", task}, {"path", path}, {"diff", diff}};
  Add(key, "file.patch", task, data.dump(-1, ' ', false, json::error_handler_t::replace),
      occurred_ns);
  // The view cannot follow a patch to an unknown file; the canvas decides whether it applies.
  auto it = files_.find(path);
  if (it != files_.end()) {
    auto applied = projections::text::ApplyPatch(it->second, diff);
    if (applied.ok()) it->second = std::move(applied).value();
  }
}

void RunBuilder::DeleteFile(std::string_view key, std::string_view task, std::string_view path,
                            int64_t occurred_ns) {
  json data = {{"task", task}, {"path", path}};
  Add(key, "file.delete", task, data.dump(), occurred_ns);
  auto it = files_.find(path);
  if (it != files_.end()) files_.erase(it);
}

void RunBuilder::RenameFile(std::string_view key, std::string_view task, std::string_view path,
                            std::string_view to, int64_t occurred_ns) {
  json data = {{"task", task}, {"path", path}, {"to", to}};
  Add(key, "file.rename", task, data.dump(), occurred_ns);
  auto it = files_.find(path);
  if (it != files_.end()) {
    std::string content = std::move(it->second);
    files_.erase(it);
    files_[std::string(to)] = std::move(content);
  }
}

ImportedRun RunBuilder::Finish() {
  AddMemory(run_, out_.events);
  return std::move(out_);
}

}  // namespace tink::engine::import
