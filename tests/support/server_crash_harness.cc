#include "server_crash_harness.h"

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/run_command.h"
#include "support/tink_server.h"

namespace tink::testing {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string Join(const std::vector<uint64_t>& v) {
  std::string s;
  for (uint64_t x : v) s += (s.empty() ? "" : ",") + std::to_string(x);
  return "[" + s + "]";
}

}  // namespace

std::string ServerCrashRound::Describe() const {
  std::string s = fatal.empty() ? "" : "fatal: " + fatal + "\n";
  s += "acked=" + std::to_string(acked) + " resent=" + std::to_string(resent) +
       " duplicate_acks=" + std::to_string(duplicate_acks) + " lost=" + std::to_string(lost) +
       " duplicated=" + std::to_string(duplicated) +
       " retry_mismatch=" + std::to_string(retry_mismatch) +
       " followed=" + std::to_string(followed) +
       " unstable_follows=" + std::to_string(unstable_follows) +
       " last_lsn=" + std::to_string(last_lsn) + "\n";
  for (size_t i = 0; i < problems.size() && i < 40; ++i) s += problems[i] + "\n";
  if (problems.size() > 40) s += "... " + std::to_string(problems.size() - 40) + " more\n";
  return s;
}

ServerCrashHarness::ServerCrashHarness(std::string store, std::string work_dir, uint32_t seed,
                                       ServerCrashOptions options)
    : store_(std::move(store)),
      work_dir_(std::move(work_dir)),
      options_(std::move(options)),
      rng_(seed) {}

ServerCrashHarness::Batch ServerCrashHarness::NewBatch(int client) {
  Batch b;
  b.stream = "crash/" + std::to_string(client);
  const int n = 1 + static_cast<int>(next_batch_ % 3);
  const std::string base = "r" + std::to_string(round_) + "-b" + std::to_string(next_batch_++);
  for (int k = 0; k < n; ++k) {
    b.ids.push_back(base + "-" + std::to_string(k));
    json e = {{"stream", b.stream},
              {"type", "note"},
              {"id", b.ids.back()},
              {"data", {{"text", b.ids.back()}}}};
    b.body += e.dump() + "\n";
  }
  return b;
}

