// Comparing two `git diff` outputs for `tink canvas verify`: a recorded final patch (as an agent
// harness saved it) against the canvas's diff from its base. The recording may differ in ways that
// are not differences (tests/data/agent-runs/SOURCES.md §6), so both are normalised first:
//   - CRLF becomes LF; leading empty lines are dropped; a missing final newline is added;
//   - `index A..B MODE` lines compare each blob id by the shorter one's length (abbreviated ids)
//     and the mode when both sides give one;
//   - hunk headers compare by their ranges (`@@ -a,b +c,d @@`), not the function context text
//     after them (that depends on the diff driver);
//   - files compare by path, in any order.
// Everything else (header lines such as "new file mode", every hunk line) must be equal.
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace tink::cli {

struct PatchHunk {
  long old_start = 0, old_count = 1, new_start = 0, new_count = 1;
  std::string header;              // the whole "@@ ... @@ context" line
  std::vector<std::string> lines;  // body lines, each with its ' ', '+', '-' or '\' prefix
  std::string Text() const;        // header and body, '\n'-terminated lines
};

struct PatchFile {
  std::string path;
  std::vector<std::string> headers;  // "new file mode 100644", "deleted file mode ...", ...
  std::string old_id, new_id, mode;  // from the index line ("" when absent)
  std::vector<PatchHunk> hunks;
};

std::string NormalizePatch(std::string_view text);
// Parses a (normalised) git or plain unified diff into its files.
std::vector<PatchFile> ParsePatch(std::string_view text);

struct PatchDifference {
  bool equal = true;
  std::string path;              // the first file that differs
  std::string what;              // one line: what differs there
  std::string expected, actual;  // that part of each side (a hunk, a header), "" if absent
  std::string expected_line, actual_line;  // the first differing lines of a hunk
};

PatchDifference ComparePatches(const std::vector<PatchFile>& expected,
                               const std::vector<PatchFile>& actual);

}  // namespace tink::cli
