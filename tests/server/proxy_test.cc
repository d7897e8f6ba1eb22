// The recording LLM proxy of tink serve (docs/replay.md, docs/http.md): calls forwarded to a
// fake OpenAI-compatible upstream on loopback (support/fake_llm.h), the events recorded, the
// secrets kept out of the log, streams passed through as they arrive, upstream failures
// returned and recorded, bad requests refused with nothing stored. The official openai SDK
// drives the same endpoints in tests/node.
#include <dirent.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "server/server_test_util.h"
#include "support/fake_llm.h"

namespace tink::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

constexpr const char* kUpstreamKey = "sk-upstream-secret-0123456789";

std::string Chat(const std::string& model, const std::string& user, bool stream = false) {
  json b = {{"model", model},
            {"messages", json::array({{{"role", "system"}, {"content", "be brief"}},
                                      {{"role", "user"}, {"content", user}}})},
            {"temperature", 0}};
  if (stream) b["stream"] = true;
  return b.dump();
}

// Every byte of every file under dir (for "no secret is stored").
std::string AllBytes(const std::string& dir) {
  std::string out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    const std::string path = dir + "/" + name;
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      out += AllBytes(path);
    } else if (S_ISREG(st.st_mode) && name != "token") {
      std::ifstream in(path, std::ios::binary);
      std::ostringstream ss;
      ss << in.rdbuf();
      out += ss.str();
    }
  }
  ::closedir(d);
  return out;
}

class ProxyTest : public ServerTest {
 protected:
  void SetUp() override {
    ::setenv("TINK_LLM_KEY_FAKE", kUpstreamKey, 1);
    ASSERT_TRUE(fake_.Start()) << "fake upstream";
  }
  void TearDown() override { ::unsetenv("TINK_LLM_KEY_FAKE"); }
  bool StartProxy(std::vector<std::string> extra = {}) {
    extra.insert(extra.begin(), {"--llm-upstream", "fake=" + fake_.base_url()});
    return Start(extra);
  }
  HttpResponse Call(const std::string& body, HttpHeaders more = {{"X-Tinkerbell-Run", "r1"}},
                    const std::string& path = "/v1/chat/completions") {
    more.emplace_back("Content-Type", "application/json");
    return Post(path, body, std::move(more));
  }
  // The events of run `run` with type `type`.
  std::vector<json> Of(const std::string& run, const std::string& type) {
    std::vector<json> out;
    for (json& e : Events("?run=" + run)) {
      if (e["type"] == type) out.push_back(std::move(e));
    }
    return out;
  }

  FakeLlm fake_;
};

