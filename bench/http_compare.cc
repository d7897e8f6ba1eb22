// tink_compare's "http" class: the HTTP API of `tink serve` (shell/server/, docs/http.md) against
// the engine called in-process, in one run. The server runs inside tink_compare: a
// server::Server over an engine::Engine opened for writing as `tink serve` opens it (--sync
// always, the metrics hook on every group commit), on 127.0.0.1 port 0, Run() on a thread. The
// clients are threads of the same process, each with one keep-alive connection
// (bench/http_client.h: Boost.Beast's synchronous client). Clients, server and engine share the
// machine's CPUs: every HTTP row pays for its clients too.
//
// The rows (each gets a fresh store in the scratch directory at its first round, kept for its
// later rounds; the throughput rows are measured in --http-rounds rounds of --http-seconds each,
// interleaved, and each HTTP row is divided by its in-process row of the same round, so that a
// drift of the disk's fdatasync rate hits both sides of a ratio; the raw fdatasync rate of the
// disk is measured before and after):
//   ingest  POST /v1/events of one event from 16 and from 64 clients, vs Engine::Append of one
//           event from 16 threads (and 64, for reference), both durable (`always`). The same note
//           event everywhere (270 bytes of JSON; the in-process side gets it parsed beforehand).
//   none    the same x16 pair with --sync none: no fdatasync, so the CPU cost of each path shows.
//   bulk    POST /v1/events of JSONL, 1,000 events a request, from --http-bulk-clients clients, vs
//           Engine::Append of the same 1,000 events from as many threads (and from one), durable.
//   follow  a client holds GET /v1/events?follow=1 (SSE); another POSTs one event at a time and
//           waits for it to arrive on the stream before the next. Per event: the POST's round
//           trip, its answer (ack) to the event's `id:` line parsed on the stream, and send to
//           that line.
//   query   POST /v1/query round trip (and GET /healthz: the transport alone), vs a ShellSession
//           over the server's own engine (what the handler runs, without HTTP), vs `tink shell -c`
//           as a process (posix_spawn of the built tink, which opens the store read-only, runs
//           the query and prints it; timed once the server has closed the store), on an
//           agent-shaped store. The answers are compared byte for byte.
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

// Context switches of every thread of the process so far (voluntary: a thread blocked, e.g. in a
// futex or a socket read; involuntary: it was preempted).
uint64_t ContextSwitches() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<uint64_t>(u.ru_nvcsw + u.ru_nivcsw);
}

double Us(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

// q-quantile of `v` (sorted here).
double Quantile(std::vector<double>* v, double q) {
  if (v->empty()) {
    return 0;
  }
  std::sort(v->begin(), v->end());
  return (*v)[static_cast<size_t>(q * static_cast<double>(v->size() - 1))];
}

// The disk's fdatasync rate right now: 256-byte pwrite + fdatasync in a loop on a fallocated
// file in `dir`, one thread, for `seconds` (bench/baselines.cc's RawFsync "fallocate", shorter).
double DiskSyncRate(const std::string& dir, double seconds) {
  constexpr off_t kSpace = 1 << 20;
  const std::string path = dir + "/raw-sync.bin";
  const int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) {
    return 0;
  }
  double rate = 0;
  if (::posix_fallocate(fd, 0, kSpace) == 0) {
    off_t off = 0;
    const Rate r = RunFor(1, seconds, UINT64_MAX, [&](int, uint64_t i) -> std::string {
      const std::string& p = P(i);
      if (::pwrite(fd, p.data(), p.size(), off) != static_cast<ssize_t>(p.size())) {
        return Errno("pwrite");
      }
      off = (off + static_cast<off_t>(p.size())) % (kSpace - static_cast<off_t>(kPayload));
      return ::fdatasync(fd) == 0 ? "" : Errno("fdatasync");
    });
    rate = r.per_sec();
  }
  ::close(fd);
  ::unlink(path.c_str());
  return rate;
}

