// The remote backend (backend.h): the same answers from a running `tink serve`, over its HTTP
// API (docs/http.md) with the CLI's RemoteClient: POST /v1/query (jsonl, read as it streams and
// cut after `limit` rows), GET /v1/runs/RUN/report, POST /v1/events. A canvas file has no route
// of its own: its content is rebuilt from the `blame` verb's lines.
#include <utility>

#include "shell/cli/remote.h"
#include "shell/mcp/backend.h"
#include "shell/mcp/quote.h"

namespace tink::mcp {
namespace {

// A canvas diff is text; a runaway text answer stops here.
constexpr size_t kMaxText = 64u << 20;

Status FromHttp(const cli::RemoteResponse& r) {
  const cli::HttpError e = cli::ParseHttpError(r);
  if (e.code == "query_error") return Status::InvalidArgument(e.message);
  if (e.code == "not_found") return Status::NotFound(e.message);
  if (e.code == "bad_request" || e.code == "bad_event") return Status::InvalidArgument(e.message);
  if (e.code == "conflict") return Status::Conflict(e.message);
  if (e.code == "corruption") return Status::Corruption(e.message);
  if (e.code == "io_error") return Status::IOError(e.message);
  return Status::Failed("tink serve: " + e.ToString());
}

class RemoteBackend final : public Backend {
 public:
  explicit RemoteBackend(std::unique_ptr<cli::RemoteClient> client) : client_(std::move(client)) {}

  Result<QueryAnswer> Query(const std::string& text, size_t limit,
                            const query::Cancel* cancel) override {
    cli::RemoteRequest req;
    req.method = "POST";
    req.target = "/v1/query";
    req.body = nlohmann::json{{"query", text}, {"format", "jsonl"}}.dump(
        -1, ' ', false, nlohmann::json::error_handler_t::replace);
    req.cancel = cancel;
    QueryAnswer a;
    enum class Kind { kUnknown, kRows, kText } kind = Kind::kUnknown;
    std::string text_out;
    Status bad;
    cli::LineCutter cutter([&](std::string_view line) {
      if (kind == Kind::kUnknown) kind = line.starts_with("{") ? Kind::kRows : Kind::kText;
      if (kind == Kind::kText) {
        text_out.append(line);
        text_out += '\n';
        return text_out.size() < kMaxText;
      }
      if (a.rows.size() >= limit) {
        a.truncated = true;
        return false;
      }
      Json row = Json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (!row.is_object()) {
        bad = Status::Failed("tink serve answered a line that is not a JSON object");
        return false;
      }
      a.rows.push_back(std::move(row));
      return true;
    });
    req.on_body = [&cutter](std::string_view piece) { return cutter.Feed(piece); };
    ASSIGN_OR_RETURN(cli::RemoteResponse r, client_->Send(req));
    if (r.status != 0 && (r.status < 200 || r.status >= 300)) return FromHttp(r);
    RETURN_IF_ERROR(bad);
    if (r.stopped && !a.truncated && kind != Kind::kText) return query::Cancelled();
    if (!r.stopped) (void)cutter.Finish();
    if (kind == Kind::kText) a.text = std::move(text_out);
    return a;
  }

  Result<Json> Report(const std::string& run) override {
    cli::RemoteRequest req;
    req.target = "/v1/runs/" + cli::UrlEncode(run) + "/report?format=json";
    ASSIGN_OR_RETURN(cli::RemoteResponse r, client_->Send(req));
    if (r.status < 200 || r.status >= 300) return FromHttp(r);
    Json j = Json::parse(r.body, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return Status::Failed("tink serve: the report is not JSON");
    return j;
  }

  Result<std::string> FileContent(const std::string& run, const std::string& path,
                                  const std::string& as_of) override {
    std::string q = "blame " + QuoteWord(path) + " --run " + QuoteWord(run);
    if (!as_of.empty()) q += " as of " + QuotePoint(as_of);
    ASSIGN_OR_RETURN(QueryAnswer a, Query(q, SIZE_MAX, nullptr));
    std::string content;
    for (const Json& row : a.rows) {
      if (row.contains("text") && row["text"].is_string())
        content += row["text"].get<std::string>();
      content += '\n';
    }
    return content;
  }

  Result<std::vector<uint64_t>> Append(const std::vector<Json>& events) override {
    std::string body;
    for (const Json& e : events) {
      body += e.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      body += '\n';
    }
    std::optional<cli::RemoteResponse> refused;
    auto posted = cli::PostEvents(*client_, std::move(body), &refused);
    if (refused) return FromHttp(*refused);
    if (!posted.ok()) return posted.status();
    return std::move(posted->lsns);
  }

 private:
  std::unique_ptr<cli::RemoteClient> client_;
};

}  // namespace

std::unique_ptr<Backend> NewRemoteBackend(std::unique_ptr<cli::RemoteClient> client) {
  return std::make_unique<RemoteBackend>(std::move(client));
}

}  // namespace tink::mcp
