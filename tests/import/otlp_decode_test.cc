// OTLP decoding (engine/import/otlp_json.cc, otlp_proto.cc) and the one span->event mapping
// (otlp_map.cc) on the GenAI conventions, current and older; OTLP/JSON files through
// `ImportFile` (format otlp). The protobuf bodies are built with the generated classes of
// engine/import/otlp/trace.proto.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/import/import.h"
#include "engine/import/otlp.h"
#include "engine/import/otlp/trace.pb.h"
#include "support/temp_dir.h"

namespace tink::engine::import {
namespace {

using nlohmann::json;

const std::string kTrace = "5b8efff798038103d269b633813fc60c";
const std::string kRoot = "eee19b7ec3c1b173", kChild = "eee19b7ec3c1b174";

// trace id 5b8e...0c and span id eee1...74 in base64 (protobuf's JSON form for bytes).
const std::string kTraceB64 = "W47/95gDgQPSabYzgT/GDA==";
const std::string kChildB64 = "7uGbfsPBsXQ=";

json Kv(const std::string& k, json v) { return {{"key", k}, {"value", std::move(v)}}; }
json Str(const std::string& s) { return {{"stringValue", s}}; }
json Arr(std::vector<json> v) { return {{"arrayValue", {{"values", json(std::move(v))}}}}; }
json KvList(std::vector<json> v) { return {{"kvlistValue", {{"values", json(std::move(v))}}}}; }

json Request(json spans, json resource_attrs = json::array()) {
  return {{"resourceSpans",
           {{{"resource", {{"attributes", resource_attrs}}},
             {"scopeSpans", {{{"scope", {{"name", "test"}}}, {"spans", std::move(spans)}}}}}}}};
}

// The same child span in camelCase/hex/string-int64/enum-number form and in snake_case/base64/
// number-int64/enum-name form, with unknown fields.
json ChildCamel() {
  return {{"traceId", kTrace},
          {"spanId", kChild},
          {"parentSpanId", kRoot},
          {"name", "chat gpt-4o"},
          {"kind", 3},
          {"startTimeUnixNano", "1700000000100000000"},
          {"endTimeUnixNano", "1700000000900000000"},
          {"attributes",
           {Kv("gen_ai.operation.name", Str("chat")), Kv("gen_ai.usage.input_tokens", {{"intValue", "12"}}),
            Kv("ratio", {{"doubleValue", 0.5}}), Kv("ok", {{"boolValue", true}}),
            Kv("list", {{"arrayValue", {{"values", {Str("a"), {{"intValue", 2}}}}}}}),
            Kv("map", {{"kvlistValue", {{"values", {Kv("x", Str("y"))}}}}})}},
          {"events",
           {{{"name", "gen_ai.user.message"},
             {"timeUnixNano", "1700000000200000000"},
             {"attributes", {Kv("content", Str("hi"))}}}}},
          {"status", {{"code", 2}, {"message", "boom"}}},
          {"droppedAttributesCount", 0},
          {"someFutureField", {{"x", 1}}}};
}
json ChildSnake() {
  return {{"trace_id", kTraceB64},
          {"span_id", kChildB64},
          {"parent_span_id", kRoot},
          {"name", "chat gpt-4o"},
          {"kind", "SPAN_KIND_CLIENT"},
          {"start_time_unix_nano", 1700000000100000000LL},
          {"end_time_unix_nano", 1700000000900000000LL},
          {"attributes",
           {Kv("gen_ai.operation.name", {{"string_value", "chat"}}),
            Kv("gen_ai.usage.input_tokens", {{"int_value", 12}}),
            Kv("ratio", {{"double_value", 0.5}}), Kv("ok", {{"bool_value", true}}),
            Kv("list", {{"array_value", {{"values", {Str("a"), {{"intValue", "2"}}}}}}}),
            Kv("map", {{"kvlist_value", {{"values", {Kv("x", Str("y"))}}}}})}},
          {"events",
           {{{"name", "gen_ai.user.message"},
             {"time_unix_nano", "1700000000200000000"},
             {"attributes", {Kv("content", Str("hi"))}}}}},
          {"status", {{"code", "STATUS_CODE_ERROR"}, {"message", "boom"}}}};
}

std::string Bytes(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  }
  return out;
}

void SetKv(otlp::KeyValue* kv, const std::string& k) { kv->set_key(k); }

std::string ChildProto() {
  otlp::ExportTraceServiceRequest req;
  auto* rs = req.add_resource_spans();
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name("test");
  auto* s = ss->add_spans();
  s->set_trace_id(Bytes(kTrace));
  s->set_span_id(Bytes(kChild));
  s->set_parent_span_id(Bytes(kRoot));
  s->set_name("chat gpt-4o");
  s->set_kind(otlp::Span::SPAN_KIND_CLIENT);
  s->set_start_time_unix_nano(1700000000100000000ULL);
  s->set_end_time_unix_nano(1700000000900000000ULL);
  auto* a = s->add_attributes();
  SetKv(a, "gen_ai.operation.name");
  a->mutable_value()->set_string_value("chat");
  a = s->add_attributes();
  SetKv(a, "gen_ai.usage.input_tokens");
  a->mutable_value()->set_int_value(12);
  a = s->add_attributes();
  SetKv(a, "ratio");
  a->mutable_value()->set_double_value(0.5);
  a = s->add_attributes();
  SetKv(a, "ok");
  a->mutable_value()->set_bool_value(true);
  a = s->add_attributes();
  SetKv(a, "list");
  a->mutable_value()->mutable_array_value()->add_values()->set_string_value("a");
  a->mutable_value()->mutable_array_value()->add_values()->set_int_value(2);
  a = s->add_attributes();
  SetKv(a, "map");
  auto* x = a->mutable_value()->mutable_kvlist_value()->add_values();
  x->set_key("x");
  x->mutable_value()->set_string_value("y");
  auto* e = s->add_events();
  e->set_name("gen_ai.user.message");
  e->set_time_unix_nano(1700000000200000000ULL);
  auto* ea = e->add_attributes();
  ea->set_key("content");
  ea->mutable_value()->set_string_value("hi");
  s->mutable_status()->set_code(otlp::Status::STATUS_CODE_ERROR);
  s->mutable_status()->set_message("boom");
  return req.SerializeAsString();
}

TEST(OtlpDecode, JsonFormsAndProtobufGiveTheSameSpan) {
  auto camel = DecodeOtlpJson(Request({ChildCamel()}).dump());
  auto snake = DecodeOtlpJson(Request({ChildSnake()}).dump());
  auto proto = DecodeOtlpProto(ChildProto());
  ASSERT_TRUE(camel.ok()) << camel.status().ToString();
  ASSERT_TRUE(snake.ok()) << snake.status().ToString();
  ASSERT_TRUE(proto.ok()) << proto.status().ToString();
  ASSERT_EQ(camel->spans.size(), 1u);
  ASSERT_EQ(snake->spans.size(), 1u);
  ASSERT_EQ(proto->spans.size(), 1u);
  const json want = SpanToJson(camel->spans[0]);
  EXPECT_EQ(SpanToJson(snake->spans[0]), want);
  EXPECT_EQ(SpanToJson(proto->spans[0]), want);
  const OtelSpan& s = camel->spans[0];
  EXPECT_EQ(s.trace_id, kTrace);
  EXPECT_EQ(s.span_id, kChild);
  EXPECT_EQ(s.parent_id, kRoot);
  EXPECT_EQ(s.kind, 3);
  EXPECT_EQ(s.start_ns, 1700000000100000000LL);
  EXPECT_EQ(s.status_code, 2);
  EXPECT_EQ(s.scope, "test");
  EXPECT_EQ(s.attributes["gen_ai.usage.input_tokens"], 12);
  EXPECT_EQ(s.attributes["list"], json::parse(R"(["a",2])"));
  EXPECT_EQ(s.attributes["map"], json::parse(R"({"x":"y"})"));
  ASSERT_EQ(s.events.size(), 1u);
  EXPECT_EQ(s.events[0].attributes["content"], "hi");
  // The stored form reads back as the same span.
  auto back = SpanFromJson(want);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(SpanToJson(*back), want);
}

TEST(OtlpDecode, UnusableSpansAreRejectedAndTheOthersKept) {
  json bad_id = ChildCamel();
  bad_id["spanId"] = "xyz";
  json no_id = ChildCamel();
  no_id.erase("spanId");
  json backwards = ChildCamel();
  backwards["endTimeUnixNano"] = "1";
  json short_trace = ChildCamel();
  short_trace["traceId"] = "abcd";
  auto b = DecodeOtlpJson(Request({bad_id, no_id, backwards, short_trace, ChildCamel()}).dump());
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->spans.size(), 1u);
  EXPECT_EQ(b->rejected, 4u);
  ASSERT_EQ(b->reasons.size(), 4u);
  EXPECT_NE(b->reasons[0].find("spans[0]: spanId"), std::string::npos) << b->reasons[0];
  EXPECT_NE(b->reasons[2].find("before"), std::string::npos) << b->reasons[2];
  EXPECT_NE(b->reasons[3].find("traceId"), std::string::npos) << b->reasons[3];
}

