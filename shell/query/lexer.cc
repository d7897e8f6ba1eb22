#include "shell/query/lexer.h"

#include <array>
#include <cctype>
#include <charconv>
#include <cstdlib>

namespace tink::query::internal {
namespace {

bool IsIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsIdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

}  // namespace

std::string Describe(const Token& t) {
  if (t.kind == Token::Kind::kEnd) return "the end of the query";
  return "'" + t.text + "'";
}

std::variant<Token, QueryError> Lexer::Next() {
  SkipSpace();
  Token t;
  t.pos = pos_;
  if (i_ >= s_.size()) return t;
  const char c = s_[i_];
  if (IsIdentStart(c)) {
    t.kind = Token::Kind::kWord;
    const size_t b = i_;
    // A path: identifier segments joined by dots; a segment after a dot may be an array index.
    while (i_ < s_.size()) {
      if (IsIdentChar(s_[i_])) {
        Advance(1);
      } else if (s_[i_] == '.' && i_ + 1 < s_.size() && IsIdentChar(s_[i_ + 1])) {
        Advance(1);
      } else {
        break;
      }
    }
    t.text = std::string(s_.substr(b, i_ - b));
    return t;
  }
  if (std::isdigit(static_cast<unsigned char>(c))) return Number(t);
  if (c == '\'' || c == '"') return String(t);
  static constexpr std::array<std::string_view, 16> kPunct = {
      "==", "!=", "<=", ">=", "=~", "<", ">", "~", "|", ",", "(", ")", "[", "]", "*", "-"};
  for (std::string_view p : kPunct) {
    if (s_.substr(i_).starts_with(p)) {
      t.kind = Token::Kind::kPunct;
      t.text = std::string(p);
      Advance(p.size());
      return t;
    }
  }
  if (c == '=') return QueryError{t.pos, "'=' is not an operator — did you mean '=='?"};
  return QueryError{t.pos, "unexpected character '" + std::string(CharAt(i_)) + "'"};
}

std::variant<Token, QueryError> Lexer::NextWord() {
  SkipSpace();
  Token t;
  t.pos = pos_;
  if (i_ >= s_.size()) return t;
  if (s_[i_] == '@' && i_ + 1 < s_.size() && (s_[i_ + 1] == '\'' || s_[i_ + 1] == '"')) {
    Advance(1);
    auto r = String(t);
    if (auto* tok = std::get_if<Token>(&r)) tok->at = true;
    return r;
  }
  if (s_[i_] == '\'' || s_[i_] == '"') return String(t);
  t.kind = Token::Kind::kWord;
  const size_t b = i_;
  while (i_ < s_.size() && !std::isspace(static_cast<unsigned char>(s_[i_]))) Advance(1);
  t.text = std::string(s_.substr(b, i_ - b));
  return t;
}

std::string_view Lexer::CharAt(size_t i) const {
  size_t n = 1;
  while (i + n < s_.size() && (static_cast<unsigned char>(s_[i + n]) & 0xC0) == 0x80) ++n;
  return s_.substr(i, n);
}

void Lexer::Advance(size_t n) {
  for (size_t k = 0; k < n && i_ < s_.size(); ++k, ++i_) {
    const unsigned char c = static_cast<unsigned char>(s_[i_]);
    if (c == '\n') {
      ++pos_.line;
      pos_.col = 1;
    } else if ((c & 0xC0) != 0x80) {
      ++pos_.col;
    }
  }
}

void Lexer::SkipSpace() {
  while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) Advance(1);
}

std::variant<Token, QueryError> Lexer::Number(Token t) {
  t.kind = Token::Kind::kNumber;
  const size_t b = i_;
  bool is_float = false;
  auto digits = [&] {
    while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) Advance(1);
  };
  digits();
  if (i_ + 1 < s_.size() && s_[i_] == '.' && std::isdigit(static_cast<unsigned char>(s_[i_ + 1]))) {
    is_float = true;
    Advance(1);
    digits();
  }
  if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
    size_t k = i_ + 1;
    if (k < s_.size() && (s_[k] == '+' || s_[k] == '-')) ++k;
    if (k < s_.size() && std::isdigit(static_cast<unsigned char>(s_[k]))) {
      is_float = true;
      Advance(k - i_);
      digits();
    }
  }
  if (i_ < s_.size() && IsIdentChar(s_[i_])) {
    return QueryError{t.pos, "bad number '" + std::string(s_.substr(b, i_ - b + 1)) + "...'"};
  }
  t.text = std::string(s_.substr(b, i_ - b));
  if (is_float) {
    t.number = std::strtod(t.text.c_str(), nullptr);
    return t;
  }
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(t.text.data(), t.text.data() + t.text.size(), v);
  if (ec != std::errc()) return QueryError{t.pos, "number '" + t.text + "' is too large"};
  t.number = v;
  return t;
}

std::variant<Token, QueryError> Lexer::String(Token t) {
  t.kind = Token::Kind::kString;
  const char q = s_[i_];
  Advance(1);
  std::string out;
  while (true) {
    if (i_ >= s_.size()) return QueryError{t.pos, "unterminated string"};
    const char c = s_[i_];
    if (c == q) {
      Advance(1);
      break;
    }
    if (c == '\\' && i_ + 1 < s_.size()) {
      const char e = s_[i_ + 1];
      if (e == q || e == '\\') {
        out += e;
      } else if (e == 'n') {
        out += '\n';
      } else if (e == 't') {
        out += '\t';
      } else if (e == 'r') {
        out += '\r';
      } else {
        out += c;
        out += e;
      }
      Advance(2);
      continue;
    }
    out += c;
    Advance(1);
  }
  t.text = std::move(out);
  return t;
}

}  // namespace tink::query::internal
