// Inputs the importer harnesses (tests/fuzz/import_fuzz.cc) found that crashed, read with
// ImportFile as the harness reads them: each must come back as InvalidArgument naming the file,
// never an exception or a crash. The inputs are in tests/fuzz/regressions/import_<format>_fuzz/.
// Crashes whose fix is on another branch are listed in tests/fuzz/regressions/open.txt instead.
#include <gtest/gtest.h>

#include <string>

#include "engine/import/import.h"

namespace tink::engine::import {
namespace {

const std::string kRegressions = TINK_FUZZ_REGRESSIONS;

// A JSONL line holding a number past a double's range: nlohmann's out_of_range escaped
// schema::ParseEnvelopeJson (fixed there; tests/schema/fuzz_regression_test.cc).
TEST(ImportFuzzRegression, JsonlNumberOverflowIsInvalidArgument) {
  const std::string path = kRegressions + "/import_jsonl_fuzz/number-overflow.jsonl";
  Options opt;
  opt.format = "jsonl";
  auto runs = ImportFile(path, opt);
  ASSERT_FALSE(runs.ok());
  EXPECT_TRUE(runs.status().IsInvalidArgument()) << runs.status().ToString();
  EXPECT_NE(runs.status().ToString().find("number-overflow.jsonl"), std::string::npos)
      << runs.status().ToString();
}

}  // namespace
}  // namespace tink::engine::import
