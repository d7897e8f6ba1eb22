// Comparing runs and reading the divergences of a replay (docs/replay.md "Comparing runs and
// reading divergences"): what `tink runs diff`, `tink report` and the shell verbs `diff A B` and
// `divergence RUN` share.
//
// DiffRuns reads two runs (the scheduler and canvas projections through one StateReader, the
// log through Engine::Scan with the run index) and aligns them:
//   - tasks by id, then the ones left by name (in creation order);
//   - llm calls (llm.request, LSN order) by their canonical request {model, messages, params};
//   - tool calls (tool.call, LSN order) by {tool, args};
// each sequence by a longest common subsequence over those keys: the items outside it are paired
// in order between two common items ("changed"), and what is left is only in A or only in B.
// Sequences whose unequal middles (after the common prefix and suffix) exceed kMaxAlignCells
// are aligned by position instead (RunsDiff::positional says so).
//   - the files each run changed (the canvas, from its base to the head), by path and final
//     content hash.
// The first divergence is the earliest non-equal llm or tool entry, by the call's index among
// all the calls (llm and tool) of its run; for llm requests it names the JSON pointers of the
// canonical request that differ (JsonDifferences).
//
// Errors: NotFound for a run with no events and unknown to the scheduler (one line, naming it);
// Corruption/IOError from the store; Cancelled when `cancel` is set. Thread safety: the functions
// read through the engine and the reader they are given and keep no state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "projections/reader.h"
#include "projections/scheduler.h"
#include "shell/query/query.h"

namespace tink::query {

// Cells of the LCS table an alignment may use (4 bytes each).
inline constexpr uint64_t kMaxAlignCells = 4'000'000;
// Differences listed per pair of requests (and per replay divergence).
inline constexpr size_t kMaxDifferences = 20;

// The fields of an LLM request body that say who asks or how the answer is delivered, not what
// is asked. A replay ignores them when it matches a request with the recording
// (shell/server/replay.h), and `runs diff` when it compares two runs' requests (docs/replay.md,
// "Matching"): one rule for both.
inline constexpr const char* kIgnoredRequestFields[] = {
    "user", "metadata", "store", "stream_options", "service_tier", "prompt_cache_key",
    "safety_identifier", "parallel_tool_calls_hint"};

// One place where two JSON values differ: a JSON pointer (RFC 6901, "" for the whole value) and
// the value on each side (null when the side has no such member or element).
struct JsonDifference {
  std::string path;
  Json a, b;
};
// The places where a and b differ, depth first, objects by key (order-insensitive), arrays by
// index; at most `max` (0: none returned). Below depth 64 a subtree that differs is one entry.
std::vector<JsonDifference> JsonDifferences(const Json& a, const Json& b, size_t max);

enum class Mark { kEqual, kChanged, kOnlyA, kOnlyB };
const char* MarkName(Mark m);    // "equal", "changed", "only_a", "only_b"
const char* MarkSymbol(Mark m);  // "=", "~", "A", "B"

// One step of an alignment: an index into A and/or B (-1: none).
struct AlignStep {
  Mark mark = Mark::kEqual;
  int64_t a = -1, b = -1;
};
// Aligns two sequences of keys (see the file comment); *positional is set when the sequences
// were too long for the table and were paired by position.
std::vector<AlignStep> AlignKeys(const std::vector<std::string>& a,
                                 const std::vector<std::string>& b, bool* positional);

// A call of a run: an llm.request or a tool.call.
struct RunCall {
  uint64_t lsn = 0;
  size_t order = 0;  // its index among all the calls (llm and tool) of the run
  std::string task, call_id, summary;
  Json key;  // llm: {model, messages, params}; tool: {tool, args} (members that are present)
  std::string key_text;  // key, keys sorted, compact
};

struct RunFile {
  std::string path;
  bool deleted = false;
  std::string hash;  // final content (empty when deleted)
};

struct RunSide {
  std::string id;
  projections::RunInfo info;  // empty when the scheduler does not know the run
  uint64_t events = 0;
  int64_t first_ns = 0,
          last_ns = 0;    // world times (occurred) if any event has one, else record times
  std::string replay_of;  // run.started data.meta.replay_of
  std::vector<projections::Task> tasks;
  std::vector<RunCall> llm, tools;
  std::vector<RunFile> files;  // changed from the canvas base, in path order
};

struct TaskPair {
  Mark mark = Mark::kEqual;
  int depth = 0;
  std::optional<projections::Task> a, b;
  std::string matched_by;  // "id" | "name" | ""
};

struct CallPair {
  AlignStep step;
  std::vector<JsonDifference> differences;  // changed pairs only
};

struct FilePair {
  Mark mark = Mark::kEqual;
  std::string path;
  std::optional<RunFile> a, b;
};

struct FirstDivergence {
  std::string kind;  // "llm" | "tool"
  CallPair pair;
};

struct RunsDiff {
  RunSide a, b;
  std::vector<TaskPair> tasks;
  std::vector<CallPair> llm, tools;
  bool positional = false;
  std::vector<FilePair> files;
  std::optional<FirstDivergence> first;
};

// One run as DiffRuns reads it (NotFound as above).
Result<RunSide> ReadRunSide(engine::Engine* engine, projections::StateReader* reader,
                            const std::string& run, const Cancel* cancel);

Result<RunsDiff> DiffRuns(engine::Engine* engine, projections::StateReader* reader,
                          const std::string& a, const std::string& b, const Cancel* cancel);

// The whole comparison as one object (`tink runs diff --json`; docs/replay.md lists the keys).
Json RunsDiffJson(const RunsDiff& d);
// The side-by-side text of `tink runs diff`.
std::string RunsDiffText(const RunsDiff& d);
// The rows of the shell verb `diff A B`: section, item, mark, a, b, detail.
std::vector<Row> RunsDiffRows(const RunsDiff& d);
std::vector<std::string> RunsDiffColumns();

// A replay.divergence event (docs/replay.md).
struct Divergence {
  uint64_t lsn = 0;
  std::string run, original, endpoint, reason, time;
  int64_t position = -1;
  Json request, closest, differences;  // as recorded (closest: null or an object)
};

// The run's replay.divergence events up to LSN `to`, in LSN order.
Result<std::vector<Divergence>> ReadDivergences(engine::Engine* engine, const std::string& run,
                                                const Cancel* cancel, uint64_t to = UINT64_MAX);
// data.meta.replay_of of the run's run.started ("" when none).
Result<std::string> ReplayOf(engine::Engine* engine, const std::string& run, const Cancel* cancel);
// The runs whose run.started says they replay `original`, in LSN order.
Result<std::vector<std::string>> ReplaysOf(engine::Engine* engine, const std::string& original,
                                           const Cancel* cancel);
// Whether the log has any event of `run` (the run index).
Result<bool> RunHasEvents(engine::Engine* engine, const std::string& run, const Cancel* cancel);

// Counts of a run's events (`tink runs list`), from the log through the run index, decoding
// only each event's type.
struct RunCounts {
  uint64_t events = 0, llm_calls = 0, tool_calls = 0, divergences = 0;
  int64_t first_ns = 0;  // the first event's record time
};
Result<RunCounts> CountRunEvents(engine::Engine* engine, const std::string& run,
                                 const Cancel* cancel);

// A divergence as one object, the differences in full.
Json DivergenceJson(const Divergence& d);

}  // namespace tink::query
