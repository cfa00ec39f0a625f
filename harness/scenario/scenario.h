#pragma once
// Scenario: everything one rollout needs, loaded from YAML and validated before anything is
// touched. Every field is in one table (scenario_schema.cc) that drives parsing, the errors
// ("demo.yaml:31:7: field 'rollout.waves[1]': ...", unknown keys refused with a did-you-mean)
// and `fwcanary plan --help-scenario`. Defaults are the initializers below.
//
// Thread safety: plain values.

#include <map>
#include <string>
#include <vector>

#include "agents/spec/workload_spec.h"
#include "common/status.h"
#include "harness/scenario/inventory.h"

namespace fwcanary::scenario {

struct SshSettings {
  std::string user;            // default login user (a node's user or ansible_user wins)
  std::string identity_file;   // private key; empty: ssh-agent
  std::string known_hosts = "~/.ssh/known_hosts";
  std::string host_keys = "strict";  // strict | accept-new (never "off")
  double connect_timeout_s = 10;
  double command_timeout_s = 60;
  double upload_timeout_s = 120;  // the agent binary's SFTP upload, per node
  double silence_s = 60;          // an agent printing nothing this long is hung: abandoned
  double keepalive_s = 15;
  int concurrency = 32;        // nodes worked on at once
};

struct TimedCommand {
  std::string run;             // template: {image}, {version}, {node.name}, {node.VAR}
  double timeout_s = 60;
};

struct FirmwareDriver {
  std::string image;           // what to flash ({image}); `--image` overrides
  std::string version;         // what `version` must print after the upgrade ({version})
  std::string rollback_image;  // what rollback restores ({rollback_image})
  TimedCommand version_cmd{"", 30};
  TimedCommand boot_id_cmd{"cat /proc/sys/kernel/random/boot_id", 30};
  TimedCommand upgrade{"", 600};
  TimedCommand rollback{"", 600};
  // Exit 0: the rollback image is there and restorable. Run on every target before anything is
  // flashed; without it a node is flashed only when rollout.allow_unrollbackable says so.
  TimedCommand rollback_check{"", 60};
  bool reboots = true;         // the node goes down and comes back with a new boot id
  double reboot_timeout_s = 300;
  double stable_s = 10;        // after activation: up and healthy this long before it counts
  // After a crash between journaling an upgrade (or rollback) and its acknowledgement, resume
  // watches the node this long for a sign that the command arrived before sending it again.
  double resend_after_s = 20;
};

struct Check {
  std::string name;
  TimedCommand cmd;
  int expect_exit = 0;
  std::string expect_regex;    // health: stdout must match (ECMAScript regex)
  std::string on = "targets";  // which nodes it runs on: targets | clients | all
  bool AppliesTo(const Node& n) const {
    return on == "all" || (on == "targets" && n.target) || (on == "clients" && n.client);
  }
};

struct Rollout {
  std::vector<std::string> waves = {"1", "100%"};  // counts or percentages of the targets
  int max_failures = 0;        // failed nodes tolerated before the rollout halts
  double pause_s = 0;          // between waves
  bool allow_unrollbackable = false;  // flash a node whose rollback cannot be checked
  std::string lock_path = "/var/tmp/fwcanary-{node.name}.lock";  // the lease, per node
  double lock_ttl_s = 900;     // a lease older than this (not renewed) may be taken over
};

struct JudgeSettings {
  std::map<std::string, double> tolerances;  // by metric name (harness/judge/metrics.h)
  std::vector<std::string> critical;         // metrics whose FAIL fails the run; empty: table's
  double alpha = 0.01;
  double pass_score = 95;        // harness/judge/judge.h
  double fail_below_score = 75;
};

// The upgrade window's limits (harness/judge/upgrade_window.h): what a client of an upgraded
// target may see while it flashes. The defaults are a storage team's: Linux's default SCSI
// command timeout is 30 s (/sys/block/sdX/device/timeout) and an NFS hard mount's first
// retransmission comes after timeo=600 (60 s); a pause of 15 s leaves room for the multipath
// failover behind it, and is about what a POP or IMAP client sits through before its user
// retries. A non-disruptive upgrade returns no errors to its clients at all.
struct UpgradeSettings {
  double max_stall_s = 15;          // longest time with operations due and none completing
  uint64_t max_errors = 0;          // failed operations + refused deliveries, per client
  double recovery_tolerance = 0.2;  // "back to baseline": throughput within this share of it
  double margin_s = 15;             // the window goes on this long after the wave is active
};

// An absolute service level (harness/judge/slo.h): a limit the candidate's window must meet,
// whatever the baseline did. Units: ms for latencies, % for error_rate, ops/s for throughput
// (a lower limit).
struct ServiceLevel {
  std::string metric;     // p50 | p99 | p999 | error_rate | throughput
  std::string cls;        // deliver | retrieve | scan
  std::string phase;      // "" = every phase
  double limit = 0;
  bool baseline = false;  // also judged on the baseline, before anything is flashed
};

// Headroom (harness/judge/headroom.h): judged when the workload has a ramp phase (`steps`).
// Its tolerance and criticality are the judge's: tolerances.headroom, critical: [..., headroom].
struct HeadroomSettings {
  double expected_surge = 0;  // multiples of the steady rate; 0: the largest multiplier of the
                              // workload's other phases (the surge phase's)
  double margin = 0;          // the candidate's knee must reach expected_surge x (1 + margin)
};

inline constexpr double kHeadroomTolerance = 0.35;  // a fall of more than one step on 1..6x

struct Reports {
  std::string dir = "runs";    // run directories are created under it
  std::string history;         // history.db path; empty: none
};

struct Scenario {
  std::string source;          // the file
  std::string name;
  std::string description;
  std::string transport = "ssh";  // ssh | local
  Inventory inventory;
  SshSettings ssh;
  FirmwareDriver firmware;
  std::vector<Check> health;
  std::vector<Check> drift;
  WorkloadSpec workload;
  Rollout rollout;
  JudgeSettings judge;
  UpgradeSettings upgrade;
  std::vector<ServiceLevel> slo;
  HeadroomSettings headroom;
  Reports reports;

  // The ramp phase of the workload, or null (then headroom is not judged).
  const Phase* RampPhase() const;
  // The surge the candidate's headroom must cover: headroom.expected_surge, else the largest
  // multiplier of the workload's other phases.
  double ExpectedSurge() const;
};

struct LoadOverrides {
  std::string image;       // --image
  std::string version;     // --version (defaults to the image name when --image is given)
  std::string inventory;   // --inventory (a file path instead of the scenario's)
};

// Loads, validates and resolves a scenario (inventory file included). ${VAR} and
// ${VAR:-default} in path fields (inventory, ssh.identity_file, ssh.known_hosts, reports.*) are
// taken from the environment.
Result<Scenario> LoadScenario(const std::string& path, const LoadOverrides& o = {});

std::string DescribeScenarioFormat();
// The same tables as a JSON Schema (scenarios/scenario.schema.json is this, written out; a test
// keeps them equal): editors complete and check scenario files with it.
nlohmann::json ScenarioSchema();

// "${FWCANARY_LAB:-/var/tmp/fwcanary-lab}/inventory.yaml" -> the environment's value.
std::string ExpandEnv(const std::string& s);

}  // namespace fwcanary::scenario
