// projections/keys.h: ordered strings (round trip, order, prefix-freeness), big-endian integers,
// versioned keys (newest first) and PrefixEnd. Exhaustive over a small alphabet that holds the
// escape bytes (0x00, 0x01, 0xFF), then random longer strings.
#include "projections/keys.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace tink::projections {
namespace {

// Every string of length <= max_len over `alphabet`.
std::vector<std::string> AllStrings(const std::string& alphabet, size_t max_len) {
  std::vector<std::string> out = {""};
  std::vector<std::string> layer = {""};
  for (size_t len = 1; len <= max_len; ++len) {
    std::vector<std::string> next;
    for (const std::string& s : layer) {
      for (char c : alphabet) next.push_back(s + c);
    }
    out.insert(out.end(), next.begin(), next.end());
    layer = std::move(next);
  }
  return out;
}

const std::string kAlphabet = std::string("\x00\x01\xff", 3) + "a";

std::string Ordered(std::string_view s) {
  std::string out;
  AppendOrdered(&out, s);
  return out;
}

int Sign(int c) { return (c > 0) - (c < 0); }

std::string RandomBytes(std::mt19937_64& rng, size_t max_len) {
  // Mostly the escape bytes, so escapes and terminators meet often.
  static const std::string kBytes = std::string("\x00\x01\x02\xfe\xff", 5) + "az";
  std::string s(rng() % (max_len + 1), '\0');
  for (char& c : s)
    c = rng() % 3 == 0 ? static_cast<char>(rng() & 0xff) : kBytes[rng() % kBytes.size()];
  return s;
}

TEST(KeysTest, OrderedRoundTripWithEmbeddedNulAndFF) {
  const std::vector<std::string> cases = {"",
                                          std::string("\0", 1),
                                          std::string("\xff", 1),
                                          std::string("\0\xff", 2),
                                          std::string("\xff\0", 2),
                                          std::string("\0\x01", 2),
                                          std::string("a\0b\xff\0\0", 6),
                                          std::string("\x01\x01\0\x01", 4),
                                          std::string(300, '\0'),
                                          std::string(300, '\xff')};
  for (const std::string& s : cases) {
    const std::string enc = Ordered(s);
    std::string_view in = enc;
    std::string out = "garbage";
    ASSERT_TRUE(DecodeOrdered(&in, &out)) << ::testing::PrintToString(s);
    EXPECT_EQ(out, s);
    EXPECT_TRUE(in.empty()) << "the whole encoding is consumed";
    // Escaping: one extra byte per NUL, plus the two-byte terminator.
    EXPECT_EQ(enc.size(), s.size() + std::count(s.begin(), s.end(), '\0') + 2);
  }
}

TEST(KeysTest, OrderedTuplesDecodeInSequence) {
  std::mt19937_64 rng(1);
  for (int round = 0; round < 2000; ++round) {
    std::vector<std::string> parts(1 + rng() % 4);
    std::string enc;
    for (std::string& p : parts) {
      p = RandomBytes(rng, 12);
      AppendOrdered(&enc, p);
    }
    enc += "tail";
    std::string_view in = enc;
    for (const std::string& p : parts) {
      std::string out;
      ASSERT_TRUE(DecodeOrdered(&in, &out));
      ASSERT_EQ(out, p);
    }
    EXPECT_EQ(in, "tail");
  }
}

TEST(KeysTest, DecodeOrderedRejectsMalformedInput) {
  const std::vector<std::string> bad = {
      "",                           // no terminator
      "abc",                        // no terminator
      std::string("abc\0", 4),      // NUL at the end
      std::string("a\0\x02", 3),    // NUL followed by neither 0xFF nor 0x01
      std::string("a\0\0\x01", 4),  // NUL NUL
      std::string("a\0\xff", 3),    // escaped NUL but no terminator
  };
  for (const std::string& b : bad) {
    std::string_view in = b;
    std::string out;
    EXPECT_FALSE(DecodeOrdered(&in, &out)) << ::testing::PrintToString(b);
  }
}

TEST(KeysTest, ByteOrderEqualsStringOrderExhaustive) {
  const std::vector<std::string> all = AllStrings(kAlphabet, 3);
  ASSERT_EQ(all.size(), 1u + 4 + 16 + 64);
  std::vector<std::string> enc;
  for (const std::string& s : all) enc.push_back(Ordered(s));
  for (size_t i = 0; i < all.size(); ++i) {
    for (size_t j = 0; j < all.size(); ++j) {
      // std::string compares bytes as unsigned char, as RocksDB's bytewise comparator does.
      ASSERT_EQ(Sign(enc[i].compare(enc[j])), Sign(all[i].compare(all[j])))
          << ::testing::PrintToString(all[i]) << " vs " << ::testing::PrintToString(all[j]);
    }
  }
}

TEST(KeysTest, TupleOrderEqualsLexicographicOrderExhaustive) {
  // (a, b) pairs encoded as ostr(a) ostr(b) sort as the pairs do: what TaskEntity relies on.
  const std::vector<std::string> all = AllStrings(kAlphabet, 2);
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& a : all) {
    for (const auto& b : all) pairs.emplace_back(a, b);
  }
  std::vector<std::string> enc;
  for (const auto& [a, b] : pairs) enc.push_back(Ordered(a) + Ordered(b));
  std::vector<size_t> by_pair(pairs.size()), by_key(pairs.size());
  for (size_t i = 0; i < pairs.size(); ++i) by_pair[i] = by_key[i] = i;
  std::sort(by_pair.begin(), by_pair.end(),
            [&](size_t x, size_t y) { return pairs[x] < pairs[y]; });
  std::sort(by_key.begin(), by_key.end(), [&](size_t x, size_t y) { return enc[x] < enc[y]; });
  EXPECT_EQ(by_pair, by_key);
}

