#include "shell/query/parser.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdlib>

#include "schema/schema.h"
#include "shell/query/lexer.h"

namespace tink::query {
namespace {

using internal::Describe;
using internal::Lexer;
using internal::Token;

constexpr std::array<std::string_view, 8> kSources = {"events", "runs",  "tasks",     "files",
                                                      "nodes",  "edges", "anomalies", "segments"};
constexpr std::array<std::string_view, 8> kVerbs = {"timeline", "why",       "history", "diff",
                                                    "blame",    "neighbors", "path",
                                                    "divergence"};
constexpr std::array<std::string_view, 7> kOps = {"where", "select", "sort",   "limit",
                                                  "count", "group",  "between"};
constexpr std::array<std::string_view, 5> kAggs = {"count", "min", "max", "sum", "avg"};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

template <size_t N>
bool OneOf(std::string_view lower, const std::array<std::string_view, N>& names) {
  return std::find(names.begin(), names.end(), lower) != names.end();
}

// ---- Parser ---------------------------------------------------------------------------------

// Errors travel as a thrown ParseFailure inside this file only (recursive descent unwinds through
// many frames); Parse() turns it into a QueryError value. Nothing escapes the parser.
struct ParseFailure {
  QueryError error;
};

class Parser {
 public:
  explicit Parser(std::string_view text) : lex_(text) {}

  Parsed Run() {
    try {
      Advance();
      if (cur_.kind != Token::Kind::kWord) Fail(cur_.pos, "expected a source or a verb");
      const std::string w = Lower(cur_.text);
      if (OneOf(w, kVerbs)) return ParseVerb();
      if (OneOf(w, kSources)) return ParseQuery();
      std::vector<std::string_view> names(kSources.begin(), kSources.end());
      names.insert(names.end(), kVerbs.begin(), kVerbs.end());
      Fail(cur_.pos,
           "unknown source or verb '" + cur_.text + "'" + Hint(Suggest(cur_.text, names)) +
               (w == "select" || w == "from" ? " (a query starts with its source: events | ...)"
                                             : ""));
    } catch (ParseFailure& f) {
      return std::move(f.error);
    }
    return QueryError{};  // not reached
  }

 private:
  static std::string Hint(const std::string& s) {
    return s.empty() ? "" : " — did you mean '" + s + "'?";
  }

  [[noreturn]] static void Fail(Pos pos, std::string message) {
    throw ParseFailure{QueryError{pos, std::move(message)}};
  }

  Token Lex() {
    auto r = word_mode_ ? lex_.NextWord() : lex_.Next();
    if (auto* e = std::get_if<QueryError>(&r)) throw ParseFailure{std::move(*e)};
    return std::move(std::get<Token>(r));
  }

  void Advance() {
    if (peeked_) {
      cur_ = std::move(*peeked_);
      peeked_.reset();
    } else {
      cur_ = Lex();
    }
  }

  const Token& Peek() {
    if (!peeked_) peeked_ = Lex();
    return *peeked_;
  }

  bool IsPunct(std::string_view p) const {
    return cur_.kind == Token::Kind::kPunct && cur_.text == p;
  }
  bool IsKeyword(std::string_view kw) const {
    return cur_.kind == Token::Kind::kWord && Lower(cur_.text) == kw;
  }
  void Expect(std::string_view p, std::string_view what) {
    if (!IsPunct(p))
      Fail(cur_.pos,
           "expected '" + std::string(p) + "' " + std::string(what) + ", got " + Describe(cur_));
    Advance();
  }
  void ExpectKeyword(std::string_view kw, std::string_view after) {
    if (!IsKeyword(kw)) {
      Fail(cur_.pos, "expected '" + std::string(kw) + "' after '" + std::string(after) + "', got " +
                         Describe(cur_));
    }
    Advance();
  }

  // ---- queries ----

