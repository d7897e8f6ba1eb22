// tink stats: events, segments, bytes, first/last LSN and time.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "engine/engine.h"
#include "schema/schema.h"
#include "shell/cli/commands.h"
#include "shell/cli/common.h"

namespace tink::cli {
namespace {

int Run(const GlobalOptions& global, bool json) {
  auto eng = OpenForReading("stats", global.StorePath());
  if (!eng.ok()) return Fail("stats", eng.status());
  const log::LogStats st = (*eng)->log().Stats();
  auto time = [](int64_t ns) { return ns == 0 ? std::string() : schema::FormatTime(ns); };
  if (json) {
    nlohmann::ordered_json j;
    j["store"] = global.StorePath();
    j["store_id"] = (*eng)->log().store_id_hex();
    j["events"] = st.records;
    j["segments"] = st.segments.size();
    j["bytes"] = st.bytes;
    j["first_lsn"] = st.first_lsn;
    j["last_lsn"] = st.last_lsn;
    j["first_time"] = st.records ? nlohmann::ordered_json(time(st.first_time_ns)) : nullptr;
    j["last_time"] = st.records ? nlohmann::ordered_json(time(st.last_time_ns)) : nullptr;
    j["torn_tail"] = (*eng)->recovery().torn_tail;
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  std::printf("store       %s\n", global.StorePath().c_str());
  std::printf("store id    %s\n", (*eng)->log().store_id_hex().c_str());
  std::printf("events      %llu\n", static_cast<unsigned long long>(st.records));
  std::printf("segments    %zu\n", st.segments.size());
  std::printf("bytes       %llu (%s)\n", static_cast<unsigned long long>(st.bytes),
              HumanBytes(st.bytes).c_str());
  if (st.records > 0) {
    std::printf("first       LSN %llu at %s\n", static_cast<unsigned long long>(st.first_lsn),
                time(st.first_time_ns).c_str());
    std::printf("last        LSN %llu at %s\n", static_cast<unsigned long long>(st.last_lsn),
                time(st.last_time_ns).c_str());
  }
  if ((*eng)->recovery().torn_tail) {
    std::printf("note        %s\n", (*eng)->recovery().ToString().c_str());
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
