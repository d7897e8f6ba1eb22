// The recording of the calls an MCP client makes (mcp.h "Recording", docs/mcp.md): a note naming
// the client before a session's first call, then a tool.call and a tool.result per call, on
// stream mcp/SESSION, with ids derived from the call id (a retried append writes nothing twice).
#include <string>

#include "shell/mcp/mcp_internal.h"

namespace tink::mcp {
namespace {

// What tool.result keeps of an answer: its start (the whole answer is what the store holds).
constexpr size_t kMaxOutput = 2048;

std::string Stream(const Session& s) { return "mcp/" + s.id; }

Json Note(const Session& s) {
  std::string text = "MCP session " + s.id + " (" + s.transport + "): client " + s.client_name;
  if (!s.client_version.empty()) text += " " + s.client_version;
  if (!s.protocol.empty()) text += ", protocol " + s.protocol;
  Json e;
  e["stream"] = Stream(s);
  e["type"] = "note";
  e["id"] = "mcp-" + s.id + "-session";
  e["data"] = {{"text", text}, {"kind", "mcp_session"}};
  return e;
}

Json CallEvent(const Session& s, const CallRecord& rec) {
  Json e;
  e["stream"] = Stream(s);
  e["type"] = "tool.call";
  e["id"] = "mcp-" + rec.call_id + "-call";
  e["data"] = {{"call_id", rec.call_id}, {"tool", rec.tool}, {"args", rec.args}};
  return e;
}

std::string Cut(const std::string& s) {
  if (s.size() <= kMaxOutput) return s;
  size_t n = kMaxOutput;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;  // a UTF-8 boundary
  return s.substr(0, n) + "…";
}

}  // namespace

std::string ErrorLine(const Status& s) {
  // A query error is already the line `tink shell` prints ("error at 1:7: ...").
  if (s.code() == Code::kInvalidArgument && s.message().starts_with("error")) return s.message();
  return "error: " + s.ToString();
}

Status RecordCall(Backend& backend, Session* session, CallRecord* rec) {
  rec->call_id = session->id + "-" + std::to_string(++session->calls);
  std::vector<Json> events;
  if (!session->noted) events.push_back(Note(*session));
  events.push_back(CallEvent(*session, *rec));
  ASSIGN_OR_RETURN(std::vector<uint64_t> lsns, backend.Append(events));
  session->noted = true;
  rec->call_lsn = lsns.empty() ? 0 : lsns.back();
  return Status::Ok();
}

Status RecordResult(Backend& backend, Session* session, CallRecord* rec, bool ok,
                    const std::string& output, const std::string& error, double duration_ms) {
  std::vector<Json> events;
  if (rec->call_lsn == 0) {
    rec->call_id = session->id + "-" + std::to_string(++session->calls);
    if (!session->noted) events.push_back(Note(*session));
    events.push_back(CallEvent(*session, *rec));
  }
  Json e;
  e["stream"] = Stream(*session);
  e["type"] = "tool.result";
  e["id"] = "mcp-" + rec->call_id + "-result";
  if (rec->call_lsn != 0) e["causation"] = rec->call_lsn;
  Json data = {{"call_id", rec->call_id}, {"tool", rec->tool}, {"ok", ok}};
  if (!output.empty()) data["output"] = Cut(output);
  if (!error.empty()) data["error"] = Cut(error);
  data["duration_ms"] = duration_ms;
  e["data"] = std::move(data);
  events.push_back(std::move(e));
  ASSIGN_OR_RETURN(std::vector<uint64_t> lsns, backend.Append(events));
  (void)lsns;
  session->noted = true;
  return Status::Ok();
}

}  // namespace tink::mcp
