// docs/events.md stays true: every ```json block encodes; a block that shows a stored event (it
// has "lsn" and "time") must be exactly what EventToJson prints for it, key order included; an
// input block must come back with the same data. Every catalog type has a section.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "schema/event_json.h"
#include "schema/schema.h"

namespace tink::schema {
namespace {

using OJson = nlohmann::ordered_json;

std::string Doc() {
  std::ifstream in(std::string(TINK_SOURCE_DIR) + "/docs/events.md");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Equal values of the same JSON types (unsigned vs signed integers, key order included).
bool SameTyped(const OJson& a, const OJson& b) {
  if (a.type() != b.type() || a.size() != b.size()) return false;
  if (a.is_object()) {
    for (auto x = a.begin(), y = b.begin(); x != a.end(); ++x, ++y) {
      if (x.key() != y.key() || !SameTyped(x.value(), y.value())) return false;
    }
    return true;
  }
  if (a.is_array()) {
    for (size_t i = 0; i < a.size(); ++i) {
      if (!SameTyped(a[i], b[i])) return false;
    }
    return true;
  }
  return a == b;
}

TEST(DocsTest, EveryJsonExampleInEventsMdIsWhatTheCodecPrints) {
  const std::string doc = Doc();
  ASSERT_FALSE(doc.empty());
  int checked = 0, full_views = 0;
  for (size_t pos = 0; (pos = doc.find("```json\n", pos)) != std::string::npos;) {
    pos += 8;
    const size_t end = doc.find("```", pos);
    ASSERT_NE(end, std::string::npos);
    const std::string block = doc.substr(pos, end - pos);
    pos = end + 3;
    SCOPED_TRACE(block);
    const OJson shown = OJson::parse(block, nullptr, /*allow_exceptions=*/false);
    ASSERT_TRUE(shown.is_object()) << "not a JSON object";
    OJson in = shown;
    in.erase("lsn");
    in.erase("time");
    auto input = ParseEnvelopeJson(in.dump());
    ASSERT_TRUE(input.ok()) << input.status().ToString();
    auto enc = EncodeEvent(*input);
    ASSERT_TRUE(enc.ok()) << enc.status().ToString();
    // The value read straight from the table is the one through FlatBuffers' text printer.
    auto direct = EventToJsonValue(3, 4, *enc);
    auto via_text = EventToJsonValueViaText(3, 4, *enc);
    ASSERT_TRUE(direct.ok() && via_text.ok());
    EXPECT_TRUE(SameTyped(*direct, *via_text)) << direct->dump() << "\n" << via_text->dump();
    // With data_keys, data keeps only those keys (custom types' bodies too), in its own order.
    if (!(*direct)["data"].empty()) {
      const std::vector<std::string> keys = {"nope", (*direct)["data"].begin().key()};
      auto some = EventToJsonValue(3, 4, *enc, &keys);
      ASSERT_TRUE(some.ok());
      OJson want = *direct;
      want["data"] = OJson::object();
      want["data"][keys[1]] = (*direct)["data"][keys[1]];
      EXPECT_TRUE(SameTyped(*some, want)) << some->dump();
    }
    if (shown.contains("lsn") && shown.contains("time")) {
      auto time = ParseTime(shown["time"].get<std::string>());
      ASSERT_TRUE(time.ok());
      auto view = EventToJson(shown["lsn"].get<uint64_t>(), *time, *enc);
      ASSERT_TRUE(view.ok()) << view.status().ToString();
      EXPECT_EQ(OJson::parse(*view), shown) << "the codec prints:\n" << *view;
      ++full_views;
    } else {
      auto view = EventToJson(1, 0, *enc);
      ASSERT_TRUE(view.ok()) << view.status().ToString();
      EXPECT_EQ(nlohmann::json::parse(*view)["data"],
                nlohmann::json::parse(in.value("data", OJson::object()).dump()));
    }
    ++checked;
  }
  EXPECT_GE(full_views, static_cast<int>(Catalog().size()) + 1);
  EXPECT_GE(checked, full_views + 1);
  for (const EventTypeInfo& t : Catalog()) {
    EXPECT_NE(doc.find("### `" + std::string(t.name) + "` (" + std::string(t.table) + ")"),
              std::string::npos)
        << t.name << " has no section";
  }
}

}  // namespace
}  // namespace tink::schema
