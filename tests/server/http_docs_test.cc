// Every example of docs/http.md runs (the page says so): the runner reads the page itself, so an
// example changed there is checked as changed. What it takes from the page:
//  - the usage block: every flag, each given a value, and the daemon starts with all of them;
//  - the ready line `tink serve: listening on ...`, with the port, socket and store filled in;
//  - the error example and the table of errors: each code is produced by a request (or, for the
//    ones that need a daemon started otherwise, named with the test that produces it, or listed
//    as not producible from outside) with the table's status and the error object's shape;
//  - the endpoints (### headings): each answers with the token;
//  - the JSON examples, reproduced: after exactly 40 events, the page's append of two events
//    answers `{"lsns":[41,42],...}`, /healthz `{"status":"ok","last_lsn":42}`, the follow example
//    shows event 42 as `id:`/`event:`/`data:` and Last-Event-ID: 42 resumes after it, the stats
//    have every key of the example with its type, the query body example answers;
//  - the tasks and report parameters, and the metrics table (name and type of each).
#include <sys/stat.h>

#include <fstream>
#include <functional>
#include <regex>
#include <set>
#include <sstream>

#include "server/server_test_util.h"
#include "support/fake_llm.h"

namespace tink::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

const std::string kDoc = std::string(TINK_SOURCE_DIR) + "/docs/http.md";

std::string Doc() { return ReadFile(kDoc); }

// The fenced blocks of the page (language tag, text), in order.
std::vector<std::pair<std::string, std::string>> Blocks(const std::string& doc) {
  std::vector<std::pair<std::string, std::string>> out;
  std::istringstream in(doc);
  std::string line, tag, text;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line.rfind("```", 0) == 0) {
      if (inside) {
        out.emplace_back(tag, text);
        text.clear();
      } else {
        tag = line.substr(3);
      }
      inside = !inside;
      continue;
    }
    if (inside) text += line + "\n";
  }
  return out;
}

// The text of the page from the heading `heading` to the next heading of any level.
std::string Section(const std::string& doc, const std::string& heading) {
  const size_t at = doc.find("\n" + heading + "\n");
  if (at == std::string::npos) return "";
  const size_t begin = at + heading.size() + 2;
  // Headings inside fenced blocks do not occur on this page: up to the next line starting '#'.
  const size_t end = doc.find("\n#", begin);
  return end == std::string::npos ? doc.substr(begin) : doc.substr(begin, end - begin);
}

// The first ```json block of a section.
std::string JsonBlockIn(const std::string& section) {
  for (const auto& [tag, text] : Blocks(section)) {
    if (tag == "json") return text;
  }
  return "";
}

