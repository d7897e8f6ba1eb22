// POST /v1/traces (docs/http.md; shell/server/otlp_receiver.h) on a real `tink serve`: OTLP/JSON
// and protobuf bodies, gzip, the limits (415, 413, 400 with nothing stored), partial success,
// spans in any order and in many requests, re-sent batches, kill -9 between batches, and the
// live result against `tink import --format otlp` of the same spans.
#include <zlib.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>

#include "engine/import/otlp/trace.pb.h"
#include "server/server_test_util.h"

namespace tink::testing {
namespace {

using nlohmann::json;

const std::string kRoot = "1000000000000001";
const int64_t T0 = 1700000000000000000LL;

json Kv(const std::string& k, const std::string& v) {
  return {{"key", k}, {"value", {{"stringValue", v}}}};
}
json KvInt(const std::string& k, int64_t v) {
  return {{"key", k}, {"value", {{"intValue", std::to_string(v)}}}};
}

json Request(const json& spans) {
  return {{"resourceSpans",
           {{{"resource", {{"attributes", {Kv("service.name", "agent")}}}},
             {"scopeSpans", {{{"scope", {{"name", "t"}}}, {"spans", spans}}}}}}}};
}

// A small agent trace: root invoke_agent, two chat calls, a tool (with a chat under it).
std::vector<json> AgentSpans(const std::string& trace) {
  auto span = [&](const std::string& id, const std::string& parent, const std::string& name,
                  int64_t a, int64_t b, json attrs) {
    json s = {{"traceId", trace},  {"spanId", id},
              {"name", name},      {"startTimeUnixNano", std::to_string(T0 + a)},
              {"endTimeUnixNano", std::to_string(T0 + b)}, {"attributes", attrs}};
    if (!parent.empty()) s["parentSpanId"] = parent;
    return s;
  };
  auto chat = [&](const std::string& id, const std::string& parent, int64_t a, int64_t b,
                  const std::string& q) {
    return span(id, parent, "chat gpt-4o", a, b,
                {Kv("gen_ai.operation.name", "chat"), Kv("gen_ai.provider.name", "openai"),
                 Kv("gen_ai.request.model", "gpt-4o"),
                 Kv("gen_ai.input.messages", json::array({{{"role", "user"}, {"content", q}}}).dump()),
                 Kv("gen_ai.output.messages",
                    json::array({{{"role", "assistant"}, {"content", "ok " + q}}}).dump()),
                 KvInt("gen_ai.usage.input_tokens", 10), KvInt("gen_ai.usage.output_tokens", 2)});
  };
  return {
      chat("2000000000000002", kRoot, 10, 100, "first"),
      chat("4000000000000004", "3000000000000003", 210, 250, "inner"),
      span("3000000000000003", kRoot, "execute_tool search", 200, 300,
           {Kv("gen_ai.operation.name", "execute_tool"), Kv("gen_ai.tool.name", "search"),
            Kv("gen_ai.tool.call.arguments", "{\"q\":\"x\"}"), Kv("gen_ai.tool.call.result", "found")}),
      chat("5000000000000005", kRoot, 400, 500, "last"),
      span(kRoot, "", "invoke_agent bot", 0, 1000,
           {Kv("gen_ai.operation.name", "invoke_agent"), Kv("gen_ai.agent.name", "bot")}),
  };
}

std::string Gzip(const std::string& in) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, in.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string Bytes(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  }
  return out;
}

class OtlpTest : public ServerTest {
 protected:
  HttpResponse Send(const std::string& body, const std::string& type = "application/json",
                    HttpHeaders more = {}) {
    more.emplace_back("Content-Type", type);
    return Post("/v1/traces", body, std::move(more));
  }
  HttpResponse SendSpans(const std::vector<json>& spans) { return Send(Request(spans).dump()); }
  // The mapped events of a run (no otel.span), keyed by id with the trace id replaced by "T".
  std::map<std::string, std::string> Mapped(const std::string& run) {
    std::map<std::string, std::string> out;
    for (const json& e : Events("?run=" + run)) {
      if (e["type"] == "otel.span") continue;
      out[Replace(e["id"].get<std::string>(), run)] = Replace(Shape(e), run);
    }
    return out;
  }
  static std::string Shape(const json& e) {
    json d = e["data"];
    if (e["type"] == "run.started") d.erase("meta");
    return json({e["type"], e["stream"], e.value("occurred", ""), d}).dump();
  }
  static std::string Replace(std::string s, const std::string& what) {
    for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) {
      s.replace(p, what.size(), "T");
    }
    return s;
  }
};

