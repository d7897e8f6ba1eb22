// Shared by the memory projection's files (memory.cc folds events, memory_reader.cc answers
// queries, memory_records.cc holds what both need): the key layout of projections/memory.h, the
// adjacency value and the stored node/edge records. Not part of the projection's API.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <flatbuffers/flatbuffers.h>

#include "projections/memory.h"

namespace tink::projections::memory_internal {

// Key tags (projections/memory.h lists the layout).
constexpr char kNode = 'N', kEdge = 'E', kOut = 'O', kIn = 'I', kLabel = 'L', kAnomaly = 'A';

inline std::string_view Str(const flatbuffers::String* s) {
  return s == nullptr ? std::string_view() : std::string_view(s->data(), s->size());
}

std::string Entity(char tag, std::string_view id);
std::string LabelEntity(std::string_view label, std::string_view id);
// 'O' src rel dst eid, or 'I' dst rel src eid.
std::string AdjEntity(char tag, std::string_view from, std::string_view rel, std::string_view to,
                      std::string_view eid);

// An adjacency entry's value: whether the edge is live, and its valid-time interval.
struct Adj {
  bool live = false;
  int64_t from = kValidMin, to = kValidMax;
};
std::string AdjValue(bool live, int64_t from, int64_t to);
bool DecodeAdj(std::string_view v, Adj* a);

// Who wrote a version: the event's LSN, time, run, stream, task (of a task stream) and id.
MemProvenance ProvenanceOf(const Event& e);

std::string EncodeNode(const MemNode& n);
Result<MemNode> DecodeNode(std::string_view bytes, std::string id, Lsn lsn);
std::string EncodeEdge(const MemEdge& e);
Result<MemEdge> DecodeEdge(std::string_view bytes, std::string id, Lsn lsn);

// The JSON object text of a flexbuffer props field ("{}" when absent or null).
std::string PropsText(const flatbuffers::Vector<uint8_t>* v);
// Reads the n ordered strings of an entity after its tag.
bool SplitEntity(std::string_view entity, std::vector<std::string>* parts, size_t n);
Status BadKey(std::string_view what);

}  // namespace tink::projections::memory_internal
