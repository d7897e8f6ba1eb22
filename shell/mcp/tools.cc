// The tools of the MCP server (docs/mcp.md "Tools"): each one a JSON Schema for its arguments and
// its structured result, and a handler. Tools that a shell verb answers build the verb's
// statement from their arguments (every id and path a quoted word, quote.h) and run it through
// the Backend, so an answer equals `tink shell -c 'STATEMENT' --format json`; the statement comes
// back in the result's `query`.
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "shell/mcp/mcp_internal.h"
#include "shell/mcp/quote.h"

namespace tink::mcp {
namespace {

constexpr size_t kDefaultLimit = 100;
constexpr size_t kMaxLimit = 10000;
constexpr size_t kMaxFacts = 1000;

struct ToolOut {
  Json structured;  // an object
};

struct Ctx {
  McpServer& server;
  Session* session;
  const query::Cancel* cancel;
  CallRecord* rec;
};

using Handler = Result<ToolOut> (*)(const Json& args, Ctx& ctx);

struct ToolDef {
  const char* name;
  const char* title;
  const char* description;
  const char* input;   // JSON Schema of the arguments
  const char* output;  // JSON Schema of structuredContent
  Handler run;
  bool read_only = true;
  bool record_first = false;  // record the tool.call before running (its LSN is a causation)
};

// --- argument helpers (the schema was checked first: types are right when present) ---

std::string Str(const Json& args, const char* key) {
  return args.contains(key) ? args[key].get<std::string>() : std::string();
}

const char* kRowsOutput = R"({"type":"object","properties":{
  "query":{"type":"string","description":"the shell statement that answered"},
  "rows":{"type":"array","items":{"type":"object"}},
  "truncated":{"type":"boolean","description":"more rows than the limit"}},
  "required":["query","rows","truncated"]})";

Result<ToolOut> RowsOf(Ctx& ctx, const std::string& statement, size_t limit) {
  ASSIGN_OR_RETURN(QueryAnswer a, ctx.server.backend().Query(statement, limit, ctx.cancel));
  ToolOut out;
  out.structured["query"] = statement;
  if (a.text) {
    out.structured["text"] = *a.text;
  } else {
    out.structured["rows"] = std::move(a.rows);
  }
  out.structured["truncated"] = a.truncated;
  return out;
}

std::string AsOf(const Json& args) {
  if (!args.contains("as_of")) return "";
  return " as of " + QuotePoint(args["as_of"].get<std::string>());
}

// --- the tools ---

Result<ToolOut> QueryTool(const Json& args, Ctx& ctx) {
  const size_t limit = args.contains("limit") ? args["limit"].get<size_t>() : kDefaultLimit;
  return RowsOf(ctx, Str(args, "query"), limit);
}

Result<ToolOut> WhyTool(const Json& args, Ctx& ctx) {
  return RowsOf(ctx, "why " + QuoteWord(Str(args, "task")), kMaxLimit);
}

Result<ToolOut> TimelineTool(const Json& args, Ctx& ctx) {
  const bool run = args.contains("run"), task = args.contains("task");
  if (run == task) return Status::InvalidArgument("give either run or task (RUN/TASK), not both");
  const std::string target = run ? Str(args, "run") : Str(args, "task");
  return RowsOf(ctx, "timeline " + QuoteWord(target) + AsOf(args), kMaxLimit);
}

Result<ToolOut> ReportTool(const Json& args, Ctx& ctx) {
  ASSIGN_OR_RETURN(Json report, ctx.server.backend().Report(Str(args, "run")));
  ToolOut out;
  out.structured = report.is_object() ? report : Json{{"report", report}};
  return out;
}

Result<ToolOut> RunsDiffTool(const Json& args, Ctx& ctx) {
  return RowsOf(ctx, "diff " + QuoteWord(Str(args, "a")) + " " + QuoteWord(Str(args, "b")),
                kMaxLimit);
}

std::string At(const std::string& p) {
  if (p == "now") return "@now";
  if (!p.empty() && p.find_first_not_of("0123456789") == std::string::npos) return "@" + p;
  return "@" + QuoteWord(p);
}

