#include "shell/cli/common.h"

#include <unistd.h>

#include <cstdio>
#include <exception>
#include <filesystem>
#include <new>
#include <nlohmann/json.hpp>
#include <system_error>

#include "schema/schema.h"

namespace tink::cli {

int ExitFor(const Status& s) {
  switch (s.code()) {
    case Code::kOk: return static_cast<int>(Exit::kOk);
    case Code::kInvalidArgument:
    case Code::kNotFound:
    case Code::kConflict:
    case Code::kNotSupported: return static_cast<int>(Exit::kInput);
    case Code::kCorruption: return static_cast<int>(Exit::kCorruption);
    case Code::kIOError:
    case Code::kFailed: return static_cast<int>(Exit::kIO);
  }
  return static_cast<int>(Exit::kIO);
}

int Fail(std::string_view cmd, const Status& s) {
  std::fprintf(stderr, "tink %.*s: %s\n", static_cast<int>(cmd.size()), cmd.data(),
               s.ToString().c_str());
  return ExitFor(s);
}

namespace {
bool read_hit_damage = false;
}  // namespace

Result<std::unique_ptr<engine::Engine>> OpenForReading(std::string_view cmd,
                                                        const std::string& store,
                                                        engine::EngineOptions options) {
  options.access = engine::Access::kRead;
  options.tail = false;
  ASSIGN_OR_RETURN(std::unique_ptr<engine::Engine> e, engine::Engine::Open(store, options));
  const Status& damage = e->recovery().damage;
  // With a writer at work, what looks like damage at the end of the log can be a write in
  // progress: the reader then just stops at the last complete write, as it would anyway.
  if (!damage.ok() && !engine::WriterActive(store)) {
    read_hit_damage = true;
    std::fprintf(stderr, "tink %.*s: %s\n", static_cast<int>(cmd.size()), cmd.data(),
                 damage.ToString().c_str());
  }
  return e;
}

bool ReadHitDamage() { return read_hit_damage; }

namespace {

// One line: newlines inside a library's message become spaces.
int FailLine(std::string_view cmd, std::string what, Exit code) {
  for (char& c : what) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  std::fflush(stdout);
  std::fprintf(stderr, "tink %.*s: %s\n", static_cast<int>(cmd.size()), cmd.data(), what.c_str());
  return static_cast<int>(code);
}

}  // namespace

int RunGuarded(std::string_view cmd, const std::function<int()>& run) {
  try {
    return run();
  } catch (const nlohmann::json::exception& e) {
    return FailLine(cmd, std::string("unexpected JSON: ") + e.what(), Exit::kInput);
  } catch (const std::filesystem::filesystem_error& e) {
    return FailLine(cmd, e.what(), Exit::kIO);
  } catch (const std::system_error& e) {
    return FailLine(cmd, e.what(), Exit::kIO);
  } catch (const std::bad_alloc&) {
    return FailLine(cmd, "out of memory", Exit::kIO);
  } catch (const std::exception& e) {
    return FailLine(cmd, std::string("internal error: ") + e.what(), Exit::kIO);
  } catch (...) {
    return FailLine(cmd, "internal error: unknown exception", Exit::kIO);
  }
}

Progress::Progress(std::string label) : label_(std::move(label)), tty_(::isatty(2) == 1) {}

Progress::~Progress() {
  if (tty_ && last_pct_ >= 0) std::fprintf(stderr, "\r\033[K");
}

void Progress::Update(uint64_t done, uint64_t total) {
  if (!tty_ || total == 0) return;
  const int pct = static_cast<int>(done * 100 / total);
  if (pct == last_pct_) return;
  last_pct_ = pct;
  std::fprintf(stderr, "\r%s %3d%% (%s / %s)", label_.c_str(), pct, HumanBytes(done).c_str(),
               HumanBytes(total).c_str());
  std::fflush(stderr);
}

int JsonDepth(std::string_view text, int stop_above) {
  int depth = 0, max = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // the escaped character, a quote included
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max) max = depth;
      if (max > stop_above) return max;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return max;
}

std::string HumanBytes(uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

Result<projections::AsOf> ParseAsOf(const std::string& text) {
  if (text.empty() || text == "now") return projections::AsOf::Head();
  if (text.find_first_not_of("0123456789") == std::string::npos && text.size() < 20) {
    return projections::AsOf::AtLsn(std::stoull(text));
  }
  ASSIGN_OR_RETURN(int64_t ns, schema::ParseTime(text));
  return projections::AsOf::AtTime(ns);
}

}  // namespace tink::cli