TEST(OtlpDecode, BadBodiesAreErrorsNamingThePlace) {
  struct Case {
    json body;
    std::string want;
  };
  json wrong_time = ChildCamel();
  wrong_time["startTimeUnixNano"] = json::object();
  json wrong_attrs = ChildCamel();
  wrong_attrs["attributes"] = "x";
  json wrong_int = ChildCamel();
  wrong_int["attributes"] = {Kv("n", {{"intValue", "12abc"}})};
  json wrong_id = ChildCamel();
  wrong_id["spanId"] = 5;
  const std::vector<Case> cases = {
      {Request({wrong_time}), "spans[0].startTimeUnixNano"},
      {Request({wrong_attrs}), "spans[0].attributes"},
      {Request({wrong_int}), "intValue"},
      {Request({wrong_id}), "spans[0].spanId"},
      {{{"resourceSpans", "x"}}, "resourceSpans"},
      {json::array(), "expected a JSON object"},
  };
  for (const Case& c : cases) {
    auto r = DecodeOtlpJson(c.body.dump());
    ASSERT_FALSE(r.ok()) << c.body.dump();
    EXPECT_TRUE(r.status().IsInvalidArgument());
    EXPECT_NE(r.status().message().find(c.want), std::string::npos) << r.status().message();
  }
  EXPECT_FALSE(DecodeOtlpJson("{\"resourceSpans\": [").ok());
  // A truncated protobuf body.
  const std::string proto = ChildProto();
  auto t = DecodeOtlpProto(std::string_view(proto).substr(0, proto.size() - 7));
  ASSERT_FALSE(t.ok());
  EXPECT_TRUE(t.status().IsInvalidArgument());
}

