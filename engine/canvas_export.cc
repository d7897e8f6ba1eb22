// ExportTree: the canvas of a run as plain files as of one LSN (engine/canvas_git.h).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>
#include <system_error>

#include "engine/canvas_git.h"

namespace tink::engine {
namespace {

namespace fs = std::filesystem;
using projections::CanvasReader;
using projections::FileVersion;

Status Errno(const std::string& what) {
  return Status::IOError(what + ": " + std::strerror(errno));
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("write " + path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

// Makes the parent directories of `rel` under `root`, refusing any that exists as something
// other than a real directory (a symlink is never followed). "" or why not.
std::string MakeParents(const std::string& root, std::string_view rel) {
  size_t pos = 0;
  while (true) {
    size_t slash = rel.find('/', pos);
    if (slash == std::string_view::npos) return "";
    std::string dir = root + "/" + std::string(rel.substr(0, slash));
    if (::mkdir(dir.c_str(), 0755) != 0) {
      if (errno != EEXIST) return "mkdir " + dir + ": " + std::strerror(errno);
      struct stat st;
      if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        return std::string(rel.substr(0, slash)) + " is a file";
      }
    } else {
      ::chmod(dir.c_str(), 0755);  // the umask (tink runs with 077) does not apply to exports
    }
    pos = slash + 1;
  }
}

Status WriteMarker(const std::string& out_dir, std::string_view run, Lsn lsn, uint64_t files) {
  std::string path = out_dir + "/" + kTreeMarker;
  std::string text = "# written by tink canvas export; the directory is replaced on re-export\n";
  text += "run " + std::string(run) + "\nlsn " + std::to_string(lsn) + "\nfiles " +
          std::to_string(files) + "\n";
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("open " + tmp);
  Status s = WriteAll(fd, text, tmp);
  ::close(fd);
  if (!s.ok()) return s;
  if (::rename(tmp.c_str(), path.c_str()) != 0) return Errno("rename " + tmp);
  return Status::Ok();
}

}  // namespace

Result<TreeExportResult> ExportTree(projections::StateReader& reader, std::string_view run,
                                    Lsn as_of, const std::string& out_dir) {
  CanvasReader canvas(reader);
  ASSIGN_OR_RETURN(std::vector<std::string> runs, canvas.Runs(as_of));
  if (std::find(runs.begin(), runs.end(), run) == runs.end()) {
    return Status::NotFound("run '" + std::string(run) +
                            "' has no canvas (no file events) as of "
                            "LSN " +
                            std::to_string(as_of));
  }
  ASSIGN_OR_RETURN(std::vector<FileVersion> files, canvas.Tree(run, as_of));

  TreeExportResult res;
  res.lsn = as_of;
  std::error_code ec;
  fs::file_status st = fs::symlink_status(out_dir, ec);
  if (fs::exists(st)) {
    if (!fs::is_directory(fs::status(out_dir, ec))) {
      return Status::InvalidArgument(out_dir + " exists and is not a directory");
    }
    if (!fs::is_empty(out_dir, ec)) {
      if (!fs::is_regular_file(fs::symlink_status(out_dir + "/" + kTreeMarker, ec))) {
        return Status::InvalidArgument(out_dir +
                                       " is not empty and is not an earlier tink canvas "
                                       "export (no " +
                                       kTreeMarker + " in it)");
      }
      // Ours: replace the content (remove_all does not follow symlinks).
      // The listing first, with error codes: a range-for's ++ throws on a failed readdir.
      std::vector<fs::path> old;
      fs::directory_iterator it(out_dir, ec), end;
      for (; !ec && it != end; it.increment(ec)) old.push_back(it->path());
      if (ec) return Status::IOError("list " + out_dir + ": " + ec.message());
      for (const fs::path& p : old) {
        fs::remove_all(p, ec);
        if (ec) return Status::IOError("remove " + p.string() + ": " + ec.message());
      }
      res.replaced = true;
    }
  } else {
    fs::create_directories(out_dir, ec);
    if (ec) return Status::IOError("mkdir " + out_dir + ": " + ec.message());
  }
  // The marker goes first, so an interrupted export is still recognised as ours.
  RETURN_IF_ERROR(WriteMarker(out_dir, run, as_of, 0));

  std::set<std::string, std::less<>> placed;
  for (const FileVersion& v : files) {
    std::string why = projections::CanvasPathProblem(v.path);
    if (why.empty() && v.path == kTreeMarker) why = "the name of the export's marker file";
    // Tree is in path order, so a file "a" comes before "a/b": a parent that is a file is known.
    for (size_t p = v.path.find('/'); why.empty() && p != std::string::npos;
         p = v.path.find('/', p + 1)) {
      if (placed.contains(std::string_view(v.path).substr(0, p))) {
        why = v.path.substr(0, p) + " is a file";
      }
    }
    if (why.empty()) why = MakeParents(out_dir, v.path);
    if (!why.empty()) {
      res.skipped.push_back(v.path + ": " + why);
      continue;
    }
    ASSIGN_OR_RETURN(std::string content, canvas.Content(v.hash));
    const std::string path = out_dir + "/" + v.path;
    if (v.mode == "120000") {
      if (::symlink(content.c_str(), path.c_str()) != 0) {
        res.skipped.push_back(v.path + ": symlink: " + std::strerror(errno));
        continue;
      }
    } else {
      int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
      if (fd < 0) {
        if (errno == EEXIST) {
          res.skipped.push_back(v.path + ": exists (a directory of the tree)");
          continue;
        }
        return Errno("create " + path);
      }
      Status s = WriteAll(fd, content, path);
      if (s.ok() && ::fchmod(fd, v.mode == "100755" ? 0755 : 0644) != 0) s = Errno("chmod " + path);
      if (::close(fd) != 0 && s.ok()) s = Errno("close " + path);
      if (!s.ok()) return s;
    }
    placed.insert(v.path);
    ++res.files;
    res.bytes += content.size();
  }
  RETURN_IF_ERROR(WriteMarker(out_dir, run, as_of, res.files));
  return res;
}

}  // namespace tink::engine
