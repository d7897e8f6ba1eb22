// Inputs log_fuzz (tests/fuzz/log_fuzz.cc) found that crashed or tripped a sanitizer, fed to the
// same code the harness runs: each must come back as a clean result (a Corruption status or a
// verify problem), never a crash. The inputs are in tests/fuzz/regressions/log_fuzz/; the ASan
// tree (scripts/test, build-asan) is where an out-of-bounds read here fails loudly.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "log/log.h"
#include "support/temp_dir.h"
#include "tests/fuzz/log_fuzz_input.h"

namespace tink::log {
namespace {

std::string ReadInput(const std::string& name) {
  std::ifstream in(std::string(TINK_FUZZ_REGRESSIONS) + "/log_fuzz/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Writes the input's segment files into `dir`, as log_fuzz does.
void WriteSegments(const std::string& input, const std::string& dir) {
  for (const auto& s : fuzz::LogFuzzSegments(input)) {
    std::ofstream out(dir + "/" + s.name, std::ios::binary);
    out.write(s.bytes.data(), static_cast<std::streamsize>(s.bytes.size()));
  }
}

// A sealed segment whose footer index gives an offset near 2^64: `offset + header size` wrapped
// around, passed the bounds check, and VerifyLog read the record header before the buffer.
TEST(LogFuzzRegression, FooterIndexOffsetOverflowIsAVerifyProblem) {
  const std::string input = ReadInput("footer-index-offset-overflow");
  ASSERT_GT(input.size(), 64u) << "regression input missing";
  testing::TempDir tmp;
  WriteSegments(input, tmp.path());
  auto report = VerifyLog(tmp.path());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_FALSE(report->clean());
  bool index_problem = false;
  for (const VerifyProblem& p : report->problems) {
    if (p.what.find("footer index entry") != std::string::npos) index_problem = true;
  }
  EXPECT_TRUE(index_problem) << "the bad index entry is reported as such";
}

}  // namespace
}  // namespace tink::log
