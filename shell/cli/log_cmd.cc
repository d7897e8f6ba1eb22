// tink log: events in LSN order, as text or as JSON lines (the DESIGN.md §4 view).
// --stream/--run/--type read the matching index projection and --since/--until the time index
// (engine::Engine::Scan), not the whole log. With --server the daemon's GET /v1/events answers,
// and --follow reads its Server-Sent Events stream, reconnecting with Last-Event-ID.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "engine/engine.h"
#include "schema/schema.h"
#include "shell/cli/commands.h"
#include "shell/cli/common.h"
#include "shell/cli/remote.h"

namespace tink::cli {
namespace {

struct LogFlags {
  uint64_t from = 1, to = 0;
  std::string stream, type, run, since, until;
  bool json = false;
  bool explain = false;
  bool follow = false;
};

// One human line: LSN, time, type, stream, data (shortened on a terminal).
void PrintText(const std::string& json, bool shorten) {
  auto j = nlohmann::ordered_json::parse(json);
  std::string data = j["data"].dump();
  if (shorten && data.size() > 160) data = data.substr(0, 157) + "...";
  std::printf("%-6s %s  %-16s %-24s %s\n", std::to_string(j["lsn"].get<uint64_t>()).c_str(),
              j["time"].get<std::string>().c_str(), j["type"].get<std::string>().c_str(),
              j["stream"].get<std::string>().c_str(), data.c_str());
}

// Prints one event of the JSON event view as `tink log` does; false if stdout failed.
bool PrintEvent(std::string_view json, bool as_json, bool tty) {
  if (as_json) {
    std::fwrite(json.data(), 1, json.size(), stdout);
    std::fputc('\n', stdout);
  } else {
    PrintText(std::string(json), tty);
  }
  return std::ferror(stdout) == 0;
}

// The query string of GET /v1/events for the flags, from LSN `from`.
std::string EventsTarget(const LogFlags& f, uint64_t from, bool follow) {
  std::string t = "/v1/events?from=" + std::to_string(from);
  if (f.to != 0) t += "&to=" + std::to_string(f.to);
  auto add = [&t](const char* name, const std::string& v) {
    if (!v.empty()) t += std::string("&") + name + "=" + UrlEncode(v);
  };
  add("stream", f.stream);
  add("run", f.run);
  add("type", f.type);
  add("since", f.since);
  add("until", f.until);
  if (follow) t += "&follow=1";
  return t;
}

// GET /v1/events: the JSONL answer printed line by line as it arrives.
int RemoteOnce(RemoteClient& client, const LogFlags& f) {
  const bool tty = ::isatty(1) == 1;
  bool write_failed = false;
  LineCutter lines([&](std::string_view line) {
    if (line.empty()) return true;
    write_failed = !PrintEvent(line, f.json, tty);
    return !write_failed;
  });
  RemoteRequest req;
  req.target = EventsTarget(f, f.from, false);
  req.on_body = [&lines](std::string_view piece) { return lines.Feed(piece); };
  auto resp = client.Send(req);
  if (!resp.ok()) return Fail("log", resp.status());
  if (resp->status < 200 || resp->status >= 300) return FailHttp("log", *resp);
  if (!write_failed) lines.Finish();
  if (write_failed || std::fflush(stdout) != 0) {
    return Fail("log", Status::IOError("writing to stdout failed"));
  }
  return 0;
}

// One Server-Sent Events stream (docs/http.md "GET /v1/events"): "id:", "event:" and "data:"
// lines, a blank line ending an event, ':' comments (keepalives).
class SseReader {
 public:
  // on_event(id, event, data): false stops the stream.
  using OnEvent = std::function<bool(const std::string&, const std::string&, const std::string&)>;
  explicit SseReader(OnEvent on_event)
      : on_event_(std::move(on_event)),
        lines_([this](std::string_view line) { return Line(line); }) {}
  bool Feed(std::string_view piece) { return lines_.Feed(piece); }

 private:
  bool Line(std::string_view line) {
    if (line.empty()) {
      bool go_on = true;
      if (!data_.empty() || !event_.empty()) go_on = on_event_(id_, event_, data_);
      id_.clear(), event_.clear(), data_.clear();
      return go_on;
    }
    if (line[0] == ':') return true;
    const size_t colon = line.find(':');
    const std::string_view field = line.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? "" : line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
    if (field == "id") {
      id_ = value;
    } else if (field == "event") {
      event_ = value;
    } else if (field == "data") {
      if (!data_.empty()) data_ += '\n';
      data_ += value;
    }
    return true;
  }

