// What SWE-agent's own tools do to a file: see swe_agent_commands.h.
#include "engine/import/swe_agent_commands.h"

#include <algorithm>

namespace tink::engine::import::swe {

std::string CrlfToLf(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') {
      continue;
    }
    out += s[i];
  }
  return out;
}

std::vector<std::string> SplitAll(std::string_view s) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t nl = s.find('\n', start);
    if (nl == std::string_view::npos) {
      out.emplace_back(s.substr(start));
      return out;
    }
    out.emplace_back(s.substr(start, nl - start));
    start = nl + 1;
  }
}

std::string JoinLines(const std::vector<std::string>& lines, size_t from, size_t to) {
  std::string out;
  to = std::min(to, lines.size());
  for (size_t i = from; i < to; ++i) {
    if (i > from) {
      out += '\n';
    }
    out += lines[i];
  }
  return out;
}

std::string FirstLine(std::string_view s) {
  size_t nl = s.find('\n');
  std::string_view l = s.substr(0, nl);
  if (!l.empty() && l.back() == '\r') {
    l.remove_suffix(1);
  }
  return std::string(l);
}

std::string CutChars(std::string_view s, size_t n) {
  size_t count = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (count == n) {
        return std::string(s.substr(0, i));
      }
      ++count;
    }
  }
  return std::string(s);
}

std::optional<std::vector<std::string>> ShellWords(std::string_view s) {
  std::vector<std::string> words;
  std::string cur;
  bool in_word = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\'') {
      size_t end = s.find('\'', i + 1);
      if (end == std::string_view::npos) {
        return std::nullopt;
      }
      cur.append(s.substr(i + 1, end - i - 1));
      i = end;
      in_word = true;
    } else if (c == '"') {
      size_t j = i + 1;
      for (; j < s.size() && s[j] != '"'; ++j) {
        if (s[j] == '\\' && j + 1 < s.size() &&
            (s[j + 1] == '"' || s[j + 1] == '\\' || s[j + 1] == '$' || s[j + 1] == '`')) {
          ++j;
        } else if (s[j] == '\\' && j + 1 < s.size() && s[j + 1] == '\n') {
          ++j;
          continue;
        }
        cur += s[j];
      }
      if (j >= s.size()) {
        return std::nullopt;
      }
      i = j;
      in_word = true;
    } else if (c == '\\' && i + 1 < s.size()) {
      if (s[i + 1] != '\n') {
        cur += s[i + 1];
      }
      ++i;
      in_word = true;
    } else if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) {
        words.push_back(std::move(cur));
      }
      cur.clear();
      in_word = false;
    } else {
      cur += c;
      in_word = true;
    }
  }
  if (in_word) {
    words.push_back(std::move(cur));
  }
  return words;
}

bool ParseCount(std::string_view s, int64_t* out) {
  if (s.empty() || s.size() > 12) {
    return false;
  }
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') {
      return false;
    }
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

bool Contains(std::string_view s, std::string_view what) {
  return s.find(what) != std::string_view::npos;
}

std::string Normalise(std::string_view p) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string_view::npos) {
      j = p.size();
    }
    std::string_view seg = p.substr(i, j - i);
    if (seg == "..") {
      if (!parts.empty() && parts.back() != "..") {
        parts.pop_back();
      } else if (!p.starts_with("/")) {
        parts.emplace_back(seg);
      }
    } else if (!seg.empty() && seg != ".") {
      parts.emplace_back(seg);
    }
    i = j + 1;
  }
  std::string out = p.starts_with("/") ? "/" : "";
  for (size_t k = 0; k < parts.size(); ++k) {
    out += (k ? "/" : "") + parts[k];
  }
  return out;
}

std::optional<std::string> ObservationError(std::string_view obs) {
  const std::vector<std::string> lines = SplitAll(obs);
  for (const std::string& l : lines) {
    if (Contains(l, ": command not found")) {
      return l;
    }
  }
  if (obs.starts_with("Error:") || obs.starts_with("Usage:") || obs.starts_with("No file open")) {
    return FirstLine(obs);
  }
  if (Contains(obs, "Traceback (most recent call last):")) {
    for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
      if (!it->empty()) {
        return *it;
      }
    }
  }
  return std::nullopt;
}

