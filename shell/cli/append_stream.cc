#include "shell/cli/append_stream.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>

namespace tink::cli {

std::string EnvelopeJson(const schema::EventInput& e) {
  using J = nlohmann::json;
  std::string env = "{\"stream\":" + J(e.stream).dump() + ",\"type\":" + J(e.type).dump() +
                    ",\"data\":" + (e.data_json.empty() ? std::string("{}") : e.data_json);
  if (!e.id.empty()) env += ",\"id\":" + J(e.id).dump();
  if (!e.run.empty()) env += ",\"run\":" + J(e.run).dump();
  if (e.occurred_ns != 0) env += ",\"occurred\":" + J(schema::FormatTime(e.occurred_ns)).dump();
  if (e.causation != 0) env += ",\"causation\":" + std::to_string(e.causation);
  return env + "}";
}

Result<schema::EventInput> ParseEventLine(std::string_view line) {
  ASSIGN_OR_RETURN(schema::EventInput e, schema::ParseEnvelopeJson(line));
  RETURN_IF_ERROR(schema::EncodeEvent(e).status());
  return e;
}

namespace {

// The bytes of an input descriptor and the lines in them.
class LineBuffer {
 public:
  explicit LineBuffer(int fd) : fd_(fd) {}

  // Reads once. block: waits for input; otherwise reads only if input is there now. Returns
  // whether bytes came (false at the end of input, or when nothing was waiting).
  Result<bool> Fill(bool block) {
    if (eof_) return false;
    if (!block) {
      pollfd p{fd_, POLLIN, 0};
      int r;
      do {
        r = ::poll(&p, 1, 0);
      } while (r < 0 && errno == EINTR);
      if (r < 0) return Status::IOError(std::string("poll on stdin: ") + std::strerror(errno));
      if (r == 0) return false;  // POLLIN or POLLHUP (the end, which read() reports) otherwise
    }
    Compact();
    char chunk[64 * 1024];
    ssize_t n;
    do {
      n = ::read(fd_, chunk, sizeof(chunk));
    } while (n < 0 && errno == EINTR);
    if (n < 0) return Status::IOError(std::string("reading stdin: ") + std::strerror(errno));
    if (n == 0) {
      eof_ = true;
      return false;
    }
    buf_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  // Whether a complete line (or, at the end, an unterminated last one) is buffered.
  bool HasLine() {
    if (buf_.find('\n', scanned_) != std::string::npos) return true;
    scanned_ = buf_.size();
    return eof_ && pos_ < buf_.size();
  }

  // Takes the next line (without its newline); call only when HasLine().
  std::string_view TakeLine() {
    const size_t nl = buf_.find('\n', std::max(pos_, scanned_));
    const size_t end = nl == std::string::npos ? buf_.size() : nl;
    std::string_view line(buf_.data() + pos_, end - pos_);
    pos_ = nl == std::string::npos ? buf_.size() : nl + 1;
    scanned_ = pos_;
    return line;
  }

  bool done() const { return eof_ && pos_ == buf_.size(); }

 private:
  // Drops consumed bytes once they are most of the buffer (views from TakeLine die here).
  void Compact() {
    if (pos_ == 0 || pos_ < buf_.size() / 2) return;
    buf_.erase(0, pos_);
    scanned_ -= pos_;
    pos_ = 0;
  }

  int fd_;
  std::string buf_;
  size_t pos_ = 0;      // start of the first line not taken
  size_t scanned_ = 0;  // no newline in [pos_, scanned_)
  bool eof_ = false;
};

std::string LineRange(uint64_t first, uint64_t last) {
  return first == last ? "stdin line " + std::to_string(first)
                       : "stdin lines " + std::to_string(first) + "-" + std::to_string(last);
}

}  // namespace

Status AppendLineBuffered(int fd, const AppendGroupFn& append, const AckedFn& acked,
                          LineGroupLimits limits, LineStreamStats* stats) {
  LineStreamStats local;
  LineStreamStats& st = stats ? *stats : local;
  LineBuffer in(fd);
  std::vector<schema::EventInput> group;
  while (true) {
    // Wait for one line; then take what is already there without waiting.
    while (!in.HasLine() && !in.done()) {
      ASSIGN_OR_RETURN(bool got, in.Fill(/*block=*/true));
      (void)got;
    }
    if (in.done() && !in.HasLine()) return Status::Ok();
    group.clear();
    size_t bytes = 0;
    uint64_t first_line = 0, last_line = 0;
    Status bad;
    while (group.size() < limits.max_lines && bytes < limits.max_bytes) {
      if (!in.HasLine()) {
        ASSIGN_OR_RETURN(bool got, in.Fill(/*block=*/false));
        if (!got && !in.HasLine()) break;
        continue;
      }
      std::string_view line = in.TakeLine();
      const uint64_t lineno = ++st.lines;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
      Result<schema::EventInput> e = ParseEventLine(line);
      if (!e.ok()) {
        const uint64_t before = st.events + group.size();
        bad = Status::InvalidArgument("stdin line " + std::to_string(lineno) + ": " +
                                      e.status().message() + "; stopped there: the " +
                                      std::to_string(before) +
                                      (before == 1 ? " event before it is" : " events before it are") +
                                      " stored, nothing from this line on");
        break;
      }
      if (group.empty()) first_line = lineno;
      last_line = lineno;
      bytes += line.size();
      group.push_back(std::move(e).value());
    }
    if (!group.empty()) {
      Result<std::vector<log::Lsn>> lsns = append(group);
      if (!lsns.ok()) {
        return lsns.status().WithContext(LineRange(first_line, last_line));
      }
      ++st.groups;
      st.events += lsns->size();
      acked(*lsns);
    }
    if (!bad.ok()) return bad;
  }
}

}  // namespace tink::cli
