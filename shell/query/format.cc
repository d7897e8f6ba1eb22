#include "shell/query/format.h"

#include <algorithm>
#include <deque>

namespace tink::query {
namespace {

const Json& Null() {
  static const Json kNull;
  return kNull;
}

std::string Dump(const Json& j) {
  return j.dump(-1, ' ', /*ensure_ascii=*/false, Json::error_handler_t::replace);
}

// Characters, not bytes: UTF-8 continuation bytes do not count.
size_t Width(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// The first `chars` characters of s, never splitting a UTF-8 sequence.
std::string_view Prefix(std::string_view s, size_t chars) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (n == chars) return s.substr(0, i);
      ++n;
    }
  }
  return s;
}

// One line per row: control characters that would break the layout are shown escaped.
std::string OneLine(std::string s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += c;
    }
  }
  return out;
}

void Put(std::FILE* out, std::string_view s) { std::fwrite(s.data(), 1, s.size(), out); }

std::vector<std::string> KeysOf(const Row& row) {
  std::vector<std::string> keys;
  if (row.is_object()) {
    for (auto it = row.begin(); it != row.end(); ++it) keys.push_back(it.key());
  }
  return keys;
}

// Aligned columns, two spaces apart, a dashed rule under the header; numeric columns are right
// aligned; the last column is not padded.
class TableWriter : public RowWriter {
 public:
  TableWriter(std::FILE* out, const FormatOptions& o) : out_(out), opts_(o) {}

  void Begin(const std::vector<std::string>& columns) override {
    columns_ = columns;
    width_.assign(columns_.size(), 0);
    numeric_.assign(columns_.size(), true);
    for (size_t i = 0; i < columns_.size(); ++i) width_[i] = Width(columns_[i]);
  }

  void Write(const Row& row) override {
    std::vector<std::string> cells(columns_.size());
    for (size_t i = 0; i < columns_.size(); ++i) {
      const Json& v = CellValue(row, columns_[i]);
      cells[i] = Cut(OneLine(CellText(v, "null")));
      if (!flushed_) {
        width_[i] = std::max(width_[i], Width(cells[i]));
        if (!v.is_number() && !v.is_null()) numeric_[i] = false;
      }
    }
    if (flushed_) {
      Line(cells);
      return;
    }
    buffer_.push_back(std::move(cells));
    if (buffer_.size() >= opts_.table_buffer_rows) Flush();
  }

  void End() override { Flush(); }

 private:
  std::string Cut(std::string s) const {
    if (opts_.max_cell_width == 0 || Width(s) <= opts_.max_cell_width) return s;
    return std::string(Prefix(s, opts_.max_cell_width - 1)) + "…";
  }

  void Flush() {
    if (flushed_) return;
    flushed_ = true;
    // A column of nothing but nulls is not numeric.
    for (size_t i = 0; i < columns_.size(); ++i) {
      if (buffer_.empty()) numeric_[i] = false;
    }
    Line(columns_);
    std::vector<std::string> rule(columns_.size());
    for (size_t i = 0; i < columns_.size(); ++i) rule[i] = std::string(width_[i], '-');
    Line(rule);
    for (const auto& cells : buffer_) Line(cells);
    buffer_.clear();
  }

  void Line(const std::vector<std::string>& cells) {
    std::string line;
    for (size_t i = 0; i < cells.size(); ++i) {
      const size_t w = Width(cells[i]);
      const size_t pad = width_[i] > w ? width_[i] - w : 0;
      if (numeric_[i]) line.append(pad, ' ');
      line += cells[i];
      if (i + 1 == cells.size()) break;
      if (!numeric_[i]) line.append(pad, ' ');
      line += "  ";
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    line += '\n';
    Put(out_, line);
  }

  std::FILE* out_;
  FormatOptions opts_;
  std::vector<std::string> columns_;
  std::vector<size_t> width_;
  std::vector<bool> numeric_;
  std::deque<std::vector<std::string>> buffer_;
  bool flushed_ = false;
};

// A JSON array of objects, one object per line, written as the rows come.
class JsonWriter : public RowWriter {
 public:
  JsonWriter(std::FILE* out, bool lines) : out_(out), lines_(lines) {}
  void Begin(const std::vector<std::string>&) override {}
  void Write(const Row& row) override {
    if (lines_) {
      Put(out_, Dump(row) + "\n");
      return;
    }
    Put(out_, first_ ? "[\n" : ",\n");
    first_ = false;
    Put(out_, Dump(row));
  }
  void End() override {
    if (lines_) return;
    Put(out_, first_ ? "[]\n" : "\n]\n");
  }

 private:
  std::FILE* out_;
  bool lines_;
  bool first_ = true;
};

// RFC 4180: a header row; fields with a comma, quote, CR or LF are quoted, quotes doubled.
// Lines end with LF.
class CsvWriter : public RowWriter {
 public:
  explicit CsvWriter(std::FILE* out) : out_(out) {}
  void Begin(const std::vector<std::string>& columns) override {
    columns_ = columns;
    Line(columns_);
  }
  void Write(const Row& row) override {
    std::vector<std::string> cells;
    cells.reserve(columns_.size());
    for (const std::string& c : columns_) cells.push_back(CellText(CellValue(row, c), ""));
    Line(cells);
  }
  void End() override {}

