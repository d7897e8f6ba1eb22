// What SWE-agent's own tools do to a file, for the swe-agent reader (engine/import/swe_agent.cc).
// Internal to engine/import (implemented in swe_agent_commands.cc).
//
// The semantics follow SWE-agent's tool sources (tools/windowed/lib/windowed_file.py,
// tools/windowed_edit_replace/bin/{edit,insert}, 0.x config/commands/edit_linting.sh), because
// the importer must turn a recorded, *accepted* command into the file content it produced:
//   - `create F` writes "\n" (one empty line: the observation says "(1 lines total)").
//   - `insert TEXT [LINE]` appends TEXT (one trailing "\n" dropped) after the last line, or
//     after line LINE.
//   - 1.x `edit SEARCH REPLACE [ALL]` replaces SEARCH in the open file (the observation says
//     whether one or all occurrences: "Text replaced" / "Replaced N occurrences").
//   - 0.x `edit S:E` + lines + `end_of_edit` replaces lines S..E and rewrites every line with "\n".
// Views: the windowed tools print "[File: P (N lines total)]", "(k more lines above)",
// "n:text" lines and "(k more lines below)"; ParseView reads that back.
// Also: the small text/shell helpers the reader needs. Pure functions; thread safety: reentrant.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tink::engine::import::swe {
// "\r\n" -> "\n" (SWE-agent 1.x records observations through a terminal).
std::string CrlfToLf(std::string_view s);

// Python's str.split("\n"): "a\n" -> {"a", ""}; "" -> {""}.
std::vector<std::string> SplitAll(std::string_view s);

std::string JoinLines(const std::vector<std::string>& lines, size_t from = 0,
                      size_t to = std::string::npos);

std::string FirstLine(std::string_view s);

// At most `n` code points of UTF-8 text, never splitting a sequence.
std::string CutChars(std::string_view s, size_t n);

// POSIX shell words (quotes and escapes removed), for SWE-agent's one-line commands. nullopt when
// a quote is not closed. Not a shell: no expansion, and operators are ordinary characters.
std::optional<std::vector<std::string>> ShellWords(std::string_view s);

bool ParseCount(std::string_view s, int64_t* out);

bool Contains(std::string_view s, std::string_view what);

// Lexically normalised path ("/a/./b/../c" -> "/a/c"; a relative path stays relative).
std::string Normalise(std::string_view p);

// An error the observation of a command other than an edit reports, or nullopt: "command not
// found", a tool's "Error:"/"Usage:" message, or a Python traceback (its last line).
std::optional<std::string> ObservationError(std::string_view obs);

// Whether the observation of an edit-like command (`edit`, `insert`) says it took effect. A
// linter rejection leaves the file as it was even when the SEARCH text is present.
bool EditAccepted(std::string_view tool, bool line_range, std::string_view obs);

// The 0.x form `edit S:E\n<lines>\nend_of_edit`.
struct LineRange {
  int64_t start = 0, end = 0;
  std::string text;  // the replacement lines, each ended by "\n"
};

std::optional<LineRange> ParseLineRange(std::string_view action);

// The paths of a plain `rm [-f] PATH...` (no shell metacharacters, no other flag), or nullopt.
std::optional<std::vector<std::string>> PlainRmPaths(std::string_view cmd,
                                                     const std::vector<std::string>& words);

// Whether a shell command may change files: a known writer, an in-place edit, a git command that
// rewrites the work tree, or a redirection into a file outside quotes (not 2>&1, not /dev/null).
bool MayChangeFiles(std::string_view tool, std::string_view cmd);

// The pre-image blob id and mode ("index A..B MODE") of each file a final patch names.
struct PatchIndexEntry {
  std::string blob, mode;
};

std::map<std::string, PatchIndexEntry> PatchIndex(std::string_view patch);

// The issue text of SWE-agent's instance message ("...ISSUE:\n<text>\n\nINSTRUCTIONS:..."), or
// the whole message.
std::string IssueText(const std::string& message);

// The windowed file view in an observation (LF line ends).
struct View {
  std::string path;    // as printed in "[File: P (N lines total)]"
  int64_t total = -1;  // N
  int64_t first = 0;   // the 1-based number of lines[0]
  std::vector<std::string> lines;
  bool more_above = false, more_below = false;

  bool Whole() const {
    return total > 0 && first == 1 && !more_above && !more_below &&
           static_cast<int64_t>(lines.size()) == total;
  }
};

// The last view printed in `obs` (edits print the new window after their message).
std::optional<View> ParseView(std::string_view obs);

// The first line (1-based) where `content` disagrees with the view, or 0 when it agrees.
int64_t ViewMismatch(const std::string& content, const View& v);

// windowed_file.py WindowedFile.insert.
std::string InsertText(const std::string& cur, std::string text, std::optional<int64_t> line);

// Byte offsets of the non-overlapping occurrences of `needle` (Python str.replace order).
std::vector<size_t> Occurrences(std::string_view hay, std::string_view needle);

std::string ReplaceAt(const std::string& s, const std::vector<size_t>& at, size_t len,
                      std::string_view with);

// 0.x `edit S:E`: lines S..E (1-based, inclusive; E = S-1 inserts) become `text`'s lines, and
// every line is written back with "\n" (bash mapfile + printf "%s\n").
std::string LineRangeEdit(const std::string& cur, int64_t s, int64_t e, const std::string& text);

// A hunk (with up to 3 lines of context) for one SEARCH -> REPLACE replacement, rebuilt from the
// view printed after it, for a file whose content the importer does not know. nullopt when the
// view does not show the replacement exactly once.
std::optional<std::string> HunkFromView(const View& v, std::string_view search,
                                        std::string_view replace);

}  // namespace tink::engine::import::swe
