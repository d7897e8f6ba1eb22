// A deterministic, agent-shaped event workload for the projection benchmarks
// (tink_projection_bench and tink_compare's as-of class), and a helper that writes it into a
// store through engine::Engine::Append.
//
// The shape: `runs` runs (run.started ... run.finished), a few of them in flight at once, each
// with a handful of tasks in flight; each task goes created, ready, started, then 2..8 steps of
// llm.request, llm.response, tool.call, tool.result (10% failing) and sometimes a note, sometimes
// a wait (io or a join on the run's root task) with task.waiting, task.resumed, task.started, and
// ends succeeded (85%) or failed. Events of different tasks and runs interleave in the log as
// they would with concurrent agents. Every event follows the scheduler's state machine, so a
// replay records no anomaly. Event ids are left to the engine (32 random hex digits), as for a
// producer that sends none. Texts are 100-600 bytes taken from a fixed pool; a payload averages
// ~0.5 KB.
//
// Not thread-safe; bench/ only.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "schema/schema.h"

namespace tink::bench {

struct AgentTask {
  std::string run, task;
  uint64_t created_lsn = 0;
};

class AgentWorkload {
 public:
  static constexpr int kActiveRuns = 8;   // runs in flight at once
  static constexpr int kTasksPerRun = 4;  // tasks in flight per run

  AgentWorkload(uint64_t total_events, int runs, uint64_t seed = 7)
      : total_(total_events), max_runs_(runs), rng_(seed) {
    budget_ = total_events / static_cast<uint64_t>(runs);
    const char* words[] = {"the",    "test",  "fails",     "because",   "rounding",  "of",
                           "value",  "in",    "fields",    "module",    "we",        "should",
                           "check",  "patch", "timedelta", "serialize", "precision", "error",
                           "assert", "file",  "line",      "returns",   "None",      "instead"};
    std::mt19937_64 r(seed * 31 + 1);
    for (int i = 0; i < 64; ++i) {
      std::string s;
      const size_t len = 100 + r() % 500;
      while (s.size() < len) {
        s += words[r() % (sizeof(words) / sizeof(words[0]))];
        s += (r() % 11 == 0) ? "\\n" : " ";
      }
      texts_.push_back(s);
    }
  }

  bool done() const { return emitted_ >= total_; }
  uint64_t emitted() const { return emitted_; }

  // Appends the next event to *out. Returns the index in `created()` of the task it creates, or
  // -1 for any other event.
  int64_t Next(std::vector<schema::EventInput>* out) {
    while (true) {
      if (!pending_.empty()) {
        out->push_back(std::move(pending_.front().first));
        const int64_t created = pending_.front().second;
        pending_.pop_front();
        ++emitted_;
        return created;
      }
      Step();
    }
  }

  const std::vector<AgentTask>& created() const { return created_; }
  std::vector<AgentTask>& created() { return created_; }

 private:
  struct TaskGen {
    int run = 0;
    std::vector<schema::EventInput> script;
    size_t pos = 0;
    int64_t created_index = -1;
  };
  struct RunGen {
    std::string id;
    uint64_t emitted = 0;
    int next_task = 0;
    int in_flight = 0;
    std::string root;
  };

  const std::string& Text() { return texts_[rng_() % texts_.size()]; }
  // A prefix of a random text of at most n bytes, never ending inside a "\\n" escape.
  std::string Text(size_t n) {
    std::string s = Text().substr(0, n);
    if (!s.empty() && s.back() == '\\') {
      s.pop_back();
    }
    return s;
  }
  static std::string Q(const std::string& k, const std::string& v) {
    return "\"" + k + "\":\"" + v + "\"";
  }
  schema::EventInput Ev(const RunGen& r, const std::string& task, const char* type,
                        std::string data) {
    schema::EventInput e;
    e.stream = task.empty() ? "run/" + r.id : "run/" + r.id + "/task/" + task;
    e.type = type;
    e.run = r.id;
    e.data_json = std::move(data);
    return e;
  }

