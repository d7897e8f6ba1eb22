// StateReader's versioned reads (GetAsOf, ScanAsOf, History, ChangedBetween) on a hand-built
// column family of random entities and versions, against a brute-force reference; plus the plain
// Scan / ScanReverse / Get and the snapshot they read.
#include "projections/reader.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "projections_test_util.h"
#include "support/temp_dir.h"

namespace tink::projections {
namespace {

using testing::Must;

// A projection that owns a column family and never folds anything: the test writes its keys.
class Inert final : public Projection {
 public:
  explicit Inert(std::string name) : name_(std::move(name)) {}
  std::string_view name() const override { return name_; }
  uint32_t format_version() const override { return 1; }
  Status Apply(const Event&, ApplyContext&) override { return Status::Ok(); }
  void ResetCache() override {}

 private:
  std::string name_;
};

std::string Ordered(std::string_view s) {
  std::string out;
  AppendOrdered(&out, s);
  return out;
}

// entity -> lsn -> value
using Reference = std::map<std::string, std::map<Lsn, std::string>>;

class ReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto st = StateStore::Open(dir_.path(), {&kv_, &raw_});
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    store_ = std::move(st).value();
  }

  void Put(std::string_view cf, std::string_view key, std::string_view value) {
    ASSERT_TRUE(store_->db()
                    ->Put(rocksdb::WriteOptions(), store_->cf(cf),
                          rocksdb::Slice(key.data(), key.size()),
                          rocksdb::Slice(value.data(), value.size()))
                    .ok());
  }

  // Random entities 'E' ostr(a) ostr(b) (a, b hold 0x00, 0x01 and 0xFF bytes), each with random
  // distinct versions; written in random order, some flushed to SST files, some in the memtable.
  void BuildRandom(uint64_t seed) {
    std::mt19937_64 rng(seed);
    static const std::string kBytes = std::string("\x00\x01\xff", 3) + "ab";
    auto word = [&] {
      std::string s(rng() % 4, '\0');
      for (char& c : s) c = kBytes[rng() % kBytes.size()];
      return s;
    };
    std::vector<std::tuple<std::string, Lsn, std::string>> puts;
    for (int i = 0; i < 150; ++i) {
      const std::string entity = "E" + Ordered(word()) + Ordered(word());
      const int versions = 1 + static_cast<int>(rng() % 8);
      for (int v = 0; v < versions; ++v) {
        const Lsn lsn = 1 + rng() % 1000;
        if (ref_[entity].count(lsn)) continue;
        const std::string value = "v" + std::to_string(rng());
        ref_[entity][lsn] = value;
        puts.emplace_back(entity, lsn, value);
      }
    }
    // An entity at the extremes of the LSN range.
    ref_["E" + Ordered("edge") + Ordered("")][UINT64_MAX - 1] = "newest";
    puts.emplace_back("E" + Ordered("edge") + Ordered(""), UINT64_MAX - 1, "newest");
    std::shuffle(puts.begin(), puts.end(), rng);
    for (size_t i = 0; i < puts.size(); ++i) {
      const auto& [e, lsn, v] = puts[i];
      Put("kv", VersionKey(e, lsn), v);
      if (i == puts.size() / 2) {
        ASSERT_TRUE(store_->Flush().ok());
      }
    }
    for (const auto& [e, versions] : ref_) entities_.push_back(e);
  }

  // The newest version of `e` with lsn <= n, per the reference.
  std::optional<std::pair<Lsn, std::string>> RefAsOf(const std::string& e, Lsn n) const {
    auto it = ref_.find(e);
    if (it == ref_.end()) return std::nullopt;
    auto v = it->second.upper_bound(n);
    if (v == it->second.begin()) return std::nullopt;
    --v;
    return std::make_pair(v->first, v->second);
  }

  // Interesting as-of points: 0, each stored version and its neighbours, the extremes.
  std::vector<Lsn> Points(std::mt19937_64& rng) const {
    std::vector<Lsn> ps = {0, 1, 500, 999, 1000, 1001, UINT64_MAX - 2, UINT64_MAX - 1, UINT64_MAX};
    for (int i = 0; i < 20; ++i) ps.push_back(rng() % 1100);
    return ps;
  }

