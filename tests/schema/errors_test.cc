// Strict validation: one clear InvalidArgument line naming what is wrong, for unknown fields,
// wrong value kinds, bad types, bad envelopes and malformed JSON; nothing is silently changed.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "schema/schema.h"

namespace tink::schema {
namespace {

EventInput Make(std::string type, std::string data, std::string stream = "run/1") {
  EventInput e;
  e.stream = std::move(stream);
  e.type = std::move(type);
  e.data_json = std::move(data);
  return e;
}

// The error EncodeEvent gives; fails the test when it succeeds or is not InvalidArgument.
std::string EncodeError(const EventInput& e) {
  auto r = EncodeEvent(e);
  EXPECT_FALSE(r.ok()) << e.type << " " << e.data_json << " was accepted";
  if (r.ok()) return "";
  EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
  EXPECT_EQ(r.status().message().find('\n'), std::string::npos) << "one line";
  return r.status().message();
}

TEST(ErrorsTest, UnknownFieldIsNamedWithASuggestion) {
  EXPECT_EQ(EncodeError(Make("tool.result", R"({"exitcode":1})")),
            "tool.result data: unknown field 'exitcode' (did you mean 'exit_code'?)");
  EXPECT_EQ(EncodeError(Make("note", R"({"text":"a","colour":"red"})")),
            "note data: unknown field 'colour'");
  EXPECT_EQ(EncodeError(Make("memory.edge", R"({"src":"a","relation":"R"})")),
            "memory.edge data: unknown field 'relation'");
}

TEST(ErrorsTest, WrongValueKindsAreNamed) {
  struct Case {
    const char* type;
    const char* data;
    const char* message;
  } cases[] = {
      {"tool.result", R"({"exit_code":"one"})",
       "tool.result data: field 'exit_code' expects an integer, got a string"},
      {"tool.result", R"({"exit_code":"1"})",
       "tool.result data: field 'exit_code' expects an integer, got a string"},
      {"tool.result", R"({"exit_code":1.5})",
       "tool.result data: field 'exit_code' expects an integer, got a number with a fraction"},
      {"tool.result", R"({"exit_code":true})",
       "tool.result data: field 'exit_code' expects an integer, got a boolean"},
      {"tool.result", R"({"exit_code":99999999999})",
       "tool.result data: field 'exit_code' expects a 32-bit integer; 99999999999 does not fit"},
      {"tool.result", R"({"exit_code":-2147483649})",
       "tool.result data: field 'exit_code' expects a 32-bit integer; -2147483649 does not fit"},
      {"llm.response", R"({"input_tokens":18446744073709551615})",
       "llm.response data: field 'input_tokens' expects a 64-bit integer; 18446744073709551615 "
       "does not fit"},
      {"tool.result", R"({"ok":1})",
       "tool.result data: field 'ok' expects true or false, got an "
       "integer"},
      {"tool.result", R"({"tool":5})",
       "tool.result data: field 'tool' expects a string, got an "
       "integer"},
      {"tool.result", R"({"output":["a"]})",
       "tool.result data: field 'output' expects a string, got an array"},
      {"tool.result", R"({"error":{"a":1}})",
       "tool.result data: field 'error' expects a string, got an object"},
      {"llm.response", R"({"latency_ms":"fast"})",
       "llm.response data: field 'latency_ms' expects a number, got a string"},
      {"memory.node", R"({"labels":["a",1]})",
       "memory.node data: field 'labels' expects an array of strings"},
      {"memory.node", R"({"labels":"a"})",
       "memory.node data: field 'labels' expects an array of strings"},
      {"tool.call", R"({"args":{"n":[18446744073709551615]}})",
       "tool.call data: field 'args' holds 18446744073709551615, larger than a 64-bit signed "
       "integer; send it as a string"},
      {"myapp.x", R"({"n":12345678901234567890})",
       "myapp.x data: data holds 12345678901234567890, larger than a 64-bit signed integer; "
       "send it as a string"},
      {"myapp.x", R"({"a\u0000b":1})", "myapp.x data: data has a key containing NUL"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(EncodeError(Make(c.type, c.data)), c.message) << c.data;
  }
}

TEST(ErrorsTest, DataMustBeOneJsonObject) {
  EXPECT_EQ(EncodeError(Make("note", "[1,2]")), "note data: must be a JSON object, not an array");
  EXPECT_EQ(EncodeError(Make("note", R"("text")")),
            "note data: must be a JSON object, not a string");
  EXPECT_EQ(EncodeError(Make("myapp.x", "null")), "myapp.x data: must be a JSON object, not null");
  // Text after the object cannot reach the envelope around it.
  EXPECT_EQ(EncodeError(Make("note", R"({"text":"a"} , "stream":"x")"))
                .find("note data: "
                      "malformed JSON at "
                      "byte 14"),
            0u);
  EXPECT_EQ(EncodeError(Make("note", R"({"text":)")).find("note data: malformed JSON at byte 9:"),
            0u);
}

TEST(ErrorsTest, EnvelopeLimits) {
  EXPECT_EQ(EncodeError(Make("note", "{}", "")), "event has no stream");
  EXPECT_EQ(EncodeError(Make("note", "{}", std::string(1025, 's'))),
            "stream is longer than 1024 bytes");
  EXPECT_TRUE(EncodeEvent(Make("note", "{}", std::string(1024, 's'))).ok());
  EventInput e = Make("note", "{}");
  e.id = std::string(257, 'i');
  EXPECT_EQ(EncodeError(e), "id is longer than 256 bytes");
  e.id = std::string(256, 'i');
  EXPECT_TRUE(EncodeEvent(e).ok());
  e.run = std::string(257, 'r');
  EXPECT_EQ(EncodeError(e), "run is longer than 256 bytes");
  EXPECT_EQ(EncodeError(Make("note", "{}", "bad\xff")), "stream is not valid UTF-8");
  EXPECT_EQ(EncodeError(Make("note", "{\"text\":\"bad\xc3\"}")).find("note data: malformed JSON"),
            0u);
}

TEST(ErrorsTest, NestingIsLimitedWithoutCrashing) {
  auto nested = [](int levels) {  // `levels` containers, the data object included
    return std::string("{\"a\":") + std::string(levels - 1, '[') + "1" +
           std::string(levels - 1, ']') + "}";
  };
  EXPECT_TRUE(EncodeEvent(Make("myapp.deep", nested(50))).ok());
  EXPECT_EQ(EncodeError(Make("myapp.deep", nested(51))),
            "myapp.deep data: nests deeper than 50 levels");
  const std::string args = "{\"args\":" + nested(49) + "}";
  EXPECT_TRUE(EncodeEvent(Make("tool.call", args)).ok());
  EXPECT_EQ(EncodeError(Make("tool.call", "{\"args\":" + nested(50) + "}")),
            "tool.call data: nests deeper than 50 levels");
  EXPECT_EQ(EncodeError(Make("myapp.deep", nested(200000))),
            "myapp.deep data: nests deeper than 50 levels");

  auto env = ParseEnvelopeJson(R"({"stream":"s","type":"myapp.deep","data":)" + nested(50) + "}");
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  EXPECT_TRUE(EncodeEvent(*env).ok());
  auto deep = ParseEnvelopeJson(R"({"stream":"s","type":"x.y","data":)" + nested(200000) + "}");
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.status().message(), "'data' nests deeper than 50 levels");
}

TEST(ErrorsTest, RepeatedKeysKeepTheLastValueAndTheParserStaysUsable) {
  auto enc = EncodeEvent(Make("tool.result", R"({"exit_code":1,"exit_code":2})"));
  ASSERT_TRUE(enc.ok()) << enc.status().ToString();
  auto json = EventToJson(1, 0, *enc);
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(nlohmann::json::parse(*json)["data"]["exit_code"], 2);
  EXPECT_FALSE(EncodeEvent(Make("tool.result", R"({"exit_code":"x"})")).ok());
  EXPECT_TRUE(EncodeEvent(Make("tool.result", R"({"exit_code":1})")).ok());
}

TEST(ErrorsTest, EventTypeRules) {
  for (const char* ok : {"tool.result", "note", "myapp.deploy", "a.b-c.d_e", "x1.y2.z3",
                         "note.personal", "bot.call" /* 2 edits from tool.call, still custom */}) {
    EXPECT_TRUE(CheckEventType(ok).ok()) << ok << ": " << CheckEventType(ok).ToString();
  }
  EXPECT_EQ(CheckEventType("tool.reslt").message(),
            "unknown event type 'tool.reslt' (did you mean 'tool.result'?); see docs/events.md "
            "for the catalog");
  EXPECT_EQ(CheckEventType("task.explode").message(),
            "unknown event type 'task.explode'; see docs/events.md for the catalog");
  EXPECT_NE(CheckEventType("Tool.Result").message().find("did you mean 'tool.result'?"),
            std::string::npos);
  EXPECT_EQ(CheckEventType("").message(), "event has no type");
  for (const char* bad : {"memory.foo", "canvas.x", "run.", "nodots", "Bad.Case", "a..b", "a.",
                          ".a", "a b.c", "x.y/z", "1a.b", "é.b"}) {
    const Status s = CheckEventType(bad);
    EXPECT_TRUE(s.IsInvalidArgument()) << bad;
  }
  EXPECT_FALSE(CheckEventType("a." + std::string(200, 'b')).ok()) << "at most 128 bytes";
  EXPECT_EQ(EncodeError(Make("tool.reslt", "{}")),
            "unknown event type 'tool.reslt' (did you mean 'tool.result'?); see docs/events.md "
            "for the catalog");
}

TEST(ErrorsTest, EnvelopeParsing) {
  auto ok = ParseEnvelopeJson(
      R"({"stream":"s","type":"note","id":"i","run":"r","occurred":"2026-11-20T10:00:00Z",)"
      R"("causation":41,"data":{"text":"x"}})");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->stream, "s");
  EXPECT_EQ(ok->type, "note");
  EXPECT_EQ(ok->id, "i");
  EXPECT_EQ(ok->run, "r");
  EXPECT_EQ(ok->occurred_ns, 1'795'168'800'000'000'000);  // date -u -d ... +%s
  EXPECT_EQ(ok->causation, 41u);
  EXPECT_EQ(nlohmann::json::parse(ok->data_json), nlohmann::json::parse(R"({"text":"x"})"));
  auto minimal = ParseEnvelopeJson(R"({"stream":"s","type":"note","causation":0})");
  ASSERT_TRUE(minimal.ok());
  EXPECT_EQ(minimal->data_json, "{}");
  EXPECT_EQ(minimal->causation, 0u) << "0 is 'no causation'";

