// The fast encoding path (schema/fast_codec.cc) against the reference (nlohmann +
// flatbuffers::Parser): where the fast path accepts, the stored event must read back exactly as
// the reference's; where it declines, EncodeEvent must give the reference's answer or error. And
// the fast path must actually take the common events (else it is dead code that looks fast).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "schema/internal/catalog.h"
#include "schema/internal/fast_codec.h"
#include "schema/schema.h"

namespace tink::schema {
namespace {

using Json = nlohmann::json;

EventInput Make(std::string type, std::string data) {
  EventInput e;
  e.stream = "run/1/task/1";
  e.type = std::move(type);
  e.data_json = std::move(data);
  e.run = "1";
  e.id = "id-1";
  e.occurred_ns = 1'600'000'000'000'000'001;
  e.causation = 9;
  return e;
}

std::string View(const std::string& payload) {
  auto j = EventToJson(3, 1'700'000'000'000'000'000, payload);
  EXPECT_TRUE(j.ok()) << j.status().ToString();
  return j.ok() ? *j : "";
}

// EncodeEvent (fast where it can) and the reference agree: same error text, or the same view.
// Returns whether the fast path took the event.
bool ExpectSame(const EventInput& e) {
  SCOPED_TRACE(e.type + " " + e.data_json);
  auto got = EncodeEvent(e);
  auto ref = EncodeEventViaParser(e);
  EXPECT_EQ(got.ok(), ref.ok()) << (got.ok() ? ref.status() : got.status()).ToString();
  if (!got.ok() && !ref.ok()) {
    EXPECT_EQ(got.status().ToString(), ref.status().ToString());
  }
  if (!got.ok() || !ref.ok()) return false;
  EXPECT_EQ(View(*got), View(*ref));
  auto fast = internal::EncodeEventFast(e, FindCatalogType(e.type));
  if (fast.has_value()) {
    EXPECT_EQ(View(*fast), View(*ref));
  }
  return fast.has_value();
}

TEST(FastCodecTest, TakesEveryCatalogTypeAndCustom) {
  const std::pair<const char*, const char*> examples[] = {
      {"run.started", R"({"name":"fix","agent":"a","model":"m","task":"Fix it",)"
                      R"("meta":{"k":[1,2.5,"x",null,true]}})"},
      {"task.created",
       R"({"task":"3","parent":"1","name":"run tests","priority":-2147483648,"meta":{}})"},
      {"task.succeeded", R"({"task":"3","result":{"passed":42,"files":["a.py"]}})"},
      {"task.failed", R"({"task":"3","error":"boom","retryable":false})"},
      {"task.retried", R"({"task":"3","attempt":2147483647})"},
      {"llm.request", R"({"task":"3","call_id":"c1","model":"m","messages":[{"role":"user",)"
                      R"("content":"hi \u00e9 \ud83d\ude00"}],"params":{"temperature":0.2},)"
                      R"("stream":true})"},
      {"llm.response", R"({"content":"ok","input_tokens":-9223372036854775808,)"
                       R"("output_tokens":9223372036854775807,"latency_ms":1e-300,"cost_usd":12,)"
                       R"("ttft_ms":1.7976931348623157e308,"status":200,"raw":{"a":[[[]]]}})"},
      {"tool.result", R"({"task":"3","output":"x\u0000y\n\t\"\\","exit_code":0,"ok":true,)"
                      R"("duration_ms":-0.0})"},
      {"memory.node", R"({"id":"n","labels":[],"props":{"loc":-0,"z":0.1,"a":{"b":{"c":"d"}}}})"},
      {"memory.node", R"({"id":"n","labels":["A","B",""]})"},
      {"note", R"({"text":"","task":null})"},
      {"note", "{}"},
      {"note", ""},
      {"myapp.deploy", R"({"env":"staging","replicas":[1,2],"ok":true,"nested":{"a":{"b":null}}})"},
      {"myapp.deploy", "{}"},
  };
  for (const auto& [type, data] : examples) {
    EXPECT_TRUE(ExpectSame(Make(type, data))) << type << " " << data << ": declined";
  }
  // Every field of the ulong envelope and a payload ulong at its maximum.
  EventInput e = Make("note", R"({"text":"t"})");
  e.causation = UINT64_MAX;
  e.id.clear();
  e.run.clear();
  e.occurred_ns = 0;
  EXPECT_TRUE(ExpectSame(e));
}

TEST(FastCodecTest, DeclinesWhatOnlyTheReferenceMayAnswer) {
  const std::pair<const char*, const char*> cases[] = {
      {"note", R"({"text":"a","text":"b"})"},           // duplicate: the last wins
      {"note", R"({"text":"a","text":null})"},          // ...even when it is null
      {"run.started", R"({"meta":{"k":1,"k":2}})"},     // duplicate inside any-JSON
      {"note", R"({"txt":"a"})"},                       // unknown field (error names it)
      {"note", R"({"text":1})"},                        // wrong kind
      {"task.retried", R"({"attempt":2147483648})"},    // past int32
      {"llm.response", R"({"input_tokens":9223372036854775808})"},  // past int64
      {"llm.response", R"({"input_tokens":1.0})"},      // a fraction for an integer
      {"run.started", R"({"meta":{"n":18446744073709551615}})"},    // FlexBuffers cannot hold it
      {"run.started", R"({"meta":{"n":1e999}})"},       // out of range
      {"run.started", "{\"meta\":{\"a\\u0000b\":1}}"},  // NUL in a key
      {"note", R"({"text":"\ud800"})"},                 // lone surrogate
      {"note", "[1]"},                                  // not an object
      {"note", R"({"text":"a"} x)"},                    // trailing text
      {"note", "\xef\xbb\xbf{}"},                       // BOM (nlohmann skips it)
      {"memory.node", R"({"labels":["a",1]})"},
      {"myapp.deploy", R"({"a":{"a":1,"a":2}})"},
  };
  for (const auto& [type, data] : cases) {
    const EventInput e = Make(type, data);
    EXPECT_FALSE(internal::EncodeEventFast(e, FindCatalogType(e.type)).has_value())
        << type << " " << data;
    ExpectSame(e);
  }
}

TEST(FastCodecTest, NestingLimitIsTheReferences) {
  for (int depth : {48, 49, 50, 51, 52, 200}) {
    std::string meta;
    for (int i = 1; i < depth; ++i) meta += "[";  // data is level 1
    for (int i = 1; i < depth; ++i) meta += "]";
    ExpectSame(Make("myapp.deep", "{\"a\":" + (meta.empty() ? "1" : meta) + "}"));
    ExpectSame(Make("run.started", "{\"meta\":" + (meta.empty() ? "1" : meta) + "}"));
  }
}

// Random data against random types: the paths must agree on every one.
TEST(FastCodecTest, RandomDataAgrees) {
  std::mt19937_64 rng(1234);
  const std::vector<std::string> keys = {"task", "text", "meta", "props", "labels", "attempt",
                                         "input_tokens", "latency_ms", "ok", "retryable", "x",
                                         "status", "call_id", "stream", "raw", "id"};
  const std::vector<std::string> scalars = {
      "0", "-0", "1", "-1", "2147483647", "-2147483649", "9223372036854775807",
      "18446744073709551615", "0.5", "-0.0", "1e-320", "3.141592653589793", "true", "false",
      "null", R"("")", R"("a\nb")", R"("é")", R"("\u0001")", "1E5", "-1.5e-7"};
  std::function<std::string(int)> value = [&](int depth) -> std::string {
    const int pick = static_cast<int>(rng() % (depth > 3 ? 1 : 4));
    if (pick == 0 || pick == 3) return scalars[rng() % scalars.size()];
    std::string s = pick == 1 ? "{" : "[";
    const int n = static_cast<int>(rng() % 4);
    for (int i = 0; i < n; ++i) {
      if (i) s += ",";
      if (pick == 1) s += "\"" + keys[rng() % keys.size()] + "\":";
      s += value(depth + 1);
    }
    return s + (pick == 1 ? "}" : "]");
  };
  const auto catalog = Catalog();
  int taken = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string data = "{";
    const int n = static_cast<int>(rng() % 4);
    for (int k = 0; k < n; ++k) {
      if (k) data += ",";
      data += "\"" + keys[rng() % keys.size()] + "\":" + value(1);
    }
    data += "}";
    const std::string type =
        rng() % 5 == 0 ? "myapp.random" : std::string(catalog[rng() % catalog.size()].name);
    taken += ExpectSame(Make(type, data)) ? 1 : 0;
  }
  EXPECT_GT(taken, 300) << "the fast path should take a good share of random valid events";
}

