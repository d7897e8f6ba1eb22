// The seeded memory-event generator of memory_model.h.
#include <algorithm>

#include "projections/memory_model.h"
#include "schema/schema.h"

namespace tink::projections::testing {

using nlohmann::json;

namespace {
constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kDay = 86'400 * kSecond;
}  // namespace

MemGenerator::MemGenerator(uint64_t seed, EventLog* log, RefModel* ref)
    : rng_(seed), log_(log), ref_(ref), time_(1'780'000'000'000'000'000) {
  labels_ = {"File", "Task", "Person", "Concept", "Bug"};
  rels_ = {"MODIFIES", "DEPENDS_ON", "MENTIONS", "OWNS", "CAUSES"};
}

int64_t MemGenerator::T0() { return schema::ParseTime("2026-01-01T00:00:00Z").value(); }

Lsn MemGenerator::Emit(const std::string& type, const std::string& run, json data,
                       std::string stream, int64_t occurred_ns) {
  // Record times increase, sometimes by more; `occurred` (ignored by provenance, which carries the
  // record time) is set on some events.
  time_ += 1000 + (Chance(100) ? static_cast<int64_t>(Pick(50'000)) : 0);
  if (occurred_ns == 0 && Chance(100)) occurred_ns = time_ - 5'000'000'000;
  if (stream.empty()) stream = Stream(run);
  const std::string id = Chance(100) ? "" : "ev-" + std::to_string(log_->size() + 1);
  const Lsn lsn = log_->Add(Input(type, run, data, occurred_ns, stream, id), time_);
  ref_->Apply(MemEvent{lsn, time_, type, run, stream, id, std::move(data)});
  return lsn;
}

std::string MemGenerator::Run() {
  if (Chance(30)) return "";
  return std::to_string(1 + Pick(3));
}

std::string MemGenerator::Stream(const std::string& run) {
  const size_t k = Pick(10);
  if (k < 4) return "run/" + run + "/task/t" + std::to_string(Pick(20));
  if (k < 7) return "memory/" + run;
  return "run/" + run;
}

json MemGenerator::NodeData(const std::string& id) {
  json d = {{"id", id}};
  if (!Chance(30)) {
    json labels = json::array();
    labels.push_back(labels_[Pick(labels_.size())]);
    if (Chance(400)) labels.push_back(labels_[Pick(labels_.size())]);  // maybe a duplicate
    if (Chance(50)) labels.push_back(labels[0]);                       // unsorted, repeated
    d["labels"] = labels;
  }
  if (!Chance(100)) {
    json props = json::object();
    if (Chance(700)) props["loc"] = static_cast<int>(Pick(1000));
    if (Chance(500)) {
      static const char* const kNames[] = {"alpha", "beta", "gamma", "delta", "", "Ωmega"};
      props["name"] = kNames[Pick(6)];
    }
    if (Chance(500)) props["score"] = static_cast<double>(Pick(40)) / 4;
    if (Chance(300)) props["flag"] = Chance(500);
    d["props"] = props;
  }
  return d;
}

std::string MemGenerator::ValidTime(int64_t* ns) {
  const int64_t day = T0() + static_cast<int64_t>(Pick(1000)) * kDay;
  const size_t fmt = Pick(10);
  if (fmt == 0) {  // a date alone
    *ns = day;
    return schema::FormatTime(day).substr(0, 10);
  }
  *ns = day + static_cast<int64_t>(Pick(86'400)) * kSecond;
  if (fmt == 1) {  // the same instant in +02:00
    std::string s = schema::FormatTime(*ns + 7200 * kSecond);
    s.pop_back();
    return s + "+02:00";
  }
  return schema::FormatTime(*ns);
}

json MemGenerator::EdgeData(const std::string& id, const std::string& src, const std::string& dst) {
  json d = {{"src", src}, {"rel", rels_[Pick(rels_.size())]}, {"dst", dst}};
  if (!id.empty()) d["id"] = id;
  if (!Chance(200)) {
    json props = json::object();
    if (Chance(600)) props["w"] = static_cast<int>(Pick(11));
    if (Chance(400)) props["confidence"] = static_cast<double>(Pick(9)) / 8;
    if (Chance(300)) props["origin"] = Chance(500) ? "agent" : "import";
    d["props"] = props;
  }
  const bool from = Chance(300), to = Chance(200);
  int64_t f = 0, t = 0;
  std::string fs = from ? ValidTime(&f) : "", ts = to ? ValidTime(&t) : "";
  if (from && to && t <= f) {
    // Make it a proper interval: a later "to" by at least a day.
    t = f + kDay + static_cast<int64_t>(Pick(100)) * kDay;
    ts = schema::FormatTime(t);
  }
  if (from) d["valid_from"] = fs;
  if (to) d["valid_to"] = ts;
  return d;
}

std::string MemGenerator::LiveNode() {
  if (live_.empty()) return NewNode();
  if (Chance(15)) return live_[Pick(std::min<size_t>(20, live_.size()))];  // hubs
  return live_[Pick(live_.size())];
}

std::string MemGenerator::NewNode() {
  const size_t k = node_ids_.size();
  std::string id = "n" + std::to_string(k);
  if (Chance(50)) id = "file:src/m" + std::to_string(k) + ".py";
  if (Chance(10)) id = "node é " + std::to_string(k);
  node_ids_.push_back(id);
  live_pos_[id] = live_.size();
  live_.push_back(id);
  Emit("memory.node", Run(), NodeData(id));
  return id;
}

void MemGenerator::ReplaceNode() {
  if (live_.empty()) return;
  Emit("memory.node", Run(), NodeData(live_[Pick(live_.size())]));
}

void MemGenerator::RetractNode(std::string id) {  // a copy: callers pass elements of live_
  auto it = live_pos_.find(id);
  if (it == live_pos_.end()) return;
  Emit("memory.retract", Run(),
       {{"target", id}, {"kind", "node"}, {"reason", "node reason " + std::to_string(Pick(100))}});
  const size_t pos = it->second;
  live_pos_[live_.back()] = pos;
  std::swap(live_[pos], live_.back());
  live_.pop_back();
  live_pos_.erase(id);
  dead_.push_back(id);
}

void MemGenerator::Reassert() {
  if (dead_.empty()) return;
  const size_t i = Pick(dead_.size());
  const std::string id = dead_[i];
  dead_.erase(dead_.begin() + static_cast<std::ptrdiff_t>(i));
  live_pos_[id] = live_.size();
  live_.push_back(id);
  Emit("memory.node", Run(), NodeData(id));
}

void MemGenerator::NewEdge(std::string src, std::string dst) {
  if (src.empty()) src = LiveNode();
  if (dst.empty()) {
    for (int i = 0; i < 5 && (dst.empty() || dst == src); ++i) dst = LiveNode();
    if (dst == src) return;  // no self-loops in generated graphs (memory_test.cc has its own)
  }
  const bool explicit_id = Chance(400);
  const std::string id = explicit_id ? "e" + std::to_string(edge_ids_.size()) : "";
  json d = EdgeData(id, src, dst);
  const std::string key = explicit_id ? id : src + "|" + d["rel"].get<std::string>() + "|" + dst;
  if (edge_info_.count(key) == 0) edge_ids_.push_back(key);
  edge_info_[key] = GenEdge{src, d["rel"].get<std::string>(), dst, !explicit_id};
  dead_edges_.erase(key);
  Emit("memory.edge", Run(), std::move(d));
}

void MemGenerator::ReplaceEdge() {
  if (edge_ids_.empty()) return;
  const std::string id = edge_ids_[Pick(edge_ids_.size())];
  GenEdge& g = edge_info_[id];
  std::string src = g.src, dst = g.dst;
  const bool ends_live = live_pos_.count(src) != 0 && live_pos_.count(dst) != 0;
  const size_t k = Pick(10);
  if (!ends_live || k >= 7) {  // other endpoints (the edge keeps its id)
    src = k == 9 || live_pos_.count(src) == 0 ? LiveNode() : src;
    dst = LiveNode();
    if (src == dst) return;
  }
  json d = EdgeData(id, src, dst);
  if (g.default_id && src == g.src && dst == g.dst && Chance(500)) {
    d.erase("id");  // the default id again: same src, rel, dst
    d["rel"] = g.rel;
  }
  g.src = src;
  g.dst = dst;
  dead_edges_.erase(id);
  Emit("memory.edge", Run(), std::move(d));
}

void MemGenerator::RetractEdge() {
  if (edge_ids_.empty()) return;
  std::string id = edge_ids_[Pick(edge_ids_.size())];
  for (int i = 0; i < 3 && dead_edges_.count(id) != 0; ++i) id = edge_ids_[Pick(edge_ids_.size())];
  dead_edges_.insert(id);
  Emit("memory.retract", Run(),
       {{"target", id}, {"kind", "edge"}, {"reason", "edge reason " + std::to_string(Pick(100))}});
}

// One illegal event, one problem each.
void MemGenerator::Illegal() {
  const std::string run = Run();
  const std::string a = LiveNode();
  switch (Pick(11)) {
    case 0:
      Emit("memory.edge", run,
           {{"src", a}, {"rel", "MENTIONS"}, {"dst", "ghost" + std::to_string(Pick(50))}});
      break;
    case 1:
      if (!dead_.empty()) {
        Emit(
            "memory.edge", run,
            {{"id", "e-to-dead"}, {"src", dead_[Pick(dead_.size())]}, {"rel", "OWNS"}, {"dst", a}});
      }
      break;
    case 2:
      Emit("memory.retract", run,
           {{"target", "ghost" + std::to_string(Pick(50))}, {"kind", "node"}, {"reason", "x"}});
      break;
    case 3:
      Emit("memory.retract", run, {{"target", "no-such-edge"}, {"kind", "edge"}, {"reason", "x"}});
      break;
    case 4:
      if (!dead_.empty()) {
        Emit("memory.retract", run,
             {{"target", dead_[Pick(dead_.size())]}, {"kind", "node"}, {"reason", "again"}});
      } else if (!dead_edges_.empty()) {
        Emit("memory.retract", run,
             {{"target", *dead_edges_.begin()}, {"kind", "edge"}, {"reason", "again"}});
      }
      break;
    case 5: {
      json d = EdgeData("", a, LiveNode());
      d["valid_from"] = Chance(500) ? "not a time" : "2026-13-01";
      Emit("memory.edge", run, d);
      break;
    }
    case 6: {
      json d = EdgeData("e-backwards", a, LiveNode());
      int64_t t = 0;
      d["valid_from"] = ValidTime(&t);
      d["valid_to"] =
          Chance(500) ? d["valid_from"].get<std::string>() : schema::FormatTime(t - kDay);
      Emit("memory.edge", run, d);
      break;
    }
    case 7: {
      json d = EdgeData("", a, LiveNode());
      d[Chance(333) ? "src" : Chance(500) ? "rel" : "dst"] = "";
      Emit("memory.edge", run, d);
      break;
    }
    case 8:
      Emit("memory.retract", run, {{"target", a}, {"kind", "banana"}, {"reason", "x"}});
      break;
    case 9:
      Emit("memory.node", run, {{"id", ""}, {"labels", {"File"}}});
      break;
    default:
      Emit("memory.edge", run, {{"src", "ghost-src"}, {"rel", "CAUSES"}, {"dst", a}});
      break;
  }
}

// Related events close together (they often land in one batch): a node, edges at it, an edge
// moved onto it, its retraction (cascading), its re-assertion and a re-asserted edge.
void MemGenerator::Burst() {
  const std::string x = NewNode();
  const std::string y = LiveNode();
  if (y == x) return;
  NewEdge(x, y);
  NewEdge(LiveNode(), x);
  if (!edge_ids_.empty()) {
    const std::string moved = edge_ids_[Pick(edge_ids_.size())];
    GenEdge& g = edge_info_[moved];
    if (!g.default_id && live_pos_.count(g.src) != 0 && g.src != x) {
      g.dst = x;
      dead_edges_.erase(moved);
      Emit("memory.edge", Run(), EdgeData(moved, g.src, x));
    }
  }
  if (Chance(300)) ReplaceNode();
  RetractNode(x);
  if (Chance(500)) {
    Reassert();
    if (live_pos_.count(x) != 0) NewEdge(x, y == x ? LiveNode() : y);
  }
}

void MemGenerator::Step() {
  const size_t r = Pick(1000);
  if (r < 80) {
    if (node_ids_.size() < target_nodes_) {
      NewNode();
    } else {
      ReplaceNode();
    }
  } else if (r < 110) {
    ReplaceNode();
  } else if (r < 114) {
    if (live_.size() > 50) RetractNode(live_[Pick(live_.size())]);
  } else if (r < 116) {
    Reassert();
  } else if (r < 166) {
    ReplaceEdge();
  } else if (r < 196) {
    RetractEdge();
  } else if (r < 202) {
    Illegal();
  } else if (r < 204) {
    time_ += 1000;
    const std::string run = Run();
    const Lsn lsn = log_->Add(
        Input("note", run, {{"task", "t1"}, {"text", "hi"}, {"kind", "thought"}}, 0, Stream(run)),
        time_);
    ref_->Skip(lsn);
  } else if (r < 205) {
    time_ += 1000;
    ref_->Skip(log_->AddUndecodable(time_));
  } else if (r < 212) {
    Burst();
  } else {
    NewEdge();
  }
}

void MemGenerator::Generate(size_t nodes, size_t edges) {
  target_nodes_ = nodes;
  while (node_ids_.size() < std::min<size_t>(nodes, 200)) NewNode();
  while (node_ids_.size() < nodes || edge_ids_.size() < edges) Step();
}

}  // namespace tink::projections::testing