Result<ToolOut> CanvasDiffTool(const Json& args, Ctx& ctx) {
  std::string q = "diff";
  if (args.contains("path")) q += " " + QuoteWord(Str(args, "path"));
  q += " --run " + QuoteWord(Str(args, "run"));
  if (args.contains("to") && !args.contains("from")) {
    return Status::InvalidArgument(
        "'to' needs 'from' (without both the diff runs from the run's "
        "base to now)");
  }
  if (args.contains("from")) q += " " + At(Str(args, "from"));
  if (args.contains("to")) q += " " + At(Str(args, "to"));
  ASSIGN_OR_RETURN(QueryAnswer a, ctx.server.backend().Query(q, kMaxLimit, ctx.cancel));
  ToolOut out;
  out.structured["query"] = q;
  out.structured["diff"] = a.text.value_or("");
  return out;
}

Result<ToolOut> CanvasBlameTool(const Json& args, Ctx& ctx) {
  std::string q = "blame " + QuoteWord(Str(args, "path")) + " --run " +
                  QuoteWord(Str(args, "run")) + AsOf(args);
  return RowsOf(ctx, q, kMaxLimit * 10);
}

std::string Depth(const Json& args) {
  if (!args.contains("depth")) return "";
  return " depth " + std::to_string(args["depth"].get<int64_t>());
}

Result<ToolOut> NeighborsTool(const Json& args, Ctx& ctx) {
  ASSIGN_OR_RETURN(
      ToolOut out,
      RowsOf(ctx, "neighbors " + QuoteWord(Str(args, "node")) + Depth(args) + AsOf(args),
             kMaxLimit));
  if (args.contains("rel")) {
    const std::string rel = Str(args, "rel");
    Json kept = Json::array();
    for (Json& row : out.structured["rows"]) {
      if (row.contains("via_rel") && row["via_rel"] == rel) kept.push_back(std::move(row));
    }
    out.structured["rows"] = std::move(kept);
    out.structured["rel"] = rel;
  }
  return out;
}

Result<ToolOut> PathTool(const Json& args, Ctx& ctx) {
  return RowsOf(ctx,
                "path " + QuoteWord(Str(args, "a")) + " " + QuoteWord(Str(args, "b")) +
                    Depth(args) + AsOf(args),
                kMaxLimit);
}

Result<ToolOut> RememberTool(const Json& args, Ctx& ctx) {
  const Json empty = Json::array();
  const Json& nodes = args.contains("nodes") ? args["nodes"] : empty;
  const Json& edges = args.contains("edges") ? args["edges"] : empty;
  if (nodes.empty() && edges.empty()) {
    return Status::InvalidArgument("nothing to remember: give nodes and/or edges");
  }
  if (nodes.size() + edges.size() > kMaxFacts) {
    return Status::InvalidArgument("at most " + std::to_string(kMaxFacts) +
                                   " nodes and edges per call");
  }
  std::vector<Json> events;
  auto add = [&](const Json& fact, const char* type, size_t i) -> Status {
    if (!fact.is_object()) {
      return Status::InvalidArgument(
          std::string(type == std::string("memory.node") ? "nodes" : "edges") + "[" +
          std::to_string(i) + "]: not an object");
    }
    Json e;
    e["stream"] = "mcp/" + ctx.session->id;
    e["type"] = type;
    if (args.contains("run")) e["run"] = args["run"];
    if (ctx.rec->call_lsn != 0) e["causation"] = ctx.rec->call_lsn;
    e["data"] = fact;
    events.push_back(std::move(e));
    return Status::Ok();
  };
  for (size_t i = 0; i < nodes.size(); ++i) RETURN_IF_ERROR(add(nodes[i], "memory.node", i));
  for (size_t i = 0; i < edges.size(); ++i) RETURN_IF_ERROR(add(edges[i], "memory.edge", i));
  ASSIGN_OR_RETURN(std::vector<uint64_t> lsns, ctx.server.backend().Append(events));
  ToolOut out;
  out.structured["lsns"] = lsns;
  out.structured["call_lsn"] = ctx.rec->call_lsn;
  out.structured["stream"] = "mcp/" + ctx.session->id;
  return out;
}

Result<ToolOut> ExecTool(const Json& args, Ctx& ctx) {
  const ExecFn& fn = ctx.server.options().exec;
  if (!fn) return Status::NotSupported("exec is not enabled");
  ASSIGN_OR_RETURN(Json r, fn(args, *ctx.session));
  ToolOut out;
  out.structured = r.is_object() ? r : Json{{"result", r}};
  return out;
}