  struct Case {
    const char* json;
    const char* message;
  } cases[] = {
      {R"({"stream":"s","type":"note")",
       "malformed JSON at byte 28: syntax error while parsing object - unexpected end of input; "
       "expected '}'"},
      {"",
       "malformed JSON at byte 1: syntax error while parsing value - unexpected end of input; "
       "expected '[', '{', or a literal"},
      {R"({"stream":"s","type":"note","lsn":3})", "'lsn' is assigned by the engine; leave it out"},
      {R"({"stream":"s","type":"note","time":"x"})",
       "'time' is assigned by the engine; leave it out"},
      {R"({"stream":"s","type":"note","colour":1})",
       "unknown envelope field 'colour' (expected stream, type, data, id, run, occurred, "
       "causation)"},
      {R"({"type":"note"})", "missing 'stream'"},
      {R"({"stream":"s"})", "missing 'type'"},
      {R"({"stream":1,"type":"note"})", "'stream' must be a string"},
      {R"({"stream":"s","type":"note","data":[1]})", "'data' must be a JSON object"},
      {R"({"stream":"s","type":"note","causation":-1})",
       "'causation' must be an LSN (a non-negative integer)"},
      {R"({"stream":"s","type":"note","causation":1.5})",
       "'causation' must be an LSN (a non-negative integer)"},
      {R"([1,2])", "an event must be a JSON object"},
  };
  for (const Case& c : cases) {
    auto r = ParseEnvelopeJson(c.json);
    ASSERT_FALSE(r.ok()) << c.json;
    EXPECT_TRUE(r.status().IsInvalidArgument());
    EXPECT_EQ(r.status().message(), c.message) << c.json;
  }
  auto bad_time = ParseEnvelopeJson(R"({"stream":"s","type":"note","occurred":"yesterday"})");
  ASSERT_FALSE(bad_time.ok());
  EXPECT_EQ(bad_time.status().message().find("bad time 'yesterday'"), 0u);
}

// The UTF-8 check of envelope strings agrees with nlohmann's (which prints every stored string):
// short random byte strings, biased towards multi-byte sequences, edge cases included.
TEST(ErrorsTest, Utf8CheckAgreesWithTheJsonPrinter) {
  std::mt19937 rng(1206);
  const std::vector<std::string> edges = {
      "", "a", "\xc3\xa9", "\xc3", "\xe2\x82\xac", "\xe2\x82", "\xf0\x9f\x98\x80", "\xf0\x9f\x98",
      "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xff", "\x80", std::string("a\0b", 3)};
  std::vector<std::string> cases = edges;
  const unsigned char pool[] = {'a', 0x00, 0x7f, 0x80, 0xbf, 0xc2, 0xc3, 0xdf, 0xe0, 0xe2,
                                0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff, 0x82, 0xa0};
  for (int i = 0; i < 20000; ++i) {
    std::string s(rng() % 7, '\0');
    for (char& c : s) c = static_cast<char>(pool[rng() % sizeof(pool)]);
    cases.push_back(s);
  }
  for (const std::string& s : cases) {
    bool printable = true;
    try {
      (void)nlohmann::json(s).dump();
    } catch (const nlohmann::json::type_error&) {
      printable = false;
    }
    EventInput e = Make("note", "{}");
    e.id = "id-" + s;
    auto r = EncodeEvent(e);
    std::string hex;
    for (unsigned char c : s) hex += "0123456789abcdef"[c >> 4], hex += "0123456789abcdef"[c & 15];
    ASSERT_EQ(r.ok(), printable) << "bytes " << hex << ": " << r.status().ToString();
  }
}

}  // namespace
}  // namespace tink::schema
