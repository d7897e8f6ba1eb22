// The web view's side of `tink serve` (docs/http.md "The web view", docs/web.md): the login that
// turns the token into an HttpOnly SameSite=Strict cookie, the cookie on every endpoint, the
// pages and files, and the JSON endpoints the pages read — GET /v1/runs (against the `runs`
// query and the llm.response events), GET /v1/runs/{run}/timeline (the Gantt window: tree
// order, state spans, marks, failures, as of, windows), /file (against the events written) and
// /bundle (cloned with git). The pages themselves are tested in a browser (tests/node/ui.test.mjs).
#include <fstream>

#include "server/server_test_util.h"

namespace tink::testing {
namespace {

using nlohmann::json;

// A run as an agent records it: a parent task with two children, one failing after a failed
// tool call, LLM calls with tokens, and a file written twice.
std::string RunEvents(const std::string& run) {
  const std::string s = "run/" + run;
  std::string out;
  auto add = [&](const std::string& stream, const std::string& type, const json& data) {
    out += Envelope(stream, type, data, "", run) + "\n";
  };
  add(s, "run.started", {{"name", "web " + run}, {"agent", "test-agent"}, {"model", "m1"}});
  add(s + "/task/a", "task.created", {{"task", "a"}, {"name", "plan"}});
  add(s + "/task/a", "task.started", {{"task", "a"}});
  add(s + "/task/b", "task.created", {{"task", "b"}, {"parent", "a"}, {"name", "edit"}});
  add(s + "/task/c", "task.created", {{"task", "c"}, {"parent", "a"}, {"name", "test"}});
  add(s + "/task/b", "task.started", {{"task", "b"}});
  add(s + "/task/b", "llm.request",
      {{"task", "b"},
       {"call_id", "k1"},
       {"model", "m1"},
       {"messages", json::array({{{"role", "user"}, {"content", "hi"}}})}});
  add(s + "/task/b", "llm.response",
      {{"task", "b"},
       {"call_id", "k1"},
       {"content", "ok"},
       {"input_tokens", 100},
       {"output_tokens", 7}});
  add(s + "/task/b", "file.write", {{"task", "b"}, {"path", "src/a.txt"}, {"content", "one\n"}});
  add(s + "/task/b", "file.write",
      {{"task", "b"}, {"path", "src/a.txt"}, {"content", "one\ntwo\n"}});
  add(s + "/task/b", "task.succeeded", {{"task", "b"}});
  add(s + "/task/c", "task.started", {{"task", "c"}});
  add(s + "/task/c", "tool.call", {{"task", "c"}, {"tool", "bash"}, {"call_id", "t1"}});
  add(s + "/task/c", "tool.result",
      {{"task", "c"}, {"tool", "bash"}, {"call_id", "t1"}, {"exit_code", 2}});
  add(s + "/task/c", "llm.response",
      {{"task", "c"},
       {"call_id", "k2"},
       {"content", "no"},
       {"input_tokens", 50},
       {"output_tokens", 3}});
  add(s + "/task/c", "task.failed", {{"task", "c"}, {"error", "tests failed"}});
  add(s + "/task/a", "task.failed", {{"task", "a"}, {"error", "c failed"}});
  add(s, "run.finished", {{"status", "failed"}, {"error", "c failed"}});
  return out;
}

class WebTest : public ServerTest {
 protected:
  void SetUp() override { ASSERT_TRUE(Start()) << server_.error(); }