TEST(KeysTest, EncodingsArePrefixFreeExhaustive) {
  const std::vector<std::string> all = AllStrings(kAlphabet, 3);
  std::vector<std::string> enc;
  for (const std::string& s : all) enc.push_back(Ordered(s));
  for (size_t i = 0; i < all.size(); ++i) {
    for (size_t j = 0; j < all.size(); ++j) {
      if (i == j) continue;
      ASSERT_FALSE(enc[j].starts_with(enc[i]))
          << ::testing::PrintToString(all[i]) << " is a prefix of "
          << ::testing::PrintToString(all[j]);
    }
  }
}

TEST(KeysTest, OrderAndPrefixFreenessRandom) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 20000; ++round) {
    const std::string a = RandomBytes(rng, 10);
    std::string b = rng() % 4 == 0 ? a + RandomBytes(rng, 3) : RandomBytes(rng, 10);
    const std::string ea = Ordered(a), eb = Ordered(b);
    ASSERT_EQ(Sign(ea.compare(eb)), Sign(a.compare(b)));
    if (a != b) {
      ASSERT_FALSE(eb.starts_with(ea));
      ASSERT_FALSE(ea.starts_with(eb));
    }
  }
}

TEST(KeysTest, BigEndian64RoundTripAndOrder) {
  std::mt19937_64 rng(3);
  std::vector<uint64_t> vals = {0,         1, 0xff, 0x100, 0x0102030405060708ULL, UINT64_MAX - 1,
                                UINT64_MAX};
  for (int i = 0; i < 1000; ++i) vals.push_back(rng() >> (rng() % 64));
  for (uint64_t v : vals) {
    std::string s;
    AppendBE64(&s, v);
    ASSERT_EQ(s.size(), 8u);
    EXPECT_EQ(DecodeBE64(s), v);
    std::string_view in = s;
    uint64_t out = 0;
    ASSERT_TRUE(DecodeBE64(&in, &out));
    EXPECT_EQ(out, v);
    EXPECT_TRUE(in.empty());
  }
  std::string s;
  AppendBE64(&s, 0x0102030405060708ULL);
  EXPECT_EQ(s, std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  for (size_t i = 0; i + 1 < vals.size(); ++i) {
    std::string a, b;
    AppendBE64(&a, vals[i]);
    AppendBE64(&b, vals[i + 1]);
    EXPECT_EQ(Sign(a.compare(b)), vals[i] < vals[i + 1] ? -1 : vals[i] > vals[i + 1] ? 1 : 0);
  }
  std::string_view short_in = "1234567";
  uint64_t v = 99;
  EXPECT_FALSE(DecodeBE64(&short_in, &v));
  EXPECT_EQ(short_in.size(), 7u) << "a failed decode consumes nothing";
}

TEST(KeysTest, VersionKeysSortNewestFirst) {
  const std::string e = Ordered(std::string("ent\0\xff", 5));
  const std::vector<Lsn> lsns = {0, 1, 2, 255, 256, 1u << 20, UINT64_MAX - 1, UINT64_MAX};
  for (size_t i = 0; i < lsns.size(); ++i) {
    const std::string k = VersionKey(e, lsns[i]);
    EXPECT_EQ(k.size(), e.size() + 8);
    EXPECT_EQ(VersionOf(k), lsns[i]);
    EXPECT_EQ(EntityOf(k), e);
    for (size_t j = i + 1; j < lsns.size(); ++j) {
      EXPECT_GT(k, VersionKey(e, lsns[j])) << lsns[i] << " must sort after newer " << lsns[j];
    }
  }
  // Seek(entity ‖ ~N) lands on the newest version <= N.
  std::vector<std::string> keys;
  for (Lsn l : {3, 10, 17}) keys.push_back(VersionKey(e, l));
  std::sort(keys.begin(), keys.end());
  auto seek = [&](Lsn n) -> Lsn {
    auto it = std::lower_bound(keys.begin(), keys.end(), VersionKey(e, n));
    return it == keys.end() ? 0 : VersionOf(*it);
  };
  EXPECT_EQ(seek(2), 0u);
  EXPECT_EQ(seek(3), 3u);
  EXPECT_EQ(seek(9), 3u);
  EXPECT_EQ(seek(10), 10u);
  EXPECT_EQ(seek(16), 10u);
  EXPECT_EQ(seek(1000), 17u);
  EXPECT_EQ(VersionOf("short"), 0u);
  EXPECT_EQ(EntityOf("short"), "");
}

TEST(KeysTest, VersionsOfDistinctEntitiesNeverInterleave) {
  // Prefix-free entities: every version of a smaller entity sorts before every version of a
  // larger one, whatever the LSNs.
  const std::vector<std::string> all = AllStrings(kAlphabet, 2);
  for (const auto& a : all) {
    for (const auto& b : all) {
      if (!(a < b)) continue;
      const std::string ea = Ordered(a), eb = Ordered(b);
      for (Lsn la : {Lsn{0}, Lsn{1}, UINT64_MAX}) {
        for (Lsn lb : {Lsn{0}, Lsn{1}, UINT64_MAX}) {
          ASSERT_LT(VersionKey(ea, la), VersionKey(eb, lb));
        }
      }
    }
  }
}

TEST(KeysTest, PrefixEnd) {
  EXPECT_EQ(PrefixEnd("abc"), "abd");
  EXPECT_EQ(PrefixEnd(std::string("ab\xff", 3)), "ac");
  EXPECT_EQ(PrefixEnd(std::string("a\xff\xff", 3)), "b");
  EXPECT_EQ(PrefixEnd(std::string("\xff\xff", 2)), "");
  EXPECT_EQ(PrefixEnd(""), "");
  EXPECT_EQ(PrefixEnd(std::string("\0", 1)), std::string("\x01", 1));
  EXPECT_EQ(PrefixEnd(std::string("a\xfe", 2)), std::string("a\xff", 2));
  // Against every string over the alphabet: keys with the prefix are below the end, other keys
  // above the prefix are at or above it.
  const std::vector<std::string> all = AllStrings(kAlphabet, 3);
  for (const std::string& p : all) {
    const std::string end = PrefixEnd(p);
    for (const std::string& s : all) {
      if (s.starts_with(p)) {
        if (!end.empty()) {
          ASSERT_LT(s, end) << ::testing::PrintToString(p);
        }
      } else if (s > p) {
        ASSERT_FALSE(end.empty()) << ::testing::PrintToString(p);
        ASSERT_GE(s, end) << ::testing::PrintToString(p) << " " << ::testing::PrintToString(s);
      }
    }
  }
}

}  // namespace
}  // namespace tink::projections
