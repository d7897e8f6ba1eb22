// tink memory: the bitemporal memory graph (projections/memory.h, docs/memory.md) from the command
// line: a node, its neighbours, a shortest path, everything believed about a node, the history of
// a node or edge with what ended each version, the nodes of a label, and the anomalies. Every
// query takes a point in system time (--as-of) and, where edges matter, in valid time
// (--valid-at).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "engine/engine.h"
#include "projections/memory.h"
#include "schema/schema.h"
#include "shell/cli/commands.h"
#include "shell/cli/common.h"

namespace tink::cli {
namespace {

using nlohmann::ordered_json;
using projections::Direction;
using projections::GraphAt;
using projections::Lsn;
using projections::MemEdge;
using projections::MemNode;
using projections::MemoryReader;
using projections::MemProvenance;

struct MemoryFlags {
  std::string id, other, as_of, valid_at, dir = "out", label;
  std::vector<std::string> rels, labels;
  int depth = 1, max_depth = 6;
  size_t limit = SIZE_MAX;
  bool json = false, edge = false;
};

struct Session {
  std::unique_ptr<engine::Engine> engine;
  std::unique_ptr<projections::StateReader> reader;
  std::unique_ptr<MemoryReader> memory;
  GraphAt at;
};

// Opens the store as `tink canvas` does (read-only, never taking the writer's lock) and resolves
// --as-of / --valid-at.
Result<Session> Open(const GlobalOptions& global, const MemoryFlags& f) {
  auto parsed = ParseAsOf(f.as_of);
  if (!parsed.ok()) return parsed.status().WithContext("--as-of");
  const projections::AsOf point = *parsed;
  std::optional<int64_t> valid_at;
  if (f.valid_at == "now") {
    valid_at = std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
  } else if (!f.valid_at.empty()) {
    auto t = schema::ParseTime(f.valid_at);
    if (!t.ok()) return t.status().WithContext("--valid-at");
    valid_at = *t;
  }
  Session s;
  ASSIGN_OR_RETURN(s.engine, OpenForReading("memory", global.StorePath()));
  ASSIGN_OR_RETURN(s.reader, s.engine->NewReader());
  s.memory = std::make_unique<MemoryReader>(*s.reader);
  if (point.kind == projections::AsOf::Kind::kLsn && point.value > s.memory->head()) {
    return Status::InvalidArgument("--as-of: LSN " + std::to_string(point.value) +
                                   " is past the memory graph's last LSN " +
                                   std::to_string(s.memory->head()));
  }
  ASSIGN_OR_RETURN(s.at.as_of, s.memory->Resolve(point));
  s.at.valid_at = valid_at;
  return s;
}

std::string Point(const GraphAt& at) {
  std::string s = "as of LSN " + std::to_string(at.as_of);
  if (at.valid_at) s += ", valid at " + schema::FormatTime(*at.valid_at);
  return s;
}

// NotFound for a node that is not live at the point, saying why: never known, not yet known,
// or retracted (when and why).
Status NoNode(MemoryReader& m, const std::string& id, const GraphAt& at) {
  auto h = m.NodeHistory(id);
  if (!h.ok()) return h.status();
  const std::string where = Point(at);
  if (h->empty()) {
    return Status::NotFound("no node '" + id +
                            "' in the memory graph (tink memory nodes lists them)");
  }
  const MemNode* last = nullptr;
  for (const MemNode& v : *h) {
    if (v.by.lsn <= at.as_of) last = &v;
  }
  if (last == nullptr) {
    return Status::NotFound("node '" + id + "' is not known " + where + " (first asserted at LSN " +
                            std::to_string(h->front().by.lsn) + ")");
  }
  return Status::NotFound("node '" + id + "' was retracted at LSN " + std::to_string(last->by.lsn) +
                          " (" + last->reason + "), " + where);
}

Result<MemNode> LiveNode(MemoryReader& m, const std::string& id, const GraphAt& at) {
  ASSIGN_OR_RETURN(std::optional<MemNode> n, m.Node(id, at));
  if (!n) return NoNode(m, id, at);
  return std::move(*n);
}

std::string Time(int64_t ns) { return ns == 0 ? "" : schema::FormatTime(ns); }

ordered_json Props(const std::string& text) {
  ordered_json j = ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  return j.is_discarded() ? ordered_json(text) : j;
}

void By(ordered_json& j, const MemProvenance& by) {
  j["lsn"] = by.lsn;
  j["time"] = Time(by.time_ns);
  j["run"] = by.run;
  j["task"] = by.task;
  j["stream"] = by.stream;
  j["event_id"] = by.event_id;
}

ordered_json NodeJson(const MemNode& n) {
  ordered_json j;
  j["id"] = n.id;
  j["labels"] = n.labels;
  j["props"] = Props(n.props);
  By(j, n.by);
  return j;
}

ordered_json ValidEnd(int64_t t, int64_t open) {
  return t == open ? ordered_json(nullptr) : ordered_json(schema::FormatTime(t));
}

ordered_json EdgeJson(const MemEdge& e) {
  ordered_json j;
  j["id"] = e.id;
  j["src"] = e.src;
  j["rel"] = e.rel;
  j["dst"] = e.dst;
  j["props"] = Props(e.props);
  j["valid_from"] = ValidEnd(e.valid_from, projections::kValidMin);
  j["valid_to"] = ValidEnd(e.valid_to, projections::kValidMax);
  By(j, e.by);
  return j;
}

std::string Labels(const std::vector<std::string>& labels) {
  std::string s;
  for (const std::string& l : labels) s += (s.empty() ? "" : ",") + l;
  return s.empty() ? "-" : s;
}

// "[from, to)" when the edge has a valid interval; "" when both ends are open.
std::string Valid(const MemEdge& e) {
  if (e.valid_from == projections::kValidMin && e.valid_to == projections::kValidMax) return "";
  std::string from =
      e.valid_from == projections::kValidMin ? "-inf" : schema::FormatTime(e.valid_from);
  std::string to = e.valid_to == projections::kValidMax ? "+inf" : schema::FormatTime(e.valid_to);
  return "valid [" + from + ", " + to + ")";
}

std::string EdgeText(const MemEdge& e) {
  std::string s = e.src + " -[" + e.rel + "]-> " + e.dst;
  if (e.props != "{}") s += " " + e.props;
  if (std::string v = Valid(e); !v.empty()) s += " " + v;
  return s;
}

void PrintJson(const ordered_json& j) {
  std::printf("%s\n", j.dump(-1, ' ', false, ordered_json::error_handler_t::replace).c_str());
}

Direction Dir(const std::string& d) {
  return d == "in" ? Direction::kIn : d == "both" ? Direction::kBoth : Direction::kOut;
}

// A table: left-aligned columns, the last one unpadded.
void PrintTable(const std::vector<std::vector<std::string>>& rows) {
  if (rows.empty()) return;
  std::vector<size_t> w(rows[0].size(), 0);
  for (const auto& r : rows) {
    for (size_t i = 0; i + 1 < r.size(); ++i) w[i] = std::max(w[i], r[i].size());
  }
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(w[i] - r[i].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    std::printf("%s\n", line.c_str());
  }
}

int NodeCmd(const GlobalOptions& g, const MemoryFlags& f) {
  auto s = Open(g, f);
  if (!s.ok()) return Fail("memory node", s.status());
  auto n = LiveNode(*s->memory, f.id, s->at);
  if (!n.ok()) return Fail("memory node", n.status());
  if (f.json) {
    PrintJson(NodeJson(*n));
    return 0;
  }
  PrintTable({{"id", n->id},
              {"labels", Labels(n->labels)},
              {"props", n->props},
              {"lsn", std::to_string(n->by.lsn)},
              {"time", Time(n->by.time_ns)},
              {"run", n->by.run.empty() ? "-" : n->by.run},
              {"task", n->by.task.empty() ? "-" : n->by.task},
              {"event", n->by.event_id}});
  return 0;
}

int NeighborsCmd(const GlobalOptions& g, const MemoryFlags& f) {
  auto s = Open(g, f);
  if (!s.ok()) return Fail("memory neighbors", s.status());
  if (auto n = LiveNode(*s->memory, f.id, s->at); !n.ok()) {
    return Fail("memory neighbors", n.status());
  }
  projections::Expand x{Dir(f.dir), f.rels};
  auto nb = s->memory->Neighbors(f.id, f.depth, x, f.labels, s->at);
  if (!nb.ok()) return Fail("memory neighbors", nb.status());
  if (f.json) {
    ordered_json out = ordered_json::array();
    for (const auto& n : *nb) {
      ordered_json j = NodeJson(n.node);
      j["depth"] = n.depth;
      j["via"] = EdgeJson(n.via);
      out.push_back(std::move(j));
    }
    PrintJson(out);
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {{"DEPTH", "NODE", "LABELS", "VIA"}};
  if (nb->empty()) rows.clear();
  for (const auto& n : *nb) {
    // The last hop, seen from the node reached: "<-[REL]- src" (reached along an out-edge) or
    // "-[REL]-> dst" (along an in-edge).
    const MemEdge& v = n.via;
    std::string via =
        v.dst == n.node.id ? "<-[" + v.rel + "]- " + v.src : "-[" + v.rel + "]-> " + v.dst;
    rows.push_back({std::to_string(n.depth), n.node.id, Labels(n.node.labels), via});
  }
  PrintTable(rows);
  std::printf("%zu node%s within %d hop%s of %s, %s\n", nb->size(), nb->size() == 1 ? "" : "s",
              f.depth, f.depth == 1 ? "" : "s", f.id.c_str(), Point(s->at).c_str());
  return 0;
}

int PathCmd(const GlobalOptions& g, const MemoryFlags& f) {
  auto s = Open(g, f);
  if (!s.ok()) return Fail("memory path", s.status());
  for (const std::string& id : {f.id, f.other}) {
    if (auto n = LiveNode(*s->memory, id, s->at); !n.ok()) return Fail("memory path", n.status());
  }
  projections::Expand x{Dir(f.dir), f.rels};
  auto path = s->memory->ShortestPath(f.id, f.other, f.max_depth, x, s->at);
  if (!path.ok()) return Fail("memory path", path.status());
  if (f.json) {
    ordered_json out;
    out["from"] = f.id;
    out["to"] = f.other;
    out["as_of"] = s->at.as_of;
    out["found"] = path->has_value();
    out["hops"] = path->has_value() ? ordered_json((*path)->size()) : ordered_json(nullptr);
    ordered_json edges = ordered_json::array();
    if (*path) {
      for (const MemEdge& e : **path) edges.push_back(EdgeJson(e));
    }
    out["edges"] = std::move(edges);
    PrintJson(out);
    return 0;
  }
  if (!*path) {
    std::printf("no path from %s to %s within %d hop%s, %s\n", f.id.c_str(), f.other.c_str(),
                f.max_depth, f.max_depth == 1 ? "" : "s", Point(s->at).c_str());
    return 0;
  }
  // The walk: each edge printed in the direction it was followed.
  std::string cur = f.id;
  std::vector<std::vector<std::string>> rows;
  for (const MemEdge& e : **path) {
    const bool forward = e.src == cur;
    const std::string& next = forward ? e.dst : e.src;
    rows.push_back({std::to_string(rows.size() + 1), cur,
                    forward ? "-[" + e.rel + "]->" : "<-[" + e.rel + "]-", next});
    cur = next;
  }
  PrintTable(rows);
  std::printf("%zu hop%s from %s to %s, %s\n", (*path)->size(), (*path)->size() == 1 ? "" : "s",
              f.id.c_str(), f.other.c_str(), Point(s->at).c_str());
  return 0;
}

int AboutCmd(const GlobalOptions& g, const MemoryFlags& f) {
  auto s = Open(g, f);
  if (!s.ok()) return Fail("memory about", s.status());
  auto b = s->memory->About(f.id, s->at);
  if (!b.ok()) return Fail("memory about", b.status());
  if (!b->node) return Fail("memory about", NoNode(*s->memory, f.id, s->at));
  if (f.json) {
    ordered_json out;
    out["as_of"] = s->at.as_of;
    out["valid_at"] =
        s->at.valid_at ? ordered_json(schema::FormatTime(*s->at.valid_at)) : ordered_json(nullptr);
    out["node"] = NodeJson(*b->node);
    ordered_json o = ordered_json::array(), i = ordered_json::array();
    for (const MemEdge& e : b->out) o.push_back(EdgeJson(e));
    for (const MemEdge& e : b->in) i.push_back(EdgeJson(e));
    out["out"] = std::move(o);
    out["in"] = std::move(i);
    PrintJson(out);
    return 0;
  }
  const MemNode& n = *b->node;
  std::printf("%s [%s] %s\n", n.id.c_str(), Labels(n.labels).c_str(), n.props.c_str());
  std::printf("  asserted at LSN %llu%s%s, %s\n", static_cast<unsigned long long>(n.by.lsn),
              n.by.run.empty() ? "" : " by run ", n.by.run.c_str(), Point(s->at).c_str());
  for (const auto* side : {&b->out, &b->in}) {
    const bool out = side == &b->out;
    std::printf("%s (%zu):\n", out ? "out" : "in", side->size());
    std::vector<std::vector<std::string>> rows;
    for (const MemEdge& e : *side) {
      std::string rest = e.props == "{}" ? "" : e.props;
      if (std::string v = Valid(e); !v.empty()) rest += (rest.empty() ? "" : "  ") + v;
      rows.push_back({"", out ? "-[" + e.rel + "]->" : "<-[" + e.rel + "]-", out ? e.dst : e.src,
                      "LSN " + std::to_string(e.by.lsn), rest});
    }
    PrintTable(rows);
  }
  return 0;
}

// One version's "what": asserted (labels/props or the edge), or retracted with its reason.
template <typename V>
std::string What(const V& v);
template <>
std::string What(const MemNode& v) {
  return v.retracted ? "retracted: " + v.reason : "asserted [" + Labels(v.labels) + "] " + v.props;
}
template <>
std::string What(const MemEdge& v) {
  return v.retracted ? "retracted: " + v.reason : "asserted " + EdgeText(v);
}

ordered_json VersionJson(const MemNode& n) { return NodeJson(n); }
ordered_json VersionJson(const MemEdge& e) { return EdgeJson(e); }

template <typename V>
int PrintHistory(const std::vector<V>& h, bool json) {
  if (json) {
    ordered_json out = ordered_json::array();
    for (size_t i = 0; i < h.size(); ++i) {
      ordered_json j = VersionJson(h[i]);
      j["retracted"] = h[i].retracted;
      j["reason"] = h[i].reason;
      if (i + 1 < h.size()) {
        const V& next = h[i + 1];
        ordered_json end;
        end["lsn"] = next.by.lsn;
        end["how"] = next.retracted ? "retracted" : "superseded";
        end["reason"] = next.reason;
        end["run"] = next.by.run;
        end["task"] = next.by.task;
        end["event_id"] = next.by.event_id;
        j["ended_by"] = std::move(end);
      } else {
        j["ended_by"] = nullptr;
      }
      out.push_back(std::move(j));
    }
    PrintJson(out);
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {{"LSN", "TIME", "RUN", "TASK", "ENDED", "VERSION"}};
  for (size_t i = 0; i < h.size(); ++i) {
    const V& v = h[i];
    std::string ended = "-";
    if (i + 1 < h.size()) {
      ended = std::string(h[i + 1].retracted ? "retracted" : "superseded") + " at LSN " +
              std::to_string(h[i + 1].by.lsn);
    } else if (!v.retracted) {
      ended = "live";
    }
    rows.push_back({std::to_string(v.by.lsn), Time(v.by.time_ns).substr(0, 19),
                    v.by.run.empty() ? "-" : v.by.run, v.by.task.empty() ? "-" : v.by.task, ended,
                    What(v)});
  }
  PrintTable(rows);
  return 0;
}

int HistoryCmd(const GlobalOptions& g, const MemoryFlags& f) {
  auto s = Open(g, f);
  if (!s.ok()) return Fail("memory history", s.status());
  if (f.edge) {
    auto h = s->memory->EdgeHistory(f.id);
    if (!h.ok()) return Fail("memory history", h.status());
    if (h->empty()) {
      return Fail("memory history",
                  Status::NotFound("no edge '" + f.id +
                                   "' in the memory graph (an edge id is src|REL|dst unless its "
                                   "event named one; tink memory about NODE shows them)"));
    }
    return PrintHistory(*h, f.json);
  }
  auto h = s->memory->NodeHistory(f.id);
  if (!h.ok()) return Fail("memory history", h.status());
  if (h->empty()) {
    return Fail("memory history",
                Status::NotFound("no node '" + f.id +
                                 "' in the memory graph (for an edge: --edge; tink memory nodes "
                                 "lists the nodes)"));
  }
  return PrintHistory(*h, f.json);
}

int NodesCmd(const GlobalOptions& g, const MemoryFlags& f) {
  auto s = Open(g, f);
  if (!s.ok()) return Fail("memory nodes", s.status());
  auto nodes = s->memory->Nodes(f.label, s->at, f.limit);
  if (!nodes.ok()) return Fail("memory nodes", nodes.status());
  if (f.json) {
    ordered_json out = ordered_json::array();
    for (const MemNode& n : *nodes) out.push_back(NodeJson(n));
    PrintJson(out);
    return 0;
  }
  if (nodes->empty()) {
    std::printf("no %s%snodes, %s\n", f.label.c_str(), f.label.empty() ? "" : " ",
                Point(s->at).c_str());
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {{"ID", "LABELS", "LSN", "PROPS"}};
  for (const MemNode& n : *nodes) {
    rows.push_back({n.id, Labels(n.labels), std::to_string(n.by.lsn), n.props});
  }
  PrintTable(rows);
  return 0;
}

int AnomaliesCmd(const GlobalOptions& g, const MemoryFlags& f) {
  auto s = Open(g, f);
  if (!s.ok()) return Fail("memory anomalies", s.status());
  auto an = s->memory->Anomalies(s->at.as_of);
  if (!an.ok()) return Fail("memory anomalies", an.status());
  if (f.json) {
    ordered_json out = ordered_json::array();
    for (const auto& a : *an) {
      out.push_back({{"lsn", a.lsn},
                     {"run", a.run},
                     {"type", a.type},
                     {"target", a.target},
                     {"reason", a.reason}});
    }
    PrintJson(out);
    return 0;
  }
  if (an->empty()) {
    std::printf("no anomalies, %s\n", Point(s->at).c_str());
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {{"LSN", "RUN", "TYPE", "TARGET", "REASON"}};
  for (const auto& a : *an) {
    rows.push_back(
        {std::to_string(a.lsn), a.run.empty() ? "-" : a.run, a.type, a.target, a.reason});
  }
  PrintTable(rows);
  return 0;
}

constexpr const char* kAsOfHelp =
    "System time: an LSN, an ISO 8601 time (the last event recorded at or before it), or now "
    "(default)";
constexpr const char* kValidAtHelp =
    "Valid time: only edges whose [valid_from, valid_to) holds this ISO 8601 time (or now); "
    "default: every edge believed as of --as-of";

CLI::App* Sub(CLI::App* cmd, GlobalOptions* global, MemoryFlags* f, const char* name,
              const char* help, bool valid_at = true) {
  CLI::App* sub = cmd->add_subcommand(name, help);
  AddStoreOption(sub, global);
  sub->add_option("--as-of", f->as_of, kAsOfHelp);
  if (valid_at) sub->add_option("--valid-at", f->valid_at, kValidAtHelp);
  return sub;
}

void Traversal(CLI::App* sub, MemoryFlags* f) {
  sub->add_option("--rel", f->rels, "Follow only edges with this rel (repeatable; default: any)")
      ->allow_extra_args(false);
  sub->add_option("--dir", f->dir, "Follow edges out (default), in, or both ways")
      ->check(CLI::IsMember({"out", "in", "both"}));
}

}  // namespace

void SetupMemory(CLI::App* cmd, GlobalOptions* global, RunFn* run) {
  auto f = std::make_shared<MemoryFlags>();
  AddStoreOption(cmd, global);
  cmd->require_subcommand(1);
  cmd->footer(
      "The memory graph is folded from memory.node / memory.edge / memory.retract events "
      "(docs/memory.md); importers add one per run (docs/import.md). System time is the LSN "
      "(--as-of), valid time the edges' [valid_from, valid_to) (--valid-at). Node ids look like "
      "run:R, task:R/T, file:R/PATH, tool:NAME; edge ids src|REL|dst. Exit codes: 0 ok (also when "
      "a path or a list is empty), 1 usage, 2 unknown node or edge, bad point or time.");

  CLI::App* node =
      Sub(cmd, global, f.get(), "node", "A node as of a point: labels, props, who asserted it");
  node->add_option("id", f->id, "Node id")->required();
  node->add_flag("--json", f->json,
                 "One JSON object {id, labels, props, lsn, time, run, task, ...}");

  CLI::App* nb = Sub(cmd, global, f.get(), "neighbors",
                     "Nodes within K hops of a node, each at its fewest hops, with the edge that "
                     "reached it");
  nb->add_option("id", f->id, "Node id")->required();
  nb->add_option("--depth", f->depth, "Hops (default 1)")->check(CLI::Range(1, 32));
  Traversal(nb, f.get());
  nb->add_option("--label", f->labels,
                 "Only return nodes with this label (repeatable: all of them); traversal is not "
                 "restricted")
      ->allow_extra_args(false);
  nb->add_flag("--json", f->json, "One JSON array of nodes with depth and via (an edge)");

  CLI::App* path = Sub(cmd, global, f.get(), "path", "A shortest path between two nodes");
  path->add_option("from", f->id, "Start node id")->required();
  path->add_option("to", f->other, "End node id")->required();
  path->add_option("--max-depth", f->max_depth, "At most this many hops (default 6)")
      ->check(CLI::Range(1, 64));
  Traversal(path, f.get());
  path->add_flag("--json", f->json, "One JSON object {from, to, as_of, found, hops, edges}");

  CLI::App* about = Sub(cmd, global, f.get(), "about",
                        "What was believed about a node at a point: the node and all its edges");
  about->add_option("id", f->id, "Node id")->required();
  about->add_flag("--json", f->json, "One JSON object {as_of, valid_at, node, out, in}");

  CLI::App* history = cmd->add_subcommand(
      "history", "Every version of a node (or edge), and what ended it: superseded or retracted");
  AddStoreOption(history, global);
  history->add_option("id", f->id, "Node id, or edge id with --edge")->required();
  history->add_flag("--edge", f->edge, "ID is an edge id (src|REL|dst)");
  history->add_flag("--json", f->json,
                    "One JSON array of versions, each with ended_by {lsn, how, reason, run, "
                    "task, event_id} or null");

  CLI::App* nodes = Sub(cmd, global, f.get(), "nodes", "Live nodes in id order", false);
  nodes->add_option("--label", f->label, "Only nodes with this label");
  nodes->add_option("--limit", f->limit, "At most N nodes")->check(CLI::PositiveNumber);
  nodes->add_flag("--json", f->json, "One JSON array of nodes");

  CLI::App* anomalies = Sub(cmd, global, f.get(), "anomalies",
                            "Memory events the graph refused: edges to unknown nodes, retracts of "
                            "unknown ids, bad valid times",
                            false);
  anomalies->add_flag("--json", f->json, "One JSON array of {lsn, run, type, target, reason}");

  *run = [global, f, node, nb, path, about, history, nodes, anomalies]() -> int {
    if (node->parsed()) return NodeCmd(*global, *f);
    if (nb->parsed()) return NeighborsCmd(*global, *f);
    if (path->parsed()) return PathCmd(*global, *f);
    if (about->parsed()) return AboutCmd(*global, *f);
    if (history->parsed()) return HistoryCmd(*global, *f);
    if (nodes->parsed()) return NodesCmd(*global, *f);
    if (anomalies->parsed()) return AnomaliesCmd(*global, *f);
    return static_cast<int>(Exit::kUsage);
  };
}

}  // namespace tink::cli
