// shell/server/llm_answer.h: reading OpenAI-style answers (whole bodies, streamed chunks) and
// Server-Sent Events cut at arbitrary places; and replay.h's canonical request.
#include "shell/server/llm_answer.h"

#include <gtest/gtest.h>

#include "shell/server/replay.h"

namespace tink::server {
namespace {

using nlohmann::json;

std::vector<std::pair<std::string, std::string>> Events(const std::vector<std::string>& pieces) {
  SseParser p;
  std::vector<std::pair<std::string, std::string>> out;
  for (const std::string& piece : pieces) {
    p.Feed(piece, [&](std::string_view ev, std::string_view data) {
      out.emplace_back(std::string(ev), std::string(data));
    });
  }
  return out;
}

TEST(SseParserTest, EventsCutAnywhereComeOutWhole) {
  const std::string text =
      ": keep-alive\n\ndata: {\"a\":1}\n\nevent: response.completed\ndata: x\ndata: y\n\n"
      "data: [DONE]\n\n";
  const auto whole = Events({text});
  ASSERT_EQ(whole.size(), 3u);
  EXPECT_EQ(whole[0], (std::pair<std::string, std::string>{"", "{\"a\":1}"}));
  EXPECT_EQ(whole[1], (std::pair<std::string, std::string>{"response.completed", "x\ny"}));
  EXPECT_EQ(whole[2].second, "[DONE]");
  // Every split point, one byte at a time, and CRLF line ends give the same events.
  for (size_t cut = 1; cut < text.size(); ++cut) {
    EXPECT_EQ(Events({text.substr(0, cut), text.substr(cut)}), whole) << "cut at " << cut;
  }
  std::vector<std::string> bytes;
  for (char c : text) bytes.emplace_back(1, c);
  EXPECT_EQ(Events(bytes), whole);
  std::string crlf;
  for (char c : text) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  EXPECT_EQ(Events({crlf.substr(0, 7), crlf.substr(7)}), whole);
  // An event without its blank line is not delivered yet.
  EXPECT_TRUE(Events({"data: half"}).empty());
}

TEST(LlmAnswerTest, ChatCompletionBody) {
  const json body = json::parse(R"({"object":"chat.completion","model":"gpt-4o-2024",
    "choices":[{"index":0,"finish_reason":"tool_calls","message":{"role":"assistant","content":"Let me look.",
      "tool_calls":[{"id":"t1","type":"function","function":{"name":"bash","arguments":"{\"cmd\":\"ls\"}"}}]}}],
    "usage":{"prompt_tokens":120,"completion_tokens":7,"prompt_tokens_details":{"cached_tokens":64}}})");
  const LlmAnswer a = SummarizeBody(body);
  EXPECT_EQ(a.model, "gpt-4o-2024");
  EXPECT_EQ(a.content, "Let me look.");
  EXPECT_EQ(a.finish_reason, "tool_calls");
  EXPECT_EQ(a.tool_calls, body["choices"][0]["message"]["tool_calls"]);
  EXPECT_EQ(a.input_tokens, 120);
  EXPECT_EQ(a.output_tokens, 7);
  EXPECT_EQ(a.cached_tokens, 64);
  EXPECT_EQ(SummarizeBody(json::parse(R"({"error":{"message":"bad key","type":"auth"}})")).error,
            "bad key");
}

TEST(LlmAnswerTest, StreamedChunksAreMerged) {
  const json chunks = json::parse(R"([
    {"model":"m1","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"}}]},
    {"model":"m1","choices":[{"index":0,"delta":{"content":"lo"}}]},
    {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c1","function":{"name":"ba","arguments":"{\"a\""}}]}}]},
    {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"name":"sh","arguments":":1}"}},
                                                  {"index":1,"id":"c2","function":{"name":"ls","arguments":"{}"}}]}}]},
    {"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]},
    {"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":4}}])");
  const LlmAnswer a = SummarizeChunks(chunks);
  EXPECT_EQ(a.model, "m1");
  EXPECT_EQ(a.content, "Hello");
  EXPECT_EQ(a.finish_reason, "tool_calls");
  ASSERT_EQ(a.tool_calls.size(), 2u);
  EXPECT_EQ(a.tool_calls[0]["id"], "c1");
  EXPECT_EQ(a.tool_calls[0]["function"]["name"], "bash");
  EXPECT_EQ(a.tool_calls[0]["function"]["arguments"], "{\"a\":1}");
  EXPECT_EQ(a.tool_calls[1]["function"]["name"], "ls");
  EXPECT_EQ(a.input_tokens, 9);
  EXPECT_EQ(a.output_tokens, 4);
  EXPECT_FALSE(a.cached_tokens.has_value());
}

TEST(LlmAnswerTest, ResponsesApiBodyAndStream) {
  const json response = json::parse(R"({"object":"response","status":"completed","model":"m2",
    "output":[{"type":"message","content":[{"type":"output_text","text":"Done."}]},
              {"type":"function_call","call_id":"f1","name":"grep","arguments":"{}"}],
    "usage":{"input_tokens":30,"output_tokens":3,"input_tokens_details":{"cached_tokens":0}}})");
  const LlmAnswer a = SummarizeBody(response);
  EXPECT_EQ(a.content, "Done.");
  EXPECT_EQ(a.finish_reason, "completed");
  ASSERT_EQ(a.tool_calls.size(), 1u);
  EXPECT_EQ(a.tool_calls[0]["name"], "grep");
  EXPECT_EQ(a.input_tokens, 30);
  EXPECT_EQ(a.cached_tokens, 0);
  // A stream: the deltas, then response.completed, whose response is the whole answer.
  json events = json::array({{{"type", "response.output_text.delta"}, {"delta", "Do"}},
                             {{"type", "response.output_text.delta"}, {"delta", "ne."}}});
  EXPECT_EQ(SummarizeChunks(events).content, "Done.");
  events.push_back({{"type", "response.completed"}, {"response", response}});
  EXPECT_EQ(SummarizeChunks(events).input_tokens, 30);
}

TEST(LlmAnswerTest, JsonDepthCountsBracketsOutsideStrings) {
  EXPECT_EQ(JsonDepth("{}"), 1);
  EXPECT_EQ(JsonDepth(R"({"a":[[{"b":1}]]})"), 4);
  EXPECT_EQ(JsonDepth(R"({"a":"[[[[\"]]]]"})"), 1);  // brackets and an escaped quote in a string
  EXPECT_EQ(JsonDepth(std::string(100000, '[')), 100000);
}

TEST(CanonicalRequestTest, IgnoresOnlyTheListedFieldsAndStreamFalse) {
  const json a = json::parse(R"({"model":"m","messages":[{"role":"user","content":"x"}],
                                 "temperature":0,"user":"u1","stream":false,"metadata":{"k":1}})");
  const json b = json::parse(R"({"temperature":0,"messages":[{"content":"x","role":"user"}],
                                 "model":"m","user":"u2","stream_options":{"include_usage":true}})");
  EXPECT_EQ(CanonicalRequest(a), CanonicalRequest(b));
  json c = b;
  c["stream"] = true;
  EXPECT_NE(CanonicalRequest(a), CanonicalRequest(c));
  c = b;
  c["seed"] = 1;
  EXPECT_NE(CanonicalRequest(a), CanonicalRequest(c));
}

}  // namespace
}  // namespace tink::server