  Query ParseQuery() {
    Query q;
    q.source = Lower(cur_.text);
    q.source_pos = cur_.pos;
    Advance();
    if (IsKeyword("as")) {
      Advance();
      ExpectKeyword("of", "as");
      q.as_of = ParsePoint();
    }
    while (IsPunct("|")) {
      Advance();
      q.ops.push_back(ParseOp());
    }
    if (cur_.kind != Token::Kind::kEnd) {
      if (cur_.kind == Token::Kind::kWord && OneOf(Lower(cur_.text), kOps)) {
        Fail(cur_.pos, "expected '|' before '" + cur_.text + "'");
      }
      Fail(cur_.pos, "expected '|' or the end of the query, got " + Describe(cur_));
    }
    return q;
  }

  Point ParsePoint() {
    Point p;
    p.pos = cur_.pos;
    if (cur_.kind == Token::Kind::kNumber) {
      if (!cur_.number.is_number_unsigned()) Fail(cur_.pos, "an LSN is a whole number");
      p.kind = Point::Kind::kLsn;
      p.lsn = cur_.number.get<uint64_t>();
    } else if (cur_.kind == Token::Kind::kString) {
      p = TimePoint(cur_.text, cur_.pos);
    } else if (IsKeyword("now")) {
      p.kind = Point::Kind::kNow;
    } else {
      Fail(cur_.pos, "expected a point (an LSN, a 'time' or now), got " + Describe(cur_));
    }
    Advance();
    return p;
  }

  static Point TimePoint(const std::string& text, Pos pos) {
    auto t = schema::ParseTime(text);
    if (!t.ok()) Fail(pos, t.status().message());
    Point p;
    p.kind = Point::Kind::kTime;
    p.time_ns = *t;
    p.pos = pos;
    return p;
  }

  Op ParseOp() {
    Op op;
    op.pos = cur_.pos;
    if (cur_.kind != Token::Kind::kWord)
      Fail(cur_.pos, "expected an operator after '|', got " + Describe(cur_));
    const std::string w = Lower(cur_.text);
    if (w == "where") {
      op.kind = Op::Kind::kWhere;
      Advance();
      op.where = ParseOr();
    } else if (w == "select") {
      op.kind = Op::Kind::kSelect;
      Advance();
      do {
        SelectItem item;
        item.field = ParseField("select");
        item.name = item.field.path;
        item.name_pos = item.field.pos;
        if (IsKeyword("as")) {
          Advance();
          item.name_pos = cur_.pos;
          item.name = ParseName();
        }
        op.select.push_back(std::move(item));
      } while (Comma());
    } else if (w == "sort") {
      op.kind = Op::Kind::kSort;
      Advance();
      if (IsKeyword("by")) Advance();
      do {
        SortKey k;
        k.field = ParseField("sort");
        if (IsKeyword("asc")) {
          Advance();
        } else if (IsKeyword("desc")) {
          k.desc = true;
          Advance();
        }
        op.sort.push_back(std::move(k));
      } while (Comma());
    } else if (w == "limit") {
      op.kind = Op::Kind::kLimit;
      Advance();
      if (cur_.kind != Token::Kind::kNumber || !cur_.number.is_number_unsigned()) {
        Fail(cur_.pos, "limit needs a whole number, got " + Describe(cur_));
      }
      op.limit = cur_.number.get<uint64_t>();
      Advance();
    } else if (w == "count") {
      op.kind = Op::Kind::kCount;
      Advance();
    } else if (w == "group") {
      op.kind = Op::Kind::kGroup;
      Advance();
      ExpectKeyword("by", "group");
      ParseGroupItems(&op);
    } else if (w == "between") {
      op.kind = Op::Kind::kBetween;
      Advance();
      op.from = ParsePoint();
      ExpectKeyword("and", "between A");
      op.to = ParsePoint();
      if (op.from.kind == Point::Kind::kNow) {
        Fail(op.from.pos, "'now' can only end a range (between A and now)");
      }
    } else {
      std::string hint = Suggest(cur_.text, kOps);
      if (hint.empty() && (w == "filter" || w == "order")) hint = w == "filter" ? "where" : "sort";
      Fail(cur_.pos, "unknown operator '" + cur_.text + "'" + Hint(hint));
    }
    return op;
  }

