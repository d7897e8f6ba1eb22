// `tink import --format otlp`: OpenTelemetry GenAI spans from a file -> events, through the one
// mapping the daemon's POST /v1/traces also uses (otlp.h, otlp_map.cc; docs/import.md "## otlp").
//
// Two file forms: any-agent's trace export ({"spans": [...], "final_output": ...}, OTel SDK
// ReadableSpans with decimal ids), and OTLP/JSON (one ExportTraceServiceRequest object, or JSON
// lines of them as the OpenTelemetry Collector's file exporter writes). Both are read into
// normalized spans (OtelSpan) and mapped one run per trace.
#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "engine/import/import.h"
#include "engine/import/json_internal.h"
#include "engine/import/otlp.h"

namespace tink::engine::import {
namespace {

using jsondoc::Dump;
using jsondoc::KindOf;
using nlohmann::json;

class AnyAgentReader {
 public:
  explicit AnyAgentReader(const std::string& file) : file_(file) {}
  Result<OtelSpan> ParseSpan(const json& s, size_t i) const;

 private:
  Status Bad(const std::string& where, const std::string& msg) const {
    return Status::InvalidArgument(where + (where.empty() ? "" : ": ") + msg);
  }
  Result<std::string> IdText(const json& v, const std::string& where) const {
    if (v.is_null()) return std::string();
    if (v.is_number_unsigned()) return std::to_string(v.get<uint64_t>());
    if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
    if (v.is_string()) return v.get<std::string>();
    return Bad(where, std::string("expected an integer or a string id, got ") + KindOf(v));
  }
  Result<int64_t> Time(const json& v, const std::string& where) const {
    if (v.is_number_integer() && !v.is_number_unsigned()) return v.get<int64_t>();
    if (v.is_number_unsigned() && v.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX)) {
      return static_cast<int64_t>(v.get<uint64_t>());
    }
    if (v.is_string()) {
      const std::string s = v.get<std::string>();
      if (!s.empty() && s.size() <= 18 && s.find_first_not_of("0123456789") == std::string::npos) {
        return static_cast<int64_t>(std::stoll(s));
      }
    }
    return Bad(where, std::string("expected integer nanoseconds since the epoch, got ") +
                          (v.is_string() ? "\"" + v.get<std::string>() + "\"" : KindOf(v)));
  }