  void StartRun() {
    auto r = std::make_unique<RunGen>();
    char id[32];
    std::snprintf(id, sizeof(id), "run-%04d-%06llx", runs_started_,
                  static_cast<unsigned long long>(rng_() & 0xffffff));
    r->id = id;
    ++runs_started_;
    pending_.emplace_back(
        Ev(*r, "", "run.started",
           "{" + Q("name", "fix issue #" + std::to_string(1000 + runs_started_)) + "," +
               Q("agent", "swe-agent") + "," + Q("model", "gpt-4o") + "," + Q("task", Text(200)) +
               ",\"meta\":{\"repo\":\"example/repo\",\"commit\":\"b40a0f4\"}}"),
        -1);
    r->emitted++;
    runs_.push_back(std::move(r));
    const int idx = static_cast<int>(runs_.size()) - 1;
    // The root task's task.created goes out first: the others name it as their parent.
    NewTask(idx);
    TaskGen& root = tasks_.back();
    pending_.emplace_back(std::move(root.script[0]), root.created_index);
    root.pos = 1;
    runs_[idx]->emitted++;
    for (int k = 1; k < kTasksPerRun; ++k) {
      NewTask(idx);
    }
  }

  void NewTask(int run_idx) {
    RunGen& r = *runs_[run_idx];
    const std::string task = "task-" + std::to_string(r.next_task++);
    const std::string T = Q("task", task);
    TaskGen t;
    t.run = run_idx;
    auto add = [&](const char* type, std::string data) {
      t.script.push_back(Ev(r, task, type, std::move(data)));
    };
    std::string created = "{" + T + "," + Q("name", "step " + task + ": " + Text(40));
    if (!r.root.empty()) {
      created += "," + Q("parent", r.root);
    }
    created += ",\"priority\":" + std::to_string(rng_() % 10) + "}";
    add("task.created", created);
    add("task.ready", "{" + T + "," + Q("reason", "created") + "}");
    add("task.started", "{" + T + "," + Q("worker", "w" + std::to_string(rng_() % 8)) + "}");
    const int steps = 2 + static_cast<int>(rng_() % 7);
    const int wait_at = rng_() % 100 < 15 ? static_cast<int>(rng_() % steps) : -1;
    for (int s = 0; s < steps; ++s) {
      const std::string c = std::to_string(s);
      add("llm.request", "{" + T + "," + Q("call_id", "c" + c) + "," + Q("model", "gpt-4o") +
                             ",\"messages\":[{" + Q("role", "system") + "," +
                             Q("content", "You are a careful software engineer.") + "},{" +
                             Q("role", "user") + "," + Q("content", Text()) +
                             "}],\"params\":{\"temperature\":0,\"max_tokens\":4096}}");
      add("llm.response",
          "{" + T + "," + Q("call_id", "c" + c) + "," + Q("model", "gpt-4o-2024-08-06") + "," +
              Q("content", Text(200)) + ",\"tool_calls\":[{" + Q("id", "t" + c) + "," +
              Q("name", "bash") + ",\"arguments\":{" +
              Q("command", "pytest -x tests/test_" + c + ".py") + "}}]," +
              Q("finish_reason", "tool_calls") +
              ",\"input_tokens\":" + std::to_string(1000 + rng_() % 9000) + ",\"output_tokens\":" +
              std::to_string(20 + rng_() % 400) + ",\"latency_ms\":812.5,\"cost_usd\":0.00335}");
      add("tool.call", "{" + T + "," + Q("call_id", "t" + c) + "," + Q("tool", "bash") +
                           ",\"args\":{" + Q("command", "pytest -x tests/test_" + c + ".py") +
                           "}}");
      const bool fail = rng_() % 10 == 0;
      add("tool.result", "{" + T + "," + Q("call_id", "t" + c) + "," + Q("tool", "bash") + "," +
                             Q("output", Text()) + ",\"exit_code\":" + (fail ? "1" : "0") +
                             ",\"ok\":" + (fail ? "false" : "true") + ",\"duration_ms\":95.25}");
      if (rng_() % 10 < 3) {
        add("note", "{" + T + "," + Q("text", Text(150)) + "," + Q("kind", "thought") + "}");
      }
      if (s == wait_at) {
        const bool join = !r.root.empty() && rng_() % 2 == 0;
        add("task.waiting", "{" + T + "," + Q("wait_kind", join ? "join" : "io") + "," +
                                Q("waiting_on", join ? r.root : "http://ci/job/" + c) + "}");
        add("task.resumed", "{" + T + "," + Q("reason", join ? "joined" : "io done") + "}");
        add("task.started", "{" + T + "," + Q("worker", "w" + std::to_string(rng_() % 8)) + "}");
      }
    }
    if (rng_() % 100 < 85) {
      add("task.succeeded",
          "{" + T + ",\"result\":{\"passed\":" + std::to_string(rng_() % 50) + ",\"failed\":0}}");
    } else {
      add("task.failed", "{" + T + "," + Q("error", "2 tests failed") + ",\"retryable\":false}");
    }
    if (r.root.empty()) {
      r.root = task;
    }
    t.created_index = static_cast<int64_t>(created_.size());
    created_.push_back(AgentTask{r.id, task, 0});
    r.in_flight++;
    tasks_.push_back(std::move(t));
  }