// `n` clients of `s`, connected.
std::string ConnectClients(const Served& s, int n, std::vector<std::unique_ptr<HttpClient>>* out) {
  for (int i = 0; i < n; ++i) {
    out->push_back(std::make_unique<HttpClient>(s.port(), Served::kToken));
    if (std::string e = out->back()->Connect(); !e.empty()) {
      return e;
    }
  }
  return "";
}

// One measurement of one row.
struct HttpRow {
  Rate rate;                      // events
  double p50_us = 0, p99_us = 0;  // per request (one Append call or one HTTP round trip)
  double events_per_sync = 0;
  double cpu_us_per_event = 0;    // the whole process: clients, server, engine, projections
  double switches_per_event = 0;  // context switches of the whole process
  double sync_us = 0;             // mean time inside one fdatasync of the log
  double in_sync = 0;             // share of the wall time the log's writer spent in fdatasync
};

// Runs op(thread, i) (one request of `events_per_op` events) on `threads` threads for `seconds`,
// timing each call, and reads the log's counters and the CPU time around it. Then waits (untimed)
// for the projections to apply what was appended, so that no row's folding runs into the next
// row's measurement; the CPU time includes it.
HttpRow Drive(engine::Engine& eng, CountingFileSystem* fs, int threads, double seconds,
              uint64_t events_per_op, const std::function<std::string(int, uint64_t)>& op) {
  HttpRow row;
  std::vector<std::vector<double>> lat(static_cast<size_t>(threads));
  for (auto& v : lat) {
    v.reserve(1 << 16);
  }
  const log::LogCounters c0 = eng.log().counters();
  const double cpu0 = CpuSeconds();
  const uint64_t sw0 = ContextSwitches();
  const uint64_t fs_syncs0 = fs->syncs.load(), fs_ns0 = fs->sync_ns.load();
  row.rate = RunFor(threads, seconds, std::max<uint64_t>(1, g_cfg.count / events_per_op),
                    [&](int t, uint64_t i) {
                      const auto t0 = Clock::now();
                      std::string e = op(t, i);
                      lat[static_cast<size_t>(t)].push_back(Us(Clock::now() - t0));
                      return e;
                    });
  const log::LogCounters c1 = eng.log().counters();
  // The log's fdatasyncs in the window (RocksDB does not go through the FileSystem seam).
  const uint64_t fs_syncs = fs->syncs.load() - fs_syncs0, fs_ns = fs->sync_ns.load() - fs_ns0;
  if (fs_syncs > 0 && row.rate.seconds > 0) {
    row.sync_us = static_cast<double>(fs_ns) / static_cast<double>(fs_syncs) / 1e3;
    row.in_sync = static_cast<double>(fs_ns) / 1e9 / row.rate.seconds;
  }
  (void)eng.WaitForProjections(eng.log().LastLsn(), std::chrono::seconds(30));
  const double cpu = CpuSeconds() - cpu0;
  const double switches = static_cast<double>(ContextSwitches() - sw0);
  row.rate.ops *= events_per_op;
  std::vector<double> all;
  for (const auto& v : lat) {
    all.insert(all.end(), v.begin(), v.end());
  }
  row.p50_us = Quantile(&all, 0.5);
  row.p99_us = Quantile(&all, 0.99);
  if (c1.syncs > c0.syncs) {
    row.events_per_sync =
        static_cast<double>(c1.records - c0.records) / static_cast<double>(c1.syncs - c0.syncs);
  }
  if (row.rate.ops > 0) {
    row.cpu_us_per_event = cpu / static_cast<double>(row.rate.ops) * 1e6;
    row.switches_per_event = switches / static_cast<double>(row.rate.ops);
  }
  return row;
}

HttpRow Failed(std::string error) {
  HttpRow r;
  r.rate.error = std::move(error);
  return r;
}

using Mode = log::Durability::Mode;

// One row's store: opened (and served) at the row's first round and kept for the later ones
// (creating a store costs ~1 s of RocksDB files and fsyncs on this machine), closed by Close.
struct Side {
  std::unique_ptr<CountingFileSystem> fs = std::make_unique<CountingFileSystem>();
  std::unique_ptr<engine::Engine> engine;            // in-process rows
  std::unique_ptr<Served> served;                    // HTTP rows
  std::vector<std::unique_ptr<HttpClient>> clients;  // one per client thread

