// POST /v1/query, GET /v1/tasks, GET /v1/runs/{run}/report, GET /v1/stats, GET /metrics, and
// the errors no other test triggers (docs/http.md): each answer is what the matching `tink`
// command prints (compared after the daemon closed the store), a client reads its own writes,
// query errors are 400 query_error, unknown paths 404, wrong methods 405, --max-connections 503
// overloaded, --query-timeout 503 query_timeout.
#include <thread>

#include "server/server_test_util.h"

namespace tink::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

// A run with tasks in several states, as an agent would record it.
std::string RunEvents(const std::string& run) {
  const std::string s = "run/" + run;
  std::string out;
  auto add = [&](const std::string& stream, const std::string& type, const json& data) {
    out += Envelope(stream, type, data, "", run) + "\n";
  };
  add(s, "run.started", {{"name", "demo " + run}, {"agent", "test-agent"}});
  add(s + "/task/a", "task.created", {{"task", "a"}, {"name", "plan"}});
  add(s + "/task/b", "task.created", {{"task", "b"}, {"parent", "a"}, {"name", "edit"}});
  add(s + "/task/a", "task.started", {{"task", "a"}, {"worker", "w1"}});
  add(s + "/task/a", "task.succeeded", {{"task", "a"}});
  add(s + "/task/b", "task.started", {{"task", "b"}, {"worker", "w2"}});
  add(s + "/task/b", "tool.call", {{"task", "b"}, {"tool", "bash"}});
  add(s + "/task/b", "tool.result", {{"task", "b"}, {"tool", "bash"}, {"exit_code", 2}});
  add(s + "/task/b", "task.failed", {{"task", "b"}, {"error", "tests failed"}});
  add(s + "/task/c", "task.succeeded", {{"task", "c"}});  // unknown task: an anomaly
  add(s, "run.finished", {{"status", "failed"}, {"error", "b failed"}});
  return out;
}

class QueryTest : public ServerTest {
 protected:
  void SetUp() override { ASSERT_TRUE(Start()) << server_.error(); }
};

TEST_F(QueryTest, AnswersAreWhatTinkShellPrints) {
  Append(RunEvents("7"));
  Append(Note("notes", "one") + "\n" + Note("notes", "two") + "\n");
  struct Case {
    std::string query, format;
    HttpResponse answer;
  };
  std::vector<Case> cases;
  for (const std::string& q :
       {std::string("events | count"),
        std::string("events | where type == 'note' | select lsn, stream"),
        std::string("tasks | select id, state | sort id"),
        std::string("events | count; events | limit 2 | select lsn, type")}) {
    for (const std::string f : {"json", "jsonl", "csv", "table", "markdown"}) {
      cases.push_back({q, f,
                       Post("/v1/query", json({{"query", q}, {"format", f}}).dump(),
                            {{"Content-Type", "application/json"}})});
    }
  }
  // The default format is json; the query may come as text/plain with ?format=.
  const HttpResponse dflt = Post("/v1/query", R"({"query":"events | count"})");
  const HttpResponse plain = Post("/v1/query?format=csv", "events | where type == 'note' | count",
                                  {{"Content-Type", "text/plain"}});
  ASSERT_EQ(Stop(), 0) << server_.stderr_text();

  for (const Case& c : cases) {
    SCOPED_TRACE(c.query + " --format " + c.format);
    const CommandResult cli = Tink("shell -c " + ShellQuote(c.query) + " --format " + c.format);
    ASSERT_EQ(cli.exit_code, 0) << cli.err;
    ASSERT_EQ(c.answer.status, 200) << c.answer.Describe();
    EXPECT_EQ(c.answer.body, cli.out);
  }
  const CommandResult count = Tink("shell -c 'events | count' --format json");
  EXPECT_EQ(dflt.status, 200) << dflt.Describe();
  EXPECT_EQ(dflt.body, count.out);
  EXPECT_TRUE(ParseJson(dflt.body).is_array()) << dflt.body;
  const CommandResult notes =
      Tink("shell -c \"events | where type == 'note' | count\" --format csv");
  EXPECT_EQ(plain.status, 200) << plain.Describe();
  EXPECT_EQ(plain.body, notes.out);
}

