// tink append: one event from flags, or JSONL envelopes on stdin (validated in full first, then
// appended as one atomic batch: a bad line means nothing from that input is written), or with
// --line-buffered a stream of them appended in small groups as they arrive (append_stream.h).
// With --server the validated batch (or each group) is POSTed to the daemon's /v1/events
// (docs/http.md) instead.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <vector>

#include "engine/engine.h"
#include "schema/schema.h"
#include "shell/cli/append_stream.h"
#include "shell/cli/commands.h"
#include "shell/cli/common.h"
#include "shell/cli/remote.h"

namespace tink::cli {
namespace {

struct AppendFlags {
  std::string stream, type, data, id, run, occurred, sync = "always", expect = "any";
  uint64_t causation = 0;
  bool json = false;
  bool line_buffered = false;
};

// The envelopes of stdin, each validated; `lines` (if given) receives the JSON text of each.
Result<std::vector<schema::EventInput>> ReadJsonl(std::istream& in,
                                                  std::vector<std::string>* lines = nullptr) {
  std::vector<schema::EventInput> events;
  std::string line;
  for (size_t lineno = 1; std::getline(in, line); ++lineno) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    // Type and data are checked here too, so a bad line fails before anything is appended.
    Result<schema::EventInput> e = ParseEventLine(line);
    if (!e.ok()) return e.status().WithContext("stdin line " + std::to_string(lineno));
    events.push_back(std::move(e).value());
    if (lines != nullptr) lines->push_back(line);
  }
  if (in.bad()) return Status::IOError("reading stdin failed");
  return events;
}

// The events to append, from the flags or from stdin. `lines` (if given) receives the JSON
// envelope of each: the stdin line as it came, or one made from the flags.
Result<std::vector<schema::EventInput>> ReadEvents(const AppendFlags& f,
                                                   std::vector<std::string>* lines) {
  std::vector<schema::EventInput> events;
  if (!f.stream.empty() || !f.type.empty()) {
    if (f.stream.empty() || f.type.empty()) {
      return Status::InvalidArgument("--stream and --type go together");
    }
    schema::EventInput e;
    e.stream = f.stream;
    e.type = f.type;
    e.id = f.id;
    e.run = f.run;
    e.causation = f.causation;
    e.data_json = f.data.empty() ? "{}" : f.data;
    if (!f.occurred.empty()) {
      auto t = schema::ParseTime(f.occurred);
      if (!t.ok()) return t.status().WithContext("--occurred");
      e.occurred_ns = *t;
    }
    if (lines != nullptr) {
      // Checked here as the engine checks it, so a bad --data fails before the request; the
      // data goes into the envelope as it was given (numbers keep their text).
      Result<std::string> enc = schema::EncodeEvent(e);
      if (!enc.ok()) return enc.status();
      using J = nlohmann::json;
      std::string env = "{\"stream\":" + J(e.stream).dump() + ",\"type\":" + J(e.type).dump() +
                        ",\"data\":" + e.data_json;
      if (!e.id.empty()) env += ",\"id\":" + J(e.id).dump();
      if (!e.run.empty()) env += ",\"run\":" + J(e.run).dump();
      if (!f.occurred.empty()) env += ",\"occurred\":" + J(f.occurred).dump();
      if (e.causation != 0) env += ",\"causation\":" + std::to_string(e.causation);
      lines->push_back(env + "}");
    }
    events.push_back(std::move(e));
    return events;
  }
  if (!f.data.empty() || !f.id.empty()) {
    return Status::InvalidArgument("--data and --id need --stream and --type");
  }
  if (::isatty(0)) std::fprintf(stderr, "reading JSONL events from stdin (Ctrl-D to end)\n");
  ASSIGN_OR_RETURN(events, ReadJsonl(std::cin, lines));
  if (events.empty()) return Status::InvalidArgument("no events on stdin");
  return events;
}

void PrintLsns(const std::vector<log::Lsn>& lsns, bool duplicate, bool json) {
  if (duplicate && !json) {
    std::fprintf(stderr,
                 "tink append: already in the store (same id%s); nothing written, original LSN%s "
                 "below\n",
                 lsns.size() == 1 ? "" : "s", lsns.size() == 1 ? "" : "s");
  }
  for (log::Lsn lsn : lsns) {
    if (json) {
      std::printf("{\"lsn\":%llu,\"duplicate\":%s}\n", static_cast<unsigned long long>(lsn),
                  duplicate ? "true" : "false");
    } else {
      std::printf("%llu\n", static_cast<unsigned long long>(lsn));
    }
  }
  std::fflush(stdout);
}

// POST /v1/events: one atomic batch, as local; the daemon's --sync decides durability.
int RunRemote(const GlobalOptions& global, const AppendFlags& f) {
  auto expected = engine::Expected::Parse(f.expect);
  if (!expected.ok()) return Fail("append", expected.status().WithContext("--expect"));
  std::vector<std::string> lines;
  auto events = ReadEvents(f, &lines);
  if (!events.ok()) return Fail("append", events.status());
  auto client = ConnectRemote(global.ServerUrl(), global.StorePath());
  if (!client.ok()) return Fail("append", client.status());
  RemoteRequest req;
  req.method = "POST";
  req.target = "/v1/events";
  if (f.expect != "any") req.target += "?expected_version=" + UrlEncode(f.expect);
  req.content_type = "application/x-ndjson";
  for (const std::string& l : lines) req.body += l + "\n";
  auto resp = (*client)->Send(req);
  if (!resp.ok()) return Fail("append", resp.status());
  if (resp->status < 200 || resp->status >= 300) return FailHttp("append", *resp);
  const auto answer = nlohmann::json::parse(resp->body);
  PrintLsns(answer.at("lsns").get<std::vector<log::Lsn>>(), answer.value("duplicate", false),
            f.json);
  return 0;
}

// Opens the store as its writer, saying what the open repaired (a torn tail) if anything.
Result<std::unique_ptr<engine::Engine>> OpenForAppend(const GlobalOptions& global,
                                                      const log::Durability& durability) {
  engine::EngineOptions opts;
  opts.durability = durability;
  ASSIGN_OR_RETURN(std::unique_ptr<engine::Engine> eng, engine::Engine::Open(global.StorePath(), opts));
  if (eng->recovery().torn_tail) {
    std::fprintf(stderr, "tink append: recovered: %s\n", eng->recovery().ToString().c_str());
  }
  return eng;
}

// Closes the store after acknowledged appends (`wrote`: at least one wrote events).
int CloseAfterAppend(engine::Engine& eng, const log::Durability& durability, bool wrote) {
  Status closed = eng.Close();
  if (closed.ok()) return 0;
  // Under `always` the events were durable when Append returned; otherwise they are durable
  // if the log's final sync succeeded. Then a failure while closing (e.g. flushing the
  // projections, which the next open redoes) does not undo them.
  const bool durable = !wrote || durability.mode == log::Durability::Mode::kAlways ||
                       eng.log().status().ok();
  if (durable) {
    std::fprintf(stderr,
                 "tink append: warning: the events above are durable, but closing the store "
                 "failed: %s\n",
                 closed.ToString().c_str());
    return 0;
  }
  return Fail("append", closed.WithContext("the events above were written but may not be "
                                           "durable (the final sync failed)"));
}

// --line-buffered: each group is acknowledged (its LSNs printed) before more input is read;
// locally the store is opened first and held while the input lasts, with --server each group
// is one POST /v1/events.
int RunLineBuffered(const GlobalOptions& global, const AppendFlags& f, bool sync_given) {
  if (!f.stream.empty() || !f.type.empty() || !f.data.empty() || !f.id.empty() ||
      !f.run.empty() || !f.occurred.empty() || f.causation != 0) {
    return Fail("append", Status::InvalidArgument(
                              "--line-buffered reads JSONL envelopes from stdin; it takes no "
                              "--stream, --type, --data, --id, --run, --occurred or --causation"));
  }
  if (f.expect != "any") {
    return Fail("append", Status::InvalidArgument(
                              "--expect checks one batch; --line-buffered appends many (use "
                              "--expect without --line-buffered)"));
  }
  if (::isatty(0)) {
    std::fprintf(stderr, "appending JSONL events from stdin line by line (Ctrl-D to end)\n");
  }
  bool duplicate = false;  // of the group being acknowledged
  const AckedFn acked = [&](std::span<const log::Lsn> lsns) {
    PrintLsns(std::vector<log::Lsn>(lsns.begin(), lsns.end()), duplicate, f.json);
  };
  if (!global.ServerUrl().empty()) {
    if (sync_given) {
      std::fprintf(stderr,
                   "tink append: --sync cannot be given with --server: durability is the "
                   "daemon's setting (tink serve --sync)\n");
      return static_cast<int>(Exit::kInput);
    }
    auto client = ConnectRemote(global.ServerUrl(), global.StorePath());
    if (!client.ok()) return Fail("append", client.status());
    std::optional<RemoteResponse> refused;  // the daemon's error answer, printed as local
    const AppendGroupFn append =
        [&](std::span<const schema::EventInput> group) -> Result<std::vector<log::Lsn>> {
      std::string body;
      for (const schema::EventInput& e : group) body += EnvelopeJson(e) + "\n";
      ASSIGN_OR_RETURN(PostedEvents posted, PostEvents(**client, std::move(body), &refused));
      duplicate = posted.duplicate;
      return std::move(posted.lsns);
    };
    Status streamed = AppendLineBuffered(0, append, acked);
    if (refused) return FailHttp("append", *refused);
    if (!streamed.ok()) return Fail("append", streamed);
    return 0;
  }
  auto durability = log::Durability::Parse(f.sync);
  if (!durability.ok()) return Fail("append", durability.status());
  auto eng = OpenForAppend(global, *durability);
  if (!eng.ok()) return Fail("append", eng.status());
  bool wrote = false;
  const AppendGroupFn append =
      [&](std::span<const schema::EventInput> group) -> Result<std::vector<log::Lsn>> {
    ASSIGN_OR_RETURN(engine::AppendOutcome out, (*eng)->Append(group));
    duplicate = out.duplicate;
    wrote = wrote || !out.duplicate;
    return std::move(out.lsns);
  };
  Status streamed = AppendLineBuffered(0, append, acked);
  if (!streamed.ok()) {
    const int rc = Fail("append", streamed);
    Status closed = (*eng)->Close();
    if (!closed.ok()) {
      std::fprintf(stderr, "tink append: closing the store failed too: %s\n",
                   closed.ToString().c_str());
    }
    return rc;
  }
  return CloseAfterAppend(**eng, *durability, wrote);
}

int Run(const GlobalOptions& global, const AppendFlags& f, bool sync_given) {
  if (f.line_buffered) return RunLineBuffered(global, f, sync_given);
  if (!global.ServerUrl().empty()) {
    if (sync_given) {
      std::fprintf(stderr,
                   "tink append: --sync cannot be given with --server: durability is the "
                   "daemon's setting (tink serve --sync)\n");
      return static_cast<int>(Exit::kInput);
    }
    return RunRemote(global, f);
  }
  auto durability = log::Durability::Parse(f.sync);
  if (!durability.ok()) return Fail("append", durability.status());
  auto expected = engine::Expected::Parse(f.expect);
  if (!expected.ok()) return Fail("append", expected.status().WithContext("--expect"));
  auto read = ReadEvents(f, nullptr);
  if (!read.ok()) return Fail("append", read.status());
  std::vector<schema::EventInput> events = std::move(read).value();

  auto eng = OpenForAppend(global, *durability);
  if (!eng.ok()) return Fail("append", eng.status());
  engine::AppendOptions ao;
  ao.expected = *expected;
  auto res = (*eng)->Append(events, ao);
  if (!res.ok()) return Fail("append", res.status());
  // The LSNs are printed before the store is closed: the append is acknowledged, and a client
  // that saw only an error would retry and (without --id) write the events twice.
  PrintLsns(res->lsns, res->duplicate, f.json);
  return CloseAfterAppend(**eng, *durability, /*wrote=*/!res->duplicate);
}

}  // namespace

