// The `tink` command as a user drives it: output, exit codes (DESIGN.md §6), and that bad input
// never harms what is stored.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/engine.h"
#include "support/run_command.h"
#include "support/temp_dir.h"

namespace tink {
namespace {

using testing::CommandResult;
using testing::RunCommand;
using testing::ShellQuote;

class CliTest : public ::testing::Test {
 protected:
  CommandResult Tink(const std::string& args, const std::string& input = "") {
    return RunCommand(std::string(TINK_BIN) + " --store " + ShellQuote(store_) + " " + args,
                      input);
  }
  uint64_t EventCount() {
    CommandResult r = Tink("stats --json");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out)["events"].get<uint64_t>();
  }

  testing::TempDir tmp_;
  std::string store_ = tmp_.Sub("store");
};

TEST_F(CliTest, AppendFromFlagsThenLogJsonShowsTheDocumentedView) {
  CommandResult a = Tink(
      "append --stream run/7/task/3 --type tool.result --run 7 --id abc "
      "--occurred 2026-11-20T10:00:00Z --data '{\"tool\":\"bash\",\"exit_code\":1}'");
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(a.out, "1\n");

  CommandResult l = Tink("log --json");
  ASSERT_EQ(l.exit_code, 0) << l.err;
  auto j = nlohmann::ordered_json::parse(l.out);
  std::vector<std::string> keys;
  for (auto& [k, v] : j.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"lsn", "time", "occurred", "id", "stream", "type",
                                            "run", "data"}));
  EXPECT_EQ(j["lsn"], 1);
  EXPECT_EQ(j["occurred"], "2026-11-20T10:00:00.000000000Z");
  EXPECT_EQ(j["id"], "abc");
  EXPECT_EQ(j["stream"], "run/7/task/3");
  EXPECT_EQ(j["type"], "tool.result");
  EXPECT_EQ(j["run"], "7");
  EXPECT_EQ(j["data"]["exit_code"], 1);
  EXPECT_EQ(j["data"]["tool"], "bash");
  EXPECT_EQ(j["time"].get<std::string>().size(), 30u);  // 2026-11-24T06:33:20.123456789Z
}

TEST_F(CliTest, JsonlFromStdinPrintsOneLsnPerEventAndFiltersWork) {
  std::string in =
      "{\"stream\":\"a\",\"type\":\"note\",\"data\":{\"text\":\"one\"}}\n"
      "\n"
      "{\"stream\":\"b\",\"type\":\"note\",\"run\":\"r2\",\"data\":{\"text\":\"two\"}}\n"
      "{\"stream\":\"a\",\"type\":\"x.custom\",\"data\":{\"any\":[1,2,{\"k\":null}]}}\n";
  CommandResult a = Tink("append", in);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(a.out, "1\n2\n3\n");
  CommandResult s = Tink("log --json --stream a");
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_EQ(std::count(s.out.begin(), s.out.end(), '\n'), 2);
  CommandResult r = Tink("log --json --run r2");
  EXPECT_EQ(nlohmann::json::parse(r.out)["lsn"], 2);
  CommandResult c = Tink("log --json --type x.custom");
  EXPECT_EQ(nlohmann::json::parse(c.out)["data"]["any"][2]["k"], nullptr);
  CommandResult range = Tink("log --json --from 2 --to 2");
  EXPECT_EQ(nlohmann::json::parse(range.out)["lsn"], 2);
}

