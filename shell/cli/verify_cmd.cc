// tink verify (read every byte; exit 3 on corruption) and tink recover --truncate-at LSN.
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "engine/engine.h"
#include "shell/cli/commands.h"
#include "shell/cli/common.h"

namespace tink::cli {
namespace {

int RunVerify(const GlobalOptions& global, bool json) {
  Progress progress("verify");
  auto rep = engine::VerifyStore(global.StorePath(),
                                 [&](uint64_t d, uint64_t t) { progress.Update(d, t); });
  if (!rep.ok()) return Fail("verify", rep.status());
  const log::VerifyReport& r = *rep;
  if (json) {
    nlohmann::ordered_json j;
    j["clean"] = r.clean();
    j["segments"] = r.segments;
    j["events"] = r.records;
    j["bytes"] = r.bytes;
    j["first_lsn"] = r.first_lsn;
    j["last_lsn"] = r.last_lsn;
    j["torn_tail"] = r.torn_tail;
    j["problems"] = nlohmann::ordered_json::array();
    for (const auto& p : r.problems) {
      j["problems"].push_back({{"segment", p.segment},
                               {"offset", p.offset},
                               {"lsn", p.lsn},
                               {"last_lsn", std::max(p.lsn, p.last_lsn)},
                               {"what", p.what}});
    }
    std::printf("%s\n", j.dump().c_str());
  } else {
    for (const auto& p : r.problems) {
      const std::string lsns = p.last_lsn > p.lsn ? "LSNs " + std::to_string(p.lsn) + ".." +
                                                        std::to_string(p.last_lsn)
                                                  : "LSN " + std::to_string(p.lsn);
      std::printf("corruption: segment %s offset %llu (%s): %s\n", p.segment.c_str(),
                  static_cast<unsigned long long>(p.offset), lsns.c_str(), p.what.c_str());
    }
    if (r.torn_tail) {
      std::printf("note: torn tail in segment %s at offset %llu (an interrupted write; the next "
                  "writer discards it)\n",
                  r.tail.segment.c_str(), static_cast<unsigned long long>(r.tail.offset));
    }
    std::printf("%s: %llu segments, %llu events (LSN %llu..%llu), %s checked\n",
                r.clean() ? "ok" : "CORRUPT", static_cast<unsigned long long>(r.segments),
                static_cast<unsigned long long>(r.records),
                static_cast<unsigned long long>(r.first_lsn),
                static_cast<unsigned long long>(r.last_lsn), HumanBytes(r.bytes).c_str());
    if (!r.clean()) {
      std::printf("to keep the events before the damage: tink recover --truncate-at %llu\n",
                  static_cast<unsigned long long>(r.problems.front().lsn));
    }
  }
  return r.clean() ? 0 : static_cast<int>(Exit::kCorruption);
}

int RunRecover(const GlobalOptions& global, uint64_t lsn) {
  auto last = engine::TruncateStoreAt(global.StorePath(), lsn);
  if (!last.ok()) return Fail("recover", last.status());
  std::printf("log truncated: events 1..%llu kept, everything from LSN %llu on removed\n",
              static_cast<unsigned long long>(*last), static_cast<unsigned long long>(*last + 1));
  return 0;
}

}  // namespace

void SetupVerify(CLI::App* cmd, GlobalOptions* global, RunFn* run) {
  auto json = std::make_shared<bool>(false);
  AddStoreOption(cmd, global);
  cmd->add_flag("--json", *json, "Print the report as one JSON object");
  cmd->footer(
      "Checks segment headers, every record's checksum, the hash chain, LSN continuity, batch "
      "framing and sealed segments' footers. Changes nothing and takes no lock.\n"
      "Exit 0 clean (a torn tail is only noted), 3 corruption.");
  *run = [global, json] { return RunVerify(*global, *json); };
}

void SetupRecover(CLI::App* cmd, GlobalOptions* global, RunFn* run) {
  auto lsn = std::make_shared<uint64_t>(0);
  AddStoreOption(cmd, global);
  cmd->add_option("--truncate-at", *lsn, "First LSN to remove (with everything after it)")
      ->required()
      ->check(CLI::PositiveNumber);
  cmd->footer(
      "Removes the event at LSN and every later one (a batch is removed whole), e.g. after "
      "'tink verify' reported corruption there. Takes the store's lock.");
  *run = [global, lsn] { return RunRecover(*global, *lsn); };
}

}  // namespace tink::cli
