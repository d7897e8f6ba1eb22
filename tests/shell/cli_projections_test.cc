// The `tink` command's projection features as a user drives them: expected versions and
// idempotent appends (exit codes, messages), index-backed `tink log` filters (exactly the events
// a filter over the full --json output selects), --explain, and `tink replay` (--check, --json,
// --to, --projection), also after STORE/state was deleted.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "engine/engine.h"
#include "support/run_command.h"
#include "support/temp_dir.h"

namespace tink {
namespace {

using testing::CommandResult;
using testing::RunCommand;
using testing::ShellQuote;

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

class CliProjectionsTest : public ::testing::Test {
 protected:
  CommandResult Tink(const std::string& args, const std::string& input = "") {
    return RunCommand(std::string(TINK_BIN) + " --store " + ShellQuote(store_) + " " + args, input);
  }
  uint64_t EventCount() {
    CommandResult r = Tink("stats --json");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out)["events"].get<uint64_t>();
  }
  void Append(const std::string& args) {
    CommandResult r = Tink("append " + args);
    ASSERT_EQ(r.exit_code, 0) << args << ": " << r.err;
  }
  // A mix of streams, runs and types over several appends (so record times differ).
  void Populate() {
    for (int b = 0; b < 8; ++b) {
      std::string in;
      for (int i = 0; i < 5; ++i) {
        const int n = b * 5 + i;
        nlohmann::json e;
        e["stream"] = "st/" + std::to_string(n % 3);
        e["type"] = n % 4 == 0 ? "myapp.deploy" : "note";
        if (n % 4 == 0) {
          e["data"] = {{"n", n}};
        } else {
          e["data"] = {{"text", "event " + std::to_string(n)}};
        }
        if (n % 5 != 0) e["run"] = "r" + std::to_string(n % 2);
        in += e.dump() + "\n";
      }
      CommandResult r = Tink("append", in);
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
  }

  testing::TempDir tmp_;
  std::string store_ = tmp_.Sub("store");
};

TEST_F(CliProjectionsTest, ExpectedVersionConflictExits2NamingTheActualVersion) {
  Append("--stream s --type note --data '{\"text\":\"v0\"}'");
  Append("--stream s --type note --data '{\"text\":\"v1\"}'");

  CommandResult c = Tink("append --stream s --type note --expect 0");
  EXPECT_EQ(c.exit_code, 2) << c.err;
  EXPECT_NE(c.err.find("is at version 1"), std::string::npos) << c.err;
  EXPECT_NE(c.err.find("expected 0"), std::string::npos) << c.err;
  EXPECT_EQ(c.out, "");
  EXPECT_EQ(EventCount(), 2u);

  CommandResult ok = Tink("append --stream s --type note --expect 1");
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out, "3\n");

  CommandResult fresh = Tink("append --stream brand-new --type note --expect no_stream");
  EXPECT_EQ(fresh.exit_code, 0) << fresh.err;
  EXPECT_EQ(fresh.out, "4\n");
  CommandResult again = Tink("append --stream brand-new --type note --expect no_stream");
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.err.find("is at version 0"), std::string::npos) << again.err;
  CommandResult exists = Tink("append --stream other --type note --expect exists");
  EXPECT_EQ(exists.exit_code, 2);
  EXPECT_NE(exists.err.find("no_stream"), std::string::npos) << exists.err;
  EXPECT_EQ(Tink("append --stream brand-new --type note --expect exists").exit_code, 0);

  CommandResult bogus = Tink("append --stream s --type note --expect bogus");
  EXPECT_EQ(bogus.exit_code, 2);
  EXPECT_NE(bogus.err.find("bogus"), std::string::npos) << bogus.err;
  EXPECT_NE(bogus.err.find("--expect"), std::string::npos) << bogus.err;

  // JSONL over two streams with an expected version: refused, nothing written.
  CommandResult two = Tink("append --expect any",
                           "{\"stream\":\"a\",\"type\":\"note\"}\n"
                           "{\"stream\":\"b\",\"type\":\"note\"}\n");
  EXPECT_EQ(two.exit_code, 0) << two.err;
  CommandResult multi = Tink("append --expect exists",
                             "{\"stream\":\"a\",\"type\":\"note\"}\n"
                             "{\"stream\":\"b\",\"type\":\"note\"}\n");
  EXPECT_EQ(multi.exit_code, 2);
  EXPECT_NE(multi.err.find("one stream"), std::string::npos) << multi.err;
  EXPECT_EQ(EventCount(), 7u);
}