  // Prefixes: "", the tag, each first component, and byte-truncations of entities.
  std::vector<std::string> Prefixes(std::mt19937_64& rng) const {
    std::set<std::string> ps = {"", "E", "X", "E" + Ordered("zz")};
    for (const std::string& e : entities_) {
      std::string_view in = std::string_view(e).substr(1);
      std::string a;
      EXPECT_TRUE(DecodeOrdered(&in, &a));
      ps.insert("E" + Ordered(a));
      if (rng() % 10 == 0) ps.insert(e.substr(0, 1 + rng() % (e.size() - 1)));
    }
    return {ps.begin(), ps.end()};
  }

  tink::testing::TempDir dir_;
  Inert kv_{"kv"}, raw_{"raw"};
  std::unique_ptr<StateStore> store_;
  Reference ref_;
  std::vector<std::string> entities_;  // sorted
};

TEST_F(ReaderTest, GetAsOfMatchesReference) {
  BuildRandom(11);
  std::mt19937_64 rng(12);
  StateReader r(store_.get());
  int found = 0;
  std::vector<std::string> probes = entities_;
  // Entities that do not exist but sort right next to existing ones.
  for (size_t i = 0; i < entities_.size(); i += 7) {
    probes.push_back(entities_[i].substr(0, entities_[i].size() - 2));  // a proper prefix
    probes.push_back(entities_[i] + Ordered("x"));                      // an extension
  }
  probes.push_back("");
  for (const std::string& e : probes) {
    for (Lsn n : Points(rng)) {
      Result<std::optional<Version>> got = r.GetAsOf("kv", e, n);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      const auto want = RefAsOf(e, n);
      ASSERT_EQ(got->has_value(), want.has_value()) << ::testing::PrintToString(e) << " @" << n;
      if (!want) continue;
      ++found;
      EXPECT_EQ((*got)->lsn, want->first);
      EXPECT_EQ((*got)->value, want->second);
    }
  }
  EXPECT_GT(found, 500) << "the probes must hit stored versions";
}

TEST_F(ReaderTest, ScanAsOfMatchesReference) {
  BuildRandom(21);
  std::mt19937_64 rng(22);
  StateReader r(store_.get());
  size_t nonempty = 0;
  for (const std::string& prefix : Prefixes(rng)) {
    for (Lsn n : Points(rng)) {
      std::vector<std::tuple<std::string, Lsn, std::string>> got, want;
      ASSERT_TRUE(r.ScanAsOf("kv", prefix, n, [&](std::string_view e, const Version& v) {
                     got.emplace_back(std::string(e), v.lsn, v.value);
                     return true;
                   }).ok());
      for (const std::string& e : entities_) {
        if (!e.starts_with(prefix)) continue;
        if (auto v = RefAsOf(e, n)) want.emplace_back(e, v->first, v->second);
      }
      ASSERT_EQ(got, want) << "prefix " << ::testing::PrintToString(prefix) << " as of " << n;
      nonempty += !want.empty();
    }
  }
  EXPECT_GT(nonempty, 100u);
}

TEST_F(ReaderTest, ScanAsOfStopsWhenAsked) {
  BuildRandom(31);
  StateReader r(store_.get());
  int calls = 0;
  ASSERT_TRUE(r.ScanAsOf("kv", "", UINT64_MAX, [&](std::string_view, const Version&) {
                 return ++calls < 3;
               }).ok());
  EXPECT_EQ(calls, 3);
}

