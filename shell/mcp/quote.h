// Words and points of the shell language (docs/shell.md "Query language") built from tool
// arguments: every id or path becomes a quoted word, so no argument can change the statement's
// shape (a quoted word is always an argument, never a keyword or an option).
#pragma once

#include <string>
#include <string_view>

namespace tink::mcp {

// 'TEXT' with \ ' and control characters escaped as the lexer reads them.
inline std::string QuoteWord(std::string_view s) {
  std::string q = "'";
  for (char c : s) {
    switch (c) {
      case '\\':
        q += "\\\\";
        break;
      case '\'':
        q += "\\'";
        break;
      case '\n':
        q += "\\n";
        break;
      case '\t':
        q += "\\t";
        break;
      case '\r':
        q += "\\r";
        break;
      default:
        q += c;
    }
  }
  q += '\'';
  return q;
}

// A POINT: an LSN or `now` as they are, anything else (a time) quoted.
inline std::string QuotePoint(std::string_view p) {
  if (p == "now") return "now";
  if (!p.empty() && p.size() <= 19 && p.find_first_not_of("0123456789") == std::string_view::npos) {
    return std::string(p);
  }
  return QuoteWord(p);
}

}  // namespace tink::mcp
