// POST /v1/events and GET /v1/events (docs/http.md): one envelope or a JSONL batch, atomic;
// the answer's LSNs; ids as idempotency keys (a re-sent batch answers the original LSNs with
// "duplicate":true and writes nothing); expected_version and 409 conflict with actual_version;
// bad_event naming line and field; bad_request for what is not JSON or not an object; the log as
// JSONL equal to `tink log --json` with each filter; follow=1 as Server-Sent Events from `from`,
// then live, and from Last-Event-ID.
#include <map>
#include <set>

#include "server/server_test_util.h"

namespace tink::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

class EventsTest : public ServerTest {
 protected:
  void SetUp() override { ASSERT_TRUE(Start()) << server_.error(); }
};

// The conflict's actual_version: docs/http.md names the field but not where it sits; look in
// the error object, then at the top.
json ActualVersion(const HttpResponse& r) {
  const json j = ParseJson(r.body);
  if (!j.is_object()) return nullptr;
  if (j.contains("error") && j["error"].is_object() && j["error"].contains("actual_version")) {
    return j["error"]["actual_version"];
  }
  return j.contains("actual_version") ? j["actual_version"] : json(nullptr);
}

TEST_F(EventsTest, AppendOneEnvelopeThenABatch) {
  const HttpResponse r = Post("/v1/events", Note("run/1", "first"));
  ASSERT_EQ(r.status, 200) << r.Describe();
  EXPECT_EQ(r.Header("content-type").rfind("application/json", 0), 0u) << r.Header("content-type");
  EXPECT_EQ(ParseJson(r.body),
            json::parse(R"({"lsns":[1],"first_lsn":1,"last_lsn":1,"duplicate":false})"))
      << r.body;
  const json b = Append(Note("run/1", "a") + "\n" + Note("run/2", "b") + "\n" +
                        Envelope("deploy/prod", "myapp.deploy", {{"env", "prod"}}) + "\n");
  EXPECT_EQ(b, json::parse(R"({"lsns":[2,3,4],"first_lsn":2,"last_lsn":4,"duplicate":false})"));
  // A JSONL body without the final newline is the same batch format.
  const json c = Append(Note("run/1", "c") + "\n" + Note("run/1", "d"));
  EXPECT_EQ(c, json::parse(R"({"lsns":[5,6],"first_lsn":5,"last_lsn":6,"duplicate":false})"));
  const std::vector<json> events = Events();
  ASSERT_EQ(events.size(), 6u);
  EXPECT_EQ(events[0]["data"]["text"], "first");
  EXPECT_EQ(events[3]["type"], "myapp.deploy");
  EXPECT_EQ(events[3]["data"], json::parse(R"({"env":"prod"})"));
}

