// EngineProvider (shell/query/provider.h), the verbs: on small events (why along a causation chain
// and by inference, timeline, history, diff, blame, neighbors, path, completion) and on the shipped
// failed run ponyc-4588; the errors of unknown ids.
#include "engine/import/import.h"
#include "schema/event_json.h"
#include "query/provider_test_fixture.h"

namespace tink::query::test {
namespace {

TEST_F(ProviderTest, WhyFollowsCausation) {
  std::vector<Row> rows = VerbRows("why", {"r1/t1"});
  ASSERT_GE(rows.size(), 6u);
  auto step = [&](size_t i, Lsn lsn, const char* type, const char* link) {
    EXPECT_EQ(rows[i]["step"], i + 1);
    EXPECT_EQ(rows[i]["lsn"], lsn) << i;
    EXPECT_EQ(rows[i]["type"], type) << i;
    EXPECT_EQ(rows[i]["link"], link) << i;
  };
  step(0, failed1_, "task.failed", "failure");
  EXPECT_EQ(rows[0]["detail"], "exit code 2");
  EXPECT_EQ(rows[0]["task"], "t1");
  step(1, result1_, "tool.result", "causation");
  step(2, call1_, "tool.call", "causation");
  EXPECT_EQ(rows[3]["type"], "llm.response");
  EXPECT_EQ(rows[3]["link"], "causation");
  EXPECT_EQ(rows[4]["type"], "llm.request");
  EXPECT_EQ(rows[4]["task"], "main");
  EXPECT_EQ(rows[5]["link"], "parent");
  EXPECT_EQ(rows[5]["task"], "main");
  EXPECT_EQ(Keys(rows[0]),
            (std::vector<std::string>{"step", "lsn", "type", "task", "link", "detail"}));
}

TEST_F(ProviderTest, WhyInfersWithoutCausation) {
  std::vector<Row> rows = VerbRows("why", {"r1/t2"});
  ASSERT_GE(rows.size(), 5u);
  EXPECT_EQ(rows[0]["lsn"], failed2_);
  EXPECT_EQ(rows[1]["lsn"], result2_);
  EXPECT_EQ(rows[1]["link"], "last failing result");
  EXPECT_EQ(rows[2]["lsn"], call2_);
  EXPECT_EQ(rows[2]["link"], "same call_id");
  EXPECT_EQ(rows[3]["lsn"], resp2_);
  EXPECT_EQ(rows[3]["link"], "llm response before");
  EXPECT_EQ(rows[4]["type"], "llm.request");
  EXPECT_EQ(rows[5]["link"], "parent");
  // The ghost anomaly came after the failure: not listed.
  for (const Row& r : rows) EXPECT_NE(r["lsn"], ghost_);
}

TEST_F(ProviderTest, WhyErrors) {
  EXPECT_EQ(Verb("why", {"r1/nope"}).status().code(), Code::kNotFound);
  auto ok_task = Verb("why", {"r1/t3"});
  EXPECT_EQ(ok_task.status().code(), Code::kInvalidArgument);
  EXPECT_NE(ok_task.status().message().find("r1/t1"), std::string::npos)
      << "names the failed tasks: " << ok_task.status().ToString();
  auto run = Verb("why", {"r1"});
  EXPECT_EQ(run.status().code(), Code::kInvalidArgument);
  EXPECT_NE(run.status().message().find("r1/t2"), std::string::npos);
}

TEST_F(ProviderTest, Timeline) {
  std::vector<Row> run = VerbRows("timeline", {"r1"});
  std::vector<Row> all = Open("events");
  EXPECT_EQ(run.size(), Filter(all, "run", "r1").size());
  ASSERT_FALSE(run.empty());
  EXPECT_EQ(Keys(run[0]), (std::vector<std::string>{"lsn", "time", "type", "task", "summary"}));
  std::vector<Row> task = VerbRows("timeline", {"r1/t1"});
  ASSERT_EQ(task.size(), 6u);
  EXPECT_EQ(task[3]["type"], "tool.call");
  EXPECT_EQ(task[3]["summary"], "bash: make test");
  EXPECT_EQ(task[5]["summary"], "exit code 2");
  for (const Row& r : task) EXPECT_EQ(r["task"], "t1");
  EXPECT_EQ(Verb("timeline", {"zzz"}).status().code(), Code::kNotFound);
}

TEST_F(ProviderTest, History) {
  std::vector<Row> t = VerbRows("history", {"r1/t1"});
  ASSERT_GE(t.size(), 4u);
  EXPECT_EQ(t.front()["state"], "created");
  EXPECT_EQ(t.back()["state"], "failed");
  std::vector<Row> n = VerbRows("history", {"n1"});
  ASSERT_EQ(n.size(), 1u);
  EXPECT_EQ(n[0]["id"], "n1");
  std::vector<Row> e = VerbRows("history", {"e4"});
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0]["rel"], "NEXT");
  // Files: by unique path, RUN:PATH, or --run.
  EXPECT_EQ(VerbRows("history", {"a.txt"}).size(), 2u);
  EXPECT_EQ(VerbRows("history", {"r1:a.txt"}).size(), 2u);
  auto f = Verb("history", {"b.txt"}, "r2");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(Drain(*f->rows).size(), 1u);
  EXPECT_EQ(Verb("history", {"nothing"}).status().code(), Code::kNotFound);
}

