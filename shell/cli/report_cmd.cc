// tink report: a forensic summary of one run (the view is WriteReport, views.h and
// report_view.cc), printed here for a local store or by the daemon for --server (GET
// /v1/runs/RUN/report).
#include <cstdio>
#include <nlohmann/json.hpp>

#include "shell/cli/commands.h"
#include "shell/cli/common.h"
#include "shell/cli/remote.h"
#include "shell/cli/views.h"

namespace tink::cli {
namespace {

// Without --run: the run WriteReport would pick, the most recent failed run, else the most recent
// run, from the daemon's list of runs.
Result<std::string> PickRemoteRun(RemoteClient& client, const std::string& as_of) {
  RemoteRequest req;
  req.target = "/v1/tasks?runs=1&format=json";
  if (!as_of.empty()) req.target += "&as_of=" + UrlEncode(as_of);
  ASSIGN_OR_RETURN(RemoteResponse resp, client.Send(req));
  if (resp.status < 200 || resp.status >= 300) {
    const HttpError e = ParseHttpError(resp);
    return ExitForHttp(e) == 2 ? Status::InvalidArgument(e.ToString())
                               : Status::IOError(e.ToString());
  }
  const auto runs = nlohmann::json::parse(resp.body);
  const nlohmann::json* pick = nullptr;
  for (const auto& r : runs) {
    if (r.at("status") == "failed" &&
        (pick == nullptr || r.at("started_lsn") > pick->at("started_lsn"))) {
      pick = &r;
    }
  }
  for (const auto& r : runs) {
    if (pick == nullptr ||
        (pick->at("status") != "failed" && r.at("started_lsn") > pick->at("started_lsn"))) {
      pick = &r;
    }
  }
  if (pick == nullptr) return Status::NotFound("the store has no runs");
  return pick->at("run").get<std::string>();
}

int RunRemote(const GlobalOptions& global, const ReportRequest& r) {
  if (r.max_failures != ReportRequest().max_failures) {
    std::fprintf(stderr, "tink report: --max-failures is not supported with --server\n");
    return static_cast<int>(Exit::kInput);
  }
  auto client = ConnectRemote(global.ServerUrl(), global.StorePath());
  if (!client.ok()) return Fail("report", client.status());
  std::string run = r.run;
  if (run.empty()) {
    auto picked = PickRemoteRun(**client, r.as_of);
    if (!picked.ok()) return Fail("report", picked.status());
    run = *picked;
  }
  std::string target =
      "/v1/runs/" + UrlEncode(run) + "/report?format=" + (r.json ? "json" : "text");
  if (!r.as_of.empty()) target += "&as_of=" + UrlEncode(r.as_of);
  return SendAndPrint(**client, "report", target);
}

int Run(const GlobalOptions& global, const ReportRequest& r) {
  if (auto at = ParseAsOf(r.as_of); !at.ok()) {
    return Fail("report", at.status().WithContext("--as-of"));
  }
  if (!global.ServerUrl().empty()) return RunRemote(global, r);
  auto eng = OpenForReading("report", global.StorePath());
  if (!eng.ok()) return Fail("report", eng.status());
  if (Status s = WriteReport(**eng, r, stdout); !s.ok()) return Fail("report", s);
  return 0;
}

}  // namespace

void SetupReport(CLI::App* cmd, GlobalOptions* global, RunFn* run) {
  auto f = std::make_shared<ReportRequest>();
  AddStoreOption(cmd, global);
  cmd->add_option("--run", f->run,
                  "the run to report on (default: the most recent failed run, else the most "
                  "recent run)");
  cmd->add_option("--as-of", f->as_of, "report as of an LSN or an ISO 8601 time (default: now)");
  cmd->add_option("--max-failures", f->max_failures,
                  "failed tool calls to list (default 12; not with --server)");
  cmd->add_flag("--json", f->json, "one JSON object instead of text");
  *run = [global, f] { return Run(*global, *f); };
}

}  // namespace tink::cli
