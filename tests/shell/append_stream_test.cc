// AppendLineBuffered (shell/cli/append_stream.h): lines from a pipe grouped as they are
// available, each group appended and acknowledged before more is read; the first bad line stops
// it after the lines before it are stored.
#include "shell/cli/append_stream.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tink::cli {
namespace {

using namespace std::chrono_literals;

std::string Note(int i) {
  return R"({"stream":"s","type":"note","data":{"text":")" + std::to_string(i) + R"("}})";
}

// A pipe whose write end the test holds.
class Pipe {
 public:
  Pipe() { EXPECT_EQ(::pipe(fds_), 0); }
  ~Pipe() {
    CloseWrite();
    ::close(fds_[0]);
  }
  int read_fd() const { return fds_[0]; }
  void Write(const std::string& s) {
    ASSERT_EQ(::write(fds_[1], s.data(), s.size()), static_cast<ssize_t>(s.size()));
  }
  void CloseWrite() {
    if (fds_[1] >= 0) ::close(fds_[1]);
    fds_[1] = -1;
  }

 private:
  int fds_[2] = {-1, -1};
};

// An in-memory "store": assigns LSNs, remembers each group's texts.
struct FakeStore {
  std::vector<std::vector<std::string>> groups;  // data_json of each appended group
  std::vector<log::Lsn> acked;
  log::Lsn next = 1;
  int fail_at_group = -1;  // 0-based; that append fails

  AppendGroupFn Append() {
    return [this](std::span<const schema::EventInput> events) -> Result<std::vector<log::Lsn>> {
      if (static_cast<int>(groups.size()) == fail_at_group) {
        return Status::IOError("disk full");
      }
      groups.emplace_back();
      std::vector<log::Lsn> lsns;
      for (const schema::EventInput& e : events) {
        groups.back().push_back(e.data_json);
        lsns.push_back(next++);
      }
      return lsns;
    };
  }
  AckedFn Acked() {
    return [this](std::span<const log::Lsn> lsns) { acked.insert(acked.end(), lsns.begin(), lsns.end()); };
  }
  std::vector<size_t> sizes() const {
    std::vector<size_t> out;
    for (const auto& g : groups) out.push_back(g.size());
    return out;
  }
};

TEST(AppendStreamTest, LinesWaitingInTheInputGoInTogether) {
  Pipe p;
  for (int i = 1; i <= 5; ++i) p.Write(Note(i) + "\n");
  p.CloseWrite();
  FakeStore store;
  LineStreamStats st;
  ASSERT_TRUE(AppendLineBuffered(p.read_fd(), store.Append(), store.Acked(), {}, &st).ok());
  EXPECT_EQ(store.sizes(), std::vector<size_t>{5});
  EXPECT_EQ(store.acked, (std::vector<log::Lsn>{1, 2, 3, 4, 5}));
  EXPECT_EQ(st.lines, 5u);
  EXPECT_EQ(st.events, 5u);
  EXPECT_EQ(st.groups, 1u);
}

TEST(AppendStreamTest, GroupsAreBoundedByLinesAndBytes) {
  {
    Pipe p;
    for (int i = 1; i <= 5; ++i) p.Write(Note(i) + "\n");
    p.CloseWrite();
    FakeStore store;
    LineGroupLimits limits;
    limits.max_lines = 2;
    ASSERT_TRUE(AppendLineBuffered(p.read_fd(), store.Append(), store.Acked(), limits).ok());
    EXPECT_EQ(store.sizes(), (std::vector<size_t>{2, 2, 1}));
  }
  {
    Pipe p;
    for (int i = 1; i <= 3; ++i) p.Write(Note(i) + "\n");
    p.CloseWrite();
    FakeStore store;
    LineGroupLimits limits;
    limits.max_bytes = 10;  // less than one line: every line is a group of its own
    ASSERT_TRUE(AppendLineBuffered(p.read_fd(), store.Append(), store.Acked(), limits).ok());
    EXPECT_EQ(store.sizes(), (std::vector<size_t>{1, 1, 1}));
  }
}

// The producer writes the next line only once the previous one was acknowledged: the reader
// must not wait for more input before appending what it has.
TEST(AppendStreamTest, EachGroupIsAcknowledgedBeforeMoreIsRead) {
  Pipe p;
  FakeStore store;
  std::mutex mu;
  std::condition_variable cv;
  size_t acked = 0;
  AckedFn on_ack = [&](std::span<const log::Lsn> lsns) {
    store.Acked()(lsns);
    std::lock_guard<std::mutex> l(mu);
    acked += lsns.size();
    cv.notify_all();
  };
  bool producer_waited_too_long = false;
  std::thread producer([&] {
    for (int i = 1; i <= 4; ++i) {
      p.Write(Note(i) + "\n");
      std::unique_lock<std::mutex> l(mu);
      // A deadline so that a broken reader fails the test instead of hanging it.
      if (!cv.wait_for(l, 60s, [&] { return acked == static_cast<size_t>(i); })) {
        producer_waited_too_long = true;
        break;
      }
    }
    p.CloseWrite();
  });
  Status s = AppendLineBuffered(p.read_fd(), store.Append(), on_ack);
  producer.join();
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_FALSE(producer_waited_too_long);
  EXPECT_EQ(store.sizes(), (std::vector<size_t>{1, 1, 1, 1}));
  EXPECT_EQ(store.acked, (std::vector<log::Lsn>{1, 2, 3, 4}));
}

TEST(AppendStreamTest, BadLineStopsAfterTheLinesBeforeItAreAppended) {
  Pipe p;
  p.Write(Note(1) + "\n" + Note(2) + "\n" +
          R"({"stream":"s","type":"note","data":{"text":"x","colour":"red"}})" + "\n" + Note(4) +
          "\n");
  p.CloseWrite();
  FakeStore store;
  Status s = AppendLineBuffered(p.read_fd(), store.Append(), store.Acked());
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find("stdin line 3: "), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("colour"), std::string::npos) << "names the field: " << s.ToString();
  EXPECT_NE(s.message().find("the 2 events before it are stored"), std::string::npos)
      << s.ToString();
  EXPECT_EQ(store.sizes(), std::vector<size_t>{2});
  EXPECT_EQ(store.acked, (std::vector<log::Lsn>{1, 2}));

