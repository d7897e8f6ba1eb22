// tink_compare's llm class, OTLP rows (docs/performance.md, "LLM proxy and OTLP (issue 15)"):
// GenAI spans ingested by the OTLP receiver of tink serve, as JSON and as protobuf, against
// `tink import --format otlp` of the same spans from a file (read, mapped, one append).
//
// The spans: `traces` agent runs of 1 invoke_agent root, 6 chat calls (input and output
// messages, token usage) and 3 execute_tool spans each, sent the way an exporter's batch
// processor sends them: every request holds a batch of whole traces, children before their root.
// The receiver rows call OtlpReceiver::Receive (what POST /v1/traces runs after the HTTP layer)
// on an engine opened as tink serve opens it (durability `always`); the import row maps the
// file's traces and appends them as one batch.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/compare.h"
#include "bench/http_served.h"
#include "engine/import/import.h"
#include "engine/import/otlp/trace.pb.h"
#include "shell/server/otlp_receiver.h"

namespace tink::bench {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr int kChats = 6, kTools = 3;
constexpr int kSpansPerTrace = 1 + kChats + kTools;

std::string Hex(uint64_t v, int digits) {
  static const char* kHex = "0123456789abcdef";
  std::string s(static_cast<size_t>(digits), '0');
  for (int i = digits - 1; i >= 0 && v != 0; --i, v >>= 4) s[static_cast<size_t>(i)] = kHex[v & 15];
  return s;
}

std::string Bytes(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  }
  return out;
}

struct SpanSpec {
  std::string trace, id, parent, name;
  uint64_t start = 0, end = 0;
  std::vector<std::pair<std::string, json>> attrs;  // string or integer values
};

std::vector<SpanSpec> Trace(uint64_t t) {
  std::vector<SpanSpec> out;
  const std::string trace = Hex(t + 1, 32), root = Hex((t << 8) + 1, 16);
  const uint64_t t0 = 1'700'000'000'000'000'000ull + t * 1'000'000'000ull;
  std::string history = R"([{"role":"user","content":"Fix the rounding bug in serializer.py"})";
  for (int c = 0; c < kChats; ++c) {
    SpanSpec s{trace, Hex((t << 8) + 2 + static_cast<uint64_t>(c), 16), root, "chat gpt-4o",
               t0 + static_cast<uint64_t>(c) * 50'000'000, t0 + static_cast<uint64_t>(c) * 50'000'000 + 40'000'000, {}};
    s.attrs = {{"gen_ai.operation.name", "chat"},
               {"gen_ai.provider.name", "openai"},
               {"gen_ai.request.model", "gpt-4o"},
               {"gen_ai.input.messages", history + "]"},
               {"gen_ai.output.messages",
                R"([{"role":"assistant","content":"Let me look at the division in line )" +
                    std::to_string(40 + c) + R"(; it truncates instead of rounding."}])"},
               {"gen_ai.usage.input_tokens", 1200 + c * 80},
               {"gen_ai.usage.output_tokens", 35 + c}};
    history += R"(,{"role":"assistant","content":"step )" + std::to_string(c) + R"("})";
    out.push_back(std::move(s));
  }
  for (int k = 0; k < kTools; ++k) {
    SpanSpec s{trace, Hex((t << 8) + 100 + static_cast<uint64_t>(k), 16), root, "execute_tool bash",
               t0 + 400'000'000 + static_cast<uint64_t>(k) * 10'000'000,
               t0 + 405'000'000 + static_cast<uint64_t>(k) * 10'000'000, {}};
    s.attrs = {{"gen_ai.operation.name", "execute_tool"},
               {"gen_ai.tool.name", "bash"},
               {"gen_ai.tool.call.arguments", R"({"command":"python -m pytest tests/test_round.py"})"},
               {"gen_ai.tool.call.result", "1 passed in 0.03s"}};
    out.push_back(std::move(s));
  }
  SpanSpec r{trace, root, "", "invoke_agent fixer", t0, t0 + 900'000'000, {}};
  r.attrs = {{"gen_ai.operation.name", "invoke_agent"}, {"gen_ai.agent.name", "fixer"}};
  out.push_back(std::move(r));  // the root ends last, so it is exported last
  return out;
}

std::string JsonBody(const std::vector<SpanSpec>& spans) {
  json arr = json::array();
  for (const SpanSpec& s : spans) {
    json attrs = json::array();
    for (const auto& [k, v] : s.attrs) {
      attrs.push_back({{"key", k},
                       {"value", v.is_string() ? json{{"stringValue", v}}
                                               : json{{"intValue", std::to_string(v.get<int64_t>())}}}});
    }
    json j = {{"traceId", s.trace}, {"spanId", s.id}, {"name", s.name}, {"kind", 1},
              {"startTimeUnixNano", std::to_string(s.start)},
              {"endTimeUnixNano", std::to_string(s.end)}, {"attributes", attrs},
              {"status", json::object()}};
    if (!s.parent.empty()) j["parentSpanId"] = s.parent;
    arr.push_back(std::move(j));
  }
  return json{{"resourceSpans",
               json::array({{{"resource", {{"attributes", json::array()}}},
                             {"scopeSpans", json::array({{{"scope", {{"name", "bench"}}},
                                                          {"spans", arr}}})}}})}}
      .dump();
}

