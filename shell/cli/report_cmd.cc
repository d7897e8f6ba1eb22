// tink report: a forensic summary of one run (the view is WriteReport, views.h and
// report_view.cc).
#include <cstdio>

#include "shell/cli/commands.h"
#include "shell/cli/common.h"
#include "shell/cli/views.h"

namespace tink::cli {
namespace {

int Run(const GlobalOptions& global, const ReportRequest& r) {
  if (auto at = ParseAsOf(r.as_of); !at.ok()) {
    return Fail("report", at.status().WithContext("--as-of"));
  }
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
  cmd->add_option("--max-failures", f->max_failures, "failed tool calls to list (default 12)");
  cmd->add_flag("--json", f->json, "one JSON object instead of text");
  *run = [global, f] { return Run(*global, *f); };
}

}  // namespace tink::cli
