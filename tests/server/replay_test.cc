// Hermetic replay (docs/replay.md): a run recorded through the proxy is served back to a re-run
// with no upstream at all; the re-run is recorded as a new run linked to the original; a request
// that differs is refused (409) and recorded as a replay.divergence with its position, the
// closest recorded request and the paths that differ.
#include "server/server_test_util.h"
#include "support/fake_llm.h"

namespace tink::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

std::string Chat(const std::string& user, bool stream = false, const std::string& extra = "") {
  json b = {{"model", "gpt-test"},
            {"messages", json::array({{{"role", "user"}, {"content", user}}})},
            {"temperature", 0.5}};
  if (stream) b["stream"] = true;
  if (!extra.empty()) b["user"] = extra;  // an ignored field (kIgnoredFields)
  return b.dump();
}

class ReplayTest : public ServerTest {
 protected:
  HttpResponse Call(const std::string& body, HttpHeaders more = {},
                    const std::string& path = "/v1/chat/completions") {
    return Post(path, body, std::move(more));
  }
  // The data of a streamed answer: the SSE events' data, in order.
  std::vector<std::string> Stream(const std::string& body, HttpHeaders more = {}) {
    SseReader sse(server_.tcp());
    const HttpResponse head =
        sse.Open("POST", "/v1/chat/completions", body, server_.auth(std::move(more)),
                 milliseconds(20000));
    EXPECT_EQ(head.status, 200) << head.Describe();
    std::vector<std::string> out;
    while (std::optional<SseEvent> e = sse.Next(milliseconds(20000))) out.push_back(e->data);
    return out;
  }
  // Records run r1: a plain call, a streamed one, and one answered 429 by the upstream.
  void Record() {
    FakeLlm fake;
    ASSERT_TRUE(fake.Start());
    ASSERT_TRUE(Start({"--llm-upstream", "fake=" + fake.base_url()})) << server_.error();
    const HttpHeaders run = {{"X-Tinkerbell-Run", "r1"}};
    recorded_plain_ = Call(Chat("one"), run);
    ASSERT_EQ(recorded_plain_.status, 200);
    recorded_stream_ = Stream(Chat("two", true), run);
    ASSERT_EQ(recorded_stream_.size(), 4u);
    const std::string limited = json{{"model", "fail-429"}, {"messages", json::array()}}.dump();
    ASSERT_EQ(Call(limited, run).status, 429);
    ASSERT_EQ(Stop(), 0);
    fake.Stop();  // no upstream from here on
  }

  HttpResponse recorded_plain_;
  std::vector<std::string> recorded_stream_;
};

TEST_F(ReplayTest, RecordedAnswersAreServedWithNoUpstream) {
  Record();
  ASSERT_TRUE(Start({"--replay", "r1"})) << server_.error();
  // Client-side fields that do not change the question are ignored (here: "user").
  const HttpResponse plain = Call(Chat("one", false, "someone-else"));
  ASSERT_EQ(plain.status, 200) << plain.Describe();
  EXPECT_EQ(ParseJson(plain.body), ParseJson(recorded_plain_.body));
  EXPECT_EQ(Stream(Chat("two", true)), recorded_stream_);
  const HttpResponse limited =
      Call(json{{"model", "fail-429"}, {"messages", json::array()}}.dump());
  EXPECT_EQ(limited.status, 429);  // recorded failures replay as failures
  EXPECT_EQ(ParseJson(limited.body)["error"]["message"], "rate limited");

  // The re-run is a new run linked to the original, recorded like a live one.
  const std::vector<json> started = Events("?type=run.started");
  ASSERT_EQ(started.size(), 2u);
  const std::string rerun = started[1]["run"];
  EXPECT_EQ(rerun, "r1-replay-1");
  EXPECT_EQ(started[1]["data"]["meta"]["replay_of"], "r1");
  std::vector<std::string> types;
  for (const json& e : Events("?run=" + rerun)) types.push_back(e["type"]);
  EXPECT_EQ(types, (std::vector<std::string>{"run.started", "task.created", "task.ready",
                                             "task.started", "llm.request", "llm.response",
                                             "llm.request", "llm.response", "llm.request",
                                             "llm.error"}));
  const json second = Events("?run=" + rerun + "&type=llm.response").at(1)["data"];
  EXPECT_EQ(second["content"], "echo: two");
  EXPECT_EQ(second["provider"], "replay");
  EXPECT_TRUE(Events("?type=replay.divergence").empty());

  // The agent run again (no run header): the first session was served the whole recording, so
  // this is a second re-run, not a divergence.
  const HttpResponse again = Call(Chat("one"));
  ASSERT_EQ(again.status, 200) << again.Describe();
  EXPECT_EQ(ParseJson(again.body), ParseJson(recorded_plain_.body));
  const std::vector<json> now = Events("?type=run.started");
  ASSERT_EQ(now.size(), 3u);
  EXPECT_EQ(now[2]["run"], "r1-replay-2");
  EXPECT_TRUE(Events("?type=replay.divergence").empty());
}

