// libFuzzer harness for one importer (engine/import): the fuzzed bytes are written to a file and
// read with ImportFile. TINK_IMPORT_FORMAT (set per executable in CMakeLists.txt) names the format.
// Any outcome but a crash or a sanitizer report is fine: bad input must come back as a Status.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/import/import.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The file name's stem becomes the run id for some formats; keep it fixed.
  static const std::string path = tink::fuzz::ScratchDir() + "/input." TINK_IMPORT_EXT;
  tink::fuzz::WriteFile(path, std::string_view(reinterpret_cast<const char*>(data), size));
  tink::engine::import::Options opt;
  opt.format = TINK_IMPORT_FORMAT;
  auto runs = tink::engine::import::ImportFile(path, opt);
  if (runs.ok()) {
    // Every event an importer hands out must be encodable or rejected cleanly, as `tink import`
    // would do before appending.
    for (const auto& run : *runs) {
      for (const auto& e : run.events) (void)tink::schema::EncodeEvent(e);
    }
  }
  return 0;
}
