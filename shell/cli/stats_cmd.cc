// tink stats: events, segments, bytes, first/last LSN and time (the view is StatsJson and
// WriteStatsText, views.h). With --server, rendered from the daemon's GET /v1/stats.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "shell/cli/commands.h"
#include "shell/cli/common.h"
#include "shell/cli/remote.h"
#include "shell/cli/views.h"

namespace tink::cli {
namespace {

// What a local `tink stats --json` prints: the daemon's answer has these keys (StatsJson's)
// plus its own counters, which are left out so that scripts see one shape either way.
nlohmann::ordered_json LocalKeys(const nlohmann::ordered_json& answer) {
  nlohmann::ordered_json j;
  for (const char* key : {"store", "store_id", "events", "segments", "bytes", "first_lsn",
                          "last_lsn", "first_time", "last_time", "torn_tail", "recovery"}) {
    if (answer.contains(key)) j[key] = answer[key];
  }
  return j;
}

int RunRemote(const GlobalOptions& global, bool json) {
  auto client = ConnectRemote(global.ServerUrl(), global.StorePath());
  if (!client.ok()) return Fail("stats", client.status());
  RemoteRequest req;
  req.target = "/v1/stats";
  auto resp = (*client)->Send(req);
  if (!resp.ok()) return Fail("stats", resp.status());
  if (resp->status < 200 || resp->status >= 300) return FailHttp("stats", *resp);
  const nlohmann::ordered_json stats = LocalKeys(nlohmann::ordered_json::parse(resp->body));
  if (json) {
    std::printf("%s\n", stats.dump().c_str());
  } else {
    WriteStatsText(stats, stdout);
  }
  return 0;
}

int Run(const GlobalOptions& global, bool json) {
  if (!global.ServerUrl().empty()) return RunRemote(global, json);
  auto eng = OpenForReading("stats", global.StorePath());
  if (!eng.ok()) return Fail("stats", eng.status());
  const nlohmann::ordered_json stats = StatsJson(**eng, global.StorePath());
  if (json) {
    std::printf("%s\n", stats.dump().c_str());
  } else {
    WriteStatsText(stats, stdout);
  }
  return 0;
}

}  // namespace

void SetupStats(CLI::App* cmd, GlobalOptions* global, RunFn* run) {
  auto json = std::make_shared<bool>(false);
  AddStoreOption(cmd, global);
  cmd->add_flag("--json", *json, "Print one JSON object");
  *run = [global, json] { return Run(*global, *json); };
}

}  // namespace tink::cli
