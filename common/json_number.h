#pragma once
// Numbers read from JSON that another process or an old file wrote (agent records, fio output,
// mailbox indexes, run reports). nlohmann's get<uint64_t>() on a float out of range is undefined
// behaviour (ci/fuzz's UBSan found 7.8e97 reaching it) and a negative silently wraps; these
// accept only a value the field can hold and otherwise throw nlohmann::json::type_error, which
// the readers already turn into a "bad record" Status.
//
// Thread safety: pure functions.

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace fwcanary {

// A count: an integer >= 0 that fits uint64_t (a float is accepted when it is integral, since
// some writers print 1e3 for 1000).
uint64_t JsonCount(const nlohmann::json& v);
// j[key] as a count; a missing key is an error.
uint64_t JsonCountAt(const nlohmann::json& j, const std::string& key);
// j[key] as a count, or `fallback` when j has no such key (or j is not an object).
uint64_t JsonCountOr(const nlohmann::json& j, const std::string& key, uint64_t fallback);
// An integer in [lo, hi].
int JsonIntIn(const nlohmann::json& v, int lo, int hi);

}  // namespace fwcanary
