// The read views of `tink tasks`, `tink report` and `tink stats`, written to a FILE*: the
// commands print them for a local store, and `tink serve` (shell/server/) answers
// /v1/tasks, /v1/runs/{run}/report and /v1/stats with them, so a local and a remote command
// print the same bytes.
//
// Thread safety: each call reads through its own engine::Reader; several may run at once on one
// Engine (the Engine's reads are thread-safe). Errors come back as Status (InvalidArgument for a
// bad argument, NotFound for an unknown run or task, Corruption/IOError from the store) and are
// never printed; what was written to `out` before an error is whatever preceded it (the views
// check their arguments and read the projections before writing).
#pragma once

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/engine.h"
#include "schema/status.h"

namespace tink::cli {

// The flags of `tink tasks` (docs/shell.md "tink tasks").
struct TasksRequest {
  std::string run, task, as_of;  // as_of: "" or "now", an LSN, or an ISO 8601 time
  bool history = false, runs = false, anomalies = false, json = false;
  bool tty = false;  // the reader's stdout is a terminal: the text form ends "(as of LSN N)"
};

// Checks r's arguments without a store (InvalidArgument naming the flag): WriteTasks does the
// same first; the commands call it before opening a store or sending a request.
Status CheckTasksRequest(const TasksRequest& r);
// Writes what `tink tasks` prints to out. Errors are returned, not printed.
Status WriteTasks(engine::Engine& eng, const TasksRequest& r, std::FILE* out);

// The flags of `tink report` (docs/shell.md "tink report").
struct ReportRequest {
  std::string run;    // "": the most recent failed run, else the most recent run
  std::string as_of;  // as for TasksRequest
  bool json = false;
  size_t max_failures = 12;  // failed tool calls listed in the text form
};

// Writes what `tink report` prints to out.
Status WriteReport(engine::Engine& eng, const ReportRequest& r, std::FILE* out);
// The same as of the head, with the default number of failures.
Status WriteReport(engine::Engine& eng, const std::string& run, bool json, std::FILE* out);

// What `tink stats --json` prints (one object; keys in this order: store, store_id, events,
// segments, bytes, first_lsn, last_lsn, first_time, last_time, torn_tail, and "recovery" — what
// the open repaired, one line — only when torn_tail is true). `store_path` is printed as given.
nlohmann::ordered_json StatsJson(engine::Engine& eng, const std::string& store_path);
// What `tink stats` prints, rendered from StatsJson's object (other keys, such as a daemon's
// counters, are ignored). Throws nlohmann::json::exception on an object of another shape.
void WriteStatsText(const nlohmann::ordered_json& stats, std::FILE* out);

}  // namespace tink::cli
