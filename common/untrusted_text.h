#pragma once
// Text a node sent: untrusted bytes. Firmware CLIs print vendor banners, Latin-1 serial numbers,
// control characters and terminal escapes; a hostile or broken node prints anything, at any
// length. Before such text is stored (journal, JSON), logged (a terminal) or compared (drift),
// it passes through here:
//   SafeText      valid UTF-8 with no control characters but \n and \t: every other byte that
//                 is not part of a valid UTF-8 sequence, and every C0/DEL control byte (NUL,
//                 ESC, CR, ...), becomes the four ASCII characters "\xNN". Valid UTF-8 and
//                 plain ASCII pass unchanged, so a well-behaved node's text is untouched and
//                 the same input always gives the same text (drift compares stay exact).
//   CappedText    an append-only buffer that keeps the first `cap` bytes and counts the rest,
//                 so that whatever a node prints, what the controller holds per stream is
//                 bounded.
//
// Thread safety: values.

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"

namespace fwcanary {

std::string SafeText(std::string_view bytes);

// OK when `text` is valid UTF-8; otherwise InvalidArgument "source:line:col: not valid UTF-8
// (byte 0xFF)" at the first bad byte. For files a user writes (scenarios, inventories): their
// text reaches the plan, the journal and every report, which are UTF-8.
Status CheckUtf8(std::string_view text, const std::string& source);

class CappedText {
 public:
  explicit CappedText(std::size_t cap) : cap_(cap) {}
  void Append(std::string_view bytes);
  // What was kept, plus "\n[... N more bytes not kept]" when anything was dropped.
  std::string Text() const;
  const std::string& kept() const { return kept_; }
  std::size_t dropped() const { return dropped_; }

 private:
  std::size_t cap_;
  std::string kept_;
  std::size_t dropped_ = 0;
};

// What the controller keeps of one command's stdout or stderr, and of one streamed line: a
// firmware's `status` fits many times over; 50 MB without a newline does not get in.
constexpr std::size_t kMaxNodeOutput = 1 << 20;

}  // namespace fwcanary