TEST_F(ProxyTest, CallIsForwardedAnsweredAndRecorded) {
  ASSERT_TRUE(StartProxy()) << server_.error();
  const HttpResponse r = Call(Chat("gpt-test", "hello"));
  ASSERT_EQ(r.status, 200) << r.Describe();
  const json answer = ParseJson(r.body);
  EXPECT_EQ(answer["choices"][0]["message"]["content"], "echo: hello");
  EXPECT_EQ(r.Header("x-request-id"), "req-fake-1");  // the upstream's headers passed on

  const std::vector<FakeLlm::Seen> seen = fake_.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].target, "/v1/chat/completions");
  EXPECT_EQ(seen[0].headers.at("authorization"), std::string("Bearer ") + kUpstreamKey);
  EXPECT_EQ(ParseJson(seen[0].body), ParseJson(Chat("gpt-test", "hello")));
  EXPECT_EQ(seen[0].headers.count("x-tinkerbell-run"), 0u);

  std::vector<std::string> types;
  for (const json& e : Events("?run=r1")) types.push_back(e["type"]);
  EXPECT_EQ(types, (std::vector<std::string>{"run.started", "task.created", "task.ready",
                                             "task.started", "llm.request", "llm.response"}));
  const json req = Of("r1", "llm.request").at(0);
  EXPECT_EQ(req["stream"], "run/r1/task/agent");
  EXPECT_EQ(req["data"]["model"], "gpt-test");
  EXPECT_EQ(req["data"]["messages"][1]["content"], "hello");
  EXPECT_EQ(req["data"]["params"], json({{"temperature", 0}}));
  EXPECT_EQ(req["data"]["endpoint"], "/v1/chat/completions");
  EXPECT_EQ(req["data"]["provider"], "fake");
  const json res = Of("r1", "llm.response").at(0);
  EXPECT_EQ(res["causation"], req["lsn"]);
  EXPECT_EQ(res["data"]["call_id"], req["data"]["call_id"]);
  EXPECT_EQ(res["data"]["content"], "echo: hello");
  EXPECT_EQ(res["data"]["input_tokens"], 5);
  EXPECT_EQ(res["data"]["output_tokens"], 3);
  EXPECT_EQ(res["data"]["cached_tokens"], 2);
  EXPECT_EQ(res["data"]["status"], 200);
  EXPECT_EQ(res["data"]["finish_reason"], "stop");
  EXPECT_EQ(res["data"]["raw"], answer);
  EXPECT_TRUE(res["data"]["latency_ms"].is_number());

  // A second call on the same run and task adds no second run.started.
  ASSERT_EQ(Call(Chat("gpt-test", "again")).status, 200);
  EXPECT_EQ(Of("r1", "run.started").size(), 1u);
  EXPECT_EQ(Of("r1", "llm.response").size(), 2u);

  ASSERT_EQ(Stop(), 0);
  const std::string stored = AllBytes(store_);
  EXPECT_NE(stored.find("echo: again"), std::string::npos) << "the search itself works";
  EXPECT_EQ(stored.find(kUpstreamKey), std::string::npos) << "the upstream key was stored";
  EXPECT_EQ(stored.find(server_.token()), std::string::npos) << "the daemon's token was stored";
}

TEST_F(ProxyTest, StreamIsPassedThroughAsItArrivesAndRecordedWhole) {
  ASSERT_TRUE(StartProxy()) << server_.error();
  SseReader sse(server_.tcp());
  const HttpResponse head =
      sse.Open("POST", "/v1/chat/completions", Chat("gated", "streamed", true),
               server_.auth({{"X-Tinkerbell-Run", "r1"}, {"X-Tinkerbell-Task", "t7"}}),
               milliseconds(20000));
  ASSERT_EQ(head.status, 200) << head.Describe();
  EXPECT_EQ(head.Header("content-type"), "text/event-stream");
  // The upstream holds the rest of its answer until the gate opens: this first chunk can only
  // have come through while the upstream was still answering.
  std::optional<SseEvent> first = sse.Next(milliseconds(20000));
  ASSERT_TRUE(first) << sse.error();
  EXPECT_EQ(ParseJson(first->data)["choices"][0]["delta"]["content"], "echo: ");
  EXPECT_TRUE(Of("r1", "llm.response").empty()) << "recorded before the stream ended";
  fake_.ReleaseGate();
  std::vector<std::string> rest;
  while (std::optional<SseEvent> e = sse.Next(milliseconds(20000))) rest.push_back(e->data);
  ASSERT_EQ(rest.size(), 3u) << sse.error();
  EXPECT_EQ(rest.back(), "[DONE]");

  // Recorded whole once it ended (the append follows the last chunk: wait for it).
  std::vector<json> res;
  for (int i = 0; i < 200 && res.empty(); ++i) {
    res = Of("r1", "llm.response");
    if (res.empty()) std::this_thread::sleep_for(milliseconds(25));
  }
  ASSERT_EQ(res.size(), 1u);
  const json& d = res[0]["data"];
  EXPECT_EQ(res[0]["stream"], "run/r1/task/t7");
  EXPECT_EQ(d["content"], "echo: streamed");
  EXPECT_EQ(d["finish_reason"], "stop");
  EXPECT_EQ(d["input_tokens"], 5);
  EXPECT_EQ(d["cached_tokens"], 2);
  EXPECT_TRUE(d["ttft_ms"].is_number());
  EXPECT_LE(d["ttft_ms"].get<double>(), d["latency_ms"].get<double>());
  ASSERT_TRUE(d["raw"].is_array());
  EXPECT_EQ(d["raw"].size(), 3u);  // the chunks, [DONE] not included
  EXPECT_EQ(Of("r1", "llm.request").at(0)["data"]["stream"], true);
}