  bool Comma() {
    if (!IsPunct(",")) return false;
    Advance();
    return true;
  }

  FieldRef ParseField(std::string_view context) {
    if (cur_.kind != Token::Kind::kWord) {
      Fail(cur_.pos, std::string(context) + " needs a field, got " + Describe(cur_));
    }
    FieldRef f{cur_.text, cur_.pos};
    Advance();
    return f;
  }

  std::string ParseName() {
    if (cur_.kind != Token::Kind::kWord && cur_.kind != Token::Kind::kString) {
      Fail(cur_.pos, "expected a name after 'as', got " + Describe(cur_));
    }
    std::string n = cur_.text;
    if (n.empty()) Fail(cur_.pos, "a column name cannot be empty");
    Advance();
    return n;
  }

  // group by KEY, ... AGG(FIELD) [as NAME], ...   (commas between items are optional; keys first)
  void ParseGroupItems(Op* op) {
    while (cur_.kind == Token::Kind::kWord) {
      const std::string w = Lower(cur_.text);
      const bool is_agg = OneOf(w, kAggs);
      if (is_agg && Peek().kind == Token::Kind::kPunct && Peek().text == "(") {
        op->aggs.push_back(ParseAggregate());
      } else {
        if (is_agg) {
          Fail(cur_.pos, "expected '(' after '" + cur_.text +
                             "': aggregates are written count(), " + w + "(FIELD)");
        }
        if (!op->aggs.empty()) Fail(cur_.pos, "group keys come before the aggregates");
        op->group.push_back(ParseField("group by"));
      }
      Comma();
    }
    if (op->group.empty()) {
      Fail(cur_.pos, "group by needs a field, got " + Describe(cur_));
    }
    if (op->aggs.empty()) {
      Aggregate a;
      a.name = "count";
      a.pos = op->pos;
      op->aggs.push_back(std::move(a));
    }
  }

  Aggregate ParseAggregate() {
    Aggregate a;
    a.pos = cur_.pos;
    const std::string w = Lower(cur_.text);
    a.fn = w == "count" ? AggFn::kCount
           : w == "min" ? AggFn::kMin
           : w == "max" ? AggFn::kMax
           : w == "sum" ? AggFn::kSum
                        : AggFn::kAvg;
    Advance();
    Expect("(", "after " + w);
    if (IsPunct("*") && a.fn == AggFn::kCount) {
      Advance();
    } else if (!IsPunct(")") || a.fn != AggFn::kCount) {
      a.field = ParseField(w + "()");
    }
    Expect(")", "to close " + w + "(");
    if (a.field) {
      std::string p = a.field->path;
      std::replace(p.begin(), p.end(), '.', '_');
      a.name = w + "_" + p;
    } else {
      a.name = "count";
    }
    if (IsKeyword("as")) {
      Advance();
      a.name = ParseName();
    }
    return a;
  }

  // ---- expressions: or < and < not < comparison ----

  // `a and b and c` is one kAnd node with three args (likewise `or`), so a long generated chain
  // of conditions makes a wide tree, not a deep one: only `not` and parentheses add depth, and
  // they are bounded by kMaxNesting (the compiler, the evaluator and ~Expr all recurse).
  std::unique_ptr<Expr> Chain(Expr::Kind kind, std::string_view keyword,
                              std::unique_ptr<Expr> (Parser::*operand)()) {
    auto l = (this->*operand)();
    if (!IsKeyword(keyword)) return l;
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->pos = cur_.pos;
    e->args.push_back(std::move(l));
    while (IsKeyword(keyword)) {
      Advance();
      e->args.push_back((this->*operand)());
    }
    return e;
  }

  std::unique_ptr<Expr> ParseOr() { return Chain(Expr::Kind::kOr, "or", &Parser::ParseAnd); }