TEST(OtlpDecode, AttributeNestingIsBoundedInJsonAndProtobuf) {
  // kMaxValueDepth levels are fine, one more is refused.
  for (int depth : {kMaxValueDepth, kMaxValueDepth + 1, 90}) {
    SCOPED_TRACE(depth);
    json v = Str("leaf");
    otlp::AnyValue pv;
    pv.set_string_value("leaf");
    for (int i = 0; i < depth; ++i) {
      v = {{"arrayValue", {{"values", {v}}}}};
      otlp::AnyValue outer;
      *outer.mutable_array_value()->add_values() = pv;
      pv = outer;
    }
    json span = ChildCamel();
    span["attributes"] = {Kv("deep", v)};
    auto j = DecodeOtlpJson(Request({span}).dump());
    otlp::ExportTraceServiceRequest req;
    auto* s = req.add_resource_spans()->add_scope_spans()->add_spans();
    s->set_trace_id(Bytes(kTrace));
    s->set_span_id(Bytes(kChild));
    auto* kv = s->add_attributes();
    kv->set_key("deep");
    *kv->mutable_value() = pv;
    auto p = DecodeOtlpProto(req.SerializeAsString());
    const bool ok = depth <= kMaxValueDepth;
    EXPECT_EQ(p.ok(), ok) << p.status().ToString();
    if (depth < 100) {  // deeper JSON is refused by the parser's own depth limit as well
      EXPECT_EQ(j.ok(), ok) << j.status().ToString();
    } else {
      EXPECT_FALSE(j.ok());
    }
    if (!ok) {
      EXPECT_NE(p.status().message().find("nest"), std::string::npos) << p.status().message();
    }
  }
}