void SetupAppend(CLI::App* cmd, GlobalOptions* global, RunFn* run) {
  auto f = std::make_shared<AppendFlags>();
  AddStoreOption(cmd, global);
  cmd->add_option("--stream", f->stream, "Stream of the event, e.g. run/7/task/3");
  cmd->add_option("--type", f->type, "Event type, e.g. tool.result (see docs/events.md)");
  cmd->add_option("--data", f->data, "The event's data as a JSON object (default {})");
  cmd->add_option("--id", f->id,
                  "Idempotency key (default: generated). An id already in the store is not "
                  "written again: its original LSN is printed");
  cmd->add_option("--expect", f->expect,
                  "Expected version of the stream: any (default), no_stream, exists, or N (the "
                  "version of its last event; versions start at 0). A mismatch writes nothing "
                  "and exits 2 naming the actual version");
  cmd->add_option("--run", f->run, "Run id");
  cmd->add_option("--occurred", f->occurred, "When it happened at the source (ISO 8601)");
  cmd->add_option("--causation", f->causation, "LSN of the event that caused this one");
  CLI::Option* sync = cmd->add_option(
      "--sync", f->sync, "Durability: always (default), interval=<ms>, none (not with --server)");
  cmd->add_flag("--json", f->json, "Print {\"lsn\":N,\"duplicate\":B} lines instead of bare LSNs");
  cmd->add_flag("--line-buffered", f->line_buffered,
                "Stream mode: append stdin's JSONL as the lines arrive (agent | tink append "
                "--line-buffered), in small groups, printing each group's LSNs as it is "
                "acknowledged. Stops at the first bad line (exit 2; what came before stays)");
  cmd->footer(
      "Without --stream/--type, reads JSONL envelopes from stdin, e.g.\n"
      "  {\"stream\":\"run/1\",\"type\":\"note\",\"data\":{\"text\":\"hi\"}}\n"
      "The whole input is validated first and appended as one atomic batch; prints one LSN per "
      "event.\nWith --expect, every event of the batch must be in one stream.\nWith --server "
      "(or $TINKERBELL_SERVER) the batch goes to the daemon, whose --sync decides durability.\n"
      "With --line-buffered (streaming from a pipe), the lines already waiting when the previous "
      "append finishes go in together (at most 1,000 lines or 1 MiB), each group atomic and "
      "durable before the next is read; locally the store stays locked until stdin ends, so "
      "prefer --server when a daemon runs.");
  *run = [global, f, sync] { return Run(*global, *f, sync->count() > 0); };
}

}  // namespace tink::cli
