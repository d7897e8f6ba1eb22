#include "support/crash_harness_engine.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <sstream>

#include "engine/engine.h"

extern char** environ;

namespace tink::testing {

using engine_crash::BatchKey;

namespace {

// Counted problems can repeat thousands of times in one bad cycle: keep the first few lines.
constexpr size_t kMaxProblemLines = 20;

void Problem(EngineCrashCycle& r, const std::string& what) {
  if (r.problems.size() < kMaxProblemLines) r.problems.push_back(what);
}

}  // namespace

EngineCrashHarness::EngineCrashHarness(std::string store, uint32_t seed, EngineCrashOptions options)
    : store_(std::move(store)), opt_(std::move(options)), rng_(seed) {
  tag_ = "s" + std::to_string(seed);
}

EngineCrashCycle EngineCrashHarness::RunCycle() {
  EngineCrashCycle r;
  if (cycle_ == 0 && std::filesystem::exists(store_)) {
    // A reused store: its records are not ours; a tag naming the start LSN keeps ids apart.
    auto v = engine::VerifyStore(store_);
    if (!v.ok()) {
      r.fatal = "existing store does not verify: " + v.status().ToString();
      return r;
    }
    base_lsn_ = read_lsn_ = v->last_lsn;
    tag_ += "x" + std::to_string(base_lsn_);
  }
  ++cycle_;
  std::string out;
  // A child that failed (an append refused, the open failed) is a finding; its store is still
  // checked like any other.
  const std::string child = RunChild(out, r.killed_in_open);
  if (!child.empty()) Problem(r, "child: " + child);
  Absorb(out, r);
  CheckStore(r);
  return r;
}

std::string EngineCrashHarness::RunChild(std::string& out, bool& killed_in_open) {
  // Everything the child needs is built before the fork.
  std::vector<std::string> args = {opt_.child_program,
                                   "--engine-child",
                                   store_,
                                   tag_,
                                   std::to_string(cycle_),
                                   std::to_string(rng_()),
                                   std::to_string(opt_.threads),
                                   std::to_string(opt_.segment_size),
                                   opt_.inflight_resends ? "i" : "-"};
  for (const BatchKey& k : unknown_) {
    args.push_back(std::to_string(k.cycle) + "." + std::to_string(k.writer) + "." +
                   std::to_string(k.batch));
  }
  for (int i = 0; i < 4 && !acked_batches_.empty(); ++i) {
    const BatchKey& k = acked_batches_[rng_() % acked_batches_.size()];
    args.push_back(std::to_string(k.cycle) + "." + std::to_string(k.writer) + "." +
                   std::to_string(k.batch));
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int kill_ms = std::uniform_int_distribution<int>(5, opt_.max_kill_ms)(rng_);
  // One cycle in four counts the delay from the fork, so the kill often lands in the child's
  // open (log recovery, projection catch-up); the others count it from the end of the open
  // (the child's "O" line), so the kill lands among appends.
  const bool from_fork = rng_() % 4 == 0;

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return "pipe failed";
  const pid_t pid = ::fork();
  if (pid < 0) return "fork failed";
  if (pid == 0) {
    ::dup2(fds[1], 1);  // dup2 clears O_CLOEXEC on the copy
    ::execve(argv[0], argv.data(), environ);
    _exit(127);
  }
  ::close(fds[1]);
  using Clock = std::chrono::steady_clock;
  // Read while the child runs (a full pipe would stall it), then kill it. A child that never
  // finishes its open is killed after 30 s (and the store checked as after any kill).
  auto deadline = Clock::now() + (from_fork ? std::chrono::milliseconds(kill_ms)
                                            : std::chrono::milliseconds(30000));
  bool opened = false;
  char buf[65536];
  bool eof = false;
  while (!eof && Clock::now() < deadline) {
    struct pollfd p = {fds[0], POLLIN, 0};
    if (::poll(&p, 1, 1) > 0) {
      const ssize_t n = ::read(fds[0], buf, sizeof(buf));
      if (n <= 0) {
        eof = true;
      } else {
        out.append(buf, static_cast<size_t>(n));
      }
    }
    if (!opened && out.rfind("O\n", 0) == 0) {
      opened = true;
      if (!from_fork) deadline = Clock::now() + std::chrono::milliseconds(kill_ms);
    }
  }
  killed_in_open = !opened;
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof(buf))) > 0;) {
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) return "";
  std::string why = WIFEXITED(status)
                        ? "child exited with code " + std::to_string(WEXITSTATUS(status))
                        : "child died oddly";
  const size_t e = out.rfind("\nE ");
  if (out.rfind("E ", 0) == 0 || e != std::string::npos) {
    const size_t from = out.rfind("E ", 0) == 0 && e == std::string::npos ? 0 : e + 1;
    why += ": " + out.substr(from, out.find('\n', from) - from);
  }
  return why;
}

