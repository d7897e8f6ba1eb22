// LogImpl: the state behind tink::log::Log. Internal to log/.
//
// Threads: any number of appenders and readers; one writer thread owns the active segment's
// WritableFile, the chain state and the encode buffer. Readers see a segment's records up to its
// published `end` (release/acquire), which the writer advances only after a group is written
// and, in kAlways, synced.
#pragma once

#include <xxhash.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "log/internal/segment.h"
#include "log/log.h"

namespace tink::log::internal {

// One queued append (or sync). Owned by its submitter; the writer fills result and sets done.
struct AppendRequest {
  std::span<const std::string_view> payloads;
  Result<AppendResult> result{Status::Ok()};
  Lsn first_lsn = 0;       // reserved at submission; the writer asserts it
  bool sync_only = false;  // Sync(): no records, force an fdatasync
  // Its records were published (made visible) before its group failed, e.g. in the segment
  // sealed by a rollover whose next segment could not be created: it succeeded.
  bool published = false;  // writer thread only
  bool done = false;       // guarded by LogImpl::mu_
  // Each waiter has its own condition variable so finishing a group wakes exactly its
  // members, not every thread already queued for the next group.
  std::condition_variable cv;
};

// One segment file as readers see it.
struct Segment {
  std::string name;
  std::string path;
  Lsn first_lsn = 0;
  uint64_t prev_checksum = 0;  // chain value before its first record
  uint32_t mark = kWriteEndMarkSize;  // end-mark bytes after each write (EndMarkSize(version))
  std::shared_ptr<RandomAccessFile> file;
  std::atomic<uint64_t> end{kSegmentHeaderSize};  // end of published records
  std::atomic<Lsn> last_lsn{0};                   // first_lsn - 1 while empty
  std::atomic<bool> sealed{false};
  std::atomic<int64_t> first_time{0};
  std::atomic<int64_t> last_time{0};
  uint64_t last_checksum = 0;  // chain value after its last record; set when sealed or loaded

  mutable std::mutex index_mu;
  std::vector<IndexEntry> index;  // guarded by index_mu; sparse LSN -> offset, time -> LSN
};

class LogImpl {
 public:
  LogImpl(std::string dir, LogOptions options);
  ~LogImpl();

  // recovery.cc
  Status Open(RecoveryReport* report);
  Status Refresh();

  // writer.cc
  Result<AppendResult> Append(std::span<const std::string_view> payloads);
  // Validates and queues `req` (payloads set), reserving its LSNs; does not wait.
  Status Submit(AppendRequest* req);
  // Blocks until the writer has finished `req`.
  Result<AppendResult> Wait(AppendRequest* req);
  Status Sync();
  Status Close();

  // reader.cc
  std::unique_ptr<LogIterator> NewIterator(Lsn from);
  Lsn LsnAtTime(int64_t time_ns);

  Lsn LastLsn() const { return visible_lsn_.load(std::memory_order_acquire); }
  bool WaitFor(Lsn lsn, std::chrono::milliseconds timeout);
  Status WaitAcknowledged(Lsn lsn);
  LogStats Stats() const;
  LogCounters counters() const {
    return {groups_.load(std::memory_order_relaxed), records_.load(std::memory_order_relaxed),
            bytes_.load(std::memory_order_relaxed), syncs_.load(std::memory_order_relaxed)};
  }
  Status status() const;
  const std::string& store_id_hex() const { return store_id_hex_; }

  // Snapshot of the segment list (shared ownership keeps files open for readers).
  std::vector<std::shared_ptr<Segment>> Segments() const;
  const LogOptions& options() const { return options_; }
  FileSystem* fs() const { return fs_; }

 private:
  using Request = AppendRequest;

  // recovery.cc
  Status LoadSealed(const std::shared_ptr<Segment>& seg, const SegmentHeader& h,
                    uint64_t file_size);
  Status RecoverActive(const std::shared_ptr<Segment>& seg, const SegmentHeader& h,
                       int64_t min_time, RecoveryReport* report);
  Status LoadSegments(const std::vector<SegmentName>& listed, size_t from, Lsn* expected_first,
                      uint64_t* expected_prev, int64_t* last_time,
                      std::vector<std::shared_ptr<Segment>>* out, RecoveryReport* report);
  Status CheckHeader(const std::string& name, const SegmentHeader& h, Lsn expected_first,
                     uint64_t expected_prev, bool first_segment);
  // The checkpoint, if there is one for `seg` (the last segment, `size` bytes) and it matches
  // the record it names (LSN, checksum, time, write end, offsets) and its own index is sane.
  std::optional<Checkpoint> UsableCheckpoint(const Segment& seg, const SegmentHeader& h,
                                             uint64_t size, int64_t min_time);

