// StatsJson and WriteStatsText (views.h): what `tink stats` prints, as one JSON object and as
// text rendered from that object (so a remote `tink stats` renders the daemon's answer with the
// same code).
#include <cstdio>
#include <nlohmann/json.hpp>

#include "schema/schema.h"
#include "shell/cli/common.h"
#include "shell/cli/views.h"

namespace tink::cli {

nlohmann::ordered_json StatsJson(engine::Engine& eng, const std::string& store_path) {
  const log::LogStats st = eng.log().Stats();
  auto time = [](int64_t ns) { return ns == 0 ? std::string() : schema::FormatTime(ns); };
  nlohmann::ordered_json j;
  j["store"] = store_path;
  j["store_id"] = eng.log().store_id_hex();
  j["events"] = st.records;
  j["segments"] = st.segments.size();
  j["bytes"] = st.bytes;
  j["first_lsn"] = st.first_lsn;
  j["last_lsn"] = st.last_lsn;
  j["first_time"] = st.records ? nlohmann::ordered_json(time(st.first_time_ns)) : nullptr;
  j["last_time"] = st.records ? nlohmann::ordered_json(time(st.last_time_ns)) : nullptr;
  j["torn_tail"] = eng.recovery().torn_tail;
  if (eng.recovery().torn_tail) j["recovery"] = eng.recovery().ToString();
  return j;
}

void WriteStatsText(const nlohmann::ordered_json& j, std::FILE* out) {
  const uint64_t events = j.at("events").get<uint64_t>();
  const uint64_t bytes = j.at("bytes").get<uint64_t>();
  std::fprintf(out, "store       %s\n", j.at("store").get<std::string>().c_str());
  std::fprintf(out, "store id    %s\n", j.at("store_id").get<std::string>().c_str());
  std::fprintf(out, "events      %llu\n", static_cast<unsigned long long>(events));
  std::fprintf(out, "segments    %llu\n",
               static_cast<unsigned long long>(j.at("segments").get<uint64_t>()));
  std::fprintf(out, "bytes       %llu (%s)\n", static_cast<unsigned long long>(bytes),
               HumanBytes(bytes).c_str());
  if (events > 0) {
    std::fprintf(out, "first       LSN %llu at %s\n",
                 static_cast<unsigned long long>(j.at("first_lsn").get<uint64_t>()),
                 j.at("first_time").get<std::string>().c_str());
    std::fprintf(out, "last        LSN %llu at %s\n",
                 static_cast<unsigned long long>(j.at("last_lsn").get<uint64_t>()),
                 j.at("last_time").get<std::string>().c_str());
  }
  if (j.value("torn_tail", false)) {
    std::fprintf(out, "note        %s\n", j.value("recovery", std::string()).c_str());
  }
}

}  // namespace tink::cli