void EngineCrashHarness::Absorb(const std::string& out, EngineCrashCycle& r) {
  std::vector<int64_t> frontier(opt_.threads, -1);  // per writer: its highest batch acknowledged
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (in.eof()) break;  // no newline: not a whole report (one write() per line: cannot happen)
    if (line == "O" || line.rfind("E ", 0) == 0) continue;  // the open done; a failure
    std::istringstream ls(line);
    std::string tag;
    char how = 0;
    int dup = -1;
    BatchKey k;
    ls >> tag >> how >> dup >> k.cycle >> k.writer >> k.batch;
    if (!ls || tag != "A" || k.writer < 0 || k.writer >= opt_.threads || k.cycle > cycle_) {
      Problem(r, "bad report from the child: " + line);
      continue;
    }
    std::vector<uint64_t> lsns;
    for (uint64_t l; ls >> l;) lsns.push_back(l);
    const engine_crash::Batch batch = engine_crash::MakeBatch(tag_, k);
    if (lsns.size() != batch.events.size()) {
      Problem(r, "acknowledgement with " + std::to_string(lsns.size()) + " LSNs for a batch of " +
                     std::to_string(batch.events.size()) + ": " + line);
      continue;
    }
    for (size_t i = 1; i < lsns.size(); ++i) {
      if (lsns[i] != lsns[0] + i) Problem(r, "batch acknowledged at scattered LSNs: " + line);
    }
    // A re-send that began after the batch was acknowledged must be a duplicate: S and P (in
    // this child), X of a batch acknowledged in an earlier cycle. (W and I may race: either one
    // may be the append that writes the batch.)
    bool earlier = how == 'X';
    for (const auto& e : batch.events) {
      auto it = acked_.find(e.id);
      earlier = earlier && it != acked_.end() && !it->second.lost && it->second.cycle < cycle_;
    }
    if ((how == 'S' || how == 'P' || earlier) && dup != 1) {
      ++r.retry_mismatch;
      Problem(r, "re-send of acknowledged batch " + k.ToString() + " (" + how +
                     ") was written again: " + line);
    }
    for (size_t i = 0; i < lsns.size(); ++i) {
      const std::string& id = batch.events[i].id;
      ++r.acked;
      if (how != 'W') ++r.resends;
      if (dup == 1) ++r.duplicate_acks;
      auto [it, fresh] = acked_.try_emplace(id);
      Ack& a = it->second;
      if (!fresh && !a.lost && a.lsn != lsns[i]) {
        ++r.retry_mismatch;
        Problem(r, "id " + id + " acknowledged at LSN " + std::to_string(a.lsn) + " (" + a.how +
                       ", cycle " + std::to_string(a.cycle) + ") and at LSN " +
                       std::to_string(lsns[i]) + " (" + how + ", cycle " + std::to_string(cycle_) +
                       ")");
        continue;
      }
      if (fresh || a.lost) a = Ack{lsns[i], cycle_, how, false, false};
      a.fresh = a.fresh || dup == 0;
    }
    unknown_.erase(k);
    if (acked_batches_.size() < 4096) {
      acked_batches_.push_back(k);
    } else {
      acked_batches_[rng_() % acked_batches_.size()] = k;
    }
    if (k.cycle == cycle_) {
      frontier[k.writer] = std::max<int64_t>(frontier[k.writer], static_cast<int64_t>(k.batch));
    }
  }
  // The batch after each writer's last acknowledged one may or may not have been written (sent,
  // or acknowledged with the report cut by the kill): a later child re-sends it.
  for (int w = 0; w < opt_.threads; ++w) {
    unknown_.insert(BatchKey{cycle_, w, static_cast<uint64_t>(frontier[w] + 1)});
  }
}