  std::unique_ptr<Expr> ParseAnd() { return Chain(Expr::Kind::kAnd, "and", &Parser::ParseNot); }

  // Counts one level of `not` or `(` for the duration of a scope.
  class Nest {
   public:
    Nest(Parser* p, Pos pos) : p_(p) {
      if (++p_->nesting_ > kMaxNesting) {
        Fail(pos, "expression nested deeper than " + std::to_string(kMaxNesting) +
                      " levels of 'not' and parentheses");
      }
    }
    ~Nest() { --p_->nesting_; }
    Nest(const Nest&) = delete;
    Nest& operator=(const Nest&) = delete;

   private:
    Parser* p_;
  };

  std::unique_ptr<Expr> ParseNot() {
    if (IsKeyword("not")) {
      Nest nest(this, cur_.pos);
      auto e = std::make_unique<Expr>();
      e->kind = Expr::Kind::kNot;
      e->pos = cur_.pos;
      Advance();
      e->args.push_back(ParseNot());
      return e;
    }
    if (IsPunct("(")) {
      Nest nest(this, cur_.pos);
      const Pos open = cur_.pos;
      Advance();
      auto e = ParseOr();
      if (!IsPunct(")")) {
        Fail(cur_.pos, "expected ')' to close the '(' at " + std::to_string(open.line) + ":" +
                           std::to_string(open.col) + ", got " + Describe(cur_));
      }
      Advance();
      return e;
    }
    return ParseComparison();
  }

  std::optional<CmpOp> CurCmpOp() const {
    if (cur_.kind != Token::Kind::kPunct) return std::nullopt;
    static const std::array<std::pair<std::string_view, CmpOp>, 8> kOpsByText = {{
        {"==", CmpOp::kEq},
        {"!=", CmpOp::kNe},
        {"<", CmpOp::kLt},
        {"<=", CmpOp::kLe},
        {">", CmpOp::kGt},
        {">=", CmpOp::kGe},
        {"~", CmpOp::kContains},
        {"=~", CmpOp::kMatch},
    }};
    for (const auto& [t, op] : kOpsByText) {
      if (cur_.text == t) return op;
    }
    return std::nullopt;
  }

  std::unique_ptr<Expr> ParseComparison() {
    auto l = ParseOperand();
    if (auto op = CurCmpOp()) {
      auto e = std::make_unique<Expr>();
      e->kind = Expr::Kind::kCompare;
      e->op = *op;
      e->pos = cur_.pos;
      Advance();
      e->args.push_back(std::move(l));
      e->args.push_back(ParseOperand());
      return e;
    }
    const bool not_in =
        IsKeyword("not") && Peek().kind == Token::Kind::kWord && Lower(Peek().text) == "in";
    if (IsKeyword("in") || not_in) {
      auto e = std::make_unique<Expr>();
      e->kind = Expr::Kind::kIn;
      e->negated = not_in;
      e->pos = cur_.pos;
      Advance();
      if (not_in) Advance();
      e->args.push_back(std::move(l));
      Expect("[", "after 'in'");
      if (!IsPunct("]")) {
        do {
          const Pos p = cur_.pos;
          auto v = ParseOperand();
          if (v->kind != Expr::Kind::kLiteral) Fail(p, "the list of 'in' holds values, not fields");
          e->args.push_back(std::move(v));
        } while (Comma());
      }
      Expect("]", "to close the list of 'in'");
      return e;
    }
    if (l->kind == Expr::Kind::kLiteral && !l->value.is_boolean()) {
      Fail(cur_.pos, "expected a comparison (== != < <= > >= ~ =~ in) after the value, got " +
                         Describe(cur_));
    }
    return l;  // a bare field: true when it holds true
  }