// --- the mapping ---

json Span(const std::string& id, const std::string& parent, const std::string& name,
          int64_t start, int64_t end, json attrs, json events = json::array(), int status = 0) {
  json s = {{"traceId", kTrace},
            {"spanId", id},
            {"name", name},
            {"startTimeUnixNano", std::to_string(start)},
            {"endTimeUnixNano", std::to_string(end)},
            {"attributes", std::move(attrs)},
            {"events", std::move(events)}};
  if (!parent.empty()) s["parentSpanId"] = parent;
  if (status != 0) s["status"] = {{"code", status}, {"message", "upstream said no"}};
  return s;
}

std::vector<schema::EventInput> Map(const json& request) {
  auto b = DecodeOtlpJson(request.dump());
  EXPECT_TRUE(b.ok()) << b.status().ToString();
  if (!b.ok()) return {};
  TraceMapInput in;
  in.run = "r";
  in.source_id = kTrace;
  in.name = "test";
  in.spans = b->spans;
  auto run = MapTrace(in);
  EXPECT_TRUE(run.ok()) << run.status().ToString();
  return run.ok() ? run->events : std::vector<schema::EventInput>{};
}

json DataOf(const std::vector<schema::EventInput>& evs, const std::string& id) {
  for (const auto& e : evs) {
    if (e.id == id) {
      EXPECT_TRUE(schema::EncodeEvent(e).ok()) << e.id << " " << e.data_json;
      return json::parse(e.data_json);
    }
  }
  ADD_FAILURE() << "no event " << id;
  return json();
}

const int64_t T0 = 1700000000000000000LL;

TEST(OtlpMapping, CurrentGenAiConventions) {
  const json agent = Span(kRoot, "", "invoke_agent helper", T0, T0 + 1000000000,
                          {Kv("gen_ai.operation.name", Str("invoke_agent")),
                           Kv("gen_ai.agent.name", Str("helper"))});
  json input = json::array({{{"role", "user"}, {"parts", {{{"type", "text"}, {"content", "Weather in Paris?"}}}}}});
  const json chat = Span("0000000000000002", kRoot, "chat gpt-4o", T0 + 100, T0 + 500000000,
                         {Kv("gen_ai.operation.name", Str("chat")),
                          Kv("gen_ai.provider.name", Str("openai")),
                          Kv("gen_ai.request.model", Str("gpt-4o")),
                          Kv("gen_ai.response.model", Str("gpt-4o-2024-08-06")),
                          Kv("gen_ai.input.messages", Str(input.dump())),
                          // structured (an OTLP array of kvlists), not JSON text
                          Kv("gen_ai.output.messages",
                             Arr({KvList({Kv("role", Str("assistant")),
                                          Kv("parts", Arr({KvList({Kv("type", Str("text")),
                                                                   Kv("content", Str("Let me check."))}),
                                                           KvList({Kv("type", Str("tool_call")),
                                                                   Kv("id", Str("call_1")),
                                                                   Kv("name", Str("weather"))})})),
                                          Kv("finish_reason", Str("stop"))})})),
                          Kv("gen_ai.response.finish_reasons", {{"arrayValue", {{"values", {Str("tool_calls")}}}}}),
                          Kv("gen_ai.usage.input_tokens", {{"intValue", "120"}}),
                          Kv("gen_ai.usage.output_tokens", {{"intValue", 30}}),
                          Kv("gen_ai.usage.cache_read.input_tokens", {{"intValue", "100"}})});
  const json tool = Span("0000000000000003", kRoot, "execute_tool weather", T0 + 600000000,
                         T0 + 700000000,
                         {Kv("gen_ai.operation.name", Str("execute_tool")),
                          Kv("gen_ai.tool.name", Str("weather")),
                          Kv("gen_ai.tool.call.id", Str("call_1")),
                          Kv("gen_ai.tool.call.arguments", Str("{\"city\":\"Paris\"}")),
                          Kv("gen_ai.tool.call.result", Str("sunny"))});
  const auto evs = Map(Request({chat, tool, agent}));
  const json started = DataOf(evs, "r/run.started");
  EXPECT_EQ(started["agent"], "helper");
  EXPECT_EQ(started["model"], "gpt-4o");
  EXPECT_EQ(started["task"], "Weather in Paris?");
  const json req = DataOf(evs, "r/span-0000000000000002/request");
  EXPECT_EQ(req["provider"], "openai");
  EXPECT_EQ(req["model"], "gpt-4o");
  EXPECT_EQ(req["messages"], input);
  EXPECT_EQ(req["task"], "agent");
  const json resp = DataOf(evs, "r/span-0000000000000002/response");
  EXPECT_EQ(resp["provider"], "openai");
  EXPECT_EQ(resp["model"], "gpt-4o-2024-08-06");
  EXPECT_EQ(resp["content"], "Let me check.");
  EXPECT_EQ(resp["tool_calls"], json::parse(R"([{"type":"tool_call","id":"call_1","name":"weather"}])"));
  EXPECT_EQ(resp["finish_reason"], "tool_calls");
  EXPECT_EQ(resp["input_tokens"], 120);
  EXPECT_EQ(resp["output_tokens"], 30);
  EXPECT_EQ(resp["cached_tokens"], 100);
  const json call = DataOf(evs, "r/span-0000000000000003/call");
  EXPECT_EQ(call["call_id"], "call_1");
  EXPECT_EQ(call["tool"], "weather");
  EXPECT_EQ(call["args"], json::parse(R"({"city":"Paris"})"));
  const json result = DataOf(evs, "r/span-0000000000000003/result");
  EXPECT_EQ(result["output"], "sunny");
  EXPECT_EQ(result["ok"], true);
  EXPECT_EQ(DataOf(evs, "r/span-0000000000000003/created")["parent"], "agent");
  EXPECT_EQ(DataOf(evs, "r/run.finished")["status"], "succeeded");
}

