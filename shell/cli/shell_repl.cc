// The `tink shell` REPL on libedit's native API (<histedit.h>), chosen over its readline
// emulation because el_gets tells EOF from an error and lets Ctrl-C be a key binding:
//
// - While a line is edited the terminal's ISIG is off (setty -d -isig), so Ctrl-C arrives as a
//   character bound to tink-interrupt: the line and any pending multi-line query are dropped.
// - While a query runs the terminal is back in cooked mode, Ctrl-C raises SIGINT, and the handler
//   sets the session's query::Cancel flag: the running stream stops with Cancelled and the prompt
//   comes back. The handler does nothing else, so it is async-signal-safe.
#include <histedit.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>

#include "shell/cli/shell_session.h"
#include "shell/query/parser.h"

namespace tink::cli {
namespace {

query::Cancel* g_cancel = nullptr;

void OnSigint(int) {
  if (g_cancel != nullptr) g_cancel->store(true);
}

struct ReplState {
  ShellSession* session = nullptr;
  StatementSplitter splitter;
  std::string pending;  // the lines of a query not yet ended, for completion
  bool interrupted = false;
};

ReplState* g_repl = nullptr;

char* Prompt(EditLine*) {
  static char kFirst[] = "tink> ";
  static char kMore[] = "  ...> ";
  return g_repl != nullptr && g_repl->splitter.pending() ? kMore : kFirst;
}

unsigned char Interrupt(EditLine* el, int) {
  g_repl->interrupted = true;
  std::fputs("^C", stdout);
  (void)el;
  return CC_NEWLINE;
}

bool WordChar(char c) { return std::strchr(" \t|(),=<>!'\"", c) == nullptr; }

// Completion candidates for `word` in a statement that so far reads `text`: keywords, sources
// and dot-commands always; the fields of the statement's source (all sources' when it names none);
// run/task/node ids from the Provider.
std::set<std::string> Candidates(const std::string& text, const std::string& word) {
  std::set<std::string> out;
  auto add = [&](const std::string& c) {
    if (c.size() >= word.size() && c.compare(0, word.size(), word) == 0) out.insert(c);
  };
  const size_t first = text.find_first_not_of(" \t\n");
  if (first != std::string::npos && text[first] == '.') {
    for (const DotCommand& c : DotCommands()) add(c.name);
    for (const query::SourceInfo& s : query::Sources()) add(s.name);  // .schema SOURCE
    return out;
  }
  if (first == std::string::npos || text.find_first_of(" \t\n|", first) == std::string::npos) {
    // The statement's first word: a source or a verb.
    for (const query::SourceInfo& s : query::Sources()) add(s.name);
    for (const std::string_view v : query::VerbNames()) add(std::string(v));
    return out;
  }
  for (const char* k : QueryKeywords()) add(k);
  std::string source;
  if (first != std::string::npos) {
    const size_t end = text.find_first_of(" \t\n|", first);
    source = text.substr(first, end == std::string::npos ? std::string::npos : end - first);
  }
  const query::SourceInfo* s = query::FindSource(source);
  for (const query::SourceInfo& src : query::Sources()) {
    if (s != nullptr && &src != s) continue;
    for (const query::FieldInfo& f : src.fields) add(f.name);
  }
  if (!word.empty() && g_repl->session->provider() != nullptr) {
    for (const std::string& id : g_repl->session->provider()->CompletionIds(word, 200)) add(id);
  }
  return out;
}

unsigned char Complete(EditLine* el, int) {
  const LineInfo* li = el_line(el);
  const std::string before(li->buffer, li->cursor);
  size_t start = before.size();
  while (start > 0 && WordChar(before[start - 1])) --start;
  const std::string word = before.substr(start);
  const std::set<std::string> c = Candidates(g_repl->pending + before, word);
  if (c.empty()) return CC_ERROR;
  // The longest common prefix of the candidates.
  std::string common = *c.begin();
  for (const std::string& s : c) {
    size_t n = 0;
    while (n < common.size() && n < s.size() && common[n] == s[n]) ++n;
    common.resize(n);
  }
  if (c.size() == 1) common += ' ';
  if (common.size() > word.size()) {
    if (el_insertstr(el, common.substr(word.size()).c_str()) == -1) return CC_ERROR;
    return CC_REFRESH;
  }
  // Nothing to add: list the choices under the line, in columns.
  size_t w = 0;
  for (const std::string& s : c) w = std::max(w, s.size());
  const size_t per_line = std::max<size_t>(1, 100 / (w + 2));
  std::string list = "\n";
  size_t i = 0;
  for (const std::string& s : c) {
    list += s;
    list += (++i % per_line == 0 || i == c.size()) ? "\n" : std::string(w + 2 - s.size(), ' ');
  }
  std::fputs(list.c_str(), stdout);
  return CC_REDISPLAY;
}

std::string HistoryPath() {
  if (const char* p = std::getenv("TINK_HISTORY"); p != nullptr && *p != '\0') return p;
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return std::string(home) + "/.tink_history";
  }
  return "";
}

std::string OneLine(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s;
}

}  // namespace