  std::unique_ptr<Expr> ParseOperand() {
    auto e = std::make_unique<Expr>();
    e->pos = cur_.pos;
    e->kind = Expr::Kind::kLiteral;
    if (IsPunct("-")) {
      Advance();
      if (cur_.kind != Token::Kind::kNumber) Fail(cur_.pos, "expected a number after '-'");
      if (cur_.number.is_number_float()) {
        e->value = -cur_.number.get<double>();
      } else {
        const uint64_t v = cur_.number.get<uint64_t>();
        if (v > static_cast<uint64_t>(INT64_MAX))
          Fail(e->pos, "number '-" + cur_.text + "' is too small");
        e->value = -static_cast<int64_t>(v);
      }
    } else if (cur_.kind == Token::Kind::kNumber) {
      e->value = cur_.number;
    } else if (cur_.kind == Token::Kind::kString) {
      e->value = cur_.text;
    } else if (cur_.kind == Token::Kind::kWord) {
      const std::string w = Lower(cur_.text);
      if (w == "true" || w == "false") {
        e->value = w == "true";
      } else if (w == "null") {
        e->value = nullptr;
      } else if (w == "and" || w == "or" || w == "not" || w == "in") {
        Fail(cur_.pos, "expected a field or a value, got '" + cur_.text + "'");
      } else {
        e->kind = Expr::Kind::kField;
        e->field = FieldRef{cur_.text, cur_.pos};
      }
    } else {
      Fail(cur_.pos, "expected a field or a value, got " + Describe(cur_));
    }
    Advance();
    return e;
  }

  // ---- verbs ----

  VerbCall ParseVerb() {
    VerbCall call;
    call.verb = Lower(cur_.text);
    call.pos = cur_.pos;
    word_mode_ = true;
    Advance();
    const std::string& v = call.verb;
    const bool takes_run = v == "diff" || v == "blame" || v == "history";
    const bool takes_as_of = v == "blame" || v == "neighbors" || v == "path" || v == "timeline";
    std::vector<Pos> arg_pos;
    while (cur_.kind != Token::Kind::kEnd) {
      const Token t = cur_;
      if (t.kind == Token::Kind::kString && t.at) {
        AddPoint(&call, TimePoint(t.text, t.pos));
        Advance();
        continue;
      }
      if (t.kind == Token::Kind::kString) {
        call.args.push_back(t.text);
        arg_pos.push_back(t.pos);
        Advance();
        continue;
      }
      const std::string w = Lower(t.text);
      if (t.text == "|")
        Fail(t.pos, "a verb's result cannot be piped ('" + v + "' ends the query)");
      if (t.text.starts_with("--")) {
        const std::string name = t.text.substr(0, t.text.find('='));
        if (name != "--run") {
          const std::string hint = Suggest(name, std::array<std::string_view, 1>{"--run"});
          Fail(t.pos, "unknown option '" + name + "'" + Hint(hint));
        }
        if (!takes_run) Fail(t.pos, "'" + v + "' takes no --run");
        if (t.text.size() > name.size()) {
          call.run = t.text.substr(name.size() + 1);
        } else {
          Advance();
          if (cur_.kind == Token::Kind::kEnd || cur_.at) Fail(cur_.pos, "--run needs a run id");
          call.run = cur_.text;
        }
        if (call.run->empty()) Fail(t.pos, "--run needs a run id");
        Advance();
        continue;
      }
      if (t.text.size() > 1 && t.text[0] == '@') {
        AddPoint(&call, WordPoint(t.text.substr(1), t.pos));
        Advance();
        continue;
      }
      if (w == "as" && Peek().kind == Token::Kind::kWord && Lower(Peek().text) == "of") {
        if (!takes_as_of) Fail(t.pos, "'" + v + "' takes no 'as of'");
        if (call.as_of) Fail(t.pos, "'as of' given twice");
        Advance();
        Advance();
        if (cur_.kind == Token::Kind::kEnd) Fail(cur_.pos, "expected a point after 'as of'");
        call.as_of = cur_.kind == Token::Kind::kString ? TimePoint(cur_.text, cur_.pos)
                                                       : WordPoint(cur_.text, cur_.pos);
        Advance();
        continue;
      }
      if (w == "depth" && (v == "neighbors" || v == "path")) {
        Advance();
        const std::string& k = cur_.text;
        int depth = -1;
        auto [p, ec] = std::from_chars(k.data(), k.data() + k.size(), depth);
        if (cur_.kind != Token::Kind::kWord || ec != std::errc() || p != k.data() + k.size() ||
            depth < 0) {
          Fail(cur_.pos, "depth needs a whole number, got " + Describe(cur_));
        }
        call.depth = depth;
        Advance();
        continue;
      }
      call.args.push_back(t.text);
      arg_pos.push_back(t.pos);
      Advance();
    }
    CheckArity(call, arg_pos, cur_.pos);
    return call;
  }