TEST_F(OtlpTest, JsonAndProtobufBodiesAreStoredAndMapped) {
  ASSERT_TRUE(Start()) << server_.error();
  const std::string a = "0af7651916cd43dd8448eb211c80319c";
  HttpResponse r = SendSpans(AgentSpans(a));
  ASSERT_EQ(r.status, 200) << r.Describe();
  EXPECT_EQ(r.Header("content-type"), "application/json");
  EXPECT_EQ(ParseJson(r.body), json::object());
  const auto mapped = Mapped(a);
  EXPECT_EQ(Events("?type=otel.span&run=" + a).size(), 5u);
  EXPECT_EQ(Events("?type=llm.request&run=" + a).size(), 3u);
  EXPECT_EQ(Events("?type=llm.response&run=" + a).size(), 3u);
  EXPECT_EQ(Events("?type=tool.call&run=" + a).size(), 1u);
  EXPECT_EQ(Events("?type=run.finished&run=" + a).size(), 1u);

  // Protobuf: a root and one chat span, answered in protobuf.
  const std::string b = "1af7651916cd43dd8448eb211c80319c";
  otlp::ExportTraceServiceRequest req;
  auto* ss = req.add_resource_spans()->add_scope_spans();
  for (const auto& [id, parent] : std::vector<std::pair<std::string, std::string>>{
           {kRoot, ""}, {"2000000000000002", kRoot}}) {
    auto* s = ss->add_spans();
    s->set_trace_id(Bytes(b));
    s->set_span_id(Bytes(id));
    if (!parent.empty()) s->set_parent_span_id(Bytes(parent));
    s->set_name(parent.empty() ? "agent" : "chat");
    s->set_start_time_unix_nano(T0 + (parent.empty() ? 0 : 5));
    s->set_end_time_unix_nano(T0 + 10);
    if (!parent.empty()) {
      auto* kv = s->add_attributes();
      kv->set_key("gen_ai.operation.name");
      kv->mutable_value()->set_string_value("chat");
    }
  }
  r = Send(req.SerializeAsString(), "application/x-protobuf");
  ASSERT_EQ(r.status, 200) << r.Describe();
  EXPECT_EQ(r.Header("content-type"), "application/x-protobuf");
  otlp::ExportTraceServiceResponse resp;
  ASSERT_TRUE(resp.ParseFromString(r.body));
  EXPECT_EQ(resp.partial_success().rejected_spans(), 0);
  EXPECT_EQ(Events("?type=llm.request&run=" + b).size(), 1u);

  // gzip.
  const std::string c = "2af7651916cd43dd8448eb211c80319c";
  r = Send(Gzip(Request(AgentSpans(c)).dump()), "application/json", {{"Content-Encoding", "gzip"}});
  ASSERT_EQ(r.status, 200) << r.Describe();
  EXPECT_EQ(Mapped(c), mapped);
  const HttpResponse m = Get("/metrics");
  EXPECT_NE(m.body.find("tinkerbell_otlp_spans_total 12"), std::string::npos) << m.body;
}

