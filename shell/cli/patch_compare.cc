#include "shell/cli/patch_compare.h"

#include <algorithm>
#include <cctype>
#include <optional>

namespace tink::cli {
namespace {

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    out.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

// Reads a decimal number at *s; false if there is none.
bool Number(std::string_view* s, long* out) {
  size_t n = 0;
  long v = 0;
  while (n < s->size() && std::isdigit(static_cast<unsigned char>((*s)[n]))) {
    v = v * 10 + ((*s)[n] - '0');
    ++n;
  }
  if (n == 0) return false;
  *out = v;
  s->remove_prefix(n);
  return true;
}

// "@@ -a[,b] +c[,d] @@..." into h's ranges.
bool ParseHunkHeader(std::string_view line, PatchHunk* h) {
  if (!line.starts_with("@@ -")) return false;
  line.remove_prefix(4);
  if (!Number(&line, &h->old_start)) return false;
  h->old_count = 1;
  if (line.starts_with(",")) {
    line.remove_prefix(1);
    if (!Number(&line, &h->old_count)) return false;
  }
  if (!line.starts_with(" +")) return false;
  line.remove_prefix(2);
  if (!Number(&line, &h->new_start)) return false;
  h->new_count = 1;
  if (line.starts_with(",")) {
    line.remove_prefix(1);
    if (!Number(&line, &h->new_count)) return false;
  }
  return line.starts_with(" @@");
}

// "a/x" -> "x" (and "b/x"); "/dev/null" stays; a tab and what follows (a timestamp) is dropped.
std::string StripPrefix(std::string_view p) {
  if (size_t tab = p.find('\t'); tab != std::string_view::npos) p = p.substr(0, tab);
  if (p.starts_with("a/") || p.starts_with("b/")) p.remove_prefix(2);
  return std::string(p);
}

void ParseIndex(std::string_view line, PatchFile* f) {
  line.remove_prefix(6);  // "index "
  size_t dots = line.find("..");
  if (dots == std::string_view::npos) return;
  f->old_id = std::string(line.substr(0, dots));
  line.remove_prefix(dots + 2);
  size_t sp = line.find(' ');
  f->new_id = std::string(line.substr(0, sp));
  f->mode = sp == std::string_view::npos ? "" : std::string(line.substr(sp + 1));
}

bool SameId(const std::string& a, const std::string& b) {
  if (a.empty() && b.empty()) return true;  // no index line on either side (a mode change only)
  size_t n = std::min(a.size(), b.size());
  return n > 0 && a.compare(0, n, b, 0, n) == 0;
}

std::string Joined(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += s + "\n";
  return out;
}

PatchDifference Differ(std::string path, std::string what, std::string expected = "",
                       std::string actual = "") {
  PatchDifference d;
  d.equal = false;
  d.path = std::move(path);
  d.what = std::move(what);
  d.expected = std::move(expected);
  d.actual = std::move(actual);
  return d;
}

std::optional<PatchDifference> CompareFiles(const PatchFile& e, const PatchFile& a) {
  std::vector<std::string> eh = e.headers, ah = a.headers;
  std::sort(eh.begin(), eh.end());
  std::sort(ah.begin(), ah.end());
  if (eh != ah)
    return Differ(e.path, "the file headers differ", Joined(e.headers), Joined(a.headers));
  const size_t n = std::max(e.hunks.size(), a.hunks.size());
  for (size_t i = 0; i < n; ++i) {
    const PatchHunk* he = i < e.hunks.size() ? &e.hunks[i] : nullptr;
    const PatchHunk* ha = i < a.hunks.size() ? &a.hunks[i] : nullptr;
    std::string what =
        "hunk " + std::to_string(i + 1) + " of " + std::to_string(e.hunks.size()) + " differs";
    if (e.hunks.size() != a.hunks.size()) {
      what += " (the canvas has " + std::to_string(a.hunks.size()) + " hunks)";
    }
    if (he == nullptr || ha == nullptr) {
      return Differ(e.path, what, he ? he->Text() : "", ha ? ha->Text() : "");
    }
    const bool same_range = he->old_start == ha->old_start && he->old_count == ha->old_count &&
                            he->new_start == ha->new_start && he->new_count == ha->new_count;
    if (same_range && he->lines == ha->lines) continue;
    PatchDifference d = Differ(e.path, what, he->Text(), ha->Text());
    const size_t m = std::max(he->lines.size(), ha->lines.size());
    for (size_t k = 0; k < m; ++k) {
      const std::string* le = k < he->lines.size() ? &he->lines[k] : nullptr;
      const std::string* la = k < ha->lines.size() ? &ha->lines[k] : nullptr;
      if (le != nullptr && la != nullptr && *le == *la) continue;
      d.expected_line = le ? *le : "(no line)";
      d.actual_line = la ? *la : "(no line)";
      break;
    }
    if (d.expected_line.empty() && d.actual_line.empty()) {
      d.expected_line = he->header;
      d.actual_line = ha->header;
    }
    return d;
  }
  if (!SameId(e.old_id, a.old_id) || !SameId(e.new_id, a.new_id) ||
      (!e.mode.empty() && !a.mode.empty() && e.mode != a.mode)) {
    return Differ(
        e.path, "the index lines differ (blob ids or mode)",
        "index " + e.old_id + ".." + e.new_id + (e.mode.empty() ? "" : " " + e.mode) + "\n",
        "index " + a.old_id + ".." + a.new_id + (a.mode.empty() ? "" : " " + a.mode) + "\n");
  }
  return std::nullopt;
}

}  // namespace

std::string PatchHunk::Text() const {
  std::string out = header + "\n";
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

std::string NormalizePatch(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 1);
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
    out.push_back(text[i]);
  }
  size_t lead = out.find_first_not_of('\n');
  out.erase(0, lead == std::string::npos ? out.size() : lead);
  if (!out.empty() && out.back() != '\n') out.push_back('\n');
  return out;
}

