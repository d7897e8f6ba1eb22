// Graceful shutdown (docs/http.md): on SIGTERM or SIGINT the daemon stops accepting, finishes the
// requests in flight, syncs the log, closes the store and exits 0. Here with appends, queries and
// a follower in flight: exit 0, every acknowledged event in the log at its LSN, `tink verify`
// and `tink replay --check` clean, and the store opens again.
#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "server/server_test_util.h"

namespace tink::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

class ShutdownTest : public ServerTest {
 protected:
  // The log as `tink log --json` prints it (the daemon stopped).
  std::vector<json> LogFromCli() {
    const CommandResult c = Tink("log --json");
    EXPECT_EQ(c.exit_code, 0) << c.err;
    std::string err;
    std::vector<json> out = ParseJsonl(c.out, &err);
    EXPECT_EQ(err, "");
    return out;
  }
  void ExpectStoreClean() {
    const CommandResult v = Tink("verify");
    EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
    const CommandResult r = Tink("replay --check");
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  }
};

TEST_F(ShutdownTest, SigtermWithRequestsInFlightExitsZeroAndKeepsEveryAck) {
  ASSERT_TRUE(Start()) << server_.error();
  const std::string token = server_.token();
  constexpr int kWriters = 16;
  std::atomic<bool> signalled{false};
  std::atomic<int> acks{0};
  std::mutex mu;
  std::map<std::string, uint64_t> acked;
  std::vector<std::string> failures;

  // A follower: the daemon must end its stream to exit (within its 10 s for requests in flight).
  SseReader follower(server_.tcp());
  ASSERT_EQ(follower.Open("/v1/events?follow=1", Bearer(token), milliseconds(20000)).status, 200);

  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      HttpConnection conn(w % 2 ? server_.unix_socket() : server_.tcp(), milliseconds(15000));
      for (int i = 0;; ++i) {
        const int n = 1 + i % 2;
        std::string body;
        std::vector<std::string> ids;
        for (int k = 0; k < n; ++k) {
          ids.push_back("term-" + std::to_string(w) + "-" + std::to_string(i) + "-" +
                        std::to_string(k));
          body += Note("term/" + std::to_string(w), ids.back(), ids.back()) + "\n";
        }
        const HttpResponse r = conn.Request("POST", "/v1/events", body, Bearer(token));
        std::lock_guard<std::mutex> lock(mu);
        if (r.status != 200) {
          // Before the signal every append must succeed; after it, a refusal or a closed
          // connection is how the daemon stops accepting. (`signalled` is set before the kill,
          // so a failure seen while it is false came before the signal.)
          if (!signalled.load()) failures.push_back("before SIGTERM: " + r.Describe());
          return;
        }
        const json j = ParseJson(r.body);
        if (!j.is_object() || !j.contains("lsns") || !j["lsns"].is_array() ||
            j["lsns"].size() != ids.size()) {
          failures.push_back("bad answer: " + r.body);
          return;
        }
        for (size_t k = 0; k < ids.size(); ++k) acked[ids[k]] = U64(j["lsns"][k]);
        ++acks;
      }
    });
  }
  for (int q = 0; q < 2; ++q) {
    threads.emplace_back([&, q] {
      HttpConnection conn(q ? server_.unix_socket() : server_.tcp(), milliseconds(15000));
      for (;;) {
        const HttpResponse r =
            conn.Request("POST", "/v1/query", R"({"query":"events | count"})", Bearer(token));
        if (r.status != 200) {
          std::lock_guard<std::mutex> lock(mu);
          if (!signalled.load()) failures.push_back("query before SIGTERM: " + r.Describe());
          return;
        }
      }
    });
  }
  std::atomic<int> followed{0};
  std::string follower_end;
  std::thread follow_thread([&] {
    while (follower.Next(milliseconds(30000))) ++followed;
    follower_end = follower.error();
  });

  for (int i = 0; i < 2000 && acks.load() < 300; ++i) std::this_thread::sleep_for(milliseconds(10));
  EXPECT_GE(acks.load(), 300) << "the load did not get going";
  signalled = true;
  server_.Signal(SIGTERM);
  const int code = server_.Wait(milliseconds(20000));
  for (std::thread& t : threads) t.join();
  follow_thread.join();
  EXPECT_EQ(code, 0) << server_.stderr_text();
  for (const std::string& f : failures) ADD_FAILURE() << f;
  EXPECT_GT(followed.load(), 0);
  EXPECT_EQ(follower_end.find("no event within"), std::string::npos)
      << "the follower's stream outlived the daemon: " << follower_end;

  const std::vector<json> log = LogFromCli();
  std::map<std::string, uint64_t> in_log;
  for (size_t i = 0; i < log.size(); ++i) {
    EXPECT_EQ(log[i]["lsn"].get<uint64_t>(), i + 1);
    EXPECT_TRUE(in_log.emplace(log[i].value("id", ""), log[i]["lsn"].get<uint64_t>()).second);
  }
  size_t lost = 0;
  for (const auto& [id, lsn] : acked) {
    auto it = in_log.find(id);
    if (it == in_log.end() || it->second != lsn) {
      if (++lost <= 10) ADD_FAILURE() << "acknowledged " << id << " at " << lsn << " lost";
    }
  }
  EXPECT_EQ(lost, 0u) << "of " << acked.size() << " acknowledged";
  ExpectStoreClean();
  // The store opens again with everything in it.
  ASSERT_TRUE(Start()) << server_.error();
  EXPECT_EQ(Events().size(), log.size());
}

TEST_F(ShutdownTest, SigintAndSigtermWhenIdleExitZero) {
  for (const int sig : {SIGINT, SIGTERM}) {
    SCOPED_TRACE(sig == SIGINT ? "SIGINT" : "SIGTERM");
    ASSERT_TRUE(Start()) << server_.error();
    Append(Note("idle", sig == SIGINT ? "int" : "term"));
    HttpConnection idle(server_.tcp());  // an idle keep-alive connection must not hold it up
    ASSERT_EQ(idle.Request("GET", "/healthz").status, 200);
    server_.Signal(sig);
    EXPECT_EQ(server_.Wait(milliseconds(20000)), 0) << server_.stderr_text();
  }
  EXPECT_EQ(LogFromCli().size(), 2u);
  ExpectStoreClean();
}

}  // namespace
}  // namespace tink::testing