bool EditAccepted(std::string_view tool, bool line_range, std::string_view obs) {
  if (Contains(obs, "Your proposed edit has introduced new syntax error") ||
      Contains(obs, "NOT been applied") || Contains(obs, "edit was not applied") ||
      obs.starts_with("Error") || obs.starts_with("Usage:") || obs.starts_with("No file open")) {
    return false;
  }
  if (tool == "insert") {
    return Contains(obs, "[File: ");
  }
  if (line_range) {
    return Contains(obs, "File updated.");
  }
  return obs.starts_with("Text replaced") ||
         (obs.starts_with("Replaced ") && Contains(obs, " occurrences"));
}

std::optional<LineRange> ParseLineRange(std::string_view action) {
  const size_t nl = action.find('\n');
  auto head = ShellWords(action.substr(0, nl));
  if (!head || head->size() != 2 || (*head)[0] != "edit") {
    return std::nullopt;
  }
  const std::string& range = (*head)[1];
  const size_t colon = range.find(':');
  LineRange r;
  if (colon == std::string::npos || !ParseCount(range.substr(0, colon), &r.start) ||
      !ParseCount(range.substr(colon + 1), &r.end)) {
    return std::nullopt;
  }
  if (nl == std::string_view::npos) {
    return r;
  }
  for (const std::string& l : SplitAll(action.substr(nl + 1))) {
    if (l == "end_of_edit") {
      break;
    }
    r.text += l + "\n";
  }
  return r;
}

std::optional<std::vector<std::string>> PlainRmPaths(std::string_view cmd,
                                                     const std::vector<std::string>& words) {
  static constexpr std::string_view kMeta = ";&|<>`$(){}*?[]~\\\n";
  if (cmd.find_first_of(kMeta) != std::string_view::npos) {
    return std::nullopt;
  }
  std::vector<std::string> paths;
  for (size_t k = 1; k < words.size(); ++k) {
    if (words[k] == "-f") {
      continue;
    }
    if (words[k].starts_with("-")) {
      return std::nullopt;
    }
    paths.push_back(words[k]);
  }
  if (paths.empty()) {
    return std::nullopt;
  }
  return paths;
}

