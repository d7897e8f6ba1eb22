// FlatBuffers (object API) <-> bytes for projection state values. Internal to projections/.
#pragma once

#include <flatbuffers/flatbuffers.h>

#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "schema/status.h"

namespace tink::projections::internal {

template <typename T>
std::string Pack(const T& obj) {
  flatbuffers::FlatBufferBuilder fbb(256);
  fbb.Finish(T::TableType::Pack(fbb, &obj));
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

// Values come back from RocksDB in unaligned storage: copied to an aligned buffer and verified
// before they are unpacked (RocksDB checksums blocks, but a value is still bytes from disk).
template <typename Table, typename T>
Status Unpack(std::string_view bytes, T* out) {
  std::unique_ptr<uint64_t[]> buf(new uint64_t[bytes.size() / 8 + 1]);
  std::memcpy(buf.get(), bytes.data(), bytes.size());
  flatbuffers::Verifier v(reinterpret_cast<const uint8_t*>(buf.get()), bytes.size());
  if (!v.VerifyBuffer<Table>(nullptr)) {
    return Status::Corruption("projection state fails FlatBuffers verification");
  }
  flatbuffers::GetRoot<Table>(buf.get())->UnPackTo(out);
  return Status::Ok();
}

}  // namespace tink::projections::internal