TEST_F(EventsTest, BadEventRejectsTheWholeBatchNamingLineAndField) {
  Append(Note("s", "before"));
  const std::string batch = Note("s", "ok 1") + "\n" + R"({"stream":"s","data":{"text":"x"}})" +
                            "\n" + Note("s", "ok 3") + "\n";
  const HttpResponse r = Post("/v1/events", batch);
  ASSERT_TRUE(IsError(r, 400, "bad_event"));
  const std::string msg = ErrorMessage(r);
  EXPECT_NE(msg.find("line 2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("type"), std::string::npos) << msg;
  // Other envelopes that do not validate (docs/events.md): each a bad_event, nothing written.
  for (const std::string& bad : {
           std::string(R"({"stream":"s","type":"note","data":{},"lsn":5})"),
           std::string(R"({"stream":"s","type":"note","data":{},"colour":"red"})"),
           std::string(R"({"stream":"s","type":"tool.reslt","data":{}})"),
           std::string(R"({"stream":"s","type":"tool.result","data":{"exitcode":1}})"),
           std::string(R"({"stream":"s","type":"tool.result","data":{"exit_code":"1"}})"),
           std::string(R"({"stream":"","type":"note","data":{}})"),
           std::string(R"({"stream":"s","type":"task.explode","data":{}})"),
           std::string(R"({"stream":"s","type":"note","data":[1,2]})"),
       }) {
    SCOPED_TRACE(bad);
    EXPECT_TRUE(IsError(Post("/v1/events", bad), 400, "bad_event"));
  }
  EXPECT_EQ(Events().size(), 1u) << "a rejected batch wrote events";
}

TEST_F(EventsTest, NotJsonOrNotAnObjectIsBadRequest) {
  Append(Note("s", "before"));
  for (const std::string& bad :
       {std::string("{"), std::string("not json at all"), std::string("[1,2,3]"),
        std::string("\"a string\""), std::string("42"), std::string("null")}) {
    SCOPED_TRACE(bad);
    EXPECT_TRUE(IsError(Post("/v1/events", bad), 400, "bad_request"));
  }
  EXPECT_EQ(Events().size(), 1u);
}

TEST_F(EventsTest, SameIdsAnswerTheOriginalLsnsAndWriteNothing) {
  Append(Note("other", "x"));
  const std::string batch =
      Note("idem/s", "one", "idem-1") + "\n" + Note("idem/s", "two", "idem-2") + "\n";
  const json first = Append(batch);
  EXPECT_EQ(first, json::parse(R"({"lsns":[2,3],"first_lsn":2,"last_lsn":3,"duplicate":false})"));
  Append(Note("other", "y"));
  for (int i = 0; i < 3; ++i) {
    const json again = Append(batch);
    EXPECT_EQ(again, json::parse(R"({"lsns":[2,3],"first_lsn":2,"last_lsn":3,"duplicate":true})"));
  }
  // The same id over the UNIX socket, one envelope.
  const HttpResponse u = HttpRequest(server_.unix_socket(), "POST", "/v1/events",
                                     Note("idem/s", "one", "idem-1"), server_.auth());
  ASSERT_EQ(u.status, 200) << u.Describe();
  EXPECT_EQ(ParseJson(u.body),
            json::parse(R"({"lsns":[2],"first_lsn":2,"last_lsn":2,"duplicate":true})"));
  const std::vector<json> events = Events();
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[1]["id"], "idem-1");
  EXPECT_EQ(events[2]["id"], "idem-2");
}

// Ids are never stored twice, whatever the batch: the same id twice in one batch, a batch with
// some ids stored and some new (docs/http.md only says what happens when *every* id is stored),
// and expected_version on a batch of two streams (the parameter is "on the batch's one stream").
// Each answer is a 200 or a 4xx error, never a 5xx; a 4xx writes nothing.
TEST_F(EventsTest, IdsAreNeverStoredTwiceWhateverTheBatch) {
  Append(Note("ids/s", "stored", "ids-1"));
  const std::vector<std::string> batches = {
      Note("ids/s", "twice in one", "ids-2") + "\n" + Note("ids/s", "twice in one", "ids-2") + "\n",
      Note("ids/s", "stored again", "ids-1") + "\n" + Note("ids/s", "new", "ids-3") + "\n",
      Note("ids/s", "new first", "ids-4") + "\n" + Note("ids/s", "stored again", "ids-1") + "\n",
  };
  for (const std::string& b : batches) {
    SCOPED_TRACE(b);
    const size_t before = Events().size();
    const HttpResponse r = Post("/v1/events", b);
    EXPECT_TRUE(r.status == 200 || IsClientError(r)) << r.Describe();
    if (r.status != 200) {
      EXPECT_EQ(Events().size(), before) << "a refused batch wrote events";
    }
  }
  const HttpResponse two = Post("/v1/events?expected_version=no_stream",
                                Note("ids/x", "a") + "\n" + Note("ids/y", "b") + "\n");
  EXPECT_TRUE(two.status == 200 || IsClientError(two)) << two.Describe();
  std::map<std::string, int> seen;
  for (const json& e : Events()) {
    if (e["id"].get<std::string>().rfind("ids-", 0) == 0) ++seen[e["id"].get<std::string>()];
  }
  for (const auto& [id, n] : seen) EXPECT_EQ(n, 1) << id << " is in the log " << n << " times";
  EXPECT_EQ(seen["ids-1"], 1);
}

// HTTP/1.1 pipelining: requests written back to back on one connection are answered in order.
TEST_F(EventsTest, PipelinedRequestsAreAnsweredInOrder) {
  HttpConnection c(server_.tcp());
  std::string bytes;
  for (int i = 1; i <= 3; ++i) {
    const std::string body = Note("pipe/s", std::to_string(i));
    bytes += "POST /v1/events HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " +
             server_.token() + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
             body;
  }
  bytes += "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n";
  ASSERT_TRUE(c.WriteRaw(bytes));
  for (int i = 1; i <= 3; ++i) {
    const HttpResponse r = c.ReadResponse();
    ASSERT_EQ(r.status, 200) << "answer " << i << ": " << r.Describe();
    EXPECT_EQ(ParseJson(r.body)["lsns"], json::array({i})) << r.body;
  }
  const HttpResponse h = c.ReadResponse();
  ASSERT_EQ(h.status, 200) << h.Describe();
  EXPECT_EQ(ParseJson(h.body)["last_lsn"], 3) << h.body;
}

TEST_F(EventsTest, ExpectedVersion) {
  // A new stream: exists fails (actual_version "no_stream"), no_stream holds.
  HttpResponse r = Post("/v1/events?expected_version=exists", Note("ev/a", "x"));
  ASSERT_TRUE(IsError(r, 409, "conflict"));
  EXPECT_EQ(ActualVersion(r), json("no_stream")) << r.body;
  json a = Append(Note("ev/a", "1"), "?expected_version=no_stream");
  ASSERT_TRUE(a.is_object());
  // Now no_stream fails with a number, and that number holds as expected_version=N.
  r = Post("/v1/events?expected_version=no_stream", Note("ev/a", "x"));
  ASSERT_TRUE(IsError(r, 409, "conflict"));
  const json v = ActualVersion(r);
  ASSERT_TRUE(v.is_number_unsigned()) << r.body;
  const uint64_t version = v.get<uint64_t>();
  Append(Note("ev/a", "2"), "?expected_version=" + std::to_string(version));
  // The version moved on: the old N fails and names the new one.
  r = Post("/v1/events?expected_version=" + std::to_string(version), Note("ev/a", "x"));
  ASSERT_TRUE(IsError(r, 409, "conflict"));
  ASSERT_TRUE(ActualVersion(r).is_number_unsigned()) << r.body;
  EXPECT_EQ(ActualVersion(r).get<uint64_t>(), version + 1) << r.body;
  r = Post("/v1/events?expected_version=" + std::to_string(version + 7), Note("ev/a", "x"));
  EXPECT_TRUE(IsError(r, 409, "conflict"));
  // A batch (all on the one stream) with N and with exists; any is the default.
  Append(Note("ev/a", "3") + "\n" + Note("ev/a", "4") + "\n",
         "?expected_version=" + std::to_string(version + 1));
  Append(Note("ev/a", "5"), "?expected_version=exists");
  Append(Note("ev/a", "6"), "?expected_version=any");
  Append(Note("ev/a", "7"));
  for (const std::string bad : {"banana", "-1", "1.5", "no-stream"}) {
    SCOPED_TRACE(bad);
    EXPECT_TRUE(IsError(Post(std::string("/v1/events?expected_version=") + bad, Note("ev/a", "x")),
                        400, "bad_request"));
  }
  const std::vector<json> events = Events();
  ASSERT_EQ(events.size(), 7u) << "a conflict or a bad parameter wrote events";
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i]["data"]["text"], std::to_string(i + 1));
  }
}

