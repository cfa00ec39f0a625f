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