  // Emits one event of a random in-flight task (into pending_), and starts or ends runs and
  // tasks as they finish.
  void Step() {
    if (runs_.empty() || (tasks_.empty() && runs_started_ < max_runs_)) {
      while (static_cast<int>(live_runs()) < kActiveRuns && runs_started_ < max_runs_) {
        StartRun();
      }
      if (!pending_.empty()) {
        return;
      }
    }
    if (tasks_.empty()) {  // every run done: start over with more runs
      max_runs_ += max_runs_ / 2 + 1;
      StartRun();
      return;
    }
    const size_t i = rng_() % tasks_.size();
    TaskGen& t = tasks_[i];
    RunGen& r = *runs_[t.run];
    pending_.emplace_back(std::move(t.script[t.pos]), t.pos == 0 ? t.created_index : -1);
    ++t.pos;
    r.emitted++;
    if (t.pos < t.script.size()) {
      return;
    }
    const int run_idx = t.run;
    if (i + 1 != tasks_.size()) {
      tasks_[i] = std::move(tasks_.back());
    }
    tasks_.pop_back();
    r.in_flight--;
    if (r.emitted < budget_) {
      NewTask(run_idx);
    } else if (r.in_flight == 0) {
      pending_.emplace_back(Ev(r, "", "run.finished",
                               "{" + Q("status", "succeeded") + "," + Q("summary", "done") + "}"),
                            -1);
      r.emitted++;
      finished_runs_++;
      if (runs_started_ < max_runs_) {
        StartRun();
      }
    }
  }

  size_t live_runs() const { return runs_.size() - finished_runs_; }

