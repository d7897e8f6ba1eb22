// Stored payloads that are damaged or foreign: the Verifier turns them into Corruption (never a
// crash), and whatever passes it is still safe to decode and render.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "schema/event_generated.h"
#include "schema/event_json.h"
#include "schema/schema.h"

namespace tink::schema {
namespace {

std::string Encoded(std::string type, std::string data) {
  EventInput e;
  e.id = "id-1";
  e.stream = "run/1/task/2";
  e.type = std::move(type);
  e.run = "1";
  e.occurred_ns = 1'700'000'000'000'000'000;
  e.causation = 9;
  e.data_json = std::move(data);
  auto r = EncodeEvent(e);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : "";
}

// Decodes and renders `bytes`: either both fail as Corruption, or both succeed. Returns whether
// the bytes were accepted.
bool CheckDamaged(const std::string& bytes) {
  auto view = DecodeEvent(bytes);
  auto json = EventToJson(1, 0, bytes);
  // The envelope-only decode checks less (not the payload): it accepts whatever DecodeEvent
  // accepts, with the same fields, and refuses only as Corruption.
  auto env = DecodeEnvelope(bytes);
  if (view.ok()) {
    EXPECT_TRUE(env.ok()) << env.status().ToString();
    if (env.ok()) {
      EXPECT_EQ(env->id, view->id);
      EXPECT_EQ(env->stream, view->stream);
      EXPECT_EQ(env->type, view->type);
      EXPECT_EQ(env->run, view->run);
      EXPECT_EQ(env->occurred_ns, view->occurred_ns);
      EXPECT_EQ(env->causation, view->causation);
    }
  } else if (!env.ok()) {
    EXPECT_TRUE(env.status().IsCorruption()) << env.status().ToString();
  }
  if (!view.ok()) {
    EXPECT_TRUE(view.status().IsCorruption()) << view.status().ToString();
    EXPECT_FALSE(json.ok());
    EXPECT_TRUE(json.status().IsCorruption()) << json.status().ToString();
    return false;
  }
  // The direct reading agrees with the one through the text printer, damage or not.
  auto direct = EventToJsonValue(1, 0, bytes);
  auto via_text = EventToJsonValueViaText(1, 0, bytes);
  EXPECT_EQ(direct.ok(), via_text.ok());
  if (direct.ok() && via_text.ok()) {
    EXPECT_EQ(direct->dump(), via_text->dump());
  } else if (!direct.ok()) {
    EXPECT_TRUE(direct.status().IsCorruption() || direct.status().code() == Code::kNotSupported)
        << direct.status().ToString();
  }
  // Accepted by the Verifier: rendering may still refuse (invalid UTF-8), never crash.
  if (json.ok()) {
    EXPECT_TRUE(nlohmann::json::accept(*json)) << *json;
  } else {
    EXPECT_TRUE(json.status().IsCorruption() || json.status().code() == Code::kNotSupported)
        << json.status().ToString();
  }
  return true;
}

const std::pair<const char*, const char*> kSamples[] = {
    {"tool.call", R"({"tool":"bash","call_id":"c","args":{"cmd":"make","n":[1,2.5,-3],"m":{}}})"},
    {"llm.response", R"({"model":"m","content":"hé","input_tokens":5,"latency_ms":1.5,
                         "tool_calls":[{"id":"t","args":{"a":"b"}}]})"},
    {"memory.node", R"({"id":"n","labels":["A","B"],"props":{"x":true,"y":null}})"},
    {"myapp.custom", R"({"k":"v","list":[[1],[2,[3]]],"f":0.25})"},
};

TEST(DamageTest, EveryTruncationIsCorruptionOrLosesNothing) {
  for (const auto& [type, data] : kSamples) {
    const std::string good = Encoded(type, data);
    ASSERT_TRUE(CheckDamaged(good)) << type;
    const std::string want = *EventToJson(1, 0, good);
    int rejected = 0;
    for (size_t len = 0; len < good.size(); ++len) {
      const std::string cut = good.substr(0, len);
      auto r = DecodeEvent(cut);
      if (!r.ok()) {
        EXPECT_TRUE(r.status().IsCorruption());
        EXPECT_TRUE(EventToJson(1, 0, cut).status().IsCorruption());
        ++rejected;
        continue;
      }
      // Only alignment padding at the end, which nothing refers to, may go unnoticed.
      EXPECT_GE(len + 8, good.size()) << type << " truncated to " << len << " bytes was accepted";
      auto json = EventToJson(1, 0, cut);
      ASSERT_TRUE(json.ok()) << json.status().ToString();
      EXPECT_EQ(*json, want);
    }
    EXPECT_GE(rejected + 8, static_cast<int>(good.size())) << type;
  }
}

TEST(DamageTest, ByteFlipsAreCorruptionOrStillSafe) {
  std::mt19937 rng(20261124);
  for (const auto& [type, data] : kSamples) {
    const std::string good = Encoded(type, data);
    int rejected = 0;
    // Every byte, three ways.
    for (size_t pos = 0; pos < good.size(); ++pos) {
      for (uint8_t x : {0x01, 0x80, 0xff}) {
        std::string bad = good;
        bad[pos] = static_cast<char>(bad[pos] ^ x);
        rejected += CheckDamaged(bad) ? 0 : 1;
      }
    }
    // A few hundred random multi-byte damages.
    for (int i = 0; i < 300; ++i) {
      std::string bad = good;
      const int n = 1 + static_cast<int>(rng() % 4);
      for (int k = 0; k < n; ++k) bad[rng() % bad.size()] = static_cast<char>(rng());
      rejected += CheckDamaged(bad) ? 0 : 1;
    }
    EXPECT_GT(rejected, 0) << type;
  }
}

TEST(DamageTest, GarbageIsCorruption) {
  std::mt19937 rng(7);
  for (int i = 0; i < 500; ++i) {
    std::string junk(rng() % 200, '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    CheckDamaged(junk);
  }
  EXPECT_TRUE(DecodeEvent("").status().IsCorruption());
  EXPECT_TRUE(DecodeEvent(std::string(64, '\0')).status().IsCorruption());
  EXPECT_TRUE(DecodeEnvelope("").status().IsCorruption());
  EXPECT_TRUE(DecodeEnvelope(std::string(64, '\0')).status().IsCorruption());
}

TEST(DamageTest, UnalignedPayloadsDecodeIntoTheCallersBytes) {
  const std::string good = Encoded("tool.call", R"({"tool":"bash","args":{"x":1}})");
  auto want = EventToJson(5, 6, good);
  ASSERT_TRUE(want.ok());
  for (size_t shift = 1; shift < 8; ++shift) {
    std::string holder(shift, 'x');
    holder += good;
    const std::string_view unaligned(holder.data() + shift, good.size());
    auto view = DecodeEvent(unaligned);
    ASSERT_TRUE(view.ok()) << shift << ": " << view.status().ToString();
    EXPECT_EQ(view->stream, "run/1/task/2");
    EXPECT_GE(view->stream.data(), unaligned.data()) << "views point into the caller's bytes";
    EXPECT_LT(view->stream.data(), unaligned.data() + unaligned.size());
    auto json = EventToJson(5, 6, unaligned);
    ASSERT_TRUE(json.ok());
    EXPECT_EQ(*json, *want);
  }
}

TEST(DamageTest, UnknownPayloadTypeFromANewerWriterIsNotSupported) {
  flatbuffers::FlatBufferBuilder fbb;
  auto note = fb::CreateNoteDirect(fbb, "t", "text", "k");
  auto ev =
      fb::CreateEventDirect(fbb, "id", "s", "future.type", nullptr, flatbuffers::nullopt,
                            flatbuffers::nullopt, static_cast<fb::Payload>(200), note.Union());
  fb::FinishEventBuffer(fbb, ev);
  const std::string bytes(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
  auto view = DecodeEvent(bytes);
  ASSERT_TRUE(view.ok()) << "the Verifier lets unknown union members through";
  EXPECT_EQ(view->type, "future.type");
  auto json = EventToJson(3, 0, bytes);
  ASSERT_FALSE(json.ok());
  EXPECT_EQ(json.status().code(), Code::kNotSupported);
  EXPECT_NE(json.status().message().find("event at LSN 3"), std::string::npos);
}

TEST(DamageTest, InvalidUtf8ThatPassesTheVerifierIsCorruptionWhenShown) {
  flatbuffers::FlatBufferBuilder fbb;
  auto note = fb::CreateNoteDirect(fbb, "t", "bad \xff text", "k");
  auto ev = fb::CreateEventDirect(fbb, "id", "s", "note", nullptr, flatbuffers::nullopt,
                                  flatbuffers::nullopt, fb::Payload::Note, note.Union());
  fb::FinishEventBuffer(fbb, ev);
  const std::string bytes(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
  auto json = EventToJson(3, 0, bytes);
  ASSERT_FALSE(json.ok());
  EXPECT_TRUE(json.status().IsCorruption()) << json.status().ToString();

  flatbuffers::FlatBufferBuilder fbb2;
  auto ev2 = fb::CreateEventDirect(fbb2, "id", "bad \xfe stream", "note");
  fb::FinishEventBuffer(fbb2, ev2);
  const std::string bytes2(reinterpret_cast<const char*>(fbb2.GetBufferPointer()), fbb2.GetSize());
  auto json2 = EventToJson(4, 0, bytes2);
  ASSERT_FALSE(json2.ok());
  EXPECT_TRUE(json2.status().IsCorruption()) << json2.status().ToString();
}

}  // namespace
}  // namespace tink::schema
