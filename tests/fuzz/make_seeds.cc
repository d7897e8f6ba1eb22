// Writes the binary seeds scripts/fuzz-seeds cannot make with a text tool.
//   make_seeds LOG_DIR SCHEMA_DIR [ENVELOPES.jsonl]
// LOG_DIR (log_fuzz): small logs made by the real writer, each as one input: a flags byte, then
// its segment files concatenated in LSN order, the preallocated zeros cut to one record header.
// SCHEMA_DIR (schema_fuzz, odd mode byte): each envelope line of ENVELOPES encoded as a payload.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "log/format.h"
#include "log/log.h"
#include "schema/schema.h"

namespace fs = std::filesystem;
using tink::log::Log;
using tink::log::LogOptions;

namespace {

std::string Event(int i) {
  tink::schema::EventInput e;
  e.stream = "run/1/task/" + std::to_string(i % 3);
  e.type = i % 2 ? "note" : "tool.result";
  e.run = "1";
  e.data_json =
      i % 2 ? R"({"text":"seed"})" : R"({"tool":"bash","exit_code":)" + std::to_string(i) + "}";
  auto enc = tink::schema::EncodeEvent(e);
  return enc.ok() ? *enc : std::string("x");
}

// batches[i] records in write i.
bool MakeLog(const std::string& dir, uint64_t segment_size, const std::vector<int>& batches) {
  fs::remove_all(dir);
  LogOptions opt;
  opt.segment_size = segment_size;
  opt.durability.mode = tink::log::Durability::Mode::kNone;
  auto log = Log::Open(dir, opt);
  if (!log.ok()) return false;
  int n = 0;
  for (int size : batches) {
    std::vector<std::string> payloads;
    for (int k = 0; k < size; ++k) payloads.push_back(Event(n++));
    std::vector<std::string_view> views(payloads.begin(), payloads.end());
    if (!(*log)->Append(views).ok()) return false;
  }
  return (*log)->Close().ok();
}

std::string Concat(const std::string& dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".seg") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  std::string out;
  for (const fs::path& p : files) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string b = ss.str();
    size_t end = b.find_last_not_of('\0');
    end = end == std::string::npos ? 0 : tink::log::AlignUp(end + 1);
    b.resize(std::min(b.size(), end + tink::log::kRecordHeaderSize));
    out += b;
  }
  return out;
}

void Put(const std::string& path, char flags, std::string_view body) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.put(flags);
  out.write(body.data(), static_cast<std::streamsize>(body.size()));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3 || argc > 4) {
    std::fprintf(stderr, "usage: make_seeds LOG_DIR SCHEMA_DIR [ENVELOPES.jsonl]\n");
    return 1;
  }
  const std::string out = argv[1];
  if (argc == 4) {
    fs::create_directories(argv[2]);
    std::ifstream in(argv[3]);
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
      auto e = tink::schema::ParseEnvelopeJson(line);
      if (!e.ok()) continue;
      auto enc = tink::schema::EncodeEvent(*e);
      if (enc.ok()) Put(std::string(argv[2]) + "/payload-" + std::to_string(n), 1, *enc);
    }
  }
  fs::create_directories(out);
  const std::string tmp = (fs::temp_directory_path() / "tink-log-seeds").string();
  struct Spec {
    const char* name;
    uint64_t segment_size;
    std::vector<int> batches;
  };
  const std::vector<Spec> specs = {
      {"one-record", 1 << 16, {1}},
      {"batches", 1 << 16, {1, 3, 2}},
      {"sealed-segments", 700, {2, 1, 3, 1, 2, 1}},
  };
  for (const Spec& s : specs) {
    if (!MakeLog(tmp, s.segment_size, s.batches)) {
      std::fprintf(stderr, "make_seeds: writing %s failed\n", s.name);
      return 1;
    }
    const std::string body = Concat(tmp);
    Put(out + "/" + s.name, 0, body);
    Put(out + "/" + s.name + "-fixed", 1, body);
    // A torn final write: the last record cut short.
    Put(out + "/" + s.name + "-torn", 1,
        body.substr(0, body.size() - tink::log::kRecordHeaderSize - 12));
  }
  fs::remove_all(tmp);
  return 0;
}
