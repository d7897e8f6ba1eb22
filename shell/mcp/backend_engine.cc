// The engine backend (backend.h): the shell's query code, report view and canvas reader over an
// open Engine, in this process — what `tink shell` and POST /v1/query run.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <variant>

#include "projections/canvas.h"
#include "schema/schema.h"
#include "shell/cli/common.h"
#include "shell/cli/views.h"
#include "shell/mcp/backend.h"
#include "shell/query/provider.h"

namespace tink::mcp {
namespace {

// Appends made through this process (remember, the recording of calls) are read back by the
// next call: wait for the projections to apply them, as POST /v1/query does.
constexpr auto kOwnWritesWait = std::chrono::milliseconds(2000);

class EngineBackend final : public Backend {
 public:
  explicit EngineBackend(engine::Engine* engine) : engine_(engine) {}

  Result<QueryAnswer> Query(const std::string& text, size_t limit,
                            const query::Cancel* cancel) override {
    WaitForOwnWrites();
    query::EngineProvider provider(engine_);
    ASSIGN_OR_RETURN(auto prepared, query::PrepareQuery(provider, text, cancel));
    if (auto* qe = std::get_if<query::QueryError>(&prepared)) {
      return Status::InvalidArgument(qe->ToString());
    }
    query::Prepared& p = std::get<query::Prepared>(prepared);
    QueryAnswer a;
    a.text = std::move(p.text);
    if (p.rows) {
      query::Row row;
      while (true) {
        ASSIGN_OR_RETURN(bool more, p.rows->Next(&row));
        if (!more) break;
        if (a.rows.size() >= limit) {
          a.truncated = true;
          break;
        }
        a.rows.push_back(std::move(row));
        row = query::Row();
      }
    }
    return a;
  }

  Result<Json> Report(const std::string& run) override {
    WaitForOwnWrites();
    char* buf = nullptr;
    size_t size = 0;
    std::FILE* out = ::open_memstream(&buf, &size);
    if (out == nullptr) return Status::IOError("open_memstream failed");
    Status s = cli::WriteReport(*engine_, run, /*json=*/true, out);
    std::fclose(out);
    std::string text(buf == nullptr ? "" : buf, size);
    std::free(buf);
    RETURN_IF_ERROR(s);
    Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return Status::Failed("the report is not JSON");
    return j;
  }

  Result<std::string> FileContent(const std::string& run, const std::string& path,
                                  const std::string& as_of) override {
    WaitForOwnWrites();
    ASSIGN_OR_RETURN(projections::AsOf at, cli::ParseAsOf(as_of));
    ASSIGN_OR_RETURN(auto reader, engine_->NewReader());
    projections::CanvasReader canvas(*reader);
    if (at.kind == projections::AsOf::Kind::kLsn && at.value > canvas.head()) {
      return Status::InvalidArgument("as_of: LSN " + std::to_string(at.value) +
                                     " is past the canvas's last LSN " +
                                     std::to_string(canvas.head()));
    }
    ASSIGN_OR_RETURN(projections::Lsn lsn, canvas.Resolve(at));
    ASSIGN_OR_RETURN(auto content, canvas.ReadFile(run, path, lsn));
    if (!content.has_value()) {
      return Status::NotFound("no file '" + path + "' in run '" + run + "' as of LSN " +
                              std::to_string(lsn));
    }
    return std::move(*content);
  }

  Result<std::vector<uint64_t>> Append(const std::vector<Json>& events) override {
    std::vector<schema::EventInput> inputs;
    inputs.reserve(events.size());
    for (size_t i = 0; i < events.size(); ++i) {
      const std::string text =
          events[i].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      Result<schema::EventInput> e = schema::ParseEnvelopeJson(text);
      if (!e.ok()) return e.status().WithContext("event " + std::to_string(i + 1));
      inputs.push_back(std::move(e).value());
    }
    ASSIGN_OR_RETURN(engine::AppendOutcome out, engine_->Append(inputs));
    return std::vector<uint64_t>(out.lsns.begin(), out.lsns.end());
  }

 private:
  void WaitForOwnWrites() {
    (void)engine_->WaitForProjections(engine_->log().LastLsn(), kOwnWritesWait);
  }
  engine::Engine* engine_;
};

}  // namespace

std::unique_ptr<Backend> NewEngineBackend(engine::Engine* engine) {
  return std::make_unique<EngineBackend>(engine);
}

}  // namespace tink::mcp
