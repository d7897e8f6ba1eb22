// JSON <-> FlatBuffers round trips: the envelope, one full example per catalog type and custom
// types, exact numbers in any-JSON fields, control characters and unicode.
#include <gtest/gtest.h>

#include <atomic>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "schema/schema.h"

namespace tink::schema {
namespace {

using Json = nlohmann::json;

EventInput Make(std::string type, std::string data, std::string stream = "run/1") {
  EventInput e;
  e.stream = std::move(stream);
  e.type = std::move(type);
  e.data_json = std::move(data);
  return e;
}

// The JSON view of `e` after encoding, parsed.
Json View(const EventInput& e, uint64_t lsn = 7) {
  auto enc = EncodeEvent(e);
  EXPECT_TRUE(enc.ok()) << e.type << ": " << enc.status().ToString();
  if (!enc.ok()) return Json::object();
  auto json = EventToJson(lsn, 1'700'000'000'000'000'000, *enc);
  EXPECT_TRUE(json.ok()) << json.status().ToString();
  return Json::parse(json.ok() ? *json : "{}");
}

// View -> ParseEnvelopeJson -> EncodeEvent -> view again must give the same view.
void ExpectViewRoundTrips(const Json& view) {
  Json in = view;
  in.erase("lsn");
  in.erase("time");
  auto back = ParseEnvelopeJson(in.dump());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(View(*back, view["lsn"].get<uint64_t>()), view);
}

TEST(CodecTest, EnvelopeRoundTrip) {
  EventInput e = Make("tool.result", R"({"tool":"bash","exit_code":0,"ok":false,"output":"é ✓"})");
  e.id = "abc";
  e.run = "r1";
  e.occurred_ns = 1'600'000'000'123'456'789;
  e.causation = 41;
  auto text = EventToJson(42, 1'700'000'000'000'000'000, *EncodeEvent(e));
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, R"({"lsn":42,"time":"2023-11-14T22:13:20.000000000Z",)"
                   R"("occurred":"2020-09-13T12:26:40.123456789Z","id":"abc","stream":"run/1",)"
                   R"("type":"tool.result","run":"r1","causation":41,)"
                   R"("data":{"tool":"bash","output":"é ✓","exit_code":0,"ok":false}})")
      << "key order is DESIGN.md §4's; an explicit 0/false stays, absent fields stay absent";
  const Json j = Json::parse(*text);

  // The view's string_views point into the payload: keep it alive while they are read.
  const auto payload = EncodeEvent(e);
  ASSERT_TRUE(payload.ok());
  auto v = DecodeEvent(*payload);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->id, "abc");
  EXPECT_EQ(v->stream, "run/1");
  EXPECT_EQ(v->type, "tool.result");
  EXPECT_EQ(v->run, "r1");
  EXPECT_EQ(v->occurred_ns, 1'600'000'000'123'456'789);
  EXPECT_EQ(v->causation, 41u);
  ExpectViewRoundTrips(j);
}

TEST(CodecTest, OptionalEnvelopeFieldsAreLeftOut) {
  const Json j = View(Make("note", R"({"text":"hi"})"));
  EXPECT_FALSE(j.contains("occurred"));
  EXPECT_FALSE(j.contains("run"));
  EXPECT_FALSE(j.contains("causation"));
  EXPECT_EQ(j["id"], "") << "the engine generates ids; schema/ shows what is stored";
  ExpectViewRoundTrips(j);
}