  HttpResponse Anon(const std::string& method, const std::string& target,
                    const std::string& body = "", HttpHeaders headers = {}) {
    return HttpRequest(server_.tcp(), method, target, body, headers);
  }
  // POST /login with the form body; the cookie's "name=value" from Set-Cookie ("" if none).
  std::string Login(const std::string& token, HttpResponse* answer = nullptr) {
    HttpResponse r = Anon("POST", "/login", "token=" + token,
                          {{"Content-Type", "application/x-www-form-urlencoded"}});
    if (answer != nullptr) *answer = r;
    const std::string set = r.Header("set-cookie");
    return set.substr(0, set.find(';'));
  }
  std::vector<uint64_t> Lsns(const std::string& jsonl) {
    json a = Append(jsonl);
    std::vector<uint64_t> out;
    for (const json& l : a["lsns"]) out.push_back(l.get<uint64_t>());
    return out;
  }
  json Query(const std::string& q) {
    HttpResponse r =
        Post("/v1/query", json({{"query", q}}).dump(), {{"Content-Type", "application/json"}});
    EXPECT_EQ(r.status, 200) << r.Describe();
    return ParseJson(r.body);
  }
};

TEST_F(WebTest, LoginSetsAnHttpOnlyStrictCookieThatEveryEndpointAccepts) {
  // No token: the page sends the browser to the login page, the data endpoints refuse.
  HttpResponse root = Anon("GET", "/");
  EXPECT_EQ(root.status, 303) << root.Describe();
  EXPECT_EQ(root.Header("location"), "/login");
  EXPECT_TRUE(IsError(Anon("GET", "/v1/runs"), 401, "unauthorized"));
  EXPECT_TRUE(IsError(Anon("GET", "/v1/runs/x/timeline"), 401, "unauthorized"));

  HttpResponse wrong;
  EXPECT_EQ(Login("0123456789abcdef0123456789abcdef", &wrong), "");
  EXPECT_EQ(wrong.status, 303);
  EXPECT_EQ(wrong.Header("location"), "/login?error=1");
  EXPECT_EQ(Login("", &wrong), "");
  EXPECT_EQ(wrong.Header("location"), "/login?error=1");

  HttpResponse ok;
  const std::string cookie = Login(server_.token(), &ok);
  EXPECT_EQ(ok.status, 303);
  EXPECT_EQ(ok.Header("location"), "/");
  EXPECT_EQ(cookie, "tink_token=" + server_.token());
  const std::string set = ok.Header("set-cookie");
  EXPECT_NE(set.find("HttpOnly"), std::string::npos) << set;
  EXPECT_NE(set.find("SameSite=Strict"), std::string::npos) << set;
  EXPECT_NE(set.find("Path=/"), std::string::npos) << set;

  // The cookie is a credential for everything the pages use, the follow stream included.
  Append(RunEvents("w1"));
  EXPECT_EQ(Anon("GET", "/v1/runs", "", {{"Cookie", "a=b; " + cookie}}).status, 200);
  EXPECT_EQ(Anon("GET", "/v1/runs/w1/timeline", "", {{"Cookie", cookie}}).status, 200);
  EXPECT_EQ(Anon("GET", "/v1/events?limit=1", "", {{"Cookie", cookie}}).status, 200);
  HttpResponse q = Anon("POST", "/v1/query", json({{"query", "runs | count"}}).dump(),
                        {{"Cookie", cookie}, {"Content-Type", "application/json"}});
  EXPECT_EQ(q.status, 200) << q.Describe();
  EXPECT_TRUE(
      IsError(Anon("GET", "/v1/runs", "", {{"Cookie", "tink_token=nope"}}), 403, "forbidden"));
  // A stale cookie on the page itself: back to the login page, not an error.
  HttpResponse stale = Anon("GET", "/", "", {{"Cookie", "tink_token=nope"}});
  EXPECT_EQ(stale.status, 303);
  EXPECT_EQ(stale.Header("location"), "/login");
  // A page of another site cannot use the cookie to change anything.
  HttpResponse cross = Anon("POST", "/v1/events", Note("x", "from elsewhere"),
                            {{"Cookie", cookie}, {"Origin", "http://evil.example"}});
  EXPECT_TRUE(IsError(cross, 403, "forbidden"));
  const std::string host = "127.0.0.1:" + std::to_string(server_.tcp().port);
  HttpResponse same = Anon("POST", "/v1/events", Note("x", "from the page"),
                           {{"Cookie", cookie}, {"Origin", "http://" + host}, {"Host", host}});
  EXPECT_EQ(same.status, 200) << same.Describe();
  EXPECT_EQ(Query("events | where stream == 'x' | count")[0]["count"], 1);

  HttpResponse out = Anon("POST", "/logout");
  EXPECT_EQ(out.status, 303);
  EXPECT_NE(out.Header("set-cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(Anon("GET", "/logout").status, 405);
}

TEST_F(WebTest, PagesAndFilesAreServedFromTheBinaryWithAPolicyThatLoadsNothingFromOutside) {
  const std::string cookie = Login(server_.token());
  HttpResponse page = Anon("GET", "/", "", {{"Cookie", cookie}});
  ASSERT_EQ(page.status, 200) << page.Describe();
  EXPECT_EQ(page.Header("content-type"), "text/html; charset=utf-8");
  const std::string csp = page.Header("content-security-policy");
  EXPECT_NE(csp.find("default-src 'self'"), std::string::npos) << csp;
  EXPECT_NE(page.body.find("<html"), std::string::npos);
  // The files need no token (they hold no data); the login page neither.
  HttpResponse login = Anon("GET", "/login");
  EXPECT_EQ(login.status, 200);
  EXPECT_NE(login.body.find("name=\"token\""), std::string::npos) << login.body;
  HttpResponse app = Anon("GET", "/ui/app.js");
  EXPECT_EQ(app.status, 200) << app.Describe();
  EXPECT_EQ(app.Header("content-type"), "text/javascript; charset=utf-8");
  // Nothing outside shell/web/ is reachable.
  for (const std::string t : {"/ui/../token", "/ui/%2e%2e/token", "/ui/", "/ui/nope.js",
                              "/ui//etc/passwd", "/ui/..%2ftoken"}) {
    EXPECT_EQ(Anon("GET", t).status, 404) << t;
  }
  EXPECT_EQ(Anon("POST", "/ui/app.js").status, 405);
  HttpResponse head = Anon("HEAD", "/ui/app.js");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.body, "");
  EXPECT_EQ(head.Header("content-length"), std::to_string(app.body.size()));
}

TEST(WebDirTest, TinkWebDirServesFilesFromDiskForDevelopment) {
  TempDir tmp;
  { std::ofstream(tmp.Sub("index.html")) << "<html>dev page</html>"; }
  ::setenv("TINK_WEB_DIR", tmp.path().c_str(), 1);
  TinkServer server(kTinkBin);
  ServerOptions o;
  o.store = tmp.Sub("store");
  const bool started = server.Start(o);
  ::unsetenv("TINK_WEB_DIR");
  ASSERT_TRUE(started) << server.error();
  HttpResponse page = HttpRequest(server.tcp(), "GET", "/", "", server.auth());
  EXPECT_EQ(page.body, "<html>dev page</html>");
  std::ofstream(tmp.Sub("index.html")) << "<html>edited</html>";
  EXPECT_EQ(HttpRequest(server.tcp(), "GET", "/", "", server.auth()).body, "<html>edited</html>");
  EXPECT_EQ(HttpRequest(server.tcp(), "GET", "/ui/../store/token").status, 404);
}

TEST_F(WebTest, RunsAreTheRunsSourceWithTheirLlmCallsAndTokens) {
  Append(RunEvents("r1"));
  Append(RunEvents("r2"));
  HttpResponse r = Get("/v1/runs");
  ASSERT_EQ(r.status, 200) << r.Describe();
  const json got = ParseJson(r.body);
  const json want = Query("runs");
  ASSERT_EQ(got["runs"].size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    for (auto& [k, v] : want[i].items()) EXPECT_EQ(got["runs"][i][k], v) << k;
    EXPECT_EQ(got["runs"][i]["llm_calls"], 2);
    EXPECT_EQ(got["runs"][i]["input_tokens"], 150);
    EXPECT_EQ(got["runs"][i]["output_tokens"], 10);
  }
  EXPECT_EQ(got["last_lsn"], Query("events | count")[0]["count"]);
  // The totals follow new events (they are kept between requests and brought up to date).
  Append(Envelope("run/r2/task/b", "llm.response",
                  {{"task", "b"},
                   {"call_id", "k3"},
                   {"content", "x"},
                   {"input_tokens", 1000},
                   {"output_tokens", 1}},
                  "", "r2"));
  const json again = ParseJson(Get("/v1/runs").body);
  EXPECT_EQ(again["runs"][0]["input_tokens"], 150);
  EXPECT_EQ(again["runs"][1]["input_tokens"], 1150);
  EXPECT_EQ(again["runs"][1]["llm_calls"], 3);
  EXPECT_EQ(Anon("POST", "/v1/runs", "", server_.auth()).status, 405);
  // One run: the same row.
  const json one = ParseJson(Get("/v1/runs?run=r2").body);
  ASSERT_EQ(one["runs"].size(), 1u) << one;
  EXPECT_EQ(one["runs"][0], again["runs"][1]);
  EXPECT_TRUE(IsError(Get("/v1/runs?run=nope"), 404, "not_found"));
  EXPECT_TRUE(IsError(Get("/v1/runs?run="), 400, "bad_request"));
}

TEST_F(WebTest, TimelineIsTheTaskTreeWithSpansMarksAndFailuresAsOfAnyPoint) {
  Append(Note("other", "before"));
  const std::vector<uint64_t> lsns = Lsns(RunEvents("t1"));
  HttpResponse r = Get("/v1/runs/t1/timeline");
  ASSERT_EQ(r.status, 200) << r.Describe();
  const json g = ParseJson(r.body);
  EXPECT_EQ(g["run"], "t1");
  EXPECT_EQ(g["first_lsn"], lsns.front());
  EXPECT_EQ(g["run_last_lsn"], lsns.back());
  EXPECT_EQ(g["as_of"], lsns.back());
  EXPECT_EQ(g["total_tasks"], 3);
  // Depth-first: the parent, then its children in the order they were created.
  ASSERT_EQ(g["tasks"].size(), 3u);
  EXPECT_EQ(g["tasks"][0]["id"], "t1/a");
  EXPECT_EQ(g["tasks"][0]["depth"], 0);
  EXPECT_EQ(g["tasks"][1]["id"], "t1/b");
  EXPECT_EQ(g["tasks"][1]["depth"], 1);
  EXPECT_EQ(g["tasks"][2]["id"], "t1/c");
  EXPECT_EQ(g["tasks"][2]["state"], "failed");
  EXPECT_EQ(g["tasks"][2]["error"], "tests failed");
  // c: created, running, failed; the failure's span is the event's LSN.
  const json& spans = g["tasks"][2]["spans"];
  ASSERT_EQ(spans.size(), 3u) << spans;
  EXPECT_EQ(spans[0]["state"], "created");
  EXPECT_EQ(spans[1]["state"], "running");
  EXPECT_EQ(spans[2]["state"], "failed");
  EXPECT_EQ(spans[2]["lsn"], lsns[15]);
  EXPECT_TRUE(spans[1]["to_ms"].is_number());
  // Marks: b's LLM call and file writes, c's failed tool result.
  std::vector<std::string> btypes;
  for (const json& m : g["tasks"][1]["marks"]) btypes.push_back(m["type"]);
  EXPECT_EQ(btypes,
            (std::vector<std::string>{"llm.request", "llm.response", "file.write", "file.write"}));
  bool failed_result = false;
  for (const json& m : g["tasks"][2]["marks"]) {
    if (m["type"] == "tool.result") failed_result = m["failed"].get<bool>();
    EXPECT_FALSE(m["label"].get<std::string>().empty());
  }
  EXPECT_TRUE(failed_result);
  ASSERT_EQ(g["failures"].size(), 2u);
  EXPECT_EQ(g["states"]["failed"], 2);
  EXPECT_EQ(g["states"]["succeeded"], 1);
  EXPECT_EQ(g["ticks"].front()[0], lsns.front());
  EXPECT_EQ(g["ticks"].back()[0], lsns.back());

  // As of the LSN of c's tool call: c is running, nothing has failed, later marks are absent.
  const json early = ParseJson(Get("/v1/runs/t1/timeline?as_of=" + std::to_string(lsns[12])).body);
  EXPECT_EQ(early["as_of"], lsns[12]);
  EXPECT_EQ(early["tasks"][2]["state"], "running");
  EXPECT_EQ(early["tasks"][2]["marks"].size(), 1u);
  EXPECT_TRUE(early["failures"].empty());
  EXPECT_EQ(early["states"]["running"], 2);
  EXPECT_TRUE(early["tasks"][2]["spans"].back()["to_ms"].is_null());
  // Before c was created, the tree has two tasks.
  EXPECT_EQ(
      ParseJson(Get("/v1/runs/t1/timeline?as_of=" + std::to_string(lsns[3])).body)["total_tasks"],
      2);

  // Windows of the rows.
  const json w = ParseJson(Get("/v1/runs/t1/timeline?offset=1&limit=1").body);
  ASSERT_EQ(w["tasks"].size(), 1u);
  EXPECT_EQ(w["tasks"][0]["id"], "t1/b");
  EXPECT_EQ(w["total_tasks"], 3);
  EXPECT_EQ(ParseJson(Get("/v1/runs/t1/timeline?offset=9").body)["tasks"].size(), 0u);

  EXPECT_TRUE(IsError(Get("/v1/runs/nope/timeline"), 404, "not_found"));
  EXPECT_TRUE(IsError(Get("/v1/runs/t1/timeline?limit=0"), 400, "bad_request"));
  EXPECT_TRUE(IsError(Get("/v1/runs/t1/timeline?limit=100000"), 400, "bad_request"));
  EXPECT_TRUE(IsError(Get("/v1/runs/t1/timeline?as_of=-1"), 400, "bad_request"));
  EXPECT_TRUE(IsError(Get("/v1/runs/t1/timeline?offset=x"), 400, "bad_request"));
}

TEST_F(WebTest, TimelineExtentIsTheTasksTimeAndTicksAreAtMost400) {
  // Task events recorded with their source's time (2020); a note without one (now) follows.
  std::string events;
  auto add = [&](const std::string& type, json data, int second) {
    data["task"] = "a";
    char occurred[32];
    std::snprintf(occurred, sizeof(occurred), "2020-01-01T00:00:%02dZ", second);
    events += json({{"stream", "run/x1/task/a"},
                    {"type", type},
                    {"run", "x1"},
                    {"occurred", occurred},
                    {"data", data}})
                  .dump() +
              "\n";
  };
  add("task.created", {{"name", "a"}}, 0);
  add("task.started", json::object(), 1);
  for (int i = 0; i < 900; ++i) add("tool.call", {{"tool", "bash"}}, 2 + i % 50);
  add("task.succeeded", json::object(), 59);
  Append(events);
  Append(Envelope("run/x1", "note", {{"text", "imported later"}}, "", "x1"));
  const json g = ParseJson(Get("/v1/runs/x1/timeline").body);
  const int64_t t0 = 1577836800000;  // 2020-01-01T00:00:00Z
  EXPECT_EQ(g["start_ms"], t0);
  EXPECT_EQ(g["end_ms"], t0 + 59000);
  EXPECT_LE(g["ticks"].size(), 400u);
  EXPECT_GE(g["ticks"].size(), 300u);
  EXPECT_EQ(g["ticks"].back()[0], g["run_last_lsn"]);
  // Beyond 200 marks a task they are sampled; marks_total counts them all.
  EXPECT_EQ(g["tasks"][0]["marks_total"], 900);
  EXPECT_LE(g["tasks"][0]["marks"].size(), 200u);
  EXPECT_GE(g["tasks"][0]["marks"].size(), 150u);
}

TEST_F(WebTest, QueryMaxRowsKeepsTheFirstRowsAndSaysTheAnswerWasCut) {
  Append(RunEvents("m1"));
  auto ask = [&](const json& body) {
    return Post("/v1/query", body.dump(), {{"Content-Type", "application/json"}});
  };
  HttpResponse all = ask({{"query", "events | select lsn"}});
  HttpResponse cut = ask({{"query", "events | select lsn"}, {"max_rows", 5}});
  ASSERT_EQ(cut.status, 200) << cut.Describe();
  const json a = ParseJson(all.body), c = ParseJson(cut.body);
  ASSERT_EQ(a.size(), 18u);
  ASSERT_EQ(c.size(), 5u);
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(c[i], a[i]);
  EXPECT_EQ(cut.Header("x-tinkerbell-truncated"), "5");
  EXPECT_EQ(all.Header("x-tinkerbell-truncated"), "");
  // Exactly max_rows rows is not a cut; 0 means all.
  EXPECT_EQ(
      ask({{"query", "events | select lsn"}, {"max_rows", 18}}).Header("x-tinkerbell-truncated"),
      "");
  EXPECT_EQ(ParseJson(ask({{"query", "events | select lsn"}, {"max_rows", 0}}).body).size(), 18u);
  EXPECT_TRUE(IsError(ask({{"query", "events"}, {"max_rows", -1}}), 400, "bad_request"));
  EXPECT_TRUE(IsError(ask({{"query", "events"}, {"max_rows", "5"}}), 400, "bad_request"));
}

TEST_F(WebTest, HeadsFollowTheLogsEndWithoutItsEvents) {
  Append(RunEvents("h1"));
  const uint64_t first = Query("events | count")[0]["count"].get<uint64_t>();
  SseReader heads(server_.tcp());
  HttpResponse open =
      heads.Open("/v1/events?follow=1&heads=1", server_.auth(), std::chrono::seconds(10));
  ASSERT_EQ(open.status, 200) << open.Describe();
  // At once: where the log ends.
  std::optional<SseEvent> e = heads.Next(std::chrono::seconds(10));
  ASSERT_TRUE(e) << heads.error();
  EXPECT_EQ(e->event, "head");
  EXPECT_EQ(e->id, std::to_string(first));
  EXPECT_EQ(ParseJson(e->data), json({{"last_lsn", first}}));
  // 100 appends: heads arrive (at most one per append), the last one names the last LSN, and
  // nothing of the events themselves is sent.
  for (int i = 0; i < 100; ++i) Append(Note("n", "x" + std::to_string(i)));
  uint64_t last = 0;
  int count = 0;
  while (last < first + 100) {
    std::optional<SseEvent> h = heads.Next(std::chrono::seconds(10));
    ASSERT_TRUE(h) << heads.error() << " after " << last;
    EXPECT_EQ(h->event, "head");
    EXPECT_EQ(h->data.find("note"), std::string::npos);
    const uint64_t lsn = ParseJson(h->data)["last_lsn"].get<uint64_t>();
    EXPECT_GT(lsn, last);
    last = lsn;
    ++count;
  }
  EXPECT_EQ(last, first + 100);
  EXPECT_LE(count, 100);
  // Resuming after a head sends nothing until the log moves; heads takes no filter.
  SseReader resumed(server_.tcp());
  ASSERT_EQ(
      resumed
          .Open("/v1/events?follow=1&heads=1",
                server_.auth({{"Last-Event-ID", std::to_string(last)}}), std::chrono::seconds(10))
          .status,
      200);
  EXPECT_FALSE(resumed.Next(std::chrono::milliseconds(500)));
  EXPECT_TRUE(IsError(Get("/v1/events?heads=1"), 400, "bad_request"));
  EXPECT_TRUE(IsError(Get("/v1/events?follow=1&heads=1&run=h1"), 400, "bad_request"));
  EXPECT_TRUE(IsError(Get("/v1/events?follow=1&heads=2"), 400, "bad_request"));
}

TEST_F(WebTest, FileIsTheCanvasContentAsOfAPoint) {
  const std::vector<uint64_t> lsns = Lsns(RunEvents("f1"));
  HttpResponse now = Get("/v1/runs/f1/file?path=src/a.txt");
  ASSERT_EQ(now.status, 200) << now.Describe();
  EXPECT_EQ(now.body, "one\ntwo\n");
  EXPECT_EQ(now.Header("content-type"), "text/plain; charset=utf-8");
  HttpResponse first = Get("/v1/runs/f1/file?path=src%2Fa.txt&as_of=" + std::to_string(lsns[8]));
  EXPECT_EQ(first.body, "one\n");
  EXPECT_EQ(first.Header("x-tinkerbell-lsn"), std::to_string(lsns[8]));
  EXPECT_TRUE(IsError(Get("/v1/runs/f1/file?path=src/a.txt&as_of=" + std::to_string(lsns[7])), 404,
                      "not_found"));
  EXPECT_TRUE(IsError(Get("/v1/runs/f1/file?path=nope"), 404, "not_found"));
  EXPECT_TRUE(IsError(Get("/v1/runs/f1/file"), 400, "bad_request"));
}

TEST_F(WebTest, BundleClonesToTheRunsCanvasHistory) {
  Append(RunEvents("b1"));
  HttpResponse b = Get("/v1/runs/b1/bundle");
  ASSERT_EQ(b.status, 200) << b.Describe();
  EXPECT_EQ(b.Header("content-type"), "application/x-git-bundle");
  EXPECT_NE(b.Header("content-disposition").find("b1.bundle"), std::string::npos);
  const std::string path = tmp_.Sub("b1.bundle");
  {
    std::ofstream out(path, std::ios::binary);
    out << b.body;
  }
  const std::string clone = tmp_.Sub("clone");
  CommandResult c = RunCommand("git clone -q " + ShellQuote(path) + " " + ShellQuote(clone));
  ASSERT_EQ(c.exit_code, 0) << c.out << c.err;
  std::ifstream in(clone + "/src/a.txt");
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "one\ntwo\n");
  // One commit per file-changing event after the base (an empty base here).
  CommandResult log = RunCommand("git -C " + ShellQuote(clone) + " rev-list --count HEAD");
  EXPECT_EQ(log.out, "3\n");
  EXPECT_TRUE(IsError(Get("/v1/runs/nope/bundle"), 404, "not_found"));
}

}  // namespace
}  // namespace tink::testing
