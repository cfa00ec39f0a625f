#pragma once
// WorkloadSpec: everything one agent run does, with the defaults inline (like LevelDB's
// Options). Parsed from JSON by LoadWorkloadSpec through the field table in workload_schema.cc,
// which is also the `fwcanary-agent --help-spec` text and the reference in agents/README.md.
//
// Defaults come from how real mail systems touch storage (../shared/REFERENCE.md): a 75 KB mean
// message (Microsoft's planning figure) with a lognormal heavy tail capped at Postfix's 10 MB
// message_size_limit; users with a Zipf-like popularity; Postfix's and Dovecot's fsync pattern.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/schema.h"
#include "common/status.h"

namespace fwcanary {

struct SizeDistribution {
  std::string dist = "lognormal";  // lognormal | gamma | fixed
  double mean_bytes = 75.0 * 1024;  // lognormal/gamma mean; fixed: the size
  double sigma = 1.0;        // lognormal: standard deviation of ln(size); 1.0 gives p99 ~ 6x mean
  double shape = 1.5;        // gamma: shape k (filebench varmail uses 1.5 with a 16 KB mean)
  uint64_t min_bytes = 512;              // a bare notification with headers
  uint64_t max_bytes = 10240000;         // Postfix message_size_limit default
};

struct OperationMix {  // relative weights of the operation classes; need not sum to 1
  double deliver = 0.5;
  double retrieve = 0.4;
  double scan = 0.1;
};

struct Phase {
  std::string name;               // label carried by every record of this phase
  double duration_s = 0;          // drain phases: the longest they may last (a timeout)
  std::optional<double> rate;     // absolute ops/s; else multiplier x the spec's rate
  double multiplier = 1.0;        // surge: e.g. 3 for the post-holiday case
  bool drain = false;             // ends as soon as the delivery backlog is empty
  // Ends early, at most duration_s, once a file named kEndPhaseFile appears in the work
  // directory: how the controller ends the upgrade window when the wave is active again,
  // whatever the upgrade took (the agent still finishes its sweep and summary). Mail engine.
  bool open_ended = false;
  // A ramp (mail engine, open loop): the rate climbs through `steps` (multipliers of the spec's
  // rate, ascending), `step_s` each, and the phase ends after the first step past the knee
  // (agents/records/ramp_knee.h: under `keep_up` of the offered load served, a growing backlog,
  // refusals, or a median latency over `latency_factor` x the first step's), or at duration_s.
  std::vector<double> steps;  // empty: not a ramp
  double step_s = 20;
  double keep_up = 0.95;
  double latency_factor = 4;

  bool IsRamp() const { return !steps.empty(); }
};

inline constexpr const char* kEndPhaseFile = "end-phase";

struct FioOptions {
  std::string binary = "fio";
  uint64_t nrfiles = 2000;       // files per fio job (the mailbox fio cycles through)
  double timeout_slack_s = 30;   // fio is killed after the phases' time plus this
};

struct WorkloadSpec {
  int v = 1;
  std::string engine = "mail";   // mail | fio
  std::string node;              // default: the host name
  std::string workdir;           // required here or by --workdir
  uint64_t seed = 1;             // same seed, same arrival schedule, sizes and users
  double interval_s = 1.0;       // one interval record per this many seconds
  double rate = 100;             // base arrival rate, operations/s over all classes
  std::string arrivals = "poisson";  // poisson | uniform (exact gaps of 1/rate)
  std::vector<Phase> phases;     // default: one "steady" phase of duration_s
  double duration_s = 10;        // used when `phases` is absent
  int concurrency = 0;           // >0: closed loop with this many workers (finds max rate)
  int workers = 16;              // open loop: worker threads serving arrivals
  OperationMix mix;
  int users = 100;
  double user_skew = 1.0;        // Zipf exponent of mailbox popularity; 0 = uniform
  SizeDistribution size;
  uint64_t queue_minfree_bytes = 15360000;  // below this free space, refuse (452) like smtpd
  double fill_to = 0;  // >0: fill the filesystem to this share first (agents/workdir_fill.h)
  bool fsync = true;             // fsync queue and mailbox files (Postfix, Dovecot do)
  bool dir_fsync = true;         // fdatasync new/ after the rename (Dovecot mail_fsync=optimized)
  bool cold_read = true;         // drop a delivered message from the page cache: POP reads cold
  int scan_messages = 20;        // headers read per scan (an IMAP client opening a folder)
  uint64_t max_backlog = 200000; // arrivals beyond this backlog are refused, not queued in RAM
  bool verify_at_end = true;     // read back and verify every stored message at the end
  double final_timeout_s = 60;   // after the last phase, how long to wait for in-flight work
  FioOptions fio;

  // Total duration of non-drain phases plus drain timeouts: an upper bound of the run.
  double MaxDurationSeconds() const;
  nlohmann::json ToJson() const;
};

// Parses and validates a spec. `source` names it in errors ("spec.json", "<stdin>"); every
// error is InvalidArgument "source:line:col: field 'x.y': what is wrong".
Result<WorkloadSpec> ParseWorkloadSpec(const std::string& text, const std::string& source);

// Parses a spec held inside another document (a scenario's `workload:`), so errors name the
// enclosing file's line and column: "scenario.yaml:31:7: field 'workload.phases[1].rate'".
Status ParseWorkloadSpecAt(const nlohmann::json& obj, const FieldContext& ctx, WorkloadSpec* out);

// Checks relations between fields that a single field's range cannot express.
Status ValidateWorkloadSpec(const WorkloadSpec& spec);

// The field reference, one line per field (for --help-spec and docs).
std::string DescribeWorkloadSpec();

// The same table as a JSON Schema, for editors and for checking spec files with a validator:
// the object's schema (a scenario's `workload:` embeds it), and the document's, with $schema
// and title (agents/workload-spec.schema.json is this, written out; a test keeps them equal).
nlohmann::json WorkloadSpecSchema();
nlohmann::json WorkloadSpecDocumentSchema();

}  // namespace fwcanary
