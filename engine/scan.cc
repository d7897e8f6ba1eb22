// Engine::Scan: `tink log` filters through the index projections instead of a full scan.
//
// One index drives the scan (stream, else run, else type); the other filters are checked on each
// record it yields. since/until become an LSN range through the time index. Records past the
// index's applied LSN (a read-only engine whose state snapshot lags the writer) are read from the log
// and filtered one by one, so the answer is always complete.
#include "engine/engine.h"
#include "projections/indexes.h"

namespace tink::engine {

namespace {

// Whether rec matches q. A payload whose checksum is valid but which does not decode is an error
// naming its LSN, never silently left out of the answer.
Result<bool> Matches(const LogQuery& q, const log::LogRecord& rec) {
  if (q.has_since && rec.time_ns < q.since_ns) return false;
  if (q.has_until && rec.time_ns > q.until_ns) return false;
  if (q.stream.empty() && q.run.empty() && q.type.empty()) return true;
  Result<schema::EventView> v = schema::DecodeEnvelope(rec.payload);
  if (!v.ok()) {
    return Status::Corruption("LSN " + std::to_string(rec.lsn) +
                              ": the event does not decode (" + v.status().message() + ")");
  }
  if (!q.stream.empty() && v->stream != q.stream) return false;
  if (!q.run.empty() && v->run != q.run) return false;
  if (!q.type.empty() && v->type != q.type) return false;
  return true;
}

// Reads records by ascending LSN, reusing one iterator while the LSNs are close together.
class RecordFetcher {
 public:
  explicit RecordFetcher(log::Log* log) : log_(log) {}
  // Positions on `lsn`; false if the log has no such record (status() says why).
  bool Seek(Lsn lsn) {
    if (it_ && it_->Valid() && it_->record().lsn <= lsn && lsn - it_->record().lsn <= 64) {
      while (it_->Valid() && it_->record().lsn < lsn) it_->Next();
    } else {
      it_ = log_->NewIterator(lsn);
      ++seeks_;
    }
    return it_->Valid() && it_->record().lsn == lsn;
  }
  const log::LogRecord& record() const { return it_->record(); }
  Status status() const { return it_ ? it_->status() : Status::Ok(); }

 private:
  log::Log* log_;
  std::unique_ptr<log::LogIterator> it_;
  uint64_t seeks_ = 0;
};

}  // namespace

Status Engine::Scan(const LogQuery& q, const std::function<bool(const log::LogRecord&)>& fn,
                    ScanStats* stats) {
  ScanStats local;
  ScanStats& st = stats ? *stats : local;
  Lsn from = std::max<Lsn>(q.from, 1);
  Lsn to = std::min<Lsn>(q.to, log_->LastLsn());
  std::unique_ptr<projections::StateReader> reader;
  if (state_) {
    Result<std::unique_ptr<projections::StateReader>> r = NewReader();
    if (r.ok()) reader = std::move(r).value();
  }
  // Time bounds -> LSN bounds through the time index (only over what it has applied).
  Lsn indexed = 0;  // LSNs <= indexed are covered by every index used below
  if (reader) {
    indexed = std::min({reader->applied("streams"), reader->applied("runs"),
                        reader->applied("types"), reader->applied("times")});
    if (q.has_since && q.since_ns > 0) {
      ASSIGN_OR_RETURN(Lsn before, reader->LsnAtOrBefore(q.since_ns - 1));
      if (before < indexed) from = std::max(from, before + 1);
      st.index = "time";
    }
    if (q.has_until) {
      ASSIGN_OR_RETURN(Lsn last, reader->LsnAtOrBefore(q.until_ns));
      if (last < indexed) to = std::min(to, last);
      st.index = "time";
    }
  }
  if (from > to) return Status::Ok();

  const bool by_index = reader && (!q.stream.empty() || !q.run.empty() || !q.type.empty());
  if (by_index) {
    // The indexes never saw events that do not decode: an answer over their LSNs would leave
    // them out in silence.
    ASSIGN_OR_RETURN(std::vector<Lsn> bad, UndecodableLsns());
    for (Lsn l : bad) {
      if (l >= from && l <= to) {
        return Status::Corruption("LSN " + std::to_string(l) +
                                  ": the event does not decode, so no index holds it; "
                                  "`tink verify` lists every such event");
      }
    }
  }
  Lsn next = from;  // first LSN not yet covered
  if (by_index) {
    RecordFetcher fetch(log_.get());
    const Lsn index_to = std::min(to, indexed);
    bool stop = false;
    Status err;
    auto visit = [&](Lsn lsn) {
      ++st.index_lsns;
      if (!fetch.Seek(lsn)) {
        err = fetch.status().ok()
                  ? Status::Corruption("index names LSN " + std::to_string(lsn) +
                                       ", which is not in the log; run tink replay")
                  : fetch.status();
        return false;
      }
      ++st.records_read;
      Result<bool> m = Matches(q, fetch.record());
      if (!m.ok()) {
        err = m.status();
        return false;
      }
      if (!*m) return true;
      if (!fn(fetch.record())) {
        stop = true;
        return false;
      }
      return true;
    };
    if (index_to >= from) {
      if (!q.stream.empty()) {
        st.index = "stream";
        RETURN_IF_ERROR(projections::StreamLsns(*reader, q.stream, 0, from, index_to, visit));
      } else if (!q.run.empty()) {
        st.index = "run";
        RETURN_IF_ERROR(projections::RunLsns(*reader, q.run, from, index_to, visit));
      } else {
        st.index = "type";
        RETURN_IF_ERROR(projections::TypeLsns(*reader, q.type, from, index_to, visit));
      }
    }
    RETURN_IF_ERROR(err);
    if (stop) return Status::Ok();
    next = std::max(from, index_to + 1);
  }
  // The log itself: everything when no index applies, else only the unindexed tail.
  std::unique_ptr<log::LogIterator> it = log_->NewIterator(next);
  for (; it->Valid() && it->record().lsn <= to; it->Next()) {
    ++st.records_read;
    if (by_index) ++st.tail_scanned;
    ASSIGN_OR_RETURN(bool m, Matches(q, it->record()));
    if (!m) continue;
    if (!fn(it->record())) return Status::Ok();
  }
  return it->status();
}

}  // namespace tink::engine
