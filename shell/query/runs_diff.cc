// DiffRuns (runs.h): JSON differences, the alignment of two sequences, and the pairing of two
// runs' tasks, calls and files. The renderings are in runs_render.cc.
#include <algorithm>
#include <map>
#include <unordered_map>

#include "shell/query/runs.h"

namespace tink::query {
namespace {

constexpr int kMaxDepth = 64;

// RFC 6901: '~' is "~0", '/' is "~1".
std::string Escape(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

// nlohmann's == compares numbers by value across integer and float (1 == 1.0).
bool SameValue(const Json& a, const Json& b) { return a == b; }

void Differences(const Json* a, const Json* b, const std::string& path, int depth, size_t max,
                 std::vector<JsonDifference>* out) {
  if (out->size() >= max) return;
  static const Json kNull;
  const Json& av = a ? *a : kNull;
  const Json& bv = b ? *b : kNull;
  if (a && b && av.type() == bv.type() && depth < kMaxDepth) {
    if (av.is_object()) {
      for (auto it = av.begin(); it != av.end(); ++it) {
        auto jt = bv.find(it.key());
        Differences(&*it, jt == bv.end() ? nullptr : &*jt, path + "/" + Escape(it.key()), depth + 1,
                    max, out);
      }
      for (auto jt = bv.begin(); jt != bv.end(); ++jt) {
        if (!av.contains(jt.key())) {
          Differences(nullptr, &*jt, path + "/" + Escape(jt.key()), depth + 1, max, out);
        }
      }
      return;
    }
    if (av.is_array()) {
      const size_t n = std::max(av.size(), bv.size());
      for (size_t i = 0; i < n; ++i) {
        Differences(i < av.size() ? &av[i] : nullptr, i < bv.size() ? &bv[i] : nullptr,
                    path + "/" + std::to_string(i), depth + 1, max, out);
      }
      return;
    }
  }
  if (a && b && SameValue(av, bv)) return;
  if (!a && !b) return;
  out->push_back({path, av, bv});
}

void Group(const std::vector<AlignStep>& raw, std::vector<AlignStep>* out) {
  // A stretch of unequal steps: its A items and B items paired in order.
  std::vector<int64_t> as, bs;
  auto flush = [&] {
    const size_t n = std::min(as.size(), bs.size());
    for (size_t i = 0; i < n; ++i) out->push_back({Mark::kChanged, as[i], bs[i]});
    for (size_t i = n; i < as.size(); ++i) out->push_back({Mark::kOnlyA, as[i], -1});
    for (size_t i = n; i < bs.size(); ++i) out->push_back({Mark::kOnlyB, -1, bs[i]});
    as.clear();
    bs.clear();
  };
  for (const AlignStep& s : raw) {
    if (s.mark == Mark::kEqual) {
      flush();
      out->push_back(s);
    } else {
      if (s.a >= 0) as.push_back(s.a);
      if (s.b >= 0) bs.push_back(s.b);
    }
  }
  flush();
}

bool SameTask(const projections::Task& a, const projections::Task& b) {
  return a.name == b.name && a.status == b.status && a.llm_calls == b.llm_calls &&
         a.tool_calls == b.tool_calls && a.tool_errors == b.tool_errors;
}

std::vector<TaskPair> PairTasks(const RunSide& a, const RunSide& b, const std::vector<int>& a_depth,
                                const std::vector<int>& b_depth) {
  std::unordered_map<std::string, size_t> b_by_id;
  for (size_t i = 0; i < b.tasks.size(); ++i) b_by_id.emplace(b.tasks[i].id, i);
  std::vector<int64_t> match(a.tasks.size(), -1);
  std::vector<bool> used(b.tasks.size(), false);
  std::vector<std::string> how(a.tasks.size());
  for (size_t i = 0; i < a.tasks.size(); ++i) {
    auto it = b_by_id.find(a.tasks[i].id);
    if (it != b_by_id.end() && !used[it->second]) {
      match[i] = static_cast<int64_t>(it->second);
      used[it->second] = true;
      how[i] = "id";
    }
  }
  // What is left, by name, in order.
  std::multimap<std::string, size_t> b_by_name;
  for (size_t j = 0; j < b.tasks.size(); ++j) {
    if (!used[j] && !b.tasks[j].name.empty()) b_by_name.emplace(b.tasks[j].name, j);
  }
  for (size_t i = 0; i < a.tasks.size(); ++i) {
    if (match[i] >= 0) continue;
    auto it = b_by_name.find(a.tasks[i].name);
    if (it == b_by_name.end()) continue;
    match[i] = static_cast<int64_t>(it->second);
    used[it->second] = true;
    how[i] = "name";
    b_by_name.erase(it);
  }
  std::vector<TaskPair> out;
  for (size_t i = 0; i < a.tasks.size(); ++i) {
    TaskPair p;
    p.a = a.tasks[i];
    p.depth = a_depth[i];
    p.matched_by = how[i];
    if (match[i] >= 0) {
      p.b = b.tasks[static_cast<size_t>(match[i])];
      p.mark = SameTask(*p.a, *p.b) ? Mark::kEqual : Mark::kChanged;
    } else {
      p.mark = Mark::kOnlyA;
    }
    out.push_back(std::move(p));
  }
  for (size_t j = 0; j < b.tasks.size(); ++j) {
    if (used[j]) continue;
    TaskPair p;
    p.b = b.tasks[j];
    p.depth = b_depth[j];
    p.mark = Mark::kOnlyB;
    out.push_back(std::move(p));
  }
  return out;
}

std::vector<CallPair> PairCalls(const std::vector<RunCall>& a, const std::vector<RunCall>& b,
                                bool* positional) {
  std::vector<std::string> ka, kb;
  for (const RunCall& c : a) ka.push_back(c.key_text);
  for (const RunCall& c : b) kb.push_back(c.key_text);
  bool pos = false;
  std::vector<CallPair> out;
  for (const AlignStep& s : AlignKeys(ka, kb, &pos)) {
    CallPair p;
    p.step = s;
    if (s.mark == Mark::kChanged) {
      p.differences = JsonDifferences(a[static_cast<size_t>(s.a)].key,
                                      b[static_cast<size_t>(s.b)].key, kMaxDifferences);
    }
    out.push_back(std::move(p));
  }
  *positional = *positional || pos;
  return out;
}

std::vector<FilePair> PairFiles(const RunSide& a, const RunSide& b) {
  std::map<std::string, FilePair> by_path;
  for (const RunFile& f : a.files) {
    by_path[f.path].path = f.path;
    by_path[f.path].a = f;
  }
  for (const RunFile& f : b.files) {
    by_path[f.path].path = f.path;
    by_path[f.path].b = f;
  }
  std::vector<FilePair> out;
  for (auto& [path, p] : by_path) {
    if (!p.b) {
      p.mark = Mark::kOnlyA;
    } else if (!p.a) {
      p.mark = Mark::kOnlyB;
    } else {
      p.mark =
          p.a->deleted == p.b->deleted && p.a->hash == p.b->hash ? Mark::kEqual : Mark::kChanged;
    }
    out.push_back(std::move(p));
  }
  return out;
}

// The first unequal pair of a sequence and its order among the run's calls.
std::optional<std::pair<size_t, const CallPair*>> FirstUnequal(const std::vector<CallPair>& pairs,
                                                               const RunSide& a, const RunSide& b,
                                                               bool llm) {
  for (const CallPair& p : pairs) {
    if (p.step.mark == Mark::kEqual) continue;
    const auto& va = llm ? a.llm : a.tools;
    const auto& vb = llm ? b.llm : b.tools;
    const size_t order = p.step.a >= 0 ? va[static_cast<size_t>(p.step.a)].order
                                       : vb[static_cast<size_t>(p.step.b)].order;
    return std::make_pair(order, &p);
  }
  return std::nullopt;
}

// The depth of each task of a side (Tree's order has parents before children).
std::vector<int> Depths(const RunSide& s) {
  std::unordered_map<std::string, int> depth;
  std::vector<int> out;
  for (const projections::Task& t : s.tasks) {
    auto it = depth.find(t.parent);
    const int d = t.parent.empty() || it == depth.end() ? 0 : it->second + 1;
    depth[t.id] = d;
    out.push_back(d);
  }
  return out;
}

}  // namespace

std::vector<JsonDifference> JsonDifferences(const Json& a, const Json& b, size_t max) {
  std::vector<JsonDifference> out;
  Differences(&a, &b, "", 0, max, &out);
  return out;
}

const char* MarkName(Mark m) {
  switch (m) {
    case Mark::kEqual:
      return "equal";
    case Mark::kChanged:
      return "changed";
    case Mark::kOnlyA:
      return "only_a";
    case Mark::kOnlyB:
      return "only_b";
  }
  return "?";
}

const char* MarkSymbol(Mark m) {
  switch (m) {
    case Mark::kEqual:
      return "=";
    case Mark::kChanged:
      return "~";
    case Mark::kOnlyA:
      return "A";
    case Mark::kOnlyB:
      return "B";
  }
  return "?";
}

std::vector<AlignStep> AlignKeys(const std::vector<std::string>& a,
                                 const std::vector<std::string>& b, bool* positional) {
  *positional = false;
  // Keys as small integers: the table compares ints, not strings.
  std::unordered_map<std::string_view, uint32_t> ids;
  std::vector<uint32_t> ia, ib;
  for (const std::string& k : a) ia.push_back(ids.emplace(k, ids.size()).first->second);
  for (const std::string& k : b) ib.push_back(ids.emplace(k, ids.size()).first->second);
  const size_t n = ia.size(), m = ib.size();
  size_t pre = 0;
  while (pre < n && pre < m && ia[pre] == ib[pre]) ++pre;
  size_t suf = 0;
  while (suf < n - pre && suf < m - pre && ia[n - 1 - suf] == ib[m - 1 - suf]) ++suf;
  std::vector<AlignStep> raw;
  for (size_t i = 0; i < pre; ++i) raw.push_back({Mark::kEqual, int64_t(i), int64_t(i)});
  const size_t na = n - pre - suf, nb = m - pre - suf;
  if (static_cast<uint64_t>(na + 1) * (nb + 1) > kMaxAlignCells) {
    *positional = true;
    for (size_t k = 0; k < std::max(na, nb); ++k) {
      const int64_t x = k < na ? int64_t(pre + k) : -1, y = k < nb ? int64_t(pre + k) : -1;
      const Mark mk = x < 0   ? Mark::kOnlyB
                      : y < 0 ? Mark::kOnlyA
                              : (ia[size_t(x)] == ib[size_t(y)] ? Mark::kEqual : Mark::kChanged);
      raw.push_back({mk, x, y});
    }
  } else {
    // L[i][j]: the LCS of a[pre+i..] and b[pre+j..].
    const size_t w = nb + 1;
    std::vector<uint32_t> L((na + 1) * w, 0);
    for (size_t i = na; i-- > 0;) {
      for (size_t j = nb; j-- > 0;) {
        L[i * w + j] = ia[pre + i] == ib[pre + j] ? L[(i + 1) * w + j + 1] + 1
                                                  : std::max(L[(i + 1) * w + j], L[i * w + j + 1]);
      }
    }
    size_t i = 0, j = 0;
    while (i < na && j < nb) {
      if (ia[pre + i] == ib[pre + j]) {
        raw.push_back({Mark::kEqual, int64_t(pre + i), int64_t(pre + j)});
        ++i;
        ++j;
      } else if (L[(i + 1) * w + j] >= L[i * w + j + 1]) {
        raw.push_back({Mark::kOnlyA, int64_t(pre + i), -1});
        ++i;
      } else {
        raw.push_back({Mark::kOnlyB, -1, int64_t(pre + j)});
        ++j;
      }
    }
    for (; i < na; ++i) raw.push_back({Mark::kOnlyA, int64_t(pre + i), -1});
    for (; j < nb; ++j) raw.push_back({Mark::kOnlyB, -1, int64_t(pre + j)});
  }
  for (size_t k = suf; k-- > 0;) {
    raw.push_back({Mark::kEqual, int64_t(n - 1 - k), int64_t(m - 1 - k)});
  }
  std::vector<AlignStep> out;
  if (*positional) {
    out = std::move(raw);
  } else {
    Group(raw, &out);
  }
  return out;
}

Result<RunsDiff> DiffRuns(engine::Engine* engine, projections::StateReader* reader,
                          const std::string& a, const std::string& b, const Cancel* cancel) {
  RunsDiff d;
  ASSIGN_OR_RETURN(d.a, ReadRunSide(engine, reader, a, cancel));
  ASSIGN_OR_RETURN(d.b, ReadRunSide(engine, reader, b, cancel));
  d.tasks = PairTasks(d.a, d.b, Depths(d.a), Depths(d.b));
  d.llm = PairCalls(d.a.llm, d.b.llm, &d.positional);
  d.tools = PairCalls(d.a.tools, d.b.tools, &d.positional);
  d.files = PairFiles(d.a, d.b);
  auto fl = FirstUnequal(d.llm, d.a, d.b, true);
  auto ft = FirstUnequal(d.tools, d.a, d.b, false);
  if (fl && (!ft || fl->first <= ft->first)) {
    d.first = FirstDivergence{"llm", *fl->second};
  } else if (ft) {
    d.first = FirstDivergence{"tool", *ft->second};
  }
  return d;
}

}  // namespace tink::query