std::string Collapse(std::string s) {
  s = std::regex_replace(s, std::regex(R"(\s+)"), " ");
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

const char* JsonKind(const json& j) {
  if (j.is_string()) return "string";
  if (j.is_boolean()) return "boolean";
  if (j.is_number()) return "number";
  if (j.is_array()) return "array";
  if (j.is_object()) return "object";
  return "null";
}

class HttpDocsTest : public ServerTest {
 protected:
  void SetUp() override {
    doc_ = Doc();
    ASSERT_FALSE(doc_.empty()) << kDoc;
  }
  // The store every example assumes: 40 events before the page's own append of two.
  void FillForty() {
    std::string batch;
    for (int i = 1; i <= 40; ++i) batch += Note("docs/other", "event " + std::to_string(i)) + "\n";
    const json a = Append(batch);
    ASSERT_TRUE(a.is_object() && a.contains("last_lsn")) << a.dump();
    ASSERT_EQ(a["last_lsn"], 40) << a.dump();
  }
  std::string doc_;
};

TEST_F(HttpDocsTest, EveryFlagOfTheUsageStartsTheDaemon) {
  std::string usage;
  for (const auto& [tag, text] : Blocks(doc_)) {
    if (text.rfind("tink serve", 0) == 0) usage = text;
  }
  ASSERT_FALSE(usage.empty()) << "no usage block in " << kDoc;
  const std::string token_file = tmp_.Sub("token");
  std::ofstream(token_file) << "docs-token-0123456789abcdef";
  ASSERT_EQ(::chmod(token_file.c_str(), 0600), 0);
  // A value for every flag the page names (a flag added there fails here until it is covered).
  const std::map<std::string, std::vector<std::string>> values = {
      {"--store", {}},  // given by the fixture
      {"--listen", {}},
      {"--socket", {}},
      {"--token-file", {token_file}},
      {"--sync", {"always", "interval=5", "none"}},
      {"--max-body", {"1048576"}},
      {"--query-timeout", {"30000"}},
      {"--max-connections", {"64"}},
      {"--header-timeout", {"10000"}},
      {"--public", {""}},  // a flag without a value; --listen stays on loopback
      {"--llm-upstream", {"fake=http://127.0.0.1:9/v1"}},  // not called here
      {"--llm-timeout", {"60000"}},
      {"--replay", {"r0"}},
      {"--mcp-allow-exec", {""}},  // a flag without a value
  };
  std::set<std::string> flags;
  const std::regex flag_re(R"(--[a-z][a-z-]*)");
  for (auto it = std::sregex_iterator(usage.begin(), usage.end(), flag_re);
       it != std::sregex_iterator(); ++it) {
    flags.insert(it->str());
  }
  ASSERT_GE(flags.size(), 8u) << usage;
  for (const std::string& f : flags) EXPECT_TRUE(values.count(f)) << "flag " << f << " untested";
  for (const std::string& sync : values.at("--sync")) {
    SCOPED_TRACE("--sync " + sync);
    std::vector<std::string> extra;
    for (const auto& [flag, vals] : values) {
      if (vals.empty() || !flags.count(flag)) continue;
      extra.push_back(flag);
      if (!vals[0].empty()) extra.push_back(flag == "--sync" ? sync : vals[0]);
    }
    ASSERT_TRUE(Start(extra)) << server_.error();
    const HttpResponse a =
        HttpRequest(server_.unix_socket(), "POST", "/v1/events", Note("docs/flags", sync),
                    Bearer("docs-token-0123456789abcdef"));
    EXPECT_EQ(a.status, 200) << a.Describe();
    EXPECT_EQ(Stop(), 0) << server_.stderr_text();
  }
}

TEST_F(HttpDocsTest, ReadyLineIsTheOneShown) {
  // "At start the daemon prints one line to stderr: `tink serve: listening on ...`".
  std::smatch m;
  const std::string flat = Collapse(doc_);
  ASSERT_TRUE(std::regex_search(flat, m, std::regex("`(tink serve: listening on [^`]*)`")))
      << "no ready line in the page";
  std::string want = m[1].str();
  ASSERT_TRUE(Start()) << server_.error();
  want = std::regex_replace(want, std::regex("127\\.0\\.0\\.1:7070"),
                            "127.0.0.1:" + std::to_string(server_.port()));
  want = std::regex_replace(want, std::regex(R"(\bPATH\b)"), socket_);
  want = std::regex_replace(want, std::regex(R"(\(store S\)$)"), "(store " + store_ + ")");
  EXPECT_EQ(server_.ready_line(), want);
  const std::string err = server_.stderr_text();
  EXPECT_EQ(err.rfind(server_.ready_line() + "\n", 0), 0u) << "not the first line: " << err;
}

TEST_F(HttpDocsTest, ErrorExampleAndEveryCodeOfTheTable) {
  ASSERT_TRUE(Start({"--max-body", "65536"})) << server_.error();
  const std::string errors = Section(doc_, "## Errors");
  ASSERT_FALSE(errors.empty());
  // The example: its shape, and a request that fails the way it describes.
  const json example = json::parse(JsonBlockIn(errors), nullptr, false);
  ASSERT_TRUE(example.is_object()) << JsonBlockIn(errors);
  ASSERT_EQ(example.size(), 1u);
  ASSERT_TRUE(example["error"].is_object());
  std::set<std::string> keys;
  for (const auto& [k, v] : example["error"].items()) keys.insert(k);
  EXPECT_EQ(keys, (std::set<std::string>{"code", "message"}));
  const HttpResponse bad_line =
      Post("/v1/events",
           Note("docs/e", "ok") + "\n" + R"({"stream":"docs/e","data":{"text":"x"}})" + "\n");
  ASSERT_TRUE(IsError(bad_line, 400, example["error"]["code"].get<std::string>()));
  const std::string msg = ErrorMessage(bad_line);
  EXPECT_NE(msg.find("line 2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("type"), std::string::npos) << msg;
  json shape = ParseJson(bad_line.body);
  ASSERT_TRUE(shape.is_object());
  EXPECT_EQ(shape.size(), 1u) << bad_line.body;

  // The table: "| status | `code` | when |".
  Append(Note("docs/e", "v1"));
  const std::map<std::string, std::function<HttpResponse()>> produce = {
      {"bad_request", [&] { return Get("/v1/events?from=abc"); }},
      {"bad_event", [&] { return Post("/v1/events", R"({"stream":"s","data":{}})"); }},
      {"query_error", [&] { return Post("/v1/query", R"({"query":"events | wher x"})"); }},
      {"unauthorized", [&] { return HttpRequest(server_.tcp(), "GET", "/v1/stats"); }},
      {"forbidden",
       [&] { return HttpRequest(server_.tcp(), "GET", "/v1/stats", "", Bearer("nope")); }},
      {"not_found", [&] { return Get("/v1/no-such-endpoint"); }},
      {"method_not_allowed",
       [&] { return HttpRequest(server_.tcp(), "DELETE", "/v1/events", "", server_.auth()); }},
      {"conflict",
       [&] { return Post("/v1/events?expected_version=no_stream", Note("docs/e", "again")); }},
      {"too_large", [&] { return Post("/v1/events", std::string(70000, ' ')); }},
      {"unsupported_media_type",
       [&] { return Post("/v1/traces", "{}", {{"Content-Type", "text/plain"}}); }},
  };
  // Produced by a daemon started otherwise, in another test.
  const std::map<std::string, std::string> elsewhere = {
      {"overloaded", "server.QueryTest.MoreConnectionsThanMaxConnectionsAre503"},
      {"query_timeout", "server.QueryTest.QueryOverQueryTimeoutIs503"},
      {"invalid_request_error", "server.ProxyTest.BadRequestsAreRefusedAndNothingIsStored"},
      {"replay_not_found", "server.ReplayTest.ReplayPrefixWorksOnAnyDaemonAndUnknownRunsAre404"},
      {"replay_divergence", "server.ReplayTest.AChangedPromptIsADivergenceAtItsPosition"},
      {"upstream_unreachable", "server.ProxyTest.UnreachableUpstreamIs502AndRecorded"},
      {"no_upstream", "server.ProxyTest.WithoutUpstreamTheProxyIs503"},
      {"upstream_timeout", "server.ProxyTest.UpstreamErrorsComeBackAsTheyAreAndAreRecorded"},
  };
  // Not producible from outside the daemon: the query queue's size is not a flag, and the log's
  // damage and disk failures need the engine's fault injection (tests/engine, tests/log).
  const std::set<std::string> not_producible = {"too_many_requests", "corruption", "io_error"};
  const std::regex row(R"(^\| (\d{3}) \| `([a-z_]+)` \|)");
  std::istringstream in(errors);
  int rows = 0;
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (!std::regex_search(line, m, row)) continue;
    ++rows;
    const int status = std::stoi(m[1].str());
    const std::string code = m[2].str();
    SCOPED_TRACE(line);
    if (auto p = produce.find(code); p != produce.end()) {
      EXPECT_TRUE(IsError(p->second(), status, code));
    } else {
      EXPECT_TRUE(elsewhere.count(code) || not_producible.count(code))
          << "no request here produces " << code;
    }
  }
  EXPECT_GE(rows, 10) << "the table of errors was not found";
  // "Bad input never gets a 5xx, and never changes what is stored": only the one good append.
  EXPECT_EQ(Events().size(), 1u);
}

TEST_F(HttpDocsTest, EveryEndpointAnswers) {
  FakeLlm upstream;  // for the recording proxy's endpoints
  ASSERT_TRUE(upstream.Start());
  ASSERT_TRUE(Start({"--llm-upstream", "fake=" + upstream.base_url()})) << server_.error();
  Append(Envelope("run/r1", "run.started", {{"name", "docs"}}, "", "r1"));
  const std::regex heading(R"(`(GET|POST|PUT|DELETE) (/[^`]*)`)");
  std::set<std::string> seen;
  std::istringstream in(doc_);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("### ", 0) != 0) continue;
    for (auto it = std::sregex_iterator(line.begin(), line.end(), heading);
         it != std::sregex_iterator(); ++it) {
      const std::string method = (*it)[1].str();
      const std::string target = std::regex_replace((*it)[2].str(), std::regex(R"(\{run\})"), "r1");
      SCOPED_TRACE(method + " " + target);
      seen.insert(method + " " + (*it)[2].str());
      const bool llm = target == "/v1/chat/completions" || target == "/v1/responses";
      const std::string body = method == "POST" && target == "/v1/events" ? Note("docs/ep", "x")
                               : target == "/mcp"
                                   ? R"({"jsonrpc":"2.0","id":1,"method":"initialize",)"
                                     R"("params":{"protocolVersion":"2025-11-25"}})"
                               : llm ? R"({"model":"m","messages":[{"role":"user","content":"hi"}]})"
                               : target == "/v1/traces"  ? "{}"
                               : method == "POST"        ? R"({"query":"events | count"})"
                                                         : "";
      HttpResponse r;
      if (target == "/v1/traces") {
        r = Post(target, body, {{"Content-Type", "application/json"}});
      } else if (target == "/v1/events" && method == "GET") {
        r = Get(target + "?limit=1");
      } else {
        r = HttpRequest(server_.tcp(), method, target, body, server_.auth());
      }
      EXPECT_EQ(r.status, 200) << r.Describe();
    }
  }
  EXPECT_EQ(seen, (std::set<std::string>{"POST /v1/events", "GET /v1/events", "POST /v1/traces",
                                         "POST /v1/query", "POST /mcp",
                                         "GET /v1/tasks", "GET /v1/runs/{run}/report",
                                         "POST /v1/chat/completions", "POST /v1/responses",
                                         "GET /v1/stats", "GET /healthz", "GET /metrics"}));
  EXPECT_EQ(upstream.requests().size(), 2u);  // the proxy's two endpoints went upstream
}

