#include <algorithm>
#include <cstdio>
#include <string>

#include <catch2/catch.hpp>

#include "agents/mail/message.h"

using namespace fwcanary;

namespace {
std::string Flatten(const RenderedMessage& m) {
  std::string s;
  for (const iovec& v : m.iov) s.append(static_cast<const char*>(v.iov_base), v.iov_len);
  return s;
}
}  // namespace

TEST_CASE("a rendered message has the asked size and verifies", "[message]") {
  for (uint64_t size : {512ull, 4096ull, 76800ull, 5'000'000ull, 9'000'000ull}) {
    RenderedMessage m = RenderMessage("abcd0123_7", size, 3, 99);
    std::string s = Flatten(m);
    CHECK(s.size() == size);
    CHECK(m.meta.size == size);
    CHECK(VerifyMessage(s, m.meta).ok());
    auto parsed = ParseMessageHeaders(s.substr(0, 4096));
    REQUIRE(parsed.ok());
    CHECK(parsed->id == "abcd0123_7");
    CHECK(parsed->checksum == m.meta.checksum);
    CHECK(parsed->size == size);
  }
}

TEST_CASE("any single flipped byte, truncation or swap is caught", "[message]") {
  RenderedMessage m = RenderMessage("abcd0123_8", 20000, 1, 5);
  std::string good = Flatten(m);
  for (std::size_t pos : {std::size_t{400}, std::size_t{10000}, good.size() - 1}) {
    std::string bad = good;
    bad[pos] ^= 0x01;
    CHECK(VerifyMessage(bad, m.meta).code() == Status::Code::kCorruption);
  }
  CHECK(VerifyMessage(good.substr(0, good.size() - 10), m.meta).code() ==
        Status::Code::kCorruption);
  RenderedMessage other = RenderMessage("abcd0123_9", 20000, 1, 5);
  Status s = VerifyMessage(Flatten(other), m.meta);
  CHECK(s.code() == Status::Code::kCorruption);
  CHECK_THAT(s.message(), Catch::Contains("holds message abcd0123_9"));
  CHECK(VerifyMessage("garbage", m.meta).code() == Status::Code::kCorruption);
}

TEST_CASE("body hashing is independent of how the body is split", "[message]") {
  std::string body(10007, 'x');
  for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + i % 26);
  BodyHasher whole, parts;
  whole.Update(body.data(), body.size());
  parts.Update(body.data(), 3);
  parts.Update(body.data() + 3, 4000);
  parts.Update(body.data() + 4003, body.size() - 4003);
  CHECK(whole.Final() == parts.Final());
}

TEST_CASE("the rendered checksum is the streamed one, at every pattern offset and tail length",
          "[message]") {
  // Rendering takes the checksum from the pattern's prefix table; verifying streams the bytes.
  // Sizes cover every tail length (0-7 bytes past a word), tiny bodies, and bodies that wrap
  // around the 4 MiB pattern.
  for (uint64_t seed = 0; seed < 64; ++seed) {
    for (uint64_t size : {300ull, 301ull, 1000ull, 4099ull, 65543ull}) {
      RenderedMessage m =
          RenderMessage("abcd0123_" + std::to_string(seed), size + seed % 8, 2, seed);
      std::string s = Flatten(m);
      std::size_t body = s.find("\n\n") + 2;
      BodyHasher h;
      h.Update(s.data() + body, s.size() - body);
      INFO("seed " << seed << " size " << size + seed % 8);
      CHECK(h.Final() == m.meta.checksum);
      CHECK(m.meta.hash_version == 2);
    }
  }
  RenderedMessage big = RenderMessage("abcd0123_x", 9'000'005, 1, 12345);
  std::string s = Flatten(big);
  std::size_t body = s.find("\n\n") + 2;
  BodyHasher h;
  h.Update(s.data() + body, s.size() - body);
  CHECK(h.Final() == big.meta.checksum);
  CHECK(s.find(" h2\n\n") != std::string::npos);
}

TEST_CASE("a zeroed block or two swapped words are caught", "[message]") {
  RenderedMessage m = RenderMessage("abcd0123_z", 70000, 1, 77);
  std::string good = Flatten(m);
  std::string zeroed = good;
  std::fill(zeroed.begin() + 8192, zeroed.begin() + 12288, '\0');  // a torn 4 KiB page
  CHECK(VerifyMessage(zeroed, m.meta).code() == Status::Code::kCorruption);
  std::string swapped = good;
  std::size_t body = good.find("\n\n") + 2;
  std::swap_ranges(swapped.begin() + static_cast<long>(body) + 64,
                   swapped.begin() + static_cast<long>(body) + 72,
                   swapped.begin() + static_cast<long>(body) + 800);
  REQUIRE(swapped != good);
  CHECK(VerifyMessage(swapped, m.meta).code() == Status::Code::kCorruption);
}

TEST_CASE("a version-1 message (no version token) verifies with its own checksum", "[message]") {
  std::string body(5003, ' ');
  for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + i * 7 % 26);
  BodyHasher v1(1), v2(2);
  v1.Update(body.data(), body.size());
  v2.Update(body.data(), body.size());
  REQUIRE(v1.Final() != v2.Final());
  char head[200];
  std::snprintf(head, sizeof(head), "X-Fwcanary-Id: old_1\nX-Fwcanary-Body: %012zu %016llx\n\n",
                body.size(), static_cast<unsigned long long>(v1.Final()));
  std::string text = std::string(head) + body;
  auto parsed = ParseMessageHeaders(text);
  REQUIRE(parsed.ok());
  CHECK(parsed->hash_version == 1);
  CHECK(VerifyMessage(text, parsed.value()).ok());
  std::string rotten = text;
  rotten[rotten.size() - 100] ^= 0x20;
  CHECK(VerifyMessage(rotten, parsed.value()).code() == Status::Code::kCorruption);
  // The version is part of what is expected: a file claiming another version is corrupt.
  MessageMeta as_v2 = parsed.value();
  as_v2.hash_version = 2;
  CHECK(VerifyMessage(text, as_v2).code() == Status::Code::kCorruption);
  std::string unknown = text;
  unknown.insert(unknown.find("\n\n"), " h9");
  auto bad = ParseMessageHeaders(unknown);
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.status().message(), Catch::Contains("unknown checksum version 'h9'"));
}

TEST_CASE("both checksum versions are independent of how the body is split", "[message]") {
  std::string body(10007, 'x');
  for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + i % 23);
  for (int version : {1, 2}) {
    BodyHasher whole(version);
    whole.Update(body.data(), body.size());
    for (std::size_t cut : {1u, 7u, 8u, 9u, 31u, 33u, 4096u}) {
      BodyHasher parts(version);
      parts.Update(body.data(), cut);
      parts.Update(body.data() + cut, 5);
      parts.Update(body.data() + cut + 5, body.size() - cut - 5);
      INFO("version " << version << " cut " << cut);
      CHECK(whole.Final() == parts.Final());
    }
  }
}
