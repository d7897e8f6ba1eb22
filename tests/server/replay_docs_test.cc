// docs/replay.md, checked against the daemon (the page names this file): the divergence example
// is reproduced exactly, the listed ignored fields are ignored and others are not, and the tables
// of recorded fields name every field the proxy records (llm.request, llm.response, llm.error,
// replay.divergence).
#include <regex>
#include <set>
#include <sstream>

#include "server/server_test_util.h"
#include "support/fake_llm.h"

namespace tink::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

const std::string kDoc = std::string(TINK_SOURCE_DIR) + "/docs/replay.md";

std::string Chat(const std::string& user, bool stream = false) {
  json b = {{"model", "gpt-test"},
            {"messages", json::array({{{"role", "user"}, {"content", user}}})},
            {"temperature", 0.5}};
  if (stream) b["stream"] = true;
  return b.dump();
}

// The backticked names in the table row that starts with "| `NAME` |".
std::set<std::string> RowNames(const std::string& doc, const std::string& name) {
  std::set<std::string> out;
  std::istringstream in(doc);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("| `" + name + "` |", 0) != 0) continue;
    const std::string rest = line.substr(name.size() + 5);
    const std::regex tick("`([a-z_]+)`");
    for (auto it = std::sregex_iterator(rest.begin(), rest.end(), tick);
         it != std::sregex_iterator(); ++it) {
      out.insert((*it)[1].str());
    }
  }
  return out;
}

class ReplayDocsTest : public ServerTest {
 protected:
  void SetUp() override { doc_ = ReadFile(kDoc); }
  std::vector<std::string> StreamCall(const std::string& body, const HttpHeaders& more) {
    SseReader sse(server_.tcp());
    EXPECT_EQ(sse.Open("POST", "/v1/chat/completions", body, server_.auth(more),
                       milliseconds(20000))
                  .status,
              200);
    std::vector<std::string> out;
    while (std::optional<SseEvent> e = sse.Next(milliseconds(20000))) out.push_back(e->data);
    return out;
  }
  // Records run fix-1234 (a plain call, a streamed one, one failed upstream), then restarts the
  // daemon with --replay fix-1234 and no upstream.
  void RecordAndReplay() {
    FakeLlm fake;
    ASSERT_TRUE(fake.Start());
    ASSERT_TRUE(Start({"--llm-upstream", "openai=" + fake.base_url()})) << server_.error();
    const HttpHeaders run = {{"X-Tinkerbell-Run", "fix-1234"}};
    ASSERT_EQ(Post("/v1/chat/completions", Chat("one"), run).status, 200);
    ASSERT_EQ(StreamCall(Chat("two", true), run).size(), 4u);
    ASSERT_EQ(Post("/v1/chat/completions", R"({"model":"fail-429","messages":[]})", run).status,
              429);
    ASSERT_EQ(Stop(), 0);
    fake.Stop();
    ASSERT_TRUE(Start({"--replay", "fix-1234"})) << server_.error();
  }
  std::string doc_;
};

TEST_F(ReplayDocsTest, DivergenceExampleIsReproduced) {
  std::smatch m;
  ASSERT_TRUE(std::regex_search(doc_, m, std::regex("```json\n(\\{\"error\"[^\n]*)\n```")));
  const json example = ParseJson(m[1].str());
  ASSERT_TRUE(example.is_object()) << m[1].str();
  RecordAndReplay();
  ASSERT_EQ(Post("/v1/chat/completions", Chat("one")).status, 200);
  const HttpResponse changed = Post("/v1/chat/completions", Chat("TWO, but different", true));
  EXPECT_EQ(changed.status, 409);
  EXPECT_EQ(ParseJson(changed.body), example);
}

TEST_F(ReplayDocsTest, TheListedFieldsAreIgnoredAndNoOthers) {
  // The list between the two dashes of "Matching".
  const size_t from = doc_.find("not what is asked —");
  const size_t to = doc_.find("— and without", from);
  ASSERT_NE(from, std::string::npos);
  ASSERT_NE(to, std::string::npos);
  const std::string list = doc_.substr(from, to - from);
  std::vector<std::string> ignored;
  const std::regex tick("`([a-z_]+)`");
  for (auto it = std::sregex_iterator(list.begin(), list.end(), tick);
       it != std::sregex_iterator(); ++it) {
    ignored.push_back((*it)[1].str());
  }
  ASSERT_GE(ignored.size(), 5u) << list;
  RecordAndReplay();
  // Each listed field, added to the first recorded request, still matches it (a fresh session
  // each time, so the request is always the session's first).
  for (const std::string& f : ignored) {
    SCOPED_TRACE(f);
    json body = ParseJson(Chat("one"));
    body[f] = f == "stream_options" ? json{{"include_usage", true}} : json("x");
    const HttpResponse r =
        Post("/v1/chat/completions", body.dump(), {{"X-Tinkerbell-Run", "ignored-" + f}});
    EXPECT_EQ(r.status, 200) << r.Describe();
  }
  // "stream": false is the default and matches; a field not listed does not.
  json explicit_false = ParseJson(Chat("one"));
  explicit_false["stream"] = false;
  EXPECT_EQ(Post("/v1/chat/completions", explicit_false.dump(), {{"X-Tinkerbell-Run", "sf"}}).status,
            200);
  for (const char* f : {"seed", "tools", "n"}) {
    SCOPED_TRACE(f);
    json body = ParseJson(Chat("one"));
    body[f] = 1;
    const HttpResponse r =
        Post("/v1/chat/completions", body.dump(), {{"X-Tinkerbell-Run", std::string("kept-") + f}});
    EXPECT_TRUE(IsError(r, 409, "replay_divergence"));
  }
}

TEST_F(ReplayDocsTest, TheTablesNameEveryRecordedField) {
  RecordAndReplay();
  ASSERT_EQ(Post("/v1/chat/completions", Chat("one")).status, 200);
  ASSERT_EQ(Post("/v1/chat/completions", Chat("changed")).status, 409);
  std::map<std::string, std::set<std::string>> produced;
  for (const json& e : Events()) {
    for (const auto& [k, v] : e["data"].items()) produced[e["type"]].insert(k);
  }
  for (const char* type : {"llm.request", "llm.response", "llm.error"}) {
    SCOPED_TRACE(type);
    const std::set<std::string> listed = RowNames(doc_, type);
    ASSERT_FALSE(produced[type].empty());
    for (const std::string& f : produced[type]) {
      EXPECT_TRUE(listed.count(f)) << "field '" << f << "' is recorded but not in the table";
    }
  }
  // The divergence table: exactly the fields of the event.
  std::set<std::string> listed;
  for (const char* row : {"original", "position", "closest", "differences", "reason"}) {
    if (doc_.find(std::string("| `") + row + "` |") != std::string::npos) listed.insert(row);
  }
  if (doc_.find("| `endpoint`, `request` |") != std::string::npos) {
    listed.insert("endpoint");
    listed.insert("request");
  }
  EXPECT_EQ(produced["replay.divergence"], listed);
}

}  // namespace
}  // namespace tink::testing
