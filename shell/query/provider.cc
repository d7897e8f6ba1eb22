// EngineProvider: the sources (provider.h). Verbs are in verbs.cc and why.cc.
#include "shell/query/provider.h"

#include <algorithm>
#include <set>

#include "schema/schema.h"
#include "shell/query/provider_internal.h"

namespace tink::query {

namespace internal {
namespace {

// A scan with no index and no time bound reads the log through one iterator, a record at a time.
// Otherwise it streams Engine::Scan in chunks: each Scan call starts after the last LSN delivered
// and stops once `chunk` records are buffered, so the stream holds at most one chunk whatever the
// log's size. Between calls the engine's index is re-seeked: a cheap seek.
class EventsStream final : public RowStream {
 public:
  EventsStream(engine::Engine* engine, engine::LogQuery q, size_t chunk,
               EngineProvider::Stats* stats, const Cancel* cancel,
               std::function<Result<bool>(Row*)> map, std::vector<std::string> columns,
               EventFields fields)
      : engine_(engine),
        q_(std::move(q)),
        chunk_(std::max<size_t>(chunk, 1)),
        stats_(stats),
        cancel_(cancel),
        next_from_(q_.from),
        map_(std::move(map)),
        fields_(std::move(fields)),
        columns_(columns.empty() ? internal::ColumnsOf("events") : std::move(columns)) {
    if (Direct() && stats_) {  // counted here: Next may run on another thread (Split)
      ++stats_->event_scans;
      stats_->last_index.clear();
    }
  }

  Result<bool> Next(Row* out) override {
    if (Direct()) return NextDirect(out);
    while (true) {
      if (IsSet(cancel_)) return Cancelled();
      while (pos_ >= buf_.size()) {
        if (done_) return false;
        RETURN_IF_ERROR(Fill());
      }
      const Rec& r = buf_[pos_++];
      log::LogRecord rec;
      rec.lsn = r.lsn;
      rec.time_ns = r.time_ns;
      rec.payload = std::string_view(arena_).substr(r.offset, r.size);
      RETURN_IF_ERROR(internal::EventRowInto(rec, fields_, out));
      if (!map_) return true;
      ASSIGN_OR_RETURN(bool keep, map_(out));
      if (keep) return true;
    }
  }
  std::vector<std::string> Columns() const override { return columns_; }

 private:
  // A buffered record; its payload is arena_[offset, offset + size), 8-byte aligned so the
  // FlatBuffers reader uses it in place.
  struct Rec {
    Lsn lsn;
    int64_t time_ns;
    size_t offset, size;
  };

  // No index and no time bound: the log is read in place through one iterator, one record at a
  // time (nothing is buffered or copied).
  bool Direct() const {
    return q_.stream.empty() && q_.run.empty() && q_.type.empty() && !q_.has_since &&
           !q_.has_until;
  }

  Result<bool> NextDirect(Row* out) {
    if (!it_) {
      if (q_.to == 0 || q_.from > q_.to) return false;
      it_ = engine_->log().NewIterator(std::max<Lsn>(q_.from, 1));
    }
    while (true) {
      if (IsSet(cancel_)) return Cancelled();
      if (!it_->Valid() || it_->record().lsn > q_.to) {
        RETURN_IF_ERROR(it_->status());
        return false;
      }
      RETURN_IF_ERROR(internal::EventRowInto(it_->record(), fields_, out));
      it_->Next();
      if (!map_) return true;
      ASSIGN_OR_RETURN(bool keep, map_(out));
      if (keep) return true;
    }
  }

  Status Fill() {
    buf_.clear();
    arena_.clear();
    pos_ = 0;
    if (next_from_ > q_.to || next_from_ == 0) {
      done_ = true;
      return Status::Ok();
    }
    engine::LogQuery q = q_;
    q.from = next_from_;
    bool cancelled = false;
    engine::ScanStats st;
    Status s = engine_->Scan(
        q,
        [&](const log::LogRecord& rec) {
          // Checked here too: a selective filter may read many records per row it yields.
          if (IsSet(cancel_)) {
            cancelled = true;
            return false;
          }
          const size_t offset = (arena_.size() + 7) & ~size_t{7};
          arena_.resize(offset);
          arena_.append(rec.payload);
          buf_.push_back({rec.lsn, rec.time_ns, offset, rec.payload.size()});
          return buf_.size() < chunk_;
        },
        &st);
    if (stats_) {
      ++stats_->event_scans;
      stats_->last_index = st.index;
      stats_->event_max_buffered = std::max<uint64_t>(stats_->event_max_buffered, buf_.size());
    }
    RETURN_IF_ERROR(s);
    if (cancelled) return Cancelled();
    if (buf_.size() < chunk_) {
      done_ = true;
    } else {
      next_from_ = buf_.back().lsn + 1;  // wraps to 0 only at UINT64_MAX: then done
    }
    return Status::Ok();
  }

