// The store the provider tests read (query_provider_test.cc, query_verbs_test.cc): a hand-made
// run r1 whose root task "main" asks its LLM for t1 (fails along a causation chain) and t2 (fails
// with no causation: why infers the chain), t3 succeeds; a file a.txt in two versions; a memory
// graph n1..n4; anomalies of the scheduler, canvas and memory; a run r2 with a file; padding notes.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "engine/engine.h"
#include "engine/engine_test_util.h"
#include "shell/query/provider.h"
#include "support/temp_dir.h"

namespace tink::query::test {

using engine::Engine;
using engine::Lsn;
using nlohmann::json;

inline std::vector<std::string> Keys(const Row& r) {
  std::vector<std::string> k;
  for (auto it = r.begin(); it != r.end(); ++it) k.push_back(it.key());
  return k;
}

inline std::vector<std::string> Fields(const std::string& source) {
  std::vector<std::string> out;
  for (const FieldInfo& f : FindSource(source)->fields) out.push_back(f.name);
  return out;
}

inline std::vector<Row> Drain(RowStream& s) {
  std::vector<Row> rows;
  Row r;
  while (true) {
    Result<bool> n = s.Next(&r);
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    if (!n.ok() || !*n) break;
    rows.push_back(r);
  }
  return rows;
}

inline Point AtLsn(Lsn n) {
  Point p;
  p.kind = Point::Kind::kLsn;
  p.lsn = n;
  return p;
}

class ProviderTest : public ::testing::Test {
 protected:
  // One store for every test (they only read it).
  static void SetUpTestSuite() {
    dir_ = new tink::testing::TempDir();
    auto e = Engine::Open(dir_->Sub("store"), engine::test::Fast());
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = e->release();
    Build();
    ASSERT_TRUE(engine_->WaitForProjections(last_, std::chrono::seconds(20)));
  }
  static void TearDownTestSuite() {
    (void)engine_->Close();
    delete engine_;
    delete dir_;
  }
  void SetUp() override {
    provider_ = std::make_unique<EngineProvider>(engine_, EngineProvider::Options{7});
  }

  static Lsn Add(const std::string& stream, const std::string& type, const json& data,
                 const std::string& run = "r1", Lsn causation = 0) {
    schema::EventInput e;
    e.stream = stream;
    e.type = type;
    e.run = run;
    e.causation = causation;
    e.data_json = data.dump();
    auto r = engine_->Append({&e, 1});
    EXPECT_TRUE(r.ok()) << type << ": " << r.status().ToString();
    last_ = r.ok() ? r->lsns[0] : last_;
    return last_;
  }
  static Lsn Task(const std::string& task, const std::string& type, json data = json::object(),
                  Lsn causation = 0, const std::string& run = "r1") {
    data["task"] = task;
    return Add("run/" + run + "/task/" + task, type, data, run, causation);
  }

