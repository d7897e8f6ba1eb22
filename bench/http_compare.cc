// tink_compare's "http" class: the HTTP API of `tink serve` (shell/server/, docs/http.md) against
// the engine called in-process, in one run. The server runs inside tink_compare: a
// server::Server over an engine::Engine opened for writing as `tink serve` opens it (--sync
// always, the metrics hook on every group commit), on 127.0.0.1 port 0, Run() on a thread. The
// clients are threads of the same process, each with one keep-alive connection
// (bench/http_client.h: Boost.Beast's synchronous client). Clients, server and engine share the
// machine's CPUs: every HTTP row pays for its clients too.
//
// The rows (every store is fresh, in the scratch directory):
//   ingest  POST /v1/events of one event from 16 and from 64 clients, vs Engine::Append of one
//           event from 16 threads (and 64, for reference), both durable (`always`). The same note
//           event everywhere (~300 bytes of JSON; the in-process side gets it parsed beforehand).
//   bulk    POST /v1/events of JSONL, 1,000 events a request, from --http-bulk-clients clients, vs
//           Engine::Append of the same 1,000 events from as many threads (and from one), durable.
//   follow  a client holds GET /v1/events?follow=1 (SSE); another POSTs one event at a time and
//           waits for it to arrive on the stream before the next. Per event: the POST's round
//           trip, its answer (ack) to the event's `id:` line parsed on the stream, and send to
//           that line.
//   query   POST /v1/query round trip, vs `tink shell -c` as a process (posix_spawn of the built
//           tink, which opens the store read-only, runs the query and prints it), vs a
//           ShellSession over the server's own engine (what the handler runs, without HTTP), on
//           an agent-shaped store. The three answers are compared byte for byte.
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "bench/agent_workload.h"
#include "bench/compare.h"
#include "bench/http_client.h"
#include "bench/http_served.h"
#include "engine/engine.h"
#include "schema/schema.h"
#include "shell/cli/shell_session.h"

extern char** environ;