TEST_F(HttpDocsTest, JsonExamplesAreReproduced) {
  ASSERT_TRUE(Start()) << server_.error();
  ASSERT_NO_FATAL_FAILURE(FillForty());
  // POST /v1/events: two envelopes after 40 events.
  const json append_example =
      json::parse(JsonBlockIn(Section(doc_, "### `POST /v1/events`")), nullptr, false);
  ASSERT_TRUE(append_example.is_object());
  const json a = Append(Note("run/1", "forty-one") + "\n" + Note("run/1", "forty-two") + "\n");
  EXPECT_EQ(a, append_example);

  // GET /healthz.
  const std::string health_section = Section(doc_, "### `GET /healthz`");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(health_section, m, std::regex("`(\\{\"status\"[^`]*)`")));
  const HttpResponse h = HttpRequest(server_.tcp(), "GET", "/healthz");
  EXPECT_EQ(ParseJson(h.body), json::parse(m[1].str())) << h.body;

  // GET /v1/events?follow=1: the SSE example is event 42.
  const std::string follow_section = Section(doc_, "### `GET /v1/events`");
  std::string sse_example;
  for (const auto& [tag, text] : Blocks(follow_section)) {
    if (text.rfind("id: ", 0) == 0) sse_example = text;
  }
  ASSERT_FALSE(sse_example.empty());
  ASSERT_TRUE(
      std::regex_search(sse_example, m, std::regex(R"(^id: (\d+)\nevent: (\w+)\ndata: (.*)\n)")))
      << sse_example;
  const std::string want_id = m[1].str(), want_event = m[2].str(), want_data = m[3].str();
  SseReader follow(server_.tcp());
  ASSERT_EQ(follow.Open("/v1/events?follow=1&from=" + want_id, server_.auth(), milliseconds(20000))
                .status,
            200);
  std::optional<SseEvent> e = follow.Next(milliseconds(20000));
  ASSERT_TRUE(e) << follow.error();
  EXPECT_EQ(e->id, want_id);
  EXPECT_EQ(e->event, want_event);
  const json data = ParseJson(e->data);
  ASSERT_TRUE(data.is_object()) << e->data;
  // The example's data is elided ("..."): every field it shows with a value is there.
  const std::regex field(R"re("(\w+)":("[^"]*"|\d+))re");
  for (auto it = std::sregex_iterator(want_data.begin(), want_data.end(), field);
       it != std::sregex_iterator(); ++it) {
    const std::string key = (*it)[1].str(), value = (*it)[2].str();
    SCOPED_TRACE(key);
    ASSERT_TRUE(data.contains(key)) << e->data;
    if (value != "\"...\"") {
      EXPECT_EQ(data[key], json::parse(value));
    }
  }
  follow.Close();
  // "A reconnecting client sends `Last-Event-ID: 42` and gets every later event."
  ASSERT_NE(follow_section.find("Last-Event-ID: " + want_id), std::string::npos);
  Append(Note("run/1", "forty-three"));
  SseReader resume(server_.unix_socket());
  ASSERT_EQ(resume
                .Open("/v1/events?follow=1", server_.auth({{"Last-Event-ID", want_id}}),
                      milliseconds(20000))
                .status,
            200);
  e = resume.Next(milliseconds(20000));
  ASSERT_TRUE(e) << resume.error();
  EXPECT_EQ(e->id, std::to_string(std::stoi(want_id) + 1));

  // POST /v1/query: the body example.
  const std::string query_section = Section(doc_, "### `POST /v1/query`");
  ASSERT_TRUE(std::regex_search(query_section, m, std::regex("`(\\{\"query\"[^`]*)`")));
  const json query_example = json::parse(m[1].str());
  const HttpResponse q = Post("/v1/query", query_example.dump());
  ASSERT_EQ(q.status, 200) << q.Describe();
  if (query_example.value("format", "") == "jsonl") {
    EXPECT_EQ(ParseJson(q.body), json::parse(R"({"count":43})")) << q.body;
  }

  // GET /v1/stats: every key of the example, with the same kind of value.
  const json stats_example =
      json::parse(JsonBlockIn(Section(doc_, "### `GET /v1/stats`")), nullptr, false);
  ASSERT_TRUE(stats_example.is_object());
  const json stats = ParseJson(Get("/v1/stats").body);
  ASSERT_TRUE(stats.is_object());
  for (const auto& [key, value] : stats_example.items()) {
    SCOPED_TRACE(key);
    ASSERT_TRUE(stats.contains(key)) << stats.dump();
    EXPECT_STREQ(JsonKind(stats[key]), JsonKind(value));
  }
  EXPECT_EQ(stats["events"], 43);
  EXPECT_EQ(stats["last_lsn"], 43);
  EXPECT_EQ(stats["first_lsn"], 1);
}

