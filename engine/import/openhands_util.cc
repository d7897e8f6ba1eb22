// Helpers of the OpenHands reader: a reader for the Python dict literal in
// `translated_ipython_code`, a shell-line scan for commands that change files, text cutting.
#include <algorithm>
#include <cctype>
#include <cstdint>

#include "engine/import/openhands_internal.h"

namespace tink::engine::import::internal {

namespace {

using nlohmann::json;

void AppendUtf8(std::string* out, uint32_t cp) {
  if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;  // a lone surrogate has no UTF-8 form
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp <= 0x10FFFF) {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    AppendUtf8(out, 0xFFFD);
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A recursive-descent reader for the literals repr() writes (no expressions, no nesting limit
// beyond the depth guard).
class PyLiteral {
 public:
  explicit PyLiteral(std::string_view s, size_t pos) : s_(s), i_(pos) {}

  Result<json> Value(int depth = 0) {
    if (depth > 40) return Bad("literal nested too deeply");
    Ws();
    if (i_ >= s_.size()) return Bad("unexpected end of input");
    char c = s_[i_];
    if (c == '\'' || c == '"') return Str();
    if (c == '{') return Dict(depth);
    if (c == '[' || c == '(') return List(depth);
    if (c == '-' || (c >= '0' && c <= '9')) return Int();
    for (auto [word, value] :
         {std::pair<std::string_view, json>{"None", nullptr}, {"True", true}, {"False", false}}) {
      if (s_.substr(i_, word.size()) == word) {
        i_ += word.size();
        return value;
      }
    }
    return Bad("unexpected character '" + std::string(1, c) + "'");
  }

 private:
  Status Bad(const std::string& what) const {
    return Status::InvalidArgument("Python literal at offset " + std::to_string(i_) + ": " + what);
  }
  void Ws() {
    while (i_ < s_.size() &&
           (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r')) {
      ++i_;
    }
  }
  bool Eat(char c) {
    Ws();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }

  Result<json> Int() {
    size_t start = i_;
    if (s_[i_] == '-') ++i_;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
    std::string digits(s_.substr(start, i_ - start));
    if (digits == "-" || digits.size() > 18) return Bad("not an integer: " + digits);
    return json(std::stoll(digits));
  }

  Result<json> Str() {
    const char q = s_[i_++];
    std::string out;
    while (i_ < s_.size() && s_[i_] != q) {
      char c = s_[i_++];
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (i_ >= s_.size()) break;
      char e = s_[i_++];
      switch (e) {
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case '0':
          out.push_back('\0');
          break;
        case 'a':
          out.push_back('\a');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'v':
          out.push_back('\v');
          break;
        case '\\':
        case '\'':
        case '"':
          out.push_back(e);
          break;
        case '\n':
          break;  // line continuation
        case 'x':
        case 'u':
        case 'U': {
          const size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          uint32_t cp = 0;
          for (size_t k = 0; k < n; ++k) {
            int h = i_ < s_.size() ? HexValue(s_[i_]) : -1;
            if (h < 0) return Bad(std::string("bad \\") + e + " escape");
            cp = cp * 16 + static_cast<uint32_t>(h);
            ++i_;
          }
          AppendUtf8(&out, cp);
          break;
        }
        default:  // Python keeps unknown escapes as written
          out.push_back('\\');
          out.push_back(e);
      }
    }
    if (i_ >= s_.size()) return Bad("unterminated string");
    ++i_;
    return json(std::move(out));
  }

  Result<json> Dict(int depth) {
    ++i_;
    json obj = json::object();
    if (Eat('}')) return obj;
    while (true) {
      Ws();
      if (i_ >= s_.size() || (s_[i_] != '\'' && s_[i_] != '"')) return Bad("expected a str key");
      ASSIGN_OR_RETURN(json key, Str());
      if (!Eat(':')) return Bad("expected ':'");
      ASSIGN_OR_RETURN(json value, Value(depth + 1));
      obj[key.get<std::string>()] = std::move(value);
      if (Eat('}')) return obj;
      if (!Eat(',')) return Bad("expected ',' or '}'");
      if (Eat('}')) return obj;  // trailing comma
    }
  }

  Result<json> List(int depth) {
    const char close = s_[i_++] == '[' ? ']' : ')';
    json arr = json::array();
    if (Eat(close)) return arr;
    while (true) {
      ASSIGN_OR_RETURN(json value, Value(depth + 1));
      arr.push_back(std::move(value));
      if (Eat(close)) return arr;
      if (!Eat(',')) return Bad(std::string("expected ',' or '") + close + "'");
      if (Eat(close)) return arr;
    }
  }

  std::string_view s_;
  size_t i_;
};

// --- shell scanning ---

struct Segment {
  std::vector<std::string> words;
  std::vector<std::string> redirect_targets;
};

// Splits a command line into simple commands (at && || ; | & and newlines), removing quotes and
// collecting redirection targets. Not a shell: enough to see which files a line names.
std::vector<Segment> SplitShell(std::string_view s) {
  std::vector<Segment> segs(1);
  std::string word;
  bool in_word = false, redirect_next = false;
  auto end_word = [&] {
    if (!in_word) return;
    if (redirect_next) {
      segs.back().redirect_targets.push_back(word);
      redirect_next = false;
    } else {
      segs.back().words.push_back(word);
    }
    word.clear();
    in_word = false;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\'') {
      size_t end = s.find('\'', i + 1);
      if (end == std::string_view::npos) end = s.size();
      word.append(s.substr(i + 1, end - i - 1));
      in_word = true;
      i = end;
    } else if (c == '"') {
      for (++i; i < s.size() && s[i] != '"'; ++i) {
        if (s[i] == '\\' && i + 1 < s.size()) ++i;
        word.push_back(s[i]);
      }
      in_word = true;
    } else if (c == '\\' && i + 1 < s.size()) {
      word.push_back(s[++i]);
      in_word = true;
    } else if (c == ' ' || c == '\t' || c == '<') {
      end_word();
    } else if (c == ';' || c == '|' || c == '&' || c == '\n') {
      if (c == '&' && i + 1 < s.size() && s[i + 1] == '>') {  // &> file
        end_word();
        redirect_next = true;
        i += (i + 2 < s.size() && s[i + 2] == '>') ? 2 : 1;
        continue;
      }
      end_word();
      redirect_next = false;
      segs.emplace_back();
    } else if (c == '>') {
      // "2>" / "1>>": the digits name a descriptor, not a word.
      if (in_word &&
          std::all_of(word.begin(), word.end(), [](char d) { return d >= '0' && d <= '9'; })) {
        word.clear();
        in_word = false;
      }
      end_word();
      if (i + 1 < s.size() && (s[i + 1] == '>' || s[i + 1] == '|')) ++i;
      if (i + 1 < s.size() && s[i + 1] == '&') {  // >&2: duplicates a descriptor
        ++i;
        while (i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '9') ++i;
        continue;
      }
      redirect_next = true;
    } else {
      word.push_back(c);
      in_word = true;
    }
  }
  end_word();
  return segs;
}

std::string Normalize(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view part = path.substr(i, j - i);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    i = j + 1;
  }
  std::string out;
  for (std::string_view p : parts) out.append("/").append(p);
  return out.empty() ? "/" : out;
}

// Absolute form of `path`, or "" when it is relative and the directory is unknown.
std::string Resolve(std::string_view path, std::string_view cwd) {
  if (path.empty() || path[0] == '~' || path[0] == '$') return "";
  if (path[0] == '/') return Normalize(path);
  if (cwd.empty()) return "";
  return Normalize(std::string(cwd) + "/" + std::string(path));
}

bool Under(std::string_view path, std::string_view root) {
  while (root.size() > 1 && root.back() == '/') root.remove_suffix(1);
  if (path.empty() || root.empty()) return false;
  if (root == "/") return true;
  return path == root || (path.starts_with(root) && path[root.size()] == '/');
}

bool IsSedInPlace(std::string_view w) {
  if (w.starts_with("--in-place")) return true;
  if (w.size() < 2 || w[0] != '-' || w[1] == '-') return false;
  if (w[1] == 'i') return true;  // -i, -i.bak
  // A cluster of short flags such as -ni or -Ei.
  return std::all_of(w.begin() + 1, w.end(), [](char c) { return std::isalpha(c) != 0; }) &&
         w.find('i') != std::string_view::npos;
}

}  // namespace

Result<json> ParsePythonKwargs(std::string_view source, std::string_view callee) {
  std::string needle = std::string(callee) + "(**";
  size_t at = source.find(needle);
  if (at == std::string_view::npos) {
    return Status::NotFound("no " + std::string(callee) + "(**{...}) call");
  }
  PyLiteral p(source, at + needle.size());
  ASSIGN_OR_RETURN(json value, p.Value());
  if (!value.is_object()) {
    return Status::InvalidArgument(std::string(callee) + "(**...) is not given a dict");
  }
  return value;
}

std::vector<std::string> ShellFileChanges(std::string_view command, std::string_view root,
                                          std::string_view cwd) {
  std::vector<std::string> kinds;
  auto add = [&kinds](std::string_view k) {
    if (std::find(kinds.begin(), kinds.end(), k) == kinds.end()) kinds.emplace_back(k);
  };
  std::string dir(cwd);
  for (const Segment& seg : SplitShell(command)) {
    for (const std::string& t : seg.redirect_targets) {
      if (t == "/dev/null" || t.starts_with("/dev/")) continue;
      if (Under(Resolve(t, dir), root)) add("redirection");
    }
    // Skip variable assignments and sudo/env prefixes to find the command word.
    size_t k = 0;
    while (k < seg.words.size() &&
           (seg.words[k] == "sudo" || seg.words[k] == "env" ||
            (seg.words[k].find('=') != std::string::npos && seg.words[k][0] != '-'))) {
      ++k;
    }
    if (k >= seg.words.size()) continue;
    std::string_view cmd = seg.words[k];
    if (size_t slash = cmd.rfind('/'); slash != std::string_view::npos) {
      cmd = cmd.substr(slash + 1);
    }
    if (cmd == "cd") {
      if (k + 1 < seg.words.size()) {
        std::string to = Resolve(seg.words[k + 1], dir);
        dir = to;  // unknown ("") when it cannot be resolved
      }
      continue;
    }
    auto names_root_file = [&](size_t from) {
      for (size_t w = from; w < seg.words.size(); ++w) {
        if (!seg.words[w].starts_with("-") && Under(Resolve(seg.words[w], dir), root)) {
          return true;
        }
      }
      return false;
    };
    if (cmd == "sed") {
      bool in_place =
          std::any_of(seg.words.begin() + static_cast<ptrdiff_t>(k) + 1, seg.words.end(),
                      [](const std::string& w) { return IsSedInPlace(w); });
      if (in_place && names_root_file(k + 1)) add("sed -i");
    } else if (cmd == "mv" || cmd == "cp" || cmd == "rm" || cmd == "tee") {
      if (names_root_file(k + 1)) add(cmd);
    }
  }
  return kinds;
}

std::optional<std::string> StrReplaceOnce(std::string_view text, std::string old_str,
                                          std::string new_str, size_t* found) {
  auto count = [text](const std::string& s) {
    size_t n = 0;
    for (size_t at = text.find(s); !s.empty() && at != std::string_view::npos;
         at = text.find(s, at + s.size())) {
      ++n;
    }
    return n;
  };
  size_t n = count(old_str);
  if (n == 0) {
    auto strip = [](const std::string& s) {
      const char* ws = " \t\n\r\v\f";
      size_t a = s.find_first_not_of(ws);
      return a == std::string::npos ? std::string() : s.substr(a, s.find_last_not_of(ws) - a + 1);
    };
    if (count(strip(old_str)) == 1) {
      old_str = strip(old_str);
      new_str = strip(new_str);
      n = 1;
    }
  }
  *found = n;
  if (n != 1) return std::nullopt;
  const size_t at = text.find(old_str);
  std::string out(text.substr(0, at));
  out.append(new_str).append(text.substr(at + old_str.size()));
  return out;
}

std::optional<std::string> InsertAfterLine(std::string_view text, std::optional<int64_t> line,
                                           std::string_view new_str) {
  std::vector<std::string_view> lines;
  for (size_t i = 0;;) {
    size_t j = text.find('\n', i);
    lines.push_back(text.substr(i, j == std::string_view::npos ? j : j - i));
    if (j == std::string_view::npos) break;
    i = j + 1;
  }
  if (!line || *line < 0 || static_cast<uint64_t>(*line) > lines.size()) return std::nullopt;
  const size_t at = static_cast<size_t>(*line);
  std::string out;
  out.reserve(text.size() + new_str.size() + 1);
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i == at) out.append(new_str).append("\n");
    out.append(lines[i]);
    if (i + 1 < lines.size()) out.push_back('\n');
  }
  if (at == lines.size()) out.append("\n").append(new_str);
  return out;
}

std::string CutUtf8(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  size_t n = max_bytes;
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  return std::string(text.substr(0, n));
}

std::string FirstLine(std::string_view text, size_t max_bytes) {
  size_t i = 0;
  while (i < text.size()) {
    size_t end = text.find('\n', i);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(i, end - i);
    size_t a = line.find_first_not_of(" \t\r");
    if (a != std::string_view::npos) {
      size_t b = line.find_last_not_of(" \t\r");
      line = line.substr(a, b - a + 1);
      if (line.size() <= max_bytes) return std::string(line);
      return CutUtf8(line, max_bytes > 3 ? max_bytes - 3 : max_bytes) + "\xE2\x80\xA6";
    }
    i = end + 1;
  }
  return "";
}

}  // namespace tink::engine::import::internal