  engine::Engine* engine_;
  const engine::LogQuery q_;
  const size_t chunk_;
  EngineProvider::Stats* stats_;
  const Cancel* cancel_;
  Lsn next_from_;
  std::function<Result<bool>(Row*)> map_;
  const EventFields fields_;
  std::vector<Rec> buf_;
  std::string arena_;
  std::unique_ptr<log::LogIterator> it_;  // Direct()
  size_t pos_ = 0;
  bool done_ = false;
  std::vector<std::string> columns_;
};

}  // namespace

std::unique_ptr<RowStream> NewEventsStream(engine::Engine* engine, engine::LogQuery q, size_t chunk,
                                           EngineProvider::Stats* stats, const Cancel* cancel,
                                           std::function<Result<bool>(Row*)> map,
                                           std::vector<std::string> columns, EventFields fields) {
  return std::make_unique<EventsStream>(engine, std::move(q), chunk, stats, cancel, std::move(map),
                                        std::move(columns), std::move(fields));
}

}  // namespace internal

using internal::IsSet;
using internal::VectorStream;
using projections::Lsn;

namespace {

// The string values a row's `field` may have to pass every pushdown on it: nullopt when nothing
// is pushed down on the field; an empty set when no row can pass (a non-string literal, or
// conjuncts that exclude each other).
std::optional<std::vector<std::string>> StringValues(const ScanRequest& req,
                                                     std::string_view field) {
  std::optional<std::set<std::string>> acc;
  for (const Pushdown& p : req.equals) {
    if (p.field != field) continue;
    std::set<std::string> vals;
    for (const Json& v : p.values) {
      if (v.is_string()) vals.insert(v.get<std::string>());
    }
    if (!acc) {
      acc = std::move(vals);
    } else {
      std::set<std::string> both;
      std::set_intersection(acc->begin(), acc->end(), vals.begin(), vals.end(),
                            std::inserter(both, both.end()));
      acc = std::move(both);
    }
  }
  if (!acc) return std::nullopt;
  return std::vector<std::string>(acc->begin(), acc->end());
}

// ---- events ----

void LowerBound(engine::LogQuery* q, const Point& p, Lsn head) {
  switch (p.kind) {
    case Point::Kind::kLsn:
      q->from = std::max(q->from, p.lsn);
      break;
    case Point::Kind::kTime:
      q->since_ns = q->has_since ? std::max(q->since_ns, p.time_ns) : p.time_ns;
      q->has_since = true;
      break;
    case Point::Kind::kNow:
      q->from = std::max(q->from, head);
      break;
  }
}

void UpperBound(engine::LogQuery* q, const Point& p) {
  switch (p.kind) {
    case Point::Kind::kLsn:
      q->to = std::min(q->to, p.lsn);
      break;
    case Point::Kind::kTime:
      q->until_ns = q->has_until ? std::min(q->until_ns, p.time_ns) : p.time_ns;
      q->has_until = true;
      break;
    case Point::Kind::kNow:
      break;
  }
}

// The LogQuery for an events request: its bounds and the pushdowns the engine can use.
engine::LogQuery EventsQuery(const ScanRequest& req, Lsn head) {
  engine::LogQuery q;
  q.from = 1;
  q.to = head;
  if (req.as_of) UpperBound(&q, *req.as_of);
  if (req.between) {
    LowerBound(&q, req.between->first, head);
    UpperBound(&q, req.between->second);
  }
  if (req.lsn_range) {
    q.from = std::max(q.from, req.lsn_range->first);
    q.to = std::min(q.to, req.lsn_range->second);
  }
  auto none = [&] { q.to = 0; };  // no row can match
  for (const Pushdown& p : req.equals) {
    if (p.field == "lsn") {
      // lsn == N or lsn in [...]: the smallest range holding them.
      Lsn lo = UINT64_MAX, hi = 0;
      for (const Json& v : p.values) {
        if (!v.is_number_integer()) continue;
        if (!v.is_number_unsigned() && v.get<int64_t>() < 0) continue;
        Lsn n = v.get<uint64_t>();
        lo = std::min(lo, n);
        hi = std::max(hi, n);
      }
      if (lo > hi) {
        none();
      } else {
        q.from = std::max(q.from, lo);
        q.to = std::min(q.to, hi);
      }
    }
  }
  for (const char* field : {"stream", "type", "run"}) {
    std::optional<std::vector<std::string>> vals = StringValues(req, field);
    if (!vals) continue;
    if (vals->empty()) none();
    if (vals->size() != 1) continue;  // several values: the executor filters
    // (An empty value reads as "no filter" to the engine: a superset, which the executor narrows.)
    std::string& slot = field[0] == 's' ? q.stream : field[0] == 't' ? q.type : q.run;
    slot = vals->front();
  }
  return q;
}

// ---- projections ----

using projections::AsOf;
using projections::CanvasReader;
using projections::GraphAt;
using projections::MemoryReader;
using projections::SchedulerReader;

Result<std::unique_ptr<RowStream>> Rows(std::string_view source, std::vector<Row> rows,
                                        const Cancel* cancel) {
  return std::unique_ptr<RowStream>(
      std::make_unique<VectorStream>(internal::ColumnsOf(source), std::move(rows), cancel));
}

template <typename T>
Result<std::unique_ptr<RowStream>> Lazy(std::string_view source, std::vector<T> items,
                                        Row (*to_row)(const T&), const Cancel* cancel) {
  return std::unique_ptr<RowStream>(std::make_unique<internal::LazyRowStream<T>>(
      internal::ColumnsOf(source), std::move(items), to_row, cancel));
}

Result<std::unique_ptr<RowStream>> OpenRuns(projections::StateReader& r, const ScanRequest& req,
                                            const Cancel* cancel) {
  SchedulerReader s(r);
  ASSIGN_OR_RETURN(Lsn at, s.Resolve(internal::ToAsOf(req.as_of)));
  std::vector<Row> rows;
  if (auto ids = StringValues(req, "run")) {
    for (const std::string& id : *ids) {
      ASSIGN_OR_RETURN(std::optional<projections::RunInfo> run, s.GetRun(id, at));
      if (run) rows.push_back(internal::RunRow(*run));
    }
  } else {
    ASSIGN_OR_RETURN(std::vector<projections::RunInfo> runs, s.ListRuns(at));
    for (const auto& run : runs) rows.push_back(internal::RunRow(run));
  }
  return Rows("runs", std::move(rows), cancel);
}

Result<std::unique_ptr<RowStream>> OpenTasks(projections::StateReader& r, const ScanRequest& req,
                                             const Cancel* cancel) {
  SchedulerReader s(r);
  ASSIGN_OR_RETURN(Lsn at, s.Resolve(internal::ToAsOf(req.as_of)));
  // state == S: rows only for such tasks, and only the runs that have one as of `at` (their
  // per-state counts are versioned with the run) are read.
  const std::optional<std::vector<std::string>> states = StringValues(req, "state");
  auto wanted = [&](projections::TaskStatus st) {
    return !states || std::find(states->begin(), states->end(),
                                projections::TaskStatusName(st)) != states->end();
  };
  std::vector<projections::Task> rows;
  auto add = [&](projections::Task& t) {
    if (wanted(t.status)) rows.push_back(std::move(t));
  };
  std::optional<std::vector<std::string>> runs = StringValues(req, "run");
  if (auto ids = StringValues(req, "id")) {
    for (const std::string& id : *ids) {
      ASSIGN_OR_RETURN(std::optional<projections::Task> t, internal::FindTask(s, id, at));
      if (t) add(*t);
    }
    return Lazy("tasks", std::move(rows), internal::TaskRow, cancel);
  }
  if (!runs && states) {
    runs.emplace();
    ASSIGN_OR_RETURN(std::vector<projections::RunInfo> all, s.ListRuns(at));
    for (const projections::RunInfo& run : all) {
      for (size_t st = 1; st < std::size(run.counts); ++st) {
        if (run.counts[st] > 0 && wanted(static_cast<projections::TaskStatus>(st))) {
          runs->push_back(run.id);
          break;
        }
      }
    }
  }
  if (runs) {
    for (const std::string& run : *runs) {
      ASSIGN_OR_RETURN(std::vector<projections::Task> tasks, s.ListTasks(run, at));
      for (auto& t : tasks) add(t);
    }
  } else {
    ASSIGN_OR_RETURN(std::vector<projections::Task> tasks, s.ListTasks(std::nullopt, at));
    for (auto& t : tasks) add(t);
  }
  return Lazy("tasks", std::move(rows), internal::TaskRow, cancel);
}

Result<std::unique_ptr<RowStream>> OpenFiles(projections::StateReader& r, const ScanRequest& req,
                                             const Cancel* cancel) {
  CanvasReader c(r);
  ASSIGN_OR_RETURN(Lsn at, c.Resolve(internal::ToAsOf(req.as_of)));
  std::vector<std::string> runs;
  if (auto ids = StringValues(req, "run")) {
    runs = *ids;
  } else {
    ASSIGN_OR_RETURN(runs, c.Runs(at));
  }
  std::optional<std::vector<std::string>> paths = StringValues(req, "path");
  std::vector<Row> rows;
  for (const std::string& run : runs) {
    if (IsSet(cancel)) return Cancelled();
    if (paths) {
      for (const std::string& path : *paths) {
        ASSIGN_OR_RETURN(std::optional<projections::FileVersion> f, c.Stat(run, path, at));
        if (f && !f->deleted) rows.push_back(internal::FileRow(*f));
      }
      continue;
    }
    ASSIGN_OR_RETURN(std::vector<projections::FileVersion> tree, c.Tree(run, at));
    for (const auto& f : tree) rows.push_back(internal::FileRow(f));
  }
  return Rows("files", std::move(rows), cancel);
}

Result<std::unique_ptr<RowStream>> OpenNodes(projections::StateReader& r, const ScanRequest& req,
                                             const Cancel* cancel) {
  MemoryReader m(r);
  ASSIGN_OR_RETURN(Lsn at, m.Resolve(internal::ToAsOf(req.as_of)));
  const GraphAt g{at, std::nullopt};
  std::vector<projections::MemNode> rows;
  if (auto ids = StringValues(req, "id")) {
    for (const std::string& id : *ids) {
      ASSIGN_OR_RETURN(std::optional<projections::MemNode> n, m.Node(id, g));
      if (n) rows.push_back(std::move(*n));
    }
  } else {
    ASSIGN_OR_RETURN(rows, m.Nodes("", g));
  }
  return Lazy("nodes", std::move(rows), internal::NodeRow, cancel);
}

Result<std::unique_ptr<RowStream>> OpenEdges(projections::StateReader& r, const ScanRequest& req,
                                             const Cancel* cancel) {
  MemoryReader m(r);
  ASSIGN_OR_RETURN(Lsn at, m.Resolve(internal::ToAsOf(req.as_of)));
  const GraphAt g{at, std::nullopt};
  std::vector<projections::MemEdge> rows;
  if (auto ids = StringValues(req, "id")) {
    for (const std::string& id : *ids) {
      ASSIGN_OR_RETURN(std::optional<projections::MemEdge> e, m.Edge(id, g));
      if (e) rows.push_back(std::move(*e));
    }
    return Lazy("edges", std::move(rows), internal::EdgeRow, cancel);
  }
  // One end known: that node's adjacency; else every live node's out-edges (each edge once).
  std::vector<std::string> starts;
  projections::Expand x;
  x.dir = projections::Direction::kOut;
  if (auto src = StringValues(req, "src")) {
    starts = *src;
  } else if (auto dst = StringValues(req, "dst")) {
    starts = *dst;
    x.dir = projections::Direction::kIn;
  } else {
    ASSIGN_OR_RETURN(std::vector<projections::MemNode> nodes, m.Nodes("", g));
    for (auto& n : nodes) starts.push_back(std::move(n.id));
  }
  for (const std::string& id : starts) {
    if (IsSet(cancel)) return Cancelled();
    ASSIGN_OR_RETURN(std::vector<projections::MemEdge> edges, m.Edges(id, x, g));
    for (auto& e : edges) rows.push_back(std::move(e));
  }
  return Lazy("edges", std::move(rows), internal::EdgeRow, cancel);
}

Result<std::unique_ptr<RowStream>> OpenAnomalies(projections::StateReader& r,
                                                 const ScanRequest& req, const Cancel* cancel) {
  std::optional<std::vector<std::string>> projs = StringValues(req, "projection");
  auto wanted = [&](std::string_view p) {
    return !projs || std::find(projs->begin(), projs->end(), p) != projs->end();
  };
  // One run pushed down: the scheduler and canvas read only its anomalies.
  std::optional<std::string> run;
  std::optional<std::vector<std::string>> runs = StringValues(req, "run");
  if (runs && runs->size() == 1) run = runs->front();
  auto run_ok = [&](const std::string& r) {
    return !runs || std::find(runs->begin(), runs->end(), r) != runs->end();
  };
  std::vector<Row> rows;
  if (wanted("scheduler")) {
    SchedulerReader s(r);
    ASSIGN_OR_RETURN(Lsn at, s.Resolve(internal::ToAsOf(req.as_of)));
    ASSIGN_OR_RETURN(std::vector<projections::Anomaly> as, s.Anomalies(run, at));
    for (const auto& a : as) {
      if (!run_ok(a.run)) continue;
      Row j = Row::object();
      j["lsn"] = a.lsn;
      j["projection"] = "scheduler";
      j["run"] = a.run;
      j["task"] = a.task;
      j["type"] = a.event_type;
      j["target"] = nullptr;
      j["path"] = nullptr;
      j["from"] = std::string(projections::TaskStatusName(a.from));
      j["to"] = std::string(projections::TaskStatusName(a.to));
      j["reason"] = a.reason;
      rows.push_back(std::move(j));
    }
  }
  if (wanted("canvas")) {
    CanvasReader c(r);
    ASSIGN_OR_RETURN(Lsn at, c.Resolve(internal::ToAsOf(req.as_of)));
    ASSIGN_OR_RETURN(std::vector<projections::CanvasAnomaly> as, c.Anomalies(run, at));
    for (const auto& a : as) {
      if (!run_ok(a.run)) continue;
      Row j = Row::object();
      j["lsn"] = a.lsn;
      j["projection"] = "canvas";
      j["run"] = a.run;
      j["task"] = a.task;
      j["type"] = a.type;
      j["target"] = nullptr;
      j["path"] = a.path;
      j["from"] = nullptr;
      j["to"] = nullptr;
      j["reason"] = a.reason;
      rows.push_back(std::move(j));
    }
  }
  if (wanted("memory")) {
    MemoryReader m(r);
    ASSIGN_OR_RETURN(Lsn at, m.Resolve(internal::ToAsOf(req.as_of)));
    ASSIGN_OR_RETURN(std::vector<projections::MemAnomaly> as, m.Anomalies(at));
    for (const auto& a : as) {
      if (!run_ok(a.run)) continue;
      Row j = Row::object();
      j["lsn"] = a.lsn;
      j["projection"] = "memory";
      j["run"] = a.run;
      j["task"] = nullptr;
      j["type"] = a.type;
      j["target"] = a.target;
      j["path"] = nullptr;
      j["from"] = nullptr;
      j["to"] = nullptr;
      j["reason"] = a.reason;
      rows.push_back(std::move(j));
    }
  }
  std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return a["lsn"].get<uint64_t>() < b["lsn"].get<uint64_t>();
  });
  return Rows("anomalies", std::move(rows), cancel);
}

