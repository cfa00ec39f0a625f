#include "agents/records/records.h"

#include <cmath>

#include <nlohmann/json.hpp>

#include "common/json_number.h"

namespace fwcanary {

using nlohmann::json;

namespace {

// Record versions are small; anything larger is a corrupt line, not a future agent.
constexpr int kMaxRecordVersion = 1000000;

json OpsToJson(const std::map<std::string, OpStats>& ops) {
  json j = json::object();
  for (const auto& [name, s] : ops) j[name] = s.ToJson();
  return j;
}

Status OpsFromJson(const json& j, std::map<std::string, OpStats>& out) {
  if (!j.is_object()) return Status::InvalidArgument("ops must be an object");
  for (const auto& [name, v] : j.items()) {
    auto s = OpStats::FromJson(v);
    if (!s.ok()) return Status::InvalidArgument(name + ": " + s.status().message());
    out[name] = std::move(s.value());
  }
  return Status::Ok();
}

void SpaceToJson(const SpaceSample& s, json& j, const std::string& suffix) {
  j["space_used_bytes" + suffix] = s.fs_used_bytes;
  j["free_bytes" + suffix] = s.fs_free_bytes;
  j["allocated_bytes" + suffix] = s.allocated_bytes;
  j["stored_bytes" + suffix] = s.stored_bytes;
  j["stored_messages" + suffix] = s.stored_messages;
}

SpaceSample SpaceFromJson(const json& j, const std::string& suffix) {
  SpaceSample s;
  s.fs_used_bytes = JsonCountOr(j, "space_used_bytes" + suffix, 0);
  s.fs_free_bytes = JsonCountOr(j, "free_bytes" + suffix, 0);
  s.allocated_bytes = JsonCountOr(j, "allocated_bytes" + suffix, 0);
  s.stored_bytes = JsonCountOr(j, "stored_bytes" + suffix, 0);
  s.stored_messages = JsonCountOr(j, "stored_messages" + suffix, 0);
  return s;
}

}  // namespace

void OpStats::Merge(const OpStats& o) {
  count += o.count;
  errors += o.errors;
  refused += o.refused;
  empty += o.empty;
  bytes += o.bytes;
  hist.Merge(o.hist);
}

json OpStats::ToJson() const {
  json j;
  j["count"] = count;
  j["errors"] = errors;
  j["refused"] = refused;
  j["empty"] = empty;
  j["bytes"] = bytes;
  j["p50_us"] = hist.Quantile(0.50);
  j["p99_us"] = hist.Quantile(0.99);
  j["p999_us"] = hist.Quantile(0.999);
  j["max_us"] = hist.max_micros();
  j["mean_us"] = hist.mean_micros();
  j["hist"] = hist.ToJson();
  return j;
}

Result<OpStats> OpStats::FromJson(const json& j) {
  try {
    OpStats s;
    s.count = JsonCountAt(j, "count");
    s.errors = JsonCountOr(j, "errors", 0);
    s.refused = JsonCountOr(j, "refused", 0);
    s.empty = JsonCountOr(j, "empty", 0);
    s.bytes = JsonCountOr(j, "bytes", 0);
    if (j.contains("hist")) {
      auto h = LatencyHistogram::FromJson(j["hist"]);
      if (!h.ok()) return h.status();
      s.hist = std::move(h.value());
    }
    return s;
  } catch (const json::exception& e) {
    return Status::InvalidArgument(std::string("op stats: ") + e.what());
  }
}

json IntervalRecord::ToJson() const {
  json j;
  j["type"] = "interval";
  j["v"] = v;
  j["node"] = node;
  j["engine"] = engine;
  j["phase"] = phase;
  j["t"] = t;
  j["dt"] = dt;
  j["intended_rate"] = intended_rate;
  j["offered_rate"] = offered_rate;
  j["achieved_rate"] = achieved_rate;
  j["queue_depth"] = queue_depth;
  j["deferred"] = deferred;
  j["integrity_failures"] = integrity_failures;
  if (ramp_step > 0) j["ramp_step"] = ramp_step;
  if (cpu_run_delay_us >= 0) j["cpu_run_delay_us"] = cpu_run_delay_us;
  SpaceToJson(space, j, "");
  j["ops"] = OpsToJson(ops);
  j["steps"] = OpsToJson(steps);
  return j;
}

Result<IntervalRecord> IntervalRecord::FromJson(const json& j) {
  try {
    IntervalRecord r;
    r.v = JsonIntIn(j.at("v"), 0, kMaxRecordVersion);
    r.node = j.at("node").get<std::string>();
    r.engine = j.value("engine", std::string());
    r.phase = j.at("phase").get<std::string>();
    r.t = j.at("t").get<double>();
    r.dt = j.at("dt").get<double>();
    r.intended_rate = j.value("intended_rate", 0.0);
    r.offered_rate = j.value("offered_rate", 0.0);
    r.achieved_rate = j.value("achieved_rate", 0.0);
    r.queue_depth = JsonCountOr(j, "queue_depth", 0);
    r.deferred = JsonCountOr(j, "deferred", 0);
    r.integrity_failures = JsonCountOr(j, "integrity_failures", 0);
    r.ramp_step = j.value("ramp_step", 0.0);
    if (!std::isfinite(r.ramp_step) || r.ramp_step < 0 || r.ramp_step > 1000) {
      return Status::InvalidArgument("interval record: field 'ramp_step': not a multiplier in [0, 1000]");
    }
    if (j.contains("cpu_run_delay_us")) {
      r.cpu_run_delay_us = j.at("cpu_run_delay_us").get<double>();
      // At most a few thousand threads x the interval: 1e12 us is 11 days of waiting.
      if (!std::isfinite(r.cpu_run_delay_us) || r.cpu_run_delay_us < 0 || r.cpu_run_delay_us > 1e12) {
        return Status::InvalidArgument("interval record: field 'cpu_run_delay_us': not microseconds in [0, 1e12]");
      }
    }
    r.space = SpaceFromJson(j, "");
    if (Status s = OpsFromJson(j.at("ops"), r.ops); !s.ok()) return s;
    if (j.contains("steps")) {
      if (Status s = OpsFromJson(j["steps"], r.steps); !s.ok()) return s;
    }
    return r;
  } catch (const json::exception& e) {
    return Status::InvalidArgument(std::string("interval record: ") + e.what());
  }
}

json PhaseSummary::ToJson() const {
  json j;
  j["name"] = name;
  j["duration_s"] = duration_s;
  j["intended_rate"] = intended_rate;
  j["offered_rate"] = offered_rate;
  j["achieved_rate"] = achieved_rate;
  j["max_queue_depth"] = max_queue_depth;
  j["drain"] = drain;
  j["drain_time_s"] = drain_time_s ? json(*drain_time_s) : json(nullptr);
  j["ops"] = OpsToJson(ops);
  return j;
}

Result<PhaseSummary> PhaseSummary::FromJson(const json& j) {
  try {
    PhaseSummary p;
    p.name = j.at("name").get<std::string>();
    p.duration_s = j.value("duration_s", 0.0);
    p.intended_rate = j.value("intended_rate", 0.0);
    p.offered_rate = j.value("offered_rate", 0.0);
    p.achieved_rate = j.value("achieved_rate", 0.0);
    p.max_queue_depth = JsonCountOr(j, "max_queue_depth", 0);
    p.drain = j.value("drain", false);
    if (j.contains("drain_time_s") && !j["drain_time_s"].is_null()) {
      p.drain_time_s = j["drain_time_s"].get<double>();
    }
    if (Status s = OpsFromJson(j.at("ops"), p.ops); !s.ok()) return s;
    return p;
  } catch (const json::exception& e) {
    return Status::InvalidArgument(std::string("phase summary: ") + e.what());
  }
}

json SummaryRecord::ToJson() const {
  json j;
  j["type"] = "summary";
  j["v"] = v;
  j["node"] = node;
  j["engine"] = engine;
  j["status"] = status;
  if (!error.empty()) j["error"] = error;
  j["duration_s"] = duration_s;
  j["intended_rate"] = intended_rate;
  j["achieved_rate"] = achieved_rate;
  j["max_queue_depth"] = max_queue_depth;
  j["integrity_failures"] = integrity_failures;
  SpaceToJson(space, j, "");
  SpaceToJson(space_start, j, "_start");
  j["ops"] = OpsToJson(ops);
  j["steps"] = OpsToJson(steps);
  j["phases"] = json::array();
  for (const auto& p : phases) j["phases"].push_back(p.ToJson());
  j["messages_written"] = messages_written;
  j["messages_delivered"] = messages_delivered;
  j["messages_retrieved"] = messages_retrieved;
  j["messages_verified"] = messages_verified;
  j["messages_inherited"] = messages_inherited;
  j["lost"] = lost;
  j["corrupt"] = corrupt;
  return j;
}

Result<SummaryRecord> SummaryRecord::FromJson(const json& j) {
  try {
    SummaryRecord r;
    r.v = JsonIntIn(j.at("v"), 0, kMaxRecordVersion);
    r.node = j.at("node").get<std::string>();
    r.engine = j.value("engine", std::string());
    r.status = j.value("status", std::string("ok"));
    r.error = j.value("error", std::string());
    r.duration_s = j.value("duration_s", 0.0);
    r.intended_rate = j.value("intended_rate", 0.0);
    r.achieved_rate = j.value("achieved_rate", 0.0);
    r.max_queue_depth = JsonCountOr(j, "max_queue_depth", 0);
    r.integrity_failures = JsonCountOr(j, "integrity_failures", 0);
    r.space = SpaceFromJson(j, "");
    r.space_start = SpaceFromJson(j, "_start");
    if (Status s = OpsFromJson(j.at("ops"), r.ops); !s.ok()) return s;
    if (j.contains("steps")) {
      if (Status s = OpsFromJson(j["steps"], r.steps); !s.ok()) return s;
    }
    for (const auto& p : j.value("phases", json::array())) {
      auto ps = PhaseSummary::FromJson(p);
      if (!ps.ok()) return ps.status();
      r.phases.push_back(std::move(ps.value()));
    }
    r.messages_written = JsonCountOr(j, "messages_written", 0);
    r.messages_delivered = JsonCountOr(j, "messages_delivered", 0);
    r.messages_retrieved = JsonCountOr(j, "messages_retrieved", 0);
    r.messages_verified = JsonCountOr(j, "messages_verified", 0);
    r.messages_inherited = JsonCountOr(j, "messages_inherited", 0);
    r.lost = j.value("lost", std::vector<std::string>{});
    r.corrupt = j.value("corrupt", std::vector<std::string>{});
    return r;
  } catch (const json::exception& e) {
    return Status::InvalidArgument(std::string("summary record: ") + e.what());
  }
}

json StartRecord::ToJson() const {
  json j;
  j["type"] = "start";
  j["v"] = v;
  j["node"] = node;
  j["engine"] = engine;
  j["agent_version"] = agent_version;
  j["spec"] = spec;
  return j;
}

Result<Record> ParseRecordLine(const std::string& line) {
  json j;
  try {
    j = json::parse(line);
  } catch (const json::exception& e) {
    return Status::InvalidArgument(std::string("not a JSON record: ") + e.what());
  }
  if (!j.is_object() || !j.contains("type")) {
    return Status::InvalidArgument("record has no \"type\"");
  }
  const std::string type = j["type"].is_string() ? j["type"].get<std::string>() : "";
  if (type == "interval") {
    auto r = IntervalRecord::FromJson(j);
    if (!r.ok()) return r.status();
    return Record(std::move(r.value()));
  }
  if (type == "summary") {
    auto r = SummaryRecord::FromJson(j);
    if (!r.ok()) return r.status();
    return Record(std::move(r.value()));
  }
  if (type == "start") {
    StartRecord r;
    try {  // value() throws when a field has the wrong type: records are input, not trusted
      r.v = j.contains("v") ? JsonIntIn(j["v"], 0, kMaxRecordVersion) : 0;
      r.node = j.value("node", std::string());
      r.engine = j.value("engine", std::string());
      r.agent_version = j.value("agent_version", std::string());
      r.spec = j.value("spec", json::object());
    } catch (const json::exception& e) {
      return Status::InvalidArgument(std::string("malformed start record: ") + e.what());
    }
    return Record(std::move(r));
  }
  return Status::NotFound("unknown record type \"" + type + "\"");
}

}  // namespace fwcanary