TEST_F(OtlpTest, BadBodiesAreRefusedWithNothingStored) {
  ASSERT_TRUE(Start()) << server_.error();
  const std::string t = "3af7651916cd43dd8448eb211c80319c";
  ASSERT_EQ(SendSpans({AgentSpans(t).back()}).status, 200);
  const size_t before = Events().size();
  EXPECT_TRUE(IsError(Send(Request(AgentSpans(t)).dump(), "text/plain"), 415,
                      "unsupported_media_type"));
  EXPECT_TRUE(IsError(Send("{}", "application/json", {{"Content-Encoding", "br"}}), 415,
                      "unsupported_media_type"));
  // Over 20 MiB as sent, and a small gzip bomb (21 MiB of zeros in ~21 KiB).
  EXPECT_TRUE(IsError(Send(std::string(21u << 20, ' ')), 413, "too_large"));
  const std::string bomb = Gzip(std::string(21u << 20, '0'));
  ASSERT_LT(bomb.size(), 100u << 10);
  EXPECT_TRUE(IsError(Send(bomb, "application/json", {{"Content-Encoding", "gzip"}}), 413,
                      "too_large"));
  // Truncated protobuf, a truncated gzip stream, wrong JSON types, too deep, a huge attribute.
  otlp::ExportTraceServiceRequest req;
  auto* s = req.add_resource_spans()->add_scope_spans()->add_spans();
  s->set_trace_id(Bytes(t));
  s->set_span_id(Bytes("2000000000000002"));
  s->set_name(std::string(100, 'x'));
  const std::string proto = req.SerializeAsString();
  EXPECT_TRUE(IsError(Send(proto.substr(0, proto.size() - 10), "application/x-protobuf"), 400,
                      "bad_request"));
  const std::string gz = Gzip(Request(AgentSpans(t)).dump());
  EXPECT_TRUE(IsError(Send(gz.substr(0, gz.size() / 2), "application/json",
                           {{"Content-Encoding", "gzip"}}),
                      400, "bad_request"));
  json wrong = AgentSpans(t)[0];
  wrong["startTimeUnixNano"] = json::array();
  EXPECT_TRUE(IsError(SendSpans({AgentSpans(t)[1], wrong}), 400, "bad_request"));
  json deep = {{"stringValue", "x"}};
  for (int i = 0; i < 40; ++i) deep = {{"arrayValue", {{"values", {deep}}}}};
  json nested = AgentSpans(t)[0];
  nested["attributes"].push_back({{"key", "deep"}, {"value", deep}});
  const HttpResponse d = SendSpans({AgentSpans(t)[1], nested});
  EXPECT_TRUE(IsError(d, 400, "bad_request"));
  EXPECT_NE(ErrorMessage(d).find("nested"), std::string::npos) << d.body;
  json huge = AgentSpans(t)[0];
  huge["attributes"].push_back(Kv("gen_ai.input.messages", std::string(9u << 20, 'a')));
  EXPECT_TRUE(IsError(SendSpans({AgentSpans(t)[1], huge}), 400, "bad_request"));
  EXPECT_TRUE(IsError(Send("[1,2", "application/json"), 400, "bad_request"));
  // The server is up and stored nothing more.
  EXPECT_EQ(Get("/healthz").status, 200);
  EXPECT_EQ(Events().size(), before);
  ASSERT_EQ(Get("/v1/traces").status, 405);
}

TEST_F(OtlpTest, PartialSuccessStoresTheGoodSpans) {
  ASSERT_TRUE(Start()) << server_.error();
  const std::string t = "4af7651916cd43dd8448eb211c80319c";
  std::vector<json> spans = AgentSpans(t);
  json no_id = spans[0];
  no_id.erase("spanId");
  json backwards = spans[3];
  backwards["spanId"] = "6000000000000006";
  backwards["endTimeUnixNano"] = std::to_string(T0);
  spans.push_back(no_id);
  spans.push_back(backwards);
  const HttpResponse r = SendSpans(spans);
  ASSERT_EQ(r.status, 200) << r.Describe();
  const json j = ParseJson(r.body);
  EXPECT_EQ(j["partialSuccess"]["rejectedSpans"], "2") << r.body;
  EXPECT_NE(j["partialSuccess"]["errorMessage"].get<std::string>().find("spans[5]: spanId"),
            std::string::npos);
  EXPECT_EQ(Events("?type=otel.span&run=" + t).size(), 5u);
  EXPECT_EQ(Events("?type=llm.request&run=" + t).size(), 3u);
}

