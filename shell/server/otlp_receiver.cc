#include "shell/server/otlp_receiver.h"

#include <zlib.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "engine/import/otlp/trace.pb.h"
#include "projections/indexes.h"
#include "schema/schema.h"

namespace tink::server {
namespace {

using engine::import::OtelSpan;
using nlohmann::json;
using nlohmann::ordered_json;

constexpr auto kOwnWritesWait = std::chrono::milliseconds(5000);

OtlpResult Error(int status, std::string_view code, const std::string& message) {
  OtlpResult r;
  r.status = status;
  ordered_json e;
  e["code"] = code;
  e["message"] = message;
  r.body = ordered_json{{"error", e}}.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  return r;
}

OtlpResult OtlpErrorFor(const Status& s) {
  switch (s.code()) {
    case Code::kInvalidArgument:
    case Code::kNotSupported: return Error(400, "bad_request", s.message());
    case Code::kCorruption: return Error(500, "corruption", s.message());
    default: return Error(500, "io_error", s.message());
  }
}

std::string Lower(std::string_view v) {
  std::string s(v);
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// "Application/JSON; charset=utf-8" -> "application/json".
std::string MediaType(std::string_view v) {
  std::string s = Lower(v.substr(0, std::min(v.find(';'), v.size())));
  const size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

// gzip (or zlib) -> bytes, stopping past `cap` bytes (*too_big): a small bomb costs at most cap.
Status Gunzip(std::string_view in, size_t cap, std::string* out, bool* too_big) {
  *too_big = false;
  z_stream z{};
  if (inflateInit2(&z, 15 + 32) != Z_OK) return Status::IOError("zlib: inflateInit2 failed");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  out->clear();
  char buf[64 << 10];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof(buf);
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&z);
      return Status::InvalidArgument(std::string("body: not valid gzip (") +
                                     (z.msg != nullptr ? z.msg : "truncated") + ")");
    }
    out->append(buf, sizeof(buf) - z.avail_out);
    if (out->size() > cap) {
      inflateEnd(&z);
      *too_big = true;
      return Status::Ok();
    }
    if (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0) {
      inflateEnd(&z);
      return Status::InvalidArgument("body: gzip stream ends early (truncated)");
    }
  }
  inflateEnd(&z);
  return Status::Ok();
}

std::string SuccessBody(bool proto, size_t rejected, const std::string& message) {
  if (proto) {
    otlp::ExportTraceServiceResponse r;
    if (rejected > 0) {
      r.mutable_partial_success()->set_rejected_spans(static_cast<int64_t>(rejected));
      r.mutable_partial_success()->set_error_message(message);
    }
    return r.SerializeAsString();
  }
  if (rejected == 0) return "{}\n";
  // int64 as a decimal string, as OTLP/JSON encodes 64-bit integers.
  ordered_json p;
  p["rejectedSpans"] = std::to_string(rejected);
  p["errorMessage"] = message;
  return ordered_json{{"partialSuccess", p}}.dump(-1, ' ', false, json::error_handler_t::replace) +
         "\n";
}

// The task end event that excludes `id` ("<run>/<key>/failed" vs ".../succeeded").
std::string OtherEnd(const std::string& id) {
  for (auto [a, b] : {std::pair{"/failed", "/succeeded"}, {"/succeeded", "/failed"}}) {
    const std::string_view sa(a);
    if (id.size() > sa.size() && id.compare(id.size() - sa.size(), sa.size(), sa) == 0) {
      return id.substr(0, id.size() - sa.size()) + b;
    }
  }
  return "";
}

}  // namespace

OtlpReceiver::OtlpReceiver(engine::Engine* engine, Metrics* metrics, size_t max_traces)
    : engine_(engine), metrics_(metrics), max_traces_(std::max<size_t>(1, max_traces)) {}

size_t OtlpReceiver::traces_held() const {
  std::lock_guard<std::mutex> l(mu_);
  return traces_.size();
}

OtlpReceiver::Trace* OtlpReceiver::Load(const std::string& trace_id, Status* error) {
  auto it = traces_.find(trace_id);
  if (it != traces_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    return &it->second;
  }
  Trace t;
  engine::LogQuery q;
  q.stream = "otel/" + trace_id;
  Status bad;
  Status s = engine_->Scan(q, [&](const log::LogRecord& rec) {
    Result<std::string> text = schema::EventToJson(rec.lsn, rec.time_ns, rec.payload);
    if (!text.ok()) {
      bad = text.status();
      return false;
    }
    json e = json::parse(*text, nullptr, false);
    if (!e.is_object() || e.value("type", "") != "otel.span") return true;
    Result<OtelSpan> span = engine::import::SpanFromJson(e.value("data", json()));
    if (!span.ok()) return true;  // not ours: skipped
    if (t.run.empty()) t.run = e.value("run", "");
    if (t.root.empty() && span->parent_id.empty()) t.root = span->span_id;
    std::string id = span->span_id;
    t.spans.emplace(std::move(id), std::move(span).value());
    return true;
  });
  if (!s.ok() || !bad.ok()) {
    *error = s.ok() ? bad : s;
    return nullptr;
  }
  t.fresh = t.spans.empty();
  t.trace_id = trace_id;
  lru_.push_front(trace_id);
  t.lru = lru_.begin();
  return &traces_.emplace(trace_id, std::move(t)).first->second;
}