TEST_F(EventsTest, LogAsJsonlEqualsTinkLogJsonWithEachFilter) {
  Append(Envelope("run/1", "run.started", {{"name", "one"}}, "r1-start", "1") + "\n" +
         Note("run/1/task/a", "thinking") + "\n");
  Append(Envelope("run/2", "run.started", {{"name", "two"}}, "r2-start", "2"));
  Append(Envelope("run/1/task/a", "tool.result", {{"tool", "bash"}, {"exit_code", 1}}, "", "1") +
         "\n" + Note("run/2", "hello") + "\n" + Note("run/1", "bye") + "\n");
  const HttpResponse all = Get("/v1/events");
  ASSERT_EQ(all.status, 200) << all.Describe();
  EXPECT_EQ(all.Header("content-type").rfind("application/x-ndjson", 0), 0u)
      << all.Header("content-type");
  std::string err;
  const std::vector<json> events = ParseJsonl(all.body, &err);
  ASSERT_EQ(err, "");
  ASSERT_EQ(events.size(), 6u);
  const std::string t3 = events[2]["time"].get<std::string>();
  const std::string t4 = events[3]["time"].get<std::string>();

  // What the filters answer, taken while the server runs...
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", ""},
      {"?from=3", "--from 3"},
      {"?to=2", "--to 2"},
      {"?from=2&to=4", "--from 2 --to 4"},
      {"?stream=run/1", "--stream run/1"},
      {"?run=1", "--run 1"},
      {"?type=note", "--type note"},
      {"?type=note&from=3", "--type note --from 3"},
  };
  std::vector<std::string> answers;
  for (const auto& [query, flags] : cases) {
    const HttpResponse r = Get("/v1/events" + query);
    EXPECT_EQ(r.status, 200) << query << ": " << r.Describe();
    answers.push_back(r.body);
  }
  const std::vector<json> limited = Events("?limit=2");
  ASSERT_EQ(limited.size(), 2u);
  EXPECT_EQ(limited[0]["lsn"], 1);
  EXPECT_EQ(limited[1]["lsn"], 2);
  EXPECT_EQ(Events("?from=2&limit=3").front()["lsn"], 2);
  for (const json& e : Events("?since=" + t3)) EXPECT_GE(e["time"].get<std::string>(), t3);
  EXPECT_GE(Events("?since=" + t3).size(), 4u);
  for (const json& e : Events("?until=" + t4)) EXPECT_LE(e["time"].get<std::string>(), t4);
  EXPECT_GE(Events("?until=" + t4).size(), 4u);
  EXPECT_TRUE(Events("?from=7").empty());

  // ...are what `tink log --json` prints (compared once the daemon has closed the store).
  ASSERT_EQ(Stop(), 0) << server_.stderr_text();
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].first);
    const CommandResult c = Tink("log --json " + cases[i].second);
    ASSERT_EQ(c.exit_code, 0) << c.err;
    EXPECT_EQ(answers[i], c.out);
  }
}

