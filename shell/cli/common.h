// Shared pieces of the `tink` command line: exit codes (DESIGN.md §6), error printing, progress.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <string_view>

#include "engine/engine.h"
#include "projections/reader.h"
#include "schema/status.h"

namespace tink::cli {

// Stable exit codes; scripts depend on them.
enum class Exit : int {
  kOk = 0,
  kUsage = 1,       // bad flags or arguments
  kInput = 2,       // bad input or query, unknown store, conflict
  kCorruption = 3,  // the log is damaged (segment, offset, LSN printed)
  kIO = 4,          // I/O or durability failure, store locked by another process
};

int ExitFor(const Status& s);

// Prints "tink <cmd>: <message>" to stderr and returns the exit code for s.
int Fail(std::string_view cmd, const Status& s);

// Opens a store for a read command: read-only (never takes the writer's lock, never changes a
// byte of the store, so a reader can never make a writer fail). If the log is damaged where no
// writer is at work, prints one line naming segment, offset and LSNs and remembers it: the
// command shows what precedes the damage and exits 3 (see ReadHitDamage).
Result<std::unique_ptr<engine::Engine>> OpenForReading(std::string_view cmd,
                                                        const std::string& store,
                                                        engine::EngineOptions options = {});
// Whether OpenForReading reported damage in this process (main turns exit 0 into 3 then).
bool ReadHitDamage();

// A one-line progress meter on stderr, shown only when stderr is a terminal.
class Progress {
 public:
  explicit Progress(std::string label);
  ~Progress();
  void Update(uint64_t done, uint64_t total);

 private:
  std::string label_;
  bool tty_;
  int last_pct_ = -1;
};

// Runs one command's function: the last net under every `tink` command (main.cc). Commands
// report errors as Status; an exception that still escapes one (a bug, or a library that throws
// where it was not expected) becomes one line "tink <cmd>: ..." on stderr and an exit code instead
// of std::terminate: nlohmann::json::exception -> 2 (JSON of a shape the command did not
// expect), std::bad_alloc, std::filesystem::filesystem_error, std::system_error and any other
// exception -> 4.
int RunGuarded(std::string_view cmd, const std::function<int()>& run);

// The deepest nesting of arrays and objects in a JSON text, counted without parsing it (brackets
// inside strings skipped): a body deeper than a limit is refused before nlohmann builds (and
// later recursively dumps) a tree. Stops counting once the depth passes `stop_above`.
int JsonDepth(std::string_view text, int stop_above = std::numeric_limits<int>::max());

std::string HumanBytes(uint64_t n);

// A point for --as-of/--from/--to: "" or "now" (the head), an LSN, or an ISO 8601 time (the last
// event recorded at or before it). InvalidArgument for anything else.
Result<projections::AsOf> ParseAsOf(const std::string& text);

}  // namespace tink::cli