TEST_F(QueryTest, QueryErrors) {
  Append(Note("s", "x"));
  const HttpResponse parse = Post("/v1/query", R"({"query":"events | wher type == 1"})");
  ASSERT_TRUE(IsError(parse, 400, "query_error"));
  EXPECT_EQ(ErrorMessage(parse).rfind("error at ", 0), 0u) << ErrorMessage(parse);
  EXPECT_TRUE(
      IsError(Post("/v1/query", R"({"query":"nosuchsource | count"})"), 400, "query_error"));
  // Dot-commands are not accepted (the code is not named by docs/http.md: any 4xx error).
  EXPECT_TRUE(IsClientError(Post("/v1/query", R"({"query":".help"})")));
  EXPECT_TRUE(IsClientError(Post("/v1/query", R"({"query":".open /tmp/x"})")));
  // Not a query request at all.
  for (const std::string& bad :
       {std::string("{"), std::string("[1]"), std::string(R"({"format":"json"})"),
        std::string(R"({"query":42})"),
        std::string(R"({"query":"events | count","format":"xml"})")}) {
    SCOPED_TRACE(bad);
    EXPECT_TRUE(IsError(Post("/v1/query", bad, {{"Content-Type", "application/json"}}), 400,
                        "bad_request"));
  }
  EXPECT_TRUE(
      IsError(Post("/v1/query?format=xml", "events | count", {{"Content-Type", "text/plain"}}), 400,
              "bad_request"));
  EXPECT_EQ(Events().size(), 1u);
}

TEST_F(QueryTest, TasksAndReportAreWhatTheCliPrintsAndReadTheirOwnWrites) {
  Append(RunEvents("7"));
  // Right after the append: the daemon waits for its projections (read your own writes).
  const HttpResponse tasks_now = Get("/v1/tasks?run=7&format=json");
  ASSERT_EQ(tasks_now.status, 200) << tasks_now.Describe();
  const json t = ParseJson(tasks_now.body);
  ASSERT_TRUE(t.is_array()) << tasks_now.body;
  EXPECT_GE(t.size(), 2u) << tasks_now.body;
  Append(RunEvents("8"));
  const HttpResponse runs_now = Get("/v1/tasks?runs=1&format=json");
  ASSERT_EQ(runs_now.status, 200) << runs_now.Describe();
  EXPECT_NE(runs_now.body.find("\"8\""), std::string::npos) << "run 8 not seen: " << runs_now.body;

  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/v1/tasks?format=json", "tasks --json"},
      {"/v1/tasks?format=text", "tasks"},
      {"/v1/tasks?run=7&format=json", "tasks --run 7 --json"},
      {"/v1/tasks?run=7&task=b&format=json", "tasks --run 7 --task b --json"},
      {"/v1/tasks?run=7&task=b&history=1&format=json", "tasks --run 7 --task b --history --json"},
      {"/v1/tasks?run=7&as_of=5&format=json", "tasks --run 7 --as-of 5 --json"},
      {"/v1/tasks?runs=1&format=json", "tasks --runs --json"},
      {"/v1/tasks?runs=1&format=text", "tasks --runs"},
      {"/v1/tasks?anomalies=1&format=json", "tasks --anomalies --json"},
      {"/v1/runs/7/report?format=json", "report --run 7 --json"},
      {"/v1/runs/8/report?format=text", "report --run 8"},
  };
  std::vector<HttpResponse> answers;
  for (const auto& c : cases) answers.push_back(Get(c.first));
  const HttpResponse no_run = Get("/v1/runs/no-such-run/report?format=json");
  const HttpResponse bad_format = Get("/v1/tasks?format=yaml");
  ASSERT_EQ(Stop(), 0) << server_.stderr_text();
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].first);
    const CommandResult cli = Tink(cases[i].second);
    ASSERT_EQ(cli.exit_code, 0) << cli.err;
    ASSERT_EQ(answers[i].status, 200) << answers[i].Describe();
    EXPECT_EQ(answers[i].body, cli.out);
  }
  EXPECT_TRUE(IsError(no_run, 404, "not_found"));
  EXPECT_TRUE(IsError(bad_format, 400, "bad_request"));
}