  std::string file_;
};

Result<OtelSpan> AnyAgentReader::ParseSpan(const json& s, size_t i) const {
  const std::string rec = "spans[" + std::to_string(i) + "]";
  if (!s.is_object()) return Bad(rec, std::string("expected an object, got ") + KindOf(s));
  OtelSpan sp;
  sp.where = rec;
  if (!s.contains("context") || !s["context"].is_object()) {
    return Bad(rec, "field 'context' is missing or not an object");
  }
  ASSIGN_OR_RETURN(sp.span_id,
                   IdText(s["context"].value("span_id", json()), rec + ": field 'context.span_id'"));
  if (sp.span_id.empty()) return Bad(rec, "field 'context.span_id' is missing");
  ASSIGN_OR_RETURN(sp.trace_id, IdText(s["context"].value("trace_id", json()),
                                       rec + ": field 'context.trace_id'"));
  if (s.contains("parent") && !s["parent"].is_null()) {
    // A root's parent is an object whose ids are null, not a missing field.
    if (!s["parent"].is_object()) {
      return Bad(rec + ": field 'parent'",
                 std::string("expected an object or null, got ") + KindOf(s["parent"]));
    }
    ASSIGN_OR_RETURN(sp.parent_id, IdText(s["parent"].value("span_id", json()),
                                          rec + ": field 'parent.span_id'"));
  }
  for (auto [f, dst] : {std::pair{"start_time", &sp.start_ns}, {"end_time", &sp.end_ns}}) {
    if (!s.contains(f)) return Bad(rec, std::string("field '") + f + "' is missing");
    ASSIGN_OR_RETURN(*dst, Time(s[f], rec + ": field '" + f + "'"));
  }
  if (sp.end_ns < sp.start_ns) return Bad(rec, "field 'end_time' is before 'start_time'");
  if (s.contains("name") && s["name"].is_string()) sp.name = s["name"].get<std::string>();
  if (s.contains("attributes") && !s["attributes"].is_null()) {
    if (!s["attributes"].is_object()) {
      return Bad(rec + ": field 'attributes'",
                 std::string("expected an object, got ") + KindOf(s["attributes"]));
    }
    sp.attributes = s["attributes"];
  }
  if (s.contains("status") && s["status"].is_object()) {
    const json& st = s["status"];
    const json code = st.value("status_code", json());
    std::string c = code.is_string() ? code.get<std::string>() : "";
    std::transform(c.begin(), c.end(), c.begin(),
                   [](unsigned char ch) { return std::tolower(ch); });
    if (c == "error" || c == "status_code_error" ||
        (code.is_number_integer() && code.get<int64_t>() == 2)) {
      sp.status_code = 2;
    } else if (c == "ok" || c == "status_code_ok") {
      sp.status_code = 1;
    }
    if (st.contains("description") && st["description"].is_string()) {
      sp.status_message = st["description"].get<std::string>();
    }
  }
  return sp;
}

// Groups spans by trace (in order of first appearance) and maps each.
Result<std::vector<ImportedRun>> MapTraces(std::vector<OtelSpan> all, const std::string& path,
                                           const Options& opt, bool any_agent,
                                           const json& final_output) {
  std::map<std::string, std::vector<OtelSpan>> traces;
  std::vector<std::string> order;
  for (OtelSpan& s : all) {
    if (!traces.contains(s.trace_id)) order.push_back(s.trace_id);
    traces[s.trace_id].push_back(std::move(s));
  }
  if (order.empty()) {
    return Status::InvalidArgument(path + ": " +
                                   (any_agent ? "field 'spans': no spans" : "no spans"));
  }
  const std::string stem = FileStem(path);
  std::vector<ImportedRun> runs;
  for (const std::string& t : order) {
    TraceMapInput in;
    // Several traces in one file: each run's source id names its trace.
    in.source_id = order.size() == 1 ? stem : std::string(stem).append("-").append(t);
    in.run = opt.run.empty() ? in.source_id : opt.run;
    in.meta = {{"format", "otlp"}, {"file", path.substr(path.find_last_of('/') + 1)}};
    in.final_output = order.size() == 1 ? final_output : json();
    in.base_dir = opt.base_dir;
    in.any_agent = any_agent;
    in.spans = std::move(traces[t]);
    if (any_agent) {
      in.name = stem;
    } else {
      // OTLP: the root span's name, as the daemon names the run (the file's name is not known
      // there).
      for (const OtelSpan& s : in.spans) {
        if (s.parent_id.empty()) {
          in.name = s.name;
          break;
        }
      }
    }
    Result<ImportedRun> run = MapTrace(std::move(in));
    if (!run.ok()) return Status::InvalidArgument(path + ": " + run.status().message());
    runs.push_back(std::move(run).value());
  }
  return runs;
}

Result<std::vector<ImportedRun>> ReadAnyAgent(const json& doc, const std::string& path,
                                              const Options& opt) {
  auto bad = [&path](const std::string& m) { return Status::InvalidArgument(path + ": " + m); };
  if (!doc["spans"].is_array()) {
    return bad(std::string("field 'spans': expected an array, got ") + KindOf(doc["spans"]));
  }
  AnyAgentReader reader(path);
  std::vector<OtelSpan> spans;
  for (size_t i = 0; i < doc["spans"].size(); ++i) {
    Result<OtelSpan> sp = reader.ParseSpan(doc["spans"][i], i);
    if (!sp.ok()) return bad(sp.status().message());
    spans.push_back(std::move(sp).value());
  }
  return MapTraces(std::move(spans), path, opt, true, doc.value("final_output", json()));
}

// OTLP/JSON: one request, or JSON lines of them. A rejected span (bad id, end before start) is
// an error here: a file is imported whole or not at all.
Result<std::vector<ImportedRun>> ReadOtlpJson(const std::vector<json>& docs,
                                              const std::string& path, const Options& opt) {
  std::vector<OtelSpan> spans;
  for (size_t i = 0; i < docs.size(); ++i) {
    const std::string line = docs.size() > 1 ? "line " + std::to_string(i + 1) + ": " : "";
    Result<OtlpBatch> b = DecodeOtlpJsonValue(docs[i]);
    if (!b.ok()) return Status::InvalidArgument(path + ": " + line + b.status().message());
    if (b->rejected > 0) return Status::InvalidArgument(path + ": " + line + b->reasons.front());
    for (OtelSpan& s : b->spans) {
      s.where = line + s.where;
      spans.push_back(std::move(s));
    }
  }
  return MapTraces(std::move(spans), path, opt, false, json());
}

bool IsOtlp(const json& doc) {
  return doc.is_object() && (doc.contains("resourceSpans") || doc.contains("resource_spans"));
}

}  // namespace

Result<std::vector<ImportedRun>> ImportOtlp(const std::string& path, const Options& opt) {
  ASSIGN_OR_RETURN(std::string text, ReadWholeFile(path));
  Result<json> doc = jsondoc::ParseDocument(text, path);
  if (!doc.ok()) {
    // JSON lines of OTLP requests (the Collector's file exporter)?
    std::vector<json> docs;
    size_t pos = 0;
    while (pos < text.size()) {
      size_t nl = text.find('\n', pos);
      if (nl == std::string::npos) nl = text.size();
      std::string_view line(text.data() + pos, nl - pos);
      pos = nl + 1;
      if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
      Result<json> d = jsondoc::ParseDocument(line, path);
      if (!d.ok() || !IsOtlp(*d)) {
        if (docs.empty()) return doc.status();  // not JSON lines either: the whole-file error
        return Status::InvalidArgument(path + ": line " + std::to_string(docs.size() + 1) +
                                       ": " + (d.ok() ? "not an OTLP request" : d.status().message()));
      }
      docs.push_back(std::move(d).value());
    }
    if (docs.size() < 2) return doc.status();
    return ReadOtlpJson(docs, path, opt);
  }
  if (!doc->is_object()) {
    return Status::InvalidArgument(path + ": expected a JSON object, got " + KindOf(*doc));
  }
  if (IsOtlp(*doc)) return ReadOtlpJson({*doc}, path, opt);
  if (!doc->contains("spans")) {
    return Status::InvalidArgument(path + ": field 'spans' is missing (any-agent's export) and "
                                          "no 'resourceSpans' (OTLP/JSON)");
  }
  return ReadAnyAgent(*doc, path, opt);
}

}  // namespace tink::engine::import
