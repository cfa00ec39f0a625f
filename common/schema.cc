#include "common/schema.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace fwcanary {

const char* FieldKindName(FieldKind k) {
  switch (k) {
    case FieldKind::kNumber: return "number";
    case FieldKind::kInteger: return "integer";
    case FieldKind::kBool: return "bool";
    case FieldKind::kString: return "string";
    case FieldKind::kObject: return "object";
    case FieldKind::kArray: return "array";
    case FieldKind::kAny: return "any";
  }
  return "?";
}

Status OneOf(const nlohmann::json& v, const FieldContext& ctx,
             std::initializer_list<const char*> allowed) {
  return OneOf(v, ctx, std::vector<std::string>(allowed.begin(), allowed.end()));
}

Status OneOf(const nlohmann::json& v, const FieldContext& ctx,
             const std::vector<std::string>& allowed) {
  std::string s = v.get<std::string>();
  std::string list;
  for (const std::string& a : allowed) {
    if (s == a) return Status::Ok();
    list += (list.empty() ? "" : ", ") + a;
  }
  return ctx.Error("must be one of " + list + ", got \"" + s + "\"");
}

nlohmann::json FieldSchema(FieldKind kind, const std::string& default_text, const std::string& help,
                           std::optional<double> min, std::optional<double> max,
                           const std::vector<std::string>& one_of, const nlohmann::json& value_schema) {
  nlohmann::json s = value_schema.is_object() ? value_schema : nlohmann::json::object();
  switch (kind) {
    case FieldKind::kNumber: s["type"] = "number"; break;
    case FieldKind::kInteger: s["type"] = "integer"; break;
    case FieldKind::kBool: s["type"] = "boolean"; break;
    case FieldKind::kString: s["type"] = "string"; break;
    case FieldKind::kObject:
      if (!s.contains("type")) s["type"] = "object";
      break;
    case FieldKind::kArray:
      if (!s.contains("type")) s["type"] = "array";
      break;
    case FieldKind::kAny: break;  // the value schema says, or anything
  }
  if (min) s["minimum"] = *min;
  if (max) s["maximum"] = *max;
  if (!one_of.empty()) s["enum"] = one_of;
  // The default, when the help text's default is a plain value of the field's kind ("100",
  // "true", "poisson"); texts such as "(hostname)", "-" or "1 (drain: 0)" are for humans only.
  nlohmann::json d = nlohmann::json::parse(default_text, nullptr, false);
  const bool plain_string = kind == FieldKind::kString && !default_text.empty() &&
                            default_text != "-" && default_text.front() != '(';
  if (plain_string) {
    s["default"] = default_text;
  } else if (!d.is_discarded() && ((kind == FieldKind::kNumber && d.is_number()) ||
                                   (kind == FieldKind::kInteger && d.is_number_integer()) ||
                                   (kind == FieldKind::kBool && d.is_boolean()) ||
                                   (kind == FieldKind::kArray && d.is_array()))) {
    s["default"] = d;
  }
  s["description"] = help;
  return s;
}

nlohmann::json DocumentSchema(nlohmann::json object_schema, const std::string& title,
                              const std::string& description) {
  object_schema["$schema"] = "https://json-schema.org/draft/2020-12/schema";
  object_schema["title"] = title;
  object_schema["description"] = description;
  return object_schema;
}

Status FieldContext::Error(const std::string& what) const {
  std::string field = DisplayPath(pointer);
  return Status::InvalidArgument(source.Where(pointer) + ": " +
                                 (field.empty() ? std::string() : "field '" + field + "': ") +
                                 what);
}

// Input is untrusted: a YAML or JSON string may hold invalid UTF-8, which dump() would throw on.
std::string DumpForMessage(const nlohmann::json& v) {
  return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

namespace {

std::string Shown(const nlohmann::json& v) {
  std::string s = DumpForMessage(v);
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return s;
}

std::string FormatBound(double b) {
  std::ostringstream o;
  o << b;
  return o.str();
}

}  // namespace

Status CheckValue(FieldKind kind, std::optional<double> min, std::optional<double> max,
                  const nlohmann::json& v, const FieldContext& ctx) {
  bool kind_ok = false;
  switch (kind) {
    case FieldKind::kNumber: kind_ok = v.is_number(); break;
    case FieldKind::kInteger:
      kind_ok = v.is_number_integer() ||
                (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>());
      break;
    case FieldKind::kBool: kind_ok = v.is_boolean(); break;
    case FieldKind::kString: kind_ok = v.is_string(); break;
    case FieldKind::kObject: kind_ok = v.is_object(); break;
    case FieldKind::kArray: kind_ok = v.is_array(); break;
    case FieldKind::kAny: kind_ok = true; break;
  }
  if (!kind_ok) {
    return ctx.Error(std::string("must be ") + (kind == FieldKind::kInteger ? "an " : "a ") +
                     FieldKindName(kind) + ", got " + v.type_name() + " " + Shown(v));
  }
  if (v.is_number()) {
    double d = v.get<double>();
    if (!std::isfinite(d)) return ctx.Error("must be finite");
    if (min && d < *min) return ctx.Error("must be >= " + FormatBound(*min) + ", got " + Shown(v));
    if (max && d > *max) return ctx.Error("must be <= " + FormatBound(*max) + ", got " + Shown(v));
  }
  return Status::Ok();
}

std::string ClosestName(const std::string& unknown, const std::vector<std::string>& known) {
  std::string best;
  std::size_t best_d = 3;
  for (const auto& k : known) {
    // Levenshtein distance, small strings.
    std::vector<std::size_t> prev(k.size() + 1), cur(k.size() + 1);
    for (std::size_t j = 0; j <= k.size(); ++j) prev[j] = j;
    for (std::size_t i = 1; i <= unknown.size(); ++i) {
      cur[0] = i;
      for (std::size_t j = 1; j <= k.size(); ++j) {
        std::size_t sub = prev[j - 1] + (unknown[i - 1] == k[j - 1] ? 0 : 1);
        cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
      }
      std::swap(prev, cur);
    }
    if (prev[k.size()] < best_d) {
      best_d = prev[k.size()];
      best = k;
    }
  }
  return best;
}

}  // namespace fwcanary
