// Importers: real agent recordings (OpenHands, SWE-agent, OpenTelemetry GenAI spans, our own
// JSONL) mapped onto the event catalog (docs/events.md, docs/import.md).
//
// An importer reads one file and returns its runs as lists of schema::EventInput, in order, never
// touching a store: `tink import` appends each file's events as one atomic batch, so a file is
// either wholly imported or not at all. Every event gets a deterministic id derived from the
// source (run id + the source's own record id), so importing the same file again is a no-op
// (Engine::Append returns `duplicate`).
//
// Mapping (the same for every format; details per format in docs/import.md):
//   run.started / run.finished               stream "run/<run>"
//   task "agent" (root: the agent loop)      stream "run/<run>/task/agent"
//   one child task per tool invocation       stream "run/<run>/task/<task>", parent "agent":
//       task.created, task.ready, task.started, tool.call, tool.result, file.*, and
//       task.succeeded, or task.failed when the tool failed (exit code != 0, an error
//       observation, a rejected edit)
//   llm.request / llm.response               on the task that made the call
//   file.write (base: true)                  the --base DIR files, first, on task "agent"
//   file.write / file.patch / file.delete / file.rename   only for edits the recording shows took
//       effect; shell commands that change files (sed -i, cat > f) are not interpreted
//   note {kind: "final_patch"}               the patch the recording itself reports
//   memory.node / memory.edge                stream "run/<run>/memory" (AddMemory): the run,
//       its tasks, the files the agent changed, the tools it used, and how they relate
// Source times go to `occurred`.
//
// Errors: InvalidArgument naming the file, the record (line or index) and the field, for input
// that is not the format; nothing is returned then. Thread safety: none needed (pure functions).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "schema/schema.h"
#include "schema/status.h"

namespace tink::engine::import {

struct Options {
  std::string format;    // "openhands" | "swe-agent" | "otlp" | "jsonl"
  std::string run;       // run id to use; only for a file holding one run
  std::string base_dir;  // repository files before the run; only for a file holding one run
  std::string select;    // import only the run whose source id is this (multi-run files)
  std::string root;      // the repository root inside the recording, overriding the guess
};

struct ImportedRun {
  std::string run;                  // our run id
  std::string source_id;            // the run's id in the source (instance id, file stem, trace id)
  std::vector<schema::EventInput> events;
  std::optional<std::string> final_patch;  // the recording's own final patch, verbatim
  std::vector<std::string> warnings;       // things seen but not imported (e.g. "sed -i" edits)
};

// The formats, for --help and error messages.
const std::vector<std::string>& Formats();

// Reads `path` as `opt.format`. Multi-run files give one ImportedRun per run (`opt.select`
// picks one). `opt.run` / `opt.base_dir` with more than one selected run is InvalidArgument.
Result<std::vector<ImportedRun>> ImportFile(const std::string& path, const Options& opt);

// --- for the format readers (engine/import/*.cc) ---

// Builds one run's events with the mapping above. Ids are "<run>/<key>"; keys must be unique
// within the run and stable for the same input.
class RunBuilder {
 public:
  RunBuilder(std::string run, std::string source_id);

  const std::string& run() const { return run_; }

  // Appends one event; `task` empty puts it on the run stream. data is the "data" JSON object
  // text. occurred_ns 0 = unknown.
  void Add(std::string_view key, std::string_view type, std::string_view task,
           std::string data_json, int64_t occurred_ns);

  // The --base files, as file.write with base: true on task "agent", in path order; also seeds
  // the file view. If dir holds a BASE.txt manifest (lines "<mode> <size> <git blob> <path>", as
  // in tests/data/agent-runs/base/*), exactly the files it lists, each checked against its size
  // and git blob id (InvalidArgument on a mismatch); otherwise every regular file under dir
  // (recursively, skipping .git).
  Status LoadBase(const std::string& dir, int64_t occurred_ns);

  // The builder's view of the run's files (base + accepted edits so far), for importers that
  // must turn an edit command (str_replace, insert, line-range edit) into new content.
  const std::string* File(std::string_view path) const;

  // File events that also update the view. Edit emits a file.patch (a git-style unified diff
  // from the current view content) when the file is known, else a file.write of new_content.
  void WriteFile(std::string_view key, std::string_view task, std::string_view path,
                 std::string content, int64_t occurred_ns);
  Status EditFile(std::string_view key, std::string_view task, std::string_view path,
                  std::string new_content, int64_t occurred_ns);
  // A patch the recording gives for a file the view does not know (emitted as is; the canvas
  // reports it as an anomaly if it does not apply).
  void PatchFile(std::string_view key, std::string_view task, std::string_view path,
                 std::string diff, int64_t occurred_ns);
  void DeleteFile(std::string_view key, std::string_view task, std::string_view path,
                  int64_t occurred_ns);
  void RenameFile(std::string_view key, std::string_view task, std::string_view path,
                  std::string_view to, int64_t occurred_ns);

  // The run, with its memory events added (AddMemory).
  ImportedRun Finish();
  ImportedRun& out() { return out_; }

 private:
  std::string run_;
  ImportedRun out_;
  std::map<std::string, std::string, std::less<>> files_;
};

// Inserts the memory graph of run `run` into its events (docs/import.md "Memory"): right after
// the event that first names an entity or a relation, one memory.node or memory.edge on stream
// "run/<run>/memory", with the id "<run>/memory/node/<node id>" or "<run>/memory/edge/<edge id>".
//   nodes  run:<run> [Run] {run, name, agent, model}    task:<run>/<task> [Task] {run, task, name}
//          file:<run>/<path> [File] {run, path}          tool:<name> [Tool] {name}
//   edges  run -HAS_TASK-> task      task -SUBTASK_OF-> parent task
//          task -USES-> tool         task -FAILED_ON-> tool {error}   (a tool.result with ok false)
//          task -MODIFIES-> file {kind: write|patch|delete|rename}  (not the base files)
//          file -RENAMED_TO-> file {task}
// Edge ids are "src|rel|dst"; valid_from is the introducing event's source time, if any. The
// other events keep their order. RunBuilder::Finish calls it; the jsonl reader does not (a JSONL
// file is our own log: it has the memory events it had).
void AddMemory(const std::string& run, std::vector<schema::EventInput>& events);

// Helpers shared by the readers.
// Reads a whole file; IOError naming it.
Result<std::string> ReadWholeFile(const std::string& path);
// "a/b/c.traj" -> "c" (the stem before the first '.').
std::string FileStem(const std::string& path);
// An absolute path inside the recording made relative to `root` ("/testbed/src/x.py" with root
// "/testbed" -> "src/x.py"); a path outside root is returned unchanged (the canvas flags it).
std::string RelativeTo(std::string_view path, std::string_view root);
// ISO 8601 with or without zone (no zone = UTC) -> ns; 0 if it does not parse.
int64_t ParseSourceTime(std::string_view iso);

// The readers, one per format.
Result<std::vector<ImportedRun>> ImportOpenHands(const std::string& path, const Options& opt);
Result<std::vector<ImportedRun>> ImportSweAgent(const std::string& path, const Options& opt);
Result<std::vector<ImportedRun>> ImportOtlp(const std::string& path, const Options& opt);
Result<std::vector<ImportedRun>> ImportJsonl(const std::string& path, const Options& opt);

}  // namespace tink::engine::import
