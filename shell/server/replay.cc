#include "shell/server/replay.h"

#include <algorithm>

#include "schema/schema.h"
#include "shell/query/runs.h"

namespace tink::server {
namespace {

using nlohmann::json;

// The request body an llm.request event describes: params plus model and messages (the
// Responses API calls its messages "input").
json BodyOf(const json& data) {
  json body = data.value("params", json::object());
  if (!body.is_object()) body = json::object();
  if (data.contains("model")) body["model"] = data["model"];
  if (data.contains("messages")) {
    const bool responses = data.value("endpoint", std::string()) == "/v1/responses";
    body[responses ? "input" : "messages"] = data["messages"];
  }
  if (data.contains("stream") && data["stream"].is_boolean() && data["stream"].get<bool>()) {
    body["stream"] = true;
  }
  return body;
}

const json* At(const json& doc, const std::string& path) {
  try {
    const json::json_pointer p(path);
    return doc.contains(p) ? &doc.at(p) : nullptr;
  } catch (const json::exception&) {
    return nullptr;
  }
}

// The paths where two bodies differ (query::JsonDifferences, as `runs diff` reports them), each
// with the value on the side that has the path.
std::vector<query::JsonDifference> PathsThatDiffer(const json& recorded, const json& actual,
                                                   size_t max) {
  return query::JsonDifferences(query::Json::parse(recorded.dump()),
                                query::Json::parse(actual.dump()), max);
}

json Differences(const json& recorded, const json& actual) {
  json out = json::array();
  for (const query::JsonDifference& d : PathsThatDiffer(recorded, actual, query::kMaxDifferences)) {
    json e = {{"path", d.path.empty() ? "/" : d.path}};
    if (const json* r = At(recorded, d.path)) e["recorded"] = *r;
    if (const json* a = At(actual, d.path)) e["actual"] = *a;
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

json CanonicalRequest(const json& body) {
  if (!body.is_object()) return body;
  json c = body;
  for (const char* f : query::kIgnoredRequestFields) c.erase(f);
  // stream: false is the default; only a streamed request differs from a plain one.
  if (c.contains("stream") && !(c["stream"].is_boolean() && c["stream"].get<bool>())) {
    c.erase("stream");
  }
  return c;
}

Result<std::vector<std::shared_ptr<const RecordedCall>>> ReplayBooks::Load(
    const std::string& original) {
  std::vector<std::shared_ptr<RecordedCall>> calls;
  std::map<std::string, size_t> by_call;
  Status failed;
  engine::LogQuery q;
  q.run = original;
  Status s = engine_->Scan(q, [&](const log::LogRecord& r) {
    Result<std::string> text = schema::EventToJson(r.lsn, r.time_ns, r.payload);
    if (!text.ok()) {
      failed = text.status();
      return false;
    }
    json e = json::parse(*text, nullptr, false);
    if (e.is_discarded() || !e.is_object()) return true;
    const std::string type = e.value("type", std::string());
    const json data = e.value("data", json::object());
    const std::string call_id = data.value("call_id", std::string());
    if (type == "llm.request") {
      auto c = std::make_shared<RecordedCall>();
      c->lsn = r.lsn;
      c->call_id = call_id;
      c->endpoint = data.value("endpoint", std::string("/v1/chat/completions"));
      c->stream = data.value("stream", false);
      c->body = CanonicalRequest(BodyOf(data));
      by_call[call_id] = calls.size();
      calls.push_back(std::move(c));
    } else if (type == "llm.response" || type == "llm.error") {
      auto it = by_call.find(call_id);
      if (it != by_call.end() && calls[it->second]->answer_type.empty()) {
        calls[it->second]->answer_type = type;
        calls[it->second]->answer = data;
      }
    }
    return true;
  });
  if (!s.ok()) return s;
  if (!failed.ok()) return failed;
  if (calls.empty()) {
    return Status::NotFound("run '" + original + "' has no recorded LLM call to replay");
  }
  return std::vector<std::shared_ptr<const RecordedCall>>(calls.begin(), calls.end());
}

Result<ReplayMatch> ReplayBooks::Next(const std::string& original, const std::string& session,
                                      const std::string& endpoint, const json& body) {
  std::unique_lock<std::mutex> l(mu_);
  auto it = sessions_.find(session);
  if (it == sessions_.end()) {
    if (sessions_.size() >= kMaxSessions) {
      return Status::Failed("too many replay sessions (" + std::to_string(kMaxSessions) +
                            "); restart the daemon");
    }
    l.unlock();  // the scan may be long; sessions are created by one caller each in practice
    ASSIGN_OR_RETURN(auto calls, Load(original));
    l.lock();
    it = sessions_.find(session);
    if (it == sessions_.end()) {
      Session fresh;
      fresh.original = original;
      fresh.used.assign(calls.size(), false);
      fresh.calls = std::move(calls);
      it = sessions_.emplace(session, std::move(fresh)).first;
    }
  }
  Session& ses = it->second;
  if (ses.original != original) {
    return Status::InvalidArgument("run '" + session + "' already replays '" + ses.original +
                                   "', not '" + original + "'");
  }
  ReplayMatch m;
  m.position = ses.seen++;
  const json actual = CanonicalRequest(body);
  for (size_t i = 0; i < ses.calls.size(); ++i) {
    if (!ses.used[i] && ses.calls[i]->endpoint == endpoint && ses.calls[i]->body == actual) {
      ses.used[i] = true;
      m.call = ses.calls[i].get();
      return m;
    }
  }
  // A divergence: the closest unused call.
  size_t best_diffs = SIZE_MAX;
  for (size_t i = 0; i < ses.calls.size(); ++i) {
    if (ses.used[i]) continue;
    const size_t n = PathsThatDiffer(ses.calls[i]->body, actual, 1000).size() +
                     (ses.calls[i]->endpoint == endpoint ? 0 : 1);
    if (n < best_diffs) {
      best_diffs = n;
      m.closest = ses.calls[i].get();
      m.closest_position = i;
    }
  }
  if (m.closest == nullptr) {
    m.reason = "no recorded request left";
    return m;
  }
  m.reason = m.closest->endpoint == endpoint ? "request differs" : "endpoint differs";
  m.differences = Differences(m.closest->body, actual);
  if (m.closest->endpoint != endpoint) {
    m.differences.insert(m.differences.begin(),
                         json{{"path", "endpoint"}, {"recorded", m.closest->endpoint},
                              {"actual", endpoint}});
  }
  return m;
}

std::string ReplayBooks::DefaultSession(const std::string& original) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = default_session_.find(original);
  return it == default_session_.end() ? "" : it->second;
}

void ReplayBooks::SetDefaultSession(const std::string& original, const std::string& session) {
  std::lock_guard<std::mutex> l(mu_);
  default_session_[original] = session;
}

bool ReplayBooks::Exhausted(const std::string& session) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = sessions_.find(session);
  if (it == sessions_.end()) return false;
  return std::all_of(it->second.used.begin(), it->second.used.end(), [](bool u) { return u; });
}

}  // namespace tink::server