TEST_F(ProxyTest, UpstreamErrorsComeBackAsTheyAreAndAreRecorded) {
  ASSERT_TRUE(StartProxy({"--llm-timeout", "500"})) << server_.error();
  const HttpResponse limited = Call(Chat("fail-429", "x"));
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(ParseJson(limited.body)["error"]["message"], "rate limited");
  const HttpResponse html = Call(Chat("html-500", "x"));
  EXPECT_EQ(html.status, 500);
  EXPECT_EQ(html.body, "<html><body>upstream broke</body></html>");
  const HttpResponse slow = Call(Chat("slow", "x"));
  EXPECT_TRUE(IsError(slow, 504, "upstream_timeout"));

  const std::vector<json> errors = Of("r1", "llm.error");
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0]["data"]["status"], 429);
  EXPECT_EQ(errors[0]["data"]["error"], "rate limited");
  EXPECT_EQ(errors[0]["data"]["raw"]["error"]["type"], "rate_limit_error");
  EXPECT_EQ(errors[1]["data"]["status"], 500);
  EXPECT_NE(errors[1]["data"]["error"].get<std::string>().find("upstream broke"), std::string::npos);
  EXPECT_EQ(errors[2]["data"]["status"], 504);
  EXPECT_TRUE(Of("r1", "llm.response").empty());
}

TEST_F(ProxyTest, UnreachableUpstreamIs502AndRecorded) {
  const uint16_t port = fake_.port();
  fake_.Stop();  // nothing listens there now
  ASSERT_TRUE(Start({"--llm-upstream", "gone=http://127.0.0.1:" + std::to_string(port) + "/v1"}))
      << server_.error();
  const HttpResponse r = Call(Chat("m", "x"));
  EXPECT_TRUE(IsError(r, 502, "upstream_unreachable"));
  const std::vector<json> errors = Of("r1", "llm.error");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0]["data"]["status"], 502);
  EXPECT_EQ(errors[0]["data"]["provider"], "gone");
}

TEST_F(ProxyTest, CallerKeyIsForwardedWithXTinkerbellTokenAndNeverStored) {
  ASSERT_TRUE(StartProxy()) << server_.error();
  const std::string client_key = "sk-client-own-key-987654321";
  const HttpResponse r = HttpRequest(
      server_.tcp(), "POST", "/v1/chat/completions", Chat("m", "mine"),
      {{"X-Tinkerbell-Token", server_.token()}, {"Authorization", "Bearer " + client_key}});
  ASSERT_EQ(r.status, 200) << r.Describe();
  EXPECT_EQ(fake_.requests().at(0).headers.at("authorization"), "Bearer " + client_key);
  // No run header: a run per key, "llm-" and 12 hex digits, the same for the same key.
  const std::vector<json> all = Events();
  ASSERT_FALSE(all.empty());
  const std::string run = all.back()["run"];
  EXPECT_EQ(run.size(), 16u);
  EXPECT_EQ(run.rfind("llm-", 0), 0u) << run;
  ASSERT_EQ(HttpRequest(server_.tcp(), "POST", "/v1/chat/completions", Chat("m", "mine again"),
                        {{"X-Tinkerbell-Token", server_.token()},
                         {"Authorization", "Bearer " + client_key}})
                .status,
            200);
  EXPECT_EQ(Events().back()["run"], run);
  // A wrong X-Tinkerbell-Token is refused before anything is forwarded.
  const HttpResponse denied = HttpRequest(server_.tcp(), "POST", "/v1/chat/completions",
                                          Chat("m", "x"), {{"X-Tinkerbell-Token", "wrong"}});
  EXPECT_TRUE(IsError(denied, 403, "forbidden"));
  EXPECT_EQ(fake_.requests().size(), 2u);
  ASSERT_EQ(Stop(), 0);
  EXPECT_EQ(AllBytes(store_).find(client_key), std::string::npos);
}