Result<std::unique_ptr<RowStream>> OpenSegments(engine::Engine* engine, const Cancel* cancel) {
  std::vector<Row> rows;
  for (const log::SegmentInfo& s : engine->log().Stats().segments) {
    Row j = Row::object();
    j["file"] = s.name;
    j["first_lsn"] = s.first_lsn;
    j["last_lsn"] = s.last_lsn;
    j["events"] = s.last_lsn + 1 >= s.first_lsn ? s.last_lsn + 1 - s.first_lsn : 0;
    j["bytes"] = s.bytes;
    j["sealed"] = s.sealed;
    rows.push_back(std::move(j));
  }
  return Rows("segments", std::move(rows), cancel);
}

}  // namespace

EngineProvider::EngineProvider(engine::Engine* engine, Options options)
    : engine_(engine), options_(options) {}

EngineProvider::~EngineProvider() = default;

Result<std::unique_ptr<RowStream>> EngineProvider::Open(const ScanRequest& req,
                                                        const Cancel* cancel) {
  const SourceInfo* info = FindSource(req.source);
  if (!info) return Status::InvalidArgument("unknown source '" + req.source + "'");
  if (req.as_of && !info->as_of) {
    return Status::InvalidArgument(req.source + " does not take `as of`");
  }
  if (req.between && !info->between) {
    return Status::InvalidArgument(req.source + " does not take `between`");
  }
  if (req.source == "events") {
    engine::LogQuery q = EventsQuery(req, engine_->log().LastLsn());
    return internal::NewEventsStream(engine_, std::move(q), options_.event_chunk, &stats_, cancel,
                                     {}, {}, internal::EventFieldsOf(req.fields));
  }
  if (req.source == "segments") return OpenSegments(engine_, cancel);
  ASSIGN_OR_RETURN(std::unique_ptr<projections::StateReader> reader, engine_->NewReader());
  if (req.source == "runs") return OpenRuns(*reader, req, cancel);
  if (req.source == "tasks") return OpenTasks(*reader, req, cancel);
  if (req.source == "files") return OpenFiles(*reader, req, cancel);
  if (req.source == "nodes") return OpenNodes(*reader, req, cancel);
  if (req.source == "edges") return OpenEdges(*reader, req, cancel);
  return OpenAnomalies(*reader, req, cancel);
}

