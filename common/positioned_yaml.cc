#include "common/positioned_yaml.h"

#include <cerrno>
#include <cmath>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <unordered_set>

#include <yaml-cpp/yaml.h>

#include "common/file_text.h"
#include "common/untrusted_text.h"

namespace fwcanary {
namespace {

using nlohmann::json;

json PlainScalar(const std::string& s) {
  static const std::regex kInt(R"([-+]?(0|[1-9][0-9]*))");
  static const std::regex kFloat(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  if (std::regex_match(s, kInt)) {
    errno = 0;
    long long v = std::strtoll(s.c_str(), nullptr, 10);
    if (errno == 0) return v;
  }
  if (std::regex_match(s, kFloat)) return std::strtod(s.c_str(), nullptr);
  if (s == ".inf" || s == "+.inf") return HUGE_VAL;
  return s;
}

class Converter {
 public:
  explicit Converter(const std::string& source) : source_(source) {}

  Status Convert(const YAML::Node& n, const std::string& pointer, json& out, std::size_t depth = 0) {
    if (depth > kMaxJsonDepth) return Error(n, "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    // A value met again is an alias's repetition (a node's source offset names it): a few are
    // normal (`<<: *defaults`), exponentially many are a billion-laughs file.
    if (!seen_.insert(n.Mark().pos).second && ++repeated_ > kMaxAliasValues) {
      return Error(n, "expands aliases into more than " + std::to_string(kMaxAliasValues) +
                          " repeated values (aliases that repeat each other?)");
    }
    pos_[pointer] = SourcePos{n.Mark().line + 1, n.Mark().column + 1};
    switch (n.Type()) {
      case YAML::NodeType::Null:
      case YAML::NodeType::Undefined:
        out = nullptr;
        return Status::Ok();
      case YAML::NodeType::Scalar:
        out = n.Tag() == "!" ? json(n.Scalar()) : PlainScalar(n.Scalar());
        return Status::Ok();
      case YAML::NodeType::Sequence: {
        out = json::array();
        std::size_t i = 0;
        for (const auto& el : n) {
          json v;
          if (Status s = Convert(el, pointer + "/" + std::to_string(i++), v, depth + 1); !s.ok()) return s;
          out.push_back(std::move(v));
        }
        return Status::Ok();
      }
      case YAML::NodeType::Map: {
        out = json::object();
        for (const auto& kv : n) {
          if (!kv.first.IsScalar()) return Error(kv.first, "keys must be plain strings");
          const std::string key = kv.first.Scalar();
          if (out.contains(key)) return Error(kv.first, "duplicate key '" + key + "'");
          std::string child = pointer + "/" + EscapePointerToken(key);
          json v;
          if (Status s = Convert(kv.second, child, v, depth + 1); !s.ok()) return s;
          // The key's position names the field better than its value's (which may be a block
          // starting on the next line).
          pos_[child] = SourcePos{kv.first.Mark().line + 1, kv.first.Mark().column + 1};
          out[key] = std::move(v);
        }
        return Status::Ok();
      }
    }
    return Status::Ok();
  }

  std::map<std::string, SourcePos> TakePositions() { return std::move(pos_); }

 private:
  Status Error(const YAML::Node& n, const std::string& what) const {
    return Status::InvalidArgument(source_ + ":" + std::to_string(n.Mark().line + 1) + ":" +
                                   std::to_string(n.Mark().column + 1) + ": " + what);
  }

  const std::string& source_;
  std::map<std::string, SourcePos> pos_;
  std::unordered_set<int> seen_;
  std::size_t repeated_ = 0;
};

}  // namespace

Result<PositionedJson> ParseYaml(const std::string& text, const std::string& source) {
  if (Status s = CheckUtf8(text, source); !s.ok()) return s;
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(source + ":" + std::to_string(e.mark.line + 1) + ":" +
                                   std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  Converter conv(source);
  json doc;
  if (Status s = conv.Convert(root, "", doc); !s.ok()) return s;
  return PositionedJson(std::move(doc), source, conv.TakePositions());
}

Result<PositionedJson> LoadYamlFile(const std::string& path) {
  Result<std::string> text = ReadTextFile(path);
  if (!text.ok()) return text.status();
  return ParseYaml(text.value(), path);
}

}  // namespace fwcanary