TEST_F(QueryTest, StatsAreTinkStatsPlusTheDaemonsCounters) {
  Append(RunEvents("7"));
  HttpConnection keep(server_.tcp());
  ASSERT_EQ(keep.Request("GET", "/healthz").status, 200);
  const HttpResponse r = Get("/v1/stats");
  ASSERT_EQ(r.status, 200) << r.Describe();
  const json s = ParseJson(r.body);
  ASSERT_TRUE(s.is_object()) << r.body;
  EXPECT_EQ(s.value("events", 0), 11);
  EXPECT_EQ(s.value("last_lsn", 0), 11);
  EXPECT_EQ(s.value("first_lsn", 0), 1);
  EXPECT_EQ(s.value("torn_tail", true), false);
  ASSERT_TRUE(s.contains("projections_applied") && s["projections_applied"].is_number()) << r.body;
  EXPECT_LE(s["projections_applied"].get<uint64_t>(), 11u);
  ASSERT_TRUE(s.contains("connections") && s["connections"].is_number()) << r.body;
  EXPECT_GE(s["connections"].get<int>(), 1) << r.body;
  keep.Close();
  ASSERT_EQ(Stop(), 0) << server_.stderr_text();
  const CommandResult cli = Tink("stats --json");
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  const json c = ParseJson(cli.out);
  for (const std::string key :
       {"store_id", "events", "first_lsn", "last_lsn", "first_time", "last_time", "torn_tail"}) {
    EXPECT_EQ(s[key], c[key]) << key;
  }
}

TEST_F(QueryTest, MetricsInPrometheusTextFormat) {
  Append(Note("m", "1") + "\n" + Note("m", "2") + "\n" + Note("m", "3") + "\n");
  Append(Note("m", "4"));
  ASSERT_EQ(Post("/v1/query", R"({"query":"events | count"})").status, 200);
  const HttpResponse r = Get("/metrics");
  ASSERT_EQ(r.status, 200) << r.Describe();
  EXPECT_EQ(r.Header("content-type").rfind("text/plain", 0), 0u) << r.Header("content-type");
  EXPECT_NE(r.Header("content-type").find("version=0.0.4"), std::string::npos)
      << r.Header("content-type");
  const std::vector<std::pair<std::string, std::string>> metrics = {
      {"tinkerbell_appends_total", "counter"},
      {"tinkerbell_append_requests_total", "counter"},
      {"tinkerbell_append_bytes_total", "counter"},
      {"tinkerbell_append_seconds", "histogram"},
      {"tinkerbell_fsyncs_total", "counter"},
      {"tinkerbell_group_commit_events", "histogram"},
      {"tinkerbell_queries_total", "counter"},
      {"tinkerbell_query_seconds", "histogram"},
      {"tinkerbell_http_requests_total", "counter"},
      {"tinkerbell_projection_lag_events", "gauge"},
      {"tinkerbell_open_connections", "gauge"},
      {"tinkerbell_followers", "gauge"},
  };
  for (const auto& [name, type] : metrics) {
    EXPECT_NE(r.body.find("# TYPE " + name + " " + type + "\n"), std::string::npos)
        << name << " " << type << " missing in:\n"
        << r.body;
  }
  // Sample values: "name value" or "name{labels} value".
  auto value = [&](const std::string& series) -> double {
    const size_t at = r.body.find("\n" + series + " ");
    if (at == std::string::npos) return -1;
    return std::stod(r.body.substr(at + series.size() + 2));
  };
  EXPECT_GE(value("tinkerbell_appends_total"), 4);
  EXPECT_GE(value("tinkerbell_append_requests_total"), 2);
  EXPECT_GE(value("tinkerbell_queries_total"), 1);
  EXPECT_GE(value("tinkerbell_fsyncs_total"), 1);
  EXPECT_GE(value("tinkerbell_http_requests_total{code=\"200\"}"), 3);
  EXPECT_EQ(r.body.find("run=\""), std::string::npos) << "a per-run label";
}

