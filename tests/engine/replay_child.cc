// The child process of the replay crash test (replay_crash_test.cc): opens the store for
// writing, runs Engine::Replay and closes, unless a kill point named in $TINK_KILL_AT kills it
// first.
//
// Usage: engine_replay_child STORE PROJECTION|all WAL(0|1) [BULK_BYTES]
// Exit codes: 0 done, 2 usage, 3 open failed, 4 replay failed, 5 close failed.
#include <cstdio>
#include <string>

#include "engine/engine.h"

int main(int argc, char** argv) {
  using namespace tink;
  if (argc != 4 && argc != 5) {
    std::fprintf(stderr, "usage: %s STORE PROJECTION|all WAL [BULK_BYTES]\n", argv[0]);
    return 2;
  }
  engine::EngineOptions o;
  o.durability.mode = log::Durability::Mode::kNone;
  o.rocksdb_wal = std::string(argv[3]) == "1";
  if (argc == 5) o.replay_bulk_bytes = std::stoull(argv[4]);
  auto opened = engine::Engine::Open(argv[1], o);
  if (!opened.ok()) {
    std::fprintf(stderr, "replay child: open: %s\n", opened.status().ToString().c_str());
    return 3;
  }
  const std::string projection = argv[2] == std::string("all") ? "" : argv[2];
  Status s = (*opened)->Replay(projection, 0, {});
  if (!s.ok()) {
    std::fprintf(stderr, "replay child: replay: %s\n", s.ToString().c_str());
    return 4;
  }
  s = (*opened)->Close();
  if (!s.ok()) {
    std::fprintf(stderr, "replay child: close: %s\n", s.ToString().c_str());
    return 5;
  }
  return 0;
}