 private:
  void Line(const std::vector<std::string>& cells) {
    std::string line;
    for (size_t i = 0; i < cells.size(); ++i) {
      if (i > 0) line += ',';
      const std::string& s = cells[i];
      if (s.find_first_of(",\"\r\n") == std::string::npos) {
        line += s;
        continue;
      }
      line += '"';
      for (char c : s) {
        if (c == '"') line += '"';
        line += c;
      }
      line += '"';
    }
    line += '\n';
    Put(out_, line);
  }

  std::FILE* out_;
  std::vector<std::string> columns_;
};

// A GitHub-flavoured Markdown table; '|' escaped, line breaks as <br>.
class MarkdownWriter : public RowWriter {
 public:
  explicit MarkdownWriter(std::FILE* out) : out_(out) {}
  void Begin(const std::vector<std::string>& columns) override {
    columns_ = columns;
    Line(columns_);
    std::string rule = "|";
    for (size_t i = 0; i < columns_.size(); ++i) rule += "---|";
    Put(out_, rule + "\n");
  }
  void Write(const Row& row) override {
    std::vector<std::string> cells;
    cells.reserve(columns_.size());
    for (const std::string& c : columns_) cells.push_back(CellText(CellValue(row, c), "null"));
    Line(cells);
  }
  void End() override {}

 private:
  void Line(const std::vector<std::string>& cells) {
    std::string line = "|";
    for (const std::string& s : cells) {
      line += ' ';
      for (char c : s) {
        if (c == '|') {
          line += "\\|";
        } else if (c == '\n') {
          line += "<br>";
        } else if (c != '\r') {
          line += c;
        }
      }
      line += " |";
    }
    line += '\n';
    Put(out_, line);
  }

  std::FILE* out_;
  std::vector<std::string> columns_;
};

}  // namespace

std::optional<Format> ParseFormat(std::string_view name) {
  if (name == "table") return Format::kTable;
  if (name == "json") return Format::kJson;
  if (name == "jsonl") return Format::kJsonl;
  if (name == "csv") return Format::kCsv;
  if (name == "markdown" || name == "md") return Format::kMarkdown;
  return std::nullopt;
}

const char* FormatName(Format f) {
  switch (f) {
    case Format::kTable:
      return "table";
    case Format::kJson:
      return "json";
    case Format::kJsonl:
      return "jsonl";
    case Format::kCsv:
      return "csv";
    case Format::kMarkdown:
      return "markdown";
  }
  return "table";
}

const char* FormatNames() { return "table|json|jsonl|csv|markdown"; }

std::string CellText(const Json& value, std::string_view null_text) {
  if (value.is_null()) return std::string(null_text);
  if (value.is_string()) return value.get_ref<const std::string&>();
  return Dump(value);
}

const Json& CellValue(const Row& row, const std::string& column) {
  if (!row.is_object()) return Null();
  if (auto it = row.find(column); it != row.end()) return *it;
  const Json* cur = &row;
  size_t start = 0;
  while (start <= column.size()) {
    size_t dot = column.find('.', start);
    if (dot == std::string::npos) dot = column.size();
    if (!cur->is_object()) return Null();
    auto it = cur->find(column.substr(start, dot - start));
    if (it == cur->end()) return Null();
    cur = &*it;
    start = dot + 1;
  }
  return *cur;
}

std::unique_ptr<RowWriter> NewRowWriter(Format format, std::FILE* out,
                                        const FormatOptions& options) {
  switch (format) {
    case Format::kTable:
      return std::make_unique<TableWriter>(out, options);
    case Format::kJson:
      return std::make_unique<JsonWriter>(out, /*lines=*/false);
    case Format::kJsonl:
      return std::make_unique<JsonWriter>(out, /*lines=*/true);
    case Format::kCsv:
      return std::make_unique<CsvWriter>(out);
    case Format::kMarkdown:
      return std::make_unique<MarkdownWriter>(out);
  }
  return nullptr;
}

Result<uint64_t> WriteRows(RowStream& rows, Format format, std::FILE* out,
                           const FormatOptions& options) {
  FormatOptions opts = options;
  if (const size_t w = rows.TableCellWidth();
      w > 0 && (opts.max_cell_width == 0 || w < opts.max_cell_width)) {
    opts.max_cell_width = w;
  }
  std::unique_ptr<RowWriter> w = NewRowWriter(format, out, opts);
  std::vector<std::string> columns = rows.Columns();
  Row row;
  uint64_t n = 0;
  Result<bool> more = rows.Next(&row);
  if (columns.empty() && more.ok() && *more) columns = KeysOf(row);
  w->Begin(columns);
  while (more.ok() && *more) {
    if (opts.max_rows != 0 && n == opts.max_rows) {
      if (opts.truncated != nullptr) *opts.truncated = true;
      break;
    }
    w->Write(row);
    ++n;
    more = rows.Next(&row);
  }
  w->End();
  if (!more.ok()) return more.status();
  return n;
}

void WriteText(std::string_view text, std::FILE* out) {
  Put(out, text);
  if (!text.empty() && text.back() != '\n') Put(out, "\n");
}

}  // namespace tink::query
