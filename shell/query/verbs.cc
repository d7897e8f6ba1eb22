// The domain verbs of the query language (DESIGN.md §7), over the engine and one StateReader
// snapshot: timeline, history, diff, blame, neighbors, path (why is in why.cc).
//
//   timeline RUN|TASK   the run's events (run index), or the task's (the run's events whose
//                       data.task or stream names the task), in LSN order, streamed;
//                       rows: lsn, time, type, task, summary.
//   history ENTITY      every version, oldest first. ENTITY is tried as: a file path when --run
//                       is given; a memory node id; a memory edge id; a task "run/task"; a file
//                       "run:path"; a path that exists in exactly one run's canvas.
//   diff PATH? @A @B    `git diff` of a run's canvas between two points (no point: the run's base
//                       to now; one point: it to now), limited to PATH when given; text.
//                       Two words and no point or --run: two runs side by side (runs_verbs.cc).
//   blame PATH          per line of the file as of the point: the event that last wrote it;
//                       rows: line, lsn, task, type, path, text.
//   neighbors NODE      nodes within `depth` hops (default 1), both directions;
//                       rows: id, labels, depth, via_rel, via_edge, via_node, props.
//   path A B            a shortest path (both directions, at most `depth` hops, default 6);
//                       rows per hop: hop, from, rel, to, edge, dir ("out": from is the edge's
//                       src). No path is NotFound.
// Canvas verbs without --run use the only run with files, or the only run holding PATH; else
// InvalidArgument listing the runs.
#include <algorithm>

#include "schema/schema.h"
#include "shell/query/provider_internal.h"