// One realistic example per catalog type, every field set.
const std::pair<const char*, const char*> kExamples[] = {
    {"run.started", R"({"name":"fix #1867","agent":"swe-agent","model":"gpt-4o","task":"Fix it",
                        "meta":{"repo":"a/b","commit":"abc123","max_steps":50}})"},
    {"run.finished", R"({"status":"failed","error":"max steps","summary":"no patch",
                         "meta":{"steps":50}})"},
    {"task.created", R"({"task":"3","parent":"1","name":"run tests","priority":-2,
                         "meta":{"deadline_s":60}})"},
    {"task.ready", R"({"task":"3","reason":"created"})"},
    {"task.started", R"({"task":"3","worker":"w1"})"},
    {"task.yielded", R"({"task":"3","reason":"quantum"})"},
    {"task.waiting", R"({"task":"3","wait_kind":"sleep","waiting_on":"timer",
                         "until":"2026-11-24T06:33:20Z"})"},
    {"task.resumed", R"({"task":"3","reason":"timer fired"})"},
    {"task.succeeded", R"({"task":"3","result":{"passed":42,"files":["a.py"]}})"},
    {"task.failed", R"({"task":"3","error":"2 tests failed","retryable":false})"},
    {"task.retried", R"({"task":"3","attempt":2,"reason":"flaky"})"},
    {"task.cancelled", R"({"task":"3","reason":"run cancelled"})"},
    {"llm.request", R"({"task":"3","call_id":"c1","model":"gpt-4o",
                        "messages":[{"role":"system","content":"You are..."},
                                    {"role":"user","content":[{"type":"text","text":"hi"}]}],
                        "params":{"temperature":0.2,"max_tokens":4096,"tools":["bash"]}})"},
    {"llm.response", R"({"task":"3","call_id":"c1","model":"gpt-4o-2024-08-06","content":"ok",
                         "tool_calls":[{"id":"t1","function":{"name":"bash",
                                        "arguments":"{\"command\":\"ls\"}"}}],
                         "finish_reason":"tool_calls","input_tokens":12000000000,
                         "output_tokens":35,"latency_ms":812.25,"cost_usd":0.0123})"},
    {"llm.error", R"({"task":"3","call_id":"c2","model":"gpt-4o","error":"rate limited",
                      "status":429})"},
    {"tool.call", R"({"task":"3","call_id":"t1","tool":"bash","args":{"command":"pytest -q"}})"},
    {"tool.result", R"({"task":"3","call_id":"t1","tool":"bash","output":"1 failed",
                        "exit_code":-9,"error":"killed","ok":false,"duration_ms":5321.5,
                        "signal":9,"timed_out":true,"cpu_user_ms":12.5,"cpu_sys_ms":3.25,
                        "max_rss_kb":5732,"stdout_bytes":9000000,"stderr_bytes":0,
                        "output_truncated":true,"files_changed":2,
                        "notes":["change of big.bin not recorded"]})"},
    {"tool.output", R"({"task":"3","call_id":"t1","stream":"stdout","seq":0,"offset":0,
                        "text":"/w==","encoding":"base64"})"},
    {"file.write", R"({"task":"3","path":"src/app.py","content":"print(1)\n","base":true,
                       "mode":"100755"})"},
    {"file.patch", R"({"task":"3","path":"src/app.py","diff":"@@ -1 +1 @@\n-a\n+b\n"})"},
    {"file.delete", R"({"task":"3","path":"tmp/x"})"},
    {"file.rename", R"({"task":"3","path":"a.py","to":"b/a.py"})"},
    {"memory.node", R"({"id":"file:a.py","labels":["File","Python"],
                        "props":{"loc":120,"tags":[],"owner":null}})"},
    {"memory.edge", R"({"id":"e1","src":"task:3","rel":"MODIFIES","dst":"file:a.py",
                        "props":{"confidence":0.9},"valid_from":"2026-11-20T10:00:00Z",
                        "valid_to":"2026-11-21T10:00:00Z"})"},
    {"memory.retract", R"({"target":"e1","kind":"edge","reason":"reverted"})"},
    {"note", R"({"task":"3","text":"The bug is in the parser.","kind":"thought"})"},
    {"myapp.deploy", R"({"env":"staging","replicas":[1,2],"ok":true,"nested":{"a":{"b":null}}})"},
};

TEST(CodecTest, OneFullExamplePerTypeRoundTrips) {
  std::set<std::string> covered;
  for (const auto& [type, data] : kExamples) {
    SCOPED_TRACE(type);
    EventInput e = Make(type, data, std::string("run/7/") + type);
    e.run = "7";
    e.id = std::string("id-") + type;
    const Json j = View(e);
    EXPECT_EQ(j["type"], type);
    EXPECT_EQ(j["data"], Json::parse(data)) << j.dump();
    ExpectViewRoundTrips(j);
    covered.insert(type);
  }
  for (const EventTypeInfo& t : Catalog()) {
    EXPECT_TRUE(covered.count(std::string(t.name))) << t.name << " has no example";
  }
}

TEST(CodecTest, EveryCatalogTypeEncodesEmptyData) {
  ASSERT_EQ(Catalog().size(), 26u);
  for (const EventTypeInfo& t : Catalog()) {
    const Json j = View(Make(std::string(t.name), "{}"));
    EXPECT_EQ(j["type"], t.name);
    EXPECT_EQ(j["data"], Json::object()) << t.name;
  }
  EXPECT_EQ(View(Make("myapp.deploy", ""))["data"], Json::object()) << "empty text means {}";
}

TEST(CodecTest, NullMeansAbsent) {
  EXPECT_EQ(View(Make("tool.result", R"({"tool":null,"exit_code":null,"ok":null})"))["data"],
            Json::object());
  EXPECT_EQ(View(Make("tool.call", R"({"tool":"bash","args":null})"))["data"],
            Json::parse(R"({"tool":"bash"})"));
  EXPECT_EQ(View(Make("myapp.x", R"({"a":null})"))["data"], Json::parse(R"({"a":null})"))
      << "inside any-JSON, null is a value";
}

TEST(CodecTest, AnyJsonFieldsKeepExactValues) {
  // FlatBuffers' own text output would print these with 12 fixed decimals (1e-300 -> 0.0).
  const std::string args =
      R"({"pi":3.141592653589793,"tiny":1e-300,"huge":1.7976931348623157e308,"neg":-0.5,)"
      R"("i64max":9223372036854775807,"i64min":-9223372036854775808,"zero":0,"f1":1.0,)"
      R"("list":[1,2.5,null,true,false,"x",{"deep":["y"]}],"empty":{},"none":[],)"
      R"("s":"q\"uote\\back\nline\ttab","ctl":"\u0001\u001b[31mred\u001b[0m\u007f"})";
  const Json j = View(Make("tool.call", R"({"tool":"bash","args":)" + args + "}"));
  EXPECT_EQ(j["data"]["args"], Json::parse(args)) << j.dump();
  EXPECT_TRUE(j["data"]["args"]["f1"].is_number_float()) << "1.0 stays a float";
  EXPECT_TRUE(j["data"]["args"]["zero"].is_number_integer());
  const Json c = View(Make("myapp.deploy", args));
  EXPECT_EQ(c["data"], Json::parse(args));
  ExpectViewRoundTrips(j);
  ExpectViewRoundTrips(c);
}