TEST_F(ReplayTest, AChangedPromptIsADivergenceAtItsPosition) {
  Record();
  ASSERT_TRUE(Start({"--replay", "r1"})) << server_.error();
  const HttpHeaders run = {{"X-Tinkerbell-Run", "r1-changed"}};
  ASSERT_EQ(Call(Chat("one"), run).status, 200);
  const HttpResponse changed = Call(Chat("TWO, but different", true), run);
  ASSERT_TRUE(IsError(changed, 409, "replay_divergence"));
  const json err = ParseJson(changed.body)["error"];
  EXPECT_EQ(err["position"], 1);
  ASSERT_EQ(err["differences"].size(), 1u) << err;
  EXPECT_EQ(err["differences"][0]["path"], "/messages/0/content");
  EXPECT_EQ(err["differences"][0]["recorded"], "two");
  EXPECT_EQ(err["differences"][0]["actual"], "TWO, but different");

  const std::vector<json> div = Events("?type=replay.divergence");
  ASSERT_EQ(div.size(), 1u);
  EXPECT_EQ(div[0]["stream"], "run/r1-changed");
  const json& d = div[0]["data"];
  EXPECT_EQ(d["original"], "r1");
  EXPECT_EQ(d["position"], 1);
  EXPECT_EQ(d["reason"], "request differs");
  EXPECT_EQ(d["closest"]["position"], 1);
  const json recorded_second = Events("?run=r1&type=llm.request").at(1);
  EXPECT_EQ(d["closest"]["lsn"], recorded_second["lsn"]);
  EXPECT_EQ(d["closest"]["call_id"], recorded_second["data"]["call_id"]);
  EXPECT_EQ(d["request"]["messages"][0]["content"], "TWO, but different");
  EXPECT_EQ(d["differences"], err["differences"]);

  // Sessions are independent: another re-run still gets every answer.
  ASSERT_EQ(Call(Chat("one"), {{"X-Tinkerbell-Run", "r1-other"}}).status, 200);
  // More requests than the recording holds: a divergence with nothing left to compare.
  const HttpHeaders third = {{"X-Tinkerbell-Run", "r1-third"}};
  ASSERT_EQ(Call(Chat("one"), third).status, 200);
  ASSERT_EQ(Stream(Chat("two", true), third).size(), 4u);
  ASSERT_EQ(Call(json{{"model", "fail-429"}, {"messages", json::array()}}.dump(), third).status,
            429);
  const HttpResponse extra = Call(Chat("four"), third);
  ASSERT_TRUE(IsError(extra, 409, "replay_divergence"));
  const json last = Events("?type=replay.divergence").back()["data"];
  EXPECT_EQ(last["position"], 3);
  EXPECT_EQ(last["reason"], "no recorded request left");
  EXPECT_TRUE(last["closest"].is_null());
}

TEST_F(ReplayTest, ReplayPrefixWorksOnAnyDaemonAndUnknownRunsAre404) {
  Record();
  ASSERT_TRUE(Start()) << server_.error();  // no --replay, no upstream
  const HttpResponse plain = Call(Chat("one"), {}, "/replay/r1/v1/chat/completions");
  ASSERT_EQ(plain.status, 200) << plain.Describe();
  EXPECT_EQ(ParseJson(plain.body), ParseJson(recorded_plain_.body));
  EXPECT_TRUE(IsError(Call(Chat("one"), {}, "/replay/nosuchrun/v1/chat/completions"), 404,
                      "replay_not_found"));
  EXPECT_TRUE(IsError(Call(Chat("one"), {}, "/replay//v1/chat/completions"), 404, "not_found"));
  // Without the prefix the daemon is a proxy with no upstream.
  EXPECT_TRUE(IsError(Call(Chat("one")), 503, "no_upstream"));
}

}  // namespace
}  // namespace tink::testing
