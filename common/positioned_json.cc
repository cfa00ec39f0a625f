#include "common/positioned_json.h"

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <vector>

namespace fwcanary {
namespace {

using nlohmann::json;

// A char iterator that publishes how far the parser has read, so SAX callbacks know "where".
struct TrackingIterator {
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;

  const char* p = nullptr;
  const char** furthest = nullptr;

  reference operator*() const { return *p; }
  TrackingIterator& operator++() {
    ++p;
    if (p > *furthest) *furthest = p;
    return *this;
  }
  TrackingIterator operator++(int) {
    TrackingIterator t = *this;
    ++*this;
    return t;
  }
  bool operator==(const TrackingIterator& o) const { return p == o.p; }
  bool operator!=(const TrackingIterator& o) const { return p != o.p; }
};


SourcePos PosAt(const std::string& text, std::size_t offset) {
  SourcePos pos{1, 1};
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++pos.line;
      pos.col = 1;
    } else {
      ++pos.col;
    }
  }
  return pos;
}

// Builds the DOM and the pointer -> offset map in one pass.
class Builder : public nlohmann::json_sax<json> {
 public:
  Builder(const std::string& text, const char** furthest) : text_(text), furthest_(furthest) {}

  bool null() override { return Add(json(nullptr)); }
  bool boolean(bool v) override { return Add(json(v)); }
  bool number_integer(number_integer_t v) override { return Add(json(v)); }
  bool number_unsigned(number_unsigned_t v) override { return Add(json(v)); }
  bool number_float(number_float_t v, const string_t&) override { return Add(json(v)); }
  bool string(string_t& v) override { return Add(json(v)); }
  bool binary(binary_t& v) override { return Add(json::binary(v)); }
  bool start_object(std::size_t) override { return Open(json::object()); }
  bool end_object() override { return Close(); }
  bool start_array(std::size_t) override { return Open(json::array()); }
  bool end_array() override { return Close(); }
  bool key(string_t& k) override {
    pending_key_ = k;
    // The lexer has just consumed the key's closing quote: step back to its opening quote.
    std::size_t end = Offset();
    std::size_t start = end >= k.size() + 2 ? end - k.size() - 2 : 0;
    offsets_[ChildPointer()] = start;
    return true;
  }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    error_offset_ = position > 0 ? position - 1 : 0;
    error_ = ex.what();
    // "[json.exception.parse_error.101] parse error at line 1, column 5: syntax error ..."
    auto colon = error_.find(": ");
    if (colon != std::string::npos) error_ = error_.substr(colon + 2);
    return false;
  }

  json root;
  std::map<std::string, std::size_t> offsets_;
  std::string error_;
  std::size_t error_offset_ = 0;

 private:
  std::size_t Offset() const { return static_cast<std::size_t>(*furthest_ - text_.data()); }

  std::string ChildPointer() const {
    if (stack_.empty()) return "";
    const json& parent = *stack_.back();
    if (parent.is_array()) return paths_.back() + "/" + std::to_string(parent.size());
    return paths_.back() + "/" + EscapePointerToken(pending_key_);
  }

  json* Insert(json v) {
    if (stack_.empty()) {
      root = std::move(v);
      return &root;
    }
    json& parent = *stack_.back();
    if (parent.is_array()) {
      offsets_.emplace(ChildPointer(), Offset() > 0 ? Offset() - 1 : 0);
      parent.push_back(std::move(v));
      return &parent.back();
    }
    json& slot = parent[pending_key_];
    slot = std::move(v);
    return &slot;
  }

  bool Add(json v) {
    Insert(std::move(v));
    return true;
  }
  bool Open(json v) {
    // Bounded: every nested value keeps its pointer string, so depth is memory (and a spec
    // or scenario is a few levels deep).
    if (stack_.size() >= kMaxJsonDepth) {
      error_offset_ = Offset() > 0 ? Offset() - 1 : 0;
      error_ = "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels";
      return false;
    }
    std::string path = ChildPointer();
    json* p = Insert(std::move(v));
    stack_.push_back(p);
    paths_.push_back(path);
    return true;
  }
  bool Close() {
    stack_.pop_back();
    paths_.pop_back();
    return true;
  }

  const std::string& text_;
  const char** furthest_;
  std::vector<json*> stack_;
  std::vector<std::string> paths_;
  std::string pending_key_;
};

}  // namespace

Result<PositionedJson> PositionedJson::Parse(const std::string& text, const std::string& source) {
  const char* furthest = text.data();
  TrackingIterator first{text.data(), &furthest};
  TrackingIterator last{text.data() + text.size(), &furthest};
  Builder builder(text, &furthest);
  bool ok = false;
  try {
    ok = json::sax_parse(first, last, &builder);
  } catch (const std::exception& e) {  // nlohmann throws on some malformed UTF-8 paths
    return Status::InvalidArgument(source + ": " + e.what());
  }
  if (!ok) {
    SourcePos p = PosAt(text, builder.error_offset_);
    return Status::InvalidArgument(source + ":" + std::to_string(p.line) + ":" +
                                   std::to_string(p.col) + ": " + builder.error_);
  }
  std::map<std::string, SourcePos> pos;
  pos[""] = SourcePos{1, 1};
  // Line and column of every offset in one pass over the text (not one scan per value).
  std::vector<std::pair<std::size_t, const std::string*>> by_offset;
  by_offset.reserve(builder.offsets_.size());
  for (const auto& [ptr, off] : builder.offsets_) by_offset.push_back({off, &ptr});
  std::sort(by_offset.begin(), by_offset.end());
  SourcePos at{1, 1};
  std::size_t i = 0;
  for (const auto& [off, ptr] : by_offset) {
    for (; i < off && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++at.line;
        at.col = 1;
      } else {
        ++at.col;
      }
    }
    pos[*ptr] = at;
  }
  return PositionedJson(std::move(builder.root), source, std::move(pos));
}

SourcePos PositionedJson::PositionOf(const std::string& pointer) const {
  std::string p = pointer;
  while (true) {
    auto it = pos_.find(p);
    if (it != pos_.end()) return it->second;
    if (p.empty()) return {};
    p = p.substr(0, p.rfind('/'));
  }
}

std::string PositionedJson::Where(const std::string& pointer) const {
  SourcePos p = PositionOf(pointer);
  if (p.line == 0) return source_;
  return source_ + ":" + std::to_string(p.line) + ":" + std::to_string(p.col);
}

std::string DisplayPath(const std::string& pointer) {
  std::string out;
  std::size_t i = 0;
  while (i < pointer.size()) {
    std::size_t next = pointer.find('/', i + 1);
    std::string tok = pointer.substr(i + 1, next == std::string::npos ? std::string::npos
                                                                       : next - i - 1);
    bool index = !tok.empty() && tok.find_first_not_of("0123456789") == std::string::npos;
    if (index) {
      out += "[" + tok + "]";
    } else {
      if (!out.empty()) out += ".";
      // Unescape ~1 and ~0.
      std::string t;
      for (std::size_t k = 0; k < tok.size(); ++k) {
        if (tok[k] == '~' && k + 1 < tok.size()) {
          t += tok[k + 1] == '1' ? '/' : '~';
          ++k;
        } else {
          t += tok[k];
        }
      }
      out += t;
    }
    if (next == std::string::npos) break;
    i = next;
  }
  return out;
}

std::string EscapePointerToken(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

}  // namespace fwcanary
