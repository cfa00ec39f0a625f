#pragma once
// Schema: fields as data (name, kind, default, help, range), like fio's option table.
//
// One table per object drives three things: parsing and validation of a PositionedJson (with
// "file:line:col: field 'phases[1].rate': must be >= 0, got -5"), the `--help-spec` text, and the
// reference docs. Unknown keys are refused with a did-you-mean hint, because a misspelt field
// silently taking its default would make a run measure something else than asked.
//
// Thread safety: tables are immutable; Parse has no shared state.

#include <cstdio>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/positioned_json.h"
#include "common/status.h"

namespace fwcanary {

enum class FieldKind { kNumber, kInteger, kBool, kString, kObject, kArray, kAny };

const char* FieldKindName(FieldKind k);

// Where a value being parsed sits: for messages and for nested parsing.
struct FieldContext {
  const PositionedJson& source;
  std::string pointer;  // JSON pointer of the value

  FieldContext Child(const std::string& key) const { return {source, pointer + "/" + key}; }
  FieldContext Element(std::size_t i) const {
    return {source, pointer + "/" + std::to_string(i)};
  }
  // An InvalidArgument naming file:line:col and the field.
  Status Error(const std::string& what) const;
};

template <typename T>
struct FieldDef {
  std::string name;
  FieldKind kind;
  std::string default_text;  // for help and docs only; the default lives in T's initializer
  std::string help;
  std::optional<double> min = std::nullopt;  // numbers: inclusive bounds
  std::optional<double> max = std::nullopt;
  // Stores the (type- and range-checked) value into `out`; may return a further error.
  std::function<Status(const nlohmann::json& v, T& out, const FieldContext& ctx)> set;
  bool required = false;
  // A string field's allowed values: checked before `set` is called, listed in help and schema.
  // (Function pointers, given as captureless lambdas: GCC 12 crashes on a std::vector default
  // member initializer in these aggregate tables.)
  std::vector<std::string> (*one_of)() = nullptr;
  // The JSON Schema of an object or array value (another table's TableSchema, usually); none:
  // the kind's type alone.
  nlohmann::json (*schema)() = nullptr;
};

// A setter that stores a (kind-checked) value into a member: the common case of FieldDef::set.
template <typename T, typename V>
std::function<Status(const nlohmann::json&, T&, const FieldContext&)> SetMember(V T::*member) {
  return [member](const nlohmann::json& v, T& out, const FieldContext&) {
    out.*member = v.get<V>();
    return Status::Ok();
  };
}

// OK when the string value is one of `allowed`, else an error listing them.
Status OneOf(const nlohmann::json& v, const FieldContext& ctx,
             std::initializer_list<const char*> allowed);
Status OneOf(const nlohmann::json& v, const FieldContext& ctx,
             const std::vector<std::string>& allowed);

// Checks the kind and bounds of one value against its definition.
Status CheckValue(FieldKind kind, std::optional<double> min, std::optional<double> max,
                  const nlohmann::json& v, const FieldContext& ctx);

// A value as JSON text for an error message; invalid UTF-8 (from untrusted input) becomes U+FFFD
// instead of an exception.
std::string DumpForMessage(const nlohmann::json& v);

// The known name closest to `unknown` (edit distance <= 2), or "".
std::string ClosestName(const std::string& unknown, const std::vector<std::string>& known);

// Parses the object at ctx.pointer into `out` by `table`.
template <typename T>
Status ParseObject(const nlohmann::json& obj, const std::vector<FieldDef<T>>& table, T& out,
                   const FieldContext& ctx) {
  if (!obj.is_object()) return ctx.Error("must be an object, got " + std::string(obj.type_name()));
  std::vector<std::string> names;
  for (const auto& f : table) names.push_back(f.name);
  for (const auto& [key, value] : obj.items()) {
    const FieldDef<T>* def = nullptr;
    for (const auto& f : table) {
      if (f.name == key) def = &f;
    }
    FieldContext child = ctx.Child(key);
    if (def == nullptr) {
      std::string hint = ClosestName(key, names);
      return child.Error("unknown field" +
                         (hint.empty() ? std::string() : " (did you mean '" + hint + "'?)"));
    }
    if (Status s = CheckValue(def->kind, def->min, def->max, value, child); !s.ok()) return s;
    if (def->one_of != nullptr) {
      if (Status s = OneOf(value, child, def->one_of()); !s.ok()) return s;
    }
    if (Status s = def->set(value, out, child); !s.ok()) return s;
  }
  for (const auto& f : table) {
    if (f.required && !obj.contains(f.name)) {
      return ctx.Error("missing required field '" + f.name + "' (" + f.help + ")");
    }
  }
  return Status::Ok();
}

// Help text for a table: one line per field, "  name  kind  default  help".
template <typename T>
std::string DescribeTable(const std::vector<FieldDef<T>>& table, const std::string& prefix) {
  std::string out;
  for (const auto& f : table) {
    std::string line = "  " + prefix + f.name;
    line.resize(std::max<std::size_t>(line.size() + 1, 30), ' ');
    std::string kind = FieldKindName(f.kind);
    kind.resize(std::max<std::size_t>(kind.size() + 1, 9), ' ');
    std::string def = f.required ? "(required)" : f.default_text;
    def.resize(std::max<std::size_t>(def.size() + 1, 14), ' ');
    std::string range;
    if (f.min || f.max) {
      auto num = [](double v) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%g", v);
        return std::string(buf);
      };
      range = " [" + (f.min ? num(*f.min) : std::string()) + ".." + (f.max ? num(*f.max) : std::string()) + "]";
    }
    out += line + kind + def + f.help + range + "\n";
  }
  return out;
}

// JSON Schema (draft 2020-12) of one field: its kind's type, bounds, allowed values, the
// default when its text is a plain value of that kind, and the help as description.
nlohmann::json FieldSchema(FieldKind kind, const std::string& default_text, const std::string& help,
                           std::optional<double> min, std::optional<double> max,
                           const std::vector<std::string>& one_of, const nlohmann::json& value_schema);

// JSON Schema of a table's object: its fields as properties, unknown ones refused (as ParseObject
// refuses them), the required ones listed. Editors complete and check files with it.
template <typename T>
nlohmann::json TableSchema(const std::vector<FieldDef<T>>& table) {
  nlohmann::json props = nlohmann::json::object(), required = nlohmann::json::array();
  for (const auto& f : table) {
    props[f.name] = FieldSchema(f.kind, f.default_text, f.help, f.min, f.max,
                                f.one_of ? f.one_of() : std::vector<std::string>{},
                                f.schema ? f.schema() : nlohmann::json::object());
    if (f.required) required.push_back(f.name);
  }
  nlohmann::json s = {{"type", "object"}, {"properties", props}, {"additionalProperties", false}};
  if (!required.empty()) s["required"] = required;
  return s;
}

// A file format's schema document: an object's schema with the draft, a title and what it is.
nlohmann::json DocumentSchema(nlohmann::json object_schema, const std::string& title,
                              const std::string& description);

// An array of objects described by `table`.
template <typename T>
nlohmann::json ArrayOfSchema(const std::vector<FieldDef<T>>& table) {
  return {{"type", "array"}, {"items", TableSchema(table)}};
}

}  // namespace fwcanary