std::vector<PatchFile> ParsePatch(std::string_view text) {
  std::vector<PatchFile> files;
  std::vector<std::string_view> lines = Lines(text);
  PatchFile* cur = nullptr;
  std::string minus_path;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view l = lines[i];
    if (l.starts_with("diff --git ")) {
      files.emplace_back();
      cur = &files.back();
      std::string_view rest = l.substr(11);
      size_t b = rest.rfind(" b/");
      cur->path = StripPrefix(b == std::string_view::npos ? rest : rest.substr(b + 1));
      continue;
    }
    if (l.starts_with("--- ") && i + 1 < lines.size() && lines[i + 1].starts_with("+++ ")) {
      if (cur == nullptr || !cur->hunks.empty()) {  // a plain unified diff: no "diff --git"
        files.emplace_back();
        cur = &files.back();
      }
      std::string minus = StripPrefix(l.substr(4)), plus = StripPrefix(lines[i + 1].substr(4));
      cur->path = plus == "/dev/null" ? minus : plus;
      ++i;
      continue;
    }
    if (cur == nullptr) continue;  // text before the first file
    if (l.starts_with("@@ ")) {
      PatchHunk h;
      h.header = std::string(l);
      if (!ParseHunkHeader(l, &h)) {
        cur->headers.push_back(std::string(l));
        continue;
      }
      long old_left = h.old_count, new_left = h.new_count;
      while (i + 1 < lines.size() &&
             (old_left > 0 || new_left > 0 || lines[i + 1].starts_with("\\"))) {
        std::string_view b = lines[i + 1];
        char c = b.empty() ? ' ' : b[0];  // an empty line: context whose space was stripped
        if (c == ' ') {
          --old_left;
          --new_left;
        } else if (c == '-') {
          --old_left;
        } else if (c == '+') {
          --new_left;
        } else if (c != '\\') {
          break;
        }
        h.lines.push_back(b.empty() ? std::string(" ") : std::string(b));
        ++i;
      }
      cur->hunks.push_back(std::move(h));
      continue;
    }
    if (!cur->hunks.empty()) continue;  // trailing text after a file's hunks
    if (l.starts_with("index ")) {
      ParseIndex(l, cur);
    } else if (!l.empty()) {
      cur->headers.push_back(std::string(l));
    }
  }
  return files;
}

PatchDifference ComparePatches(const std::vector<PatchFile>& expected,
                               const std::vector<PatchFile>& actual) {
  auto find = [](const std::vector<PatchFile>& v, const std::string& path) -> const PatchFile* {
    for (const PatchFile& f : v) {
      if (f.path == path) return &f;
    }
    return nullptr;
  };
  for (const PatchFile& e : expected) {
    const PatchFile* a = find(actual, e.path);
    if (a == nullptr) {
      std::string all;
      for (const PatchHunk& h : e.hunks) all += h.Text();
      return Differ(e.path, "changed in the expected patch, unchanged in the canvas", all, "");
    }
    if (auto d = CompareFiles(e, *a)) return *d;
  }
  for (const PatchFile& a : actual) {
    if (find(expected, a.path) != nullptr) continue;
    std::string all;
    for (const PatchHunk& h : a.hunks) all += h.Text();
    return Differ(a.path, "changed in the canvas, not in the expected patch", "", all);
  }
  return {};
}

}  // namespace tink::cli
