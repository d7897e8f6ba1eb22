// The canvas of a run out of the store: as a git repository with one commit per file-changing
// event (ExportGit), or as plain files as of one point (ExportTree). docs/canvas.md describes
// the layout; `tink canvas git` and `tink canvas export` are the front ends.
//
// ExportGit writes a normal repository with a checked-out worktree (libgit2; real objects):
//   refs/tink/base   the base commit: the tree as of the run's base point (CanvasReader::
//                    BasePoint), or an empty tree "base (empty)" when the run has no base writes
//   refs/heads/main  (HEAD) one commit per CanvasReader::Changes entry after the base point;
//                    author = committer = the task, date = the event's time (UTC), message
//                    "<type> <path> (LSN n, tool t)" and trailers Tink-Run/Lsn/Task/Type/Tool
// The repository remembers what it holds in .git/config (tink.run, tink.lsn, tink.base,
// tink.commit); exporting again adds commits only for changes after tink.lsn. A directory that is
// not empty and is not our export of the same run is refused, and so is one whose main branch
// moved since (someone committed on top).
//
// ExportTree writes the files as of an LSN (modes 100644/100755, 120000 as symlinks) into a
// directory that is new, empty, or an earlier ExportTree (marked by a `.tink-canvas` file holding
// run and LSN), whose content it replaces.
//
// Both write nothing outside the directory: every path is checked again (CanvasPathProblem), a
// path whose parent is a file of the tree is skipped (reported in `skipped`), and files are
// created without following symlinks.
//
// Thread safety: the StateReader is used by one thread (as StateReader). Errors: NotFound for a
// run without a canvas, InvalidArgument for a directory we may not write into, Conflict when the
// exported branch moved, Failed for what libgit2 reports, IOError for the file system.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "projections/canvas.h"
#include "projections/reader.h"
#include "schema/status.h"

namespace tink::engine {

using projections::Lsn;

struct GitExportOptions {
  Lsn to = 0;            // export changes up to this LSN (0: the canvas head)
  bool checkout = true;  // check HEAD out into the worktree afterwards
};

struct GitExportResult {
  bool created = false;              // the repository was made by this call
  bool up_to_date = false;           // nothing to add: nothing was changed
  uint64_t commits_added = 0;        // including the base commit when created
  Lsn from = 0, to = 0;              // changes with from < lsn <= to were exported by this call
  Lsn base_lsn = 0;                  // the run's base point
  std::string head;                  // refs/heads/main, 40 hex digits
  std::string base_commit;           // refs/tink/base
  std::vector<std::string> skipped;  // "path: why", paths that could not be placed in a tree
};

Result<GitExportResult> ExportGit(projections::StateReader& reader, std::string_view run,
                                  const std::string& out_dir, const GitExportOptions& options = {});

struct TreeExportResult {
  uint64_t files = 0, bytes = 0;
  Lsn lsn = 0;            // the LSN the tree is as of
  bool replaced = false;  // an earlier export in the directory was replaced
  std::vector<std::string> skipped;
};

// The name of the marker file ExportTree writes at the root of its directory.
inline constexpr const char* kTreeMarker = ".tink-canvas";

Result<TreeExportResult> ExportTree(projections::StateReader& reader, std::string_view run,
                                    Lsn as_of, const std::string& out_dir);

// The run's canvas history as a git bundle (`git clone RUN.bundle` gives the ExportGit history,
// main checked out; refs: HEAD, refs/heads/main, refs/tink/base): ExportGit (no checkout) into a
// fresh directory under tmp_parent, packed with libgit2's packbuilder behind a v2 bundle header;
// the directory is removed before returning. NotFound for a run without a canvas.
Result<std::string> GitBundle(projections::StateReader& reader, std::string_view run,
                              const std::string& tmp_parent);

// The author identity a task gets in the exported history: name = the task ("agent" when the
// event names none), email "<task>@<run>.tink" with characters outside [A-Za-z0-9._-] as '-'.
std::string GitAuthorName(std::string_view task);
std::string GitAuthorEmail(std::string_view task, std::string_view run);

}  // namespace tink::engine