TEST_F(OtlpTest, AnyOrderAndReSentBatchesGiveTheSameEvents) {
  ASSERT_TRUE(Start()) << server_.error();
  const std::string in_order = "5af7651916cd43dd8448eb211c80319c";
  const std::string reversed = "6af7651916cd43dd8448eb211c80319c";
  std::vector<json> a = AgentSpans(in_order);
  // Parent before child (the tool span before the chat inside it), one span per request; the
  // root last, as exporters send it (run.started is written when the root arrives, from the
  // spans known then: a root sent first gives a run.started without the calls' model and task).
  for (size_t i : {0, 2, 1, 3, 4}) ASSERT_EQ(SendSpans({a[i]}).status, 200);
  // Children first (the OTel order: a span is exported when it ends), the root last.
  std::vector<json> b = AgentSpans(reversed);
  ASSERT_EQ(SendSpans({b[1]}).status, 200);  // a grandchild, its parent unknown
  ASSERT_EQ(SendSpans({b[0], b[3]}).status, 200);
  ASSERT_EQ(SendSpans({b[2]}).status, 200);
  EXPECT_EQ(Events("?type=llm.request&run=" + reversed).size(), 0u) << "no root yet";
  const size_t pending = Events().size();
  ASSERT_EQ(SendSpans({b[4]}).status, 200);
  EXPECT_GT(Events().size(), pending + 10);
  EXPECT_EQ(Mapped(in_order), Mapped(reversed));
  // A re-sent batch (and a re-sent whole trace) adds nothing.
  const size_t all = Events().size();
  const HttpResponse again = SendSpans(b);
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(ParseJson(again.body), json::object());
  ASSERT_EQ(SendSpans({a[1], a[1]}).status, 200);
  EXPECT_EQ(Events().size(), all);
}

TEST_F(OtlpTest, PendingSpansSurviveKillNine) {
  ASSERT_TRUE(Start()) << server_.error();
  const std::string t = "7af7651916cd43dd8448eb211c80319c";
  std::vector<json> spans = AgentSpans(t);
  ASSERT_EQ(SendSpans({spans[0], spans[1], spans[2], spans[3]}).status, 200);
  server_.Kill();
  ASSERT_TRUE(Start()) << server_.error();
  ASSERT_EQ(SendSpans({spans[4]}).status, 200);  // the root: the trace resolves
  EXPECT_EQ(Events("?type=llm.request&run=" + t).size(), 3u);
  EXPECT_EQ(Events("?type=tool.result&run=" + t).size(), 1u);
  // And after one more restart, a re-sent child changes nothing.
  server_.Kill();
  ASSERT_TRUE(Start()) << server_.error();
  const size_t all = Events().size();
  ASSERT_EQ(SendSpans({spans[1]}).status, 200);
  EXPECT_EQ(Events().size(), all);
}

TEST_F(OtlpTest, LiveEventsEqualTinkImportOfTheSameSpans) {
  ASSERT_TRUE(Start()) << server_.error();
  const std::string t = "8af7651916cd43dd8448eb211c80319c";
  std::vector<json> spans = AgentSpans(t);
  ASSERT_EQ(SendSpans({spans[1], spans[2]}).status, 200);
  ASSERT_EQ(SendSpans({spans[0], spans[3], spans[4]}).status, 200);
  std::map<std::string, std::string> live;
  for (const json& e : Events("?run=" + t)) {
    if (e["type"] != "otel.span") live[e["id"].get<std::string>()] = Shape(e);
  }
  const std::string file = tmp_.Sub("trace.json");
  std::ofstream(file) << Request(spans).dump();
  const std::string other = tmp_.Sub("imported");
  const CommandResult imp = RunCommand(kTinkBin + " import --format otlp --run " + t + " " +
                                       ShellQuote(file) + " --store " + ShellQuote(other));
  ASSERT_EQ(imp.exit_code, 0) << imp.err;
  const CommandResult log = RunCommand(kTinkBin + " log --json --store " + ShellQuote(other));
  ASSERT_EQ(log.exit_code, 0) << log.err;
  std::string err;
  std::map<std::string, std::string> imported;
  for (const json& e : ParseJsonl(log.out, &err)) {
    if (e["type"] == "note") continue;  // the importer's warnings
    imported[e["id"].get<std::string>()] = Shape(e);
  }
  EXPECT_EQ(err, "");
  EXPECT_GT(imported.size(), 20u);
  EXPECT_EQ(live, imported);
}

}  // namespace
}  // namespace tink::testing