// The reader keeps its iterators and lends them out (one per column family and key kind): a
// scan's callback that reads the same column family again (a nested scan, point lookups) gets
// its own, and every read still matches the reference, before and after the nesting.
TEST_F(ReaderTest, NestedReadsOnOneReaderMatchReference) {
  BuildRandom(41);
  std::mt19937_64 rng(42);
  StateReader r(store_.get());
  const std::vector<Lsn> points = Points(rng);
  size_t outer = 0, inner = 0;
  for (Lsn n : points) {
    std::vector<std::tuple<std::string, Lsn, std::string>> got, want;
    ASSERT_TRUE(r.ScanAsOf("kv", "E", n, [&](std::string_view e, const Version& v) {
                   got.emplace_back(std::string(e), v.lsn, v.value);
                   ++outer;
                   // A point lookup of another entity, then of this one, through the same reader.
                   const std::string& other = entities_[rng() % entities_.size()];
                   auto o = r.GetAsOf("kv", other, n);
                   EXPECT_TRUE(o.ok());
                   auto ref = RefAsOf(other, n);
                   EXPECT_EQ(o.ok() && o->has_value(), ref.has_value()) << other;
                   if (o.ok() && o->has_value() && ref) {
                     EXPECT_EQ((*o)->lsn, ref->first);
                     EXPECT_EQ((*o)->value, ref->second);
                   }
                   // A nested scan of the entity's first component.
                   std::string_view in = e.substr(1);
                   std::string a;
                   EXPECT_TRUE(DecodeOrdered(&in, &a));
                   const std::string prefix = "E" + Ordered(a);
                   size_t nested = 0, expected = 0;
                   EXPECT_TRUE(r.ScanAsOf("kv", prefix, n, [&](std::string_view ne, const Version& nv) {
                                  auto nr = RefAsOf(std::string(ne), n);
                                  EXPECT_TRUE(nr && nr->first == nv.lsn && nr->second == nv.value)
                                      << ::testing::PrintToString(std::string(ne));
                                  ++nested;
                                  return true;
                                }).ok());
                   for (const std::string& x : entities_) expected += x.starts_with(prefix) && RefAsOf(x, n);
                   EXPECT_EQ(nested, expected);
                   inner += nested;
                   return true;
                 }).ok());
    for (const std::string& e : entities_) {
      if (auto v = RefAsOf(e, n)) want.emplace_back(e, v->first, v->second);
    }
    ASSERT_EQ(got, want) << "as of " << n;
  }
  EXPECT_GT(outer, 100u);
  EXPECT_GT(inner, outer);
}

TEST_F(ReaderTest, HistoryMatchesReference) {
  BuildRandom(41);
  std::mt19937_64 rng(42);
  StateReader r(store_.get());
  size_t versions_seen = 0;
  std::vector<std::string> probes = entities_;
  probes.push_back(entities_[3].substr(0, entities_[3].size() - 1));  // no such entity
  for (const std::string& e : probes) {
    std::vector<std::pair<Lsn, Lsn>> ranges = {
        {0, UINT64_MAX}, {1, 1000}, {500, 499}, {0, 0}, {UINT64_MAX, UINT64_MAX}};
    for (int i = 0; i < 8; ++i) {
      Lsn a = rng() % 1100, b = rng() % 1100;
      if (a > b && rng() % 4 != 0) std::swap(a, b);  // mostly valid ranges, some empty ones
      ranges.emplace_back(a, b);
    }
    auto it = ref_.find(e);
    if (it != ref_.end()) {
      // Ranges that start or end exactly on stored versions.
      const Lsn first = it->second.begin()->first, last = it->second.rbegin()->first;
      ranges.emplace_back(first, last);
      ranges.emplace_back(first, first);
      ranges.emplace_back(last, UINT64_MAX);
    }
    for (const auto& [from, to] : ranges) {
      std::vector<std::pair<Lsn, std::string>> got, want;
      ASSERT_TRUE(r.History("kv", e, from, to, [&](const Version& v) {
                     got.emplace_back(v.lsn, v.value);
                     return true;
                   }).ok());
      if (it != ref_.end()) {
        for (const auto& [lsn, v] : it->second) {
          if (lsn >= from && lsn <= to) want.emplace_back(lsn, v);
        }
      }
      ASSERT_EQ(got, want) << ::testing::PrintToString(e) << " [" << from << ", " << to << "]";
      versions_seen += got.size();
    }
  }
  EXPECT_GT(versions_seen, 1000u);
  // Early stop.
  int calls = 0;
  const std::string busiest =
      std::max_element(ref_.begin(), ref_.end(), [](const auto& a, const auto& b) {
        return a.second.size() < b.second.size();
      })->first;
  ASSERT_GE(ref_[busiest].size(), 3u);
  ASSERT_TRUE(r.History("kv", busiest, 0, UINT64_MAX, [&](const Version& v) {
                 EXPECT_EQ(v.lsn, ref_[busiest].begin()->first) << "oldest first";
                 return ++calls < 1;
               }).ok());
  EXPECT_EQ(calls, 1);
}

