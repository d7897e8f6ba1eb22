// The names of the grammar's parts (for messages) and "did you mean": the candidate within two
// edits of a mistyped word (parser.h).
#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "shell/query/parser.h"

namespace tink::query {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Levenshtein distance where swapping two neighbours counts as one edit (tpye -> type).
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      d[i][j] =
          std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1])});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

}  // namespace

const char* CmpOpName(CmpOp op) {
  switch (op) {
    case CmpOp::kEq:
      return "==";
    case CmpOp::kNe:
      return "!=";
    case CmpOp::kLt:
      return "<";
    case CmpOp::kLe:
      return "<=";
    case CmpOp::kGt:
      return ">";
    case CmpOp::kGe:
      return ">=";
    case CmpOp::kContains:
      return "~";
    case CmpOp::kMatch:
      return "=~";
  }
  return "?";
}

const char* AggFnName(AggFn fn) {
  switch (fn) {
    case AggFn::kCount:
      return "count";
    case AggFn::kMin:
      return "min";
    case AggFn::kMax:
      return "max";
    case AggFn::kSum:
      return "sum";
    case AggFn::kAvg:
      return "avg";
  }
  return "?";
}

const char* OpName(Op::Kind kind) {
  switch (kind) {
    case Op::Kind::kWhere:
      return "where";
    case Op::Kind::kSelect:
      return "select";
    case Op::Kind::kSort:
      return "sort";
    case Op::Kind::kLimit:
      return "limit";
    case Op::Kind::kCount:
      return "count";
    case Op::Kind::kGroup:
      return "group by";
    case Op::Kind::kBetween:
      return "between";
  }
  return "?";
}

std::string Suggest(std::string_view word, std::span<const std::string_view> candidates) {
  const std::string w = Lower(word);
  std::string_view best;
  size_t best_d = 3;  // within 2 edits: further away it is a guess, not a typo
  for (std::string_view c : candidates) {
    const size_t d = EditDistance(w, Lower(c));
    if (d < best_d && d * 2 < std::max(w.size(), c.size())) {
      best_d = d;
      best = c;
    }
  }
  return std::string(best);
}

std::string Suggest(std::string_view word, std::span<const std::string> candidates) {
  std::vector<std::string_view> views(candidates.begin(), candidates.end());
  return Suggest(word, std::span<const std::string_view>(views));
}

}  // namespace tink::query