TEST(OtlpMapping, OlderConventionsFlattenedAttributesAndSpanEvents) {
  const json root = Span(kRoot, "", "workflow", T0, T0 + 1000000000, json::array());
  // OpenLLMetry-style: no operation name; gen_ai.system + request model; flattened messages.
  const json flat = Span("0000000000000002", kRoot, "openai.chat", T0 + 10, T0 + 400000000,
                         {Kv("gen_ai.system", Str("OpenAI")),
                          Kv("gen_ai.request.model", Str("gpt-3.5-turbo")),
                          Kv("gen_ai.prompt.0.role", Str("system")),
                          Kv("gen_ai.prompt.0.content", Str("Be brief.")),
                          Kv("gen_ai.prompt.1.role", Str("user")),
                          Kv("gen_ai.prompt.1.content", Str("Say hi")),
                          Kv("gen_ai.completion.0.role", Str("assistant")),
                          Kv("gen_ai.completion.0.content", Str("hi")),
                          Kv("gen_ai.completion.0.finish_reason", Str("stop")),
                          Kv("llm.usage.prompt_tokens", {{"intValue", 9}}),
                          Kv("llm.usage.total_tokens", {{"intValue", "11"}})});
  // Per-message span events (gen_ai.*.message, gen_ai.choice with a body).
  const json evented = Span(
      "0000000000000003", kRoot, "chat", T0 + 500000000, T0 + 900000000,
      {Kv("gen_ai.operation.name", Str("chat")), Kv("gen_ai.system", Str("anthropic")),
       Kv("gen_ai.request.model", Str("claude")), Kv("gen_ai.usage.prompt_tokens", Str("7")),
       Kv("gen_ai.usage.completion_tokens", {{"intValue", 2}}),
       Kv("gen_ai.usage.cache_read_input_tokens", {{"intValue", 5}})},
      {{{"name", "gen_ai.user.message"}, {"timeUnixNano", std::to_string(T0 + 500000001)},
        {"attributes", {Kv("content", Str("Hello?"))}}},
       {{"name", "gen_ai.choice"}, {"timeUnixNano", std::to_string(T0 + 800000000)},
        {"attributes",
         {Kv("body", Str(R"({"index":0,"finish_reason":"end_turn","message":{"role":"assistant","content":"Hello!"}})"))}}}});
  const json failing = Span("0000000000000004", kRoot, "chat", T0 + 910000000, T0 + 920000000,
                            {Kv("gen_ai.operation.name", Str("chat")),
                             Kv("gen_ai.provider.name", Str("openai"))},
                            json::array(), 2);
  const auto evs = Map(Request({flat, evented, failing, root}));
  const json r1 = DataOf(evs, "r/span-0000000000000002/request");
  EXPECT_EQ(r1["provider"], "OpenAI");
  EXPECT_EQ(r1["messages"], json::parse(R"([{"role":"system","content":"Be brief."},{"role":"user","content":"Say hi"}])"));
  const json p1 = DataOf(evs, "r/span-0000000000000002/response");
  EXPECT_EQ(p1["content"], "hi");
  EXPECT_EQ(p1["finish_reason"], "stop");
  EXPECT_EQ(p1["input_tokens"], 9);
  EXPECT_EQ(p1["output_tokens"], 2);  // total - prompt
  EXPECT_EQ(DataOf(evs, "r/run.started")["task"], "Say hi");
  const json r2 = DataOf(evs, "r/span-0000000000000003/request");
  EXPECT_EQ(r2["messages"], json::parse(R"([{"role":"user","content":"Hello?"}])"));
  const json p2 = DataOf(evs, "r/span-0000000000000003/response");
  EXPECT_EQ(p2["content"], "Hello!");
  EXPECT_EQ(p2["finish_reason"], "end_turn");
  EXPECT_EQ(p2["input_tokens"], 7);
  EXPECT_EQ(p2["output_tokens"], 2);
  EXPECT_EQ(p2["cached_tokens"], 5);
  const json e = DataOf(evs, "r/span-0000000000000004/error");
  EXPECT_EQ(e["error"], "upstream said no");
  EXPECT_EQ(e["provider"], "openai");
  const json fin = DataOf(evs, "r/run.finished");
  EXPECT_EQ(fin["status"], "failed");
  EXPECT_EQ(fin["error"], "upstream said no");
}