TEST_F(HttpDocsTest, TasksAndReportParameters) {
  ASSERT_TRUE(Start()) << server_.error();
  const std::string section =
      Collapse(Section(doc_, "### `GET /v1/tasks`, `GET /v1/runs/{run}/report`"));
  ASSERT_FALSE(section.empty());
  std::smatch m;
  ASSERT_TRUE(std::regex_search(section, m, std::regex(R"(`/v1/tasks\?([^`]*)`)")));
  const std::string params = std::regex_replace(m[1].str(), std::regex(" "), "");
  std::string batch;
  for (const auto& [type, data] :
       std::vector<std::pair<std::string, json>>{{"run.started", {{"name", "docs"}}},
                                                 {"task.created", {{"task", "T"}, {"name", "t"}}},
                                                 {"task.started", {{"task", "T"}}},
                                                 {"task.succeeded", {{"task", "T"}}},
                                                 {"run.finished", {{"status", "succeeded"}}}}) {
    batch +=
        Envelope(type.rfind("run.", 0) == 0 ? "run/R" : "run/R/task/T", type, data, "", "R") + "\n";
  }
  Append(batch);
  // Each parameter of the page with a value: run=R&task=T&as_of=A&history=1&...&format=json|text.
  std::map<std::string, std::string> value = {{"run", "R"}, {"task", "T"}, {"as_of", "3"}};
  int n = 0;
  std::istringstream in(params);
  for (std::string kv; std::getline(in, kv, '&');) {
    const std::string key = kv.substr(0, kv.find('='));
    std::vector<std::string> targets;
    if (key == "format") {
      targets = {"/v1/tasks?format=json", "/v1/tasks?format=text"};
    } else if (key == "history") {
      targets = {"/v1/tasks?run=R&task=T&history=1&format=json"};
    } else if (value.count(key)) {
      targets = {"/v1/tasks?run=R&" + key + "=" + value[key] + "&format=json"};
    } else {
      targets = {"/v1/tasks?" + key + "=1&format=json"};
    }
    for (const std::string& t : targets) {
      SCOPED_TRACE(t);
      const HttpResponse r = Get(t);
      EXPECT_EQ(r.status, 200) << r.Describe();
      if (t.find("format=json") != std::string::npos) {
        EXPECT_FALSE(ParseJson(r.body).is_discarded()) << r.body;
      }
      ++n;
    }
  }
  EXPECT_GE(n, 8) << params;
  ASSERT_TRUE(std::regex_search(section, m, std::regex(R"(`/v1/runs/R/report\?([^`]*)`)")));
  for (const std::string format : {"json", "text"}) {
    const HttpResponse r = Get("/v1/runs/R/report?format=" + format);
    EXPECT_EQ(r.status, 200) << r.Describe();
    if (format == "json") {
      EXPECT_TRUE(ParseJson(r.body).is_object()) << r.body;
    }
  }
}