  // r1: a root task "main" whose LLM asks for t1 (fails along a causation chain) and t2 (fails,
  // no causation: found by inference), t3 succeeds; files a.txt (two versions); a memory graph;
  // anomalies of all three projections. r2: a file and notes; "misc": padding notes.
  static void Build() {
    Add("run/r1", "run.started", {{"name", "demo"}, {"agent", "hand"}, {"model", "m1"}});
    Task("main", "task.created", {{"name", "agent loop"}});
    Task("main", "task.ready");
    main_started_ = Task("main", "task.started");
    const Lsn req = Task("main", "llm.request", {{"call_id", "k1"}, {"model", "m1"}});
    const Lsn resp = Task("main", "llm.response",
                          {{"call_id", "k1"}, {"model", "m1"}, {"content", "run the tests"}}, req);
    Task("t1", "task.created", {{"parent", "main"}, {"name", "run tests"}});
    Task("t1", "task.ready");
    t1_started_ = Task("t1", "task.started");
    call1_ =
        Task("t1", "tool.call",
             {{"call_id", "c1"}, {"tool", "bash"}, {"args", {{"command", "make test"}}}}, resp);
    result1_ =
        Task("t1", "tool.result",
             {{"call_id", "c1"}, {"tool", "bash"}, {"output", "FAIL"}, {"exit_code", 2}}, call1_);
    failed1_ = Task("t1", "task.failed", {{"error", "exit code 2"}}, result1_);
    file1_ = Task("main", "file.write", {{"path", "a.txt"}, {"content", "one\ntwo\n"}});
    file2_ = Task("main", "file.write", {{"path", "a.txt"}, {"content", "one\nTWO\nthree\n"}});
    // t2: no causation anywhere.
    Task("t2", "task.created", {{"parent", "main"}, {"name", "grep"}});
    Task("t2", "task.ready");
    Task("t2", "task.started");
    const Lsn req2 = Task("main", "llm.request", {{"call_id", "k2"}, {"model", "m1"}});
    resp2_ =
        Task("main", "llm.response", {{"call_id", "k2"}, {"model", "m1"}, {"content", "grep"}});
    (void)req2;
    call2_ = Task("t2", "tool.call",
                  {{"call_id", "c2"}, {"tool", "grep"}, {"args", {{"command", "grep x"}}}});
    Task("t2", "note", {{"text", "thinking"}});
    result2_ = Task("t2", "tool.result",
                    {{"call_id", "c2"}, {"tool", "grep"}, {"output", ""}, {"exit_code", 1}});
    failed2_ = Task("t2", "task.failed", {{"error", "exit code 1"}});
    Task("t3", "task.created", {{"parent", "main"}, {"name", "ok"}});
    Task("t3", "task.ready");
    Task("t3", "task.started");
    Task("t3", "task.succeeded");
    ghost_ = Task("ghost", "task.succeeded");  // scheduler anomaly: unknown task
    Add("run/r1/memory", "memory.node",
        {{"id", "n1"}, {"labels", {"Task"}}, {"props", {{"k", 1}}}});
    Add("run/r1/memory", "memory.node", {{"id", "n2"}, {"labels", {"File"}}});
    Add("run/r1/memory", "memory.node", {{"id", "n3"}, {"labels", {"Tool"}}});
    Add("run/r1/memory", "memory.edge", {{"src", "n1"}, {"rel", "EDITS"}, {"dst", "n2"}});
    mid_ = Add("run/r1/memory", "memory.edge", {{"src", "n3"}, {"rel", "USED_ON"}, {"dst", "n2"}});
    Add("run/r1/memory", "memory.node", {{"id", "n4"}, {"labels", {"Task"}}});
    Add("run/r1/memory", "memory.edge",
        {{"id", "e4"}, {"src", "n4"}, {"rel", "NEXT"}, {"dst", "n3"}});
    Add("run/r1/memory", "memory.edge", {{"src", "n1"}, {"rel", "BAD"}, {"dst", "nowhere"}});
    Task("main", "file.delete", {{"path", "missing.txt"}});  // canvas anomaly
    Add("run/r2", "run.started", {{"name", "second"}}, "r2");
    Task("w", "task.created", {{"name", "writer"}}, 0, "r2");
    Task("w", "file.write", {{"path", "b.txt"}, {"content", "b\n"}}, 0, "r2");
    for (int i = 0; i < 60; ++i) {
      Add(i % 2 ? "misc/a" : "misc/b", i % 3 ? "note" : "x.ping", {{"text", std::to_string(i)}},
          "");
    }
  }

  std::vector<Row> Open(ScanRequest req) {
    auto s = provider_->Open(req, &cancel_);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    if (!s.ok()) return {};
    EXPECT_EQ((*s)->Columns(), Fields(req.source));
    return Drain(**s);
  }
  std::vector<Row> Open(const std::string& source, std::optional<Point> as_of = std::nullopt,
                        std::vector<Pushdown> eq = {}) {
    ScanRequest req;
    req.source = source;
    req.as_of = as_of;
    req.equals = std::move(eq);
    return Open(req);
  }
  Result<VerbResult> Verb(const std::string& verb, std::vector<std::string> args,
                          std::optional<std::string> run = std::nullopt) {
    VerbCall c;
    c.verb = verb;
    c.args = std::move(args);
    c.run = std::move(run);
    return provider_->RunVerb(c, &cancel_);
  }
  std::vector<Row> VerbRows(const std::string& verb, std::vector<std::string> args) {
    auto r = Verb(verb, std::move(args));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok() || !r->rows) return {};
    return Drain(*r->rows);
  }

  static inline tink::testing::TempDir* dir_ = nullptr;
  static inline Engine* engine_ = nullptr;
  static inline Lsn last_ = 0, main_started_ = 0, t1_started_ = 0, call1_ = 0, result1_ = 0,
                    failed1_ = 0, file1_ = 0, file2_ = 0, resp2_ = 0, call2_ = 0, result2_ = 0,
                    failed2_ = 0, ghost_ = 0, mid_ = 0;
  std::unique_ptr<EngineProvider> provider_;
  Cancel cancel_{false};
};

// The filter the executor would apply on top: rows whose `field` equals `value`.
inline std::vector<Row> Filter(const std::vector<Row>& rows, const std::string& field,
                               const Json& value) {
  std::vector<Row> out;
  for (const Row& r : rows) {
    if (r.contains(field) && r[field] == value) out.push_back(r);
  }
  return out;
}

}  // namespace tink::query::test