TEST_F(CliProjectionsTest, SameIdTwicePrintsTheSameLsnAndWritesOnce) {
  Append("--stream s --type note");
  CommandResult first = Tink("append --stream s --type note --id X --data '{\"text\":\"a\"}'");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(first.out, "2\n");
  EXPECT_EQ(first.err.find("already"), std::string::npos) << first.err;
  Append("--stream s --type note");

  CommandResult second = Tink("append --stream s --type note --id X --data '{\"text\":\"b\"}'");
  EXPECT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(second.out, "2\n");
  EXPECT_NE(second.err.find("already in the store"), std::string::npos) << second.err;
  EXPECT_EQ(EventCount(), 3u);

  CommandResult json = Tink("append --stream s --type note --id X --json");
  EXPECT_EQ(json.exit_code, 0) << json.err;
  auto j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["lsn"], 2);
  EXPECT_EQ(j["duplicate"], true);

  // The state is derived: without it the id is still known.
  std::filesystem::remove_all(store_ + "/state");
  CommandResult third = Tink("append --stream s --type note --id X");
  EXPECT_EQ(third.exit_code, 0) << third.err;
  EXPECT_EQ(third.out, "2\n");
  EXPECT_EQ(EventCount(), 3u);
  auto logged = nlohmann::json::parse(Tink("log --json --from 2 --to 2").out);
  EXPECT_EQ(logged["data"]["text"], "a") << "the duplicate must not replace the original";

  // A batch mixing a known id with a new one is refused.
  CommandResult mixed = Tink("append",
                             "{\"stream\":\"s\",\"type\":\"note\",\"id\":\"X\"}\n"
                             "{\"stream\":\"s\",\"type\":\"note\",\"id\":\"Y\"}\n");
  EXPECT_EQ(mixed.exit_code, 2);
  EXPECT_NE(mixed.err.find("'X'"), std::string::npos) << mixed.err;
  EXPECT_EQ(EventCount(), 3u);
}

TEST_F(CliProjectionsTest, LogFiltersOutputExactlyTheMatchingEvents) {
  Populate();
  CommandResult all = Tink("log --json");
  ASSERT_EQ(all.exit_code, 0) << all.err;
  const std::vector<std::string> lines = Lines(all.out);
  ASSERT_EQ(lines.size(), 40u);
  std::vector<nlohmann::json> events;
  for (const auto& l : lines) events.push_back(nlohmann::json::parse(l));
  const std::string t10 = events[10]["time"], t30 = events[30]["time"];
  ASSERT_LT(events[0]["time"].get<std::string>(), t10) << "separate appends, later times";

  auto expect = [&](const std::string& args, const std::function<bool(const nlohmann::json&)>& p) {
    std::vector<std::string> want;
    for (size_t i = 0; i < events.size(); ++i) {
      if (p(events[i])) want.push_back(lines[i]);
    }
    CommandResult r = Tink("log --json " + args);
    ASSERT_EQ(r.exit_code, 0) << args << ": " << r.err;
    EXPECT_EQ(Lines(r.out), want) << args;
    EXPECT_FALSE(want.empty() && args.find("nothing") == std::string::npos) << args;
    CommandResult text = Tink("log " + args);
    EXPECT_EQ(Lines(text.out).size(), want.size()) << args;
  };
  auto str = [](const nlohmann::json& e, const char* k) {
    return e.contains(k) ? e[k].get<std::string>() : std::string();
  };
  expect("--stream st/1", [&](const nlohmann::json& e) { return str(e, "stream") == "st/1"; });
  expect("--run r0", [&](const nlohmann::json& e) { return str(e, "run") == "r0"; });
  expect("--type myapp.deploy",
         [&](const nlohmann::json& e) { return str(e, "type") == "myapp.deploy"; });
  expect("--since " + t10, [&](const nlohmann::json& e) { return str(e, "time") >= t10; });
  expect("--until " + t30, [&](const nlohmann::json& e) { return str(e, "time") <= t30; });
  expect("--since " + t10 + " --until " + t30,
         [&](const nlohmann::json& e) { return str(e, "time") >= t10 && str(e, "time") <= t30; });
  expect("--stream st/2 --run r1 --since " + t10, [&](const nlohmann::json& e) {
    return str(e, "stream") == "st/2" && str(e, "run") == "r1" && str(e, "time") >= t10;
  });
  expect("--type note --until " + t30 + " --from 5", [&](const nlohmann::json& e) {
    return str(e, "type") == "note" && str(e, "time") <= t30 && e["lsn"].get<int>() >= 5;
  });
  expect("--stream nothing-here", [&](const nlohmann::json&) { return false; });
}

TEST_F(CliProjectionsTest, LogExplainNamesTheIndex) {
  Populate();
  const std::string t = nlohmann::json::parse(Lines(Tink("log --json").out)[20])["time"];
  struct Case {
    std::string args, index;
  } cases[] = {{"--stream st/0", "index: stream"},
               {"--run r1", "index: run"},
               {"--type myapp.deploy", "index: type"},
               {"--since " + t, "index: time"},
               {"", "index: none (log scan)"}};
  for (const Case& c : cases) {
    CommandResult r = Tink("log --explain " + c.args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find(c.index), std::string::npos) << c.args << ": " << r.err;
    // With one index filter, only matching records are read.
    if (c.args.rfind("--s", 0) == 0 || c.args.rfind("--r", 0) == 0 || c.args.rfind("--t", 0) == 0) {
      const size_t n = Lines(r.out).size();
      EXPECT_NE(r.err.find("records read: " + std::to_string(n) + ","), std::string::npos)
          << c.args << ": " << r.err;
    }
  }
}