const std::vector<ToolDef>& Tools() {
  static const std::vector<ToolDef> tools = {
      {"query", "Query the flight record",
       "Run one statement of Tinkerbell's shell language (docs/shell.md): SOURCE [as of POINT] | "
       "where ... | select ... | sort ... | limit N | count | group by ..., with sources events, "
       "runs, tasks, files, nodes, edges, anomalies, segments; or a verb (timeline, why, history, "
       "diff, blame, neighbors, path, divergence). Rows come back as JSON objects, as `tink shell "
       "--format json` prints them; `diff` of a file gives text.",
       R"({"type":"object","properties":{
         "query":{"type":"string",
                  "description":"e.g. runs | where failed > 0 | select run, status"},
         "limit":{"type":"integer","minimum":1,"maximum":10000,
                  "description":"most rows returned, default 100"}},
         "required":["query"],"additionalProperties":false})",
       R"({"type":"object","properties":{
         "query":{"type":"string"},
         "rows":{"type":"array","items":{"type":"object"}},
         "text":{"type":"string","description":"the answer of a verb that prints text: diff"},
         "truncated":{"type":"boolean"}},"required":["query","truncated"]})",
       &QueryTool},
      {"why", "Why a task failed",
       "The chain of events behind a task's failure: the failure, its last failing tool result, "
       "the call that produced it, the LLM response that asked for the call, the parent that "
       "failed after it (the `why` verb).",
       R"({"type":"object","properties":{
         "task":{"type":"string","description":"RUN/TASK, e.g. basic/3"}},
         "required":["task"],"additionalProperties":false})",
       kRowsOutput, &WhyTool},
      {"timeline", "Timeline of a run or task",
       "Every event of a run or of one task in log order (the `timeline` verb). Give run or task.",
       R"({"type":"object","properties":{
         "run":{"type":"string"},
         "task":{"type":"string","description":"RUN/TASK"},
         "as_of":{"type":"string","description":"an LSN, an ISO 8601 time, or now"}},
         "additionalProperties":false})",
       kRowsOutput, &TimelineTool},
      {"report", "Forensic report of a run",
       "What `tink report --run RUN --json` prints: the run's outcome, tasks, failures, files, "
       "LLM usage.",
       R"({"type":"object","properties":{"run":{"type":"string"}},
         "required":["run"],"additionalProperties":false})",
       R"({"type":"object"})", &ReportTool},
      {"runs_diff", "Two runs side by side",
       "Aligns two runs (`diff RUN_A RUN_B`): header fields, the first divergence, tasks, LLM "
       "calls, tool calls and files, each marked equal, changed, only_a or only_b.",
       R"({"type":"object","properties":{"a":{"type":"string"},"b":{"type":"string"}},
         "required":["a","b"],"additionalProperties":false})",
       kRowsOutput, &RunsDiffTool},
      {"canvas_diff", "What a run changed in its files",
       "`git diff` of the files a run's agent wrote (the canvas), from `from` (default: the run's "
       "base) to `to` (default: now), for one path or all.",
       R"({"type":"object","properties":{
         "run":{"type":"string"},"path":{"type":"string"},
         "from":{"type":"string","description":"an LSN, an ISO 8601 time, or now"},
         "to":{"type":"string","description":"an LSN, an ISO 8601 time, or now"}},
         "required":["run"],"additionalProperties":false})",
       R"({"type":"object","properties":{"query":{"type":"string"},"diff":{"type":"string"}},
         "required":["query","diff"]})",
       &CanvasDiffTool},
      {"canvas_blame", "Who wrote each line of a file",
       "One row per line of a canvas file: the LSN, task and event type that last wrote it.",
       R"({"type":"object","properties":{
         "run":{"type":"string"},"path":{"type":"string"},
         "as_of":{"type":"string","description":"an LSN, an ISO 8601 time, or now"}},
         "required":["run","path"],"additionalProperties":false})",
       kRowsOutput, &CanvasBlameTool},
      {"memory_neighbors", "Neighbours in the memory graph",
       "The nodes around a node of the memory graph, breadth-first up to `depth` hops (the "
       "`neighbors` verb); `rel` keeps the rows reached over an edge of that relation.",
       R"({"type":"object","properties":{
         "node":{"type":"string","description":"e.g. task:basic/3, file:RUN/PATH, run:RUN"},
         "depth":{"type":"integer","minimum":1,"maximum":16},
         "rel":{"type":"string","description":"e.g. MODIFIES"},
         "as_of":{"type":"string","description":"an LSN, an ISO 8601 time, or now"}},
         "required":["node"],"additionalProperties":false})",
       kRowsOutput, &NeighborsTool},
      {"memory_path", "Shortest path in the memory graph",
       "The shortest path between two nodes (the `path` verb), one row per hop.",
       R"({"type":"object","properties":{
         "a":{"type":"string"},"b":{"type":"string"},
         "depth":{"type":"integer","minimum":1,"maximum":16},
         "as_of":{"type":"string","description":"an LSN, an ISO 8601 time, or now"}},
         "required":["a","b"],"additionalProperties":false})",
       kRowsOutput, &PathTool},
      {"remember", "Assert a memory fact",
       "Appends memory.node and/or memory.edge events (docs/events.md) on stream mcp/SESSION, "
       "caused by this call's recorded tool.call (the provenance: which client, which session). "
       "A node is {id, labels?, props?}; an edge {src, rel, dst, id?, props?, valid_from?, "
       "valid_to?}.",
       R"({"type":"object","properties":{
         "nodes":{"type":"array","items":{"type":"object"}},
         "edges":{"type":"array","items":{"type":"object"}},
         "run":{"type":"string","description":"the run the facts belong to"}},
         "additionalProperties":false})",
       R"({"type":"object","properties":{
         "lsns":{"type":"array","items":{"type":"integer"}},
         "call_lsn":{"type":"integer"},"stream":{"type":"string"}},
         "required":["lsns","call_lsn","stream"]})",
       &RememberTool, /*read_only=*/false, /*record_first=*/true},
      {"exec", "Run a command, recorded",
       "Runs a command (argv, no shell) as a task of a run through Tinkerbell's recorded "
       "executor (`tink exec`): its output, exit code, resource use and the files it changed "
       "under `workdir` become events. Without `run`, a new run is made. The command gets no "
       "stdin; `timeout` (seconds, default 300, at most 3600) kills its process group. A "
       "non-zero exit is an answer (exit_code, failure), not an error.",
       R"({"type":"object","properties":{
         "command":{"type":"array","items":{"type":"string"},"minItems":1},
         "run":{"type":"string"},"task":{"type":"string"},"parent":{"type":"string"},
         "workdir":{"type":"string"},
         "timeout":{"type":"number","description":"seconds, default 300"},
         "sandbox":{"type":"boolean",
                    "description":"under bubblewrap: no network, read-only system"}},
         "required":["command"],"additionalProperties":false})",
       R"({"type":"object","properties":{
         "run":{"type":"string"},"task":{"type":"string"},
         "exit_code":{"type":"integer"},"signal":{"type":"integer"},
         "timed_out":{"type":"boolean"},"failure":{"type":"string"},
         "duration_ms":{"type":"number"},"stdout":{"type":"string"},"stderr":{"type":"string"},
         "files_changed":{"type":"integer"},"first_lsn":{"type":"integer"},
         "last_lsn":{"type":"integer"}},
         "required":["run","task","exit_code","stdout","stderr"]})",
       &ExecTool, /*read_only=*/false, /*record_first=*/true},
  };
  return tools;
}

