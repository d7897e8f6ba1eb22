// FakeLlm: an OpenAI-compatible upstream on loopback for the tests and benchmarks of the
// recording proxy (tink serve --llm-upstream). Boost.Beast, one thread per connection.
//
// POST /v1/chat/completions answers by the request's model:
//   any model     a chat.completion whose content is "echo: " + the last user message, usage
//                 {prompt_tokens 5, completion_tokens 3, prompt_tokens_details.cached_tokens 2};
//                 with "stream": true, Server-Sent Events: chunks "echo: ", the message, a last
//                 chunk with finish_reason "stop" and usage, then "data: [DONE]"
//   "gated"       (streamed) waits after the first chunk until ReleaseGate (at most 20 s)
//   "fail-429"    429 {"error": {"message": "rate limited", "type": "rate_limit_error"}}
//   "html-500"    500 with a text/html body
//   "slow"        answers after 3 s
// POST /v1/responses answers a Responses API "response" with output_text "echo: " + input.
// Every request is kept (method, target, headers lower-cased, body) for the test to inspect.
//
// Thread safety: all methods may be called from any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tink::testing {

class FakeLlm {
 public:
  struct Seen {
    std::string method, target, body;
    std::map<std::string, std::string> headers;  // names lower-cased
  };

  FakeLlm();
  ~FakeLlm();  // Stop()
  FakeLlm(const FakeLlm&) = delete;
  FakeLlm& operator=(const FakeLlm&) = delete;

  // Listens on 127.0.0.1 with a kernel-chosen port.
  bool Start(std::string* error = nullptr);
  void Stop();
  uint16_t port() const { return port_; }
  std::string base_url() const;  // "http://127.0.0.1:PORT/v1"

  std::vector<Seen> requests() const;
  void ReleaseGate();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  uint16_t port_ = 0;
};

}  // namespace tink::testing
