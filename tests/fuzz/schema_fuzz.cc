// libFuzzer harness for the event codec (schema/schema.h, schema/event_json.h). The first byte
// picks the mode; the rest is the input:
//   even: an envelope as JSON text. ParseEnvelopeJson and EncodeEvent must agree with their
//         references (ParseEnvelopeJsonViaDom, EncodeEventViaParser); then EncodeEvent ->
//         DecodeEvent -> EventToJson; then the view, minus lsn and time, goes round again and must come back
//         identical, and EventToJsonValue must agree with the GenText reference.
//   odd:  arbitrary bytes as a stored payload: DecodeEnvelope, DecodeEvent and, when the Verifier
//         accepts them, both JSON views.
// Rejected input is fine; a crash, a sanitizer report or a broken property is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "schema/event_json.h"
#include "schema/schema.h"

namespace {

using tink::schema::DecodeEnvelope;
using tink::schema::DecodeEvent;
using tink::schema::EncodeEvent;
using tink::schema::EventToJson;
using tink::schema::EventToJsonValue;
using tink::schema::EventToJsonValueViaText;
using tink::schema::ParseEnvelopeJson;

constexpr uint64_t kLsn = 42;
constexpr int64_t kTime = 1'700'000'000'000'000'000;

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "schema_fuzz: %s: %s\n", what, detail.c_str());
  __builtin_trap();
}

// Both JSON views of a payload the Verifier accepted. The direct reader may accept more than the
// GenText reference: a double that is NaN or infinite (no JSON text can say that; only a damaged or
// hand-made payload holds one) is null in the direct view, while GenText prints `nan`, which does
// not parse (found by this harness; tests/schema/fuzz_regression_test.cc pins the direct view).
// Otherwise they must agree on refusing (e.g. a string that is not UTF-8) and on the value.
void Views(std::string_view payload) {
  auto text = EventToJson(kLsn, kTime, payload);
  auto value = EventToJsonValue(kLsn, kTime, payload);
  auto ref = EventToJsonValueViaText(kLsn, kTime, payload);
  if (!value.ok() && ref.ok()) {
    Fail("EventToJsonValue refuses what the GenText reference accepts", value.status().ToString());
  }
  if (text.ok() != value.ok()) Fail("EventToJson and EventToJsonValue disagree on accepting", "");
  if (value.ok() && ref.ok() && *value != *ref) {
    Fail("EventToJsonValue differs from the GenText reference",
         value->dump() + " vs " + ref->dump());
  }
}

void FromJson(std::string_view json) {
  // The fast paths against their references (schema/fast_codec.cc): the same envelope, and the
  // same stored event or the same error.
  auto in = ParseEnvelopeJson(json);
  auto in_ref = tink::schema::ParseEnvelopeJsonViaDom(json);
  if (in.ok() != in_ref.ok()) Fail("ParseEnvelopeJson and its reference disagree", "");
  if (!in.ok()) {
    if (in.status().ToString() != in_ref.status().ToString()) {
      Fail("ParseEnvelopeJson's error differs", in.status().ToString());
    }
    return;
  }
  auto enc = EncodeEvent(*in);
  auto enc_ref = tink::schema::EncodeEventViaParser(*in);
  if (enc.ok() != enc_ref.ok()) Fail("EncodeEvent and its reference disagree", "");
  if (!enc.ok()) {
    if (enc.status().ToString() != enc_ref.status().ToString()) {
      Fail("EncodeEvent's error differs", enc.status().ToString());
    }
    return;
  }
  auto shown = EventToJson(kLsn, kTime, *enc);
  auto shown_ref = EventToJson(kLsn, kTime, *enc_ref);
  if (shown.ok() != shown_ref.ok() || (shown.ok() && *shown != *shown_ref)) {
    Fail("EncodeEvent stores another event than its reference", shown.ok() ? *shown : "");
  }
  if (auto d = DecodeEvent(*enc); !d.ok()) {
    Fail("EncodeEvent produced a payload DecodeEvent rejects", d.status().ToString());
  }
  Views(*enc);
  auto text = EventToJson(kLsn, kTime, *enc);
  if (!text.ok()) return;  // refused consistently (Views checked): not a round trip to test
  // The view, minus the engine's fields, is an envelope again and must reproduce itself.
  nlohmann::ordered_json view = nlohmann::ordered_json::parse(*text);
  view.erase("lsn");
  view.erase("time");
  auto in2 = ParseEnvelopeJson(view.dump());
  if (!in2.ok())
    Fail("the JSON view is not a valid envelope", in2.status().ToString() + ": " + *text);
  auto enc2 = EncodeEvent(*in2);
  if (!enc2.ok()) Fail("the JSON view does not encode", enc2.status().ToString() + ": " + *text);
  auto text2 = EventToJson(kLsn, kTime, *enc2);
  if (!text2.ok() || *text2 != *text) {
    Fail("the JSON view does not round-trip",
         *text + " vs " + (text2.ok() ? *text2 : text2.status().ToString()));
  }
}

void FromPayload(std::string_view payload) {
  (void)DecodeEnvelope(payload);
  if (!DecodeEvent(payload).ok()) return;
  Views(payload);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if ((data[0] & 1) == 0) {
    FromJson(rest);
  } else {
    FromPayload(rest);
  }
  return 0;
}