bool MayChangeFiles(std::string_view tool, std::string_view cmd) {
  static constexpr std::string_view kWriters[] = {
      "mv", "cp",      "touch", "tee", "patch", "truncate",          "dd",
      "ln", "install", "unzip", "tar", "rsync", "str_replace_editor"};
  for (std::string_view w : kWriters) {
    if (tool == w) {
      return true;
    }
  }
  for (std::string_view w : {"sed -i", "perl -i", "git apply", "git checkout", "git reset",
                             "git restore", "git stash", "| tee", "xargs rm"}) {
    if (Contains(cmd, w)) {
      return true;
    }
  }
  std::string bare;
  char quote = 0;
  for (char c : cmd) {
    if (quote != 0) {
      if (c == quote) {
        quote = 0;
      }
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else {
      bare += c;
    }
  }
  for (size_t p = bare.find('>'); p != std::string::npos; p = bare.find('>', p + 1)) {
    if (p > 0 && bare[p - 1] == '>') {
      continue;
    }
    std::string_view rest = std::string_view(bare).substr(p + 1);
    if (rest.starts_with(">")) {
      rest.remove_prefix(1);
    }
    if (rest.starts_with("&")) {
      continue;
    }
    while (rest.starts_with(" ")) {
      rest.remove_prefix(1);
    }
    if (rest.starts_with("/dev/null")) {
      continue;
    }
    return true;
  }
  return false;
}

std::map<std::string, PatchIndexEntry> PatchIndex(std::string_view patch) {
  std::map<std::string, PatchIndexEntry> out;
  std::string path;
  for (const std::string& l : SplitAll(CrlfToLf(patch))) {
    if (l.starts_with("diff --git a/")) {
      const size_t b = l.find(" b/");
      path = b == std::string::npos ? "" : l.substr(13, b - 13);
    } else if (l.starts_with("index ") && !path.empty()) {
      const size_t dots = l.find("..");
      if (dots == std::string::npos) {
        continue;
      }
      const size_t sp = l.find(' ', dots);
      out[path] = {l.substr(6, dots - 6), sp == std::string::npos ? "" : l.substr(sp + 1)};
      path.clear();
    }
  }
  return out;
}

std::string IssueText(const std::string& message) {
  const size_t a = message.find("ISSUE:\n"), z = message.find("\n\nINSTRUCTIONS:");
  if (a == std::string::npos || z == std::string::npos || z < a + 7) {
    return message;
  }
  return message.substr(a + 7, z - a - 7);
}

std::optional<View> ParseView(std::string_view obs) {
  std::vector<std::string> lines = SplitAll(obs);
  std::optional<View> found;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    static constexpr std::string_view kHead = "[File: ", kTail = " lines total)]";
    if (!l.starts_with(kHead) || !l.ends_with(kTail)) {
      continue;
    }
    size_t open = l.rfind(" (");
    if (open == std::string::npos || open < kHead.size()) {
      continue;
    }
    View v;
    v.path = l.substr(kHead.size(), open - kHead.size());
    if (!ParseCount(std::string_view(l).substr(open + 2, l.size() - kTail.size() - open - 2),
                    &v.total)) {
      continue;
    }
    size_t j = i + 1;
    auto marker = [&](std::string_view suffix) {
      if (j >= lines.size()) {
        return false;
      }
      std::string_view m = lines[j];
      int64_t k = 0;
      if (!m.starts_with("(") || !m.ends_with(suffix)) {
        return false;
      }
      if (!ParseCount(m.substr(1, m.size() - 1 - suffix.size()), &k)) {
        return false;
      }
      ++j;
      return true;
    };
    v.more_above = marker(" more lines above)");
    for (; j < lines.size(); ++j) {
      std::string_view m = lines[j];
      size_t colon = m.find(':');
      int64_t n = 0;
      if (colon == std::string_view::npos || !ParseCount(m.substr(0, colon), &n)) {
        break;
      }
      if (v.lines.empty()) {
        v.first = n;
      }
      if (n != v.first + static_cast<int64_t>(v.lines.size())) {
        break;
      }
      v.lines.emplace_back(m.substr(colon + 1));
    }
    v.more_below = marker(" more lines below)");
    if (!v.lines.empty() || v.total == 0) {
      found = std::move(v);
    }
  }
  return found;
}

int64_t ViewMismatch(const std::string& content, const View& v) {
  std::vector<std::string> lines = SplitAll(content);
  for (size_t k = 0; k < v.lines.size(); ++k) {
    const int64_t n = v.first + static_cast<int64_t>(k);
    std::string_view want = v.lines[k], got;
    if (n >= 1 && static_cast<size_t>(n) <= lines.size()) {
      got = lines[n - 1];
    }
    if (!want.empty() && want.back() == '\r') {
      want.remove_suffix(1);
    }
    if (!got.empty() && got.back() == '\r') {
      got.remove_suffix(1);
    }
    if (n < 1 || static_cast<size_t>(n) > lines.size() || want != got) {
      return n;
    }
  }
  return 0;
}

std::string InsertText(const std::string& cur, std::string text, std::optional<int64_t> line) {
  if (text.empty()) {
    return cur;
  }
  if (text.back() == '\n') {
    text.pop_back();
  }
  if (!line) {
    if (cur.empty()) {
      return text;
    }
    std::string_view c = cur;
    if (c.back() == '\n') {
      c.remove_suffix(1);
    }
    return std::string(c) + "\n" + text;
  }
  if (*line < 0) {
    if (cur.empty()) {
      return text;
    }
    std::string_view c = cur;
    if (c.front() == '\n') {
      c.remove_prefix(1);
    }
    return text + "\n" + std::string(c);
  }
  std::vector<std::string> lines = SplitAll(cur);
  size_t at = std::min(static_cast<size_t>(*line), lines.size());
  lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(at), std::move(text));
  return JoinLines(lines);
}

