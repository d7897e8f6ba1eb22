// The lexer of the query language (internal to shell/query/parser.cc): text -> tokens with
// their line:column. Two modes: query mode (words, numbers, strings, punctuation) and verb mode
// (quoted strings and bare words running to the next space, since ids and paths hold / : . - @).
//
// Thread safety: a Lexer belongs to one thread; it borrows the text, which must outlive it.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "shell/query/query.h"

namespace tink::query::internal {

struct Token {
  enum class Kind { kEnd, kWord, kNumber, kString, kPunct };
  Kind kind = Kind::kEnd;
  std::string text;  // word, punctuation, or a string's content (unescaped)
  Json number;       // kNumber: an unsigned integer or a double
  bool at = false;   // verb mode: @'quoted point'
  Pos pos;
};

// How an error names a token: "'x'", or "the end of the query".
std::string Describe(const Token& t);

class Lexer {
 public:
  explicit Lexer(std::string_view text) : s_(text) {}

  // Query mode: words (identifiers and field paths), numbers, strings, punctuation.
  std::variant<Token, QueryError> Next();

  // Verb mode: a quoted string, or a bare word running to the next white space (ids and paths
  // contain / : . - _ @ and more). `@'...'` is a quoted point.
  std::variant<Token, QueryError> NextWord();

 private:
  std::string_view CharAt(size_t i) const;

  // Columns count characters, not bytes (a caret under the column lines up on a terminal).
  void Advance(size_t n);

  void SkipSpace();

  std::variant<Token, QueryError> Number(Token t);

  // '...' or "...": \\ and \<quote> escape, \n \t \r are control characters, any other backslash
  // stays as it is (so a regex reads naturally: '\d+').
  std::variant<Token, QueryError> String(Token t);

  std::string_view s_;
  size_t i_ = 0;
  Pos pos_;
};

}  // namespace tink::query::internal