  uint64_t total_;
  int max_runs_;
  std::mt19937_64 rng_;
  uint64_t budget_ = 0;
  uint64_t emitted_ = 0;
  int runs_started_ = 0;
  size_t finished_runs_ = 0;
  std::vector<std::string> texts_;
  std::vector<std::unique_ptr<RunGen>> runs_;
  std::vector<TaskGen> tasks_;
  std::deque<std::pair<schema::EventInput, int64_t>> pending_;
  std::vector<AgentTask> created_;
};

struct AgentStore {
  std::vector<AgentTask> tasks;  // tasks in the log, by the LSN of their task.created
  uint64_t events = 0;
  double seconds = 0;  // generation, encoding and log append, Close included
  std::string error;
};

// Writes `events` workload events into a new store at `dir`, log only (the projection state is
// built by the first writable open). What engine::Engine::Append does with projections off
// (generate an id, schema::EncodeEvent, one log batch per call), with the encoding of each batch
// split over two threads; durability none, one sync at Close.
inline AgentStore WriteAgentStore(const std::string& dir, uint64_t events, int runs,
                                  size_t batch = 2048) {
  AgentStore out;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  log::LogOptions lo;
  lo.durability.mode = log::Durability::Mode::kNone;
  auto lg = log::Log::Open(engine::LogDir(dir), lo);
  if (!lg.ok()) {
    out.error = lg.status().ToString();
    return out;
  }
  AgentWorkload w(events, runs);
  std::vector<schema::EventInput> evs;
  std::vector<std::string> payloads;
  std::vector<std::string_view> views;
  std::vector<std::pair<size_t, int64_t>> created;  // position in batch, task index
  std::string errs[2];
  const auto t0 = std::chrono::steady_clock::now();
  while (!w.done()) {
    evs.clear();
    created.clear();
    while (evs.size() < batch && !w.done()) {
      const int64_t c = w.Next(&evs);
      if (c >= 0) {
        created.emplace_back(evs.size() - 1, c);
      }
    }
    payloads.resize(evs.size());
    auto encode = [&](int part, size_t from, size_t to) {
      for (size_t i = from; i < to; ++i) {
        evs[i].id = engine::NewEventId();
        auto enc = schema::EncodeEvent(evs[i]);
        if (!enc.ok()) {
          errs[part] = enc.status().ToString();
          return;
        }
        payloads[i] = std::move(enc).value();
      }
    };
    const size_t half = evs.size() / 2;
    std::thread helper(encode, 1, half, evs.size());
    encode(0, 0, half);
    helper.join();
    for (const std::string& e : errs) {
      if (!e.empty()) {
        out.error = e;
        return out;
      }
    }
    views.assign(payloads.begin(), payloads.end());
    auto r = (*lg)->Append(views);
    if (!r.ok()) {
      out.error = r.status().ToString();
      return out;
    }
    for (const auto& [pos, idx] : created) {
      w.created()[idx].created_lsn = r->first_lsn + pos;
    }
  }
  if (Status s = (*lg)->Close(); !s.ok()) {
    out.error = s.ToString();
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  out.events = w.emitted();
  // Tasks are listed when they are planned, not when their task.created goes out; keep those
  // that made it into the log, in LSN order.
  for (AgentTask& t : w.created()) {
    if (t.created_lsn != 0) {
      out.tasks.push_back(std::move(t));
    }
  }
  std::sort(out.tasks.begin(), out.tasks.end(),
            [](const AgentTask& a, const AgentTask& b) { return a.created_lsn < b.created_lsn; });
  return out;
}

// One as-of lookup: a task (index into AgentStore::tasks) at an LSN.
struct AsOfProbe {
  size_t task;
  uint64_t lsn;
};

// Probes at LSNs head - d, d uniform in [lo, hi) (clamped to the head); for each LSN, one of the
// 64 tasks created last at or before it: tasks in flight or just finished at that point, so the
// data a lookup reads is about as old as its LSN (near the head it is still in RocksDB's
// memtable, far from it in older SST files). LSNs without any task before them are skipped.
inline std::vector<AsOfProbe> MakeAsOfProbes(const std::vector<AgentTask>& tasks, uint64_t head,
                                             uint64_t lo, uint64_t hi, uint64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<AsOfProbe> out;
  hi = std::min(hi, head);
  if (lo >= hi) {
    return out;
  }
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t lsn = head - (lo + rng() % (hi - lo));
    auto end = std::upper_bound(tasks.begin(), tasks.end(), lsn,
                                [](uint64_t l, const AgentTask& t) { return l < t.created_lsn; });
    const size_t have = static_cast<size_t>(end - tasks.begin());
    if (have == 0) {
      continue;
    }
    const size_t window = std::min<size_t>(64, have);
    out.push_back({have - 1 - rng() % window, lsn});
  }
  return out;
}

// Latency percentiles of a set of samples (microseconds).
struct Percentiles {
  double p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0, mean = 0;
  static Percentiles Of(std::vector<double> us) {
    Percentiles p;
    if (us.empty()) {
      return p;
    }
    std::sort(us.begin(), us.end());
    auto at = [&](double q) { return us[static_cast<size_t>(q * (us.size() - 1))]; };
    double sum = 0;
    for (double v : us) {
      sum += v;
    }
    p.p50 = at(0.5);
    p.p90 = at(0.9);
    p.p99 = at(0.99);
    p.p999 = at(0.999);
    p.max = us.back();
    p.mean = sum / us.size();
    return p;
  }
};

}  // namespace tink::bench