void ServerCrashHarness::Check(const HttpEndpoint& ep, const std::string& token,
                               ServerCrashRound* r, std::map<std::string, uint64_t>* in_log) {
  const HttpResponse resp =
      HttpRequest(ep, "GET", "/v1/events", "", Bearer(token), milliseconds(60000));
  if (resp.status != 200) {
    r->fatal = "GET /v1/events: " + resp.Describe();
    return;
  }
  std::map<std::string, std::string> stream_of;
  size_t pos = 0;
  uint64_t want_lsn = 1;
  while (pos < resp.body.size()) {
    size_t nl = resp.body.find('\n', pos);
    if (nl == std::string::npos) nl = resp.body.size();
    const json e = json::parse(resp.body.substr(pos, nl - pos), nullptr, false);
    pos = nl + 1;
    if (!e.is_object() || !e.contains("lsn") || !e["lsn"].is_number_unsigned()) {
      r->fatal = "a line of GET /v1/events is not an event";
      return;
    }
    const uint64_t lsn = e["lsn"].get<uint64_t>();
    if (lsn != want_lsn) {
      r->problems.push_back("LSN " + std::to_string(lsn) + " where " + std::to_string(want_lsn) +
                            " was due");
    }
    want_lsn = lsn + 1;
    r->last_lsn = lsn;
    const std::string id = e.value("id", "");
    if (!in_log->emplace(id, lsn).second) {
      ++r->duplicated;
      r->problems.push_back("id " + id + " twice, at " + std::to_string((*in_log)[id]) + " and " +
                            std::to_string(lsn));
    }
    auto b = batch_of_.find(id);
    if (b == batch_of_.end()) {
      r->problems.push_back("LSN " + std::to_string(lsn) + ": id '" + id + "' no client sent");
      continue;
    }
    const Batch& batch = batches_[b->second];
    if (e.value("stream", "") != batch.stream || !e.contains("data") || !e["data"].is_object() ||
        e["data"].value("text", "") != id) {
      r->problems.push_back("LSN " + std::to_string(lsn) + " is not the event sent as " + id +
                            ": " + e.dump());
    }
  }
  // Acknowledged ids at their LSNs.
  for (const auto& [id, lsn] : acked_) {
    auto it = in_log->find(id);
    if (it == in_log->end() || it->second != lsn) {
      ++r->lost;
      r->problems.push_back("acknowledged " + id + " at LSN " + std::to_string(lsn) + ": " +
                            (it == in_log->end() ? "missing" : "at " + std::to_string(it->second)));
    }
  }
  // What followers were shown is what the log kept.
  for (const auto& [lsn, id] : followed_) {
    auto it = in_log->find(id);
    if (it == in_log->end() || it->second != lsn) {
      ++r->unstable_follows;
      r->problems.push_back("a follower was shown " + id + " at LSN " + std::to_string(lsn) +
                            "; the log has it " +
                            (it == in_log->end() ? "nowhere" : "at " + std::to_string(it->second)));
    }
  }
  // Batches whole and contiguous, or absent.
  for (const auto& [first, batch] : batches_) {
    std::vector<uint64_t> lsns;
    for (const std::string& id : batch.ids) {
      auto it = in_log->find(id);
      if (it != in_log->end()) lsns.push_back(it->second);
    }
    if (lsns.empty()) continue;
    bool whole = lsns.size() == batch.ids.size();
    for (size_t i = 1; whole && i < lsns.size(); ++i) whole = lsns[i] == lsns[i - 1] + 1;
    if (!whole) {
      r->problems.push_back("batch " + first + " of " + std::to_string(batch.ids.size()) +
                            " events is in the log as " + Join(lsns));
    }
  }
}