  // The connections close before the server stops.
  std::string Close() {
    clients.clear();
    std::string err;
    if (served) {
      err = served->Stop();
    }
    if (engine) {
      if (Status s = engine->Close(); !s.ok()) {
        err = s.ToString();
      }
    }
    served.reset();
    engine.reset();
    return err;
  }
};

// In-process: Engine::Append of per_thread[thread] from `threads` threads.
HttpRow InProcess(Side* side, const std::string& dir, Mode mode, int threads, double seconds,
                  const std::vector<std::vector<schema::EventInput>>& per_thread) {
  if (!side->engine) {
    auto eng = OpenEngine(dir, nullptr, mode, side->fs.get());
    if (!eng.ok()) {
      return Failed(eng.status().ToString());
    }
    side->engine = std::move(eng).value();
  }
  engine::Engine& e = *side->engine;
  const uint64_t n = per_thread.front().size();
  return Drive(e, side->fs.get(), threads, seconds, n, [&](int t, uint64_t) -> std::string {
    auto r = e.Append(per_thread[static_cast<size_t>(t) % per_thread.size()]);
    return r.ok() ? "" : r.status().ToString();
  });
}

// Over HTTP: POST /v1/events with bodies[client] from `clients` keep-alive clients, to a store
// served with --sync `mode`.
HttpRow OverHttp(Side* side, const std::string& dir, Mode mode, int clients, double seconds,
                 const std::vector<std::string>& bodies, uint64_t events_per_body,
                 std::string_view content_type) {
  if (!side->served) {
    side->served = std::make_unique<Served>();
    if (std::string e = side->served->Start(dir, mode, side->fs.get()); !e.empty()) {
      return Failed(e);
    }
  }
  // Fresh connections each round: the server closes a keep-alive connection that stays idle for
  // its header timeout (10 s), as long as a round can take.
  side->clients.clear();
  if (std::string e = ConnectClients(*side->served, clients, &side->clients); !e.empty()) {
    return Failed(e);
  }
  auto& cs = side->clients;
  return Drive(side->served->engine(), side->fs.get(), clients, seconds, events_per_body,
               [&](int t, uint64_t) -> std::string {
                 HttpClient::Reply reply;
                 std::string e = cs[static_cast<size_t>(t)]->Post(
                     "/v1/events", content_type, bodies[static_cast<size_t>(t) % bodies.size()],
                     &reply);
                 if (!e.empty()) {
                   return e;
                 }
                 if (reply.status != 200) {
                   return "status " + std::to_string(reply.status) + ": " + reply.body;
                 }
                 return "";
               });
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
  if (std::string e = follower.Connect(); !e.empty()) {
    out.error = e;
  }
  if (std::string e = poster.Connect(); out.error.empty() && !e.empty()) {
    out.error = e;
  }
  if (!out.error.empty()) {
    return out;
  }
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
          if (lsn < delivered.size()) {
            delivered[lsn] = now;
          }
          cv.notify_all();
          return true;
        });
    std::lock_guard<std::mutex> l(mu);
    if (!stopping.load()) {
      follow_error = e.empty() ? "the follow stream ended" : e;
    }
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
    if (i < kFollowWarmup) {
      continue;
    }
    out.rtt_us.push_back(Us(acked - sent));
    out.ack_to_delivery_us.push_back(Us(got - acked));
    out.send_to_delivery_us.push_back(Us(got - sent));
    if (got < acked) {
      ++out.delivered_before_ack;
    }
  }
  stopping = true;
  follower.Shutdown();
  reader.join();
  if (std::string e = s.Stop(); out.error.empty() && !e.empty()) {
    out.error = e;
  }
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
    if (i > 0) {
      t.ms.push_back(ms);
    }
    t.answer = std::move(answer);
  }
  return t;
}

using QueryFn = std::function<std::string(std::string*)>;