Result<VerbResult> EngineProvider::RunVerb(const VerbCall& call, const Cancel* cancel) {
  ASSIGN_OR_RETURN(std::unique_ptr<projections::StateReader> reader, engine_->NewReader());
  return internal::RunVerb({engine_, reader.get(), options_.event_chunk, cancel}, call);
}

std::vector<ScanRequest> EngineProvider::Split(const ScanRequest& req, size_t parts) {
  if (req.source != "events" || parts < 2) return {req};
  const engine::LogQuery q = EventsQuery(req, engine_->log().LastLsn());
  const bool direct = q.stream.empty() && q.run.empty() && q.type.empty() && !q.has_since &&
                      !q.has_until;
  if (!direct || q.to == 0 || q.from > q.to || q.to - q.from + 1 < options_.split_min_events) {
    return {req};
  }
  const uint64_t n = q.to - q.from + 1;
  parts = static_cast<size_t>(std::min<uint64_t>(parts, n));
  std::vector<ScanRequest> out;
  Lsn from = q.from;
  for (size_t i = 0; i < parts; ++i) {
    const Lsn to = i + 1 == parts ? q.to : from + n / parts - 1;
    ScanRequest slice = req;
    slice.lsn_range = std::make_pair(from, to);
    out.push_back(std::move(slice));
    from = to + 1;
  }
  return out;
}

