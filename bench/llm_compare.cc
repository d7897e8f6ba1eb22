// tink_compare's llm class: what the recording proxy of tink serve adds to an LLM call
// (docs/performance.md, "LLM proxy and OTLP (issue 15)").
//
// An OpenAI-compatible upstream on loopback (tests/support/fake_llm.h: it answers at once, so
// every microsecond measured is transport and proxy, none of it model) is called `calls` times in
// a row by one libcurl client on a kept-alive connection, directly and through tink serve
// (in-process, as bench/http_served.h serves it: the engine opened as `tink serve` opens it),
// plain and streamed. Through the proxy each call is two durable appends (the llm.request before
// the call goes upstream, the llm.response after), so the `--sync none` rows separate the fsyncs
// from the rest. Added latency = proxy row - direct row, at p50 and p99 of the same kind.
//
// Rows are interleaved by round (direct, proxy, proxy --sync none; `rounds` times) so a noisy
// neighbour hurts every row alike.
#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "bench/agent_workload.h"
#include "bench/compare.h"
#include "bench/http_served.h"
#include "support/fake_llm.h"

namespace tink::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Sample {
  std::vector<double> total_ms, first_ms;
  std::string error;
};

size_t Sink(char*, size_t size, size_t n, void* user) {
  *static_cast<size_t*>(user) += size * n;
  return size * n;
}

// `calls` POSTs of `body` to `url` on one kept-alive connection.
Sample Calls(const std::string& url, const std::string& body, int calls, const std::string& token) {
  Sample s;
  CURL* curl = curl_easy_init();
  curl_slist* h = nullptr;
  h = curl_slist_append(h, "Content-Type: application/json");
  h = curl_slist_append(h, ("Authorization: Bearer " + token).c_str());
  h = curl_slist_append(h, "X-Tinkerbell-Run: bench");
  h = curl_slist_append(h, "Expect:");
  size_t got = 0;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Sink);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &got);
  curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
  for (int i = 0; i < calls && s.error.empty(); ++i) {
    const Clock::time_point t0 = Clock::now();
    const CURLcode rc = curl_easy_perform(curl);
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK || status != 200) {
      s.error = std::string("call failed: ") + curl_easy_strerror(rc) + ", HTTP " +
                std::to_string(status);
      break;
    }
    curl_off_t first_us = 0;
    curl_easy_getinfo(curl, CURLINFO_STARTTRANSFER_TIME_T, &first_us);
    s.total_ms.push_back(ms);
    s.first_ms.push_back(static_cast<double>(first_us) / 1000.0);
  }
  curl_slist_free_all(h);
  curl_easy_cleanup(curl);
  return s;
}

}  // namespace

std::string LlmCompare(const std::string& dir, const LlmOptions& o) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  testing::FakeLlm upstream;
  std::string err;
  if (!upstream.Start(&err)) return "\nllm class: " + err + "\n";
  const std::vector<server::LlmUpstream> ups = {{"fake", upstream.base_url(), "sk-bench"}};
  Served durable, nosync;
  if (std::string e = durable.Start(dir + "/always", log::Durability::Mode::kAlways, nullptr, ups);
      !e.empty()) {
    return "\nllm class: " + e + "\n";
  }
  if (std::string e = nosync.Start(dir + "/none", log::Durability::Mode::kNone, nullptr, ups);
      !e.empty()) {
    return "\nllm class: " + e + "\n";
  }
  const std::string plain =
      R"({"model":"gpt-bench","messages":[{"role":"system","content":"You are a careful engineer."},)"
      R"({"role":"user","content":"Why does 345 round to 344 here?"}],"temperature":0})";
  std::string streamed = plain;
  streamed.insert(streamed.size() - 1, R"(,"stream":true)");
  const std::string direct = upstream.base_url() + "/chat/completions";
  auto via = [](const Served& s) {
    return "http://127.0.0.1:" + std::to_string(s.port()) + "/v1/chat/completions";
  };
  struct Kind {
    const char* name;
    std::string url;
    const std::string* body;
  };
  const std::vector<Kind> kinds = {
      {"plain, direct to the upstream", direct, &plain},
      {"plain, via tink serve (--sync always)", via(durable), &plain},
      {"plain, via tink serve (--sync none)", via(nosync), &plain},
      {"stream, direct to the upstream", direct, &streamed},
      {"stream, via tink serve (--sync always)", via(durable), &streamed},
      {"stream, via tink serve (--sync none)", via(nosync), &streamed},
  };
  std::vector<Sample> all(kinds.size());
  // Warm-up: connections, the proxy's curl handles, the engine's first segment.
  for (const Kind& k : kinds) (void)Calls(k.url, *k.body, 20, Served::kToken);
  for (int round = 0; round < o.rounds; ++round) {
    for (size_t k = 0; k < kinds.size(); ++k) {
      Sample s = Calls(kinds[k].url, *kinds[k].body, o.calls / o.rounds, Served::kToken);
      if (!s.error.empty()) all[k].error = s.error;
      all[k].total_ms.insert(all[k].total_ms.end(), s.total_ms.begin(), s.total_ms.end());
      all[k].first_ms.insert(all[k].first_ms.end(), s.first_ms.begin(), s.first_ms.end());
    }
  }
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line,
                "\nllm proxy: POST /v1/chat/completions to a loopback upstream that answers at "
                "once,\n  %d calls per row in %d interleaved rounds, one client, kept-alive "
                "(milliseconds)\n",
                o.calls, o.rounds);
  out += line;
  std::snprintf(line, sizeof line, "%-40s %9s %9s %11s %11s %10s\n", "row", "p50", "p99",
                "added p50", "added p99", "1st byte");
  out += line;
  for (size_t k = 0; k < kinds.size(); ++k) {
    const Sample& s = all[k];
    if (!s.error.empty()) {
      out += std::string(kinds[k].name) + ": ERROR " + s.error + "\n";
      continue;
    }
    const Sample& base = all[k < 3 ? 0 : 3];
    const Percentiles total = Percentiles::Of(s.total_ms), first = Percentiles::Of(s.first_ms);
    const Percentiles direct = Percentiles::Of(base.total_ms);
    char added50[32] = "-", added99[32] = "-";
    if (&base != &s) {
      std::snprintf(added50, sizeof added50, "%+.3f", total.p50 - direct.p50);
      std::snprintf(added99, sizeof added99, "%+.3f", total.p99 - direct.p99);
    }
    std::snprintf(line, sizeof line, "%-40s %9.3f %9.3f %11s %11s %10.3f\n", kinds[k].name,
                  total.p50, total.p99, added50, added99, first.p50);
    out += line;
  }
  out +=
      "  1st byte: p50 time to the first byte of the answer (a stream's first chunk).\n"
      "  Through the proxy a call is also two durable appends (llm.request, llm.response).\n";
  (void)durable.Stop();
  (void)nosync.Stop();
  upstream.Stop();
  return out;
}

}  // namespace tink::bench