  static void AddPoint(VerbCall* call, Point p) {
    if (call->verb != "diff") Fail(p.pos, "only diff takes @points; '" + call->verb + "' does not");
    if (call->points.size() == 2) Fail(p.pos, "diff takes at most two points (@A @B)");
    call->points.push_back(p);
  }

  // A point written as a bare word: 42, now, or an ISO-8601 time.
  static Point WordPoint(const std::string& text, Pos pos) {
    Point p;
    p.pos = pos;
    if (Lower(text) == "now") return p;
    if (!text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
          return std::isdigit(static_cast<unsigned char>(c));
        })) {
      auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), p.lsn);
      if (ec != std::errc()) Fail(pos, "LSN '" + text + "' is too large");
      p.kind = Point::Kind::kLsn;
      return p;
    }
    auto t = schema::ParseTime(text);
    if (!t.ok()) {
      Fail(pos, "expected a point (an LSN, a time or now), got '" + text + "'");
    }
    p.kind = Point::Kind::kTime;
    p.time_ns = *t;
    return p;
  }

  static void CheckArity(const VerbCall& call, const std::vector<Pos>& arg_pos, Pos end) {
    struct Shape {
      std::string_view verb;
      size_t min, max;
      std::string_view usage;
    };
    static constexpr std::array<Shape, 8> kShapes = {{
        {"timeline", 1, 1, "timeline RUN|TASK [as of POINT]"},
        {"why", 1, 1, "why TASK"},
        {"history", 1, 1, "history ENTITY [--run R]"},
        {"diff", 0, 2, "diff [PATH] [--run R] [@A [@B]] | diff RUN_A RUN_B"},
        {"blame", 1, 1, "blame PATH [--run R] [as of POINT]"},
        {"neighbors", 1, 1, "neighbors NODE [depth K] [as of POINT]"},
        {"path", 2, 2, "path A B [depth K] [as of POINT]"},
        {"divergence", 1, 1, "divergence RUN"},
    }};
    for (const Shape& s : kShapes) {
      if (s.verb != call.verb) continue;
      const std::string usage = "usage: " + std::string(s.usage);
      // Two words are two runs (diff RUN_A RUN_B), which take no points and no --run.
      if (call.verb == "diff" && call.args.size() == 2 && (call.run || !call.points.empty()))
        Fail(arg_pos[1], "unexpected '" + call.args[1] + "'; " + usage);
      if (call.args.size() > s.max)
        Fail(arg_pos[s.max], "unexpected '" + call.args[s.max] + "'; " + usage);
      if (call.args.size() < s.min) Fail(end, "missing argument; " + usage);
    }
  }

  Lexer lex_;
  bool word_mode_ = false;
  int nesting_ = 0;  // levels of `not` and `(` open at the current token
  Token cur_;
  std::optional<Token> peeked_;
};

}  // namespace

Parsed Parse(std::string_view text) {
  // A trailing ';' (the REPL's statement end) is not part of the query.
  size_t end = text.size();
  while (end > 0 && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  if (end > 0 && text[end - 1] == ';') text = text.substr(0, end - 1);
  return Parser(text).Run();
}

std::span<const std::string_view> SourceNames() { return kSources; }
std::span<const std::string_view> VerbNames() { return kVerbs; }
std::span<const std::string_view> OpNames() { return kOps; }

}  // namespace tink::query