TEST(OtlpMapping, ASingleChatSpanIsARunWithOneCall) {
  const json chat = Span(kRoot, "", "chat", T0, T0 + 5, {Kv("gen_ai.operation.name", Str("chat")),
                                                         Kv("gen_ai.request.model", Str("m"))});
  const auto evs = Map(Request({chat}));
  EXPECT_EQ(DataOf(evs, "r/span-" + kRoot + "/request")["task"], "agent");
  EXPECT_EQ(DataOf(evs, "r/span-" + kRoot + "/response")["model"], "m");
}

TEST(OtlpImportFile, OtlpJsonFileAndJsonLines) {
  tink::testing::TempDir dir;
  const json root = Span(kRoot, "", "invoke_agent a", T0, T0 + 100,
                         {Kv("gen_ai.operation.name", Str("invoke_agent"))});
  const json chat = Span("0000000000000002", kRoot, "chat", T0 + 1, T0 + 50,
                         {Kv("gen_ai.operation.name", Str("chat"))});
  const std::string one = dir.Sub("one.json"), lines = dir.Sub("lines.jsonl");
  std::ofstream(one) << Request({chat, root}).dump(2);
  std::ofstream(lines) << Request({chat}).dump() << "\n" << Request({root}).dump() << "\n";
  Options opt;
  opt.format = "otlp";
  for (const std::string& path : {one, lines}) {
    SCOPED_TRACE(path);
    auto runs = ImportFile(path, opt);
    ASSERT_TRUE(runs.ok()) << runs.status().ToString();
    ASSERT_EQ(runs->size(), 1u);
    const ImportedRun& run = runs->front();
    EXPECT_EQ(json::parse(run.events.front().data_json)["name"], "invoke_agent a");
    size_t llm = 0;
    for (const auto& e : run.events) llm += e.type.starts_with("llm.");
    EXPECT_EQ(llm, 2u);
  }
  // A rejected span is an error for a file (imported whole or not at all).
  json bad = chat;
  bad["spanId"] = "nothex";
  const std::string badp = dir.Sub("bad.json");
  std::ofstream(badp) << Request({bad, root}).dump();
  auto r = ImportFile(badp, opt);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(badp + ": "), std::string::npos);
  EXPECT_NE(r.status().message().find("spanId"), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace tink::engine::import
