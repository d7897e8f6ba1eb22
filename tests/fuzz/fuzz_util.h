// Helpers shared by the libFuzzer harnesses (tests/fuzz/*_fuzz.cc): a scratch directory per
// process and whole-file writes. Harnesses run single-threaded; nothing here is thread-safe.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace tink::fuzz {

// A directory private to this process, under /dev/shm when it exists (the harnesses write a file
// per input; tmpfs keeps that off the disk), else $TMPDIR or /tmp. Removed at exit.
inline const std::string& ScratchDir() {
  // Never destroyed: the atexit handler below runs after static destructors would have.
  static const std::string* const dir = [] {
    std::string root = "/tmp";
    if (const char* t = std::getenv("TMPDIR"); t != nullptr && *t != '\0') root = t;
    if (std::filesystem::is_directory("/dev/shm")) root = "/dev/shm";
    auto* d = new std::string(root + "/tink-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(*d);
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(ScratchDir(), ec);
    });
    return d;
  }();
  return *dir;
}

inline void WriteFile(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Empties `dir` (creating it if needed).
inline void ResetDir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::filesystem::create_directories(dir);
}

}  // namespace tink::fuzz
