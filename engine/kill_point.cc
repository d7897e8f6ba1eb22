#include "engine/kill_point.h"

#ifdef TINK_KILL_POINTS
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>

namespace tink::engine {

void KillPoint(const char* name) {
  static const char* spec = std::getenv("TINK_KILL_AT");
  if (spec == nullptr) return;
  const char* colon = std::strrchr(spec, ':');
  if (colon == nullptr) return;
  if (std::string(spec, colon) != name) return;
  static std::atomic<long> hits{0};
  static const long n = std::atol(colon + 1);
  if (++hits == n) ::kill(::getpid(), SIGKILL);
}

bool FailPoint(const char* name) {
  static const char* spec = std::getenv("TINK_FAIL_AT");
  return spec != nullptr && std::strcmp(spec, name) == 0;
}

}  // namespace tink::engine
#endif
