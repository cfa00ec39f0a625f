#include "harness/scenario/command_template.h"

namespace fwcanary::scenario {

std::string ShellQuote(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

namespace {

// Walks the template; calls on_text for literal text and on_name for each placeholder.
template <typename Text, typename Name>
Status Walk(const std::string& t, Text on_text, Name on_name) {
  for (std::size_t i = 0; i < t.size();) {
    if (t.compare(i, 2, "{{") == 0 || t.compare(i, 2, "}}") == 0) {
      on_text(std::string(1, t[i]));
      i += 2;
    } else if (t[i] == '{') {
      std::size_t close = t.find('}', i);
      if (close == std::string::npos) {
        return Status::InvalidArgument("unclosed '{' at offset " + std::to_string(i));
      }
      std::string name = t.substr(i + 1, close - i - 1);
      if (name.empty() || name.find_first_of("{ \t\n") != std::string::npos) {
        return Status::InvalidArgument("bad placeholder '{" + name + "}' at offset " +
                                       std::to_string(i));
      }
      if (Status s = on_name(name); !s.ok()) return s;
      i = close + 1;
    } else if (t[i] == '}') {
      return Status::InvalidArgument("stray '}' at offset " + std::to_string(i) +
                                     " (write '}}' for a literal brace)");
    } else {
      on_text(std::string(1, t[i]));
      ++i;
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<std::string>> Placeholders(const std::string& tmpl) {
  std::vector<std::string> names;
  Status s = Walk(
      tmpl, [](const std::string&) {},
      [&](const std::string& n) {
        names.push_back(n);
        return Status::Ok();
      });
  if (!s.ok()) return s;
  return names;
}

namespace {
Result<std::string> ExpandWith(const std::string& tmpl, const std::map<std::string, std::string>& values,
                               bool quote) {
  std::string out;
  Status s = Walk(
      tmpl, [&](const std::string& text) { out += text; },
      [&](const std::string& n) {
        auto it = values.find(n);
        if (it == values.end()) return Status::NotFound("no value for {" + n + "}");
        out += quote ? ShellQuote(it->second) : it->second;
        return Status::Ok();
      });
  if (!s.ok()) return s;
  return out;
}
}  // namespace

Result<std::string> Expand(const std::string& tmpl,
                           const std::map<std::string, std::string>& values) {
  return ExpandWith(tmpl, values, true);
}

Result<std::string> ExpandRaw(const std::string& tmpl,
                              const std::map<std::string, std::string>& values) {
  return ExpandWith(tmpl, values, false);
}

}  // namespace fwcanary::scenario