ServerCrashRound ServerCrashHarness::RunRound() {
  ServerCrashRound r;
  ++round_;
  TinkServer server(options_.tink_bin);
  ServerOptions so;
  so.store = store_;
  so.socket = work_dir_ + "/crash.sock";
  if (!server.Start(so)) {
    r.fatal = "round " + std::to_string(round_) + ": start: " + server.error();
    return r;
  }
  const std::string token = server.token();
  std::map<std::string, uint64_t> in_log;
  Check(server.tcp(), token, &r, &in_log);
  if (!r.fatal.empty()) return r;

  // What to re-send: every batch of unknown fate, and a sample of acknowledged ones.
  std::vector<Resend> resends;
  for (const Batch& b : unknown_) {
    Resend rs{b, {}};
    for (const std::string& id : b.ids) {
      auto it = in_log.find(id);
      if (it != in_log.end()) rs.want_lsns.push_back(it->second);
    }
    if (!rs.want_lsns.empty() && rs.want_lsns.size() != b.ids.size()) continue;  // reported
    resends.push_back(std::move(rs));
  }
  unknown_.clear();
  for (int i = 0; i < options_.resends_per_round && !acked_batches_.empty(); ++i) {
    const Batch& b = acked_batches_[rng_() % acked_batches_.size()];
    Resend rs{b, {}};
    for (const std::string& id : b.ids) rs.want_lsns.push_back(acked_[id]);
    resends.push_back(std::move(rs));
  }
  std::shuffle(resends.begin(), resends.end(), rng_);

  // Every new batch of the round is made here, before the threads start (the harness's state
  // is not shared with them): far more than a round can send. Those sent are registered after
  // the round (`sent_now`), before the next check needs them.
  const int per_client = options_.min_acks * 4 / options_.clients + 50;
  std::vector<std::vector<Batch>> fresh(options_.clients);
  for (int c = 0; c < options_.clients; ++c) {
    for (int i = 0; i < per_client; ++i) fresh[c].push_back(NewBatch(c));
  }

  std::mutex mu;
  std::atomic<bool> killed{false};
  std::atomic<int> acks{0};
  size_t next_resend = 0;
  std::vector<Batch> acked_now, unknown_now, sent_now;
  std::map<std::string, uint64_t> acked_map_now;
  auto client = [&](int c) {
    HttpConnection conn(c % 2 ? server.unix_socket() : server.tcp(), milliseconds(10000));
    size_t next_fresh = 0;
    for (int n = 0;; ++n) {
      if (killed.load()) return;
      Resend rs;
      bool is_resend = false;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (n % 3 == 2 && next_resend < resends.size()) {
          rs = resends[next_resend++];
          is_resend = true;
        }
      }
      if (!is_resend) {
        if (next_fresh >= fresh[c].size()) return;
        rs.batch = fresh[c][next_fresh++];
        std::lock_guard<std::mutex> lock(mu);
        sent_now.push_back(rs.batch);
      }
      const HttpResponse resp = conn.Request("POST", "/v1/events", rs.batch.body, Bearer(token));
      const json j = resp.status == 200 ? json::parse(resp.body, nullptr, false) : json();
      std::lock_guard<std::mutex> lock(mu);
      if (resp.status != 200) {
        // No answer: the kill, or a failure before it (a problem). An error status writes
        // nothing (docs/http.md); the next check confirms either way.
        if (!killed.load()) {
          r.problems.push_back("round " + std::to_string(round_) +
                               ", before the kill: " + resp.Describe());
        }
        if (!is_resend || rs.want_lsns.empty()) unknown_now.push_back(rs.batch);
        return;
      }
      if (!j.is_object() || !j.contains("lsns") || !j["lsns"].is_array() ||
          j["lsns"].size() != rs.batch.ids.size()) {
        r.problems.push_back("bad append answer: " + resp.body);
        return;
      }
      std::vector<uint64_t> lsns;
      for (const json& l : j["lsns"])
        lsns.push_back(l.is_number_unsigned() ? l.get<uint64_t>() : 0);
      const bool dup = j.value("duplicate", false);
      if (is_resend) {
        ++r.resent;
        r.duplicate_acks += dup;
        if (dup != !rs.want_lsns.empty() || (dup && lsns != rs.want_lsns)) {
          ++r.retry_mismatch;
          r.problems.push_back("re-send of " + rs.batch.ids[0] + ": answered " + resp.body +
                               ", the log had " + Join(rs.want_lsns));
        }
      } else if (dup) {
        ++r.retry_mismatch;
        r.problems.push_back("first send of " + rs.batch.ids[0] + " answered as duplicate");
      }
      for (size_t k = 0; k < lsns.size(); ++k) {
        auto [it, inserted] = acked_map_now.emplace(rs.batch.ids[k], lsns[k]);
        if (!inserted && it->second != lsns[k]) {
          ++r.retry_mismatch;
          r.problems.push_back(rs.batch.ids[k] + " acknowledged at two LSNs");
        }
      }
      r.acked += lsns.size();
      acked_now.push_back(rs.batch);
      ++acks;
    }
  };
  // One round in four is killed early, after a random number of acknowledgements below
  // min_acks (possibly none: the kill then lands while the clients connect and send).
  const int kill_after =
      rng_() % 4 == 0 ? static_cast<int>(rng_() % options_.min_acks) : options_.min_acks;
  // A follower from the head of the log as checked: it records what it is shown until the kill
  // ends its stream.
  std::vector<std::pair<uint64_t, std::string>> followed_now;
  std::string follow_error;
  std::atomic<bool> follow_open{false};
  std::thread follower([&] {
    SseReader reader(server.tcp());
    const HttpResponse h = reader.Open("/v1/events?follow=1&from=" + std::to_string(r.last_lsn + 1),
                                       Bearer(token), milliseconds(10000));
    follow_open = true;
    if (h.status != 200) {
      follow_error = "follow: " + h.Describe();
      return;
    }
    while (std::optional<SseEvent> e = reader.Next(milliseconds(10000))) {
      const json d = json::parse(e->data, nullptr, false);
      if (!d.is_object() || !d.contains("lsn") || !d["lsn"].is_number_unsigned()) {
        follow_error = "follow: not an event: " + e->data;
        return;
      }
      followed_now.emplace_back(d["lsn"].get<uint64_t>(), d.value("id", ""));
    }
    if (!killed.load()) follow_error = "follow ended before the kill: " + reader.error();
  });
  while (!follow_open.load()) std::this_thread::sleep_for(milliseconds(1));

  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (int c = 0; c < options_.clients; ++c) threads.emplace_back(client, c);
  while (acks.load() < kill_after && Clock::now() - start < milliseconds(options_.max_round_ms)) {
    std::this_thread::sleep_for(milliseconds(2));
  }
  std::this_thread::sleep_for(milliseconds(rng_() % (options_.max_extra_kill_ms + 1)));
  killed = true;
  server.Kill();
  for (std::thread& t : threads) t.join();
  follower.join();
  if (!follow_error.empty())
    r.problems.push_back("round " + std::to_string(round_) + ": " + follow_error);
  uint64_t prev = r.last_lsn;
  for (const auto& [lsn, id] : followed_now) {
    if (lsn != prev + 1) {
      r.problems.push_back("round " + std::to_string(round_) + ": the follower was shown LSN " +
                           std::to_string(lsn) + " after " + std::to_string(prev));
    }
    prev = lsn;
    followed_[lsn] = id;
  }
  r.followed = followed_now.size();

  for (const Batch& b : sent_now) {
    batches_[b.ids[0]] = b;
    for (const std::string& id : b.ids) batch_of_[id] = b.ids[0];
  }
  for (const auto& [id, lsn] : acked_map_now) {
    auto [it, inserted] = acked_.emplace(id, lsn);
    if (!inserted && it->second != lsn) {
      ++r.retry_mismatch;
      r.problems.push_back(id + " acknowledged at " + std::to_string(lsn) + ", before at " +
                           std::to_string(it->second));
    }
  }
  acked_batches_.insert(acked_batches_.end(), acked_now.begin(), acked_now.end());
  unknown_.insert(unknown_.end(), unknown_now.begin(), unknown_now.end());
  return r;
}

