// Text diffs and patches for the canvas, through libgit2 (its xdiff and its patch parser/applier):
// nothing here is a hand-written diff algorithm.
//
//  - UnifiedDiff: one file's change as `git diff` prints it ("diff --git a/P b/P", "new file
//    mode"/"deleted file mode", "index <old>..<new> <mode>" with real git blob ids, ---/+++,
//    hunks with 3 lines of context, "\ No newline at end of file"). Empty when nothing changed.
//  - ApplyPatch: applies a unified diff of one file to its content. The diff may carry git/
//    unified file headers or be bare hunks ("@@ -1,3 +1,4 @@ ..."). Hunk positions may be off
//    (the context is searched for, as `git apply` does); context that is not found, or a diff that
//    does not parse, is an error, never a partial result. An empty diff changes nothing.
//  - LineOrigins: which lines of `after` are unchanged lines of `before` (blame's step).
//  - GitBlobId: the git object id of a blob with this content (what `git hash-object` prints).
//
// Thread safety: all functions are reentrant (libgit2 is initialised once, thread-safe).
// Errors: InvalidArgument for a diff that does not parse, Conflict for one that does not apply,
// IOError for anything libgit2 reports otherwise (out of memory).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "schema/status.h"

namespace tink::projections::text {

// One side of a file diff. `content` nullopt: the file does not exist on this side.
struct FileSide {
  std::string path;
  std::optional<std::string_view> content;
  std::string mode = "100644";
};

Result<std::string> UnifiedDiff(const FileSide& a, const FileSide& b, int context_lines = 3);

Result<std::string> ApplyPatch(std::string_view content, std::string_view diff);

// For each line of `after` (0-based), the 0-based line of `before` it is an unchanged copy of,
// or -1 when the line is new. Lines split after '\n'; a last line without '\n' counts.
Result<std::vector<int64_t>> LineOrigins(std::string_view before, std::string_view after);

// Splits `text` into lines (each without its '\n'); a trailing '\n' does not start a new line.
std::vector<std::string_view> SplitLines(std::string_view text);

std::string GitBlobId(std::string_view content);  // 40 lowercase hex digits

}  // namespace tink::projections::text