// The OTLP example: posted as it is, it maps to a run with one LLM call; re-sent, it adds nothing.
TEST_F(HttpDocsTest, OtlpExampleIsRecorded) {
  ASSERT_TRUE(Start()) << server_.error();
  const std::string body = JsonBlockIn(Section(doc_, "### `POST /v1/traces`"));
  ASSERT_FALSE(body.empty());
  HttpResponse r = Post("/v1/traces", body, {{"Content-Type", "application/json"}});
  ASSERT_EQ(r.status, 200) << r.Describe();
  EXPECT_EQ(ParseJson(r.body), json::object());
  const std::string run = "5b8efff798038103d269b633813fc60c";
  EXPECT_EQ(Events("?type=otel.span&run=" + run).size(), 2u);
  const std::vector<json> resp = Events("?type=llm.response&run=" + run);
  ASSERT_EQ(resp.size(), 1u);
  EXPECT_EQ(resp[0]["id"], run + "/span-eee19b7ec3c1b174/response");
  EXPECT_EQ(resp[0]["data"]["provider"], "openai");
  EXPECT_EQ(resp[0]["data"]["input_tokens"], 12);
  const size_t all = Events().size();
  ASSERT_EQ(Post("/v1/traces", body, {{"Content-Type", "application/json"}}).status, 200);
  EXPECT_EQ(Events().size(), all);
}

