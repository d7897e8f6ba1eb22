// `tink append --line-buffered`: JSONL envelopes from a stream (an agent's stdout through a pipe)
// appended and acknowledged in small groups as the lines arrive, so a long-running producer's
// output is durable as it goes instead of when its input ends.
//
// Grouping: the reader blocks until one complete line is there, then takes every line the input
// already holds without waiting for more (poll with a zero timeout: the descriptor's flags are
// left alone, since a shell may share them), up to LineGroupLimits. The group is appended
// through the callback, and its LSNs are handed to `acked` before anything more is read. A
// producer writing one line at a time gets one line per group; a burst goes in together.
//
// The appending is a callback so that the same reading and grouping serve the local engine and a
// remote server.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "log/log.h"
#include "schema/schema.h"
#include "schema/status.h"

namespace tink::cli {

// One JSONL envelope, checked as an append would check it (type and data too, by encoding it),
// so that a bad line is found before anything of its group is written.
Result<schema::EventInput> ParseEventLine(std::string_view line);

struct LineGroupLimits {
  size_t max_lines = 1000;       // events of one group
  size_t max_bytes = 1 << 20;    // JSON bytes of one group (a longer single line is its own group)
};

// Appends one group (already validated: each event parsed and encoded) as one atomic batch and
// returns its LSNs in order.
using AppendGroupFn =
    std::function<Result<std::vector<log::Lsn>>(std::span<const schema::EventInput>)>;
// Receives each acknowledged group's LSNs, before more input is read: print and flush them here.
using AckedFn = std::function<void(std::span<const log::Lsn>)>;

struct LineStreamStats {
  uint64_t lines = 0;   // input lines consumed (blank ones included)
  uint64_t events = 0;  // events acknowledged
  uint64_t groups = 0;  // appends made
};

// Reads `fd` to its end. Blank lines are skipped; a final line without a newline counts.
// Returns Ok at the end of the input. At the first bad line (malformed JSON, unknown type or
// field): the valid lines before it are appended and acknowledged first, then InvalidArgument
// "stdin line N: ..." naming the field; nothing from that line on is written. An append's error
// comes back with the group's line range as context; groups acknowledged before it stay. IOError
// if reading fails. `stats` (optional) is filled in either way.
Status AppendLineBuffered(int fd, const AppendGroupFn& append, const AckedFn& acked,
                          LineGroupLimits limits = {}, LineStreamStats* stats = nullptr);

// The JSON envelope of a validated event (docs/events.md), one line of a group POSTed to a
// daemon's /v1/events (tink append --server, tink exec --server).
std::string EnvelopeJson(const schema::EventInput& e);

}  // namespace tink::cli
