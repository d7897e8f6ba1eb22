#include "projections/memory_model.h"

#include <algorithm>
#include <deque>
#include <sstream>
#include <tuple>

#include "schema/schema.h"

namespace tink::projections::testing {

using nlohmann::json;

std::string TaskOfStream(std::string_view stream) {
  std::vector<std::string> parts;
  std::string cur;
  for (char c : stream) {
    if (c == '/') {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  parts.push_back(cur);
  if (parts.size() == 4 && parts[0] == "run" && parts[2] == "task") return parts[3];
  return "";
}

bool RefPropsMatch(std::string_view props_json, const std::vector<PropFilter>& filters) {
  const json props = json::parse(props_json, nullptr, /*allow_exceptions=*/false);
  for (const PropFilter& f : filters) {
    if (!props.is_object() || !props.contains(f.key)) return false;
    const json& a = props.at(f.key);
    const json b = json::parse(f.value, nullptr, false);
    int c = 0;
    if (a.is_number() && b.is_number()) {
      const double x = a.get<double>(), y = b.get<double>();
      c = x < y ? -1 : (x > y ? 1 : 0);
    } else if (a.is_string() && b.is_string()) {
      const int r = a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>());
      c = r < 0 ? -1 : (r > 0 ? 1 : 0);
    } else if (a.is_boolean() && b.is_boolean()) {
      // Only = and != are meant for booleans (the generator uses no other op on them).
      c = a.get<bool>() == b.get<bool>() ? 0 : (a.get<bool>() ? 1 : -1);
    } else {
      return false;  // missing or type mismatch: false, also for kNe
    }
    bool ok = false;
    switch (f.op) {
      case PropFilter::Op::kEq:
        ok = c == 0;
        break;
      case PropFilter::Op::kNe:
        ok = c != 0;
        break;
      case PropFilter::Op::kLt:
        ok = c < 0;
        break;
      case PropFilter::Op::kLe:
        ok = c <= 0;
        break;
      case PropFilter::Op::kGt:
        ok = c > 0;
        break;
      case PropFilter::Op::kGe:
        ok = c >= 0;
        break;
    }
    if (!ok) return false;
  }
  return true;
}

// --- dumps ---

std::string CanonJson(std::string_view text) {
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return "<not JSON: " + std::string(text) + ">";
  return j.dump();
}

std::string Dump(const MemProvenance& p) {
  std::ostringstream o;
  o << "by{lsn=" << p.lsn << " t=" << p.time_ns << " run=" << p.run << " stream=" << p.stream
    << " task=" << p.task << " ev=" << p.event_id << "}";
  return o.str();
}

std::string Dump(const MemNode& n) {
  std::string s = "node{" + n.id;
  if (n.retracted) {
    s += " RETRACTED reason=" + n.reason;
  } else {
    s += " labels=";
    for (const std::string& l : n.labels) s += l + ",";
    s += " props=" + n.props;
    if (!n.reason.empty()) s += " reason=" + n.reason;
  }
  return s + " " + Dump(n.by) + "}";
}

std::string Dump(const MemEdge& e) {
  std::string s = "edge{" + e.id;
  if (e.retracted) {
    s += " RETRACTED reason=" + e.reason;
  } else {
    s += " " + e.src + " -[" + e.rel + "]-> " + e.dst + " props=" + e.props + " valid=[" +
         std::to_string(e.valid_from) + "," + std::to_string(e.valid_to) + ")";
    if (!e.reason.empty()) s += " reason=" + e.reason;
  }
  return s + " " + Dump(e.by) + "}";
}

std::string Dump(const Neighbor& n) {
  return "nb{d=" + std::to_string(n.depth) + " " + Dump(n.node) + " via=" + Dump(n.via) + "}";
}

std::string Dump(const PatternMatch& m) {
  std::string s = "match{";
  for (const MemNode& n : m.nodes) s += n.id + " ";
  for (const MemEdge& e : m.edges) s += e.id + " ";
  for (const MemNode& n : m.nodes) s += Dump(n) + " ";
  for (const MemEdge& e : m.edges) s += Dump(e) + " ";
  return s + "}";
}

std::string Dump(const Belief& b) {
  std::string s = "belief{" + Dump(b.node) + " out:";
  for (const MemEdge& e : b.out) s += " " + Dump(e);
  s += " in:";
  for (const MemEdge& e : b.in) s += " " + Dump(e);
  return s + "}";
}

std::string Dump(const MemVersionEnd& e) {
  std::ostringstream o;
  o << "end{lsn=" << e.lsn
    << " ended_by=" << (e.ended_by ? std::to_string(*e.ended_by) : std::string("-"))
    << " retracted=" << e.retracted << " reason=" << e.reason << " " << Dump(e.end) << "}";
  return o.str();
}

std::string Dump(const MemAnomaly& a) {
  return "anomaly{lsn=" + std::to_string(a.lsn) + " run=" + a.run + " type=" + a.type +
         " target=" + a.target + "}";
}

std::string Dump(const std::optional<MemNode>& n) { return n ? Dump(*n) : "no node"; }
std::string Dump(const std::optional<MemEdge>& e) { return e ? Dump(*e) : "no edge"; }
std::string Dump(const std::optional<MemVersionEnd>& e) { return e ? Dump(*e) : "no end"; }

std::string Describe(const GraphAt& at) {
  return "as_of=" + std::to_string(at.as_of) +
         " valid_at=" + (at.valid_at ? std::to_string(*at.valid_at) : std::string("any"));
}

std::string Describe(const Expand& x) {
  std::string s = x.dir == Direction::kOut ? "out" : x.dir == Direction::kIn ? "in" : "both";
  s += "[";
  for (const std::string& r : x.rels) s += r + ",";
  return s + "]";
}

namespace {
const char* OpName(PropFilter::Op op) {
  switch (op) {
    case PropFilter::Op::kEq:
      return "=";
    case PropFilter::Op::kNe:
      return "!=";
    case PropFilter::Op::kLt:
      return "<";
    case PropFilter::Op::kLe:
      return "<=";
    case PropFilter::Op::kGt:
      return ">";
    case PropFilter::Op::kGe:
      return ">=";
  }
  return "?";
}
std::string Describe(const std::vector<PropFilter>& fs) {
  std::string s = "{";
  for (const PropFilter& f : fs) s += f.key + OpName(f.op) + f.value + ";";
  return s + "}";
}
std::string Describe(const NodePattern& n) {
  std::string s = "(";
  if (n.id) s += "id=" + *n.id + " ";
  for (const std::string& l : n.labels) s += ":" + l;
  return s + Describe(n.props) + ")";
}
}  // namespace

std::string Describe(const Pattern& p) {
  std::string s =
      Describe(p.a) + "-[" + Describe(p.r1.expand) + Describe(p.r1.props) + "]-" + Describe(p.b);
  if (p.r2) s += "-[" + Describe(p.r2->expand) + Describe(p.r2->props) + "]-" + Describe(p.c);
  return s;
}

// --- the fold ---

namespace {
std::string Str(const json& data, const char* key) {
  auto it = data.find(key);
  return it != data.end() && it->is_string() ? it->get<std::string>() : std::string();
}
MemProvenance Prov(const MemEvent& ev) {
  return MemProvenance{ev.lsn, ev.time_ns, ev.run, ev.stream, TaskOfStream(ev.stream), ev.id};
}
}  // namespace

void RefModel::Apply(const MemEvent& ev) {
  head_ = ev.lsn;
  if (ev.type == "memory.node") {
    ApplyNode(ev);
  } else if (ev.type == "memory.edge") {
    ApplyEdge(ev);
  } else if (ev.type == "memory.retract") {
    ApplyRetract(ev);
  }
}

bool RefModel::LiveNode(const std::string& id) const {
  auto it = nodes_.find(id);
  return it != nodes_.end() && !it->second.back().retracted;
}

void RefModel::Anomaly(const MemEvent& ev, const std::string& target) {
  anomalies_.push_back(MemAnomaly{ev.lsn, ev.run, ev.type, target, ""});
}

void RefModel::ApplyNode(const MemEvent& ev) {
  MemNode n;
  n.id = Str(ev.data, "id");
  if (n.id.empty()) return Anomaly(ev, n.id);
  if (ev.data.contains("labels")) {
    for (const json& l : ev.data["labels"]) n.labels.push_back(l.get<std::string>());
  }
  std::sort(n.labels.begin(), n.labels.end());
  n.labels.erase(std::unique(n.labels.begin(), n.labels.end()), n.labels.end());
  // Canonical: compact, keys sorted (as a FlexBuffers map and nlohmann::json both keep them).
  n.props = ev.data.contains("props") ? ev.data["props"].dump() : "{}";
  n.by = Prov(ev);
  nodes_[n.id].push_back(std::move(n));
}

void RefModel::ApplyEdge(const MemEvent& ev) {
  MemEdge e;
  e.src = Str(ev.data, "src");
  e.rel = Str(ev.data, "rel");
  e.dst = Str(ev.data, "dst");
  e.id = Str(ev.data, "id");
  // Without src, rel or dst there is no default id: the anomaly names the id as given.
  if (e.src.empty() || e.rel.empty() || e.dst.empty()) return Anomaly(ev, e.id);
  if (e.id.empty()) e.id = e.src + "|" + e.rel + "|" + e.dst;
  if (ev.data.contains("valid_from")) {
    Result<int64_t> t = schema::ParseTime(Str(ev.data, "valid_from"));
    if (!t.ok()) return Anomaly(ev, e.id);
    e.valid_from = *t;
  }
  if (ev.data.contains("valid_to")) {
    Result<int64_t> t = schema::ParseTime(Str(ev.data, "valid_to"));
    if (!t.ok()) return Anomaly(ev, e.id);
    e.valid_to = *t;
  }
  if (e.valid_to <= e.valid_from) return Anomaly(ev, e.id);
  if (!LiveNode(e.src) || !LiveNode(e.dst)) return Anomaly(ev, e.id);
  e.props = ev.data.contains("props") ? ev.data["props"].dump() : "{}";
  e.by = Prov(ev);
  incident_[e.src].insert(e.id);
  incident_[e.dst].insert(e.id);
  edges_[e.id].push_back(std::move(e));
}

void RefModel::ApplyRetract(const MemEvent& ev) {
  const std::string target = Str(ev.data, "target");
  const std::string kind = Str(ev.data, "kind");
  const std::string reason = Str(ev.data, "reason");
  if (kind == "node") {
    if (!LiveNode(target)) return Anomaly(ev, target);
    MemNode r = nodes_[target].back();
    r.retracted = true;
    r.reason = reason;
    r.by = Prov(ev);
    nodes_[target].push_back(std::move(r));
    for (const std::string& id : incident_[target]) {
      std::vector<MemEdge>& versions = edges_[id];
      const MemEdge& last = versions.back();
      if (last.retracted || (last.src != target && last.dst != target)) continue;
      MemEdge x = last;
      x.retracted = true;
      x.reason = "node " + target + " retracted: " + reason;
      x.by = Prov(ev);
      versions.push_back(std::move(x));
    }
    node_retract_lsns_.push_back(ev.lsn);
  } else if (kind == "edge") {
    auto it = edges_.find(target);
    if (it == edges_.end() || it->second.back().retracted) return Anomaly(ev, target);
    MemEdge r = it->second.back();
    r.retracted = true;
    r.reason = reason;
    r.by = Prov(ev);
    it->second.push_back(std::move(r));
  } else {
    return Anomaly(ev, target);
  }
  retract_lsns_.push_back(ev.lsn);
}

namespace {
template <typename V>
const V* Newest(const std::vector<V>& versions, Lsn as_of) {
  const V* best = nullptr;
  for (const V& v : versions) {
    if (v.by.lsn <= as_of) best = &v;
  }
  return best;
}
}  // namespace

const MemNode* RefModel::NodeVersion(const std::string& id, Lsn as_of) const {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : Newest(it->second, as_of);
}

const MemEdge* RefModel::EdgeVersion(const std::string& id, Lsn as_of) const {
  auto it = edges_.find(id);
  return it == edges_.end() ? nullptr : Newest(it->second, as_of);
}

std::optional<MemNode> RefModel::Node(const std::string& id, const GraphAt& at) const {
  const MemNode* n = NodeVersion(id, Clamp(at.as_of));
  if (n == nullptr || n->retracted) return std::nullopt;
  return *n;
}

std::optional<MemEdge> RefModel::Edge(const std::string& id, const GraphAt& at) const {
  const MemEdge* e = EdgeVersion(id, Clamp(at.as_of));
  if (e == nullptr || e->retracted) return std::nullopt;
  if (at.valid_at && !e->ValidAt(*at.valid_at)) return std::nullopt;
  return *e;
}

std::vector<MemNode> RefModel::NodeHistory(const std::string& id) const {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? std::vector<MemNode>{} : it->second;
}

std::vector<MemEdge> RefModel::EdgeHistory(const std::string& id) const {
  auto it = edges_.find(id);
  return it == edges_.end() ? std::vector<MemEdge>{} : it->second;
}

namespace {
template <typename V>
std::optional<MemVersionEnd> EndOf(const std::vector<V>& versions, Lsn as_of) {
  std::optional<size_t> last;
  for (size_t i = 0; i < versions.size(); ++i) {
    if (versions[i].by.lsn <= as_of && !versions[i].retracted) last = i;
  }
  if (!last) return std::nullopt;
  MemVersionEnd end;
  end.lsn = versions[*last].by.lsn;
  if (*last + 1 < versions.size()) {
    const V& next = versions[*last + 1];
    end.ended_by = next.by.lsn;
    end.retracted = next.retracted;
    end.reason = next.retracted ? next.reason : "";
    end.end = next.by;
  }
  return end;
}
}  // namespace

std::optional<MemVersionEnd> RefModel::NodeEnd(const std::string& id, Lsn as_of) const {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? std::nullopt : EndOf(it->second, as_of);
}

std::optional<MemVersionEnd> RefModel::EdgeEnd(const std::string& id, Lsn as_of) const {
  auto it = edges_.find(id);
  return it == edges_.end() ? std::nullopt : EndOf(it->second, as_of);
}

std::vector<const std::vector<MemEdge>*> RefModel::Incident(const std::string& node) const {
  std::vector<const std::vector<MemEdge>*> out;
  auto it = incident_.find(node);
  if (it == incident_.end()) return out;
  for (const std::string& id : it->second) out.push_back(&edges_.at(id));
  return out;
}

std::vector<MemAnomaly> RefModel::Anomalies(Lsn as_of) const {
  std::vector<MemAnomaly> out;
  for (const MemAnomaly& a : anomalies_) {
    if (a.lsn <= as_of) out.push_back(a);
  }
  return out;
}

// --- the view ---

RefView::RefView(const RefModel& m, GraphAt at) : m_(m), at_(at) {
  at_.as_of = m.Clamp(at.as_of);
  for (const auto& [id, versions] : m.nodes()) {
    const MemNode* n = Newest(versions, at_.as_of);
    if (n != nullptr && !n->retracted) {
      nodes_[id] = n;
      live_ids_.push_back(id);
    }
  }
}

const std::vector<const MemEdge*>& RefView::Out(const std::string& id) const {
  auto it = out_.find(id);
  if (it != out_.end()) return it->second;
  std::vector<const MemEdge*> v;
  for (const std::vector<MemEdge>* versions : m_.Incident(id)) {
    const MemEdge* e = Newest(*versions, at_.as_of);
    if (e == nullptr || e->retracted || e->src != id) continue;
    if (at_.valid_at && !e->ValidAt(*at_.valid_at)) continue;
    v.push_back(e);
  }
  // Key order: (rel, dst, id).
  std::sort(v.begin(), v.end(), [](const MemEdge* a, const MemEdge* b) {
    return std::tie(a->rel, a->dst, a->id) < std::tie(b->rel, b->dst, b->id);
  });
  return out_[id] = std::move(v);
}

const std::vector<const MemEdge*>& RefView::In(const std::string& id) const {
  auto it = in_.find(id);
  if (it != in_.end()) return it->second;
  std::vector<const MemEdge*> v;
  for (const std::vector<MemEdge>* versions : m_.Incident(id)) {
    const MemEdge* e = Newest(*versions, at_.as_of);
    if (e == nullptr || e->retracted || e->dst != id) continue;
    if (at_.valid_at && !e->ValidAt(*at_.valid_at)) continue;
    v.push_back(e);
  }
  // Key order: (rel, src, id).
  std::sort(v.begin(), v.end(), [](const MemEdge* a, const MemEdge* b) {
    return std::tie(a->rel, a->src, a->id) < std::tie(b->rel, b->src, b->id);
  });
  return in_[id] = std::move(v);
}

const MemNode* RefView::node(const std::string& id) const {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : it->second;
}

std::vector<std::pair<const MemEdge*, std::string>> RefView::Steps(const std::string& id,
                                                                   const Expand& x) const {
  std::vector<std::pair<const MemEdge*, std::string>> out;
  auto wanted = [&](const MemEdge* e) {
    return x.rels.empty() || std::find(x.rels.begin(), x.rels.end(), e->rel) != x.rels.end();
  };
  if (x.dir != Direction::kIn) {
    for (const MemEdge* e : Out(id)) {
      if (wanted(e)) out.emplace_back(e, e->dst);
    }
  }
  if (x.dir != Direction::kOut) {
    for (const MemEdge* e : In(id)) {
      if (wanted(e)) out.emplace_back(e, e->src);
    }
  }
  return out;
}

std::vector<MemNode> RefView::Nodes(const std::string& label, size_t limit) const {
  std::vector<MemNode> out;
  for (const auto& [id, n] : nodes_) {
    if (out.size() >= limit) break;
    if (label.empty() || std::count(n->labels.begin(), n->labels.end(), label) > 0) {
      out.push_back(*n);
    }
  }
  return out;
}

std::vector<MemEdge> RefView::Edges(const std::string& id, const Expand& x) const {
  std::vector<MemEdge> out;
  for (const auto& [e, other] : Steps(id, x)) out.push_back(*e);
  return out;
}

std::vector<Neighbor> RefView::Neighbors(const std::string& id, int depth, const Expand& x,
                                         const std::vector<std::string>& labels) const {
  if (node(id) == nullptr) return {};
  std::map<std::string, int> dist = {{id, 0}};
  std::map<std::string, const MemEdge*> via;
  std::vector<std::string> frontier = {id};
  for (int d = 1; d <= depth; ++d) {
    std::sort(frontier.begin(), frontier.end());
    std::vector<std::string> next;
    for (const std::string& u : frontier) {
      for (const auto& [e, v] : Steps(u, x)) {
        if (dist.count(v) != 0) continue;
        dist[v] = d;
        via[v] = e;
        next.push_back(v);
      }
    }
    frontier = std::move(next);
  }
  std::vector<Neighbor> out;
  for (const auto& [v, d] : dist) {
    if (d == 0) continue;
    const MemNode* n = node(v);
    if (n == nullptr) continue;  // cannot happen: a live edge has live ends
    bool all = true;
    for (const std::string& l : labels) {
      all = all && std::count(n->labels.begin(), n->labels.end(), l) > 0;
    }
    if (all) out.push_back(Neighbor{*n, d, *via[v]});
  }
  std::stable_sort(out.begin(), out.end(), [](const Neighbor& a, const Neighbor& b) {
    return std::tie(a.depth, a.node.id) < std::tie(b.depth, b.node.id);
  });
  return out;
}

std::optional<int> RefView::Distance(const std::string& from, const std::string& to, int max_depth,
                                     const Expand& x) const {
  if (node(from) == nullptr) return std::nullopt;
  if (from == to) return 0;
  std::set<std::string> seen = {from};
  std::vector<std::string> frontier = {from};
  for (int d = 1; d <= max_depth && !frontier.empty(); ++d) {
    std::vector<std::string> next;
    for (const std::string& u : frontier) {
      for (const auto& [e, v] : Steps(u, x)) {
        if (v == to) return d;
        if (seen.insert(v).second) next.push_back(v);
      }
    }
    frontier = std::move(next);
  }
  return std::nullopt;
}

std::string RefView::CheckPath(const std::string& from, const std::string& to, int max_depth,
                               const Expand& x,
                               const std::optional<std::vector<MemEdge>>& path) const {
  const std::optional<int> d = Distance(from, to, max_depth, x);
  if (!d) {
    return path ? "no path expected, got one of " + std::to_string(path->size()) + " edges" : "";
  }
  if (!path) return "a path of " + std::to_string(*d) + " edges expected, got none";
  if (path->size() != static_cast<size_t>(*d)) {
    return "a path of " + std::to_string(*d) + " edges expected, got " +
           std::to_string(path->size());
  }
  std::string cur = from;
  for (size_t i = 0; i < path->size(); ++i) {
    const MemEdge& e = (*path)[i];
    const MemEdge* ref = m_.EdgeVersion(e.id, at_.as_of);
    const bool live =
        ref != nullptr && !ref->retracted && (!at_.valid_at || ref->ValidAt(*at_.valid_at));
    if (!live) return "edge " + std::to_string(i) + " (" + Dump(e) + ") is not live and valid";
    if (Dump(*ref) != Dump(e))
      return "edge " + std::to_string(i) + ": " + Dump(e) + " != " + Dump(*ref);
    if (!x.rels.empty() && std::find(x.rels.begin(), x.rels.end(), e.rel) == x.rels.end()) {
      return "edge " + std::to_string(i) + " has a rel outside the filter";
    }
    if (x.dir != Direction::kIn && e.src == cur) {
      cur = e.dst;
    } else if (x.dir != Direction::kOut && e.dst == cur) {
      cur = e.src;
    } else {
      return "edge " + std::to_string(i) + " (" + Dump(e) + ") does not continue from " + cur;
    }
  }
  if (cur != to) return "the path ends at " + cur;
  return "";
}

namespace {
bool NodeMatches(const MemNode& n, const NodePattern& p) {
  if (p.id && n.id != *p.id) return false;
  for (const std::string& l : p.labels) {
    if (std::count(n.labels.begin(), n.labels.end(), l) == 0) return false;
  }
  return RefPropsMatch(n.props, p.props);
}
}  // namespace

std::vector<PatternMatch> RefView::Match(const Pattern& p, size_t limit) const {
  using Key = std::vector<std::string>;
  std::vector<std::pair<Key, PatternMatch>> found;
  for (const auto& [aid, a] : nodes_) {
    if (!NodeMatches(*a, p.a)) continue;
    for (const auto& [r1, bid] : Steps(aid, p.r1.expand)) {
      if (!RefPropsMatch(r1->props, p.r1.props)) continue;
      const MemNode* b = node(bid);
      if (b == nullptr || !NodeMatches(*b, p.b)) continue;
      if (!p.r2) {
        found.push_back({{aid, r1->id, bid}, PatternMatch{{*a, *b}, {*r1}}});
        continue;
      }
      for (const auto& [r2, cid] : Steps(bid, p.r2->expand)) {
        if (!RefPropsMatch(r2->props, p.r2->props)) continue;
        const MemNode* c = node(cid);
        if (c == nullptr || !NodeMatches(*c, p.c)) continue;
        found.push_back({{aid, r1->id, bid, r2->id, cid}, PatternMatch{{*a, *b, *c}, {*r1, *r2}}});
      }
    }
  }
  std::stable_sort(found.begin(), found.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  std::vector<PatternMatch> out;
  for (auto& [k, m] : found) {
    if (out.size() >= limit) break;
    out.push_back(std::move(m));
  }
  return out;
}

Belief RefView::About(const std::string& id) const {
  Belief b;
  if (const MemNode* n = node(id)) b.node = *n;
  b.out = Edges(id, Expand{Direction::kOut, {}});
  b.in = Edges(id, Expand{Direction::kIn, {}});
  return b;
}

}  // namespace tink::projections::testing