void OtlpReceiver::Evict(const std::string& trace_id) {
  auto it = traces_.find(trace_id);
  if (it == traces_.end()) return;
  lru_.erase(it->second.lru);
  traces_.erase(it);
}

void OtlpReceiver::Trim() {
  while (traces_.size() > max_traces_) {
    // The least recently used fully mapped trace; else the least recently used one.
    std::string victim = lru_.back();
    for (auto it = lru_.rbegin(); it != lru_.rend(); ++it) {
      if (traces_.at(*it).complete) {
        victim = *it;
        break;
      }
    }
    Evict(victim);
  }
}

Result<std::vector<schema::EventInput>> OtlpReceiver::Resolve(const std::string& trace_id,
                                                              Trace& t) {
  std::vector<schema::EventInput> out;
  if (t.root.empty()) return out;
  // The spans whose ancestor chain reaches the root, breadth-first from it.
  std::multimap<std::string, const OtelSpan*> children;
  for (const auto& [id, s] : t.spans) {
    if (!s.parent_id.empty()) children.emplace(s.parent_id, &s);
  }
  engine::import::TraceMapInput in;
  std::vector<std::string> frontier = {t.root};
  in.spans.push_back(t.spans.at(t.root));
  while (!frontier.empty()) {
    const std::string id = frontier.back();
    frontier.pop_back();
    auto [a, b] = children.equal_range(id);
    for (auto it = a; it != b; ++it) {
      if (it->second->span_id == t.root) continue;
      in.spans.push_back(*it->second);
      frontier.push_back(it->second->span_id);
    }
  }
  t.complete = in.spans.size() == t.spans.size();
  in.run = t.run;
  in.source_id = trace_id;
  in.name = t.spans.at(t.root).name;
  in.meta = {{"format", "otlp"}, {"source", "POST /v1/traces"}};
  in.root_id = t.root;
  ASSIGN_OR_RETURN(engine::import::ImportedRun run, engine::import::MapTrace(std::move(in)));
  for (schema::EventInput& e : run.events) {
    if (t.emitted.contains(e.id)) continue;
    const std::string other = OtherEnd(e.id);
    if (!other.empty() && t.emitted.contains(other)) continue;  // the task already ended
    out.push_back(std::move(e));
  }
  return out;
}