const Json& Schema(const char* text) {
  // Parsed once per text; the texts are constants of this file.
  static std::mutex mu;
  static std::map<const char*, Json> parsed;
  std::lock_guard<std::mutex> l(mu);
  auto it = parsed.find(text);
  if (it == parsed.end()) it = parsed.emplace(text, Json::parse(text)).first;
  return it->second;
}

bool Enabled(const ToolDef& t, const ServerOptions& o) {
  return std::string_view(t.name) != "exec" || static_cast<bool>(o.exec);
}

// Checks args against the top level of `schema`: known keys, types, required, integer bounds.
Status Validate(const Json& schema, const Json& args) {
  const Json& props = schema["properties"];
  for (const auto& [key, value] : args.items()) {
    if (!props.contains(key)) {
      std::string known;
      for (const auto& [k, v] : props.items()) known += (known.empty() ? "" : ", ") + k;
      return Status::InvalidArgument("unknown argument '" + key + "' (arguments: " + known + ")");
    }
    const Json& p = props[key];
    const std::string type = p.value("type", "");
    bool ok = true;
    if (type == "string") ok = value.is_string();
    if (type == "integer") ok = value.is_number_integer();
    if (type == "number") ok = value.is_number();
    if (type == "boolean") ok = value.is_boolean();
    if (type == "object") ok = value.is_object();
    if (type == "array") ok = value.is_array();
    if (!ok)
      return Status::InvalidArgument("argument '" + key + "' must be " +
                                     (type == "integer" ? "an " : "a ") + type);
    if (type == "integer") {
      if ((p.contains("minimum") && value < p["minimum"]) ||
          (p.contains("maximum") && value > p["maximum"])) {
        return Status::InvalidArgument("argument '" + key + "' must be from " +
                                       p["minimum"].dump() + " to " + p["maximum"].dump());
      }
    }
    if (type == "array" && p.contains("items")) {
      const std::string it = p["items"].value("type", "");
      for (const Json& v : value) {
        if ((it == "string" && !v.is_string()) || (it == "object" && !v.is_object())) {
          return Status::InvalidArgument("argument '" + key + "' must be an array of " + it + "s");
        }
      }
      if (p.contains("minItems") && value.size() < p["minItems"].get<size_t>()) {
        return Status::InvalidArgument("argument '" + key + "' must not be empty");
      }
    }
  }
  if (schema.contains("required")) {
    for (const Json& r : schema["required"]) {
      if (!args.contains(r.get<std::string>())) {
        return Status::InvalidArgument("missing argument '" + r.get<std::string>() + "'");
      }
    }
  }
  return Status::Ok();
}

