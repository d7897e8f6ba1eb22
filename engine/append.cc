// Engine::Append: validation, durable idempotency by id, expected stream versions, then the log.
//
// The checks and the log submission happen under append_mu_, so they see every earlier append;
// the wait for durability happens outside it, so concurrent appends still share one fdatasync.
// What was submitted but is not yet in the ids/streams projections is kept in pending_ids_ /
// pending_streams_ and counted together with a snapshot of the projection state.
#include <algorithm>
#include <set>

#include "engine/engine.h"
#include "engine/kill_point.h"
#include "projections/indexes.h"

namespace tink::engine {

Result<AppendOutcome> Engine::Append(std::span<const schema::EventInput> events,
                                     const AppendOptions& options) {
  if (events.empty()) return Status::InvalidArgument("no events to append");
  if (!writable()) return Status::NotSupported("the store is open read-only");
  const auto at = [&](size_t i, const Status& s) {
    return events.size() == 1 ? s : s.WithContext("event " + std::to_string(i + 1));
  };
  std::vector<std::string> payloads;
  std::vector<std::string> ids;
  payloads.reserve(events.size());
  ids.reserve(events.size());
  std::set<std::string_view> seen;
  for (size_t i = 0; i < events.size(); ++i) {
    schema::EventInput e = events[i];
    if (e.id.empty()) e.id = NewEventId();
    Result<std::string> enc = schema::EncodeEvent(e);
    if (!enc.ok()) return at(i, enc.status());
    payloads.push_back(std::move(enc).value());
    ids.push_back(std::move(e.id));
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!seen.insert(ids[i]).second) {
      return at(i, Status::InvalidArgument("id '" + ids[i] + "' appears twice in the batch"));
    }
  }
  const std::string& stream = events[0].stream;
  if (options.expected.kind != Expected::Kind::kAny && !state_) {
    return Status::NotSupported("expected versions need the streams projection (the engine was "
                                "opened with projections off)");
  }
  if (options.expected.kind != Expected::Kind::kAny) {
    for (size_t i = 1; i < events.size(); ++i) {
      if (events[i].stream != stream) {
        return at(i, Status::InvalidArgument(
                         "an expected version applies to one stream; this batch also writes '" +
                         events[i].stream + "'"));
      }
    }
  }
  std::vector<std::string_view> views(payloads.begin(), payloads.end());

  std::unique_ptr<log::PendingAppend> pending;
  AppendOutcome duplicate;  // filled when every id is already in the store (or in flight)
  Lsn in_flight = 0;        // the highest original LSN that was only submitted, not applied
  // The checks and the submission, under append_mu_ (released on return).
  Status checked = [&]() -> Status {
    std::lock_guard<std::mutex> l(append_mu_);
    // After a failed write the pending maps may name LSNs that never reached the log: answer
    // nothing from them.
    RETURN_IF_ERROR(log_->status());
    std::unique_ptr<projections::StateReader> reader;
    if (state_) reader = std::make_unique<projections::StateReader>(state_.get());
    // Idempotency: an id seen before answers with its original LSN.
    std::vector<Lsn> originals(ids.size(), 0);
    size_t found = 0;
    for (size_t i = 0; i < ids.size(); ++i) {
      auto p = pending_ids_.find(ids[i]);
      if (p != pending_ids_.end()) {
        originals[i] = p->second;
        in_flight = std::max(in_flight, p->second);
      } else if (reader) {
        ASSIGN_OR_RETURN(std::optional<Lsn> lsn, projections::LookupId(*reader, ids[i]));
        if (lsn) originals[i] = *lsn;
      }
      if (originals[i] != 0) ++found;
    }
    if (found == ids.size()) {
      duplicate.lsns = std::move(originals);
      duplicate.duplicate = true;
      return Status::Ok();
    }
    if (found > 0) {
      for (size_t i = 0; i < ids.size(); ++i) {
        if (originals[i] != 0) {
          return at(i, Status::InvalidArgument(
                           "id '" + ids[i] + "' is already in the store (LSN " +
                           std::to_string(originals[i]) +
                           ") but other events of the batch are new; resend the whole original "
                           "batch or only new events"));
        }
      }
    }
    if (options.expected.kind != Expected::Kind::kAny) {
      std::optional<uint64_t> version;
      if (reader) {
        ASSIGN_OR_RETURN(version, projections::StreamVersion(*reader, stream));
        const Lsn indexed = reader->applied("streams");
        auto p = pending_streams_.find(stream);
        if (p != pending_streams_.end()) {
          for (Lsn lsn : p->second) {
            if (lsn > indexed) version = version ? *version + 1 : 0;
          }
        }
      }
      const Expected& x = options.expected;
      const bool ok = x.kind == Expected::Kind::kNoStream ? !version
                      : x.kind == Expected::Kind::kExists ? version.has_value()
                                                          : version && *version == x.version;
      if (!ok) {
        const std::string actual = version ? std::to_string(*version) : "no_stream";
        return Status::Conflict("stream '" + stream + "' is at version " + actual +
                                ", expected " + x.ToString());
      }
    }
    ASSIGN_OR_RETURN(pending, log_->Submit(views));
    const Lsn first = pending->first_lsn();
    for (size_t i = 0; i < ids.size(); ++i) {
      pending_ids_[ids[i]] = first + i;
      pending_streams_[events[i].stream].push_back(first + i);
    }
    return Status::Ok();
  }();
  RETURN_IF_ERROR(checked);
  if (duplicate.duplicate) {
    // A retry of an append that may still be in flight is acknowledged only when the original
    // is, and fails if the original does: never before the original is durable.
    if (in_flight != 0) RETURN_IF_ERROR(log_->WaitAcknowledged(in_flight));
    return duplicate;
  }
  KillPoint("append.after_submit");
  ASSIGN_OR_RETURN(log::AppendResult r, pending->Wait());
  AppendOutcome out;
  out.time_ns = r.time_ns;
  for (Lsn l = r.first_lsn; l <= r.last_lsn; ++l) out.lsns.push_back(l);
  return out;
}

}  // namespace tink::engine