OtlpResult OtlpReceiver::Receive(std::string_view body, std::string_view content_type,
                                 std::string_view content_encoding) {
  const std::string media = MediaType(content_type);
  const bool proto = media == "application/x-protobuf" || media == "application/protobuf";
  if (!proto && media != "application/json") {
    return Error(415, "unsupported_media_type",
                 "Content-Type '" + std::string(content_type) +
                     "': use application/json or application/x-protobuf");
  }
  if (body.size() > kOtlpMaxBody) {
    return Error(413, "too_large",
                 "the body is over the limit of " + std::to_string(kOtlpMaxBody) + " bytes");
  }
  const std::string encoding = MediaType(content_encoding);
  std::string inflated;
  if (encoding == "gzip" || encoding == "x-gzip") {
    bool too_big = false;
    if (Status s = Gunzip(body, kOtlpMaxBody, &inflated, &too_big); !s.ok()) return OtlpErrorFor(s);
    if (too_big) {
      return Error(413, "too_large",
                   "the decompressed body is over the limit of " + std::to_string(kOtlpMaxBody) +
                       " bytes");
    }
    body = inflated;
  } else if (!encoding.empty() && encoding != "identity") {
    return Error(415, "unsupported_media_type",
                 "Content-Encoding '" + std::string(content_encoding) + "': use gzip or none");
  }
  Result<engine::import::OtlpBatch> batch =
      proto ? engine::import::DecodeOtlpProto(body) : engine::import::DecodeOtlpJson(body);
  if (!batch.ok()) return OtlpErrorFor(batch.status());
  // Every span's record, checked before anything is stored: a span the store would refuse
  // (too large, a key it cannot hold) makes the request a 400, not a half-applied one.
  std::vector<schema::EventInput> records;
  for (const OtelSpan& s : batch->spans) {
    schema::EventInput e;
    e.type = "otel.span";
    e.stream = "otel/" + s.trace_id;
    e.id = e.stream + "/" + s.span_id;
    e.occurred_ns = s.end_ns;
    e.data_json = engine::import::SpanToJson(s).dump(-1, ' ', false, json::error_handler_t::replace);
    if (e.data_json.size() > kOtlpMaxSpanBytes) {
      return Error(400, "bad_request",
                   s.where + ": the span is " + std::to_string(e.data_json.size()) +
                       " bytes as JSON, over the limit of " + std::to_string(kOtlpMaxSpanBytes));
    }
    Result<std::string> enc = schema::EncodeEvent(e);
    if (!enc.ok()) return Error(400, "bad_request", s.where + ": " + enc.status().message());
    records.push_back(std::move(e));
  }
  const size_t rejected = batch->rejected;
  std::string message;
  for (size_t i = 0; i < batch->reasons.size() && i < 5; ++i) {
    message += (i > 0 ? "; " : "") + batch->reasons[i];
  }
  if (batch->reasons.size() > 5) message += "; ...";

  std::lock_guard<std::mutex> l(mu_);
  std::vector<schema::EventInput> out;
  std::vector<std::string> touched;
  for (size_t i = 0; i < batch->spans.size(); ++i) {
    OtelSpan& s = batch->spans[i];
    Status load_error;
    Trace* t = Load(s.trace_id, &load_error);
    if (t == nullptr) return OtlpErrorFor(load_error);
    if (t->spans.contains(s.span_id)) continue;  // received before (or twice in this request)
    if (t->run.empty()) {
      auto it = s.resource.find("tinkerbell.run");
      const bool named = it != s.resource.end() && it->is_string() && !it->get<std::string>().empty();
      t->run = named ? it->get<std::string>() : s.trace_id;
    }
    if (t->root.empty() && s.parent_id.empty()) t->root = s.span_id;
    records[i].run = t->run;
    out.push_back(std::move(records[i]));
    if (std::find(touched.begin(), touched.end(), s.trace_id) == touched.end()) {
      touched.push_back(s.trace_id);
    }
    std::string id = s.span_id;
    t->spans.emplace(std::move(id), std::move(s));
  }
  auto forget = [&] {
    for (const std::string& id : touched) Evict(id);  // reloaded from the log when needed
  };
  std::vector<std::pair<Trace*, schema::EventInput>> mapped;  // with the trace it maps
  for (const std::string& id : touched) {
    Trace& t = traces_.at(id);
    Result<std::vector<schema::EventInput>> evs = Resolve(id, t);
    if (!evs.ok()) {
      forget();
      return OtlpErrorFor(evs.status());
    }
    for (schema::EventInput& e : *evs) mapped.emplace_back(&t, std::move(e));
  }
  // Traces born here with their own run: their mapped events are new (Resolve leaves out what
  // `emitted` has), so they skip the store lookups below.
  std::set<std::string> ids;  // and no id twice in one batch
  std::vector<std::pair<Trace*, std::string>> unchecked;  // their ids, for `emitted`
  std::erase_if(mapped, [&](std::pair<Trace*, schema::EventInput>& m) {
    if (!m.first->fresh || m.first->run != m.first->trace_id) return false;
    if (ids.insert(m.second.id).second) {
      unchecked.emplace_back(m.first, m.second.id);
      out.push_back(std::move(m.second));
    }
    return true;
  });
  if (!mapped.empty()) {
    // Ids already in the store (a trace reloaded after a restart, another trace of the same
    // tinkerbell.run): the append refuses a batch where only some ids exist.
    (void)engine_->WaitForProjections(engine_->log().LastLsn(), kOwnWritesWait);
    Result<std::unique_ptr<projections::StateReader>> reader = engine_->NewReader();
    if (!reader.ok()) {
      forget();
      return OtlpErrorFor(reader.status());
    }
    for (auto& [t, e] : mapped) {
      Result<std::optional<log::Lsn>> lsn = projections::LookupId(**reader, e.id);
      if (!lsn.ok()) {
        forget();
        return OtlpErrorFor(lsn.status());
      }
      bool ended = false;  // the other end of this task is stored: the task already ended
      if (const std::string other = OtherEnd(e.id); !other.empty() && !lsn->has_value()) {
        Result<std::optional<log::Lsn>> o = projections::LookupId(**reader, other);
        ended = o.ok() && o->has_value();
        if (ended) t->emitted.insert(other);
      }
      if (lsn->has_value()) {
        t->emitted.insert(e.id);
      } else if (!ended && ids.insert(e.id).second) {
        out.push_back(e);
      }
    }
  }
  OtlpResult r;
  r.accepted = batch->spans.size();
  r.rejected = rejected;
  if (!out.empty()) {
    Result<engine::AppendOutcome> res = engine_->Append(out);
    if (!res.ok()) {
      forget();
      return OtlpErrorFor(res.status());
    }
    r.appended = out.size();
    for (auto& [t, e] : mapped) t->emitted.insert(e.id);
    for (auto& [t, id] : unchecked) t->emitted.insert(id);
  }
  Trim();
  if (metrics_ != nullptr) {
    metrics_->otlp_spans.Increment(static_cast<double>(r.accepted));
    metrics_->otlp_rejected.Increment(static_cast<double>(rejected));
  }
  r.content_type = proto ? "application/x-protobuf" : "application/json";
  r.body = SuccessBody(proto, rejected, message);
  return r;
}

Response OtlpAnswer(OtlpReceiver& receiver, const Request& req) {
  auto header = [&req](http::field f) -> std::string_view {
    auto it = req.find(f);
    return it == req.end() ? std::string_view() : std::string_view(it->value());
  };
  OtlpResult r = receiver.Receive(req.body(), header(http::field::content_type),
                                  header(http::field::content_encoding));
  return TextResponse(static_cast<http::status>(r.status), r.content_type, std::move(r.body));
}

}  // namespace tink::server
