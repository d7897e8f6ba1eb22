// The synthetic canvas run of tink_canvas_bench (bench/canvas_bench.cc): code-like file contents
// (TextGen) and an agent run that writes, patches, deletes and renames files in task groups
// (CanvasWorkload), deterministic from a seed. Not thread-safe; bench/ only.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "projections/textdiff.h"
#include "schema/schema.h"

namespace tink::bench {

namespace text = projections::text;
using nlohmann::json;

// Prints what failed and exits 1: the benchmark has no way on without it.
[[noreturn]] inline void Die(const std::string& what, const Status& s) {
  std::fprintf(stderr, "canvas_bench: %s: %s\n", what.c_str(), s.ToString().c_str());
  std::exit(1);
}
template <typename T>
T Must(Result<T> r, const std::string& what) {
  if (!r.ok()) Die(what, r.status());
  return std::move(r).value();
}
inline void Must(const Status& s, const std::string& what) {
  if (!s.ok()) Die(what, s);
}

// ---- Synthetic file contents and edits ----------------------------------------------------------

// Code-like lines (indentation and identifiers), ~40 bytes on average, rarely repeated.
class TextGen {
 public:
  explicit TextGen(uint64_t seed) : rng_(seed) {}
  std::string Line() {
    static const char* words[] = {"def",    "return", "self",  "value",  "if",      "else",
                                  "for",    "in",     "range", "result", "None",    "import",
                                  "fields", "schema", "load",  "dump",   "raise",   "error",
                                  "assert", "data",   "key",   "items",  "append",  "len",
                                  "=",      "==",     "+",     "(",      ")",       ":",
                                  "round",  "total",  "int",   "str",    "timedelta"};
    std::string s(4 * (rng_() % 4), ' ');
    const size_t len = 8 + rng_() % 64;
    while (s.size() < len) {
      s += words[rng_() % (sizeof(words) / sizeof(words[0]))];
      if (rng_() % 5 == 0) s += std::to_string(rng_() % 1000);
      s += ' ';
    }
    s.back() = '\n';
    return s;
  }
  std::string Content(size_t bytes) {
    std::string s;
    while (s.size() < bytes) s += Line();
    return s;
  }
  // 1-5 lines replaced (60%), inserted (20%) or deleted (20%; files of > 20 lines) at a random
  // place.
  std::string Edit(const std::string& content) {
    std::vector<std::string_view> lines = text::SplitLines(content);
    std::vector<std::string> out(lines.begin(), lines.end());
    const size_t k = 1 + rng_() % 5;
    const size_t at = out.empty() ? 0 : rng_() % out.size();
    const int op = static_cast<int>(rng_() % 10);
    if (op < 6 || out.size() <= 20) {
      const size_t n = std::min(k, out.size() - std::min(at, out.size()));
      for (size_t i = 0; i < n; ++i) {
        std::string l = Line();
        l.pop_back();
        out[at + i] = std::move(l);
      }
      if (n == 0) out.push_back(Line().substr(1));
    } else if (op < 8) {
      for (size_t i = 0; i < k; ++i) {
        std::string l = Line();
        l.pop_back();
        out.insert(out.begin() + static_cast<ptrdiff_t>(at), std::move(l));
      }
    } else {
      out.erase(out.begin() + static_cast<ptrdiff_t>(at),
                out.begin() + static_cast<ptrdiff_t>(std::min(out.size(), at + k)));
    }
    std::string s;
    s.reserve(content.size() + 512);
    for (const std::string& l : out) {
      s += l;
      s += '\n';
    }
    return s;
  }
  std::mt19937_64& rng() { return rng_; }

 private:
  std::mt19937_64 rng_;
};

// ---- The synthetic canvas run ------------------------------------------------------------------

struct Mix {
  uint64_t patch = 0, write = 0, del = 0, rename = 0, other = 0, base = 0;
  uint64_t files() const { return patch + write + del + rename; }
};

class CanvasWorkload {
 public:
  CanvasWorkload(std::string run, uint64_t seed) : run_(std::move(run)), gen_(seed) {}

  // run.started, the root task "agent", and the base files as file.write base: true.
  void Base(int files, size_t bytes, std::vector<schema::EventInput>* out) {
    out->push_back(Ev("", "run.started",
                      json{{"name", "canvas bench"}, {"agent", "bench"}, {"model", "none"}}));
    AddTask("agent", "", out);
    for (int i = 0; i < files; ++i) {
      char p[64];
      std::snprintf(p, sizeof(p), "src/pkg%02d/module_%03d.py", i % 16, i);
      std::string c = gen_.Content(bytes);
      out->push_back(Ev("agent", "file.write",
                        json{{"task", "agent"}, {"path", p}, {"content", c}, {"base", true}}));
      base_paths_.push_back(p);
      Live(p, std::move(c), 1);
      ++mix_.base;
    }
    file_bytes_ = bytes;
  }