namespace tink::query::internal {
namespace {

using projections::CanvasReader;
using projections::GraphAt;
using projections::MemoryReader;
using projections::SchedulerReader;

Result<std::unique_ptr<RowStream>> Stream(std::vector<std::string> columns, std::vector<Row> rows,
                                          const Cancel* cancel) {
  return std::unique_ptr<RowStream>(
      std::make_unique<VectorStream>(std::move(columns), std::move(rows), cancel));
}

Result<VerbResult> RowsResult(std::vector<std::string> columns, std::vector<Row> rows,
                              const Cancel* cancel) {
  VerbResult r;
  ASSIGN_OR_RETURN(r.rows, Stream(std::move(columns), std::move(rows), cancel));
  return r;
}

template <class T, class F>
std::vector<Row> MapRows(const std::vector<T>& v, F f) {
  std::vector<Row> rows;
  rows.reserve(v.size());
  for (const T& x : v) rows.push_back(f(x));
  return rows;
}

Status Args(const VerbCall& call, size_t min, size_t max, std::string_view usage) {
  if (call.args.size() < min || call.args.size() > max) {
    return Status::InvalidArgument(call.verb + ": usage: " + std::string(usage));
  }
  return Status::Ok();
}

std::string Join(const std::vector<std::string>& v, size_t max = 10) {
  std::string out;
  for (size_t i = 0; i < v.size() && i < max; ++i) out += (i ? ", " : "") + v[i];
  if (v.size() > max) out += ", … (" + std::to_string(v.size()) + " in all)";
  return out;
}

std::string AsOfText(const std::optional<Point>& p) { return p ? " as of " + PointText(*p) : ""; }

// "@42", "@now", "@2026-11-24T06:33:20Z" or "@'...'" as a Point.
Result<Point> ParseAt(std::string_view text) {
  std::string_view t = text;
  if (!t.empty() && t.front() == '@') t.remove_prefix(1);
  if (t.size() >= 2 && (t.front() == '\'' || t.front() == '"') && t.back() == t.front()) {
    t = t.substr(1, t.size() - 2);
  }
  Point p;
  if (t == "now") return p;
  if (!t.empty() && std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    p.kind = Point::Kind::kLsn;
    p.lsn = std::stoull(std::string(t));
    return p;
  }
  Result<int64_t> ns = schema::ParseTime(t);
  if (!ns.ok()) {
    return Status::InvalidArgument("'" + std::string(text) +
                                   "' is not a point (@LSN, @'ISO-8601 time' or @now)");
  }
  p.kind = Point::Kind::kTime;
  p.time_ns = *ns;
  return p;
}

// The run a canvas verb works on (see the file comment).
Result<std::string> CanvasRun(CanvasReader& c, const VerbCall& call, std::string_view path) {
  ASSIGN_OR_RETURN(std::vector<std::string> runs, c.Runs(c.head()));
  if (call.run) {
    if (std::find(runs.begin(), runs.end(), *call.run) == runs.end()) {
      return Status::NotFound(call.verb + ": run '" + *call.run + "' has no files" +
                              (runs.empty() ? "" : " (runs with files: " + Join(runs) + ")"));
    }
    return *call.run;
  }
  if (runs.empty()) return Status::NotFound(call.verb + ": no run has files");
  if (runs.size() == 1) return runs.front();
  if (!path.empty()) {
    std::vector<std::string> holding;
    for (const std::string& r : runs) {
      ASSIGN_OR_RETURN(std::vector<projections::FileVersion> h,
                       c.FileHistory(r, path, 0, c.head()));
      if (!h.empty()) holding.push_back(r);
    }
    if (holding.size() == 1) return holding.front();
    if (holding.empty()) {
      return Status::NotFound(call.verb + ": no run has a file '" + std::string(path) + "'");
    }
    runs = std::move(holding);
  }
  return Status::InvalidArgument(
      call.verb + ": several runs have " +
      (path.empty() ? std::string("files") : "'" + std::string(path) + "'") +
      "; name one with --run (" + Join(runs) + ")");
}

// ---- timeline ----

Result<VerbResult> Timeline(const VerbContext& ctx, const VerbCall& call) {
  RETURN_IF_ERROR(Args(call, 1, 1, "timeline RUN | RUN/TASK"));
  const std::string& id = call.args[0];
  SchedulerReader s(*ctx.reader);
  engine::LogQuery q;
  std::string task;
  ASSIGN_OR_RETURN(std::optional<projections::RunInfo> run, s.GetRun(id, s.head()));
  if (run) {
    q.run = id;
  } else {
    ASSIGN_OR_RETURN(std::optional<projections::Task> t, FindTask(s, id, s.head()));
    if (!t) {
      // A run the scheduler does not know (no run.* or task.* events) still has events.
      bool any = false;
      engine::LogQuery probe;
      probe.run = id;
      RETURN_IF_ERROR(ScanRows(ctx.engine, probe, ctx.cancel, [&](const Row&) {
        any = true;
        return false;
      }));
      if (!any) return Status::NotFound("timeline: no run or task '" + id + "'");
      q.run = id;
    } else {
      q.run = t->run;
      task = t->id;
    }
  }
  if (call.as_of && call.as_of->kind == Point::Kind::kLsn) q.to = call.as_of->lsn;
  if (call.as_of && call.as_of->kind == Point::Kind::kTime) {
    q.has_until = true;
    q.until_ns = call.as_of->time_ns;
  }
  auto map = [task](Row* e) -> Result<bool> {
    std::string t = EventTask(*e);
    if (!task.empty() && t != task) return false;
    Row r = Row::object();
    r["lsn"] = (*e)["lsn"];
    r["time"] = (*e)["time"];
    r["type"] = (*e)["type"];
    r["task"] = t;
    r["summary"] = Summary(*e);
    *e = std::move(r);
    return true;
  };
  VerbResult out;
  out.rows = NewEventsStream(ctx.engine, q, ctx.event_chunk, nullptr, ctx.cancel, map,
                             {"lsn", "time", "type", "task", "summary"});
  return out;
}

// ---- history ----

Row VersionRow(const projections::MemNode& n) {
  Row j = Row::object();
  j["lsn"] = n.by.lsn;
  j["time"] = TimeOrNull(n.by.time_ns);
  j["id"] = n.id;
  j["labels"] = n.labels;
  j["props"] = ParseProps(n.props);
  j["retracted"] = n.retracted;
  j["reason"] = n.reason;
  j["run"] = n.by.run;
  j["task"] = n.by.task;
  return j;
}

Row VersionRow(const projections::MemEdge& e) {
  Row j = EdgeRow(e);
  Row r = Row::object();
  r["lsn"] = j["lsn"];
  r["time"] = j["time"];
  for (const char* k : {"id", "src", "rel", "dst", "props", "valid_from", "valid_to"}) r[k] = j[k];
  r["retracted"] = e.retracted;
  r["reason"] = e.reason;
  r["run"] = e.by.run;
  r["task"] = e.by.task;
  return r;
}

Row VersionRow(const projections::FileVersion& f) {
  Row j = Row::object();
  j["lsn"] = f.lsn;
  j["time"] = TimeOrNull(f.time_ns);
  j["type"] = f.type;
  j["task"] = f.task;
  j["path"] = f.path;
  j["size"] = f.size;
  j["hash"] = f.hash;
  j["deleted"] = f.deleted;
  j["base"] = f.base;
  j["renamed_from"] = f.renamed_from;
  return j;
}

const std::vector<std::string> kNodeHistory = {"lsn",       "time",   "id",  "labels", "props",
                                               "retracted", "reason", "run", "task"};
const std::vector<std::string> kEdgeHistory = {
    "lsn",        "time",     "id",        "src",    "rel", "dst", "props",
    "valid_from", "valid_to", "retracted", "reason", "run", "task"};
const std::vector<std::string> kFileHistory = {"lsn",  "time", "type",    "task", "path",
                                               "size", "hash", "deleted", "base", "renamed_from"};

Result<VerbResult> FileHistory(CanvasReader& c, const std::string& run, const std::string& path,
                               const Cancel* cancel) {
  ASSIGN_OR_RETURN(std::vector<projections::FileVersion> h, c.FileHistory(run, path, 0, c.head()));
  if (h.empty()) return Status::NotFound("history: no file '" + path + "' in run " + run);
  return RowsResult(kFileHistory, MapRows(h, [](const auto& f) { return VersionRow(f); }), cancel);
}

Result<VerbResult> History(const VerbContext& ctx, const VerbCall& call) {
  RETURN_IF_ERROR(Args(call, 1, 1, "history RUN/TASK | NODE | EDGE | [RUN:]PATH [--run R]"));
  const std::string& id = call.args[0];
  CanvasReader c(*ctx.reader);
  if (call.run) {
    ASSIGN_OR_RETURN(std::string run, CanvasRun(c, call, id));
    return FileHistory(c, run, id, ctx.cancel);
  }
  MemoryReader m(*ctx.reader);
  ASSIGN_OR_RETURN(std::vector<projections::MemNode> nodes, m.NodeHistory(id));
  if (!nodes.empty()) {
    return RowsResult(kNodeHistory, MapRows(nodes, [](const auto& n) { return VersionRow(n); }),
                      ctx.cancel);
  }
  ASSIGN_OR_RETURN(std::vector<projections::MemEdge> edges, m.EdgeHistory(id));
  if (!edges.empty()) {
    return RowsResult(kEdgeHistory, MapRows(edges, [](const auto& e) { return VersionRow(e); }),
                      ctx.cancel);
  }
  SchedulerReader s(*ctx.reader);
  ASSIGN_OR_RETURN(std::optional<projections::Task> t, FindTask(s, id, s.head()));
  if (t) {
    ASSIGN_OR_RETURN(std::vector<projections::Task> h, s.TaskHistory(t->run, t->id, 0, s.head()));
    return RowsResult(ColumnsOf("tasks"), MapRows(h, TaskRow), ctx.cancel);
  }
  ASSIGN_OR_RETURN(std::vector<std::string> runs, c.Runs(c.head()));
  // "run:path", trying every ':' (paths may hold ':' too).
  for (size_t at = id.find(':'); at != std::string::npos; at = id.find(':', at + 1)) {
    std::string run = id.substr(0, at);
    if (std::find(runs.begin(), runs.end(), run) != runs.end()) {
      return FileHistory(c, run, id.substr(at + 1), ctx.cancel);
    }
  }
  std::vector<std::string> holding;
  for (const std::string& r : runs) {
    ASSIGN_OR_RETURN(std::vector<projections::FileVersion> h, c.FileHistory(r, id, 0, c.head()));
    if (!h.empty()) holding.push_back(r);
  }
  if (holding.size() == 1) return FileHistory(c, holding.front(), id, ctx.cancel);
  if (holding.size() > 1) {
    return Status::InvalidArgument("history: several runs have a file '" + id +
                                   "'; name one with --run or as RUN:PATH (" + Join(holding) + ")");
  }
  return Status::NotFound("history: no task, node, edge or file named '" + id +
                          "' (tasks are RUN/TASK, files PATH --run R or RUN:PATH)");
}

// ---- diff, blame ----

// The sections of a `git diff` text for one path (its "diff --git a/P b/P" sections).
std::string DiffOfPath(const std::string& diff, const std::string& path) {
  const std::string head = "diff --git a/" + path + " b/" + path + "\n";
  std::string out;
  size_t pos = 0;
  while (pos < diff.size()) {
    size_t next = diff.find("\ndiff --git ", pos);
    size_t end = next == std::string::npos ? diff.size() : next + 1;
    if (diff.compare(pos, head.size(), head) == 0) out += diff.substr(pos, end - pos);
    pos = end;
  }
  return out;
}

Result<VerbResult> Diff(const VerbContext& ctx, const VerbCall& call) {
  std::string path;
  std::vector<Point> points = call.points;
  for (const std::string& a : call.args) {
    if (!a.empty() && a.front() == '@') {
      ASSIGN_OR_RETURN(Point p, ParseAt(a));
      points.push_back(p);
    } else if (path.empty()) {
      path = a;
    } else {
      return Status::InvalidArgument(
          "diff: usage: diff [PATH] [--run R] [@A [@B]] | diff RUN_A RUN_B");
    }
  }
  if (points.size() > 2) return Status::InvalidArgument("diff: at most two points (@A @B)");
  CanvasReader c(*ctx.reader);
  ASSIGN_OR_RETURN(std::string run, CanvasRun(c, call, path));
  Lsn from = 0, to = c.head();
  if (points.empty()) {
    ASSIGN_OR_RETURN(from, c.BasePoint(run, to));
  } else {
    ASSIGN_OR_RETURN(from, c.Resolve(ToAsOf(points[0])));
    if (points.size() == 2) {
      ASSIGN_OR_RETURN(to, c.Resolve(ToAsOf(points[1])));
    }
  }
  if (!path.empty()) {
    ASSIGN_OR_RETURN(std::vector<projections::FileVersion> h,
                     c.FileHistory(run, path, 0, c.head()));
    if (h.empty()) return Status::NotFound("diff: no file '" + path + "' in run " + run);
  }
  ASSIGN_OR_RETURN(std::string text, c.Diff(run, from, to));
  if (!path.empty()) text = DiffOfPath(text, path);
  VerbResult out;
  out.text = std::move(text);
  return out;
}

Result<VerbResult> Blame(const VerbContext& ctx, const VerbCall& call) {
  RETURN_IF_ERROR(Args(call, 1, 1, "blame PATH [--run R] [as of POINT]"));
  const std::string& path = call.args[0];
  CanvasReader c(*ctx.reader);
  ASSIGN_OR_RETURN(std::string run, CanvasRun(c, call, path));
  ASSIGN_OR_RETURN(Lsn at, c.Resolve(ToAsOf(call.as_of)));
  ASSIGN_OR_RETURN(std::optional<projections::FileVersion> st, c.Stat(run, path, at));
  if (!st || st->deleted) {
    return Status::NotFound("blame: no file '" + path + "' in run " + run + AsOfText(call.as_of));
  }
  ASSIGN_OR_RETURN(std::vector<projections::BlameLine> lines, c.Blame(run, path, at));
  std::vector<Row> rows;
  for (const auto& l : lines) {
    Row j = Row::object();
    j["line"] = l.line;
    j["lsn"] = l.lsn;
    j["task"] = l.task;
    j["type"] = l.type;
    j["path"] = l.path;
    j["text"] = l.text;
    rows.push_back(std::move(j));
  }
  return RowsResult({"line", "lsn", "task", "type", "path", "text"}, std::move(rows), ctx.cancel);
}

// ---- neighbors, path ----

Result<GraphAt> LiveNode(MemoryReader& m, const VerbCall& call, const std::string& id,
                         std::optional<GraphAt> at = std::nullopt) {
  if (!at) {
    ASSIGN_OR_RETURN(Lsn lsn, m.Resolve(ToAsOf(call.as_of)));
    at = GraphAt{lsn, std::nullopt};
  }
  ASSIGN_OR_RETURN(std::optional<projections::MemNode> n, m.Node(id, *at));
  if (!n) {
    return Status::NotFound(call.verb + ": no node '" + id + "'" + AsOfText(call.as_of) +
                            " (nodes | where ... lists them)");
  }
  return *at;
}

Result<VerbResult> Neighbors(const VerbContext& ctx, const VerbCall& call) {
  RETURN_IF_ERROR(Args(call, 1, 1, "neighbors NODE [depth K] [as of POINT]"));
  const std::string& id = call.args[0];
  const int depth = call.depth.value_or(1);
  if (depth < 1) return Status::InvalidArgument("neighbors: depth must be at least 1");
  MemoryReader m(*ctx.reader);
  ASSIGN_OR_RETURN(GraphAt at, LiveNode(m, call, id));
  projections::Expand x;
  x.dir = projections::Direction::kBoth;
  ASSIGN_OR_RETURN(std::vector<projections::Neighbor> ns, m.Neighbors(id, depth, x, {}, at));
  std::vector<Row> rows;
  for (const auto& n : ns) {
    Row j = Row::object();
    j["id"] = n.node.id;
    j["labels"] = n.node.labels;
    j["depth"] = n.depth;
    j["via_rel"] = n.via.rel;
    j["via_edge"] = n.via.id;
    j["via_node"] = n.via.src == n.node.id ? n.via.dst : n.via.src;
    j["props"] = ParseProps(n.node.props);
    rows.push_back(std::move(j));
  }
  return RowsResult({"id", "labels", "depth", "via_rel", "via_edge", "via_node", "props"},
                    std::move(rows), ctx.cancel);
}

Result<VerbResult> Path(const VerbContext& ctx, const VerbCall& call) {
  RETURN_IF_ERROR(Args(call, 2, 2, "path A B [as of POINT]"));
  const std::string& a = call.args[0];
  const std::string& b = call.args[1];
  const int max_depth = call.depth.value_or(6);
  if (max_depth < 1) return Status::InvalidArgument("path: depth must be at least 1");
  MemoryReader m(*ctx.reader);
  ASSIGN_OR_RETURN(GraphAt at, LiveNode(m, call, a));
  RETURN_IF_ERROR(LiveNode(m, call, b, at).status());
  projections::Expand x;
  x.dir = projections::Direction::kBoth;
  ASSIGN_OR_RETURN(std::optional<std::vector<projections::MemEdge>> path,
                   m.ShortestPath(a, b, max_depth, x, at));
  if (!path) {
    return Status::NotFound("path: no path between '" + a + "' and '" + b + "' within " +
                            std::to_string(max_depth) + " hops" + AsOfText(call.as_of));
  }
  std::vector<Row> rows;
  std::string cur = a;
  int hop = 0;
  for (const auto& e : *path) {
    const bool out = e.src == cur;
    const std::string next = out ? e.dst : e.src;
    Row j = Row::object();
    j["hop"] = ++hop;
    j["from"] = cur;
    j["rel"] = e.rel;
    j["to"] = next;
    j["edge"] = e.id;
    j["dir"] = out ? "out" : "in";
    rows.push_back(std::move(j));
    cur = next;
  }
  return RowsResult({"hop", "from", "rel", "to", "edge", "dir"}, std::move(rows), ctx.cancel);
}

}  // namespace

Result<VerbResult> RunVerb(const VerbContext& ctx, const VerbCall& call) {
  if (call.verb == "timeline") return Timeline(ctx, call);
  if (call.verb == "why") return Why(ctx, call);
  if (call.verb == "history") return History(ctx, call);
  if (call.verb == "diff") {
    // Two words that are not points: two runs (runs_verbs.cc); a canvas diff takes one PATH.
    const bool runs = call.args.size() == 2 && !call.run && call.points.empty() &&
                      !call.args[0].starts_with("@") && !call.args[1].starts_with("@");
    return runs ? RunsDiffVerb(ctx, call) : Diff(ctx, call);
  }
  if (call.verb == "divergence") return DivergenceVerb(ctx, call);
  if (call.verb == "blame") return Blame(ctx, call);
  if (call.verb == "neighbors") return Neighbors(ctx, call);
  if (call.verb == "path") return Path(ctx, call);
  return Status::InvalidArgument("unknown verb '" + call.verb +
                                 "' (timeline why history diff blame neighbors path divergence)");
}

}  // namespace tink::query::internal
