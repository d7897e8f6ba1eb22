// OutputRecorder (internal to engine/exec): turns a command's stdout and stderr into tool.output
// events without ever holding the command up.
//
// The reading thread hands bytes in with Add, which only copies them into a per-stream queue
// (or counts them as dropped) and never waits for the store. An appender thread takes whatever
// is queued, cuts it into chunks of at most chunk_bytes (at a UTF-8 character boundary; a
// chunk that is not valid UTF-8, or holds a NUL, is base64), and appends them as one group: when
// the store is slower than the command, chunks coalesce into larger groups. Bytes past a
// stream's cap, or arriving while more than queue_bytes wait, are counted, not recorded; their
// offsets leave a visible gap, and Finish records one final note per such stream
// (truncated: true, dropped_bytes: N).
//
// Thread safety: Add from one thread (the reader), Finish from the same; the sink is called
// only from the appender thread. Errors: the sink's first error, from Finish (output after it is
// counted, not recorded).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "engine/exec/exec.h"
#include "schema/thread_annotations.h"

namespace tink::exec::internal {

struct OutputConfig {
  std::string run, task, call_id;
  std::string event_stream;  // "run/R/task/T"
  uint64_t causation = 0;    // the tool.call's LSN
  size_t chunk_bytes = 64 << 10;
  size_t cap_bytes = 8 << 20;     // per stream
  size_t queue_bytes = 16 << 20;  // waiting for the appender, both streams together
  size_t group_bytes = 4 << 20;   // largest group handed to the sink at once
};

class OutputRecorder {
 public:
  OutputRecorder(OutputConfig config, const EventSink& sink);
  ~OutputRecorder();
  OutputRecorder(const OutputRecorder&) = delete;
  OutputRecorder& operator=(const OutputRecorder&) = delete;

  // stream: 0 stdout, 1 stderr.
  void Add(int stream, std::string_view bytes);
  // Appends what is queued and the truncation notes, stops the appender thread.
  Status Finish();

  struct StreamStats {
    uint64_t total = 0;     // bytes the command wrote
    uint64_t recorded = 0;  // bytes in tool.output events
    uint64_t dropped = 0;   // bytes not recorded (cap, full queue, or a failed sink)
  };
  StreamStats stats(int stream) const;
  log::Lsn first_lsn() const;
  log::Lsn last_lsn() const;

 private:
  struct Piece {
    uint64_t offset;
    std::string bytes;
  };
  struct StreamState {
    std::deque<Piece> queue;  // accepted, not yet appended
    uint64_t total = 0, accepted = 0, dropped = 0, recorded = 0;
    int64_t seq = 0;
  };
  void Loop();
  // Takes up to group_bytes of queued output as events; `final`: no more bytes will come, so a
  // trailing partial UTF-8 sequence goes out too.
  std::vector<schema::EventInput> TakeLocked(bool final) REQUIRES(mu_);
  void Chunk(int stream, const Piece& piece, std::vector<schema::EventInput>* out) REQUIRES(mu_);
  schema::EventInput Event(std::string data_json) const;
  Status AppendGroup(std::vector<schema::EventInput> events);

  const OutputConfig config_;
  const EventSink& sink_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  StreamState streams_[2] GUARDED_BY(mu_);
  size_t queued_bytes_ GUARDED_BY(mu_) = 0;
  bool stop_ GUARDED_BY(mu_) = false;
  Status error_ GUARDED_BY(mu_);
  log::Lsn first_lsn_ GUARDED_BY(mu_) = 0;
  log::Lsn last_lsn_ GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

// UTF-8 text without NUL (what a tool.output or file content may carry as text).
bool IsText(std::string_view bytes);
std::string Base64(std::string_view bytes);

}  // namespace tink::exec::internal
