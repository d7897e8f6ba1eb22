// Kill points for crash tests (RocksDB's TEST_KILL_RANDOM idea): when the build defines
// TINK_KILL_POINTS and $TINK_KILL_AT is "NAME:N", the Nth time the process passes kill point NAME
// it sends itself SIGKILL. Compiled out otherwise (Release builds, benchmarks).
#pragma once

namespace tink::engine {

#ifdef TINK_KILL_POINTS
void KillPoint(const char* name);
// Fail points, the same way: true when $TINK_FAIL_AT names this point (the caller then fails as
// if the operation there had failed). For tests of error paths no real fault reaches.
bool FailPoint(const char* name);
#else
inline void KillPoint(const char*) {}
inline bool FailPoint(const char*) { return false; }
#endif

}  // namespace tink::engine