std::vector<std::string> EngineProvider::CompletionIds(std::string_view prefix, size_t limit) {
  std::vector<std::string> out;
  auto add = [&](const std::string& id) {
    if (out.size() < limit && id.compare(0, prefix.size(), prefix) == 0) out.push_back(id);
  };
  Result<std::unique_ptr<projections::StateReader>> reader = engine_->NewReader();
  if (!reader.ok()) return out;
  SchedulerReader s(**reader);
  Result<std::vector<projections::RunInfo>> runs = s.ListRuns(s.head());
  if (runs.ok()) {
    for (const auto& r : *runs) add(r.id);
    for (const auto& r : *runs) {
      if (out.size() >= limit) break;
      // Tasks only of the runs the prefix can still name.
      const std::string stem = r.id + "/";
      const bool fits = prefix.size() >= stem.size() ? prefix.compare(0, stem.size(), stem) == 0
                                                     : stem.compare(0, prefix.size(), prefix) == 0;
      if (!fits) continue;
      Result<std::vector<projections::Task>> tasks = s.ListTasks(r.id, s.head());
      if (!tasks.ok()) continue;
      for (const auto& t : *tasks) add(stem + t.id);
    }
  }
  MemoryReader m(**reader);
  Result<std::vector<projections::MemNode>> nodes = m.Nodes("", GraphAt{m.head(), std::nullopt});
  if (nodes.ok()) {
    for (const auto& n : *nodes) add(n.id);
  }
  return out;
}

}  // namespace tink::query
