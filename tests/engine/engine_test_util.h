// Helpers shared by the engine tests: building events, reading the whole log back as decoded
// envelopes (the brute-force answer the engine's indexes are compared with), and Engine::Check.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "schema/schema.h"

namespace tink::engine::test {

inline schema::EventInput Note(std::string stream, const std::string& text, std::string id = "",
                               std::string run = "") {
  schema::EventInput e;
  e.stream = std::move(stream);
  e.type = "note";
  e.id = std::move(id);
  e.run = std::move(run);
  nlohmann::json d;
  d["text"] = text;
  e.data_json = d.dump();
  return e;
}

inline schema::EventInput Event(std::string stream, std::string type, const nlohmann::json& data,
                                std::string id = "", std::string run = "") {
  schema::EventInput e;
  e.stream = std::move(stream);
  e.type = std::move(type);
  e.id = std::move(id);
  e.run = std::move(run);
  e.data_json = data.dump();
  return e;
}

// One event of the log, decoded.
struct Logged {
  Lsn lsn = 0;
  int64_t time_ns = 0;
  std::string id, stream, type, run;
  nlohmann::json data;
};

inline Logged Decode(const log::LogRecord& r) {
  Logged l;
  l.lsn = r.lsn;
  l.time_ns = r.time_ns;
  Result<schema::EventView> v = schema::DecodeEvent(r.payload);
  EXPECT_TRUE(v.ok()) << "LSN " << r.lsn << ": " << v.status().ToString();
  if (!v.ok()) return l;
  l.id = std::string(v->id);
  l.stream = std::string(v->stream);
  l.type = std::string(v->type);
  l.run = std::string(v->run);
  Result<std::string> j = schema::EventToJson(r.lsn, r.time_ns, r.payload);
  EXPECT_TRUE(j.ok()) << j.status().ToString();
  if (j.ok()) l.data = nlohmann::json::parse(*j)["data"];
  return l;
}

// Every event of the log, in LSN order (read straight from the log, no index).
// The LSNs Engine::Scan returns for q (a failed scan fails the test).
inline std::vector<Lsn> ScanLsns(Engine& e, LogQuery q, ScanStats* st = nullptr) {
  std::vector<Lsn> out;
  Status s = e.Scan(
      q,
      [&](const log::LogRecord& r) {
        out.push_back(r.lsn);
        return true;
      },
      st);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

inline std::vector<Logged> ReadAll(Engine& e) {
  std::vector<Logged> out;
  auto it = e.Read(1);
  for (; it->Valid(); it->Next()) out.push_back(Decode(it->record()));
  EXPECT_TRUE(it->status().ok()) << it->status().ToString();
  return out;
}

// Engine::Check: every projection equal to a fresh replay. Returns a description of what is
// not ("" when all are equal).
inline std::string CheckProblems(Engine& e) {
  Result<std::vector<CheckResult>> r = e.Check({});
  if (!r.ok()) return "Check failed: " + r.status().ToString();
  if (r->size() != e.ProjectionNames().size()) return "Check compared too few projections";
  std::string bad;
  for (const CheckResult& c : *r) {
    if (!c.equal()) {
      bad += c.projection + " at LSN " + std::to_string(c.lsn) + ": live " + c.live_digest +
             " != replay " + c.replay_digest + "; ";
    }
    if (c.lsn != e.log().LastLsn()) {
      bad += c.projection + " checked at LSN " + std::to_string(c.lsn) + ", the log ends at " +
             std::to_string(e.log().LastLsn()) + "; ";
    }
  }
  return bad;
}

inline std::vector<Lsn> Lsns(const std::vector<Logged>& events) {
  std::vector<Lsn> out;
  for (const Logged& l : events) out.push_back(l.lsn);
  return out;
}

// The version the stream's events in `all` reach (nullopt: no events).
inline std::optional<uint64_t> VersionOf(const std::vector<Logged>& all, const std::string& s) {
  std::optional<uint64_t> v;
  for (const Logged& l : all) {
    if (l.stream == s) v = v ? *v + 1 : 0;
  }
  return v;
}

inline EngineOptions Fast() {
  EngineOptions o;
  o.durability.mode = log::Durability::Mode::kNone;  // process crashes only; no power loss here
  return o;
}

}  // namespace tink::engine::test