  OnEvent on_event_;
  LineCutter lines_;
  std::string id_, event_, data_;
};

// --follow over --server: everything from --from, then events as they are appended. A dropped
// connection (or a daemon restarting) is retried with Last-Event-ID = the last LSN printed, so
// each event is printed once; after 60 s without getting through, exit 4.
int RemoteFollow(RemoteClient& client, const LogFlags& f) {
  using Clock = std::chrono::steady_clock;
  const bool tty = ::isatty(1) == 1;
  uint64_t last = 0;      // the last LSN printed
  bool streamed = false;  // a stream was answered 2xx at least once
  std::optional<Clock::time_point> down_since;
  int exit_code = -1;  // set by an "error" event or a failed write: stop with it
  auto on_event = [&](const std::string& id, const std::string& event, const std::string& data) {
    if (event == "error") {
      // The daemon could not read on (e.g. damage in the log): its error, as the Status text
      // ("Corruption: segment ...") or as an error object, ends the stream.
      RemoteResponse r;
      r.status = 500;
      r.body = data;
      HttpError e = ParseHttpError(r);
      if (e.code.empty() && e.message.starts_with("Corruption")) e.code = "corruption";
      std::fflush(stdout);
      std::fprintf(stderr, "tink log: %s\n", e.message.c_str());
      exit_code = ExitForHttp(e);
      return false;
    }
    if (!event.empty() && event != "event") return true;
    uint64_t lsn = 0;
    try {
      lsn = id.empty() ? 0 : std::stoull(id);
    } catch (const std::exception&) {
      lsn = 0;
    }
    if (lsn == 0) lsn = nlohmann::json::parse(data).at("lsn").get<uint64_t>();
    if (lsn <= last) return true;  // already printed before the reconnection
    if (!PrintEvent(data, f.json, tty) || std::fflush(stdout) != 0) {
      exit_code = Fail("log", Status::IOError("writing to stdout failed"));
      return false;
    }
    last = lsn;
    if (f.to != 0 && last >= f.to) {
      exit_code = 0;
      return false;
    }
    return true;
  };
  int delay_ms = 250;
  while (true) {
    SseReader sse(on_event);
    RemoteRequest req;
    req.target = EventsTarget(f, std::max(f.from, last + 1), true);
    if (last != 0) req.headers.push_back("Last-Event-ID: " + std::to_string(last));
    req.stall_seconds = 45;  // three keepalives missed: the connection is dead
    bool answered = false;
    req.on_body = [&](std::string_view piece) {
      answered = true;
      return sse.Feed(piece);
    };
    auto resp = client.Send(req);
    if (exit_code >= 0) return exit_code;
    Status failure;
    if (!resp.ok()) {
      failure = resp.status();
    } else if (resp->status >= 200 && resp->status < 300) {
      // The daemon ended the stream (it is shutting down): come back after it.
      failure = Status::IOError("tink serve at " + client.url() + " closed the stream");
    } else if (!streamed || resp->status < 500) {
      return FailHttp("log", *resp);
    } else {
      failure = Status::IOError(ParseHttpError(*resp).ToString());
    }
    if (answered || (resp.ok() && resp->status >= 200 && resp->status < 300)) {
      streamed = true;
      down_since.reset();
      delay_ms = 250;
    }
    if (!streamed) return Fail("log", failure);
    const auto now = Clock::now();
    if (!down_since) {
      down_since = now;
      std::fprintf(stderr, "tink log: %s; reconnecting\n", failure.ToString().c_str());
    } else if (now - *down_since > std::chrono::seconds(60)) {
      return Fail("log", failure.WithContext("gave up reconnecting after 60 s"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    delay_ms = std::min(delay_ms * 2, 4000);
  }
}

int RunRemote(const GlobalOptions& global, const LogFlags& f) {
  if (f.explain) {
    std::fprintf(stderr, "tink log: --explain is not supported with --server\n");
    return static_cast<int>(Exit::kInput);
  }
  auto client = ConnectRemote(global.ServerUrl(), global.StorePath());
  if (!client.ok()) return Fail("log", client.status());
  return f.follow ? RemoteFollow(**client, f) : RemoteOnce(**client, f);
}

int Run(const GlobalOptions& global, const LogFlags& f) {
  if (f.to != 0 && f.to < f.from) {
    return Fail("log", Status::InvalidArgument("--to is before --from"));
  }
  engine::LogQuery q;
  q.from = f.from;
  q.to = f.to == 0 ? UINT64_MAX : f.to;
  q.stream = f.stream;
  q.run = f.run;
  q.type = f.type;
  if (!f.since.empty()) {
    auto t = schema::ParseTime(f.since);
    if (!t.ok()) return Fail("log", t.status().WithContext("--since"));
    q.since_ns = *t;
    q.has_since = true;
  }
  if (!f.until.empty()) {
    auto t = schema::ParseTime(f.until);
    if (!t.ok()) return Fail("log", t.status().WithContext("--until"));
    q.until_ns = *t;
    q.has_until = true;
  }
  if (!global.ServerUrl().empty()) return RunRemote(global, f);
  // Read-only, with or without --follow: a reader never takes the lock a writer needs, and the
  // index scans read from the log whatever the projections' snapshot lacks.
  auto eng = OpenForReading("log", global.StorePath());
  if (!eng.ok()) return Fail("log", eng.status());
  const bool tty = ::isatty(1) == 1;
  Status print_error;
  auto print = [&](const log::LogRecord& r) {
    q.from = r.lsn + 1;
    auto json = schema::EventToJson(r.lsn, r.time_ns, r.payload);
    if (!json.ok()) {
      print_error = json.status().WithContext("LSN " + std::to_string(r.lsn));
      return false;
    }
    PrintEvent(*json, f.json, tty);
    return true;
  };
  while (true) {
    engine::ScanStats stats;
    Status s = (*eng)->Scan(q, print, &stats);
    if (!print_error.ok()) return Fail("log", print_error);
    if (!s.ok()) return Fail("log", s);
    if (f.explain) {
      std::fprintf(stderr,
                   "index: %s, index entries: %llu, records read: %llu, unindexed tail: %llu\n",
                   stats.index.empty() ? "none (log scan)" : stats.index.c_str(),
                   static_cast<unsigned long long>(stats.index_lsns),
                   static_cast<unsigned long long>(stats.records_read),
                   static_cast<unsigned long long>(stats.tail_scanned));
    }
    if (!f.follow) break;
    // Tail: everything up to the current end was printed; continue after it.
    q.from = std::max(q.from, (*eng)->log().LastLsn() + 1);
    if (f.to != 0 && q.from > f.to) break;
    if (std::fflush(stdout) != 0) return Fail("log", Status::IOError("writing to stdout failed"));
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    Status refreshed = (*eng)->log().Refresh();
    if (!refreshed.ok()) return Fail("log", refreshed);
  }
  if (std::fflush(stdout) != 0) return Fail("log", Status::IOError("writing to stdout failed"));
  return 0;
}

}  // namespace

void SetupLog(CLI::App* cmd, GlobalOptions* global, RunFn* run) {
  auto f = std::make_shared<LogFlags>();
  AddStoreOption(cmd, global);
  cmd->add_option("--from", f->from, "First LSN (default 1)")->check(CLI::PositiveNumber);
  cmd->add_option("--to", f->to, "Last LSN (default: the end)");
  cmd->add_option("--stream", f->stream, "Only events of this stream");
  cmd->add_option("--type", f->type, "Only events of this type");
  cmd->add_option("--run", f->run, "Only events of this run");
  cmd->add_option("--since", f->since, "Only events recorded at or after this time (ISO 8601)");
  cmd->add_option("--until", f->until, "Only events recorded at or before this time (ISO 8601)");
  cmd->add_flag("--explain", f->explain,
                "Also print (to stderr) which index answered and how many records were read "
                "(not with --server)");
  cmd->add_flag("--json", f->json, "One JSON object per line, exactly the documented event view");
  cmd->add_flag("--follow,-f", f->follow,
                "Keep running and print events as other processes append them (Ctrl-C ends)");
  *run = [global, f] { return Run(*global, *f); };
}

}  // namespace tink::cli