bool EngineCrashHarness::ReadNewRecords(engine::Engine& e, EngineCrashCycle& r) {
  const uint64_t last = e.log().LastLsn();
  if (last < read_lsn_) {
    Problem(r, "the log ends at LSN " + std::to_string(last) + " but held LSN " +
                   std::to_string(read_lsn_) + " at the last check");
    present_.clear();
    read_lsn_ = base_lsn_;
  }
  if (read_lsn_ > base_lsn_) {
    // Records up to read_lsn_ were read at an earlier check; the last of them must still be the
    // same event, or the log was rewritten under us and is read again from the start.
    auto at = e.Read(read_lsn_);
    Result<schema::EventView> v =
        at->Valid() ? schema::DecodeEvent(at->record().payload) : Status::NotFound("no record");
    if (!at->Valid() || at->record().lsn != read_lsn_ || !v.ok() || v->id != last_id_) {
      Problem(r, "LSN " + std::to_string(read_lsn_) + " no longer holds " + last_id_ +
                     ": the log was rewritten; reading it again from the start");
      present_.clear();
      read_lsn_ = base_lsn_;
    }
  }
  auto it = e.Read(read_lsn_ + 1);
  // The batch being walked: every batch must be whole and contiguous.
  BatchKey cur;
  engine_crash::Batch batch;
  size_t next = 0;
  uint64_t expect = read_lsn_ + 1;
  for (; it->Valid(); it->Next()) {
    const log::LogRecord& rec = it->record();
    if (rec.lsn != expect) {
      Problem(r, "gap: LSN " + std::to_string(rec.lsn) + " where " + std::to_string(expect) +
                     " was next");
      return false;
    }
    ++expect;
    Result<schema::EventView> v = schema::DecodeEvent(rec.payload);
    if (!v.ok()) {
      Problem(r, "LSN " + std::to_string(rec.lsn) + " does not decode: " + v.status().ToString());
      continue;
    }
    const std::string id(v->id);
    last_id_ = id;
    auto [p, fresh] = present_.emplace(id, rec.lsn);
    if (!fresh) {
      ++r.duplicated;
      Problem(r, "id " + id + " is in the log at LSN " + std::to_string(p->second) +
                     " and again at LSN " + std::to_string(rec.lsn));
    }
    auto parsed = engine_crash::ParseEventId(tag_, id);
    if (!parsed) {
      Problem(r, "LSN " + std::to_string(rec.lsn) + " holds id " + id + " that no child sent");
      continue;
    }
    const auto& [key, k] = *parsed;
    if (next < batch.events.size()) {
      if (key != cur || k != next) {
        Problem(r, "batch " + cur.ToString() + " is torn: LSN " + std::to_string(rec.lsn) +
                       " holds " + id + " where event " + std::to_string(next) + " was next");
        batch.events.clear();
        next = 0;
      }
    }
    if (next >= batch.events.size()) {
      if (k != 0) {
        Problem(r, "LSN " + std::to_string(rec.lsn) + " holds " + id +
                       " without the events before it in its batch");
        continue;
      }
      cur = key;
      batch = engine_crash::MakeBatch(tag_, key);
      next = 0;
    }
    if (k >= batch.events.size()) {
      Problem(r, "LSN " + std::to_string(rec.lsn) + " holds " + id + ", past its batch's end");
      continue;
    }
    // The event must be exactly the one sent under that id.
    Result<std::string> want = schema::EncodeEvent(batch.events[k]);
    if (!want.ok() || *want != rec.payload) {
      Problem(r, "LSN " + std::to_string(rec.lsn) + " (" + id + ") is not the event sent");
    }
    ++next;
  }
  if (!it->status().ok()) {
    Problem(r, "read failed: " + it->status().ToString());
    return false;
  }
  if (next < batch.events.size()) {
    Problem(r, "batch " + cur.ToString() + " is torn at the end of the log: " +
                   std::to_string(next) + " of " + std::to_string(batch.events.size()) + " events");
  }
  read_lsn_ = expect - 1;
  return true;
}