TEST_F(ProviderTest, DiffAndBlame) {
  VerbCall d;
  d.verb = "diff";
  d.args = {"a.txt"};
  d.run = "r1";
  d.points = {AtLsn(file1_), AtLsn(file2_)};
  auto r = provider_->RunVerb(d, &cancel_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->text.has_value());
  EXPECT_NE(r->text->find("diff --git a/a.txt b/a.txt"), std::string::npos) << *r->text;
  EXPECT_NE(r->text->find("+TWO"), std::string::npos) << *r->text;
  // Points as "@N" args; the run found from the path.
  auto r2 = Verb("diff", {"a.txt", "@" + std::to_string(file1_ - 1), "@" + std::to_string(file1_)});
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  EXPECT_NE(r2->text->find("+two"), std::string::npos);
  // One point: from it to now; none: from the run's base to now.
  auto one = Verb("diff", {"a.txt", "@" + std::to_string(file1_)});
  auto two = Verb("diff", {"a.txt", "@" + std::to_string(file1_), "@" + std::to_string(last_)});
  ASSERT_TRUE(one.ok() && two.ok());
  EXPECT_EQ(*one->text, *two->text);
  EXPECT_NE(one->text->find("+TWO"), std::string::npos) << *one->text;
  auto none = Verb("diff", {"a.txt"});
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_NE(none->text->find("+TWO"), std::string::npos) << *none->text;
  EXPECT_NE(*none->text, *one->text);  // from the base, a.txt is new: its first version too
  // Two runs have files: diff without a path needs --run.
  auto amb = Verb("diff", {});
  EXPECT_EQ(amb.status().code(), Code::kInvalidArgument);
  EXPECT_NE(amb.status().message().find("r2"), std::string::npos);
  EXPECT_EQ(Verb("diff", {"a.txt"}, "nope").status().code(), Code::kNotFound);

  std::vector<Row> b = VerbRows("blame", {"a.txt"});
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[0]["line"], 1);
  EXPECT_EQ(b[2]["lsn"], file2_);
  EXPECT_EQ(b[2]["text"], "three");
  EXPECT_EQ(Keys(b[0]), (std::vector<std::string>{"line", "lsn", "task", "type", "path", "text"}));
  VerbCall old;
  old.verb = "blame";
  old.args = {"a.txt"};
  old.as_of = AtLsn(file1_);
  auto ob = provider_->RunVerb(old, &cancel_);
  ASSERT_TRUE(ob.ok());
  EXPECT_EQ(Drain(*ob->rows).size(), 2u);
  EXPECT_EQ(Verb("blame", {"nope.txt"}).status().code(), Code::kNotFound);
}

TEST_F(ProviderTest, NeighborsAndPath) {
  std::vector<Row> n = VerbRows("neighbors", {"n2"});
  ASSERT_EQ(n.size(), 2u);  // n1 (EDITS, in) and n3 (USED_ON, in)
  EXPECT_EQ(n[0]["id"], "n1");
  EXPECT_EQ(n[0]["via_node"], "n2");
  VerbCall deep;
  deep.verb = "neighbors";
  deep.args = {"n2"};
  deep.depth = 2;
  auto d = provider_->RunVerb(deep, &cancel_);
  ASSERT_TRUE(d.ok());
  std::vector<Row> dn = Drain(*d->rows);
  ASSERT_EQ(dn.size(), 3u);
  EXPECT_EQ(dn[2]["id"], "n4");
  EXPECT_EQ(dn[2]["depth"], 2);
  deep.as_of = AtLsn(mid_);
  auto early = provider_->RunVerb(deep, &cancel_);
  ASSERT_TRUE(early.ok());
  EXPECT_EQ(Drain(*early->rows).size(), 2u);

  std::vector<Row> p = VerbRows("path", {"n1", "n4"});
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0]["from"], "n1");
  EXPECT_EQ(p[0]["dir"], "out");
  EXPECT_EQ(p[1]["dir"], "in");
  EXPECT_EQ(p[2]["to"], "n4");
  EXPECT_EQ(Verb("path", {"n1", "zz"}).status().code(), Code::kNotFound);
  EXPECT_EQ(Verb("neighbors", {"zz"}).status().code(), Code::kNotFound);
  VerbCall no_path;
  no_path.verb = "path";
  no_path.args = {"n1", "n4"};
  no_path.as_of = AtLsn(mid_);  // n4 does not exist yet
  EXPECT_EQ(provider_->RunVerb(no_path, &cancel_).status().code(), Code::kNotFound);
  EXPECT_EQ(Verb("frobnicate", {}).status().code(), Code::kInvalidArgument);
}

