// Status and Result<T>: the error vocabulary of every layer (no exceptions in the engine core).
//
// schema/ is the lowest layer, so the shared vocabulary types live here; every higher layer
// includes "schema/status.h". Modelled on LevelDB util/status.h and Abseil StatusOr.
//
// Thread safety: values, freely copyable; no shared state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace tink {

enum class Code : uint8_t {
  kOk = 0,
  kInvalidArgument,  // bad input from a caller: malformed JSON, unknown type, oversized record
  kNotFound,
  kConflict,      // optimistic-concurrency mismatch, lock held by another process
  kCorruption,    // bytes on disk are not what we wrote
  kIOError,       // the OS refused (EIO, ENOSPC, failed fsync); see subcode
  kFailed,        // the log is in its sticky read-only failed state after an I/O error
  kNotSupported,
};

enum class SubCode : uint8_t { kNone = 0, kNoSpace };

class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg) { return {Code::kInvalidArgument, std::move(msg)}; }
  static Status NotFound(std::string msg) { return {Code::kNotFound, std::move(msg)}; }
  static Status Conflict(std::string msg) { return {Code::kConflict, std::move(msg)}; }
  static Status Corruption(std::string msg) { return {Code::kCorruption, std::move(msg)}; }
  static Status IOError(std::string msg, SubCode sub = SubCode::kNone) {
    Status s(Code::kIOError, std::move(msg));
    s.sub_ = sub;
    return s;
  }
  static Status Failed(std::string msg) { return {Code::kFailed, std::move(msg)}; }
  static Status NotSupported(std::string msg) { return {Code::kNotSupported, std::move(msg)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  SubCode subcode() const { return sub_; }
  bool IsCorruption() const { return code_ == Code::kCorruption; }
  bool IsIOError() const { return code_ == Code::kIOError; }
  bool IsNoSpace() const { return code_ == Code::kIOError && sub_ == SubCode::kNoSpace; }
  bool IsInvalidArgument() const { return code_ == Code::kInvalidArgument; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsConflict() const { return code_ == Code::kConflict; }
  bool IsFailed() const { return code_ == Code::kFailed; }
  const std::string& message() const { return msg_; }

  // "Corruption: segment 00000000000000000001.seg offset 4096: bad checksum".
  std::string ToString() const;

  // Returns a copy whose message is prefixed with `context: `.
  Status WithContext(std::string_view context) const;

 private:
  Status(Code c, std::string msg) : code_(c), msg_(std::move(msg)) {}
  Code code_ = Code::kOk;
  SubCode sub_ = SubCode::kNone;
  std::string msg_;
};

// Result<T>: a T or a non-ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT: implicit by design
  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace tink

#define TINK_CONCAT_IMPL(a, b) a##b
#define TINK_CONCAT(a, b) TINK_CONCAT_IMPL(a, b)

#define RETURN_IF_ERROR(expr)                \
  do {                                       \
    ::tink::Status _tink_st = (expr);        \
    if (!_tink_st.ok()) return _tink_st;     \
  } while (0)

#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.ok()) return tmp.status();         \
  lhs = std::move(tmp).value()

#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(TINK_CONCAT(_tink_res_, __LINE__), lhs, expr)
