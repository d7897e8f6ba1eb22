#include "projections/indexes.h"

namespace tink::projections {

namespace {

std::string LsnValue(Lsn lsn) {
  std::string v;
  AppendBE64(&v, lsn);
  return v;
}

std::string StreamPrefix(std::string_view stream) {
  std::string k;
  AppendOrdered(&k, stream);
  return k;
}

// Scans `prefix ‖ BE64(lsn)` keys for lsn in [from, to].
Status ScanLsnKeys(StateReader& r, std::string_view cf, const std::string& prefix, Lsn from,
                   Lsn to, const LsnFn& fn) {
  std::string start = prefix;
  AppendBE64(&start, from);
  return r.Scan(cf, prefix, start, [&](std::string_view key, std::string_view) {
    const Lsn lsn = DecodeBE64(key.substr(prefix.size()));
    if (lsn > to) return false;
    return fn(lsn);
  });
}

}  // namespace

Status IdsIndex::Apply(const Event& e, ApplyContext& ctx) {
  // The engine never writes an id twice (Engine::Append checks this index first), so no read
  // here: a point read per event cost 13% of replay time. A log written by other means that
  // repeats an id gets the later LSN for it, deterministically.
  ctx.Put(e.view.id, LsnValue(e.lsn));
  return Status::Ok();
}

Status StreamsIndex::Apply(const Event& e, ApplyContext& ctx) {
  std::string stream(e.view.stream);
  auto it = next_version_.find(stream);
  if (it == next_version_.end()) {
    const std::string prefix = StreamPrefix(stream);
    ASSIGN_OR_RETURN(auto last, ctx.LastWithPrefix(prefix));
    const uint64_t next =
        last ? DecodeBE64(std::string_view(last->first).substr(prefix.size())) + 1 : 0;
    it = next_version_.emplace(stream, next).first;
  }
  std::string k = StreamPrefix(stream);
  AppendBE64(&k, it->second++);
  ctx.Put(k, LsnValue(e.lsn));
  return Status::Ok();
}

Status RunsIndex::Apply(const Event& e, ApplyContext& ctx) {
  if (e.view.run.empty()) return Status::Ok();
  std::string k;
  AppendOrdered(&k, e.view.run);
  AppendBE64(&k, e.lsn);
  ctx.Put(k, "");
  return Status::Ok();
}

Status TypesIndex::Apply(const Event& e, ApplyContext& ctx) {
  std::string k;
  AppendOrdered(&k, e.view.type);
  AppendBE64(&k, e.lsn);
  ctx.Put(k, "");
  return Status::Ok();
}

Status TimesIndex::Apply(const Event& e, ApplyContext& ctx) {
  if (!last_time_) {
    ASSIGN_OR_RETURN(auto last, ctx.LastWithPrefix(""));
    last_time_ = last ? static_cast<int64_t>(DecodeBE64(last->first)) : INT64_MIN;
  }
  if (e.time_ns != *last_time_) {
    std::string k;
    AppendBE64(&k, static_cast<uint64_t>(e.time_ns));
    ctx.Put(k, LsnValue(e.lsn));
    last_time_ = e.time_ns;
  }
  return Status::Ok();
}

Result<std::optional<Lsn>> LookupId(StateReader& r, std::string_view id) {
  ASSIGN_OR_RETURN(std::optional<std::string> v, r.Get("ids", id));
  if (!v) return std::optional<Lsn>();
  if (v->size() != 8) return Status::Corruption("ids index: bad value for id " + std::string(id));
  return std::optional<Lsn>(DecodeBE64(*v));
}

Result<std::optional<uint64_t>> StreamVersion(StateReader& r, std::string_view stream) {
  const std::string prefix = StreamPrefix(stream);
  std::optional<uint64_t> version;
  RETURN_IF_ERROR(r.ScanReverse("streams", prefix, [&](std::string_view key, std::string_view) {
    version = DecodeBE64(key.substr(prefix.size()));
    return false;
  }));
  return version;
}

Status StreamLsns(StateReader& r, std::string_view stream, uint64_t from_version, Lsn from,
                  Lsn to, const LsnFn& fn) {
  const std::string prefix = StreamPrefix(stream);
  std::string start = prefix;
  AppendBE64(&start, from_version);
  return r.Scan("streams", prefix, start, [&](std::string_view, std::string_view value) {
    const Lsn lsn = DecodeBE64(value);
    if (lsn < from) return true;
    if (lsn > to) return false;
    return fn(lsn);
  });
}

Status RunLsns(StateReader& r, std::string_view run, Lsn from, Lsn to, const LsnFn& fn) {
  return ScanLsnKeys(r, "runs", StreamPrefix(run), from, to, fn);
}

Status TypeLsns(StateReader& r, std::string_view type, Lsn from, Lsn to, const LsnFn& fn) {
  return ScanLsnKeys(r, "types", StreamPrefix(type), from, to, fn);
}

Status ListRuns(StateReader& r, const std::function<bool(std::string_view, Lsn)>& fn) {
  std::string next;  // where the next run's keys begin
  std::string run;
  while (true) {
    bool found = false;
    Lsn first = 0;
    RETURN_IF_ERROR(r.Scan("runs", "", next, [&](std::string_view key, std::string_view) {
      std::string_view in = key;
      if (!DecodeOrdered(&in, &run) || !DecodeBE64(&in, &first)) return false;
      found = true;
      next = PrefixEnd(key.substr(0, key.size() - 8));  // skip the rest of this run
      return false;
    }));
    if (!found || !fn(run, first)) return Status::Ok();
  }
}

}  // namespace tink::projections
