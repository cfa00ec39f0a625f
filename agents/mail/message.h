#pragma once
// Message: the test mail the agent writes, self-describing so loss and corruption are provable.
//
// A message is RFC 5322-like headers, a blank line and a body. Two headers carry the integrity
// data: "X-Fwcanary-Id: <id>" and "X-Fwcanary-Body: <body bytes> <checksum, 16 hex> h2". The
// body is a slice of a fixed pseudo-random text pattern, so generating it costs no RNG work per
// byte and writing it needs no copy (the iovecs point into the pattern).
//
// Checksum versions (the token after the checksum; none = 1): messages stay verifiable across
// agent versions, so a work directory written by an older agent is still checked correctly.
//   1: a rotate-xor-multiply chain over 64-bit words (one serial multiply per 8 bytes).
//   2: a polynomial over the body's little-endian 64-bit words mod 2^64 (odd base; the last
//      partial word zero-padded), then mixed with the length. Any single changed word changes
//      it. Being a polynomial, the checksum of a slice of the pattern comes from prefix sums in
//      O(1), so rendering a message hashes nothing; verifying runs four independent lanes.
//
// Thread safety: all functions are reentrant; the pattern is built once, thread-safely.

#include <sys/uio.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace fwcanary {

inline constexpr int kBodyHashVersion = 2;  // what new messages carry

// Streaming 64-bit hash (not cryptographic: it detects corruption, not tampering).
class BodyHasher {
 public:
  // REQUIRES: version 1 or 2.
  explicit BodyHasher(int version = kBodyHashVersion);
  void Update(const char* p, std::size_t n);
  uint64_t Final() const;

 private:
  void Words(const char* p, std::size_t words);

  int version_;
  uint64_t h_;
  uint64_t total_ = 0;
  char carry_[8] = {};
  std::size_t carry_n_ = 0;
};

struct MessageMeta {
  std::string id;           // "<run>_<seq>": unique across runs of this work directory
  uint64_t body_bytes = 0;
  uint64_t checksum = 0;    // BodyHasher over the body
  int hash_version = kBodyHashVersion;  // the BodyHasher version of `checksum`
  uint64_t size = 0;        // whole file: headers + body
};

// A message ready to write: header text plus iovecs into the shared body pattern.
struct RenderedMessage {
  MessageMeta meta;
  std::string header;
  std::vector<iovec> iov;  // header first, then body pieces; valid while `header` lives
};

// Builds message `id` of about `total_size` bytes for `user` (the body starts at a position
// derived from `body_seed`). The size is exact unless smaller than the header.
RenderedMessage RenderMessage(const std::string& id, uint64_t total_size, int user,
                              uint64_t body_seed);

// Checks a whole message read back against what was written. Returns Corruption naming the
// first mismatch (id, length, checksum, or unparseable headers).
Status VerifyMessage(std::string_view content, const MessageMeta& expected);

// Reads id and body data from the headers of a stored message (when adopting a work directory
// that has no manifest). `headers` may be only the file's first few KB.
Result<MessageMeta> ParseMessageHeaders(std::string_view headers);

}  // namespace fwcanary