TEST_F(EventsTest, BadQueryParametersAreBadRequest) {
  Append(Note("s", "x"));
  for (const std::string q : {"from=abc", "from=-1", "to=x", "limit=-5", "limit=many",
                              "since=yesterday", "until=2026-13-45T99:00:00Z", "follow=maybe"}) {
    SCOPED_TRACE(q);
    EXPECT_TRUE(IsError(Get("/v1/events?" + q), 400, "bad_request"));
  }
}

std::vector<SseEvent> ReadEvents(SseReader* reader, size_t n) {
  std::vector<SseEvent> out;
  while (out.size() < n) {
    std::optional<SseEvent> e = reader->Next(milliseconds(20000));
    if (!e) {
      ADD_FAILURE() << "after " << out.size() << " of " << n << " events: " << reader->error();
      break;
    }
    out.push_back(*e);
  }
  return out;
}

TEST_F(EventsTest, FollowSendsHistoryThenLiveEvents) {
  Append(Note("f/a", "1") + "\n" + Note("f/b", "2") + "\n" + Note("f/a", "3") + "\n");
  SseReader all(server_.tcp());
  const HttpResponse h =
      all.Open("/v1/events?follow=1&from=2", server_.auth(), milliseconds(20000));
  ASSERT_EQ(h.status, 200) << h.Describe();
  EXPECT_EQ(h.Header("content-type").rfind("text/event-stream", 0), 0u) << h.Header("content-type");
  SseReader only_a(server_.unix_socket());
  ASSERT_EQ(
      only_a.Open("/v1/events?follow=1&stream=f/a", server_.auth(), milliseconds(20000)).status,
      200);
  std::vector<SseEvent> got = ReadEvents(&all, 2);
  Append(Note("f/b", "4") + "\n" + Note("f/a", "5") + "\n");
  std::vector<SseEvent> live = ReadEvents(&all, 2);
  got.insert(got.end(), live.begin(), live.end());
  ASSERT_EQ(got.size(), 4u);
  for (size_t i = 0; i < got.size(); ++i) {
    const uint64_t lsn = i + 2;
    EXPECT_EQ(got[i].id, std::to_string(lsn));
    EXPECT_EQ(got[i].event, "event");
    const json d = ParseJson(got[i].data);
    ASSERT_TRUE(d.is_object()) << got[i].data;
    EXPECT_EQ(d["lsn"], lsn);
    EXPECT_EQ(d["data"]["text"], std::to_string(lsn));
  }
  const std::vector<SseEvent> a = ReadEvents(&only_a, 3);
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0].id, "1");
  EXPECT_EQ(a[1].id, "3");
  EXPECT_EQ(a[2].id, "5");
  // The data line is the event view of GET /v1/events.
  const std::vector<json> log = Events();
  ASSERT_EQ(log.size(), 5u);
  EXPECT_EQ(ParseJson(a[2].data), log[4]);
}

