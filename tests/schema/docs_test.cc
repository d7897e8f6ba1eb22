// docs/events.md stays true: every ```json block encodes, and its JSON view gives back the same
// data; every catalog type has a section.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "schema/schema.h"

namespace tink::schema {
namespace {

std::string Doc() {
  std::ifstream in(std::string(TINK_SOURCE_DIR) + "/docs/events.md");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(DocsTest, EveryJsonExampleInEventsMdRoundTrips) {
  const std::string doc = Doc();
  ASSERT_FALSE(doc.empty());
  int checked = 0;
  for (size_t pos = 0; (pos = doc.find("```json\n", pos)) != std::string::npos;) {
    pos += 8;
    const size_t end = doc.find("```", pos);
    ASSERT_NE(end, std::string::npos);
    nlohmann::json j = nlohmann::json::parse(doc.substr(pos, end - pos));
    j.erase("lsn");
    j.erase("time");
    auto in = ParseEnvelopeJson(j.dump());
    ASSERT_TRUE(in.ok()) << j.dump() << ": " << in.status().ToString();
    auto enc = EncodeEvent(*in);
    ASSERT_TRUE(enc.ok()) << j.dump() << ": " << enc.status().ToString();
    auto view = nlohmann::json::parse(*EventToJson(1, 0, *enc));
    EXPECT_EQ(view["data"], j.value("data", nlohmann::json::object())) << j.dump();
    EXPECT_EQ(view["type"], j["type"]);
    ++checked;
    pos = end + 3;
  }
  EXPECT_GE(checked, static_cast<int>(Catalog().size()) + 2);
  for (const EventTypeInfo& t : Catalog()) {
    EXPECT_NE(doc.find("### `" + std::string(t.name) + "`"), std::string::npos) << t.name;
  }
}

}  // namespace
}  // namespace tink::schema
