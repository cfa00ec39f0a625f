#pragma once
// PositionedJson: a parsed JSON document that remembers where each value came from.
//
// nlohmann-json 3.11 keeps no source positions, yet a user who mistyped a field deserves
// "spec.json:7:5: field 'phases[1].rate' ...". Parse() runs nlohmann's SAX parser over an
// iterator that tracks the byte offset, and records the offset of every key and array element
// by its JSON pointer ("/phases/1/rate"). Other front ends (yaml-cpp for scenarios) can build
// one from their own marks with the second constructor, so validation code is shared.
//
// Thread safety: immutable after construction.

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace fwcanary {

// How deep a document may nest (objects and arrays): scenarios and agent specs need 5.
constexpr std::size_t kMaxJsonDepth = 64;
// How many values YAML aliases may repeat in one document: a billion-laughs file stops here
// with an error instead of taking the machine's memory (a document without aliases is bounded
// by its own size).
constexpr std::size_t kMaxAliasValues = 10000;

struct SourcePos {
  int line = 0;  // 1-based; 0 means unknown
  int col = 0;   // 1-based
};

class PositionedJson {
 public:
  PositionedJson() = default;
  PositionedJson(nlohmann::json doc, std::string source, std::map<std::string, SourcePos> pos)
      : doc_(std::move(doc)), source_(std::move(source)), pos_(std::move(pos)) {}

  // Parses `text`; `source` names it in messages (a path, or "<stdin>").
  // On a syntax error returns InvalidArgument "source:line:col: <what>".
  static Result<PositionedJson> Parse(const std::string& text, const std::string& source);

  const nlohmann::json& doc() const { return doc_; }
  const std::string& source() const { return source_; }

  // Position of the value at `pointer`, or of its nearest ancestor that has one.
  SourcePos PositionOf(const std::string& pointer) const;
  // "source:line:col" for `pointer` ("source" alone when no position is known).
  std::string Where(const std::string& pointer) const;

 private:
  nlohmann::json doc_;
  std::string source_;
  std::map<std::string, SourcePos> pos_;
};

// One JSON pointer token: "~" -> "~0", "/" -> "~1" (RFC 6901).
std::string EscapePointerToken(const std::string& s);

// "/phases/1/rate" -> "phases[1].rate": how a field is named in messages.
std::string DisplayPath(const std::string& pointer);

}  // namespace fwcanary