ServerCrashRound ServerCrashHarness::Finish() {
  ServerCrashRound r;
  TinkServer server(options_.tink_bin);
  ServerOptions so;
  so.store = store_;
  so.socket = work_dir_ + "/crash.sock";
  if (!server.Start(so)) {
    r.fatal = "final start: " + server.error();
    return r;
  }
  std::map<std::string, uint64_t> in_log;
  Check(server.tcp(), server.token(), &r, &in_log);
  server.Signal(SIGTERM);
  r.exit_code = server.Wait(milliseconds(20000));
  if (r.exit_code != 0) {
    r.problems.push_back("SIGTERM: exit " + std::to_string(r.exit_code) +
                         "; stderr: " + server.stderr_text());
  }
  const std::string store = " --store " + ShellQuote(store_);
  const CommandResult verify = RunCommand(options_.tink_bin + " verify" + store);
  if (verify.exit_code != 0) {
    r.problems.push_back("tink verify: exit " + std::to_string(verify.exit_code) + ": " +
                         verify.out + verify.err);
  }
  const CommandResult replay = RunCommand(options_.tink_bin + " replay --check" + store);
  if (replay.exit_code != 0) {
    r.problems.push_back("tink replay --check: exit " + std::to_string(replay.exit_code) + ": " +
                         replay.out + replay.err);
  }
  return r;
}

}  // namespace tink::testing