// The verb options the parser accepts beyond the first contract, end to end (parse, run).
TEST_F(ProviderTest, TimelineAsOfPathDepthHistoryRun) {
  auto rows = [&](const std::string& q) -> std::optional<std::vector<Row>> {
    auto p = PrepareQuery(*provider_, q, &cancel_);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    if (!p.ok() || !std::holds_alternative<Prepared>(*p)) return std::nullopt;
    return Drain(*std::get<Prepared>(*p).rows);
  };
  auto error = [&](const std::string& q) {
    auto p = PrepareQuery(*provider_, q, &cancel_);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() && std::holds_alternative<QueryError>(*p) ? std::get<QueryError>(*p).ToString()
                                                            : std::string("no error");
  };
  // timeline as of N: the events of the run up to N, no later.
  auto all = rows("timeline r1");
  auto early = rows("timeline r1 as of " + std::to_string(t1_started_));
  ASSERT_TRUE(all && early);
  ASSERT_FALSE(early->empty());
  EXPECT_LT(early->size(), all->size());
  for (const Row& r : *early) EXPECT_LE(r["lsn"].get<Lsn>(), t1_started_);
  EXPECT_EQ(*early, std::vector<Row>(all->begin(), all->begin() + early->size()));
  // path A B depth K: n1 -> n4 is three hops.
  auto three = rows("path n1 n4 depth 3");
  ASSERT_TRUE(three);
  EXPECT_EQ(three->size(), 3u);
  EXPECT_NE(error("path n1 n4 depth 2").find("no path between 'n1' and 'n4' within 2 hops"),
            std::string::npos);
  // history PATH --run R: the file's versions in that run.
  auto h = rows("history a.txt --run r1");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->size(), 2u);
}

TEST_F(ProviderTest, CompletionIds) {
  std::vector<std::string> all = provider_->CompletionIds("", 100);
  for (const char* id : {"r1", "r2", "n1"}) {
    EXPECT_NE(std::find(all.begin(), all.end(), id), all.end()) << id;
  }
  std::vector<std::string> tasks = provider_->CompletionIds("r1/t", 100);
  EXPECT_EQ(tasks, (std::vector<std::string>{"r1/t1", "r1/t2", "r1/t3"}));
  EXPECT_EQ(provider_->CompletionIds("", 2).size(), 2u);
}

// ---- the shipped failed run ----

constexpr const char* kPony = "ponylang__ponyc-4588";

class PonyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new tink::testing::TempDir();
    auto e = Engine::Open(dir_->Sub("store"), engine::test::Fast());
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = e->release();
    const std::string data = TINK_TEST_DATA;
    engine::import::Options opt;
    opt.format = "openhands";
    opt.select = kPony;
    opt.base_dir = data + "/base/ponyc-4588";
    auto runs = engine::import::ImportFile(data + "/openhands/output.jsonl", opt);
    ASSERT_TRUE(runs.ok()) << runs.status().ToString();
    std::vector<schema::EventInput> events;
    for (auto& r : *runs) events.insert(events.end(), r.events.begin(), r.events.end());
    auto app = engine_->Append(events);
    ASSERT_TRUE(app.ok()) << app.status().ToString();
    ASSERT_TRUE(engine_->WaitForProjections(app->lsns.back(), std::chrono::seconds(30)));
  }
  static void TearDownTestSuite() {
    (void)engine_->Close();
    delete engine_;
    delete dir_;
  }
  void SetUp() override { provider_ = std::make_unique<EngineProvider>(engine_); }
  std::vector<Row> Verb(const std::string& verb, std::vector<std::string> args) {
    VerbCall c;
    c.verb = verb;
    c.args = std::move(args);
    auto r = provider_->RunVerb(c, nullptr);
    EXPECT_TRUE(r.ok()) << verb << ": " << r.status().ToString();
    if (!r.ok() || !r->rows) return {};
    return Drain(*r->rows);
  }
  std::vector<Row> Source(const std::string& s) {
    ScanRequest req;
    req.source = s;
    auto r = provider_->Open(req, nullptr);
    EXPECT_TRUE(r.ok());
    return r.ok() ? Drain(**r) : std::vector<Row>{};
  }

  static tink::testing::TempDir* dir_;
  static Engine* engine_;
  std::unique_ptr<EngineProvider> provider_;
};
tink::testing::TempDir* PonyTest::dir_ = nullptr;
Engine* PonyTest::engine_ = nullptr;