std::vector<size_t> Occurrences(std::string_view hay, std::string_view needle) {
  std::vector<size_t> at;
  if (needle.empty()) {
    return at;
  }
  for (size_t p = hay.find(needle); p != std::string_view::npos;
       p = hay.find(needle, p + needle.size())) {
    at.push_back(p);
  }
  return at;
}

std::string ReplaceAt(const std::string& s, const std::vector<size_t>& at, size_t len,
                      std::string_view with) {
  std::string out;
  size_t prev = 0;
  for (size_t p : at) {
    out.append(s, prev, p - prev);
    out.append(with);
    prev = p + len;
  }
  out.append(s, prev, std::string::npos);
  return out;
}

std::string LineRangeEdit(const std::string& cur, int64_t s, int64_t e, const std::string& text) {
  std::vector<std::string> lines = SplitAll(cur);
  if (!cur.empty() && cur.back() == '\n') {
    lines.pop_back();
  }
  if (cur.empty()) {
    lines.clear();
  }
  std::vector<std::string> repl;
  if (!text.empty()) {
    repl = SplitAll(text);
    if (text.back() == '\n') {
      repl.pop_back();
    }
  }
  const size_t a = std::min(static_cast<size_t>(std::max<int64_t>(s - 1, 0)), lines.size());
  const size_t b = std::min(static_cast<size_t>(std::max<int64_t>(e, 0)), lines.size());
  std::vector<std::string> out(lines.begin(), lines.begin() + static_cast<std::ptrdiff_t>(a));
  out.insert(out.end(), repl.begin(), repl.end());
  out.insert(out.end(), lines.begin() + static_cast<std::ptrdiff_t>(b), lines.end());
  std::string result;
  for (const std::string& l : out) {
    result += l + "\n";
  }
  return result;
}

std::optional<std::string> HunkFromView(const View& v, std::string_view search,
                                        std::string_view replace) {
  if (v.lines.empty() || replace.empty()) {
    return std::nullopt;
  }
  std::vector<std::string> win;
  for (const std::string& l : v.lines) {
    std::string_view t = l;
    if (!t.empty() && t.back() == '\r') {
      t.remove_suffix(1);
    }
    win.emplace_back(t);
  }
  const std::string text = JoinLines(win);
  std::vector<size_t> at = Occurrences(text, replace);
  if (at.size() != 1) {
    return std::nullopt;
  }
  std::vector<size_t> offs(win.size(), 0);  // byte offset of each window line in `text`
  for (size_t k = 1; k < win.size(); ++k) {
    offs[k] = offs[k - 1] + win[k - 1].size() + 1;
  }
  const size_t p = at[0], q = p + replace.size();
  const size_t ls = static_cast<size_t>(std::count(text.begin(), text.begin() + p, '\n'));
  const size_t le = static_cast<size_t>(std::count(text.begin(), text.begin() + q, '\n'));
  const std::string prefix = win[ls].substr(0, p - offs[ls]);
  const std::string suffix = win[le].substr(q - offs[le]);
  std::vector<std::string> old_lines = SplitAll(prefix + std::string(search) + suffix);
  const size_t before = std::min<size_t>(3, ls), after = std::min<size_t>(3, win.size() - 1 - le);
  const int64_t start = v.first + static_cast<int64_t>(ls - before);
  const size_t n_old = before + old_lines.size() + after;
  const size_t n_new = before + (le - ls + 1) + after;
  std::string h = "@@ -" + std::to_string(start) + "," + std::to_string(n_old) + " +" +
                  std::to_string(start) + "," + std::to_string(n_new) + " @@\n";
  for (size_t k = ls - before; k < ls; ++k) {
    h += " " + win[k] + "\n";
  }
  for (const std::string& l : old_lines) {
    h += "-" + l + "\n";
  }
  for (size_t k = ls; k <= le; ++k) {
    h += "+" + win[k] + "\n";
  }
  for (size_t k = le + 1; k <= le + after; ++k) {
    h += " " + win[k] + "\n";
  }
  return h;
}

}  // namespace tink::engine::import::swe