TEST(FastCodecTest, EnvelopeParsingAgrees) {
  const char* lines[] = {
      R"({"stream":"s","type":"note","data":{"text":"hi","task":"1"},"id":"x","run":"r",)"
      R"("occurred":"2026-01-02T03:04:05.5Z","causation":7})",
      R"({"type":"note","stream":"s"})",
      R"({"stream":"s","type":"myapp.x","data":{"b":[1,{"c":null}],"a":1.25e-5}})",
      R"({"stream":"s","type":"note","causation":18446744073709551615})",
      R"({"stream":"s","type":"note","stream":"t"})",    // duplicate
      R"({"stream":"s","type":"note","lsn":3})",         // engine-assigned
      R"({"stream":"s","type":"note","causation":-1})",
      R"({"stream":"s","type":"note","occurred":"yesterday"})",
      R"({"stream":"s","type":"note","data":[]})",
      R"({"stream":"s","type":"note","bogus":1})",
      R"({"stream":"","type":"note"})",
      R"({"stream":"s"})",
      R"([])",
      R"({"stream":"s","type":"note",)",
  };
  for (const char* line : lines) {
    SCOPED_TRACE(line);
    auto got = ParseEnvelopeJson(line);
    auto ref = ParseEnvelopeJsonViaDom(line);
    ASSERT_EQ(got.ok(), ref.ok());
    if (!got.ok()) {
      EXPECT_EQ(got.status().ToString(), ref.status().ToString());
      continue;
    }
    EXPECT_EQ(got->stream, ref->stream);
    EXPECT_EQ(got->type, ref->type);
    EXPECT_EQ(got->id, ref->id);
    EXPECT_EQ(got->run, ref->run);
    EXPECT_EQ(got->occurred_ns, ref->occurred_ns);
    EXPECT_EQ(got->causation, ref->causation);
    EXPECT_EQ(Json::parse(got->data_json), Json::parse(ref->data_json));
  }
  EXPECT_TRUE(internal::ParseEnvelopeFast(lines[0]).has_value());
  EXPECT_FALSE(internal::ParseEnvelopeFast(lines[4]).has_value());
}

}  // namespace
}  // namespace tink::schema
