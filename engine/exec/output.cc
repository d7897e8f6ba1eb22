// OutputRecorder: a command's output as tool.output events, appended off the reading thread.
#include "engine/exec/internal/output.h"

#include <simdjson.h>

#include <algorithm>
#include <boost/beast/core/detail/base64.hpp>
#include <nlohmann/json.hpp>

namespace tink::exec::internal {
namespace {

const char* const kStreamNames[2] = {"stdout", "stderr"};

bool IsContinuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// Bytes at the end of `s` that begin a UTF-8 sequence the end cuts short (0 if none).
size_t IncompleteTail(std::string_view s) {
  const size_t n = s.size();
  for (size_t back = 1; back <= 4 && back <= n; ++back) {
    const auto c = static_cast<unsigned char>(s[n - back]);
    if (IsContinuation(c)) continue;
    size_t need = 1;
    if ((c & 0xE0) == 0xC0)
      need = 2;
    else if ((c & 0xF0) == 0xE0)
      need = 3;
    else if ((c & 0xF8) == 0xF0)
      need = 4;
    return need > back ? back : 0;
  }
  return 0;
}

// A cut at most `limit` bytes into s, moved back to a character boundary when it would split
// one (never below limit - 3: binary data is cut where it is).
size_t CutPoint(std::string_view s, size_t limit) {
  if (s.size() <= limit) return s.size();
  size_t cut = limit;
  for (int i = 0; i < 3 && cut > 1 && IsContinuation(static_cast<unsigned char>(s[cut])); ++i) {
    --cut;
  }
  if (IsContinuation(static_cast<unsigned char>(s[cut]))) cut = limit;
  return cut;
}

}  // namespace

bool IsText(std::string_view bytes) {
  if (bytes.find('\0') != std::string_view::npos) return false;
  return simdjson::validate_utf8(bytes.data(), bytes.size());
}

std::string Base64(std::string_view bytes) {
  namespace b64 = boost::beast::detail::base64;
  std::string out(b64::encoded_size(bytes.size()), '\0');
  out.resize(b64::encode(out.data(), bytes.data(), bytes.size()));
  return out;
}

OutputRecorder::OutputRecorder(OutputConfig config, const EventSink& sink)
    : config_(std::move(config)), sink_(sink) {
  thread_ = std::thread([this] { Loop(); });
}

OutputRecorder::~OutputRecorder() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void OutputRecorder::Add(int stream, std::string_view bytes) {
  if (bytes.empty()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    StreamState& s = streams_[stream];
    const uint64_t offset = s.total;
    s.total += bytes.size();
    // Past the cap, over the queue's bound, or after the sink failed: counted only.
    const size_t room_cap = s.accepted >= config_.cap_bytes ? 0 : config_.cap_bytes - s.accepted;
    const size_t room_queue =
        queued_bytes_ >= config_.queue_bytes ? 0 : config_.queue_bytes - queued_bytes_;
    size_t take = error_.ok() ? std::min({bytes.size(), room_cap, room_queue}) : 0;
    if (take > 0) {
      if (!s.queue.empty() && s.queue.back().offset + s.queue.back().bytes.size() == offset) {
        s.queue.back().bytes.append(bytes.data(), take);
      } else {
        s.queue.push_back(Piece{offset, std::string(bytes.substr(0, take))});
      }
      s.accepted += take;
      queued_bytes_ += take;
    }
    s.dropped += bytes.size() - take;
  }
  cv_.notify_one();
}

schema::EventInput OutputRecorder::Event(std::string data_json) const {
  schema::EventInput e;
  e.stream = config_.event_stream;
  e.type = "tool.output";
  e.run = config_.run;
  e.causation = config_.causation;
  e.data_json = std::move(data_json);
  return e;
}

void OutputRecorder::Chunk(int stream, const Piece& piece, std::vector<schema::EventInput>* out) {
  StreamState& s = streams_[stream];
  std::string_view rest = piece.bytes;
  uint64_t offset = piece.offset;
  while (!rest.empty()) {
    const size_t cut = CutPoint(rest, config_.chunk_bytes);
    const std::string_view part = rest.substr(0, cut);
    nlohmann::json d;
    d["task"] = config_.task;
    d["call_id"] = config_.call_id;
    d["stream"] = kStreamNames[stream];
    d["seq"] = s.seq++;
    d["offset"] = offset;
    if (IsText(part)) {
      d["text"] = std::string(part);
    } else {
      d["text"] = Base64(part);
      d["encoding"] = "base64";
    }
    out->push_back(Event(d.dump()));
    s.recorded += part.size();
    offset += part.size();
    rest.remove_prefix(cut);
  }
}

std::vector<schema::EventInput> OutputRecorder::TakeLocked(bool final) {
  std::vector<schema::EventInput> events;
  size_t budget = config_.group_bytes;
  for (int i = 0; i < 2 && budget > 0; ++i) {
    StreamState& s = streams_[i];
    while (!s.queue.empty() && budget > 0) {
      Piece& front = s.queue.front();
      const bool last = s.queue.size() == 1;
      size_t take = front.bytes.size();
      // The newest bytes may end inside a character whose rest is still in the pipe.
      if (last && !final) take -= IncompleteTail(front.bytes);
      if (take > budget) take = CutPoint(front.bytes, budget);
      if (take == 0) break;
      budget -= std::min(budget, take);
      queued_bytes_ -= take;
      if (take == front.bytes.size()) {
        Chunk(i, front, &events);
        s.queue.pop_front();
        continue;
      }
      Chunk(i, Piece{front.offset, front.bytes.substr(0, take)}, &events);
      front.bytes.erase(0, take);
      front.offset += take;
      if (last) break;
    }
  }
  return events;
}

Status OutputRecorder::AppendGroup(std::vector<schema::EventInput> events) {
  if (events.empty()) return Status::Ok();
  Result<std::vector<log::Lsn>> lsns = sink_(events);
  std::lock_guard<std::mutex> lock(mu_);
  if (!lsns.ok()) {
    if (error_.ok()) error_ = lsns.status();
    return lsns.status();
  }
  if (!lsns->empty()) {
    if (first_lsn_ == 0) first_lsn_ = lsns->front();
    last_lsn_ = lsns->back();
  }
  return Status::Ok();
}

void OutputRecorder::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || queued_bytes_ > 0; });
    if (stop_) return;  // Finish takes the rest
    if (!error_.ok()) {
      // Nothing more will be appended: what is queued counts as dropped.
      for (StreamState& s : streams_) {
        for (const Piece& p : s.queue) s.dropped += p.bytes.size();
        s.queue.clear();
      }
      queued_bytes_ = 0;
      continue;
    }
    std::vector<schema::EventInput> events = TakeLocked(/*final=*/false);
    if (events.empty()) {
      // Only an incomplete character is queued: wait for more (or for Finish).
      cv_.wait(lock);
      continue;
    }
    lock.unlock();
    (void)AppendGroup(std::move(events));  // an error is kept in error_
    lock.lock();
  }
}

