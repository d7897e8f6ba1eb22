// Engine::Append: validation, durable idempotency by id, expected stream versions, then the log.
//
// The checks and the log submission happen under append_mu_, so they see every earlier append;
// the wait for durability happens outside it, so concurrent appends still share one fdatasync.
// What was submitted but is not yet in the ids/streams projections is kept in pending_ids_ /
// pending_streams_ and counted together with a snapshot of the projection state.
#include <algorithm>
#include <thread>
#include <unordered_set>

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
  std::vector<std::string> payloads(events.size());
  std::vector<std::string> ids(events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    ids[i] = events[i].id.empty() ? NewEventId() : events[i].id;
  }
  // Encoding is most of the CPU of a large batch (an import): two threads above a few thousand.
  std::vector<Status> errors(2);
  std::vector<size_t> error_at(2, 0);
  auto encode = [&](int part, size_t from, size_t to) {
    schema::EventInput with_id;
    for (size_t i = from; i < to; ++i) {
      const schema::EventInput* e = &events[i];
      if (e->id.empty()) {
        with_id = *e;
        with_id.id = ids[i];
        e = &with_id;
      }
      Result<std::string> enc = schema::EncodeEvent(*e);
      if (!enc.ok()) {
        errors[part] = enc.status();
        error_at[part] = i;
        return;
      }
      payloads[i] = std::move(enc).value();
    }
  };
  constexpr size_t kParallelFrom = 4096;
  if (events.size() >= kParallelFrom) {
    const size_t half = events.size() / 2;
    std::thread second(encode, 1, half, events.size());
    encode(0, 0, half);
    second.join();
  } else {
    encode(0, 0, events.size());
  }
  for (int part = 0; part < 2; ++part) {
    if (!errors[part].ok()) return at(error_at[part], errors[part]);
  }
  {
    std::unordered_set<std::string_view> seen;
    seen.reserve(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) {
      if (!seen.insert(ids[i]).second) {
        return at(i, Status::InvalidArgument("id '" + ids[i] + "' appears twice in the batch"));
      }
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
      auto id = pending_ids_.insert_or_assign(std::move(ids[i]), first + i).first;
      auto stream = pending_streams_.try_emplace(events[i].stream).first;
      stream->second.push_back(first + i);
      pending_order_.push_back({first + i, &id->first, &stream->first});
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
