// Shared by provider.cc, rows.cc, verbs.cc and why.cc: row builders (one per projection type, in
// the field order of sources.cc), a RowStream over a vector, point resolution and the one-line
// event summary of `timeline`. Not part of the query contract.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "projections/canvas.h"
#include "projections/memory.h"
#include "projections/scheduler.h"
#include "shell/query/provider.h"
#include "shell/query/query.h"

namespace tink::query::internal {

using projections::Lsn;

// A RowStream over rows already read (projection queries return vectors; they are bounded by the
// state, not the log). Checks `cancel` before each row.
class VectorStream final : public RowStream {
 public:
  VectorStream(std::vector<std::string> columns, std::vector<Row> rows, const Cancel* cancel)
      : columns_(std::move(columns)), rows_(std::move(rows)), cancel_(cancel) {}
  Result<bool> Next(Row* out) override;
  std::vector<std::string> Columns() const override { return columns_; }
  size_t TableCellWidth() const override { return table_cell_width_; }
  void set_table_cell_width(size_t w) { table_cell_width_ = w; }

 private:
  std::vector<std::string> columns_;
  std::vector<Row> rows_;
  size_t table_cell_width_ = 0;
  size_t next_ = 0;
  const Cancel* cancel_;
};

inline bool IsSet(const Cancel* c) { return c && c->load(std::memory_order_relaxed); }

// A RowStream over projection values read already, each made a row only when it is pulled (a
// row is several times the size of the value: 385k tasks are ~0.2 GB as Tasks, ~1 GB as rows).
template <typename T>
class LazyRowStream final : public RowStream {
 public:
  LazyRowStream(std::vector<std::string> columns, std::vector<T> items, Row (*to_row)(const T&),
                const Cancel* cancel)
      : columns_(std::move(columns)), items_(std::move(items)), to_row_(to_row), cancel_(cancel) {}
  Result<bool> Next(Row* out) override {
    if (IsSet(cancel_)) return Cancelled();
    if (next_ >= items_.size()) return false;
    *out = to_row_(items_[next_]);
    items_[next_++] = T();  // released as it goes
    return true;
  }
  std::vector<std::string> Columns() const override { return columns_; }

 private:
  std::vector<std::string> columns_;
  std::vector<T> items_;
  Row (*to_row_)(const T&);
  size_t next_ = 0;
  const Cancel* cancel_;
};

// The field names of a source, in schema order.
std::vector<std::string> ColumnsOf(std::string_view source);

// ISO time, or null for 0 (unknown / not yet).
Json TimeOrNull(int64_t ns);
// A JSON text (props) as an object; the text itself as a string if it does not parse.
Json ParseProps(const std::string& text);
// The task of a stream "run/<R>/task/<T>" ("" otherwise).
std::string TaskOfStream(std::string_view stream);
// The task an event row belongs to: data.task, else its stream's task.
std::string EventTask(const Row& event);

Row RunRow(const projections::RunInfo& r);
Row TaskRow(const projections::Task& t);
Row FileRow(const projections::FileVersion& f);
Row NodeRow(const projections::MemNode& n);
Row EdgeRow(const projections::MemEdge& e);

// The JSON envelope of a record (DESIGN.md §4) as a row.
Result<Row> EventRow(const log::LogRecord& rec);
// Which fields an events row holds: one bit per envelope field in schema order (lsn time occurred
// id stream type run causation data), and with `data` only some of its keys (`data.exit_code`
// read, nothing else of data) or all of it.
constexpr uint32_t kAllEventFields = 0x1FF;
struct EventFields {
  uint32_t mask = kAllEventFields;
  std::optional<std::vector<std::string>> data_keys;  // nullopt: the whole data object
};
// From ScanRequest::fields ("type", "data", "data.exit_code", ...); all when nullopt.
EventFields EventFieldsOf(const std::optional<std::vector<std::string>>& fields);
// EventRow with only `fields`, into *out (reusing its storage). Without `data` the payload is
// read through the FlatBuffers envelope alone; without any field but lsn and time it is not
// decoded at all (the log has already checked its checksum).
Status EventRowInto(const log::LogRecord& rec, const EventFields& fields, Row* out);
// One line saying what an event did: "execute_bash: cd build && make", "exit 1: ...", the error
// of task.failed, the path of file.*, ... (at most ~100 characters, newlines folded).
std::string Summary(const Row& event);
// `s` on one line, cut to `max` characters with "…".
std::string OneLine(std::string_view s, size_t max);

projections::AsOf ToAsOf(const std::optional<Point>& p);
// "LSN 42" / "2026-...Z" / "now", for messages.
std::string PointText(const Point& p);

// The engine's record at `lsn` (nullopt: no such record).
Result<std::optional<Row>> EventAt(engine::Engine* engine, Lsn lsn);
// Every event matching q (in LSN order) as rows, stopping early when fn returns false.
Status ScanRows(engine::Engine* engine, const engine::LogQuery& q, const Cancel* cancel,
                const std::function<bool(const Row&)>& fn);

// A stream of the events matching q, fetched `chunk` rows per Engine::Scan (provider.cc). `stats`
// may be null. `map`, when set, turns each event row into the row returned, with `columns`.
std::unique_ptr<RowStream> NewEventsStream(engine::Engine* engine, engine::LogQuery q, size_t chunk,
                                           EngineProvider::Stats* stats, const Cancel* cancel,
                                           std::function<Result<bool>(Row*)> map = {},
                                           std::vector<std::string> columns = {},
                                           EventFields fields = {});

// What a verb runs against. `reader` is a fresh snapshot owned by the caller, alive while the
// verb runs (streams a verb returns do not use it).
struct VerbContext {
  engine::Engine* engine;
  projections::StateReader* reader;
  size_t event_chunk;
  const Cancel* cancel;
};
// Verbs (verbs.cc, why.cc).
Result<VerbResult> RunVerb(const VerbContext& ctx, const VerbCall& call);
Result<VerbResult> Why(const VerbContext& ctx, const VerbCall& call);
// `diff RUN_A RUN_B` and `divergence RUN` (runs_verbs.cc).
Result<VerbResult> RunsDiffVerb(const VerbContext& ctx, const VerbCall& call);
Result<VerbResult> DivergenceVerb(const VerbContext& ctx, const VerbCall& call);

// A task named "run/task" (the last '/' splits: run ids may hold '/', task ids do not): nullopt
// when no such task exists as of `as_of`.
Result<std::optional<projections::Task>> FindTask(projections::SchedulerReader& sched,
                                                  std::string_view id, Lsn as_of);

}  // namespace tink::query::internal