TEST_F(CliTest, BadLineRejectsWholeInputWithLineNumber) {
  ASSERT_EQ(Tink("append --stream s --type note --data '{\"text\":\"keep\"}'").exit_code, 0);
  std::string in =
      "{\"stream\":\"a\",\"type\":\"note\",\"data\":{\"text\":\"ok\"}}\n"
      "{\"stream\":\"a\",\"type\":\"note\",\"data\":{\"text\":\"ok\"}}\n"
      "{\"stream\":\"a\",\"type\":\"note\",\"data\":{\"text\":\"ok\"}\n";  // unbalanced
  CommandResult a = Tink("append", in);
  EXPECT_EQ(a.exit_code, 2);
  EXPECT_NE(a.err.find("line 3"), std::string::npos) << a.err;
  EXPECT_EQ(EventCount(), 1u);

  CommandResult unknown_field =
      Tink("append", "{\"stream\":\"a\",\"type\":\"tool.result\",\"data\":{\"exitcode\":1}}\n");
  EXPECT_EQ(unknown_field.exit_code, 2);
  EXPECT_NE(unknown_field.err.find("exitcode"), std::string::npos) << unknown_field.err;
  CommandResult unknown_type = Tink("append --stream a --type task.explode");
  EXPECT_EQ(unknown_type.exit_code, 2);
  EXPECT_NE(unknown_type.err.find("task.explode"), std::string::npos) << unknown_type.err;
  EXPECT_EQ(EventCount(), 1u);
}

TEST_F(CliTest, VerifyDetectsCorruptionAndRecoverTruncates) {
  std::string in;
  for (int i = 0; i < 50; ++i) {
    in += "{\"stream\":\"s\",\"type\":\"note\",\"data\":{\"text\":\"event " +
          std::to_string(i) + "\"}}\n";
  }
  ASSERT_EQ(Tink("append", in).exit_code, 0);
  for (int i = 0; i < 10; ++i) {  // separate batches, so truncation keeps a prefix
    ASSERT_EQ(Tink("append --stream s --type note --data '{\"text\":\"tail\"}'").exit_code, 0);
  }
  CommandResult ok = Tink("verify");
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("60 events"), std::string::npos) << ok.out;

  // Damage the payload of a record in the middle of the batch of ten.
  const std::string seg = store_ + "/log/00000000000000000001.seg";
  std::string data = testing::ReadFile(seg);
  size_t pos = data.rfind("tail");
  pos = data.rfind("tail", pos - 1);
  pos = data.rfind("tail", pos - 1);
  ASSERT_NE(pos, std::string::npos);
  data[pos] = 'T';
  std::ofstream(seg, std::ios::binary | std::ios::trunc) << data;

  CommandResult bad = Tink("verify");
  EXPECT_EQ(bad.exit_code, 3);
  EXPECT_NE(bad.out.find("segment 00000000000000000001.seg offset"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("(LSN 58)"), std::string::npos) << bad.out;
  auto j = nlohmann::json::parse(Tink("verify --json").out);
  EXPECT_EQ(j["clean"], false);
  EXPECT_EQ(j["problems"][0]["lsn"], 58);

  CommandResult refused = Tink("append --stream s --type note");
  EXPECT_EQ(refused.exit_code, 3) << refused.err;
  EXPECT_NE(refused.err.find("LSN 58"), std::string::npos) << refused.err;

  CommandResult rec = Tink("recover --truncate-at 58");
  EXPECT_EQ(rec.exit_code, 0) << rec.err;
  EXPECT_EQ(Tink("verify").exit_code, 0);
  EXPECT_EQ(EventCount(), 57u);
  CommandResult again = Tink("append --stream s --type note");
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, "58\n");
}

TEST_F(CliTest, StatsJsonHasTheDocumentedFields) {
  ASSERT_EQ(Tink("append --stream s --type note --data '{\"text\":\"a\"}'").exit_code, 0);
  ASSERT_EQ(Tink("append --stream s --type note --data '{\"text\":\"b\"}'").exit_code, 0);
  CommandResult r = Tink("stats --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["events"], 2);
  EXPECT_EQ(j["segments"], 1);
  EXPECT_EQ(j["first_lsn"], 1);
  EXPECT_EQ(j["last_lsn"], 2);
  EXPECT_GT(j["bytes"].get<uint64_t>(), 64u);
  EXPECT_LE(j["first_time"].get<std::string>(), j["last_time"].get<std::string>());
  CommandResult text = Tink("stats");
  EXPECT_NE(text.out.find("events      2"), std::string::npos) << text.out;
}

TEST_F(CliTest, SecondWriterProcessGetsLockErrorExit4) {
  auto held = engine::Engine::Open(store_, {});
  ASSERT_TRUE(held.ok());
  CommandResult r = Tink("append --stream s --type note");
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("locked by another process"), std::string::npos) << r.err;
  // Readers need no lock.
  EXPECT_EQ(Tink("stats").exit_code, 0);
}

