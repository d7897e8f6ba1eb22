// The canvas projection: the files each run's agent wrote, derived from file.* events
// (DESIGN.md §5, docs/canvas.md). Every run has its own tree.
//
//   file.write   whole content (base: true marks the repository before the agent acted)
//   file.patch   a unified diff applied to the current content (projections/textdiff.h)
//   file.delete  removes the path;  file.rename  moves it (content and blame follow)
//
// Contents are stored once, content-addressed by XXH3-128. A patch that does not apply, a delete
// or rename of a missing file, a path that is empty, absolute, contains NUL, a "." or ".."
// component, or starts with ".git/", and a file/directory clash (a new file "a/b" while a file
// "a" exists, or a new file "a" while files "a/..." exist) are **anomalies** (lsn, run, task, path, type, reason): they
// change no file and never stop the projection.
//
// Keys in the "canvas" column family (values: projections/canvas.fbs):
//   'F' ostr(run) ostr(path) BE64(~lsn) -> FileVersion    one version per change of a path
//   'B' hash128                          -> content       written once
//   'C' ostr(run) BE64(lsn)              -> Change        every file-changing event, in order
//   'R' ostr(run) BE64(~lsn)             -> CanvasRun     per change: base point and counters
//   'L' ostr(run) ostr(task)             -> tool name     the task's last tool.call (commit text)
//   'D' ostr(run) ostr(dir)              -> BE64 count    live files under a directory
//   'A' BE64(lsn) BE64(seq)              -> CanvasAnomaly append-only
//
// The run's **base** is the tree as of its last base write (CanvasRun.base_lsn); `Diff` from the
// base is what `git diff <base commit> HEAD` shows on the exported repository.
//
// Thread safety: as Projection; CanvasReader as StateReader (one thread).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "projections/reader.h"

namespace tink::projections {

// A path as the canvas accepts it, or the reason it does not ("" when valid).
std::string CanvasPathProblem(std::string_view path);

struct FileVersion {
  std::string run, path;
  Lsn lsn = 0;              // the event that made this version
  int64_t time_ns = 0;      // its world time (occurred, else recorded)
  std::string type;         // file.write | file.patch | file.delete | file.rename
  std::string task;
  std::string hash;         // 32 hex digits (XXH3-128 of the content); empty when deleted
  bool deleted = false;
  bool base = false;        // written by a base file.write
  std::string mode;         // "100644" unless the event said otherwise
  uint64_t size = 0;
  std::string renamed_from; // for the destination of a rename
};

// One file-changing event of a run (a rename is one change naming both paths).
struct CanvasChange {
  Lsn lsn = 0;
  int64_t time_ns = 0;
  std::string run, type, task, tool, path, to;
  bool base = false;
};

struct CanvasAnomaly {
  Lsn lsn = 0;
  std::string run, task, path, type, reason;
};

struct BlameLine {
  size_t line = 0;    // 1-based
  Lsn lsn = 0;        // the event that last wrote the line
  std::string task, type, path;  // path: where the line was written (differs after a rename)
  std::string text;
};

class CanvasProjection : public Projection {
 public:
  std::string_view name() const override { return "canvas"; }
  uint32_t format_version() const override { return 2; }
  Status Apply(const Event& e, ApplyContext& ctx) override;
  void ResetCache() override;
  void Committed() override;

 private:
  Status Anomaly(const Event& e, ApplyContext& ctx, std::string_view run, std::string_view task,
                 std::string_view path, std::string reason);
  Result<std::optional<std::string>> LoadContent(ApplyContext& ctx, std::string_view hash16);
  Result<const FileVersion*> Latest(ApplyContext& ctx, std::string_view run, std::string_view path);
  Status PutVersion(const Event& e, ApplyContext& ctx, FileVersion v,
                    std::optional<std::string_view> content);
  Status PutChange(const Event& e, ApplyContext& ctx, const CanvasChange& c);
  Result<uint64_t*> DirCount(ApplyContext& ctx, std::string_view run, std::string_view dir);
  // Why `path` cannot become a file (a file is one of its directories, or it is a directory
  // holding files), or "".
  Result<std::string> Clash(ApplyContext& ctx, std::string_view run, std::string_view path);

  std::unordered_map<std::string, std::optional<FileVersion>> latest_;  // key: ostr(run) ostr(path)
  std::unordered_map<std::string, std::string> blobs_;                  // this batch's new blobs
  std::unordered_map<std::string, uint64_t> dirs_;                      // DirKey -> live files
  std::unordered_map<std::string, std::string> last_tool_;
  std::unordered_map<std::string, std::pair<Lsn, uint64_t>> runs_;      // base_lsn, changes
  uint64_t anomaly_seq_ = 0;
};

class CanvasReader {
 public:
  explicit CanvasReader(StateReader& r) : r_(r) {}
  Lsn head() const { return r_.applied("canvas"); }
  Result<Lsn> Resolve(const AsOf& at) { return r_.Resolve(at, "canvas"); }

  // Runs that have a canvas (any file event), in id order.
  Result<std::vector<std::string>> Runs(Lsn as_of);
  // The run's base point (0: no base writes) as of `as_of`.
  Result<Lsn> BasePoint(std::string_view run, Lsn as_of);

  Result<std::optional<FileVersion>> Stat(std::string_view run, std::string_view path, Lsn as_of);
  // The file's content as of `as_of`; nullopt when it does not exist then.
  Result<std::optional<std::string>> ReadFile(std::string_view run, std::string_view path,
                                              Lsn as_of);
  // Content by hash (FileVersion::hash).
  Result<std::string> Content(std::string_view hash_hex);
  // Existing files as of `as_of`, in path order.
  Result<std::vector<FileVersion>> Tree(std::string_view run, Lsn as_of);
  // Every version of a path with from <= lsn <= to, oldest first.
  Result<std::vector<FileVersion>> FileHistory(std::string_view run, std::string_view path,
                                               Lsn from, Lsn to);
  // File-changing events with from < lsn <= to, in LSN order.
  Result<std::vector<CanvasChange>> Changes(std::string_view run, Lsn from, Lsn to);
  // `git diff` between the trees as of `from` and `to`: one git-format section per changed path,
  // in path order (renames show as a delete and an add, as `git diff --no-renames`).
  Result<std::string> Diff(std::string_view run, Lsn from, Lsn to);
  // Per line of the file as of `as_of`: the event that last wrote it (following renames).
  // NotFound when the file does not exist then.
  Result<std::vector<BlameLine>> Blame(std::string_view run, std::string_view path, Lsn as_of);
  // Anomalies with lsn <= as_of, of one run or all, in LSN order.
  Result<std::vector<CanvasAnomaly>> Anomalies(const std::optional<std::string>& run, Lsn as_of);

 private:
  StateReader& r_;
};

}  // namespace tink::projections
