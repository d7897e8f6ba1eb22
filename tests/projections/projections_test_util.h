// Test helpers for the projections layer: events built without the engine, and the standard set
// of projections over a StateStore in a temporary directory.
//
// EventLog encodes events with schema::EncodeEvent, keeps each payload in its own 8-byte aligned
// buffer (as engine/projector.cc DecodedBatch does) and hands out projections::Event values whose
// `fb` and `view` point into those buffers; they stay valid as long as the EventLog lives.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "projections/canvas.h"
#include "projections/indexes.h"
#include "projections/memory.h"
#include "projections/scheduler.h"
#include "projections/state_store.h"
#include "schema/schema.h"
#include "support/temp_dir.h"

namespace tink::projections::testing {

class EventLog {
 public:
  // Appends an event (LSN = size() + 1) recorded at `time_ns`; ADD_FAILUREs when it does not
  // encode, and then appends an undecodable event so LSNs stay dense.
  Lsn Add(const schema::EventInput& in, int64_t time_ns);
  // The same from a JSON envelope (schema::ParseEnvelopeJson).
  Lsn AddJson(std::string_view envelope, int64_t time_ns);
  // An event whose payload does not decode: Event::fb is nullptr.
  Lsn AddUndecodable(int64_t time_ns);

  size_t size() const { return events_.size(); }
  Lsn last() const { return events_.size(); }
  const Event& at(Lsn lsn) const { return events_.at(lsn - 1).ev; }
  uint64_t hash(Lsn lsn) const { return events_.at(lsn - 1).hash; }

  // Events from..to (inclusive) and their payload hashes.
  std::vector<Event> Events(Lsn from, Lsn to) const;
  std::vector<uint64_t> Hashes(Lsn from, Lsn to) const;
  // Applies from..to to `st` as one batch.
  Status ApplyTo(StateStore* st, Lsn from, Lsn to) const;
  // Applies from..to in batches whose sizes `next_size()` picks (>= 1).
  Status ApplyInBatches(StateStore* st, Lsn from, Lsn to,
                        const std::function<size_t()>& next_size) const;

 private:
  Lsn AddPayload(std::string payload, int64_t time_ns);
  struct Stored {
    std::unique_ptr<uint64_t[]> words;  // never moves: Event pointers stay valid
    size_t size = 0;
    Event ev;
    uint64_t hash = 0;
  };
  std::vector<Stored> events_;
};

// An EventInput with `data` as its data object.
schema::EventInput Input(std::string type, std::string run, const nlohmann::json& data,
                         int64_t occurred_ns = 0, std::string stream = "", std::string id = "");

// The projections the engine runs, in the engine's order, over one StateStore.
struct AllProjections {
  IdsIndex ids;
  StreamsIndex streams;
  RunsIndex runs;
  TypesIndex types;
  TimesIndex times;
  SchedulerProjection scheduler;
  CanvasProjection canvas;
  MemoryProjection memory;
  std::vector<Projection*> list() {
    return {&ids, &streams, &runs, &types, &times, &scheduler, &canvas, &memory};
  }
};
struct State {
  AllProjections p;
  std::unique_ptr<StateStore> store;  // declared last: closed before the projections go
};
// Opens (or reopens) the state in `dir` with all the projections; ADD_FAILUREs on error.
std::unique_ptr<State> OpenState(const std::string& dir, StateOptions options = {});
inline const char* const kAllProjectionNames[] = {"ids",   "streams",   "runs",   "types",
                                                  "times", "scheduler", "canvas", "memory"};

// Every field, one line, for comparisons with readable diffs.
std::string Dump(const Task& t);
std::string Dump(const RunInfo& r);
std::string Dump(const Anomaly& a);
template <typename T>
std::vector<std::string> DumpAll(const std::vector<T>& v) {
  std::vector<std::string> out;
  for (const T& x : v) out.push_back(Dump(x));
  return out;
}

// Result<T> -> T; on error the test fails (non-fatally) and a default T comes back.
template <typename T>
T Must(Result<T> r) {
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return T{};
  return std::move(r).value();
}

// A state with all the projections in a temporary directory, fed by an EventLog: Emit appends an
// event (recorded 1 µs after the previous one) and applies it at once, or, when deferred, on
// ApplyPending (all pending events as one batch). The read helpers take a fresh snapshot each.
class Harness {
 public:
  Harness();
  Lsn Emit(std::string type, std::string run, nlohmann::json data, int64_t occurred_ns = 0);
  // A task event: data is `extra` plus {"task": task}.
  Lsn EmitTask(std::string type, std::string run, std::string task,
               nlohmann::json extra = nlohmann::json::object(), int64_t occurred_ns = 0);
  void set_deferred(bool d) { deferred_ = d; }
  Status ApplyPending();

  std::vector<Task> Tasks(const std::optional<std::string>& run, Lsn as_of = UINT64_MAX);
  std::optional<Task> GetTask(std::string_view run, std::string_view task, Lsn as_of = UINT64_MAX);
  std::vector<Anomaly> Anomalies(const std::optional<std::string>& run = std::nullopt,
                                 Lsn as_of = UINT64_MAX);
  std::optional<RunInfo> Run(std::string_view run, Lsn as_of = UINT64_MAX);
  std::vector<RunInfo> Runs(Lsn as_of = UINT64_MAX);
  std::vector<Task> ReadyQueue(std::string_view run, Lsn as_of = UINT64_MAX);
  std::vector<SchedulerReader::TreeNode> Tree(std::string_view run, Lsn as_of = UINT64_MAX);

  EventLog& log() { return log_; }
  StateStore* store() { return state_->store.get(); }
  Lsn applied() const { return applied_; }

 private:
  tink::testing::TempDir dir_;
  std::unique_ptr<State> state_;
  EventLog log_;
  Lsn applied_ = 0;
  int64_t clock_ = 1'700'000'000'000'000'000;
  bool deferred_ = false;
};

}  // namespace tink::projections::testing
