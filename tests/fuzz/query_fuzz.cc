// libFuzzer harness for the query language front end (shell/query/lexer.h, parser.h): the fuzzed
// bytes are one query text. Lexes it to the end (both token modes), then parses it. Errors must
// come back as QueryError, never a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

#include "shell/query/lexer.h"
#include "shell/query/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  using tink::query::internal::Lexer;
  using tink::query::internal::Token;
  for (int mode = 0; mode < 2; ++mode) {
    Lexer lex(text);
    // Every token consumes at least one byte, so size + 1 steps always reach the end; more
    // would be a lexer that stopped advancing.
    for (size_t steps = 0;; ++steps) {
      if (steps > size + 1) __builtin_trap();
      auto t = mode == 0 ? lex.Next() : lex.NextWord();
      if (std::holds_alternative<tink::query::QueryError>(t)) break;
      const Token& tok = std::get<Token>(t);
      (void)tink::query::internal::Describe(tok);
      if (tok.kind == Token::Kind::kEnd) break;
    }
  }
  (void)tink::query::Parse(text);
  return 0;
}