  // writer.cc (writer thread only)
  void WriterLoop();
  Status CommitGroup(std::vector<Request*>& group);
  Status WriteBuffer();
  // fdatasync of the active segment. On failure the bytes written since the last good sync are
  // overwritten with zeros (best effort): after a failed fsync the page cache may still show
  // them although they never reached the disk, and no later open may adopt them (fsyncgate).
  Status SyncActive();
  // Interval mode: syncs if the interval has passed since the last sync (under sustained load
  // the writer never goes idle, so this runs after every group).
  Status MaybeSyncInterval();
  Status SealActive();
  // Writes the checkpoint for the active segment when everything written is synced and at
  // least `min_bytes` were synced since the last one. Best effort: a failure is not an error
  // of the log (the next open scans more).
  void MaybeCheckpoint(uint64_t min_bytes);
  // XXH3 of the active segment's bytes [0, write_off_) (the footer's data checksum).
  Result<uint64_t> ActiveDataChecksum();
  Status CreateSegment(Lsn first_lsn);
  void Publish();
  void Fail(const Status& s);

  const std::string dir_;
  const LogOptions options_;
  FileSystem* const fs_;
  uint8_t store_id_[16] = {};
  std::string store_id_hex_;

  mutable std::mutex mu_;
  std::condition_variable writer_cv_;  // work for the writer
  std::condition_variable done_cv_;    // a group finished (WaitFor)
  std::deque<Request*> queue_;         // guarded by mu_
  Lsn reserved_lsn_ = 1;               // guarded by mu_; next LSN handed out by Submit
  Status error_;                       // guarded by mu_; sticky
  bool stop_ = false;                  // guarded by mu_
  bool closed_ = false;                // guarded by mu_
  std::vector<std::shared_ptr<Segment>> segments_;  // guarded by mu_
  std::atomic<Lsn> visible_lsn_{0};
  std::thread writer_;

  // Writer-thread state.
  std::unique_ptr<WritableFile> active_file_;
  std::shared_ptr<Segment> active_;
  uint64_t write_off_ = kSegmentHeaderSize;  // where the next record goes
  uint64_t durable_off_ = kSegmentHeaderSize;  // end of what the last successful sync covered
  uint64_t written_end_ = kSegmentHeaderSize;  // furthest byte written (records, footer)
  uint64_t chain_ = 0;                        // checksum of the last record
  Lsn next_lsn_ = 1;
  int64_t last_time_ = 0;
  uint64_t last_index_off_ = 0;
  uint64_t segment_records_ = 0;
  XXH3_state_t* data_hash_ = nullptr;  // over the active segment's bytes [0, write_off_)
  // The open resumed from a checkpoint and never read the bytes before it: data_hash_ is not
  // kept, and sealing hashes the file instead.
  bool hash_from_file_ = false;
  uint64_t allocated_ = 0;       // the active segment file's size (grown in kAllocationStep)
  uint64_t last_record_off_ = 0;  // offset of the last record written (0: none in the segment)
  // The checkpoint file names the active segment up to ckpt_end_ (0: it names another or none).
  uint64_t ckpt_end_ = 0;
  std::unique_ptr<WritableFile> ckpt_file_;
  std::string buf_;                    // encoded records not yet written
  uint64_t buf_off_ = 0;               // file offset of buf_[0]
  size_t last_rec_in_buf_ = 0;         // offset in buf_ of its last record
  uint32_t buf_records_ = 0;           // records in buf_ (the write's end mark names it)
  std::vector<IndexEntry> pending_index_;
  bool dirty_ = false;  // written but not synced
  std::atomic<uint64_t> groups_{0}, records_{0}, bytes_{0}, syncs_{0};  // LogCounters
  std::chrono::steady_clock::time_point last_sync_;  // per Now()
  std::chrono::steady_clock::time_point Now() const {
    return options_.clock ? options_.clock() : std::chrono::steady_clock::now();
  }
};

std::string HexId(const uint8_t id[16]);

// When a failed fsync's bytes could not even be overwritten with zeros, the writer notes here
// (process-wide) the offset from which `segment_path` holds nothing durable; the next open in
// this process treats everything from there as a torn tail. Another process cannot know: its
// page cache view is the kernel's, and a crash in between drops those bytes anyway.
void NoteUnsyncedFrom(const std::string& segment_path, uint64_t offset);
std::optional<uint64_t> UnsyncedFrom(const std::string& segment_path);
void ForgetUnsynced(const std::string& segment_path);
int64_t NowNs();

}  // namespace tink::log::internal
