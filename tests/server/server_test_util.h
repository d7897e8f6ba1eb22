// Shared pieces of the `tink serve` tests: a fixture that starts the server on a fresh store
// (loopback TCP port chosen by the kernel plus a UNIX socket), request shorthands, and checks of
// the error shape of docs/http.md ({"error":{"code","message"}} with Content-Type
// application/json).
#pragma once

#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/http_client.h"
#include "support/run_command.h"
#include "support/temp_dir.h"
#include "support/tink_server.h"

namespace tink::testing {

// The tink binary under test: the build's, or $TINK_TEST_BIN (to run the suite against another
// build or an installed tink).
inline const std::string kTinkBin =
    std::getenv("TINK_TEST_BIN") != nullptr && *std::getenv("TINK_TEST_BIN") != '\0'
        ? std::getenv("TINK_TEST_BIN")
        : TINK_BIN;

// One envelope as a JSON line (no newline): docs/events.md input.
inline std::string Envelope(const std::string& stream, const std::string& type,
                            const nlohmann::json& data, const std::string& id = "",
                            const std::string& run = "") {
  nlohmann::json j = {{"stream", stream}, {"type", type}, {"data", data}};
  if (!id.empty()) j["id"] = id;
  if (!run.empty()) j["run"] = run;
  return j.dump();
}

inline std::string Note(const std::string& stream, const std::string& text,
                        const std::string& id = "") {
  return Envelope(stream, "note", {{"text", text}}, id);
}

// Parses JSONL; a line that is not JSON is a test failure (reported through `error`).
inline std::vector<nlohmann::json> ParseJsonl(const std::string& body, std::string* error) {
  std::vector<nlohmann::json> out;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t nl = body.find('\n', pos);
    if (nl == std::string::npos) nl = body.size();
    const std::string line = body.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.empty()) continue;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) {
      if (error) *error = "not JSON: " + line;
      return out;
    }
    out.push_back(std::move(j));
  }
  return out;
}

// j as an unsigned number; 0 when it is anything else (never throws: used on client threads).
inline uint64_t U64(const nlohmann::json& j) {
  return j.is_number_unsigned() ? j.get<uint64_t>() : 0;
}

inline nlohmann::json ParseJson(const std::string& body) {
  return nlohmann::json::parse(body, nullptr, false);
}

// The `code` of an error answer, "" when the body is not docs/http.md's error object.
inline std::string ErrorCode(const HttpResponse& r) {
  const nlohmann::json j = ParseJson(r.body);
  if (!j.is_object() || !j.contains("error") || !j["error"].is_object()) return "";
  const nlohmann::json& e = j["error"];
  if (!e.contains("code") || !e["code"].is_string()) return "";
  return e["code"].get<std::string>();
}

inline std::string ErrorMessage(const HttpResponse& r) {
  const nlohmann::json j = ParseJson(r.body);
  if (!j.is_object() || !j.contains("error") || !j["error"].is_object()) return "";
  const nlohmann::json& e = j["error"];
  return e.contains("message") && e["message"].is_string() ? e["message"].get<std::string>() : "";
}

// An error answer as docs/http.md ("Errors") describes it.
inline ::testing::AssertionResult IsError(const HttpResponse& r, int status,
                                          const std::string& code) {
  if (r.status != status) {
    return ::testing::AssertionFailure()
           << "want " << status << " " << code << ", got " << r.Describe();
  }
  if (r.Header("content-type").rfind("application/json", 0) != 0) {
    return ::testing::AssertionFailure()
           << "Content-Type of a " << status << " is '" << r.Header("content-type") << "'";
  }
  if (ErrorCode(r) != code) {
    return ::testing::AssertionFailure() << "want code " << code << ", got body " << r.body;
  }
  if (ErrorMessage(r).empty()) {
    return ::testing::AssertionFailure() << "no error.message in " << r.body;
  }
  return ::testing::AssertionSuccess();
}

// A 4xx answer with the error shape, any code.
inline ::testing::AssertionResult IsClientError(const HttpResponse& r) {
  if (r.status < 400 || r.status > 499) {
    return ::testing::AssertionFailure() << "want a 4xx, got " << r.Describe();
  }
  if (ErrorCode(r).empty() || ErrorMessage(r).empty()) {
    return ::testing::AssertionFailure()
           << "a " << r.status << " without the error object: " << r.body;
  }
  return ::testing::AssertionSuccess();
}

class ServerTest : public ::testing::Test {
 protected:
  ServerOptions Options(std::vector<std::string> extra = {}) const {
    ServerOptions o;
    o.store = store_;
    o.socket = socket_;
    o.extra = std::move(extra);
    return o;
  }
  // Starts the server; use as ASSERT_TRUE(Start()) << server_.error().
  bool Start(std::vector<std::string> extra = {}) {
    return server_.Start(Options(std::move(extra)));
  }
  // SIGTERM and the exit code (docs/http.md: 0).
  int Stop() {
    server_.Signal(SIGTERM);
    return server_.Wait(std::chrono::milliseconds(20000));
  }

  HttpResponse Get(const std::string& target) {
    return HttpRequest(server_.tcp(), "GET", target, "", server_.auth());
  }
  HttpResponse Post(const std::string& target, const std::string& body, HttpHeaders more = {}) {
    return HttpRequest(server_.tcp(), "POST", target, body, server_.auth(std::move(more)));
  }
  // POST /v1/events; the answer's JSON (null when not 200; the failure is reported).
  nlohmann::json Append(const std::string& jsonl, const std::string& query = "") {
    const HttpResponse r =
        Post("/v1/events" + query, jsonl, {{"Content-Type", "application/json"}});
    EXPECT_EQ(r.status, 200) << r.Describe() << "\nbody sent: " << jsonl;
    return r.status == 200 ? ParseJson(r.body) : nlohmann::json();
  }
  // The whole log through GET /v1/events (JSONL parsed).
  std::vector<nlohmann::json> Events(const std::string& query = "") {
    const HttpResponse r = Get("/v1/events" + query);
    EXPECT_EQ(r.status, 200) << r.Describe();
    std::string err;
    std::vector<nlohmann::json> out = ParseJsonl(r.body, &err);
    EXPECT_EQ(err, "");
    return out;
  }
  // `tink ARGS --store STORE` (for comparisons with the CLI; the store is opened read-only, or
  // the server is stopped first).
  CommandResult Tink(const std::string& args) {
    return RunCommand(kTinkBin + " " + args + " --store " + ShellQuote(store_));
  }

  TempDir tmp_;
  std::string store_ = tmp_.Sub("store");
  std::string socket_ = tmp_.Sub("s.sock");
  TinkServer server_{kTinkBin};
};

}  // namespace tink::testing
