// Pieces of the OpenHands reader (engine/import/openhands.cc): the input checks
// (openhands_check.cc) and helpers that are easier to test alone (openhands_util.cc).
//
// Thread safety: pure functions. Errors: InvalidArgument naming file, record and field for input
// that is not the format; ParsePythonKwargs describes the first thing it could not read.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "schema/status.h"

namespace tink::engine::import::internal {

// --- input checks (openhands_check.cc) ---

// Where an error is: "<file>: record N (line L)"; record 0 / line 0 when the file is one JSON
// document (the field path then starts at the document, e.g. "[3].id").
struct Where {
  std::string file;
  size_t record = 0;
  size_t line = 0;
  std::string Prefix() const;
};

// Parses one JSON text; malformed JSON is InvalidArgument with nlohmann's byte position.
Result<nlohmann::json> ParseJson(std::string_view text, const Where& w);
// An evaluation-output record (instance_id, history, ...) and its history.
Status CheckRecord(const Where& w, const nlohmann::json& rec);
// A list of events: objects with a unique non-negative integer id, an ISO 8601 timestamp, and
// fields of the kinds the mapping reads. `path` prefixes field names ("history").
Status CheckHistory(const Where& w, const nlohmann::json& history, const std::string& path);

// Lenient getters: the value when obj is an object holding key with that kind, else empty /
// nullptr / nullopt (null counts as absent). For checked input and for the provider's raw model
// response, whose shape varies.
std::string Str(const nlohmann::json* obj, const char* key);
const nlohmann::json* Field(const nlohmann::json* obj, const char* key);
const nlohmann::json* Obj(const nlohmann::json* obj, const char* key);
std::optional<int64_t> Int(const nlohmann::json* obj, const char* key);

// --- helpers (openhands_util.cc) ---

// The file editor's str_replace on `text`: `old_str` must occur exactly once; when it does not
// occur, the editor's retry with both strings stripped of surrounding whitespace is followed.
// nullopt (with the number of occurrences in *found) when it does not apply.
std::optional<std::string> StrReplaceOnce(std::string_view text, std::string old_str,
                                          std::string new_str, size_t* found);

// The file editor's insert: `new_str` after line `line` (0 = at the top), lines split at '\n' as
// Python's str.split does. nullopt when line is absent or outside 0..number of lines.
std::optional<std::string> InsertAfterLine(std::string_view text, std::optional<int64_t> line,
                                           std::string_view new_str);

// The keyword arguments of the first `<callee>(**{...})` call in Python source, e.g. OpenHands'
// `translated_ipython_code`: "print(file_editor(**{'command': 'create', 'path': '/a', ...}))".
// Reads the dict literal as Python's repr() writes it: str (single or double quotes, escapes
// \\ \' \" \n \r \t \0 \xhh \uhhhh \Uhhhhhhhh), int, None, True, False, and lists of these.
// NotFound when the source has no such call.
Result<nlohmann::json> ParsePythonKwargs(std::string_view source, std::string_view callee);

// What a shell command line does to files under `root` that the importer does not replay:
// "sed -i", "redirection" (> or >> into a file), "tee", "mv", "cp", "rm". Quotes are respected;
// relative paths are resolved against `cd DIR` earlier in the line, else `cwd` (empty: unknown,
// relative paths are then ignored). Each kind is listed once, in order of first appearance.
std::vector<std::string> ShellFileChanges(std::string_view command, std::string_view root,
                                          std::string_view cwd);

// The first non-empty line of `text`, without surrounding blanks, cut to at most `max_bytes`
// on a UTF-8 character boundary ("…" marks a cut).
std::string FirstLine(std::string_view text, size_t max_bytes);

// `text` cut to at most `max_bytes` on a UTF-8 character boundary.
std::string CutUtf8(std::string_view text, size_t max_bytes);

}  // namespace tink::engine::import::internal
