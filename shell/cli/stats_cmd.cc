// tink stats: events, segments, bytes, first/last LSN and time (the view is StatsJson and
// WriteStatsText, views.h).
#include <cstdio>
#include <nlohmann/json.hpp>

#include "shell/cli/commands.h"
#include "shell/cli/common.h"
#include "shell/cli/views.h"

namespace tink::cli {
namespace {

int Run(const GlobalOptions& global, bool json) {
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
