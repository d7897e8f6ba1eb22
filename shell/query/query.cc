// QueryError, cancellation, and the value semantics of exec.h.
#include "shell/query/query.h"

#include <cstdint>
#include <string>

#include "shell/query/exec.h"

namespace tink::query {
namespace {

constexpr std::string_view kCancelled = "query cancelled";

// Rank of a JSON type in the total order; null is last.
int Rank(const Json& v) {
  if (v.is_number()) return 0;
  if (v.is_string()) return 1;
  if (v.is_boolean()) return 2;
  if (v.is_array()) return 3;
  if (v.is_object()) return 4;
  return 5;
}

// Numbers of any JSON kind, compared exactly when both are integers.
int OrderNumbers(const Json& a, const Json& b) {
  if (a.is_number_integer() && b.is_number_integer()) {
    auto wide = [](const Json& v) -> __int128 {
      return v.is_number_unsigned() ? static_cast<__int128>(v.get<uint64_t>())
                                    : static_cast<__int128>(v.get<int64_t>());
    };
    const __int128 x = wide(a), y = wide(b);
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  const double x = a.get<double>(), y = b.get<double>();
  return x < y ? -1 : (x > y ? 1 : 0);
}

}  // namespace

std::string QueryError::ToString() const {
  return "error at " + std::to_string(pos.line) + ":" + std::to_string(pos.col) + ": " + message;
}

// There is no Code for cancellation; InvalidArgument with a fixed message is told apart by
// IsCancelled. (The user asked for it, so it is a "user" outcome, not a store failure.)
Status Cancelled() { return Status::InvalidArgument(std::string(kCancelled)); }

bool IsCancelled(const Status& s) { return s.IsInvalidArgument() && s.message() == kCancelled; }

const Json* Lookup(const Row& row, std::string_view path) {
  if (!row.is_object()) return nullptr;
  if (auto it = row.find(path); it != row.end()) return &*it;
  const Json* cur = &row;
  while (!path.empty()) {
    const size_t dot = path.find('.');
    const std::string_view seg = path.substr(0, dot);
    path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
    if (cur->is_object()) {
      auto it = cur->find(seg);
      if (it == cur->end()) return nullptr;
      cur = &*it;
    } else if (cur->is_array()) {
      size_t i = 0;
      if (seg.empty()) return nullptr;
      for (char c : seg) {
        if (c < '0' || c > '9') return nullptr;
        i = i * 10 + static_cast<size_t>(c - '0');
        if (i > cur->size()) return nullptr;
      }
      if (i >= cur->size()) return nullptr;
      cur = &(*cur)[i];
    } else {
      return nullptr;
    }
  }
  return cur;
}

bool EqualValues(const Json& a, const Json& b) {
  if (a.is_number() && b.is_number()) return OrderNumbers(a, b) == 0;
  return a == b;
}

int OrderValues(const Json& a, const Json& b) {
  const int ra = Rank(a), rb = Rank(b);
  if (ra != rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case 0:
      return OrderNumbers(a, b);
    case 1: {
      const int c = a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>());
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    case 2:
      return static_cast<int>(a.get<bool>()) - static_cast<int>(b.get<bool>());
    case 5:
      return 0;
    default: {
      const int c = a.dump().compare(b.dump());
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
  }
}

bool CompareValues(const Json* a, CmpOp op, const Json* b) {
  const bool an = a == nullptr || a->is_null();
  const bool bn = b == nullptr || b->is_null();
  if (an || bn) return false;  // `== null` / `!= null` are the executor's null tests
  switch (op) {
    case CmpOp::kEq:
      return EqualValues(*a, *b);
    case CmpOp::kNe:
      return !EqualValues(*a, *b);
    case CmpOp::kContains:
      return a->is_string() && b->is_string() &&
             a->get_ref<const std::string&>().find(b->get_ref<const std::string&>()) !=
                 std::string::npos;
    case CmpOp::kMatch:
      return false;  // needs a compiled regex: the executor handles =~
    default:
      break;
  }
  // Ordering: numbers with numbers, strings with strings, booleans with booleans; else false.
  const int ra = Rank(*a), rb = Rank(*b);
  if (ra != rb || ra > 2) return false;
  const int c = OrderValues(*a, *b);
  switch (op) {
    case CmpOp::kLt:
      return c < 0;
    case CmpOp::kLe:
      return c <= 0;
    case CmpOp::kGt:
      return c > 0;
    case CmpOp::kGe:
      return c >= 0;
    default:
      return false;
  }
}

}  // namespace tink::query