  // One tool task with `n` file events (task.created .. tool.call, the events, tool.result,
  // task.succeeded).
  void Task(int n, std::vector<schema::EventInput>* out) {
    const std::string task = "t" + std::to_string(++tasks_);
    AddTask(task, "agent", out);
    out->push_back(Ev(task, "tool.call",
                      json{{"task", task},
                           {"call_id", "c" + task},
                           {"tool", "str_replace_editor"},
                           {"args", json::object()}}));
    mix_.other++;
    for (int i = 0; i < n; ++i) FileEvent(task, out);
    out->push_back(Ev(task, "tool.result",
                      json{{"task", task},
                           {"call_id", "c" + task},
                           {"tool", "str_replace_editor"},
                           {"output", "ok"},
                           {"exit_code", 0},
                           {"ok", true},
                           {"duration_ms", 12.5}}));
    out->push_back(Ev(task, "task.succeeded", json{{"task", task}, {"result", json::object()}}));
    mix_.other += 2;
  }

  const Mix& mix() const { return mix_; }
  const std::vector<std::string>& base_paths() const { return base_paths_; }
  // The live file whose number of versions (following renames) is nearest `n`.
  std::pair<std::string, uint64_t> FileWithVersions(uint64_t n) const {
    std::pair<std::string, uint64_t> best;
    for (const auto& [p, v] : versions_) {
      const auto d = [&](uint64_t x) { return x > n ? x - n : n - x; };
      if (best.first.empty() || d(v) < d(best.second)) best = {p, v};
    }
    return best;
  }
  size_t live_files() const { return paths_.size(); }
  TextGen& gen() { return gen_; }

 private:
  schema::EventInput Ev(const std::string& task, const char* type, const json& data) {
    schema::EventInput e;
    e.stream = task.empty() ? "run/" + run_ : "run/" + run_ + "/task/" + task;
    e.type = type;
    e.run = run_;
    e.data_json = data.dump();
    return e;
  }
  void AddTask(const std::string& task, const std::string& parent,
               std::vector<schema::EventInput>* out) {
    json c = {{"task", task}, {"name", "edit files"}};
    if (!parent.empty()) c["parent"] = parent;
    out->push_back(Ev(task, "task.created", c));
    out->push_back(Ev(task, "task.ready", json{{"task", task}, {"reason", "created"}}));
    out->push_back(Ev(task, "task.started", json{{"task", task}, {"worker", "w0"}}));
    mix_.other += 3;
  }
  void Live(const std::string& p, std::string content, uint64_t versions) {
    if (!files_.contains(p)) {
      index_[p] = paths_.size();
      paths_.push_back(p);
    }
    files_[p] = std::move(content);
    versions_[p] = versions;
  }
  void Dead(const std::string& p) {
    const size_t i = index_[p];
    index_[paths_.back()] = i;
    paths_[i] = paths_.back();
    paths_.pop_back();
    index_.erase(p);
    files_.erase(p);
    versions_.erase(p);
  }
  const std::string& RandomPath() { return paths_[gen_.rng()() % paths_.size()]; }

  void FileEvent(const std::string& task, std::vector<schema::EventInput>* out) {
    const uint64_t r = gen_.rng()() % 1000;
    const size_t min_live = std::max<size_t>(1, base_paths_.size() / 2);
    if (r < 5 || paths_.empty()) {  // a new file
      const std::string p = "src/new/file_" + std::to_string(++created_) + ".py";
      std::string c = gen_.Content(file_bytes_ / 4 + gen_.rng()() % (file_bytes_ * 3 / 4 + 1));
      out->push_back(Ev(task, "file.write", json{{"task", task}, {"path", p}, {"content", c}}));
      Live(p, std::move(c), 1);
      mix_.write++;
    } else if (r < 8 && paths_.size() > min_live) {  // a delete
      const std::string p = RandomPath();
      out->push_back(Ev(task, "file.delete", json{{"task", task}, {"path", p}}));
      Dead(p);
      mix_.del++;
    } else if (r < 10) {  // a rename
      const std::string p = RandomPath();
      const std::string to = "src/moved/" + std::to_string(++moved_) + "_" +
                             std::filesystem::path(p).filename().string();
      out->push_back(Ev(task, "file.rename", json{{"task", task}, {"path", p}, {"to", to}}));
      std::string c = std::move(files_[p]);
      const uint64_t v = versions_[p] + 1;
      Dead(p);
      Live(to, std::move(c), v);
      mix_.rename++;
    } else {  // a patch
      const std::string p = RandomPath();
      std::string& cur = files_[p];
      std::string next = gen_.Edit(cur);
      std::string diff = Must(text::UnifiedDiff({p, cur}, {p, next}), "UnifiedDiff");
      if (diff.empty()) return FileEvent(task, out);
      out->push_back(Ev(task, "file.patch", json{{"task", task}, {"path", p}, {"diff", diff}}));
      cur = std::move(next);
      versions_[p]++;
      mix_.patch++;
    }
  }

  std::string run_;
  TextGen gen_;
  Mix mix_;
  size_t file_bytes_ = 0;
  uint64_t tasks_ = 0, created_ = 0, moved_ = 0;
  std::vector<std::string> base_paths_;
  std::vector<std::string> paths_;              // live files
  std::map<std::string, size_t> index_;         // path -> position in paths_
  std::map<std::string, std::string> files_;    // live contents
  std::map<std::string, uint64_t> versions_;    // live path -> versions (following renames)
};

}  // namespace tink::bench