TEST_F(ReaderTest, ChangedBetweenMatchesReference) {
  BuildRandom(51);
  std::mt19937_64 rng(52);
  StateReader r(store_.get());
  size_t hits = 0;
  for (const std::string& prefix : Prefixes(rng)) {
    std::vector<std::pair<Lsn, Lsn>> ranges = {
        {0, UINT64_MAX}, {0, 0}, {1000, 1000}, {999, 1000}, {700, 300}};
    for (int i = 0; i < 6; ++i) {
      Lsn a = rng() % 1100, b = rng() % 1100;
      if (a > b) std::swap(a, b);
      ranges.emplace_back(a, b);
    }
    for (const auto& [n1, n2] : ranges) {
      std::vector<std::string> got, want;
      ASSERT_TRUE(r.ChangedBetween("kv", prefix, n1, n2, [&](std::string_view e) {
                     got.emplace_back(e);
                     return true;
                   }).ok());
      for (const std::string& e : entities_) {
        if (!e.starts_with(prefix)) continue;
        const auto& versions = ref_.at(e);
        auto v = versions.upper_bound(n1);  // first version > n1
        if (v != versions.end() && v->first <= n2) want.push_back(e);
      }
      ASSERT_EQ(got, want) << "prefix " << ::testing::PrintToString(prefix) << " (" << n1 << ", "
                           << n2 << "]";
      hits += want.size();
    }
  }
  EXPECT_GT(hits, 500u);
}

TEST_F(ReaderTest, ReadsSeeOneSnapshot) {
  const std::string e = "E" + Ordered("a") + Ordered("b");
  Put("kv", VersionKey(e, 5), "five");
  StateReader before(store_.get());
  Put("kv", VersionKey(e, 9), "nine");
  Put("raw", "k", "v");
  auto old = Must(before.GetAsOf("kv", e, UINT64_MAX));
  ASSERT_TRUE(old.has_value());
  EXPECT_EQ(old->lsn, 5u);
  EXPECT_FALSE(Must(before.Get("raw", "k")).has_value());
  StateReader after(store_.get());
  auto now = Must(after.GetAsOf("kv", e, UINT64_MAX));
  ASSERT_TRUE(now.has_value());
  EXPECT_EQ(now->lsn, 9u);
  EXPECT_EQ(Must(after.Get("raw", "k")), std::optional<std::string>("v"));
  // An unknown column family is NotFound, not a crash.
  EXPECT_TRUE(after.GetAsOf("nope", e, 1).status().IsNotFound());
  EXPECT_TRUE(after.Get("nope", "k").status().IsNotFound());
}

TEST_F(ReaderTest, PlainScanAndScanReverse) {
  const std::vector<std::string> keys = {"a",
                                         "ab",
                                         "abc",
                                         "b",
                                         std::string("b\0", 2),
                                         std::string("b\xff", 2),
                                         std::string("b\xff\xff", 3),
                                         "c",
                                         std::string("\xff", 1),
                                         std::string("\xff\xff", 2),
                                         std::string("\xff\xff\x01", 3)};
  for (const std::string& k : keys) Put("raw", k, "=" + k);
  StateReader r(store_.get());
  auto scan = [&](std::string_view prefix, std::string_view start) {
    std::vector<std::string> out;
    EXPECT_TRUE(r.Scan("raw", prefix, start, [&](std::string_view k, std::string_view v) {
                   EXPECT_EQ(v, "=" + std::string(k));
                   out.emplace_back(k);
                   return true;
                 }).ok());
    return out;
  };
  auto reverse = [&](std::string_view prefix) {
    std::vector<std::string> out;
    EXPECT_TRUE(r.ScanReverse("raw", prefix, [&](std::string_view k, std::string_view) {
                   out.emplace_back(k);
                   return true;
                 }).ok());
    return out;
  };
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  for (std::string prefix : {std::string(""), std::string("a"), std::string("ab"), std::string("b"),
                             std::string("b\xff", 2), std::string("\xff", 1),
                             std::string("\xff\xff", 2), std::string("zz")}) {
    std::vector<std::string> want;
    for (const std::string& k : sorted) {
      if (k.starts_with(prefix)) want.push_back(k);
    }
    EXPECT_EQ(scan(prefix, ""), want) << ::testing::PrintToString(prefix);
    std::vector<std::string> rev(want.rbegin(), want.rend());
    EXPECT_EQ(reverse(prefix), rev) << ::testing::PrintToString(prefix);
  }
  // A start inside the prefix range skips what sorts before it.
  EXPECT_EQ(scan("b", std::string("b\xff", 2)),
            (std::vector<std::string>{std::string("b\xff", 2), std::string("b\xff\xff", 3)}));
}

}  // namespace
}  // namespace tink::projections
