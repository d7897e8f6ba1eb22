// The web view's run timeline and runs list (docs/http.md "The web view"), computed on the
// daemon so a page never receives the whole log: the Gantt window of a run's task tree as of
// an LSN (tasks in depth-first order, their state spans and their LLM/tool/file events as
// marks) and the runs with their LLM token totals.
//
// A run is read in two halves. DigestRun scans the run's events once (run index) into what does
// not depend on the as-of point: every event's (LSN, world time) and each task's marks. The
// daemon keeps a few digests per log head, so moving the scrubber or scrolling the task rows
// only reads the scheduler projection (RenderGantt: the tree as of the point, the state history
// of the rows in the window).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/engine.h"
#include "projections/reader.h"
#include "shell/query/query.h"

namespace tink::query {

struct GanttMark {
  uint64_t lsn = 0;
  int64_t ms = 0;       // world time (the source's occurred, else record time), epoch ms
  std::string type;     // llm.request, tool.result, file.write, ...
  std::string label;    // one line: what the event did
  bool failed = false;  // a failed tool.result, an llm.error
};

struct RunDigest {
  std::string run;
  uint64_t first_lsn = 0, last_lsn = 0;              // the run's own events
  std::vector<std::pair<uint64_t, int64_t>> points;  // every event's (LSN, world ms), LSN order
  // The (LSN, world ms) of the task.* and marked events: the run's time extent is theirs (a note
  // without `occurred` recorded at import time would stretch it by months).
  std::vector<std::pair<uint64_t, int64_t>> timed;
  std::unordered_map<std::string, std::vector<GanttMark>> marks;  // by task id, LSN order
};

// NotFound when the run has no event.
Result<std::shared_ptr<const RunDigest>> DigestRun(engine::Engine* engine, const std::string& run,
                                                   const Cancel* cancel);

struct GanttWindow {
  std::optional<uint64_t> as_of;  // none: the scheduler's head
  size_t offset = 0;
  size_t limit = 200;           // task rows
  size_t marks_per_task = 200;  // beyond: evenly sampled, failed ones always kept
};

// The JSON of GET /v1/runs/{run}/timeline.
Result<Json> RenderGantt(projections::StateReader& reader, const RunDigest& digest,
                         const GanttWindow& window);

// LLM calls and tokens per run, kept up to date by scanning llm.response events after `scanned`
// (type index): the first call reads them all, later ones only what is new.
struct LlmTotals {
  struct Run {
    uint64_t calls = 0, input_tokens = 0, output_tokens = 0;
  };
  uint64_t scanned = 0;
  std::unordered_map<std::string, Run> runs;
};
Status UpdateLlmTotals(engine::Engine* engine, LlmTotals* totals, const Cancel* cancel);
// One run's totals from its own events (run index), for when the totals above are not ready.
Result<LlmTotals::Run> RunLlmTotals(engine::Engine* engine, const std::string& run,
                                    const Cancel* cancel);

// The JSON of GET /v1/runs: {"last_lsn", "runs": [the `runs` source's row + llm_calls,
// input_tokens, output_tokens]}; with `only`, that run alone (NotFound if the scheduler does not
// know it), its totals from `totals` when given, else read from its events. Without `only` and
// without `totals` (being read): the totals are null and "totals_pending" is true.
Result<Json> RunsOverview(engine::Engine* engine, projections::StateReader& reader,
                          const LlmTotals* totals, const std::string* only);

}  // namespace tink::query
