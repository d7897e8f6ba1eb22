// tink append: one event from flags, or JSONL envelopes on stdin (validated in full first, then
// appended as one atomic batch: a bad line means nothing from that input is written). With
// --server the validated batch is POSTed to the daemon's /v1/events (docs/http.md) instead.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <vector>

#include "engine/engine.h"
#include "schema/schema.h"
#include "shell/cli/commands.h"
#include "shell/cli/common.h"
#include "shell/cli/remote.h"

namespace tink::cli {
namespace {

struct AppendFlags {
  std::string stream, type, data, id, run, occurred, sync = "always", expect = "any";
  uint64_t causation = 0;
  bool json = false;
};

// The envelopes of stdin, each validated; `lines` (if given) receives the JSON text of each.
Result<std::vector<schema::EventInput>> ReadJsonl(std::istream& in,
                                                  std::vector<std::string>* lines = nullptr) {
  std::vector<schema::EventInput> events;
  std::string line;
  for (size_t lineno = 1; std::getline(in, line); ++lineno) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    Result<schema::EventInput> e = schema::ParseEnvelopeJson(line);
    if (e.ok()) {
      // Type and data are checked here too, so a bad line fails before anything is appended.
      Result<std::string> enc = schema::EncodeEvent(*e);
      if (!enc.ok()) e = enc.status();
    }
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

int Run(const GlobalOptions& global, const AppendFlags& f, bool sync_given) {
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

  engine::EngineOptions opts;
  opts.durability = *durability;
  auto eng = engine::Engine::Open(global.StorePath(), opts);
  if (!eng.ok()) return Fail("append", eng.status());
  if ((*eng)->recovery().torn_tail) {
    std::fprintf(stderr, "tink append: recovered: %s\n", (*eng)->recovery().ToString().c_str());
  }
  engine::AppendOptions ao;
  ao.expected = *expected;
  auto res = (*eng)->Append(events, ao);
  if (!res.ok()) return Fail("append", res.status());
  // The LSNs are printed before the store is closed: the append is acknowledged, and a client
  // that saw only an error would retry and (without --id) write the events twice.
  PrintLsns(res->lsns, res->duplicate, f.json);
  Status closed = (*eng)->Close();
  if (!closed.ok()) {
    // Under `always` the events were durable when Append returned; otherwise they are durable
    // if the log's final sync succeeded. Then a failure while closing (e.g. flushing the
    // projections, which the next open redoes) does not undo them.
    const bool durable = res->duplicate || durability->mode == log::Durability::Mode::kAlways ||
                         (*eng)->log().status().ok();
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
  return 0;
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
  cmd->footer(
      "Without --stream/--type, reads JSONL envelopes from stdin, e.g.\n"
      "  {\"stream\":\"run/1\",\"type\":\"note\",\"data\":{\"text\":\"hi\"}}\n"
      "The whole input is validated first and appended as one atomic batch; prints one LSN per "
      "event.\nWith --expect, every event of the batch must be in one stream.\nWith --server "
      "(or $TINKERBELL_SERVER) the batch goes to the daemon, whose --sync decides durability.");
  *run = [global, f, sync] { return Run(*global, *f, sync->count() > 0); };
}

}  // namespace tink::cli