Json TextResult(const std::string& text, bool is_error) {
  Json r;
  r["content"] = Json::array({{{"type", "text"}, {"text", text}}});
  r["isError"] = is_error;
  return r;
}

}  // namespace

Json ListTools(const ServerOptions& options) {
  Json list = Json::array();
  for (const ToolDef& t : Tools()) {
    if (!Enabled(t, options)) continue;
    Json j;
    j["name"] = t.name;
    j["title"] = t.title;
    j["description"] = t.description;
    j["inputSchema"] = Schema(t.input);
    j["outputSchema"] = Schema(t.output);
    j["annotations"] = {{"title", t.title},
                        {"readOnlyHint", t.read_only},
                        {"destructiveHint", false},
                        {"idempotentHint", t.read_only},
                        {"openWorldHint", false}};
    list.push_back(std::move(j));
  }
  return Json{{"tools", std::move(list)}};
}

Json CallTool(McpServer& server, const std::string& name, const Json& args, Session* session,
              const query::Cancel* cancel, RpcError* err) {
  const ToolDef* def = nullptr;
  for (const ToolDef& t : Tools()) {
    if (name == t.name && Enabled(t, server.options())) def = &t;
  }
  if (def == nullptr) {
    std::string known;
    for (const ToolDef& t : Tools()) {
      if (Enabled(t, server.options())) known += (known.empty() ? "" : ", ") + std::string(t.name);
    }
    *err = {kInvalidParams, "Unknown tool: " + name + " (tools: " + known + ")"};
    return nullptr;
  }
  CallRecord rec;
  rec.tool = name;
  rec.args = args;
  const auto started = std::chrono::steady_clock::now();
  Status valid = Validate(Schema(def->input), args);
  if (valid.ok() && def->record_first) {
    if (Status s = RecordCall(server.backend(), session, &rec); !s.ok()) {
      return TextResult("not run: recording the call failed: " + s.ToString(), true);
    }
  }
  Result<ToolOut> out = valid;
  if (valid.ok()) {
    Ctx ctx{server, session, cancel, &rec};
    out = def->run(args, ctx);
  }
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  std::string text, error;
  if (out.ok()) {
    text = out->structured.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    error = query::IsCancelled(out.status())
                ? "cancelled: the query ran longer than the daemon's --query-timeout, or the "
                  "client went away"
                : ErrorLine(out.status());
    if (!valid.ok()) error = "bad arguments: " + valid.message();
  }
  if (Status s = RecordResult(server.backend(), session, &rec, out.ok(), text, error, ms);
      !s.ok()) {
    std::string msg = "the answer is withheld: recording this call failed: " + s.ToString();
    if (out.ok() && def->record_first)
      msg =
          "the call ran but recording its result failed: " + s.ToString() + "; its answer: " + text;
    return TextResult(msg, true);
  }
  if (!out.ok()) return TextResult(error, true);
  Json r = TextResult(text, false);
  r["structuredContent"] = std::move(out->structured);
  return r;
}

}  // namespace tink::mcp