TEST_F(HttpDocsTest, MetricsTable) {
  ASSERT_TRUE(Start()) << server_.error();
  Append(Note("m", "x"));
  const HttpResponse r = Get("/metrics");
  ASSERT_EQ(r.status, 200) << r.Describe();
  const std::string section = Section(doc_, "### `GET /metrics`");
  const std::regex name_re(R"(`(tinkerbell_[a-z_]+))");
  int checked = 0;
  std::istringstream in(section);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("| `tinkerbell_", 0) != 0) continue;
    const size_t bar = line.rfind('|', line.size() - 2);
    std::string types = line.substr(bar + 1);
    types = std::regex_replace(types, std::regex(R"([|\s])"), "");
    std::vector<std::string> type_list;
    std::istringstream ts(types);
    for (std::string t; std::getline(ts, t, ',');) type_list.push_back(t);
    std::vector<std::string> names;
    const std::string cells = line.substr(0, bar);
    for (auto it = std::sregex_iterator(cells.begin(), cells.end(), name_re);
         it != std::sregex_iterator(); ++it) {
      names.push_back((*it)[1].str());
    }
    for (size_t i = 0; i < names.size(); ++i) {
      const std::string type = type_list.size() == names.size() ? type_list[i] : type_list[0];
      SCOPED_TRACE(names[i] + " " + type);
      EXPECT_NE(r.body.find("# TYPE " + names[i] + " " + type + "\n"), std::string::npos);
      ++checked;
    }
  }
  EXPECT_EQ(checked, 14);
}

