// The working directory before and after a command (internal to engine/exec), and the canvas
// events that turn one into the other (docs/exec.md "Files").
//
// A snapshot maps each regular file and symlink under the root (relative path, '/'-separated;
// any `.git` directory skipped) to its git mode, size, XXH3-128 and, within the limits, its
// content: the content of a file the command changes is needed after it has changed it.
// Limits: more than max_files entries make the snapshot incomplete (no file changes are
// recorded then); a file larger than max_file_bytes, or past max_total_bytes of content, is
// kept by size and mtime only and its changes are not recorded (a note says so).
//
// Diff: files only before -> file.delete; only after -> file.write; changed -> file.patch (a text
// edit whose diff is smaller than the new content) or file.write (binary, a mode change, or a
// rewrite); a file that disappears at one path and appears with the same content at another ->
// file.rename. Every file the command changed, deleted or renamed first gets a `base: true`
// file.write of its content before, so the canvas diff from the base shows the command's change.
// Binary content (not UTF-8, or with NUL) is recorded as a one-line text stub naming its size and
// hash: the canvas holds text.
//
// Thread safety: plain functions over values. Errors: none (what cannot be read becomes a note).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tink::exec::internal {

struct SnapshotLimits {
  size_t max_files = 20000;
  size_t max_file_bytes = 4 << 20;
  size_t max_total_bytes = 128 << 20;
  std::vector<std::string> exclude;  // absolute, canonical paths skipped with what is under them
};

struct FileState {
  std::string mode;  // "100644", "100755", "120000"
  uint64_t size = 0;
  std::string hash;  // XXH3-128 hex of the content; size+mtime when the content was not read
  std::optional<std::string> content;  // nullopt: over the limits
};

struct Snapshot {
  std::map<std::string, FileState> files;
  bool complete = true;            // false: over max_files (no file changes are recorded)
  std::vector<std::string> notes;  // entries skipped while reading
};

// With `unchanged_from` (the snapshot before), a file whose content hash and mode are the same
// as there keeps only its hash: the diff needs no content of it, and memory holds one copy.
Snapshot TakeSnapshot(const std::string& root, const SnapshotLimits& limits,
                      const Snapshot* unchanged_from = nullptr);

struct FileEvent {
  std::string type;       // file.write, file.patch, file.delete, file.rename
  std::string data_json;  // its data object
  size_t bytes = 0;       // about how large (for grouping appends)
};

struct FileChanges {
  std::vector<FileEvent> base;     // base: true writes of the content before
  std::vector<FileEvent> changes;  // in an order the canvas can apply
  std::vector<std::string> notes;  // changes not recorded, and why
  size_t changed_paths = 0;
};

FileChanges DiffSnapshots(const Snapshot& before, const Snapshot& after, const std::string& task);

// What the canvas gets for binary content.
std::string BinaryStub(uint64_t size, const std::string& hash);

}  // namespace tink::exec::internal
