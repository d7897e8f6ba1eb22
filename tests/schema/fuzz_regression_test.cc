// Inputs schema_fuzz (tests/fuzz/schema_fuzz.cc) found that crashed, fed to the same code: each
// must come back as InvalidArgument, never an exception or a crash. The inputs are in
// tests/fuzz/regressions/schema_fuzz/ (first byte: the harness's mode).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "schema/event_json.h"
#include "schema/schema.h"

namespace tink::schema {
namespace {

std::string ReadInput(const std::string& name) {
  std::ifstream in(std::string(TINK_FUZZ_REGRESSIONS) + "/schema_fuzz/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A number too large for a double ("8...8e888...8") made nlohmann throw out_of_range, which
// ParseEnvelopeJson did not catch: std::terminate.
TEST(SchemaFuzzRegression, NumberOverflowInEnvelopeIsInvalidArgument) {
  const std::string input = ReadInput("number-overflow");
  ASSERT_GT(input.size(), 1u) << "regression input missing";
  ASSERT_EQ(input[0] & 1, 0) << "an envelope (even mode byte)";
  auto e = ParseEnvelopeJson(std::string_view(input).substr(1));
  ASSERT_FALSE(e.ok());
  EXPECT_TRUE(e.status().IsInvalidArgument()) << e.status().ToString();
  EXPECT_NE(e.status().ToString().find("number"), std::string::npos) << e.status().ToString();
}

// The same number in "data" goes through EncodeEvent's own parse.
TEST(SchemaFuzzRegression, NumberOverflowInDataIsInvalidArgument) {
  EventInput in;
  in.stream = "run/1";
  in.type = "note";
  in.data_json = R"({"text":"x","n":1e999999})";
  auto enc = EncodeEvent(in);
  ASSERT_FALSE(enc.ok());
  EXPECT_TRUE(enc.status().IsInvalidArgument()) << enc.status().ToString();
  auto env = ParseEnvelopeJson(R"({"stream":"run/1","type":"note","data":{"n":-1e999999}})");
  ASSERT_FALSE(env.ok());
  EXPECT_TRUE(env.status().IsInvalidArgument()) << env.status().ToString();
}

// Not a crash: a stored tool.result whose double duration_ms is NaN (only a damaged or hand-made
// payload holds one; JSON cannot say NaN). The JSON view shows it as null and stays valid JSON;
// the GenText reference prints `nan` and so refuses the event (schema_fuzz tolerates exactly
// this difference).
TEST(SchemaFuzzRegression, NonFiniteDoubleShowsAsNull) {
  const std::string input = ReadInput("nan-double-payload");
  ASSERT_GT(input.size(), 1u) << "regression input missing";
  ASSERT_EQ(input[0] & 1, 1) << "a stored payload (odd mode byte)";
  const std::string_view payload = std::string_view(input).substr(1);
  ASSERT_TRUE(DecodeEvent(payload).ok());
  auto text = EventToJson(42, 0, payload);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  const nlohmann::json view = nlohmann::json::parse(*text);
  EXPECT_EQ(view["type"], "");
  EXPECT_TRUE(view["data"]["duration_ms"].is_null()) << *text;
  auto ref = EventToJsonValueViaText(42, 0, payload);
  EXPECT_TRUE(!ref.ok() && ref.status().IsCorruption());
}

}  // namespace
}  // namespace tink::schema
