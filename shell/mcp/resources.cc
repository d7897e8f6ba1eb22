// The resources of the MCP server (docs/mcp.md "Resources"): a run (its report and timeline, as
// JSON) and a canvas file of a run (its content as of a point, as text).
//   tinkerbell://run/{id}
//   tinkerbell://run/{id}/file/{+path}{?as_of}
// Ids and paths are percent-encoded in the URI (a path keeps its '/').
#include <cctype>
#include <chrono>
#include <string>

#include "shell/mcp/mcp_internal.h"
#include "shell/mcp/quote.h"

namespace tink::mcp {
namespace {

constexpr std::string_view kScheme = "tinkerbell://run/";
constexpr size_t kMaxListed = 500;
constexpr size_t kTimelineRows = 1000;

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding; InvalidArgument for a broken escape.
Result<std::string> Decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size() || Hex(s[i + 1]) < 0 || Hex(s[i + 2]) < 0) {
      return Status::InvalidArgument("a broken percent escape in the URI");
    }
    out += static_cast<char>(Hex(s[i + 1]) * 16 + Hex(s[i + 2]));
    i += 2;
  }
  return out;
}

std::string Encode(std::string_view s, bool keep_slash) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

struct Uri {
  std::string run, path, as_of;
  bool file = false;
};

Result<Uri> ParseUri(const std::string& uri) {
  if (!uri.starts_with(kScheme)) {
    return Status::InvalidArgument("not a tinkerbell://run/... URI: " + uri);
  }
  std::string_view rest(uri);
  rest.remove_prefix(kScheme.size());
  std::string_view query;
  if (size_t q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  Uri u;
  const size_t slash = rest.find('/');
  ASSIGN_OR_RETURN(u.run, Decode(rest.substr(0, slash)));
  if (u.run.empty()) return Status::InvalidArgument("the URI names no run: " + uri);
  if (slash != std::string_view::npos) {
    std::string_view tail = rest.substr(slash);
    if (!tail.starts_with("/file/") || tail.size() == 6) {
      return Status::InvalidArgument(
          "expected tinkerbell://run/ID or tinkerbell://run/ID/file/PATH: " + uri);
    }
    u.file = true;
    ASSIGN_OR_RETURN(u.path, Decode(tail.substr(6)));
  }
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view kv = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const size_t eq = kv.find('=');
    if (kv.substr(0, eq) != "as_of" || eq == std::string_view::npos) {
      return Status::InvalidArgument("unknown URI parameter '" + std::string(kv.substr(0, eq)) +
                                     "' (as_of)");
    }
    ASSIGN_OR_RETURN(u.as_of, Decode(kv.substr(eq + 1)));
  }
  if (!u.file && !u.as_of.empty()) {
    return Status::InvalidArgument(
        "as_of applies to a file: tinkerbell://run/ID/file/PATH?as_of=LSN");
  }
  return u;
}

Result<Json> ReadRun(Backend& backend, const Uri& u) {
  ASSIGN_OR_RETURN(Json report, backend.Report(u.run));
  ASSIGN_OR_RETURN(QueryAnswer t,
                   backend.Query("timeline " + QuoteWord(u.run), kTimelineRows, nullptr));
  Json j;
  j["run"] = u.run;
  j["report"] = std::move(report);
  j["timeline"] = std::move(t.rows);
  j["timeline_truncated"] = t.truncated;
  return j;
}

}  // namespace

Json ListResources(Backend& backend, RpcError* err) {
  Result<QueryAnswer> a =
      backend.Query("runs | select run, name, status, tasks", kMaxListed, nullptr);
  if (!a.ok()) {
    *err = {kInternalError, "listing runs failed: " + ErrorLine(a.status())};
    return nullptr;
  }
  Json list = Json::array();
  for (const Json& row : a->rows) {
    if (!row.contains("run") || !row["run"].is_string()) continue;
    const std::string run = row["run"].get<std::string>();
    Json r;
    r["uri"] = std::string(kScheme) + Encode(run, false);
    r["name"] = run;
    std::string desc = "run " + run;
    if (row.contains("status") && row["status"].is_string())
      desc += ", " + row["status"].get<std::string>();
    if (row.contains("tasks") && row["tasks"].is_number())
      desc += ", " + row["tasks"].dump() + " tasks";
    r["description"] = desc;
    r["mimeType"] = "application/json";
    list.push_back(std::move(r));
  }
  return Json{{"resources", std::move(list)}};
}

Json ListResourceTemplates() {
  Json list = Json::array();
  list.push_back({{"uriTemplate", "tinkerbell://run/{id}"},
                  {"name", "run"},
                  {"title", "A run: its report and timeline"},
                  {"description",
                   "What `tink report --run ID --json` prints and the run's "
                   "timeline (first 1000 events), as JSON"},
                  {"mimeType", "application/json"}});
  list.push_back({{"uriTemplate", "tinkerbell://run/{id}/file/{+path}{?as_of}"},
                  {"name", "canvas-file"},
                  {"title", "A file of a run's canvas"},
                  {"description",
                   "The content of a file the run's agent wrote, as of a point "
                   "(as_of: an LSN or an ISO 8601 time; default now)"},
                  {"mimeType", "text/plain"}});
  return Json{{"resourceTemplates", std::move(list)}};
}

Json ReadResource(McpServer& server, const std::string& uri, Session* session, RpcError* err) {
  const auto started = std::chrono::steady_clock::now();
  CallRecord rec;
  rec.tool = "resources/read";
  rec.args = {{"uri", uri}};
  Result<Uri> u = ParseUri(uri);
  Json content;
  Status failed;
  if (!u.ok()) {
    failed = u.status();
  } else if (u->file) {
    Result<std::string> text = server.backend().FileContent(u->run, u->path, u->as_of);
    if (text.ok()) {
      content = {{"uri", uri}, {"mimeType", "text/plain"}, {"text", *text}};
    } else {
      failed = text.status();
    }
  } else {
    Result<Json> j = ReadRun(server.backend(), *u);
    if (j.ok()) {
      content = {{"uri", uri},
                 {"mimeType", "application/json"},
                 {"text", j->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)}};
    } else {
      failed = j.status();
    }
  }
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  const std::string error = failed.ok() ? "" : ErrorLine(failed);
  Status rs = RecordResult(server.backend(), session, &rec, failed.ok(),
                           failed.ok() ? std::string(content["text"]) : "", error, ms);
  if (!rs.ok()) {
    *err = {kInternalError,
            "the resource is withheld: recording this read failed: " + rs.ToString()};
    return nullptr;
  }
  if (!failed.ok()) {
    const bool not_found =
        failed.code() == Code::kNotFound || (failed.code() == Code::kInvalidArgument && u.ok());
    *err = {not_found ? kResourceNotFound : kInvalidParams,
            (not_found ? "Resource not found: " : "Invalid params: ") + error};
    return nullptr;
  }
  return Json{{"contents", Json::array({content})}};
}

}  // namespace tink::mcp
