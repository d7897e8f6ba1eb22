// The verbs over runs.h (docs/shell.md "Query language"):
//
//   diff RUN_A RUN_B   two runs side by side (DiffRuns): rows section, item, mark, a, b, detail;
//                      sections run (header fields), first_divergence, task, llm, tool, file.
//   divergence RUN     the replay.divergence events of RUN (a replay), or, when RUN is replayed
//                      by other runs (their run.started meta.replay_of), of every replay of it;
//                      one row per differing field (a divergence without differences is one row
//                      with path null): lsn, run, position, reason, endpoint, closest_position,
//                      closest_call, closest_lsn, path, recorded, actual. In a table, cells are
//                      cut at 200 characters; json/jsonl/csv print them whole.
// Errors: NotFound for a run without events; InvalidArgument for a run that is neither a replay
// nor replayed.
#include "shell/query/provider_internal.h"
#include "shell/query/runs.h"

namespace tink::query::internal {
namespace {

constexpr size_t kDivergenceCellWidth = 200;

const std::vector<std::string> kDivergenceColumns = {
    "lsn",          "run",         "position", "reason",   "endpoint", "closest_position",
    "closest_call", "closest_lsn", "path",     "recorded", "actual"};

void AddRows(const Divergence& d, std::vector<Row>* rows) {
  Row base = Row::object();
  base["lsn"] = d.lsn;
  base["run"] = d.run;
  base["position"] = d.position;
  base["reason"] = d.reason;
  base["endpoint"] = d.endpoint;
  const bool closest = d.closest.is_object();
  base["closest_position"] =
      closest && d.closest.contains("position") ? d.closest["position"] : Json();
  base["closest_call"] = closest && d.closest.contains("call_id") ? d.closest["call_id"] : Json();
  base["closest_lsn"] = closest && d.closest.contains("lsn") ? d.closest["lsn"] : Json();
  base["path"] = nullptr;
  base["recorded"] = nullptr;
  base["actual"] = nullptr;
  if (d.differences.empty()) {
    rows->push_back(std::move(base));
    return;
  }
  for (const Json& x : d.differences) {
    Row r = base;
    if (x.is_object()) {
      r["path"] = x.contains("path") ? x["path"] : Json();
      r["recorded"] = x.contains("recorded") ? x["recorded"] : Json();
      r["actual"] = x.contains("actual") ? x["actual"] : Json();
    }
    rows->push_back(std::move(r));
  }
}

}  // namespace

Result<VerbResult> RunsDiffVerb(const VerbContext& ctx, const VerbCall& call) {
  if (call.args.size() != 2 || call.run || !call.points.empty()) {
    return Status::InvalidArgument(
        "diff: usage: diff RUN_A RUN_B | diff [PATH] [--run R] [@A [@B]]");
  }
  auto d = DiffRuns(ctx.engine, ctx.reader, call.args[0], call.args[1], ctx.cancel);
  if (!d.ok()) {
    if (d.status().IsNotFound()) return Status::NotFound("diff: " + d.status().message());
    return d.status();
  }
  VerbResult out;
  out.rows = std::make_unique<VectorStream>(RunsDiffColumns(), RunsDiffRows(*d), ctx.cancel);
  return out;
}

Result<VerbResult> DivergenceVerb(const VerbContext& ctx, const VerbCall& call) {
  if (call.args.size() != 1) return Status::InvalidArgument("divergence: usage: divergence RUN");
  const std::string& run = call.args[0];
  ASSIGN_OR_RETURN(bool known, RunHasEvents(ctx.engine, run, ctx.cancel));
  if (!known) return Status::NotFound("divergence: no run '" + run + "'");
  ASSIGN_OR_RETURN(std::vector<Divergence> own, ReadDivergences(ctx.engine, run, ctx.cancel));
  ASSIGN_OR_RETURN(std::string replay_of, ReplayOf(ctx.engine, run, ctx.cancel));
  std::vector<Row> rows;
  if (!own.empty() || !replay_of.empty()) {
    for (const Divergence& d : own) AddRows(d, &rows);
  } else {
    ASSIGN_OR_RETURN(std::vector<std::string> replays, ReplaysOf(ctx.engine, run, ctx.cancel));
    if (replays.empty()) {
      return Status::InvalidArgument("divergence: run '" + run +
                                     "' is not a replay (no run.started meta.replay_of, no "
                                     "replay.divergence events) and no run replays it");
    }
    for (const std::string& r : replays) {
      ASSIGN_OR_RETURN(std::vector<Divergence> ds, ReadDivergences(ctx.engine, r, ctx.cancel));
      for (const Divergence& d : ds) AddRows(d, &rows);
    }
  }
  auto stream = std::make_unique<VectorStream>(kDivergenceColumns, std::move(rows), ctx.cancel);
  stream->set_table_cell_width(kDivergenceCellWidth);
  VerbResult out;
  out.rows = std::move(stream);
  return out;
}

}  // namespace tink::query::internal