// "The `tink` CLI talks to it with `--server URL` (or `$TINKERBELL_SERVER`)", finding the token
// in $TINKERBELL_TOKEN, else the file named by $TINKERBELL_TOKEN_FILE.
TEST_F(HttpDocsTest, CliTalksToTheDaemon) {
  ASSERT_TRUE(Start()) << server_.error();
  Append(Note("cli/s", "one") + "\n" + Note("cli/s", "two") + "\n");
  const std::string want = Get("/v1/events").body;
  const std::string url = "http://127.0.0.1:" + std::to_string(server_.port());
  const std::string token_file = tmp_.Sub("cli-token");
  std::ofstream(token_file) << server_.token();
  ASSERT_EQ(::chmod(token_file.c_str(), 0600), 0);
  const std::vector<std::string> commands = {
      "TINKERBELL_TOKEN=" + server_.token() + " " + kTinkBin + " log --json --server " + url,
      "TINKERBELL_TOKEN=" + server_.token() + " " + kTinkBin +
          " log --json --server unix:" + socket_,
      "TINKERBELL_TOKEN_FILE=" + ShellQuote(token_file) + " TINKERBELL_SERVER=" + url + " " +
          kTinkBin + " log --json",
  };
  for (const std::string& cmd : commands) {
    SCOPED_TRACE(cmd);
    const CommandResult c = RunCommand(cmd);
    EXPECT_EQ(c.exit_code, 0) << c.err;
    EXPECT_EQ(c.out, want);
  }
  const CommandResult append =
      RunCommand("TINKERBELL_TOKEN=" + server_.token() + " " + kTinkBin + " append --server " +
                 url + " --stream cli/s --type note --data '{\"text\":\"three\"}'");
  EXPECT_EQ(append.exit_code, 0) << append.err;
  EXPECT_EQ(Events().size(), 3u);
}

}  // namespace
}  // namespace tink::testing
