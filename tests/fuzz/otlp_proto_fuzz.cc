// libFuzzer harness for the OTLP/protobuf decoder of POST /v1/traces (engine/import/otlp.h,
// DecodeOtlpProto: bytes from the network) and what the daemon does next with a decoded batch:
// every span to the JSON of its otel.span event and back, and the spans mapped to events
// (MapTrace, per trace) and encoded. Any outcome but a crash or a sanitizer report is fine.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "engine/import/otlp.h"
#include "schema/schema.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace imp = tink::engine::import;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto batch = imp::DecodeOtlpProto(bytes);
  if (!batch.ok()) return 0;
  std::map<std::string, std::vector<imp::OtelSpan>> traces;
  for (const imp::OtelSpan& s : batch->spans) {
    (void)imp::SpanFromJson(imp::SpanToJson(s));
    traces[s.trace_id].push_back(s);
  }
  for (auto& [id, spans] : traces) {
    imp::TraceMapInput in;
    in.run = id;
    in.name = id;
    in.spans = std::move(spans);
    auto run = imp::MapTrace(in);
    if (!run.ok()) continue;
    for (const auto& e : run->events) (void)tink::schema::EncodeEvent(e);
  }
  return 0;
}