std::string ProtoBody(const std::vector<SpanSpec>& spans) {
  tink::otlp::ExportTraceServiceRequest req;
  auto* ss = req.add_resource_spans()->add_scope_spans();
  ss->mutable_scope()->set_name("bench");
  for (const SpanSpec& s : spans) {
    auto* p = ss->add_spans();
    p->set_trace_id(Bytes(s.trace));
    p->set_span_id(Bytes(s.id));
    if (!s.parent.empty()) p->set_parent_span_id(Bytes(s.parent));
    p->set_name(s.name);
    p->set_start_time_unix_nano(s.start);
    p->set_end_time_unix_nano(s.end);
    for (const auto& [k, v] : s.attrs) {
      auto* kv = p->add_attributes();
      kv->set_key(k);
      if (v.is_string()) {
        kv->mutable_value()->set_string_value(v.get<std::string>());
      } else {
        kv->mutable_value()->set_int_value(v.get<int64_t>());
      }
    }
  }
  return req.SerializeAsString();
}

struct Outcome {
  double seconds = 0;
  uint64_t events = 0;
  std::string error;
};

// Every request through a fresh receiver on a fresh store.
Outcome Receive(const std::string& dir, const std::vector<std::string>& bodies,
                const char* content_type) {
  Outcome o;
  auto eng = OpenEngine(dir, nullptr);
  if (!eng.ok()) return {0, 0, eng.status().ToString()};
  {
    server::OtlpReceiver receiver(eng->get(), nullptr);
    const Clock::time_point t0 = Clock::now();
    for (const std::string& b : bodies) {
      server::OtlpResult r = receiver.Receive(b, content_type, "");
      if (r.status != 200) {
        o.error = "HTTP " + std::to_string(r.status) + ": " + r.body.substr(0, 200);
        break;
      }
      o.events += r.appended;
    }
    o.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  }
  (void)(*eng)->Close();
  return o;
}

Outcome Import(const std::string& dir, const std::string& file) {
  Outcome o;
  auto eng = OpenEngine(dir, nullptr);
  if (!eng.ok()) return {0, 0, eng.status().ToString()};
  const Clock::time_point t0 = Clock::now();
  engine::import::Options opt;
  opt.format = "otlp";
  Result<std::vector<engine::import::ImportedRun>> runs = engine::import::ImportFile(file, opt);
  if (!runs.ok()) {
    o.error = runs.status().ToString();
  } else {
    std::vector<schema::EventInput> all;
    for (auto& r : *runs) {
      for (auto& e : r.events) all.push_back(std::move(e));
    }
    o.events = all.size();
    Result<engine::AppendOutcome> a = (*eng)->Append(all);
    if (!a.ok()) o.error = a.status().ToString();
  }
  o.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  (void)(*eng)->Close();
  return o;
}

}  // namespace

std::string OtlpCompare(const std::string& dir, const LlmOptions& o) {
  const uint64_t traces = static_cast<uint64_t>(o.otlp_traces);
  const uint64_t per_request = 16;  // traces per export request (a batch processor's batch)
  std::vector<SpanSpec> all;
  std::vector<std::string> json_bodies, proto_bodies;
  for (uint64_t t = 0; t < traces; t += per_request) {
    std::vector<SpanSpec> batch;
    for (uint64_t k = t; k < std::min(traces, t + per_request); ++k) {
      std::vector<SpanSpec> one = Trace(k);
      batch.insert(batch.end(), one.begin(), one.end());
    }
    json_bodies.push_back(JsonBody(batch));
    proto_bodies.push_back(ProtoBody(batch));
    all.insert(all.end(), batch.begin(), batch.end());
  }
  const std::string file = dir + "-spans.json";
  std::ofstream(file) << JsonBody(all);
  size_t json_bytes = 0, proto_bytes = 0;
  for (const auto& b : json_bodies) json_bytes += b.size();
  for (const auto& b : proto_bodies) proto_bytes += b.size();
  const double spans = static_cast<double>(traces * kSpansPerTrace);

  struct RowOut {
    std::string name;
    Outcome out;
    size_t bytes;
  };
  std::vector<RowOut> rows = {
      {"receiver, OTLP/JSON (16 traces a request)", Receive(dir + "/json", json_bodies, "application/json"), json_bytes},
      {"receiver, OTLP/protobuf (16 traces a request)",
       Receive(dir + "/proto", proto_bodies, "application/x-protobuf"), proto_bytes},
      {"tink import --format otlp of the same spans", Import(dir + "/import", file), json_bytes},
  };
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line,
                "\notlp ingest: %llu traces of %d GenAI spans (%d chat, %d tools, 1 root), "
                "durable appends\n",
                static_cast<unsigned long long>(traces), kSpansPerTrace, kChats, kTools);
  out += line;
  std::snprintf(line, sizeof line, "%-48s %10s %12s %10s %12s\n", "row", "spans/s", "events",
                "MB in", "vs import");
  out += line;
  const double import_rate = rows[2].out.error.empty() && rows[2].out.seconds > 0
                                 ? spans / rows[2].out.seconds
                                 : 0;
  for (const RowOut& r : rows) {
    if (!r.out.error.empty()) {
      out += r.name + ": ERROR " + r.out.error + "\n";
      continue;
    }
    const double rate = spans / r.out.seconds;
    char ratio[32] = "-";
    if (import_rate > 0) std::snprintf(ratio, sizeof ratio, "%.2fx", rate / import_rate);
    std::snprintf(line, sizeof line, "%-48s %10.0f %12llu %10.1f %12s\n", r.name.c_str(), rate,
                  static_cast<unsigned long long>(r.out.events), static_cast<double>(r.bytes) / 1e6,
                  ratio);
    out += line;
  }
  out +=
      "  events: appended (the receiver also stores each span raw as an otel.span event).\n";
  std::remove(file.c_str());
  return out;
}

}  // namespace tink::bench