int RunRepl(ShellSession* session) {
  ReplState state;
  state.session = session;
  g_repl = &state;
  g_cancel = &session->cancel();

  struct sigaction sa {};
  sa.sa_handler = OnSigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocked read or write returns, the stream sees the flag
  struct sigaction old_sa {};
  sigaction(SIGINT, &sa, &old_sa);

  HistEvent ev;
  History* hist = history_init();
  history(hist, &ev, H_SETSIZE, 1000);
  history(hist, &ev, H_SETUNIQUE, 1);
  const std::string hist_path = HistoryPath();
  if (!hist_path.empty()) history(hist, &ev, H_LOAD, hist_path.c_str());

  EditLine* el = el_init("tink", stdin, stdout, stderr);
  el_set(el, EL_EDITOR, "emacs");
  el_set(el, EL_PROMPT, &Prompt);
  el_set(el, EL_HIST, history, hist);
  el_set(el, EL_ADDFN, "tink-complete", "Complete keywords, sources, fields and ids", &Complete);
  el_set(el, EL_BIND, "^I", "tink-complete", nullptr);
  el_set(el, EL_ADDFN, "tink-interrupt", "Drop the line and any pending query", &Interrupt);
  el_set(el, EL_SETTY, "-d", "-isig", nullptr);
  el_set(el, EL_BIND, "^C", "tink-interrupt", nullptr);
  el_source(el, nullptr);  // ~/.editrc, as every libedit program

  std::printf(
      "tink shell: queries end with ';' or a blank line; .help for commands, Ctrl-D to quit\n");
  while (!session->quit()) {
    int count = 0;
    const char* got = el_gets(el, &count);
    if (state.interrupted) {
      // Ctrl-C at the prompt (the line may be empty: checked before EOF).
      state.interrupted = false;
      state.splitter.Reset();
      state.pending.clear();
      std::printf("\n");
      continue;
    }
    if (got == nullptr || count <= 0) {
      if (count < 0 && errno == EINTR) continue;
      std::printf("\n");
      break;
    }
    std::string line(got, static_cast<size_t>(count));
    if (!line.empty() && line.back() == '\n') line.pop_back();
    std::vector<Statement> statements;
    if (!state.splitter.pending()) state.splitter.Reset();
    state.splitter.AddLine(line, &statements);
    state.pending = state.splitter.pending() ? state.pending + line + "\n" : "";
    for (const Statement& st : statements) {
      // Queries keep their ';' so a recalled one runs on Enter.
      history(hist, &ev, H_ENTER, (OneLine(st.text) + (st.dot ? "" : ";")).c_str());
      session->cancel().store(false);
      session->Run(st, "");  // errors are printed; the REPL stays up
      if (session->quit()) break;
    }
    if (!statements.empty() && !hist_path.empty()) history(hist, &ev, H_SAVE, hist_path.c_str());
  }
  el_end(el);
  history_end(hist);
  sigaction(SIGINT, &old_sa, nullptr);
  g_repl = nullptr;
  g_cancel = nullptr;
  return 0;
}

}  // namespace tink::cli
