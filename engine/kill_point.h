// Kill points for crash tests (RocksDB's TEST_KILL_RANDOM idea): when the build defines
// TINK_KILL_POINTS and $TINK_KILL_AT is "NAME:N", the Nth time the process passes kill point NAME
// it sends itself SIGKILL. Compiled out otherwise (Release builds, benchmarks).
#pragma once

namespace tink::engine {

#ifdef TINK_KILL_POINTS
void KillPoint(const char* name);
#else
inline void KillPoint(const char*) {}
#endif

}  // namespace tink::engine