TEST_F(PonyTest, Sources) {
  std::vector<Row> runs = Source("runs");
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0]["run"], kPony);
  EXPECT_EQ(runs[0]["status"], "failed");
  std::vector<Row> tasks = Source("tasks");
  EXPECT_EQ(tasks.size(), runs[0]["tasks"].get<size_t>());
  std::vector<Row> files = Source("files");
  EXPECT_FALSE(files.empty());
  EXPECT_FALSE(Source("nodes").empty());
  EXPECT_FALSE(Source("edges").empty());
  EXPECT_EQ(Source("events").size(), 588u);
  EXPECT_EQ(Source("segments").size(), 1u);
}

TEST_F(PonyTest, WhyOfAFailedCommand) {
  std::vector<Row> rows = Verb("why", {std::string(kPony) + "/100"});
  ASSERT_GE(rows.size(), 4u);
  EXPECT_EQ(rows[0]["type"], "task.failed");
  EXPECT_EQ(rows[0]["detail"], "exit code 1");
  EXPECT_EQ(rows[1]["type"], "tool.result");
  EXPECT_EQ(rows[2]["type"], "tool.call");
  EXPECT_EQ(rows[3]["type"], "llm.response");
  EXPECT_EQ(rows[3]["task"], "agent");
  bool parent = false;
  for (const Row& r : rows) parent |= r["link"] == "parent" && r["task"] == "agent";
  EXPECT_TRUE(parent);
}

// Every event of a real recording reads the same straight from its FlatBuffers table as through
// FlatBuffers' text printer (the way event rows were built before).
TEST_F(PonyTest, EventRowsEqualTheTextPrintersView) {
  int n = 0;
  Status s = engine_->Scan(engine::LogQuery{}, [&](const log::LogRecord& rec) {
    auto direct = schema::EventToJsonValue(rec.lsn, rec.time_ns, rec.payload);
    auto text = schema::EventToJsonValueViaText(rec.lsn, rec.time_ns, rec.payload);
    EXPECT_TRUE(direct.ok() && text.ok());
    if (direct.ok() && text.ok()) {
      EXPECT_EQ(direct->dump(), text->dump()) << "LSN " << rec.lsn;
      EXPECT_EQ(*direct, *text);
    }
    ++n;
    return true;
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_GT(n, 500);
}

TEST_F(PonyTest, TimelineHistoryBlameDiff) {
  std::vector<Row> tl = Verb("timeline", {kPony});
  EXPECT_EQ(tl.size(), 588u);
  std::vector<Row> task = Verb("timeline", {std::string(kPony) + "/100"});
  ASSERT_FALSE(task.empty());
  EXPECT_EQ(task.back()["type"], "task.failed");
  std::vector<Row> h = Verb("history", {std::string(kPony) + "/100"});
  EXPECT_EQ(h.back()["state"], "failed");
  const std::string path = "src/libponyc/expr/match.c";
  std::vector<Row> fh = Verb("history", {path});
  ASSERT_GE(fh.size(), 2u);
  EXPECT_EQ(fh[0]["base"], true);
  std::vector<Row> b = Verb("blame", {path});
  ASSERT_FALSE(b.empty());
  bool by_agent = false;
  for (const Row& r : b) by_agent |= r["task"] != "agent";
  EXPECT_TRUE(by_agent) << "some lines come from the agent's edit tasks";
  VerbCall d;
  d.verb = "diff";
  auto r = provider_->RunVerb(d, nullptr);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_NE(r->text->find("diff --git a/" + path + " b/" + path), std::string::npos);
}

TEST_F(PonyTest, Graph) {
  const std::string run = std::string("run:") + kPony;
  std::vector<Row> n = Verb("neighbors", {run});
  EXPECT_FALSE(n.empty());
  std::vector<Row> p = Verb("path", {std::string("task:") + kPony + "/100", "tool:execute_bash"});
  ASSERT_FALSE(p.empty());
  EXPECT_EQ(p.back()["to"], "tool:execute_bash");
  std::vector<Row> nh = Verb("history", {run});
  EXPECT_FALSE(nh.empty());
}

}  // namespace
}  // namespace tink::query::test
