// tink append: one event from flags, or JSONL envelopes on stdin (validated in full first, then
// appended as one atomic batch: a bad line means nothing from that input is written).
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <vector>

#include "engine/engine.h"
#include "schema/schema.h"
#include "shell/cli/commands.h"
#include "shell/cli/common.h"

namespace tink::cli {
namespace {

struct AppendFlags {
  std::string stream, type, data, id, run, occurred, sync = "always", expect = "any";
  uint64_t causation = 0;
  bool json = false;
};

Result<std::vector<schema::EventInput>> ReadJsonl(std::istream& in) {
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
  }
  if (in.bad()) return Status::IOError("reading stdin failed");
  return events;
}

int Run(const GlobalOptions& global, const AppendFlags& f) {
  auto durability = log::Durability::Parse(f.sync);
  if (!durability.ok()) return Fail("append", durability.status());
  auto expected = engine::Expected::Parse(f.expect);
  if (!expected.ok()) return Fail("append", expected.status().WithContext("--expect"));

  std::vector<schema::EventInput> events;
  if (!f.stream.empty() || !f.type.empty()) {
    if (f.stream.empty() || f.type.empty()) {
      return Fail("append", Status::InvalidArgument("--stream and --type go together"));
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
      if (!t.ok()) return Fail("append", t.status().WithContext("--occurred"));
      e.occurred_ns = *t;
    }
    events.push_back(std::move(e));
  } else {
    if (!f.data.empty() || !f.id.empty()) {
      return Fail("append", Status::InvalidArgument("--data and --id need --stream and --type"));
    }
    if (::isatty(0)) std::fprintf(stderr, "reading JSONL events from stdin (Ctrl-D to end)\n");
    auto read = ReadJsonl(std::cin);
    if (!read.ok()) return Fail("append", read.status());
    events = std::move(read).value();
    if (events.empty()) return Fail("append", Status::InvalidArgument("no events on stdin"));
  }

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
  if (res->duplicate && !f.json) {
    std::fprintf(stderr,
                 "tink append: already in the store (same id%s); nothing written, original LSN%s "
                 "below\n",
                 events.size() == 1 ? "" : "s", events.size() == 1 ? "" : "s");
  }
  for (log::Lsn lsn : res->lsns) {
    if (f.json) {
      std::printf("{\"lsn\":%llu,\"duplicate\":%s}\n", static_cast<unsigned long long>(lsn),
                  res->duplicate ? "true" : "false");
    } else {
      std::printf("%llu\n", static_cast<unsigned long long>(lsn));
    }
  }
  std::fflush(stdout);
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
  cmd->add_option("--sync", f->sync, "Durability: always (default), interval=<ms>, none");
  cmd->add_flag("--json", f->json, "Print {\"lsn\":N,\"duplicate\":B} lines instead of bare LSNs");
  cmd->footer(
      "Without --stream/--type, reads JSONL envelopes from stdin, e.g.\n"
      "  {\"stream\":\"run/1\",\"type\":\"note\",\"data\":{\"text\":\"hi\"}}\n"
      "The whole input is validated first and appended as one atomic batch; prints one LSN per "
      "event.\nWith --expect, every event of the batch must be in one stream.");
  *run = [global, f] { return Run(*global, *f); };
}

}  // namespace tink::cli