Status OutputRecorder::Finish() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  // The appender is gone: the rest is appended from here, in order.
  for (;;) {
    std::vector<schema::EventInput> events;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!error_.ok() || queued_bytes_ == 0) break;
      events = TakeLocked(/*final=*/true);
    }
    if (events.empty()) break;
    if (!AppendGroup(std::move(events)).ok()) break;
  }
  std::vector<schema::EventInput> notes;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int i = 0; i < 2; ++i) {
      StreamState& s = streams_[i];
      for (const Piece& p : s.queue) s.dropped += p.bytes.size();
      s.queue.clear();
      if (s.dropped == 0) continue;
      nlohmann::json d;
      d["task"] = config_.task;
      d["call_id"] = config_.call_id;
      d["stream"] = kStreamNames[i];
      d["seq"] = s.seq++;
      d["offset"] = s.total;
      d["truncated"] = true;
      d["dropped_bytes"] = s.dropped;
      notes.push_back(Event(d.dump()));
    }
    queued_bytes_ = 0;
    if (!error_.ok()) return error_;
  }
  return AppendGroup(std::move(notes));
}

OutputRecorder::StreamStats OutputRecorder::stats(int stream) const {
  std::lock_guard<std::mutex> lock(mu_);
  const StreamState& s = streams_[stream];
  return StreamStats{s.total, s.recorded, s.dropped};
}

log::Lsn OutputRecorder::first_lsn() const {
  std::lock_guard<std::mutex> lock(mu_);
  return first_lsn_;
}

log::Lsn OutputRecorder::last_lsn() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_lsn_;
}

}  // namespace tink::exec::internal
