// The index projections (DESIGN.md §4–§5): each is a Projection with its own column family.
//
//   ids      id                        -> BE64(lsn)      durable idempotency: one key per event id
//   streams  ostr(stream) ‖ BE64(ver)  -> BE64(lsn)      stream versions start at 0, gapless
//   runs     ostr(run) ‖ BE64(lsn)     -> ""             events of a run, in LSN order
//   types    ostr(type) ‖ BE64(lsn)    -> ""             events of a type
//   times    BE64(time_ns)             -> BE64(lsn)      first LSN recorded at each distinct time
//
// (ostr: projections/keys.h AppendOrdered.) The time index is sparse: record times never
// decrease, so one key per distinct time answers "last LSN at or before T".
//
// Thread safety: as Projection. The lookups take a StateReader (a snapshot) or, for the engine's
// append path, the live StateStore.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <unordered_map>

#include "projections/reader.h"

namespace tink::projections {

class IdsIndex final : public Projection {
 public:
  std::string_view name() const override { return "ids"; }
  uint32_t format_version() const override { return 1; }
  Status Apply(const Event& e, ApplyContext& ctx) override;
  void ResetCache() override {}
};

class StreamsIndex final : public Projection {
 public:
  std::string_view name() const override { return "streams"; }
  uint32_t format_version() const override { return 1; }
  Status Apply(const Event& e, ApplyContext& ctx) override;
  void ResetCache() override { next_version_.clear(); }

 private:
  std::unordered_map<std::string, uint64_t> next_version_;  // stream -> next version
};

class RunsIndex final : public Projection {
 public:
  std::string_view name() const override { return "runs"; }
  uint32_t format_version() const override { return 1; }
  Status Apply(const Event& e, ApplyContext& ctx) override;
  void ResetCache() override {}
};

class TypesIndex final : public Projection {
 public:
  std::string_view name() const override { return "types"; }
  uint32_t format_version() const override { return 1; }
  Status Apply(const Event& e, ApplyContext& ctx) override;
  void ResetCache() override {}
};

class TimesIndex final : public Projection {
 public:
  std::string_view name() const override { return "times"; }
  uint32_t format_version() const override { return 1; }
  Status Apply(const Event& e, ApplyContext& ctx) override;
  void ResetCache() override { last_time_.reset(); }

 private:
  std::optional<int64_t> last_time_;
};

// The LSN of the event with this id, if any.
Result<std::optional<Lsn>> LookupId(StateReader& r, std::string_view id);
// The stream's current version (that of its last event), nullopt if it has no events.
Result<std::optional<uint64_t>> StreamVersion(StateReader& r, std::string_view stream);

// Snapshot lookups: LSNs of a stream (versions >= from_version), a run, or a type, with
// from <= lsn <= to, ascending. fn returns false to stop.
using LsnFn = std::function<bool(Lsn)>;
Status StreamLsns(StateReader& r, std::string_view stream, uint64_t from_version, Lsn from, Lsn to,
                  const LsnFn& fn);
Status RunLsns(StateReader& r, std::string_view run, Lsn from, Lsn to, const LsnFn& fn);
Status TypeLsns(StateReader& r, std::string_view type, Lsn from, Lsn to, const LsnFn& fn);
// Every distinct run id / type name with its event count (for listings and completion).
Status ListRuns(StateReader& r, const std::function<bool(std::string_view run, Lsn first)>& fn);

}  // namespace tink::projections
