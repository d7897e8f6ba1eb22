// JSON <-> FlatBuffers: round trips for every catalog type and custom types, strict validation,
// and the Verifier on damaged payloads.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

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

nlohmann::json View(const EventInput& e, uint64_t lsn = 7) {
  auto enc = EncodeEvent(e);
  EXPECT_TRUE(enc.ok()) << enc.status().ToString();
  auto json = EventToJson(lsn, 1'700'000'000'000'000'000, enc.ok() ? *enc : "");
  EXPECT_TRUE(json.ok()) << json.status().ToString();
  return nlohmann::json::parse(json.ok() ? *json : "{}");
}

TEST(CodecTest, EnvelopeRoundTrip) {
  EventInput e = Make("tool.result", R"({"tool":"bash","exit_code":0,"ok":false,"output":"é ✓"})");
  e.id = "abc";
  e.run = "r1";
  e.occurred_ns = 1'600'000'000'123'456'789;
  e.causation = 41;
  auto j = View(e, 42);
  EXPECT_EQ(j["lsn"], 42);
  EXPECT_EQ(j["time"], "2023-11-14T22:13:20.000000000Z");
  EXPECT_EQ(j["occurred"], "2020-09-13T12:26:40.123456789Z");
  EXPECT_EQ(j["id"], "abc");
  EXPECT_EQ(j["run"], "r1");
  EXPECT_EQ(j["causation"], 41);
  EXPECT_EQ(j["data"]["exit_code"], 0) << "an explicit 0 must not vanish";
  EXPECT_EQ(j["data"]["ok"], false);
  EXPECT_EQ(j["data"]["output"], "é ✓");
  EXPECT_FALSE(j["data"].contains("error")) << "absent fields stay absent";

  auto v = DecodeEvent(*EncodeEvent(e));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->stream, "run/1");
  EXPECT_EQ(v->type, "tool.result");
  EXPECT_EQ(v->causation, 41u);

  // The JSON view parses back into the same event.
  nlohmann::json in = j;
  in.erase("lsn");
  in.erase("time");
  auto back = ParseEnvelopeJson(in.dump());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(View(*back, 42), j);
}

TEST(CodecTest, EveryCatalogTypeEncodesEmptyData) {
  for (const EventTypeInfo& t : Catalog()) {
    auto j = View(Make(std::string(t.name), "{}"));
    EXPECT_EQ(j["type"], t.name);
    EXPECT_TRUE(j["data"].empty()) << t.name;
  }
  EXPECT_EQ(Catalog().size(), 25u);
}

TEST(CodecTest, AnyJsonFieldsAndCustomTypesKeepTheirJson) {
  const std::string args = R"({"cmd":"ls","n":[1,2.5,null,true,{"deep":["x"]}],"s":"q\"uote"})";
  auto j = View(Make("tool.call", R"({"tool":"bash","args":)" + args + "}"));
  EXPECT_EQ(j["data"]["args"], nlohmann::json::parse(args));
  auto c = View(Make("myapp.deploy", args));
  EXPECT_EQ(c["data"], nlohmann::json::parse(args));
  EXPECT_EQ(c["type"], "myapp.deploy");
}

TEST(CodecTest, StrictValidation) {
  auto unknown = EncodeEvent(Make("tool.result", R"({"exitcode":1})"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("exitcode"), std::string::npos);
  auto wrong = EncodeEvent(Make("tool.result", R"({"exit_code":"one"})"));
  ASSERT_FALSE(wrong.ok());
  EXPECT_TRUE(wrong.status().IsInvalidArgument());
  EXPECT_FALSE(EncodeEvent(Make("tool.result", R"([1,2])")).ok()) << "data must be an object";
  EXPECT_FALSE(EncodeEvent(Make("note", R"({"text":"a"} , "stream":"x")")).ok());
  EXPECT_FALSE(EncodeEvent(Make("note", "{}", "")).ok()) << "stream is required";
  EXPECT_FALSE(EncodeEvent(Make("note", "{}", std::string(2000, 's'))).ok());
  // The parser is usable again after an error.
  EXPECT_TRUE(EncodeEvent(Make("tool.result", R"({"exit_code":1})")).ok());
}

TEST(CodecTest, EventTypeRules) {
  EXPECT_TRUE(CheckEventType("tool.result").ok());
  EXPECT_TRUE(CheckEventType("note").ok());
  EXPECT_TRUE(CheckEventType("myapp.deploy").ok());
  EXPECT_TRUE(CheckEventType("a.b-c.d_e").ok());
  auto near = CheckEventType("tool.reslt");
  ASSERT_FALSE(near.ok());
  EXPECT_NE(near.message().find("did you mean 'tool.result'"), std::string::npos);
  for (const char* bad : {"task.explode", "memory.foo", "canvas.x", "", "nodots", "Bad.Case",
                          "a..b", "a.", ".a", "a b.c", "x.y/z"}) {
    EXPECT_FALSE(CheckEventType(bad).ok()) << bad;
  }
}

TEST(CodecTest, EnvelopeParsingErrors) {
  EXPECT_TRUE(ParseEnvelopeJson(R"({"stream":"s","type":"note"})").ok());
  struct Case {
    const char* json;
    const char* says;
  } cases[] = {
      {R"({"stream":"s","type":"note")", "malformed JSON"},
      {R"({"stream":"s","type":"note","lsn":3})", "assigned by the engine"},
      {R"({"stream":"s","type":"note","time":"x"})", "assigned by the engine"},
      {R"({"stream":"s","type":"note","colour":1})", "unknown envelope field 'colour'"},
      {R"({"type":"note"})", "missing 'stream'"},
      {R"({"stream":"s"})", "missing 'type'"},
      {R"({"stream":1,"type":"note"})", "'stream' must be a string"},
      {R"({"stream":"s","type":"note","data":[1]})", "'data' must be a JSON object"},
      {R"({"stream":"s","type":"note","causation":-1})", "'causation'"},
      {R"({"stream":"s","type":"note","occurred":"yesterday"})", "bad time"},
      {R"([1,2])", "must be a JSON object"},
  };
  for (const Case& c : cases) {
    auto r = ParseEnvelopeJson(c.json);
    ASSERT_FALSE(r.ok()) << c.json;
    EXPECT_NE(r.status().message().find(c.says), std::string::npos)
        << c.json << " -> " << r.status().ToString();
  }
}

TEST(CodecTest, VerifierRejectsDamagedPayloadsWithoutCrashing) {
  EventInput e = Make("tool.call", R"({"tool":"bash","args":{"cmd":"make","n":[1,2,3]}})");
  e.id = "id-1";
  const std::string good = *EncodeEvent(e);
  ASSERT_TRUE(DecodeEvent(good).ok());
  for (size_t len = 0; len < good.size(); ++len) {
    auto r = DecodeEvent(std::string_view(good.data(), len));
    if (!r.ok()) {
      EXPECT_TRUE(r.status().IsCorruption());
    }
  }
  int rejected = 0;
  for (size_t pos = 0; pos < good.size(); ++pos) {
    for (uint8_t x : {0x01, 0x80, 0xff}) {
      std::string bad = good;
      bad[pos] = static_cast<char>(bad[pos] ^ x);
      auto r = DecodeEvent(bad);
      if (!r.ok()) {
        EXPECT_TRUE(r.status().IsCorruption());
        ++rejected;
      } else {
        // Whatever passes the Verifier must still be safe to render.
        (void)EventToJson(1, 0, bad);
      }
    }
  }
  EXPECT_GT(rejected, 0);
}

}  // namespace
}  // namespace tink::schema