TEST(CodecTest, TypedDoublesKeepExactValues) {
  const Json j = View(Make(
      "llm.response",
      R"({"latency_ms":0.1234567890123456,"cost_usd":1e-13,"input_tokens":9223372036854775807})"));
  EXPECT_EQ(j["data"]["latency_ms"].get<double>(), 0.1234567890123456);
  EXPECT_EQ(j["data"]["cost_usd"].get<double>(), 1e-13);
  EXPECT_EQ(j["data"]["input_tokens"].get<int64_t>(), std::numeric_limits<int64_t>::max());
  const Json k = View(Make("tool.result", R"({"duration_ms":7})"));
  EXPECT_EQ(k["data"]["duration_ms"], 7.0) << "an integer for a double field is accepted";
}

TEST(CodecTest, ControlCharactersInTypedStringsStayValidJson) {
  // Terminal output is full of ANSI escapes; FlatBuffers' natural_utf8 mode would print them raw.
  const std::string out = "\x1b[1mbold\x1b[0m\x01\x1f\x7f\r\n\t\b\f end";
  Json data = {{"tool", "bash"}, {"output", out}};
  const Json j = View(Make("tool.result", data.dump()));
  EXPECT_EQ(j["data"]["output"], out);
  ExpectViewRoundTrips(j);
}

TEST(CodecTest, UnicodeSurvivesEverywhere) {
  const std::string s =
      "é ✓ 中文 日本語 한국어 עברית العربية 😀👩‍💻 e\u0301 \u200b";
  EventInput e;
  e.stream = "run/" + s;
  e.type = "note";
  e.id = "id-" + s;
  e.run = "ран-" + s;
  e.data_json = Json{{"text", s}, {"kind", "思考"}}.dump();
  const Json j = View(e);
  EXPECT_EQ(j["stream"], "run/" + s);
  EXPECT_EQ(j["id"], "id-" + s);
  EXPECT_EQ(j["run"], "ран-" + s);
  EXPECT_EQ(j["data"]["text"], s);
  EXPECT_EQ(j["data"]["kind"], "思考");
  auto compact = EventToJson(1, 0, *EncodeEvent(e));
  ASSERT_TRUE(compact.ok());
  EXPECT_NE(compact->find("😀"), std::string::npos) << "printed as UTF-8, not \\u escapes";
  ExpectViewRoundTrips(j);

  const Json any = {{"ключ " + s, {s, {{"ü", "ß"}}}}};
  EXPECT_EQ(View(Make("tool.call", Json{{"args", any}}.dump()))["data"]["args"], any);
  EXPECT_EQ(View(Make("myapp.unicode", any.dump()))["data"], any);
}

TEST(CodecTest, MemoryNodeLabelsAreAnArrayOfStrings) {
  const Json j = View(Make("memory.node", R"({"id":"n","labels":["A","Bé",""]})"));
  EXPECT_EQ(j["data"]["labels"], Json::parse(R"(["A","Bé",""])"));
}

TEST(CodecTest, PrettyOutputIsTheSameJson) {
  auto enc = EncodeEvent(Make("tool.call", R"({"tool":"bash","args":{"a":[1,2]}})"));
  ASSERT_TRUE(enc.ok());
  auto compact = EventToJson(3, 5, *enc);
  auto pretty = EventToJson(3, 5, *enc, /*pretty=*/true);
  ASSERT_TRUE(compact.ok() && pretty.ok());
  EXPECT_EQ(compact->find('\n'), std::string::npos);
  EXPECT_NE(pretty->find('\n'), std::string::npos);
  EXPECT_EQ(Json::parse(*compact), Json::parse(*pretty));
}

TEST(CodecTest, ThreadsEncodeAndRenderIndependently) {
  std::vector<std::thread> threads;
  std::atomic<int> bad{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &bad] {
      for (int i = 0; i < 300; ++i) {
        const std::string data = Json{{"task", std::to_string(t)}, {"attempt", i}}.dump();
        auto enc = EncodeEvent(Make("task.retried", data));
        // Interleave failures: a failed parse resets only this thread's parser.
        if (EncodeEvent(Make("task.retried", R"({"attempt":"x"})")).ok()) ++bad;
        if (!enc.ok()) {
          ++bad;
          continue;
        }
        auto json = EventToJson(1, 0, *enc);
        if (!json.ok() || Json::parse(*json)["data"] != Json::parse(data)) ++bad;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(bad.load(), 0);
}

}  // namespace
}  // namespace tink::schema
