// Bad or huge input to the query language never aborts (issue 14, item 9): deep nesting of `not`
// and parentheses is a positioned query error, long `and`/`or` chains run, and `=~` matches long
// strings without recursion per character.
#include <gtest/gtest.h>

#include <string>
#include <variant>
#include <vector>

#include "shell/query/exec.h"
#include "shell/query/parser.h"
#include "shell/query/query.h"

namespace tink::query {
namespace {

std::string Repeat(std::string_view s, size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

// "(parsed)" or the error as the user sees it.
std::string ParseError(const std::string& text) {
  Parsed p = Parse(text);
  if (auto* e = std::get_if<QueryError>(&p)) return e->ToString();
  return "(parsed)";
}

const std::string kTooDeep = "expression nested deeper than 200 levels of 'not' and parentheses";

TEST(QueryLimits, DeepNotIsAPositionedError) {
  const std::string head = "events | where ";
  EXPECT_EQ(ParseError(head + Repeat("not ", 200) + "x == 1"), "(parsed)");
  // The 201st `not` starts at column 16 + 4 * 200.
  EXPECT_EQ(ParseError(head + Repeat("not ", 201) + "x == 1"), "error at 1:816: " + kTooDeep);
  EXPECT_EQ(ParseError(head + Repeat("not ", 100000) + "x == 1"), "error at 1:816: " + kTooDeep);
}

TEST(QueryLimits, DeepParenthesesAreAPositionedError) {
  const std::string head = "events | where ";
  EXPECT_EQ(ParseError(head + Repeat("(", 200) + "x == 1" + Repeat(")", 200)), "(parsed)");
  EXPECT_EQ(ParseError(head + Repeat("(", 100000)), "error at 1:216: " + kTooDeep);
  EXPECT_EQ(ParseError(head + Repeat("(", 100000) + "x == 1" + Repeat(")", 100000)),
            "error at 1:216: " + kTooDeep);
  // Mixed: each `not (` is two levels.
  EXPECT_EQ(ParseError(head + Repeat("not (", 100000)), "error at 1:516: " + kTooDeep);
  // Nesting is counted, not position: many shallow groups in a row are fine.
  EXPECT_EQ(ParseError(head + "(x == 1)" + Repeat(" and (not (x == 1))", 5000)), "(parsed)");
}

// Rows with one long string field, and a provider that serves them.
class OneSource final : public Provider {
 public:
  class Stream final : public RowStream {
   public:
    explicit Stream(const std::vector<Row>* rows) : rows_(rows) {}
    Result<bool> Next(Row* out) override {
      if (i_ >= rows_->size()) return false;
      *out = (*rows_)[i_++];
      return true;
    }
    std::vector<std::string> Columns() const override { return {"lsn", "type", "data"}; }

   private:
    const std::vector<Row>* rows_;
    size_t i_ = 0;
  };
  Result<std::unique_ptr<RowStream>> Open(const ScanRequest&, const Cancel*) override {
    return std::unique_ptr<RowStream>(std::make_unique<Stream>(&rows));
  }
  Result<VerbResult> RunVerb(const VerbCall&, const Cancel*) override { return VerbResult{}; }
  std::vector<std::string> CompletionIds(std::string_view, size_t) override { return {}; }

  std::vector<Row> rows;
};

class QueryLimitsExec : public ::testing::Test {
 protected:
  void SetUp() override {
    Add(1, "note", std::string(100000, 'a'));
    Add(2, "note", Repeat("ab", 50000));
    Add(3, "tool.call", Repeat("ab", 50000) + "c");
    Add(4, "note", Repeat("x\n", 50000));
  }
  void Add(uint64_t lsn, const std::string& type, std::string text) {
    Row r = Row::object();
    r["lsn"] = lsn;
    r["type"] = type;
    r["data"] = Json{{"text", std::move(text)}};
    provider_.rows.push_back(std::move(r));
  }

  // The LSNs `events | where cond` gives, or {} with a test failure.
  std::vector<uint64_t> Where(const std::string& cond) {
    const std::string text = "events | where " + cond;
    auto p = PrepareQuery(provider_, text, &cancel_);
    if (!p.ok()) {
      ADD_FAILURE() << p.status().ToString();
      return {};
    }
    if (auto* e = std::get_if<QueryError>(&*p)) {
      ADD_FAILURE() << e->ToString();
      return {};
    }
    std::vector<uint64_t> out;
    Row r;
    auto& rows = *std::get<Prepared>(*p).rows;
    for (auto more = rows.Next(&r); more.ok() && *more; more = rows.Next(&r)) {
      out.push_back(r["lsn"].get<uint64_t>());
    }
    return out;
  }

  std::string Error(const std::string& text) {
    auto p = PrepareQuery(provider_, text, &cancel_);
    if (!p.ok()) return "status: " + p.status().ToString();
    if (auto* e = std::get_if<QueryError>(&*p)) return e->ToString();
    return "(no error)";
  }

  OneSource provider_;
  Cancel cancel_{false};
};

using L = std::vector<uint64_t>;

TEST_F(QueryLimitsExec, LongAndOrChainsRun) {
  // 100000 conditions joined by `and` / `or`: wide, not deep.
  EXPECT_EQ(Where("lsn > 0" + Repeat(" and lsn < 4", 100000)), (L{1, 2, 3}));
  EXPECT_EQ(Where("lsn == 2" + Repeat(" or lsn == 3", 100000)), (L{2, 3}));
  EXPECT_EQ(Where("lsn == 9" + Repeat(" or lsn == 4 and type == 'note'", 50000)), L{4});
}

TEST_F(QueryLimitsExec, RegexOnLongStringsNeverRecursesPerCharacter) {
  EXPECT_EQ(Where("data.text =~ '^(a|b)*$'"), (L{1, 2}));
  EXPECT_EQ(Where("data.text =~ '^.*$'"), (L{1, 2, 3}));  // '.' does not match a newline
  EXPECT_EQ(Where("data.text =~ '^(ab)+c$'"), L{3});
  EXPECT_EQ(Where("data.text =~ '(x\\n)+$'"), L{4});
  EXPECT_EQ(Where("data.text =~ '^(a+)+$'"), L{1});  // no exponential backtracking either
}

TEST_F(QueryLimitsExec, RegexSyntax) {
  EXPECT_EQ(Where("type =~ '^tool\\.(call|result)$'"), L{3});
  EXPECT_EQ(Where("type =~ '\\w+\\.\\w+'"), L{3});
  EXPECT_EQ(Where("type =~ '[[:upper:]]'"), L{});
  EXPECT_EQ(Where("type =~ 'NOTE'"), L{});
  EXPECT_EQ(Where("type =~ '(?i)NOTE'"), (L{1, 2, 4}));  // case-insensitive flag
}

TEST_F(QueryLimitsExec, BadRegexIsAQueryError) {
  EXPECT_EQ(Error("events | where type =~ '(unclosed'").substr(0, 38),
            "error at 1:24: bad regex '(unclosed': ");
  EXPECT_EQ(Error("events | where type =~ '(a)\\1'").substr(0, 34),
            "error at 1:24: bad regex '(a)\\1': ");  // no backreferences
  // A pattern too big to compile is refused, not run.
  EXPECT_EQ(Error("events | where type =~ 'a{100000}'").substr(0, 36),
            "error at 1:24: bad regex 'a{100000}'");
  EXPECT_EQ(Error("events | where type =~ '(a{1000}){1000}'").substr(0, 42),
            "error at 1:24: bad regex '(a{1000}){1000}'");
}

}  // namespace
}  // namespace tink::query
