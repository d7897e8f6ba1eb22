// The output formats of `tink shell` (shell/query/format.h) on a fake RowStream: exact text of
// each format, RFC 4180 quoting, nested values as compact JSON, the table's buffering (rows past
// the buffer still stream), a stream error part way leaving well-formed JSON.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "shell/query/format.h"

namespace tink::query {
namespace {

class FakeStream : public RowStream {
 public:
  FakeStream(std::vector<std::string> columns, std::vector<Row> rows, bool fail_at_end = false)
      : columns_(std::move(columns)), rows_(std::move(rows)), fail_(fail_at_end) {}
  Result<bool> Next(Row* out) override {
    if (i_ == rows_.size()) {
      if (fail_) return Status::IOError("disk gone");
      return false;
    }
    *out = rows_[i_++];
    return true;
  }
  std::vector<std::string> Columns() const override { return columns_; }

 private:
  std::vector<std::string> columns_;
  std::vector<Row> rows_;
  bool fail_;
  size_t i_ = 0;
};

// Runs WriteRows into a memory buffer.
std::string Render(RowStream& s, Format f, FormatOptions o = {}, Status* error = nullptr) {
  char* buf = nullptr;
  size_t len = 0;
  std::FILE* out = open_memstream(&buf, &len);
  auto n = WriteRows(s, f, out, o);
  std::fclose(out);
  std::string text(buf, len);
  std::free(buf);
  if (error != nullptr) *error = n.ok() ? Status::Ok() : n.status();
  return text;
}

FakeStream Sample() {
  return FakeStream({"lsn", "type", "data"},
                    {Row{{"lsn", 1}, {"type", "run.started"}, {"data", {{"a", 1}}}},
                     Row{{"lsn", 12}, {"type", "say \"hi\", bye"}, {"data", nullptr}},
                     Row{{"lsn", 300}, {"type", "line\nbreak|pipe"}, {"data", {1, "x"}}}});
}

TEST(ShellFormatTest, Table) {
  FakeStream s = Sample();
  EXPECT_EQ(Render(s, Format::kTable),
            "lsn  type              data\n"
            "---  ----------------  -------\n"
            "  1  run.started       {\"a\":1}\n"
            " 12  say \"hi\", bye     null\n"
            "300  line\\nbreak|pipe  [1,\"x\"]\n");
}

TEST(ShellFormatTest, Json) {
  FakeStream s = Sample();
  const std::string out = Render(s, Format::kJson);
  EXPECT_EQ(out,
            "[\n{\"lsn\":1,\"type\":\"run.started\",\"data\":{\"a\":1}},\n"
            "{\"lsn\":12,\"type\":\"say \\\"hi\\\", bye\",\"data\":null},\n"
            "{\"lsn\":300,\"type\":\"line\\nbreak|pipe\",\"data\":[1,\"x\"]}\n]\n");
  Json j = Json::parse(out);
  ASSERT_TRUE(j.is_array());
  EXPECT_EQ(j.size(), 3u);
  FakeStream empty({"a"}, {});
  EXPECT_EQ(Render(empty, Format::kJson), "[]\n");
}

TEST(ShellFormatTest, Jsonl) {
  FakeStream s = Sample();
  EXPECT_EQ(Render(s, Format::kJsonl),
            "{\"lsn\":1,\"type\":\"run.started\",\"data\":{\"a\":1}}\n"
            "{\"lsn\":12,\"type\":\"say \\\"hi\\\", bye\",\"data\":null}\n"
            "{\"lsn\":300,\"type\":\"line\\nbreak|pipe\",\"data\":[1,\"x\"]}\n");
}

TEST(ShellFormatTest, CsvQuotesPerRfc4180) {
  FakeStream s = Sample();
  EXPECT_EQ(Render(s, Format::kCsv),
            "lsn,type,data\n"
            "1,run.started,\"{\"\"a\"\":1}\"\n"
            "12,\"say \"\"hi\"\", bye\",\n"
            "300,\"line\nbreak|pipe\",\"[1,\"\"x\"\"]\"\n");
  FakeStream empty({"a", "b"}, {});
  EXPECT_EQ(Render(empty, Format::kCsv), "a,b\n");
}

TEST(ShellFormatTest, Markdown) {
  FakeStream s = Sample();
  EXPECT_EQ(Render(s, Format::kMarkdown),
            "| lsn | type | data |\n"
            "|---|---|---|\n"
            "| 1 | run.started | {\"a\":1} |\n"
            "| 12 | say \"hi\", bye | null |\n"
            "| 300 | line<br>break\\|pipe | [1,\"x\"] |\n");
}

TEST(ShellFormatTest, TableStreamsPastItsBuffer) {
  std::vector<Row> rows;
  for (int i = 1; i <= 5; ++i) rows.push_back(Row{{"n", i == 5 ? 12345 : i}});
  FakeStream s({"n"}, rows);
  FormatOptions o;
  o.table_buffer_rows = 2;  // sized on the first two rows; 12345 overflows its column
  EXPECT_EQ(Render(s, Format::kTable, o), "n\n-\n1\n2\n3\n4\n12345\n");
}

TEST(ShellFormatTest, TableCutsLongCellsWhenAsked) {
  FakeStream s({"s"}, {Row{{"s", "ééééééééé"}}});
  FormatOptions o;
  o.max_cell_width = 4;
  EXPECT_EQ(Render(s, Format::kTable, o), "s\n----\nééé…\n");
}

TEST(ShellFormatTest, ColumnsFromFirstRowAndDottedPaths) {
  FakeStream s({}, {Row{{"a", 1}, {"b", {{"c", "x"}}}}});
  EXPECT_EQ(Render(s, Format::kCsv), "a,b\n1,\"{\"\"c\"\":\"\"x\"\"}\"\n");
  FakeStream p({"b.c", "b.missing"}, {Row{{"a", 1}, {"b", {{"c", "x"}}}}});
  EXPECT_EQ(Render(p, Format::kCsv), "b.c,b.missing\nx,\n");
}

TEST(ShellFormatTest, ErrorPartWayKeepsJsonWellFormed) {
  FakeStream s({"n"}, {Row{{"n", 1}}}, /*fail_at_end=*/true);
  Status error;
  const std::string out = Render(s, Format::kJson, {}, &error);
  EXPECT_EQ(error.code(), Code::kIOError);
  EXPECT_EQ(out, "[\n{\"n\":1}\n]\n");
}

TEST(ShellFormatTest, ParseFormat) {
  EXPECT_EQ(ParseFormat("csv"), Format::kCsv);
  EXPECT_EQ(ParseFormat("markdown"), Format::kMarkdown);
  EXPECT_FALSE(ParseFormat("xml").has_value());
  for (Format f :
       {Format::kTable, Format::kJson, Format::kJsonl, Format::kCsv, Format::kMarkdown}) {
    EXPECT_EQ(ParseFormat(FormatName(f)), f);
  }
}

}  // namespace
}  // namespace tink::query
