// Output formats of `tink shell` (docs/shell.md, "Output formats"): rows -> table | json | jsonl |
// csv | markdown. A RowWriter is fed the column names once, then rows one at a time, then End();
// it writes as it goes (the table buffers its first rows to size the columns, then streams), so a
// query over millions of events never holds them all in memory.
//
// Cells: strings print as they are (JSON-escaped in json/jsonl, RFC 4180-quoted in csv); numbers
// and booleans as JSON literals; null as `null` in table/markdown, empty in csv; objects and arrays
// as compact JSON. Text results (Prepared::text: diff, blame) are printed as they are by WriteText.
//
// Thread safety: a writer belongs to one thread. Errors: none; the FILE's own errors are the
// caller's to check (ferror).
#pragma once

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shell/query/query.h"

namespace tink::query {

enum class Format { kTable, kJson, kJsonl, kCsv, kMarkdown };

std::optional<Format> ParseFormat(std::string_view name);  // "table", "json", ...
const char* FormatName(Format f);
const char* FormatNames();  // "table|json|jsonl|csv|markdown"

struct FormatOptions {
  // table: rows buffered to size the columns before the first line is written; later rows wider
  // than their column overflow it.
  size_t table_buffer_rows = 1000;
  // table: cells longer than this (in characters) are cut with "…"; 0 = never (the default, so
  // output is the same on a terminal and in a pipe; the REPL sets it on a terminal).
  size_t max_cell_width = 0;
  // Rows written per result at most (0: all); reading stops there, and *truncated (when given)
  // is set if the result had more (POST /v1/query's max_rows, for the web view's query page).
  uint64_t max_rows = 0;
  bool* truncated = nullptr;
};

class RowWriter {
 public:
  virtual ~RowWriter() = default;
  virtual void Begin(const std::vector<std::string>& columns) = 0;
  virtual void Write(const Row& row) = 0;
  // Completes the output (closes the JSON array, flushes the table's buffer). Called also after
  // the stream failed part way, so what was written stays well-formed.
  virtual void End() = 0;
};

// `out` must outlive the writer.
std::unique_ptr<RowWriter> NewRowWriter(Format format, std::FILE* out,
                                        const FormatOptions& options = {});

// Drains `rows` into a writer of `format`: the number of rows written, or the stream's error
// (the writer is ended first). Columns() empty: the first row's keys name them.
Result<uint64_t> WriteRows(RowStream& rows, Format format, std::FILE* out,
                           const FormatOptions& options = {});

// Prints a text result as it is, with a final newline if it lacks one.
void WriteText(std::string_view text, std::FILE* out);

// A cell as text for table/markdown/csv (see the header comment); `null_text` for null.
std::string CellText(const Json& value, std::string_view null_text);

// The value of `column` in `row`: the key itself, else a dotted path walked through objects;
// null when missing.
const Json& CellValue(const Row& row, const std::string& column);

}  // namespace tink::query
