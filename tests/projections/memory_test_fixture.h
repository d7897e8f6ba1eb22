// The fixture of the memory projection's small-graph tests (memory_test.cc, memory_query_test.cc):
// a state store in a temporary directory, event builders and readers of what it holds.
#pragma once

#include "projections/memory.h"

#include <gtest/gtest.h>

#include "projections/memory_model.h"
#include "projections/projections_test_util.h"
#include "schema/schema.h"

namespace tink::projections::memory_test {

using nlohmann::json;
using testing::Dump;
using testing::DumpEach;
using testing::Must;
using Op = PropFilter::Op;

constexpr Lsn kHead = UINT64_MAX;

inline int64_t T(std::string_view iso) { return schema::ParseTime(iso).value(); }

class MemoryTest : public ::testing::Test {
 protected:
  MemoryTest() : state_(testing::OpenState(dir_.path())) {}

  // Appends an event (recorded 1 µs after the previous one) and applies it unless deferred.
  Lsn Emit(const std::string& type, const json& data, const std::string& run = "r1",
           std::string stream = "", const std::string& id = "") {
    clock_ += 1000;
    if (stream.empty()) stream = "memory/" + run;
    const Lsn lsn = log_.Add(testing::Input(type, run, data, 0, stream, id), clock_);
    if (!deferred_) Apply();
    return lsn;
  }
  void Apply() {
    if (applied_ == log_.last()) return;
    Status s = log_.ApplyTo(state_->store.get(), applied_ + 1, log_.last());
    ASSERT_TRUE(s.ok()) << s.ToString();
    applied_ = log_.last();
  }
  Lsn Node(const std::string& id, const json& labels = json::array(),
           const json& props = json::object()) {
    return Emit("memory.node", {{"id", id}, {"labels", labels}, {"props", props}});
  }
  Lsn Edge(const std::string& src, const std::string& rel, const std::string& dst,
           json extra = json::object()) {
    extra["src"] = src;
    extra["rel"] = rel;
    extra["dst"] = dst;
    return Emit("memory.edge", extra);
  }
  Lsn Retract(const std::string& target, const std::string& kind, const std::string& reason,
              const std::string& run = "r1", const std::string& stream = "") {
    return Emit("memory.retract", {{"target", target}, {"kind", kind}, {"reason", reason}}, run,
                stream);
  }

  // Runs `f` on a MemoryReader over a fresh snapshot.
  template <typename F>
  auto Read(F f) {
    StateReader r(state_->store.get());
    MemoryReader m(r);
    return f(m);
  }
  std::optional<MemNode> GetNode(const std::string& id, GraphAt at = {kHead, std::nullopt}) {
    return Read([&](MemoryReader& m) { return Must(m.Node(id, at)); });
  }
  std::optional<MemEdge> GetEdge(const std::string& id, GraphAt at = {kHead, std::nullopt}) {
    return Read([&](MemoryReader& m) { return Must(m.Edge(id, at)); });
  }
  std::vector<std::string> EdgeIds(const std::string& id, Direction dir, Lsn as_of = kHead,
                                   std::optional<int64_t> valid_at = std::nullopt,
                                   std::vector<std::string> rels = {}) {
    return Read([&](MemoryReader& m) {
      std::vector<std::string> out;
      for (const MemEdge& e : Must(m.Edges(id, Expand{dir, rels}, {as_of, valid_at}))) {
        out.push_back(e.id);
      }
      return out;
    });
  }
  std::vector<MemNode> NodeHistory(const std::string& id) {
    return Read([&](MemoryReader& m) { return Must(m.NodeHistory(id)); });
  }
  std::vector<MemEdge> EdgeHistory(const std::string& id) {
    return Read([&](MemoryReader& m) { return Must(m.EdgeHistory(id)); });
  }
  std::optional<MemVersionEnd> EdgeEnd(const std::string& id, Lsn as_of = kHead) {
    return Read([&](MemoryReader& m) { return Must(m.EdgeEnd(id, as_of)); });
  }
  std::optional<MemVersionEnd> NodeEnd(const std::string& id, Lsn as_of = kHead) {
    return Read([&](MemoryReader& m) { return Must(m.NodeEnd(id, as_of)); });
  }
  std::vector<MemAnomaly> Anomalies(Lsn as_of = kHead) {
    return Read([&](MemoryReader& m) { return Must(m.Anomalies(as_of)); });
  }
  // Everything the reader says about `node_ids` and `edge_ids` at the head (anomalies aside).
  std::vector<std::string> StateDump(const std::vector<std::string>& node_ids,
                                     const std::vector<std::string>& edge_ids) {
    return Read([&](MemoryReader& m) {
      std::vector<std::string> out;
      const GraphAt head{kHead, std::nullopt};
      for (const MemNode& n : Must(m.Nodes("", head))) out.push_back(Dump(n));
      for (const std::string& id : node_ids) {
        out.push_back(Dump(Must(m.Node(id, head))));
        for (const MemNode& n : Must(m.NodeHistory(id))) out.push_back(Dump(n));
        for (const MemEdge& e : Must(m.Edges(id, Expand{Direction::kBoth, {}}, head))) {
          out.push_back(Dump(e));
        }
      }
      for (const std::string& id : edge_ids) {
        out.push_back(Dump(Must(m.Edge(id, head))));
        for (const MemEdge& e : Must(m.EdgeHistory(id))) out.push_back(Dump(e));
      }
      return out;
    });
  }

  tink::testing::TempDir dir_;
  std::unique_ptr<testing::State> state_;
  testing::EventLog log_;
  Lsn applied_ = 0;
  int64_t clock_ = 1'780'000'000'000'000'000;
  bool deferred_ = false;
};

}  // namespace tink::projections::memory_test
