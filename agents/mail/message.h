#pragma once
// Message: the test mail the agent writes, self-describing so loss and corruption are provable.
//
// A message is RFC 5322-like headers, a blank line and a body. Two headers carry the integrity
// data: "X-Fwcanary-Id: <id>" and "X-Fwcanary-Body: <body bytes> <checksum, 16 hex>". The body
// is a slice of a fixed pseudo-random text pattern, so generating it costs no RNG work per
// byte and writing it needs no copy (the iovecs point into the pattern).
//
// Thread safety: all functions are reentrant; the pattern is built once, thread-safely.

#include <sys/uio.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace fwcanary {

// Streaming 64-bit hash (not cryptographic: it detects corruption, not tampering).
class BodyHasher {
 public:
  void Update(const char* p, std::size_t n);
  uint64_t Final() const;

 private:
  uint64_t h_ = 0x243F6A8885A308D3ull;
  uint64_t total_ = 0;
  char carry_[8] = {};
  std::size_t carry_n_ = 0;
};

struct MessageMeta {
  std::string id;           // "<run>_<seq>": unique across runs of this work directory
  uint64_t body_bytes = 0;
  uint64_t checksum = 0;    // BodyHasher over the body
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