TEST_F(ProxyTest, UpstreamIsChosenByHeaderModelPrefixOrDefault) {
  FakeLlm other;
  ASSERT_TRUE(other.Start());
  ASSERT_TRUE(StartProxy({"--llm-upstream", "claude=" + other.base_url()})) << server_.error();
  ASSERT_EQ(Call(Chat("claude/sonnet", "a")).status, 200);      // NAME/ prefix, stripped
  ASSERT_EQ(Call(Chat("claude-3-haiku", "b")).status, 200);     // longest name prefix
  ASSERT_EQ(Call(Chat("gpt-4o", "c")).status, 200);             // the first upstream
  ASSERT_EQ(Call(Chat("gpt-4o", "d"), {{"X-Tinkerbell-Upstream", "claude"}}).status, 200);
  const HttpResponse unknown = Call(Chat("gpt-4o", "e"), {{"X-Tinkerbell-Upstream", "nope"}});
  EXPECT_TRUE(IsError(unknown, 400, "invalid_request_error"));
  const std::vector<FakeLlm::Seen> to_other = other.requests();
  ASSERT_EQ(to_other.size(), 3u);
  EXPECT_EQ(ParseJson(to_other[0].body)["model"], "sonnet");
  EXPECT_EQ(ParseJson(to_other[1].body)["model"], "claude-3-haiku");
  EXPECT_EQ(ParseJson(to_other[2].body)["model"], "gpt-4o");
  ASSERT_EQ(fake_.requests().size(), 1u);
  EXPECT_EQ(ParseJson(fake_.requests()[0].body)["model"], "gpt-4o");
  // The recorded model is the one the caller asked for; the provider says where it went.
  const json first = Events("?type=llm.request").at(0);
  EXPECT_EQ(first["data"]["model"], "claude/sonnet");
  EXPECT_EQ(first["data"]["provider"], "claude");
}

TEST_F(ProxyTest, ResponsesApiIsForwardedAndRecorded) {
  ASSERT_TRUE(StartProxy()) << server_.error();
  const HttpResponse r =
      Call(R"({"model":"gpt-test","input":"hi there","instructions":"be kind"})",
           {{"X-Tinkerbell-Run", "r1"}}, "/v1/responses");
  ASSERT_EQ(r.status, 200) << r.Describe();
  EXPECT_EQ(fake_.requests().at(0).target, "/v1/responses");
  const json req = Of("r1", "llm.request").at(0)["data"];
  EXPECT_EQ(req["endpoint"], "/v1/responses");
  EXPECT_EQ(req["messages"], "hi there");
  EXPECT_EQ(req["params"], json({{"instructions", "be kind"}}));
  const json res = Of("r1", "llm.response").at(0)["data"];
  EXPECT_EQ(res["content"], "echo: hi there");
  EXPECT_EQ(res["input_tokens"], 4);
  EXPECT_EQ(res["output_tokens"], 2);
}