// Times `a` and `b` alike: a warm-up of each, then `reps` runs of each, interleaved and taking
// turns at going first, so that a disturbance (or a warm-up effect) hits both.
void TimeQueryPair(int reps, const QueryFn& a, const QueryFn& b, QueryTiming* ta, QueryTiming* tb) {
  for (int i = 0; i <= reps; ++i) {
    for (int k = 0; k < 2; ++k) {
      const bool first = (k == 0) == (i % 2 == 0);
      const QueryFn& run = first ? a : b;
      QueryTiming* t = first ? ta : tb;
      if (!ta->error.empty() || !tb->error.empty()) {
        return;
      }
      std::string answer;
      const auto t0 = Clock::now();
      std::string e = run(&answer);
      const double ms = Us(Clock::now() - t0) / 1e3;
      if (!e.empty()) {
        t->error = e;
        return;
      }
      if (i > 0) {
        t->ms.push_back(ms);
      }
      t->answer = std::move(answer);
    }
  }
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
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return Errno("pipe");
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, pipe_fds[1], 1);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  std::vector<std::string> args = {tink, "--store", store, "shell", "-c", q, "--format", "json"};
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (std::string& a : args) {
    argv.push_back(a.data());
  }
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
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      break;
    }
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
    if (!e.ok()) {
      return "http: ERROR: the bench's event does not parse: " + e.status().ToString();
    }
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
  // The rows, measured in rounds: every row once per round, in this order, so that a drift of
  // the disk's fdatasync rate (other work on the machine) hits both sides of a ratio alike.
  struct Spec {
    const char* group;
    std::string name;
    std::function<HttpRow(Side* side, const std::string& dir)> run;
    int vs = -1;      // the in-process row this one is compared with
    double goal = 0;  // ratio to reach against it (0: none)
    std::vector<HttpRow> runs;
    Side side;
  };
  const double t = o.seconds;
  const std::string x = std::to_string(o.bulk_clients);
  std::vector<Spec> specs;
  specs.push_back({"ingest", "in-process Engine::Append 1 event, always x16",
                   [&](Side* sd, const std::string& d) {
                     return InProcess(sd, d, Mode::kAlways, kMany, t, note_events);
                   }});
  specs.push_back({"ingest", "in-process Engine::Append 1 event, always x64",
                   [&](Side* sd, const std::string& d) {
                     return InProcess(sd, d, Mode::kAlways, 64, t, note_events);
                   }});
  for (int clients : {kMany, 64}) {
    specs.push_back(
        {"ingest", "HTTP POST 1 event, " + std::to_string(clients) + " keep-alive clients",
         [&, clients](Side* sd, const std::string& d) {
           return OverHttp(sd, d, Mode::kAlways, clients, t, notes, 1, "application/json");
         },
         0, 0.7});
  }
  specs.push_back(
      {"none", "in-process Engine::Append 1 event, none x16", [&](Side* sd, const std::string& d) {
         return InProcess(sd, d, Mode::kNone, kMany, t, note_events);
       }});
  specs.push_back({"none", "HTTP POST 1 event, --sync none, 16 clients",
                   [&](Side* sd, const std::string& d) {
                     return OverHttp(sd, d, Mode::kNone, kMany, t, notes, 1, "application/json");
                   },
                   4});
  specs.push_back({"bulk", "in-process Engine::Append 1000 events, always x1",
                   [&](Side* sd, const std::string& d) {
                     return InProcess(sd, d, Mode::kAlways, 1, t, batches);
                   }});
  specs.push_back({"bulk", "in-process Engine::Append 1000 events, always x" + x,
                   [&](Side* sd, const std::string& d) {
                     return InProcess(sd, d, Mode::kAlways, o.bulk_clients, t, batches);
                   }});
  specs.push_back({"bulk", "HTTP POST JSONL 1000 events, " + x + " clients",
                   [&](Side* sd, const std::string& d) {
                     return OverHttp(sd, d, Mode::kAlways, o.bulk_clients, t, jsonl, kBatch,
                                     "application/x-ndjson");
                   },
                   7, 0.5});

  const double raw_before = DiskSyncRate(dir, 0.5);
  std::fprintf(stderr, "  http: raw pwrite+fdatasync (fallocated) %.0f/s\n", raw_before);
  for (int round = 0; round < o.rounds; ++round) {
    for (size_t i = 0; i < specs.size(); ++i) {
      const std::string d = dir + "/row-" + std::to_string(i);
      const auto t0 = Clock::now();
      specs[i].runs.push_back(specs[i].run(&specs[i].side, d));
      // What the row left dirty (RocksDB's files, the log's preallocation) is written back now,
      // not during the next row's fdatasyncs.
      if (const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); fd >= 0) {
        (void)::syncfs(fd);
        ::close(fd);
      }
      const double took = SecondsSince(t0);
      const HttpRow& r = specs[i].runs.back();
      std::fprintf(stderr, "  http: round %d  %-52s %10.0f events/s (%.1f s with setup) %s\n",
                   round + 1, specs[i].name.c_str(), r.rate.per_sec(), took, r.rate.error.c_str());
    }
  }
  for (Spec& sp : specs) {
    if (std::string e = sp.side.Close(); !e.empty() && sp.runs.back().rate.error.empty()) {
      sp.runs.back().rate.error = "close: " + e;
    }
  }
  const double raw_after = DiskSyncRate(dir, 0.5);
  const double rows_s = SecondsSince(t_start);

  std::fprintf(stderr, "  http: follow latency, %d events...\n", o.follow_events);
  FollowResult f = Follow(dir + "/follow", o.follow_events);
  const double follow_s = SecondsSince(t_start) - rows_s;

  // The query store: agent-shaped, folded by the server's writable open.
  std::fprintf(stderr, "  http: writing %" PRIu64 " agent events for the queries...\n",
               o.query_events);
  const std::string qdir = dir + "/query";
  const int runs = static_cast<int>(std::max<uint64_t>(1, o.query_events / 2000));
  AgentStore gen = WriteAgentStore(qdir, o.query_events, runs);
  struct QueryRows {
    std::string query;
    QueryTiming session, http, process;
    std::string while_served, while_served_error;  // tink shell -c's answer next to the server
  };
  std::vector<QueryRows> qrows;
  QueryTiming healthz;  // the transport's floor: GET /healthz on the same connection
  std::string query_error = gen.error;
  const bool have_tink = ::access(o.tink.c_str(), X_OK) == 0;
  if (query_error.empty()) {
    Served s;
    query_error = s.Start(qdir);
    HttpClient client(s.port(), Served::kToken);
    if (query_error.empty()) {
      query_error = client.Connect();
    }
    if (query_error.empty()) {
      healthz = TimeQuery(o.query_reps, [&](std::string* a) {
        HttpClient::Reply reply;
        std::string e = client.Do(http::verb::get, "/healthz", "", "", &reply);
        if (e.empty() && reply.status != 200) {
          e = "status " + std::to_string(reply.status);
        }
        *a = std::move(reply.body);
        return e;
      });
    }
    const std::string run = gen.tasks.empty() ? "" : gen.tasks[gen.tasks.size() / 2].run;
    for (const std::string& q : {std::string("events | count"),
                                 "tasks | where run == '" + run + "' | where state == 'failed'"}) {
      if (!query_error.empty()) {
        break;
      }
      std::fprintf(stderr, "  http: %s\n", q.c_str());
      QueryRows r{q, {}, {}, {}};
      const std::string body = nlohmann::json{{"query", q}, {"format", "json"}}.dump();
      TimeQueryPair(
          o.query_reps, [&](std::string* a) { return SessionQuery(&s.engine(), q, a); },
          [&](std::string* a) {
            HttpClient::Reply reply;
            std::string e = client.Post("/v1/query", "application/json", body, &reply);
            if (e.empty() && reply.status != 200) {
              e = "status " + std::to_string(reply.status) + ": " + reply.body;
            }
            *a = std::move(reply.body);
            return e;
          },
          &r.session, &r.http);
      // Once next to the running server (the store's writer): what a CLI user would get.
      if (have_tink) {
        r.while_served_error = ProcessQuery(o.tink, qdir, q, &r.while_served);
      }
      qrows.push_back(std::move(r));
    }
    if (std::string e = s.Stop(); query_error.empty()) {
      query_error = e;
    }
  }
  // The process is timed on the closed store: a read-only open next to a writer reads the
  // projection state as of RocksDB's last flush (engine.h, Access::kRead), so its tasks can lag.
  for (QueryRows& r : qrows) {
    if (!have_tink) {
      r.process.error = "skipped: no executable " + o.tink + " (build the tink target)";
      continue;
    }
    std::fprintf(stderr, "  http: tink shell -c %s\n", r.query.c_str());
    r.process = TimeQuery(std::max(5, o.query_reps / 5),
                          [&](std::string* a) { return ProcessQuery(o.tink, qdir, r.query, a); });
  }

  // The report.
  line(
      "\nhttp: tink serve's API (server::Server in this process on 127.0.0.1, --sync always, "
      "clients are\n  threads of this process with one keep-alive connection each) vs the "
      "engine in-process.\n  Load average at the start %.2f %.2f %.2f; the section took %.0f s "
      "(throughput rows %.0f s,\n  follow %.0f s, query %.0f s).\n",
      load[0], load[1], load[2], SecondsSince(t_start), rows_s, follow_s,
      SecondsSince(t_start) - rows_s - follow_s);
  line(
      "  raw pwrite+fdatasync on a fallocated file, 1 thread (the disk's limit right now): "
      "%.0f/s before the\n  rows, %.0f/s after. %d rounds of %.1f s per row; each row shows "
      "its median round.\n",
      raw_before, raw_after, o.rounds, o.seconds);
  line("%-6s %-47s %9s %13s %8s %8s %7s %7s %7s %5s %6s %6s %12s\n", "group", "system", "events/s",
       "min-max", "p50 us", "p99 us", "ev/sync", "syncs/s", "sync us", "busy", "CPU/ev", "cs/ev",
       "http/in-proc");
  std::string goals;
  for (const Spec& sp : specs) {
    std::vector<const HttpRow*> by_rate;
    for (const HttpRow& r : sp.runs) {
      by_rate.push_back(&r);
    }
    std::sort(by_rate.begin(), by_rate.end(), [](const HttpRow* a, const HttpRow* b) {
      return a->rate.per_sec() < b->rate.per_sec();
    });
    const HttpRow& m = *by_rate[by_rate.size() / 2];
    std::string error;
    for (const HttpRow& r : sp.runs) {
      if (!r.rate.error.empty()) {
        error = r.rate.error;
      }
    }
    // The ratio of each round to its paired in-process row of the same round; the median.
    std::vector<double> ratios;
    if (sp.vs >= 0) {
      const Spec& base = specs[static_cast<size_t>(sp.vs)];
      for (size_t k = 0; k < sp.runs.size() && k < base.runs.size(); ++k) {
        if (base.runs[k].rate.per_sec() > 0) {
          ratios.push_back(sp.runs[k].rate.per_sec() / base.runs[k].rate.per_sec());
        }
      }
    }
    const double x_med = Quantile(&ratios, 0.5);
    char range[40], ratio[40] = "", per_sync[16] = "-", syncs[16] = "-", sync_us[16] = "-",
                    busy[16] = "-";
    std::snprintf(range, sizeof(range), "%.0f-%.0f", by_rate.front()->rate.per_sec(),
                  by_rate.back()->rate.per_sec());
    if (!ratios.empty()) {
      std::snprintf(ratio, sizeof(ratio), "%.2fx", x_med);
    }
    if (m.events_per_sync > 0) {
      std::snprintf(per_sync, sizeof(per_sync), "%.1f", m.events_per_sync);
      std::snprintf(syncs, sizeof(syncs), "%.0f", m.rate.per_sec() / m.events_per_sync);
    }
    if (m.sync_us > 0) {
      std::snprintf(sync_us, sizeof(sync_us), "%.0f", m.sync_us);
      std::snprintf(busy, sizeof(busy), "%.0f%%", 100 * m.in_sync);
    }
    line("%-6s %-47s %9.0f %13s %8.0f %8.0f %7s %7s %7s %5s %6.1f %6.1f %12s%s%s\n", sp.group,
         sp.name.c_str(), m.rate.per_sec(), range, m.p50_us, m.p99_us, per_sync, syncs, sync_us,
         busy, m.cpu_us_per_event, m.switches_per_event, ratio,
         error.empty() ? "" : "  ERROR: ", error.c_str());
    if (sp.goal > 0 && !ratios.empty()) {
      char g[400], what[200];
      std::snprintf(what, sizeof(what), "%s >= %.1fx in-process", sp.name.c_str(), sp.goal);
      std::snprintf(g, sizeof(g), "  %-4s  %-62s %.2fx (rounds %.2f-%.2f)\n",
                    error.empty() && x_med >= sp.goal ? "PASS" : "MISS", what, x_med,
                    ratios.front(), ratios.back());
      goals += g;
    }
  }
  line(
      "p50/p99 us: per request (one Append call, or one HTTP round trip). ev/sync: events per\n"
      "  fdatasync (the log's counters); syncs/s: fdatasyncs per second; sync us: mean time "
      "inside\n"
      "  one fdatasync, busy: share of the time the log's writer spent inside fdatasync (both\n"
      "  through the FileSystem seam). CPU/ev: CPU time (us) of\n"
      "  the whole process (clients, server, engine, projection tailing) per event; cs/ev: its\n"
      "  context switches (voluntary and not) per event.\n"
      "  http/in-proc: this row / its in-process row (x16 for ingest, none x16 for none, x%d for\n"
      "  bulk), round by round; the median round's ratio.\n",
      o.bulk_clients);

  line(
      "\nfollow: %d events POSTed one at a time (durable), each awaited on a GET "
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
    line(
        "  %d of %d events arrived on the stream before their POST's answer (negative "
        "ack -> event).\n",
        f.delivered_before_ack, o.follow_events);
  }

  line("\nquery: round trips on an agent-shaped store of %" PRIu64
       " events (%d runs); %d timed "
       "runs after a\n  warm-up, session and HTTP interleaved (the process: %d, on the store "
       "closed by the server).\n  overhead: p50 minus the in-process p50.\n",
       o.query_events, runs, o.query_reps, std::max(5, o.query_reps / 5));
  if (!query_error.empty()) {
    line("  ERROR: %s\n", query_error.c_str());
  }
  line("  %-58s %-34s %9s %9s %11s  %s\n", "query", "system", "p50 ms", "p99 ms", "overhead ms",
       "answer");
  if (healthz.error.empty() && !healthz.ms.empty()) {
    const double p50 = Quantile(&healthz.ms, 0.5), p99 = Quantile(&healthz.ms, 0.99);
    line("  %-58s %-34s %9.3f %9.3f\n", "(no query: the transport alone)", "HTTP GET /healthz", p50,
         p99);
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
      if (t != &q.session) {
        std::snprintf(over, sizeof(over), "%+.3f", p50 - base);
      }
      const char* same = t == &q.session ? "" : t->answer == q.session.answer ? "same" : "DIFFERS";
      line("  %-58s %-34s %9.3f %9.3f %11s  %s (%zu B)\n", query.c_str(), system, p50, p99, over,
           same, t->answer.size());
    };
    row(q.query, "in-process ShellSession", &q.session);
    row("", "HTTP POST /v1/query (keep-alive)", &q.http);
    row("", "tink shell -c (a process)", &q.process);
    if (!q.while_served_error.empty()) {
      line("  %-58s   ^ next to the running server: %s\n", "", q.while_served_error.c_str());
    } else if (q.process.error.empty() && q.while_served != q.session.answer) {
      std::string head = q.while_served.substr(0, 40);
      for (char& c : head) {
        if (c == '\n') {
          c = ' ';
        }
      }
      line("  %-58s   ^ next to the running server it answered %zu B: %s\n", "",
           q.while_served.size(), head.c_str());
    }
  }

  out += "http goals (information only, never a failure):\n" + goals;
  return out;
}

}  // namespace tink::bench
