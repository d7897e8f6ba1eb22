#include "projections/keys.h"

namespace tink::projections {

void AppendOrdered(std::string* out, std::string_view s) {
  for (char c : s) {
    out->push_back(c);
    if (c == '\0') out->push_back('\xff');
  }
  out->push_back('\0');
  out->push_back('\x01');
}

bool DecodeOrdered(std::string_view* in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in->size(); ++i) {
    const char c = (*in)[i];
    if (c != '\0') {
      out->push_back(c);
      continue;
    }
    if (i + 1 >= in->size()) return false;
    const char n = (*in)[i + 1];
    if (n == '\x01') {
      in->remove_prefix(i + 2);
      return true;
    }
    if (n != '\xff') return false;
    out->push_back('\0');
    ++i;
  }
  return false;
}

void AppendBE64(std::string* out, uint64_t v) {
  char b[8];
  for (int i = 7; i >= 0; --i) {
    b[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  out->append(b, 8);
}

uint64_t DecodeBE64(std::string_view b) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(b[i]);
  return v;
}

bool DecodeBE64(std::string_view* in, uint64_t* v) {
  if (in->size() < 8) return false;
  *v = DecodeBE64(in->substr(0, 8));
  in->remove_prefix(8);
  return true;
}

std::string VersionKey(std::string_view entity, Lsn lsn) {
  std::string k(entity);
  AppendBE64(&k, ~lsn);
  return k;
}

Lsn VersionOf(std::string_view key) {
  if (key.size() < 8) return 0;
  return ~DecodeBE64(key.substr(key.size() - 8));
}

std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    if (static_cast<uint8_t>(end.back()) != 0xff) {
      end.back() = static_cast<char>(static_cast<uint8_t>(end.back()) + 1);
      return end;
    }
    end.pop_back();
  }
  return end;
}

}  // namespace tink::projections
