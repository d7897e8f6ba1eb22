#include "schema/status.h"

namespace tink {

namespace {
const char* CodeName(Code c) {
  switch (c) {
    case Code::kOk: return "OK";
    case Code::kInvalidArgument: return "Invalid argument";
    case Code::kNotFound: return "Not found";
    case Code::kConflict: return "Conflict";
    case Code::kCorruption: return "Corruption";
    case Code::kIOError: return "IO error";
    case Code::kFailed: return "Log failed (read-only)";
    case Code::kNotSupported: return "Not supported";
  }
  return "Unknown";
}
}  // namespace

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string s = CodeName(code_);
  if (sub_ == SubCode::kNoSpace) s += " (no space left on device)";
  if (!msg_.empty()) {
    s += ": ";
    s += msg_;
  }
  return s;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  Status s = *this;
  s.msg_ = std::string(context) + ": " + msg_;
  return s;
}

}  // namespace tink
