#include "common/json_number.h"

#include <cmath>

namespace fwcanary {

using nlohmann::json;

namespace {

[[noreturn]] void Refuse(const json& v, const std::string& wanted) {
  std::string shown = v.dump(-1, ' ', true, json::error_handler_t::replace);
  if (shown.size() > 40) shown = shown.substr(0, 40) + "...";
  throw json::type_error::create(302, wanted + ", got " + shown, &v);
}

}  // namespace

uint64_t JsonCount(const json& v) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer()) {
    if (v.get<int64_t>() >= 0) return static_cast<uint64_t>(v.get<int64_t>());
  } else if (v.is_number_float()) {
    double d = v.get<double>();
    // 2^64 itself is not representable, so the bound is strict.
    if (std::isfinite(d) && d >= 0 && d < 18446744073709551616.0 && std::floor(d) == d) {
      return static_cast<uint64_t>(d);
    }
  }
  Refuse(v, "expected a whole number >= 0");
}

uint64_t JsonCountAt(const json& j, const std::string& key) { return JsonCount(j.at(key)); }

uint64_t JsonCountOr(const json& j, const std::string& key, uint64_t fallback) {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  return it == j.end() ? fallback : JsonCount(*it);
}

int JsonIntIn(const json& v, int lo, int hi) {
  if (v.is_number_integer()) {
    int64_t i = v.get<int64_t>();
    if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) i = INT64_MAX;
    if (i >= lo && i <= hi) return static_cast<int>(i);
  } else if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::isfinite(d) && std::floor(d) == d && d >= lo && d <= hi) return static_cast<int>(d);
  }
  Refuse(v, "expected a whole number in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
}

}  // namespace fwcanary