TEST_F(ProxyTest, ResponsesApiStreamIsRelayedRecordedAndReplayed) {
  ASSERT_TRUE(StartProxy()) << server_.error();
  const std::string body = R"({"model":"gpt-test","input":"streamed","stream":true})";
  auto read = [&](const std::string& path, const std::string& run) {
    SseReader sse(server_.tcp());
    EXPECT_EQ(sse.Open("POST", path, body, server_.auth({{"X-Tinkerbell-Run", run}}),
                       milliseconds(20000))
                  .status,
              200);
    std::vector<std::pair<std::string, std::string>> out;
    while (std::optional<SseEvent> e = sse.Next(milliseconds(20000))) {
      out.emplace_back(e->event, e->data);
    }
    return out;
  };
  const auto live = read("/v1/responses", "r1");
  ASSERT_EQ(live.size(), 4u);
  EXPECT_EQ(live[1].first, "response.output_text.delta");
  EXPECT_EQ(live.back().first, "response.completed");
  // The last event was held until the answer was recorded: it is in the log now.
  const std::vector<json> res = Of("r1", "llm.response");
  ASSERT_EQ(res.size(), 1u);
  EXPECT_EQ(res[0]["data"]["content"], "echo: streamed");
  EXPECT_EQ(res[0]["data"]["input_tokens"], 4);
  EXPECT_EQ(res[0]["data"]["raw"].size(), 4u);
  // Replayed from the recording: the same named events.
  const auto replayed = read("/replay/r1/v1/responses", "r1-again");
  ASSERT_EQ(replayed.size(), live.size());
  for (size_t i = 0; i < live.size(); ++i) {
    EXPECT_EQ(replayed[i].first, live[i].first);
    EXPECT_EQ(ParseJson(replayed[i].second), ParseJson(live[i].second));
  }
  // A replay never records into the run it replays.
  const HttpResponse into_itself =
      Call(body, {{"X-Tinkerbell-Run", "r1"}}, "/replay/r1/v1/responses");
  EXPECT_TRUE(IsError(into_itself, 400, "invalid_request_error"));
  EXPECT_EQ(Of("r1", "llm.request").size(), 1u);
}

TEST_F(ProxyTest, BadRequestsAreRefusedAndNothingIsStored) {
  ASSERT_TRUE(StartProxy()) << server_.error();
  EXPECT_TRUE(IsError(Call("not json"), 400, "invalid_request_error"));
  EXPECT_TRUE(IsError(Call("[1,2]"), 400, "invalid_request_error"));
  EXPECT_TRUE(IsError(Call(R"({"model":7,"messages":[]})"), 400, "invalid_request_error"));
  std::string deep = R"({"model":"m","messages":)" + std::string(200, '[') + std::string(200, ']') + "}";
  EXPECT_TRUE(IsError(Call(deep), 400, "invalid_request_error"));
  EXPECT_TRUE(IsError(Call(Chat("m", "x"), {{"X-Tinkerbell-Run", std::string(300, 'r')}}), 400,
                      "invalid_request_error"));
  EXPECT_TRUE(IsError(Get("/v1/chat/completions"), 405, "method_not_allowed"));
  EXPECT_TRUE(IsError(HttpRequest(server_.tcp(), "POST", "/v1/chat/completions", Chat("m", "x")),
                      401, "unauthorized"));
  EXPECT_TRUE(Events().empty());
  EXPECT_TRUE(fake_.requests().empty());
  EXPECT_EQ(Get("/healthz").status, 200);
}

TEST_F(ProxyTest, WithoutUpstreamTheProxyIs503) {
  ASSERT_TRUE(Start()) << server_.error();
  EXPECT_TRUE(IsError(Call(Chat("m", "x")), 503, "no_upstream"));
  EXPECT_TRUE(Events().empty());
}

TEST_F(ProxyTest, ClientLeavingMidStreamIsRecordedAndHarmsNothing) {
  ASSERT_TRUE(StartProxy()) << server_.error();
  {
    SseReader sse(server_.tcp());
    ASSERT_EQ(sse.Open("POST", "/v1/chat/completions", Chat("gated", "bye", true),
                       server_.auth({{"X-Tinkerbell-Run", "r1"}}), milliseconds(20000))
                  .status,
              200);
    ASSERT_TRUE(sse.Next(milliseconds(20000))) << sse.error();
    sse.Close();  // the client goes away while the upstream is still answering
  }
  fake_.ReleaseGate();
  std::vector<json> errors;
  for (int i = 0; i < 400 && errors.empty(); ++i) {
    errors = Of("r1", "llm.error");
    if (errors.empty()) std::this_thread::sleep_for(milliseconds(25));
  }
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0]["data"]["status"], 499);
  EXPECT_EQ(Call(Chat("m", "still fine")).status, 200);
}

}  // namespace
}  // namespace tink::testing