void EngineCrashHarness::CheckStore(EngineCrashCycle& r) {
  engine::EngineOptions o;
  o.access = engine::Access::kWrite;
  o.durability.mode = log::Durability::Mode::kAlways;
  o.segment_size = opt_.segment_size;
  o.tail = false;  // nothing is appended here
  auto opened = engine::Engine::Open(store_, o);
  if (!opened.ok()) {
    r.fatal = "reopen: " + opened.status().ToString();
    return;
  }
  engine::Engine& e = **opened;
  r.torn_tail = e.recovery().torn_tail;
  r.last_lsn = e.log().LastLsn();
  for (const std::string& s : e.state_resets()) Problem(r, "state reset after a crash: " + s);
  if (e.ProjectionsApplied() != r.last_lsn) {
    Problem(r, "the open left the projections at LSN " + std::to_string(e.ProjectionsApplied()) +
                   ", the log ends at " + std::to_string(r.last_lsn));
  }
  ReadNewRecords(e, r);

  for (auto& [id, a] : acked_) {
    if (a.lost) continue;
    auto f = present_.find(id);
    if (f != present_.end() && f->second == a.lsn) continue;
    a.lost = true;
    ++r.lost;
    // Its batch is re-sent by the next child, before the batch after it (which, appended with
    // an expected stream version, needs it).
    if (auto parsed = engine_crash::ParseEventId(tag_, id)) unknown_.insert(parsed->first);
    // Acknowledged only by re-sends that came back as duplicates: the original append's ack
    // never came, and the re-send answered with its LSN before it was durable.
    if (!a.fresh) ++r.lost_dup_only;
    Problem(r, "lost: id " + id + " acknowledged at LSN " + std::to_string(a.lsn) + " in cycle " +
                   std::to_string(a.cycle) + " (" + a.how + ", " +
                   (a.fresh ? "written by that append" : "only ever acknowledged as a duplicate") +
                   "); the log has it " +
                   (f == present_.end() ? std::string("nowhere")
                                        : "at LSN " + std::to_string(f->second)) +
                   " and ends at " + std::to_string(r.last_lsn));
  }

  const bool replay = opt_.replay_every > 0 && cycle_ % opt_.replay_every == 0;
  const bool check = replay || (opt_.check_every > 0 && cycle_ % opt_.check_every == 0);
  std::map<std::string, std::string> digests;
  const size_t projections = e.ProjectionNames().size();
  const auto run_check = [&](const char* when) {
    auto c = e.Check({});
    if (!c.ok()) {
      ++r.replay_mismatch;
      Problem(r, std::string("Engine::Check ") + when + " failed: " + c.status().ToString());
      return;
    }
    if (c->size() != projections) {
      ++r.replay_mismatch;
      Problem(r, std::string("Engine::Check ") + when + " compared " + std::to_string(c->size()) +
                     " of " + std::to_string(projections) + " projections");
    }
    for (const engine::CheckResult& x : *c) {
      if (!x.equal() || x.lsn != r.last_lsn) {
        ++r.replay_mismatch;
        Problem(r, std::string("Engine::Check ") + when + ": " + x.projection + " at LSN " +
                       std::to_string(x.lsn) + " (log ends at " + std::to_string(r.last_lsn) +
                       "): live " + x.live_digest + " != replay " + x.replay_digest);
      }
      auto [d, fresh] = digests.emplace(x.projection, x.live_digest);
      if (!fresh && d->second != x.live_digest) {
        ++r.replay_mismatch;
        Problem(r, "Engine::Replay changed " + x.projection + ": " + d->second + " before, " +
                       x.live_digest + " after");
      }
    }
  };
  if (check) {
    r.checked = true;
    run_check("after the reopen");
  }
  if (replay) {
    r.replayed = true;
    Status s = e.Replay("", 0, {});
    if (!s.ok()) {
      ++r.replay_mismatch;
      Problem(r, "Engine::Replay failed: " + s.ToString());
    } else {
      run_check("after Engine::Replay");
    }
  }
  Status s = e.Close();
  opened->reset();
  if (!s.ok()) Problem(r, "close: " + s.ToString());

  auto v = engine::VerifyStore(store_);
  if (!v.ok()) {
    Problem(r, "verify: " + v.status().ToString());
  } else if (!v->clean()) {
    const log::VerifyProblem& p = v->problems.empty() ? log::VerifyProblem{} : v->problems[0];
    Problem(r, "verify: " + p.segment + " offset " + std::to_string(p.offset) + " LSN " +
                   std::to_string(p.lsn) + ": " + p.what);
  } else if (v->last_lsn != r.last_lsn) {
    Problem(r, "verify read the log to LSN " + std::to_string(v->last_lsn) + ", the engine to " +
                   std::to_string(r.last_lsn));
  }
}

}  // namespace tink::testing
