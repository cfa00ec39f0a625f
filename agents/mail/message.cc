#include "agents/mail/message.h"

#include <endian.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <vector>

namespace fwcanary {
namespace {

constexpr std::size_t kPatternSize = 4u << 20;  // body pattern; bodies longer than it wrap

uint64_t Mix64(uint64_t x) {  // splitmix64 finalizer
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBull;
  x ^= x >> 31;
  return x;
}

const std::string& Pattern() {
  static const std::string pattern = [] {
    std::string p(kPatternSize, ' ');
    static const char kAlphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ";
    uint64_t s = 0x5EEDu;
    for (std::size_t i = 0; i < kPatternSize; ++i) {
      if (i % 78 == 77) {
        p[i] = '\n';  // mail bodies are lines
        continue;
      }
      s = Mix64(s + 0x9E3779B97F4A7C15ull);
      p[i] = kAlphabet[s % (sizeof(kAlphabet) - 1)];
    }
    return p;
  }();
  return pattern;
}

// Version 2: h = h * kBase + word over the body's little-endian 64-bit words, mod 2^64.
constexpr uint64_t kBase = 0x9E3779B97F4A7C15ull;  // odd: multiplying by it is invertible
constexpr uint64_t kBase2 = kBase * kBase;
constexpr uint64_t kBase3 = kBase2 * kBase;
constexpr uint64_t kBase4 = kBase3 * kBase;
constexpr uint64_t kSeedV1 = 0x243F6A8885A308D3ull;

uint64_t LoadWord(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return le64toh(w);
}

uint64_t LoadPartialWord(const char* p, std::size_t n) {  // zero-padded, n < 8
  uint64_t w = 0;
  std::memcpy(&w, p, n);
  return le64toh(w);
}

uint64_t PowBase(uint64_t e) {
  uint64_t r = 1, b = kBase;
  for (; e > 0; e >>= 1, b *= b) {
    if (e & 1) r *= b;
  }
  return r;
}

uint64_t FinalV2(uint64_t h, uint64_t total) { return Mix64(h ^ Mix64(total)); }

// prefix[i]: the version-2 polynomial of the pattern's first i words, so that any word-aligned
// slice's polynomial is prefix[b] - prefix[a] * kBase^(b - a).
const std::vector<uint64_t>& PatternPrefix() {
  static const std::vector<uint64_t> prefix = [] {
    const std::string& p = Pattern();
    std::vector<uint64_t> v(kPatternSize / 8 + 1, 0);
    for (std::size_t i = 0; i < kPatternSize / 8; ++i) {
      v[i + 1] = v[i] * kBase + LoadWord(&p[8 * i]);
    }
    return v;
  }();
  return prefix;
}

std::string_view HeaderValue(std::string_view headers, std::string_view name) {
  std::size_t pos = 0;
  while (pos < headers.size()) {
    std::size_t eol = headers.find('\n', pos);
    if (eol == std::string_view::npos) eol = headers.size();
    std::string_view line = headers.substr(pos, eol - pos);
    if (line.size() > name.size() + 1 && line.substr(0, name.size()) == name &&
        line[name.size()] == ':') {
      std::string_view v = line.substr(name.size() + 1);
      while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
      return v;
    }
    pos = eol + 1;
  }
  return {};
}

}  // namespace

BodyHasher::BodyHasher(int version) : version_(version), h_(version == 1 ? kSeedV1 : 0) {}

void BodyHasher::Words(const char* p, std::size_t words) {
  if (version_ == 1) {
    for (; words > 0; --words, p += 8) {
      uint64_t w;
      std::memcpy(&w, p, 8);  // host order, as version 1 always did
      h_ ^= w;
      h_ = (h_ << 31) | (h_ >> 33);
      h_ *= kBase;
    }
    return;
  }
  // Four words per step: only h * kBase^4 is serial, the other products are independent.
  uint64_t h = h_;
  for (; words >= 4; words -= 4, p += 32) {
    h = h * kBase4 + LoadWord(p) * kBase3 + LoadWord(p + 8) * kBase2 + LoadWord(p + 16) * kBase +
        LoadWord(p + 24);
  }
  for (; words > 0; --words, p += 8) h = h * kBase + LoadWord(p);
  h_ = h;
}

void BodyHasher::Update(const char* p, std::size_t n) {
  total_ += n;
  if (carry_n_ > 0) {
    std::size_t take = std::min(n, 8 - carry_n_);
    std::memcpy(carry_ + carry_n_, p, take);
    carry_n_ += take;
    p += take;
    n -= take;
    if (carry_n_ < 8) return;
    Words(carry_, 1);
    carry_n_ = 0;
  }
  Words(p, n / 8);
  p += n - n % 8;
  n %= 8;
  std::memcpy(carry_, p, n);
  carry_n_ = n;
}

uint64_t BodyHasher::Final() const {
  uint64_t h = h_;
  if (version_ == 1) {
    if (carry_n_ > 0) {
      uint64_t w = 0;
      std::memcpy(&w, carry_, carry_n_);
      h ^= w;
      h *= kBase;
    }
    return Mix64(h ^ total_);
  }
  if (carry_n_ > 0) h = h * kBase + LoadPartialWord(carry_, carry_n_);
  return FinalV2(h, total_);
}

RenderedMessage RenderMessage(const std::string& id, uint64_t total_size, int user,
                              uint64_t body_seed) {
  const std::string& pattern = Pattern();
  RenderedMessage m;
  m.meta.id = id;
  char head[512];
  // The header's length does not depend on the body length or checksum: fixed-width fields.
  auto header_for = [&](uint64_t body_len, uint64_t sum) {
    int n = std::snprintf(head, sizeof(head),
                          "Return-Path: <sender@fwcanary.invalid>\n"
                          "Delivered-To: u%05d@fwcanary.invalid\n"
                          "Message-ID: <%s@fwcanary.invalid>\n"
                          "Subject: fwcanary test message\n"
                          "X-Fwcanary-Id: %s\n"
                          "X-Fwcanary-Body: %012" PRIu64 " %016" PRIx64 " h%d\n\n",
                          user, id.c_str(), id.c_str(), body_len, sum, kBodyHashVersion);
    return std::string(head, static_cast<std::size_t>(n));
  };
  std::size_t header_len = header_for(0, 0).size();
  uint64_t body_len = total_size > header_len ? total_size - header_len : 0;
  // Word-aligned in the pattern, so the checksum comes from the prefix table (every piece
  // after a wrap starts at 0, and a piece that wraps ends at the pattern's end: whole words).
  std::size_t offset =
      static_cast<std::size_t>(Mix64(body_seed) % kPatternSize) & ~static_cast<std::size_t>(7);
  const std::vector<uint64_t>& prefix = PatternPrefix();
  uint64_t h = 0;
  std::vector<iovec> body;
  uint64_t left = body_len;
  while (left > 0) {
    std::size_t take = static_cast<std::size_t>(std::min<uint64_t>(left, kPatternSize - offset));
    body.push_back({const_cast<char*>(pattern.data() + offset), take});
    const std::size_t first = offset / 8, words = take / 8, rest = take % 8;
    const uint64_t scale = PowBase(words);
    h = h * scale + (prefix[first + words] - prefix[first] * scale);
    if (rest > 0) h = h * kBase + LoadPartialWord(pattern.data() + offset + 8 * words, rest);
    left -= take;
    offset = 0;
  }
  m.meta.body_bytes = body_len;
  m.meta.checksum = FinalV2(h, body_len);
  m.meta.hash_version = kBodyHashVersion;
  m.header = header_for(body_len, m.meta.checksum);
  m.meta.size = m.header.size() + body_len;
  m.iov.push_back({m.header.data(), m.header.size()});
  m.iov.insert(m.iov.end(), body.begin(), body.end());
  return m;
}

Result<MessageMeta> ParseMessageHeaders(std::string_view text) {
  std::size_t end = text.find("\n\n");
  if (end == std::string_view::npos) {
    return Status::Corruption("no end of headers in the first " + std::to_string(text.size()) +
                              " bytes");
  }
  std::string_view headers = text.substr(0, end + 1);
  MessageMeta m;
  m.id = std::string(HeaderValue(headers, "X-Fwcanary-Id"));
  std::string body(HeaderValue(headers, "X-Fwcanary-Body"));
  unsigned long long len = 0, sum = 0;
  char version[8] = {};
  int fields = m.id.empty() ? 0 : std::sscanf(body.c_str(), "%llu %llx %7s", &len, &sum, version);
  if (fields < 2) return Status::Corruption("missing or garbled X-Fwcanary headers");
  // No version token: written by an agent before checksum versions (version 1).
  m.hash_version = fields == 2 ? 1 : std::string_view(version) == "h2" ? 2 : 0;
  if (m.hash_version == 0) {
    return Status::Corruption("unknown checksum version '" + std::string(version) +
                              "' in X-Fwcanary-Body");
  }
  m.body_bytes = len;
  m.checksum = sum;
  m.size = end + 2 + len;
  return m;
}

Status VerifyMessage(std::string_view content, const MessageMeta& expected) {
  auto parsed = ParseMessageHeaders(content.substr(0, std::min<std::size_t>(content.size(), 4096)));
  if (!parsed.ok()) return Status::Corruption(expected.id + ": " + parsed.status().message());
  const MessageMeta& got = parsed.value();
  if (got.id != expected.id) {
    return Status::Corruption(expected.id + ": file holds message " + got.id);
  }
  if (content.size() != expected.size || got.body_bytes != expected.body_bytes) {
    return Status::Corruption(expected.id + ": " + std::to_string(content.size()) +
                              " bytes, expected " + std::to_string(expected.size));
  }
  std::size_t body_start = content.find("\n\n") + 2;
  if (got.hash_version != expected.hash_version) {
    return Status::Corruption(expected.id + ": checksum version " +
                              std::to_string(got.hash_version) + ", expected " +
                              std::to_string(expected.hash_version));
  }
  BodyHasher h(got.hash_version);
  h.Update(content.data() + body_start, content.size() - body_start);
  if (h.Final() != expected.checksum || got.checksum != expected.checksum) {
    return Status::Corruption(expected.id + ": body checksum mismatch");
  }
  return Status::Ok();
}

}  // namespace fwcanary