TEST_F(CliProjectionsTest, ReplayCheckJsonToAndProjection) {
  Populate();
  CommandResult check = Tink("replay --check");
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_NE(check.out.find("equal to a fresh replay of 40 events"), std::string::npos) << check.out;

  CommandResult json = Tink("replay --check --json");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  auto j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["equal"], true);
  EXPECT_EQ(j["lsn"], 40);
  std::set<std::string> names;
  for (const auto& p : j["projections"]) names.insert(p["name"].get<std::string>());
  EXPECT_EQ(names, (std::set<std::string>{"ids", "streams", "runs", "types", "times", "scheduler",
                                          "canvas", "memory"}))
      << json.out;
  for (const auto& p : j["projections"]) {
    EXPECT_EQ(p["equal"], true) << p.dump();
    EXPECT_EQ(p["live"], p["replay"]) << p.dump();
    EXPECT_EQ(p["lsn"], 40) << p.dump();
  }

  CommandResult nope = Tink("replay --projection nope");
  EXPECT_EQ(nope.exit_code, 2);
  EXPECT_NE(nope.err.find("'nope'"), std::string::npos) << nope.err;
  EXPECT_NE(nope.err.find("streams"), std::string::npos) << "lists the projections: " << nope.err;
  EXPECT_EQ(Tink("replay --check --to 3").exit_code, 2);

  CommandResult to = Tink("replay --to 17");
  EXPECT_EQ(to.exit_code, 0) << to.err;
  CommandResult after_to = Tink("replay --check --json");
  EXPECT_EQ(after_to.exit_code, 0) << after_to.out << after_to.err;
  EXPECT_EQ(nlohmann::json::parse(after_to.out)["equal"], true) << after_to.out;

  CommandResult one = Tink("replay --projection streams --json");
  EXPECT_EQ(one.exit_code, 0) << one.err;
  EXPECT_EQ(nlohmann::json::parse(one.out)["projection"], "streams");
  EXPECT_EQ(Tink("replay --check").exit_code, 0);
  EXPECT_EQ(Tink("replay").exit_code, 0);
  EXPECT_EQ(EventCount(), 40u) << "replay never writes events";

  CommandResult help = RunCommand(std::string(TINK_BIN) + " replay --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--check"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("--projection"), std::string::npos) << help.out;
}

TEST_F(CliProjectionsTest, ReplayNeedsTheLock) {
  Populate();
  auto held = engine::Engine::Open(store_, {});
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  CommandResult r = Tink("replay --check");
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("locked"), std::string::npos) << r.err;
}

TEST_F(CliProjectionsTest, LogStreamWorksAfterTheStateIsDeleted) {
  Populate();
  CommandResult before = Tink("log --json --stream st/1");
  ASSERT_EQ(before.exit_code, 0) << before.err;
  ASSERT_EQ(Lines(before.out).size(), 13u);

  std::filesystem::remove_all(store_ + "/state");
  // A reader answers from the log and changes nothing: it does not rebuild the state.
  CommandResult scanned = Tink("log --json --stream st/1 --explain");
  EXPECT_EQ(scanned.exit_code, 0) << scanned.err;
  EXPECT_EQ(scanned.out, before.out);
  EXPECT_NE(scanned.err.find("index: none"), std::string::npos) << scanned.err;
  EXPECT_FALSE(std::filesystem::exists(store_ + "/state")) << "a reader changed the store";
  // The next writer rebuilds it, and the index answers again.
  ASSERT_EQ(Tink("replay").exit_code, 0);
  CommandResult rebuilt = Tink("log --json --stream st/1 --explain");
  EXPECT_EQ(rebuilt.exit_code, 0) << rebuilt.err;
  EXPECT_EQ(rebuilt.out, before.out);
  EXPECT_NE(rebuilt.err.find("index: stream"), std::string::npos) << rebuilt.err;

  // Again, while another process holds the lock and nobody has built a state: a log scan.
  std::filesystem::remove_all(store_ + "/state");
  engine::EngineOptions o;
  o.projections = false;
  auto held = engine::Engine::Open(store_, o);
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  CommandResult locked = Tink("log --json --stream st/1 --explain");
  EXPECT_EQ(locked.exit_code, 0) << locked.err;
  EXPECT_EQ(locked.out, before.out);
  EXPECT_NE(locked.err.find("none (log scan)"), std::string::npos) << locked.err;
  EXPECT_FALSE(std::filesystem::exists(store_ + "/state")) << "a reader must not create it";
  CommandResult run = Tink("log --json --run r1");
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(Lines(run.out).size(), 16u);
}

}  // namespace
}  // namespace tink