// Follow from an LSN past the head: nothing until the log reaches it, then exactly from there.
TEST_F(EventsTest, FollowFromPastTheHeadWaitsForIt) {
  Append(Note("p/s", "1") + "\n" + Note("p/s", "2") + "\n");
  SseReader reader(server_.tcp());
  ASSERT_EQ(reader.Open("/v1/events?follow=1&from=5", server_.auth(), milliseconds(20000)).status,
            200);
  Append(Note("p/s", "3") + "\n" + Note("p/s", "4") + "\n" + Note("p/s", "5") + "\n" +
         Note("p/s", "6") + "\n");
  const std::vector<SseEvent> got = ReadEvents(&reader, 2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].id, "5");
  EXPECT_EQ(got[1].id, "6");
}

TEST_F(EventsTest, FollowResumesAfterLastEventId) {
  Append(Note("r/s", "1") + "\n" + Note("r/s", "2") + "\n" + Note("r/s", "3") + "\n");
  SseReader first(server_.tcp());
  ASSERT_EQ(first.Open("/v1/events?follow=1", server_.auth(), milliseconds(20000)).status, 200);
  const std::vector<SseEvent> before = ReadEvents(&first, 2);
  ASSERT_EQ(before.size(), 2u);
  first.Close();
  Append(Note("r/s", "4"));
  SseReader again(server_.tcp());
  ASSERT_EQ(again
                .Open("/v1/events?follow=1", server_.auth({{"Last-Event-ID", before[1].id}}),
                      milliseconds(20000))
                .status,
            200);
  Append(Note("r/s", "5"));
  const std::vector<SseEvent> after = ReadEvents(&again, 3);
  ASSERT_EQ(after.size(), 3u);
  EXPECT_EQ(after[0].id, "3");
  EXPECT_EQ(after[1].id, "4");
  EXPECT_EQ(after[2].id, "5");
}

// "A comment line (`: keepalive`) is sent every 15 s of silence": one arrives, and the stream
// still delivers the next event after it. (The one test here that waits: ~15 s.)
TEST_F(EventsTest, FollowSendsKeepaliveCommentsInSilence) {
  Append(Note("k/s", "1"));
  SseReader reader(server_.unix_socket());
  ASSERT_EQ(reader.Open("/v1/events?follow=1", server_.auth(), milliseconds(20000)).status, 200);
  std::optional<SseEvent> first = reader.Next(milliseconds(20000));
  ASSERT_TRUE(first) << reader.error();
  EXPECT_EQ(first->id, "1");
  EXPECT_TRUE(reader.WaitComment(milliseconds(20000)))
      << "no comment line in 20 s of silence: " << reader.error();
  Append(Note("k/s", "2"));
  std::optional<SseEvent> second = reader.Next(milliseconds(20000));
  ASSERT_TRUE(second) << reader.error();
  EXPECT_EQ(second->id, "2");
}

}  // namespace
}  // namespace tink::testing
