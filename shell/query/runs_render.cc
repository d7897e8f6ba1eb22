// The renderings of a RunsDiff (runs.h): one JSON object (`tink runs diff --json`), the
// side-by-side text (`tink runs diff`), and rows (the shell verb `diff A B`).
#include <cstdarg>
#include <cstdio>

#include "schema/schema.h"
#include "shell/query/provider_internal.h"
#include "shell/query/runs.h"

namespace tink::query {
namespace {

using internal::OneLine;

__attribute__((format(printf, 2, 3))) void Appendf(std::string* out, const char* fmt, ...) {
  va_list ap, ap2;
  va_start(ap, fmt);
  va_copy(ap2, ap);
  const int n = std::vsnprintf(nullptr, 0, fmt, ap);
  va_end(ap);
  if (n > 0) {
    const size_t at = out->size();
    out->resize(at + static_cast<size_t>(n) + 1);
    std::vsnprintf(out->data() + at, static_cast<size_t>(n) + 1, fmt, ap2);
    out->resize(at + static_cast<size_t>(n));
  }
  va_end(ap2);
}

const RunCall* CallAt(const std::vector<RunCall>& v, int64_t i) {
  return i < 0 ? nullptr : &v[static_cast<size_t>(i)];
}

double DurationMs(const RunSide& s) {
  return s.last_ns > s.first_ns ? static_cast<double>(s.last_ns - s.first_ns) / 1e6 : 0.0;
}

std::string Duration(const RunSide& s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", DurationMs(s) / 1e3);
  return buf;
}

Json Header(const RunSide& s) {
  Json j = Json::object();
  j["run"] = s.id;
  j["name"] = s.info.name;
  j["agent"] = s.info.agent;
  j["model"] = s.info.model;
  j["status"] = s.info.status;
  j["replay_of"] = s.replay_of;
  j["events"] = s.events;
  j["started"] = s.first_ns ? schema::FormatTime(s.first_ns) : "";
  j["ended"] = s.last_ns ? schema::FormatTime(s.last_ns) : "";
  j["duration_ms"] = DurationMs(s);
  j["tasks"] = s.tasks.size();
  j["llm_calls"] = s.llm.size();
  j["tool_calls"] = s.tools.size();
  j["files"] = s.files.size();
  return j;
}

Json TaskJson(const std::optional<projections::Task>& t) {
  if (!t) return nullptr;
  Json j = Json::object();
  j["task"] = t->id;
  j["parent"] = t->parent;
  j["name"] = t->name;
  j["state"] = std::string(projections::TaskStatusName(t->status));
  j["llm_calls"] = t->llm_calls;
  j["tool_calls"] = t->tool_calls;
  j["tool_errors"] = t->tool_errors;
  return j;
}

Json CallJson(const RunCall* c, int64_t position) {
  if (c == nullptr) return nullptr;
  Json j = Json::object();
  j["position"] = position;
  j["lsn"] = c->lsn;
  j["task"] = c->task;
  j["call_id"] = c->call_id;
  j["summary"] = c->summary;
  return j;
}

Json DifferencesJson(const std::vector<JsonDifference>& v) {
  Json out = Json::array();
  for (const JsonDifference& d : v) out.push_back({{"path", d.path}, {"a", d.a}, {"b", d.b}});
  return out;
}

Json FileJson(const std::optional<RunFile>& f) {
  if (!f) return nullptr;
  return Json{{"deleted", f->deleted}, {"hash", f->hash}};
}

template <class P>
Json Counts(const std::vector<P>& pairs, Mark (*mark)(const P&)) {
  int n[4] = {};
  for (const P& p : pairs) ++n[static_cast<int>(mark(p))];
  return Json{{"equal", n[0]}, {"changed", n[1]}, {"only_a", n[2]}, {"only_b", n[3]}};
}
Mark CallMark(const CallPair& p) { return p.step.mark; }
Mark TaskMark(const TaskPair& p) { return p.mark; }
Mark FileMark(const FilePair& p) { return p.mark; }

Json CallsJson(const std::vector<CallPair>& pairs, const std::vector<RunCall>& a,
               const std::vector<RunCall>& b) {
  Json calls = Json::array();
  for (const CallPair& p : pairs) {
    Json j = Json::object();
    j["mark"] = MarkName(p.step.mark);
    j["a"] = CallJson(CallAt(a, p.step.a), p.step.a);
    j["b"] = CallJson(CallAt(b, p.step.b), p.step.b);
    j["differences"] = DifferencesJson(p.differences);
    calls.push_back(std::move(j));
  }
  return Json{{"counts", Counts(pairs, CallMark)}, {"calls", std::move(calls)}};
}

const std::vector<RunCall>& Seq(const RunSide& s, const std::string& kind) {
  return kind == "llm" ? s.llm : s.tools;
}

std::string PosText(int64_t i) { return i < 0 ? "-" : "#" + std::to_string(i); }

std::string ValueText(const Json& v, size_t max) {
  return OneLine(v.is_string() ? "\"" + v.get<std::string>() + "\"" : v.dump(), max);
}

std::string TaskText(const std::optional<projections::Task>& t) {
  if (!t) return "";
  return t->name + " [" + std::string(projections::TaskStatusName(t->status)) + ", " +
         std::to_string(t->llm_calls) + " llm, " + std::to_string(t->tool_calls) + " tool]";
}

std::string FileText(const std::optional<RunFile>& f) {
  if (!f) return "";
  return f->deleted ? "deleted" : f->hash.substr(0, 12);
}

std::string CountsText(const Json& c) {
  return std::to_string(c["equal"].get<int>()) + " equal, " +
         std::to_string(c["changed"].get<int>()) + " changed, " +
         std::to_string(c["only_a"].get<int>()) + " only in A, " +
         std::to_string(c["only_b"].get<int>()) + " only in B";
}

std::string FirstText(const RunsDiff& d) {
  if (!d.first) return "none: the llm and tool call sequences are equal";
  const CallPair& p = d.first->pair;
  const std::string kind = d.first->kind == "llm" ? "llm call" : "tool call";
  std::string what = p.step.mark == Mark::kChanged ? "differs"
                     : p.step.mark == Mark::kOnlyA ? "only in A"
                                                   : "only in B";
  return kind + " A " + PosText(p.step.a) + " / B " + PosText(p.step.b) + ": " + what;
}

}  // namespace

std::vector<std::string> RunsDiffColumns() {
  return {"section", "item", "mark", "a", "b", "detail"};
}

Json RunsDiffJson(const RunsDiff& d) {
  Json j = Json::object();
  j["a"] = Header(d.a);
  j["b"] = Header(d.b);
  if (d.first) {
    const CallPair& p = d.first->pair;
    Json f = Json::object();
    f["kind"] = d.first->kind;
    f["mark"] = MarkName(p.step.mark);
    f["a"] = CallJson(CallAt(Seq(d.a, d.first->kind), p.step.a), p.step.a);
    f["b"] = CallJson(CallAt(Seq(d.b, d.first->kind), p.step.b), p.step.b);
    f["differences"] = DifferencesJson(p.differences);
    j["first_divergence"] = std::move(f);
  } else {
    j["first_divergence"] = nullptr;
  }
  Json tasks = Json::array();
  for (const TaskPair& t : d.tasks) {
    tasks.push_back({{"mark", MarkName(t.mark)},
                     {"depth", t.depth},
                     {"matched_by", t.matched_by},
                     {"a", TaskJson(t.a)},
                     {"b", TaskJson(t.b)}});
  }
  j["tasks"] = Json{{"counts", Counts(d.tasks, TaskMark)}, {"tasks", std::move(tasks)}};
  j["positional"] = d.positional;
  j["llm"] = CallsJson(d.llm, d.a.llm, d.b.llm);
  j["tools"] = CallsJson(d.tools, d.a.tools, d.b.tools);
  Json files = Json::array();
  for (const FilePair& f : d.files) {
    files.push_back(
        {{"mark", MarkName(f.mark)}, {"path", f.path}, {"a", FileJson(f.a)}, {"b", FileJson(f.b)}});
  }
  j["files"] = Json{{"counts", Counts(d.files, FileMark)}, {"files", std::move(files)}};
  return j;
}

std::string RunsDiffText(const RunsDiff& d) {
  std::string out;
  const Json ha = Header(d.a), hb = Header(d.b);
  Appendf(&out, "%-12s %-36s %s\n", "", ("A " + d.a.id).c_str(), ("B " + d.b.id).c_str());
  for (const char* k : {"name", "agent", "model", "status", "replay_of", "events", "tasks",
                        "llm_calls", "tool_calls", "files"}) {
    const std::string va = ha[k].is_string() ? ha[k].get<std::string>() : ha[k].dump();
    const std::string vb = hb[k].is_string() ? hb[k].get<std::string>() : hb[k].dump();
    if (std::string(k) == "replay_of" && va.empty() && vb.empty()) continue;
    Appendf(&out, "%s %-10s %-36s %s\n", va == vb ? " " : "~", k, OneLine(va, 36).c_str(),
            OneLine(vb, 60).c_str());
  }
  Appendf(&out, "  %-10s %-36s %s\n", "duration", Duration(d.a).c_str(), Duration(d.b).c_str());

  out += "\nFirst divergence: " + FirstText(d) + "\n";
  if (d.first) {
    const CallPair& p = d.first->pair;
    const RunCall* ca = CallAt(Seq(d.a, d.first->kind), p.step.a);
    const RunCall* cb = CallAt(Seq(d.b, d.first->kind), p.step.b);
    if (ca)
      Appendf(&out, "  A: LSN %llu task %s: %s\n", static_cast<unsigned long long>(ca->lsn),
              ca->task.c_str(), ca->summary.c_str());
    if (cb)
      Appendf(&out, "  B: LSN %llu task %s: %s\n", static_cast<unsigned long long>(cb->lsn),
              cb->task.c_str(), cb->summary.c_str());
    for (const JsonDifference& x : p.differences) {
      out += "  " + (x.path.empty() ? std::string("(the whole request)") : x.path) + "\n";
      out += "    A: " + ValueText(x.a, 200) + "\n";
      out += "    B: " + ValueText(x.b, 200) + "\n";
    }
  }

  out += "\nTasks (by id, then name): " + CountsText(Counts(d.tasks, TaskMark)) + "\n";
  for (const TaskPair& t : d.tasks) {
    const std::string id = std::string(static_cast<size_t>(std::min(t.depth, 20)) * 2, ' ') +
                           (t.a ? t.a->id : t.b->id);
    Appendf(&out, "  %s %-20s %-44s %s\n", MarkSymbol(t.mark), OneLine(id, 20).c_str(),
            OneLine(TaskText(t.a), 44).c_str(), OneLine(TaskText(t.b), 60).c_str());
  }

  for (const std::string kind : {"llm", "tool"}) {
    const auto& pairs = kind == "llm" ? d.llm : d.tools;
    const auto& va = Seq(d.a, kind);
    const auto& vb = Seq(d.b, kind);
    out += "\n" + std::string(kind == "llm" ? "LLM calls" : "Tool calls") + " (A " +
           std::to_string(va.size()) + ", B " + std::to_string(vb.size()) +
           "): " + CountsText(Counts(pairs, CallMark)) +
           (d.positional ? " (aligned by position)" : "") + "\n";
    for (const CallPair& p : pairs) {
      const RunCall* ca = CallAt(va, p.step.a);
      const RunCall* cb = CallAt(vb, p.step.b);
      if (p.step.mark == Mark::kEqual) {
        Appendf(&out, "  = %-5s %-5s %s\n", PosText(p.step.a).c_str(), PosText(p.step.b).c_str(),
                ca->summary.c_str());
        continue;
      }
      if (p.step.mark != Mark::kChanged) {
        Appendf(&out, "  %s %-5s %-5s %s\n", MarkSymbol(p.step.mark), PosText(p.step.a).c_str(),
                PosText(p.step.b).c_str(), (ca ? ca : cb)->summary.c_str());
        continue;
      }
      Appendf(&out, "  %s %-5s %-5s A: %s\n", MarkSymbol(p.step.mark), PosText(p.step.a).c_str(),
              PosText(p.step.b).c_str(), ca->summary.c_str());
      Appendf(&out, "    %-11s B: %s\n", "", cb->summary.c_str());
      std::string paths;
      for (size_t i = 0; i < p.differences.size() && i < 5; ++i) {
        paths += (i ? ", " : "") + (p.differences[i].path.empty() ? "/" : p.differences[i].path);
      }
      if (p.differences.size() > 5) paths += ", …";
      if (!paths.empty()) Appendf(&out, "    %-11s %s\n", "", ("differs at " + paths).c_str());
    }
  }

  out += "\nFiles changed (A " + std::to_string(d.a.files.size()) + ", B " +
         std::to_string(d.b.files.size()) + "): " + CountsText(Counts(d.files, FileMark)) + "\n";
  for (const FilePair& f : d.files) {
    Appendf(&out, "  %s %-50s %-14s %s\n", MarkSymbol(f.mark), f.path.c_str(),
            FileText(f.a).c_str(), FileText(f.b).c_str());
  }
  return out;
}

std::vector<Row> RunsDiffRows(const RunsDiff& d) {
  std::vector<Row> rows;
  auto add = [&](const char* section, Json item, Mark mark, Json a, Json b, Json detail) {
    Row r = Row::object();
    r["section"] = section;
    r["item"] = std::move(item);
    r["mark"] = MarkName(mark);
    r["a"] = std::move(a);
    r["b"] = std::move(b);
    r["detail"] = std::move(detail);
    rows.push_back(std::move(r));
  };
  const Json ha = Header(d.a), hb = Header(d.b);
  for (auto it = ha.begin(); it != ha.end(); ++it) {
    const Json& vb = hb[it.key()];
    add("run", it.key(), *it == vb ? Mark::kEqual : Mark::kChanged, *it, vb, nullptr);
  }
  auto paths = [](const std::vector<JsonDifference>& v) {
    Json out = Json::array();
    for (const JsonDifference& x : v) out.push_back(x.path);
    return out;
  };
  if (d.first) {
    const CallPair& p = d.first->pair;
    const RunCall* ca = CallAt(Seq(d.a, d.first->kind), p.step.a);
    const RunCall* cb = CallAt(Seq(d.b, d.first->kind), p.step.b);
    add("first_divergence", d.first->kind + " " + PosText(p.step.a) + " " + PosText(p.step.b),
        p.step.mark, ca ? Json(ca->summary) : Json(), cb ? Json(cb->summary) : Json(),
        paths(p.differences));
  }
  for (const TaskPair& t : d.tasks) {
    add("task",
        std::string(static_cast<size_t>(std::min(t.depth, 20)) * 2, ' ') +
            (t.a ? t.a->id : t.b->id),
        t.mark, t.a ? Json(TaskText(t.a)) : Json(), t.b ? Json(TaskText(t.b)) : Json(),
        t.matched_by.empty() ? Json() : Json("by " + t.matched_by));
  }
  for (const std::string kind : {"llm", "tool"}) {
    for (const CallPair& p : kind == "llm" ? d.llm : d.tools) {
      const RunCall* ca = CallAt(Seq(d.a, kind), p.step.a);
      const RunCall* cb = CallAt(Seq(d.b, kind), p.step.b);
      add(kind == "llm" ? "llm" : "tool", PosText(p.step.a) + " " + PosText(p.step.b), p.step.mark,
          ca ? Json(ca->summary) : Json(), cb ? Json(cb->summary) : Json(),
          p.differences.empty() ? Json() : paths(p.differences));
    }
  }
  for (const FilePair& f : d.files) {
    add("file", f.path, f.mark, f.a ? Json(FileText(f.a)) : Json(),
        f.b ? Json(FileText(f.b)) : Json(), nullptr);
  }
  return rows;
}

}  // namespace tink::query