TEST_F(CliTest, UsageErrorsAndHelp) {
  EXPECT_EQ(RunCommand(std::string(TINK_BIN)).exit_code, 1);
  EXPECT_EQ(Tink("append --bogus").exit_code, 1);
  EXPECT_EQ(Tink("recover").exit_code, 1) << "--truncate-at is required";
  for (const char* cmd : {"", "append ", "log ", "verify ", "recover ", "stats ", "mcp "}) {
    CommandResult h = RunCommand(std::string(TINK_BIN) + " " + cmd + "--help");
    EXPECT_EQ(h.exit_code, 0) << cmd;
    EXPECT_NE(h.out.find("--store"), std::string::npos) << cmd << h.out;
  }
  CommandResult v = RunCommand(std::string(TINK_BIN) + " --version");
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_EQ(v.out.rfind("tink ", 0), 0u) << v.out;
  EXPECT_EQ(Tink("append --stream s --type note --sync sometimes").exit_code, 2);
}

TEST_F(CliTest, LogFollowPrintsEventsAppendedByAnotherProcess) {
  ASSERT_EQ(Tink("append --stream s --type note --data '{\"text\":\"before\"}'").exit_code, 0);
  const std::string out = tmp_.Sub("follow.out");
  // A follower in the background, bounded by timeout(1) so the test always ends.
  ASSERT_EQ(RunCommand("timeout 4 " + std::string(TINK_BIN) + " --store " + ShellQuote(store_) +
                       " log --follow --json > " + ShellQuote(out) + " 2>&1 &")
                .exit_code,
            0);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(Tink("append --stream s --type note --data '{\"text\":\"after\"}'").exit_code, 0);
  }
  // Wait (bounded) until the follower has printed all four events.
  std::string got;
  for (int i = 0; i < 100 && std::count(got.begin(), got.end(), '\n') < 4; ++i) {
    RunCommand("sleep 0.1");
    got = testing::ReadFile(out);
  }
  ASSERT_EQ(std::count(got.begin(), got.end(), '\n'), 4) << got;
  EXPECT_NE(got.find("\"lsn\":4"), std::string::npos) << got;
  EXPECT_NE(got.find("after"), std::string::npos) << got;
}

TEST_F(CliTest, MissingStoreIsInputError) {
  CommandResult r = Tink("log");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no store"), std::string::npos) << r.err;
  EXPECT_EQ(Tink("verify").exit_code, 2);
}

// A failure while closing the store after a durable append (here: flushing the projections,
// injected) must not hide the LSNs: a client that saw only an error would retry and, without
// --id, write the events twice.
TEST_F(CliTest, AppendPrintsItsLsnsEvenWhenClosingTheStoreFails) {
  for (const char* sync : {"always", "none"}) {
    SCOPED_TRACE(sync);
    const std::string cmd = std::string("env TINK_FAIL_AT=engine.close.flush ") + TINK_BIN +
                            " --store " + ShellQuote(store_) + " append --sync " + sync +
                            " --stream s --type note --data '{\"text\":\"x\"}'";
    CommandResult r = RunCommand(cmd);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_FALSE(r.out.empty()) << "no LSN printed: " << r.err;
    EXPECT_NE(r.err.find("durable"), std::string::npos) << r.err;
    // What it printed is really there.
    CommandResult log = Tink("log --json --from " + r.out.substr(0, r.out.find('\n')));
    EXPECT_NE(log.out.find("\"text\":\"x\""), std::string::npos) << log.out << log.err;
  }
}

}  // namespace
}  // namespace tink