namespace tink::bench {

namespace {

using Clock = std::chrono::steady_clock;
namespace http = boost::beast::http;

constexpr int kFollowWarmup = 100;  // events posted and awaited before the follow row counts

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double Us(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

// q-quantile of `v` (sorted here).
double Quantile(std::vector<double>* v, double q) {
  if (v->empty()) return 0;
  std::sort(v->begin(), v->end());
  return (*v)[static_cast<size_t>(q * static_cast<double>(v->size() - 1))];
}

// `n` clients of `s`, connected.
std::string ConnectClients(const Served& s, int n, std::vector<std::unique_ptr<HttpClient>>* out) {
  for (int i = 0; i < n; ++i) {
    out->push_back(std::make_unique<HttpClient>(s.port(), Served::kToken));
    if (std::string e = out->back()->Connect(); !e.empty()) return e;
  }
  return "";
}

struct HttpRow {
  std::string group, name;
  Rate rate;                     // events
  double p50_us = 0, p99_us = 0;  // per request (one Append call or one HTTP round trip)
  double events_per_sync = 0;
  double cpu_us_per_event = 0;   // the whole process: clients, server, engine, projections
  const HttpRow* vs = nullptr;   // the in-process row this one is compared with
  double goal = 0;               // ratio to reach against `vs` (0: none)
};

// Runs op(thread, i) (one request of `events_per_op` events) on `threads` threads for the
// configured time, timing each call, and reads the log's counters and the CPU time around it.
HttpRow Drive(engine::Engine& eng, int threads, uint64_t events_per_op,
              const std::function<std::string(int, uint64_t)>& op) {
  HttpRow row;
  std::vector<std::vector<double>> lat(static_cast<size_t>(threads));
  for (auto& v : lat) v.reserve(1 << 16);
  const log::LogCounters c0 = eng.log().counters();
  const double cpu0 = CpuSeconds();
  row.rate = RunFor(threads, g_cfg.seconds, std::max<uint64_t>(1, g_cfg.count / events_per_op),
                    [&](int t, uint64_t i) {
                      const auto t0 = Clock::now();
                      std::string e = op(t, i);
                      lat[static_cast<size_t>(t)].push_back(Us(Clock::now() - t0));
                      return e;
                    });
  const double cpu = CpuSeconds() - cpu0;
  const log::LogCounters c1 = eng.log().counters();
  row.rate.ops *= events_per_op;
  std::vector<double> all;
  for (const auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  row.p50_us = Quantile(&all, 0.5);
  row.p99_us = Quantile(&all, 0.99);
  if (c1.syncs > c0.syncs) {
    row.events_per_sync =
        static_cast<double>(c1.records - c0.records) / static_cast<double>(c1.syncs - c0.syncs);
  }
  if (row.rate.ops > 0) row.cpu_us_per_event = cpu / static_cast<double>(row.rate.ops) * 1e6;
  return row;
}

HttpRow Failed(std::string error) {
  HttpRow r;
  r.rate.error = std::move(error);
  return r;
}

// In-process: Engine::Append of `batch` (copied per call, as a caller building events would
// hand them over) from `threads` threads.
HttpRow InProcess(const std::string& dir, int threads, const std::vector<std::vector<
                                                           schema::EventInput>>& per_thread) {
  auto eng = OpenEngine(dir, nullptr);
  if (!eng.ok()) return Failed(eng.status().ToString());
  const uint64_t n = per_thread.front().size();
  HttpRow row = Drive(**eng, threads, n, [&](int t, uint64_t) -> std::string {
    const auto& events = per_thread[static_cast<size_t>(t) % per_thread.size()];
    auto r = (*eng)->Append(events);
    return r.ok() ? "" : r.status().ToString();
  });
  if (Status s = (*eng)->Close(); !s.ok() && row.rate.error.empty()) {
    row.rate.error = s.ToString();
  }
  return row;
}

// Over HTTP: POST /v1/events with body per_client[client] from `clients` keep-alive clients.
HttpRow OverHttp(const std::string& dir, int clients, const std::vector<std::string>& bodies,
                 uint64_t events_per_body, std::string_view content_type) {
  Served s;
  if (std::string e = s.Start(dir); !e.empty()) return Failed(e);
  std::vector<std::unique_ptr<HttpClient>> cs;
  if (std::string e = ConnectClients(s, clients, &cs); !e.empty()) return Failed(e);
  HttpRow row = Drive(s.engine(), clients, events_per_body, [&](int t, uint64_t) -> std::string {
    HttpClient::Reply reply;
    std::string e = cs[static_cast<size_t>(t)]->Post(
        "/v1/events", content_type, bodies[static_cast<size_t>(t) % bodies.size()], &reply);
    if (!e.empty()) return e;
    if (reply.status != 200) return "status " + std::to_string(reply.status) + ": " + reply.body;
    return "";
  });
  cs.clear();  // the connections close before the server stops
  if (std::string e = s.Stop(); !e.empty() && row.rate.error.empty()) row.rate.error = e;
  return row;
}

struct FollowResult {
  std::vector<double> rtt_us, ack_to_delivery_us, send_to_delivery_us;
  int delivered_before_ack = 0;
  std::string error;
};

// One client follows the log (SSE); another posts `n` events one at a time (after a warm-up),
// each after the previous one arrived on the stream.
FollowResult Follow(const std::string& dir, int n) {
  FollowResult out;
  Served s;
  if (std::string e = s.Start(dir); !e.empty()) {
    out.error = e;
    return out;
  }
  const int total = n + kFollowWarmup;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Clock::time_point> delivered(static_cast<size_t>(total) + 2);
  bool open = false, done = false;
  std::atomic<bool> stopping{false};
  std::string follow_error;

  HttpClient follower(s.port(), Served::kToken), poster(s.port(), Served::kToken);
  if (std::string e = follower.Connect(); !e.empty()) out.error = e;
  if (std::string e = poster.Connect(); out.error.empty() && !e.empty()) out.error = e;
  if (!out.error.empty()) return out;
  std::thread reader([&] {
    std::string e = follower.Follow(
        "/v1/events?follow=1",
        [&] {
          std::lock_guard<std::mutex> l(mu);
          open = true;
          cv.notify_all();
        },
        [&](uint64_t lsn) {
          const auto now = Clock::now();
          std::lock_guard<std::mutex> l(mu);
          if (lsn < delivered.size()) delivered[lsn] = now;
          cv.notify_all();
          return true;
        });
    std::lock_guard<std::mutex> l(mu);
    if (!stopping.load()) follow_error = e.empty() ? "the follow stream ended" : e;
    done = true;
    cv.notify_all();
  });
  {
    std::unique_lock<std::mutex> l(mu);
    if (!cv.wait_for(l, std::chrono::seconds(10), [&] { return open || done; }) || !open) {
      out.error = "the follow stream did not open: " + follow_error;
    }
  }
  const std::string body = NoteJson(0);
  for (int i = 0; i < total && out.error.empty(); ++i) {
    HttpClient::Reply reply;
    const auto sent = Clock::now();
    if (std::string e = poster.Post("/v1/events", "application/json", body, &reply); !e.empty()) {
      out.error = e;
      break;
    }
    const auto acked = Clock::now();
    if (reply.status != 200) {
      out.error = "status " + std::to_string(reply.status) + ": " + reply.body;
      break;
    }
    const auto j = nlohmann::json::parse(reply.body, nullptr, false);
    const uint64_t lsn = j.is_object() ? j.value("first_lsn", uint64_t{0}) : 0;
    if (lsn == 0 || lsn >= delivered.size()) {
      out.error = "unexpected answer: " + reply.body;
      break;
    }
    Clock::time_point got;
    {
      std::unique_lock<std::mutex> l(mu);
      const bool arrived = cv.wait_for(l, std::chrono::seconds(5), [&] {
        return delivered[lsn] != Clock::time_point{} || done;
      });
      if (!arrived || delivered[lsn] == Clock::time_point{}) {
        out.error = "LSN " + std::to_string(lsn) + " was not delivered on the follow stream " +
                    "within 5 s of its ack" + (follow_error.empty() ? "" : ": " + follow_error);
        break;
      }
      got = delivered[lsn];
    }
    if (i < kFollowWarmup) continue;
    out.rtt_us.push_back(Us(acked - sent));
    out.ack_to_delivery_us.push_back(Us(got - acked));
    out.send_to_delivery_us.push_back(Us(got - sent));
    if (got < acked) ++out.delivered_before_ack;
  }
  stopping = true;
  follower.Shutdown();
  reader.join();
  if (std::string e = s.Stop(); out.error.empty() && !e.empty()) out.error = e;
  return out;
}

struct QueryTiming {
  std::vector<double> ms;
  std::string answer, error;
};

// `reps` timed runs of run(answer) after a warm-up.
QueryTiming TimeQuery(int reps, const std::function<std::string(std::string*)>& run) {
  QueryTiming t;
  for (int i = 0; i <= reps; ++i) {
    std::string answer;
    const auto t0 = Clock::now();
    std::string e = run(&answer);
    const double ms = Us(Clock::now() - t0) / 1e3;
    if (!e.empty()) {
      t.error = e;
      return t;
    }
    if (i > 0) t.ms.push_back(ms);
    t.answer = std::move(answer);
  }
  return t;
}

// The query as the server's handler runs it: a fresh ShellSession over the engine, output into
// memory.
std::string SessionQuery(engine::Engine* eng, const std::string& q, std::string* answer) {
  char* buf = nullptr;
  size_t size = 0;
  std::FILE* out = ::open_memstream(&buf, &size);
  std::FILE* err = std::fopen("/dev/null", "w");
  cli::ShellConfig config;
  config.format = query::Format::kJson;
  config.allow_dot_commands = false;
  int rc;
  {
    cli::ShellSession session(config);
    session.Attach(eng);
    session.set_output(out);
    session.set_errors(err);
    rc = session.RunScript(q, "");
  }
  std::fclose(out);
  std::fclose(err);
  answer->assign(buf, size);
  std::free(buf);
  return rc == 0 ? "" : "ShellSession exit " + std::to_string(rc);
}

// `tink --store STORE shell -c Q --format json` as a child process; its stdout is the answer.
std::string ProcessQuery(const std::string& tink, const std::string& store, const std::string& q,
                         std::string* answer) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return Errno("pipe");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, pipe_fds[1], 1);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  std::vector<std::string> args = {tink, "--store", store, "shell", "-c", q, "--format", "json"};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, tink.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(pipe_fds[1]);
  if (rc != 0) {
    ::close(pipe_fds[0]);
    return "posix_spawn " + tink + ": " + std::strerror(rc);
  }
  char buf[1 << 16];
  for (ssize_t n; (n = ::read(pipe_fds[0], buf, sizeof(buf))) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    answer->append(buf, static_cast<size_t>(n));
  }
  ::close(pipe_fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return "tink shell -c exited with status " + std::to_string(status);
  }
  return "";
}

}  // namespace

std::string HttpCompare(const std::string& dir, const HttpOptions& o) {
  std::string out;
  auto line = [&](const char* fmt, auto... args) {
    char buf[1024];
    std::snprintf(buf, sizeof(buf), fmt, args...);
    out += buf;
  };
  double load[3] = {0, 0, 0};
  (void)::getloadavg(load, 3);
  const auto t_start = Clock::now();

  // The ingest and bulk events, parsed once (the in-process side skips the JSON).
  std::vector<std::string> notes;
  std::vector<std::vector<schema::EventInput>> note_events;
  for (int c = 0; c < 64; ++c) {
    notes.push_back(NoteJson(c));
    auto e = schema::ParseEnvelopeJson(notes.back());
    if (!e.ok()) return "http: ERROR: the bench's event does not parse: " + e.status().ToString();
    note_events.push_back({std::move(e).value()});
  }
  std::vector<std::string> jsonl;
  std::vector<std::vector<schema::EventInput>> batches;
  for (int c = 0; c < o.bulk_clients; ++c) {
    std::string body;
    std::vector<schema::EventInput> batch;
    for (uint64_t k = 0; k < kBatch; ++k) {
      body += notes[k % notes.size()];
      body += '\n';
      batch.push_back(note_events[k % notes.size()].front());
    }
    jsonl.push_back(std::move(body));
    batches.push_back(std::move(batch));
  }
  const std::string clients_s = std::to_string(o.bulk_clients);

  std::vector<std::unique_ptr<HttpRow>> rows;
  auto add = [&](const char* group, const std::string& name, HttpRow r) -> const HttpRow* {
    r.group = group;
    r.name = name;
    std::fprintf(stderr, "  http: %-52s %10.0f events/s  %s\n", name.c_str(), r.rate.per_sec(),
                 r.rate.error.c_str());
    rows.push_back(std::make_unique<HttpRow>(std::move(r)));
    return rows.back().get();
  };
  const HttpRow* in16 = add("ingest", "in-process Engine::Append 1 event, always x16",
                            InProcess(dir + "/in-16", kMany, note_events));
  add("ingest", "in-process Engine::Append 1 event, always x64",
      InProcess(dir + "/in-64", 64, note_events));
  for (int clients : {kMany, 64}) {
    HttpRow r = OverHttp(dir + "/http-" + std::to_string(clients), clients, notes, 1,
                         "application/json");
    r.vs = in16;
    r.goal = 0.7;
    add("ingest", "HTTP POST 1 event, " + std::to_string(clients) + " keep-alive clients",
        std::move(r));
  }
  add("bulk", "in-process Engine::Append 1000 events, always x1",
      InProcess(dir + "/in-bulk-1", 1, batches));
  const HttpRow* in_bulk =
      add("bulk", "in-process Engine::Append 1000 events, always x" + clients_s,
          InProcess(dir + "/in-bulk-n", o.bulk_clients, batches));
  {
    HttpRow r = OverHttp(dir + "/http-bulk", o.bulk_clients, jsonl, kBatch, "application/x-ndjson");
    r.vs = in_bulk;
    r.goal = 0.5;
    add("bulk", "HTTP POST JSONL 1000 events, " + clients_s + " clients", std::move(r));
  }

  std::fprintf(stderr, "  http: follow latency, %d events...\n", o.follow_events);
  FollowResult f = Follow(dir + "/follow", o.follow_events);

  // The query store: agent-shaped, folded by the server's writable open.
  std::fprintf(stderr, "  http: writing %" PRIu64 " agent events for the queries...\n",
               o.query_events);
  const std::string qdir = dir + "/query";
  const int runs = static_cast<int>(std::max<uint64_t>(1, o.query_events / 2000));
  AgentStore gen = WriteAgentStore(qdir, o.query_events, runs);
  struct QueryRows {
    std::string query;
    QueryTiming session, http, process;
  };
  std::vector<QueryRows> qrows;
  QueryTiming healthz;  // the transport's floor: GET /healthz on the same connection
  std::string query_error = gen.error;
  const bool have_tink = ::access(o.tink.c_str(), X_OK) == 0;
  if (query_error.empty()) {
    Served s;
    query_error = s.Start(qdir);
    HttpClient client(s.port(), Served::kToken);
    if (query_error.empty()) query_error = client.Connect();
    if (query_error.empty()) {
      healthz = TimeQuery(o.query_reps, [&](std::string* a) {
        HttpClient::Reply reply;
        std::string e = client.Do(http::verb::get, "/healthz", "", "", &reply);
        if (e.empty() && reply.status != 200) e = "status " + std::to_string(reply.status);
        *a = std::move(reply.body);
        return e;
      });
    }
    const std::string run = gen.tasks.empty() ? "" : gen.tasks[gen.tasks.size() / 2].run;
    for (const std::string& q :
         {std::string("events | count"),
          "tasks | where run == '" + run + "' | where state == 'failed'"}) {
      if (!query_error.empty()) break;
      std::fprintf(stderr, "  http: %s\n", q.c_str());
      QueryRows r{q, {}, {}, {}};
      r.session = TimeQuery(o.query_reps, [&](std::string* a) {
        return SessionQuery(&s.engine(), q, a);
      });
      const std::string body = nlohmann::json{{"query", q}, {"format", "json"}}.dump();
      r.http = TimeQuery(o.query_reps, [&](std::string* a) {
        HttpClient::Reply reply;
        std::string e = client.Post("/v1/query", "application/json", body, &reply);
        if (e.empty() && reply.status != 200) {
          e = "status " + std::to_string(reply.status) + ": " + reply.body;
        }
        *a = std::move(reply.body);
        return e;
      });
      if (have_tink) {
        r.process = TimeQuery(std::max(5, o.query_reps / 2), [&](std::string* a) {
          return ProcessQuery(o.tink, qdir, q, a);
        });
      } else {
        r.process.error = "skipped: no executable " + o.tink + " (build the tink target)";
      }
      qrows.push_back(std::move(r));
    }
    if (std::string e = s.Stop(); query_error.empty()) query_error = e;
  }

  // The report.
  line("\nhttp: tink serve's API (server::Server in this process on 127.0.0.1, --sync always, "
       "clients are\n  threads of this process with one keep-alive connection each) vs the "
       "engine in-process.\n  Load average at the start %.2f %.2f %.2f; the section took %.0f s.\n",
       load[0], load[1], load[2], SecondsSince(t_start));
  line("%-7s %-52s %10s %9s %9s %8s %9s %13s\n", "group", "system", "events/s", "p50 us",
       "p99 us", "ev/sync", "CPU us/ev", "http/in-proc");
  std::string goals;
  for (const auto& r : rows) {
    char ratio[32] = "", per_sync[32] = "-";
    if (r->events_per_sync > 0) std::snprintf(per_sync, sizeof(per_sync), "%.1f", r->events_per_sync);
    double x = 0;
    if (r->vs != nullptr && r->vs->rate.per_sec() > 0) {
      x = r->rate.per_sec() / r->vs->rate.per_sec();
      std::snprintf(ratio, sizeof(ratio), "%.2fx", x);
    }
    line("%-7s %-52s %10.0f %9.0f %9.0f %8s %9.1f %13s%s%s\n", r->group.c_str(), r->name.c_str(),
         r->rate.per_sec(), r->p50_us, r->p99_us, per_sync, r->cpu_us_per_event, ratio,
         r->rate.error.empty() ? "" : "  ERROR: ", r->rate.error.c_str());
    if (r->goal > 0 && r->vs != nullptr) {
      char g[400];
      std::snprintf(g, sizeof(g), "  %-4s  %-58s %.0f vs %.0f events/s (%.2fx)\n",
                    r->rate.error.empty() && x >= r->goal ? "PASS" : "MISS",
                    (r->name + " >= " + std::to_string(r->goal).substr(0, 3) + "x in-process")
                        .c_str(),
                    r->rate.per_sec(), r->vs->rate.per_sec(), x);
      goals += g;
    }
  }
  line("p50/p99 us: per request (one Append call, or one HTTP round trip). ev/sync: events per\n"
       "  fdatasync (the log's counters). CPU us/ev: CPU time of the whole process (clients,\n"
       "  server, engine, projection tailing) per event. http/in-proc: this row / the in-process\n"
       "  row it is paired with (x16 for ingest, x%d for bulk).\n",
       o.bulk_clients);

  line("\nfollow: %d events POSTed one at a time (durable), each awaited on a GET "
       "/v1/events?follow=1\n  stream before the next (after %d warm-up events).\n",
       o.follow_events, kFollowWarmup);
  if (!f.error.empty()) {
    line("  ERROR: %s\n", f.error.c_str());
  } else {
    line("  %-44s %9s %9s %9s %9s\n", "us", "p50", "p90", "p99", "max");
    auto lat = [&](const char* what, std::vector<double>* v) {
      const double p50 = Quantile(v, 0.5), p90 = Quantile(v, 0.9), p99 = Quantile(v, 0.99),
                   mx = Quantile(v, 1);
      line("  %-44s %9.0f %9.0f %9.0f %9.0f\n", what, p50, p90, p99, mx);
    };
    lat("POST round trip (send -> ack)", &f.rtt_us);
    lat("ack -> event on the follow stream", &f.ack_to_delivery_us);
    lat("send -> event on the follow stream", &f.send_to_delivery_us);
    line("  %d of %d events arrived on the stream before their POST's answer (negative "
         "ack -> event).\n",
         f.delivered_before_ack, o.follow_events);
  }

  line("\nquery: round trips on an agent-shaped store of %" PRIu64 " events (%d runs); %d timed "
       "runs after a\n  warm-up (the process: %d). overhead: p50 minus the in-process p50.\n",
       o.query_events, runs, o.query_reps, std::max(5, o.query_reps / 2));
  if (!query_error.empty()) line("  ERROR: %s\n", query_error.c_str());
  line("  %-58s %-34s %9s %9s %11s  %s\n", "query", "system", "p50 ms", "p99 ms", "overhead ms",
       "answer");
  if (healthz.error.empty() && !healthz.ms.empty()) {
    const double p50 = Quantile(&healthz.ms, 0.5), p99 = Quantile(&healthz.ms, 0.99);
    line("  %-58s %-34s %9.3f %9.3f\n", "(no query: the transport alone)", "HTTP GET /healthz",
         p50, p99);
  } else if (!healthz.error.empty()) {
    line("  %-58s %-34s %s\n", "(no query: the transport alone)", "HTTP GET /healthz",
         healthz.error.c_str());
  }
  for (QueryRows& q : qrows) {
    const double base = Quantile(&q.session.ms, 0.5);
    auto row = [&](const std::string& query, const char* system, QueryTiming* t) {
      if (!t->error.empty()) {
        line("  %-58s %-34s %s\n", query.c_str(), system, t->error.c_str());
        return;
      }
      const double p50 = Quantile(&t->ms, 0.5), p99 = Quantile(&t->ms, 0.99);
      char over[32] = "";
      if (t != &q.session) std::snprintf(over, sizeof(over), "%+.3f", p50 - base);
      const char* same = t == &q.session ? ""
                         : t->answer == q.session.answer ? "same"
                                                         : "DIFFERS";
      line("  %-58s %-34s %9.3f %9.3f %11s  %s (%zu B)\n", query.c_str(), system, p50, p99, over,
           same, t->answer.size());
    };
    row(q.query, "in-process ShellSession", &q.session);
    row("", "HTTP POST /v1/query (keep-alive)", &q.http);
    row("", "tink shell -c (a process)", &q.process);
  }

  out += "http goals (information only, never a failure):\n" + goals;
  return out;
}

}  // namespace tink::bench
