#pragma once
// The agent record contract: what fwcanary-agent writes and the judge and reports read.
//
// One JSON object per line on the agent's stdout: "interval" records (one per interval and
// per phase; an interval never spans two phases) and one final "summary" record. Field names are
// fixed; readers ignore fields they do not know, so adding fields is compatible. A change of
// meaning bumps kRecordVersion. The full schema is documented in agents/README.md.
//
// Thread safety: plain values.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "agents/records/latency_histogram.h"
#include "common/status.h"

namespace fwcanary {

inline constexpr int kRecordVersion = 1;

// One operation class (deliver, retrieve, scan) or one step of it, over some time window.
struct OpStats {
  uint64_t count = 0;    // operations completed (errors included)
  uint64_t errors = 0;   // completed with an error (EIO, ENOSPC, a verify failure, ...)
  uint64_t refused = 0;  // deliveries refused before acceptance (queue_minfree: Postfix's 452)
  uint64_t empty = 0;    // retrieves that found the chosen mailbox empty (not in the histogram)
  uint64_t bytes = 0;    // payload bytes written or read
  LatencyHistogram hist;  // latency of completed operations, from the intended start

  void Merge(const OpStats& o);
  nlohmann::json ToJson() const;
  static Result<OpStats> FromJson(const nlohmann::json& j);
};

// What the storage holds, sampled at the end of an interval.
struct SpaceSample {
  uint64_t fs_used_bytes = 0;    // statvfs of the work dir's filesystem: (blocks - bfree) * frsize
  uint64_t fs_free_bytes = 0;    // statvfs: bavail * frsize
  uint64_t allocated_bytes = 0;  // sum of st_blocks * 512 of the stored messages
  uint64_t stored_bytes = 0;     // sum of the stored messages' sizes
  uint64_t stored_messages = 0;  // messages in mailboxes (new/)
};

struct IntervalRecord {
  int v = kRecordVersion;
  std::string node;
  std::string engine;
  std::string phase;
  double t = 0;   // seconds since the run started, at the end of the interval
  double dt = 0;  // interval length in seconds (the last one of a phase may be shorter)
  double intended_rate = 0;  // ops/s the phase asked for
  double offered_rate = 0;   // ops/s that arrived in this interval (Poisson noise around intended)
  double achieved_rate = 0;  // ops/s completed in this interval
  uint64_t queue_depth = 0;  // deliveries arrived but not yet readable in a mailbox
  uint64_t deferred = 0;     // accepted messages waiting in queue/deferred for a retry
  uint64_t integrity_failures = 0;
  double ramp_step = 0;      // a ramp phase's step: its multiplier of the spec's rate; 0 = not a ramp
  // Microseconds the agent's threads spent runnable but waiting for a CPU in this interval
  // (agents/cpu_run_delay.h): what a busy client host adds to operations; < 0 = not measured.
  double cpu_run_delay_us = -1;
  SpaceSample space;
  std::map<std::string, OpStats> ops;    // by class: deliver, retrieve, scan
  std::map<std::string, OpStats> steps;  // by step: queue_write, maildir_fsync, ...

  nlohmann::json ToJson() const;
  static Result<IntervalRecord> FromJson(const nlohmann::json& j);
};

struct PhaseSummary {
  std::string name;
  double duration_s = 0;
  double intended_rate = 0;
  double offered_rate = 0;
  double achieved_rate = 0;
  uint64_t max_queue_depth = 0;
  bool drain = false;                   // a phase that ends when the backlog is gone
  std::optional<double> drain_time_s;   // drain: seconds until the backlog was empty; unset if not
  std::map<std::string, OpStats> ops;

  nlohmann::json ToJson() const;
  static Result<PhaseSummary> FromJson(const nlohmann::json& j);
};

struct SummaryRecord {
  int v = kRecordVersion;
  std::string node;
  std::string engine;
  std::string status = "ok";  // "ok", or "error" with `error` saying why the run stopped early
  std::string error;
  double duration_s = 0;
  double intended_rate = 0;  // mean over the run, weighted by phase duration
  double achieved_rate = 0;
  uint64_t max_queue_depth = 0;
  uint64_t integrity_failures = 0;
  SpaceSample space_start;
  SpaceSample space;  // at the end
  std::map<std::string, OpStats> ops;
  std::map<std::string, OpStats> steps;
  std::vector<PhaseSummary> phases;
  uint64_t messages_written = 0;   // accepted (queue file fsynced) during this run
  uint64_t messages_delivered = 0; // readable in a mailbox
  uint64_t messages_retrieved = 0; // read, verified and deleted by retrieve
  uint64_t messages_verified = 0;  // verified: by retrieve, and by the final sweep
  uint64_t messages_inherited = 0; // stored by an earlier run in this work dir (manifest)
  std::vector<std::string> lost;    // ids of accepted messages that vanished
  std::vector<std::string> corrupt; // ids whose content failed its checksum

  nlohmann::json ToJson() const;
  static Result<SummaryRecord> FromJson(const nlohmann::json& j);
};

// First line of a run: who ran what, with the effective spec after command-line overrides.
struct StartRecord {
  int v = kRecordVersion;
  std::string node;
  std::string engine;
  std::string agent_version;
  nlohmann::json spec = nlohmann::json::object();

  nlohmann::json ToJson() const;
};

using Record = std::variant<StartRecord, IntervalRecord, SummaryRecord>;

// Parses one line of agent output. A record of an unknown type is NotFound (readers skip it:
// newer agents may add types); anything else malformed is InvalidArgument.
Result<Record> ParseRecordLine(const std::string& line);

}  // namespace fwcanary
