// OtlpReceiver (shell/server/otlp_receiver.h) in-process, with a bound of two traces in memory:
// a trace waiting for its root is evicted when others come, and still resolves when its root
// arrives (reloaded from its otel.span events), to the same events as a trace never evicted.
#include "shell/server/otlp_receiver.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "schema/schema.h"
#include "support/temp_dir.h"

namespace tink::server {
namespace {

using nlohmann::json;

json Span(const std::string& trace, const std::string& id, const std::string& parent,
          const std::string& op, int64_t start) {
  json attrs = json::array({{{"key", "gen_ai.operation.name"}, {"value", {{"stringValue", op}}}}});
  if (op == "chat") {
    attrs.push_back({{"key", "gen_ai.request.model"}, {"value", {{"stringValue", "gpt-4o"}}}});
    attrs.push_back({{"key", "gen_ai.input.messages"},
                     {"value", {{"stringValue", R"([{"role":"user","content":"fix it"}])"}}}});
  }
  json s = {{"traceId", trace}, {"spanId", id}, {"name", op},
            {"startTimeUnixNano", std::to_string(start)},
            {"endTimeUnixNano", std::to_string(start + 1000)}, {"attributes", attrs}};
  if (!parent.empty()) s["parentSpanId"] = parent;
  return s;
}

std::string Body(const std::vector<json>& spans) {
  return json{{"resourceSpans",
               json::array({{{"scopeSpans", json::array({{{"spans", spans}}})}}})}}
      .dump();
}

std::string TraceId(int n) {
  std::string t = std::to_string(n);
  return std::string(32 - t.size(), '0') + t;
}

// The mapped events of run `run`: "type stream data" lines with the run id replaced.
std::vector<std::string> Mapped(engine::Engine& e, const std::string& run) {
  std::vector<std::string> out;
  engine::LogQuery q;
  q.run = run;
  EXPECT_TRUE(e.Scan(q, [&](const log::LogRecord& r) {
                 json ev = json::parse(*schema::EventToJson(r.lsn, r.time_ns, r.payload));
                 if (ev["type"] == "otel.span") return true;
                 ev["data"].erase("meta");
                 std::string line = ev["type"].get<std::string>() + " " +
                                    ev["stream"].get<std::string>() + " " + ev["data"].dump();
                 for (size_t p = line.find(run); p != std::string::npos; p = line.find(run)) {
                   line.replace(p, run.size(), "RUN");
                 }
                 out.push_back(line);
                 return true;
               }).ok());
  return out;
}

TEST(OtlpReceiverTest, AnEvictedWaitingTraceResolvesFromTheLog) {
  testing::TempDir tmp;
  auto eng = engine::Engine::Open(tmp.Sub("store"), engine::EngineOptions{});
  ASSERT_TRUE(eng.ok()) << eng.status().ToString();
  engine::Engine& e = **eng;
  {
    OtlpReceiver rx(&e, nullptr, /*max_traces=*/2);
    const std::string a = TraceId(1), root = "00000000000000a1";
    // Trace A: its children only (they wait for the root).
    ASSERT_EQ(rx.Receive(Body({Span(a, "00000000000000a2", root, "chat", 100),
                               Span(a, "00000000000000a3", root, "execute_tool", 200)}),
                         "application/json", "")
                  .status,
              200);
    EXPECT_TRUE(Mapped(e, a).empty());
    // Three whole traces: A, waiting, is pushed out of memory.
    for (int n = 2; n <= 4; ++n) {
      const std::string t = TraceId(n), r = "00000000000000b" + std::to_string(n);
      ASSERT_EQ(rx.Receive(Body({Span(t, "00000000000000c" + std::to_string(n), r, "chat", 100),
                                 Span(t, "00000000000000d" + std::to_string(n), r,
                                      "execute_tool", 200),
                                 Span(t, r, "", "invoke_agent", 0)}),
                           "application/json", "")
                    .status,
                200);
      EXPECT_LE(rx.traces_held(), 2u);
    }
    // A's root: A is reloaded from its otel.span events and resolves whole.
    const OtlpResult last =
        rx.Receive(Body({Span(a, root, "", "invoke_agent", 0)}), "application/json", "");
    ASSERT_EQ(last.status, 200) << last.body;
    EXPECT_LE(rx.traces_held(), 2u);
  }
  const std::vector<std::string> evicted = Mapped(e, TraceId(1));
  const std::vector<std::string> kept = Mapped(e, TraceId(2));
  ASSERT_FALSE(kept.empty());
  // The same spans (other ids, same shape): the same events, in the same order.
  auto shape = [](std::vector<std::string> v) {
    for (std::string& l : v) {
      for (const char* id : {"00000000000000a1", "00000000000000b2"}) {
        for (size_t p = l.find(id); p != std::string::npos; p = l.find(id)) l.replace(p, 16, "ROOT");
      }
      for (const char* id : {"00000000000000a2", "00000000000000c2"}) {
        for (size_t p = l.find(id); p != std::string::npos; p = l.find(id)) l.replace(p, 16, "CHAT");
      }
      for (const char* id : {"00000000000000a3", "00000000000000d2"}) {
        for (size_t p = l.find(id); p != std::string::npos; p = l.find(id)) l.replace(p, 16, "TOOL");
      }
    }
    return v;
  };
  EXPECT_EQ(shape(evicted), shape(kept));
  ASSERT_TRUE(e.Close().ok());
}

}  // namespace
}  // namespace tink::server