  Pipe q;
  q.Write("not json\n" + Note(2) + "\n");
  q.CloseWrite();
  FakeStore none;
  s = AppendLineBuffered(q.read_fd(), none.Append(), none.Acked());
  EXPECT_NE(s.message().find("stdin line 1: "), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("the 0 events before it"), std::string::npos) << s.ToString();
  EXPECT_TRUE(none.groups.empty());
}

TEST(AppendStreamTest, BlankLinesCrlfAndAnUnterminatedLastLine) {
  Pipe p;
  p.Write(Note(1) + "\r\n\n  \t\n" + Note(2));
  p.CloseWrite();
  FakeStore store;
  LineStreamStats st;
  ASSERT_TRUE(AppendLineBuffered(p.read_fd(), store.Append(), store.Acked(), {}, &st).ok());
  EXPECT_EQ(store.acked, (std::vector<log::Lsn>{1, 2}));
  EXPECT_EQ(st.lines, 4u);

  Pipe empty;
  empty.CloseWrite();
  FakeStore nothing;
  ASSERT_TRUE(AppendLineBuffered(empty.read_fd(), nothing.Append(), nothing.Acked()).ok());
  EXPECT_TRUE(nothing.groups.empty());
}

TEST(AppendStreamTest, AnAppendErrorNamesItsLinesAndKeepsEarlierGroups) {
  Pipe p;
  FakeStore store;
  store.fail_at_group = 1;
  LineGroupLimits limits;
  limits.max_lines = 2;
  for (int i = 1; i <= 5; ++i) p.Write(Note(i) + "\n");
  p.CloseWrite();
  Status s = AppendLineBuffered(p.read_fd(), store.Append(), store.Acked(), limits);
  ASSERT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_NE(s.message().find("stdin lines 3-4: disk full"), std::string::npos) << s.ToString();
  EXPECT_EQ(store.acked, (std::vector<log::Lsn>{1, 2}));
}

TEST(AppendStreamTest, AReadErrorIsAnIOError) {
  FakeStore store;
  Status s = AppendLineBuffered(-1, store.Append(), store.Acked());
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
}

}  // namespace
}  // namespace tink::cli