TEST_F(QueryTest, UnknownPathsAre404AndWrongMethods405) {
  for (const std::string t : {"/v1/nope", "/nope", "/v2/events", "/v1/runs/x/nope", "/v1/runs/"}) {
    SCOPED_TRACE(t);
    EXPECT_TRUE(IsError(Get(t), 404, "not_found"));
  }
  const std::vector<std::pair<std::string, std::string>> wrong = {
      {"DELETE", "/v1/events"}, {"PUT", "/v1/events"},   {"PATCH", "/v1/events"},
      {"GET", "/v1/query"},     {"DELETE", "/v1/query"}, {"POST", "/v1/stats"},
      {"POST", "/v1/tasks"},    {"PUT", "/metrics"},     {"DELETE", "/v1/runs/7/report"},
  };
  for (const auto& [method, target] : wrong) {
    SCOPED_TRACE(method + " " + target);
    EXPECT_TRUE(IsError(HttpRequest(server_.tcp(), method, target, "", server_.auth()), 405,
                        "method_not_allowed"));
  }
  EXPECT_TRUE(Events().empty());
}

TEST_F(QueryTest, MoreConnectionsThanMaxConnectionsAre503) {
  ASSERT_EQ(Stop(), 0);
  ASSERT_TRUE(Start({"--max-connections", "2"})) << server_.error();
  HttpConnection a(server_.tcp()), b(server_.unix_socket());
  ASSERT_EQ(a.Request("GET", "/v1/stats", "", server_.auth()).status, 200);
  ASSERT_EQ(b.Request("GET", "/v1/stats", "", server_.auth()).status, 200);
  const HttpResponse third = HttpRequest(server_.tcp(), "GET", "/v1/stats", "", server_.auth());
  EXPECT_TRUE(IsError(third, 503, "overloaded"));
  // The two still work; once one goes away a new connection is served again (the daemon sees
  // the close asynchronously: retry, bounded).
  EXPECT_EQ(a.Request("GET", "/healthz").status, 200);
  b.Close();
  HttpResponse again;
  for (int i = 0; i < 200; ++i) {
    again = HttpRequest(server_.tcp(), "GET", "/v1/stats", "", server_.auth());
    if (again.status == 200) break;
    std::this_thread::sleep_for(milliseconds(25));
  }
  EXPECT_EQ(again.status, 200) << again.Describe();
}

TEST_F(QueryTest, QueryOverQueryTimeoutIs503) {
  ASSERT_EQ(Stop(), 0);
  ASSERT_TRUE(Start({"--query-timeout", "1"})) << server_.error();
  // Enough events that sorting them all takes far more than the 1 ms allowed.
  std::string batch;
  for (int i = 0; i < 20000; ++i) {
    batch +=
        Envelope("qt/" + std::to_string(i % 50), "myapp.tick", {{"n", i}, {"pad", "xxxxxxxx"}}) +
        "\n";
  }
  Append(batch);
  const HttpResponse r =
      Post("/v1/query",
           R"({"query":"events | sort data.n desc | group by stream, count() | sort stream"})");
  EXPECT_TRUE(IsError(r, 503, "query_timeout"));
  // The daemon is still serving, and a cheap request is answered.
  EXPECT_EQ(HttpRequest(server_.tcp(), "GET", "/healthz").status, 200);
  EXPECT_EQ(Get("/v1/stats").status, 200);
}

}  // namespace
}  // namespace tink::testing
