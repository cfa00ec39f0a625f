// The scenario's field table and loader.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <regex>

#include "agents/records/ramp_knee.h"
#include "common/positioned_yaml.h"
#include "common/schema.h"
#include "harness/judge/metrics.h"
#include "harness/scenario/command_template.h"
#include "harness/scenario/scenario.h"

namespace fwcanary::scenario {
namespace {

// The largest wave given as a count (rollout.waves): far past any rack, well inside int.
constexpr long long kMaxWaveSize = 1000000;

using nlohmann::json;

template <typename T, typename V>
auto Set(V T::*member) {
  return SetMember(member);
}

template <typename T>
std::function<Status(const json&, T&, const FieldContext&)> Path(std::string T::*member) {
  return [member](const json& v, T& out, const FieldContext&) {
    out.*member = ExpandEnv(v.get<std::string>());
    return Status::Ok();
  };
}

// Placeholders a command may use; {node.X} must be a var every node has (checked later).
Status CheckTemplate(const std::string& t, const FieldContext& ctx) {
  auto names = Placeholders(t);
  if (!names.ok()) return ctx.Error(names.status().message());
  for (const auto& n : names.value()) {
    if (n != "image" && n != "version" && n != "rollback_image" && n.rfind("node.", 0) != 0) {
      return ctx.Error("unknown placeholder {" + n +
                       "} (known: {image}, {version}, {rollback_image}, {node.name}, "
                       "{node.host}, {node.VAR})");
    }
  }
  return Status::Ok();
}

const std::vector<FieldDef<TimedCommand>>& CommandTable() {
  static const std::vector<FieldDef<TimedCommand>> t = {
      {"run", FieldKind::kString, "", "shell command template", {}, {},
       [](const json& v, TimedCommand& o, const FieldContext& c) {
         o.run = v.get<std::string>();
         if (o.run.empty()) return c.Error("must not be empty");
         return CheckTemplate(o.run, c);
       },
       true},
      {"timeout_s", FieldKind::kNumber, "(per command)", "kill it after this long", 0.1, 86400,
       Set(&TimedCommand::timeout_s)},
  };
  return t;
}

// A command is a string (the template) or {run, timeout_s}.
template <typename T>
std::function<Status(const json&, T&, const FieldContext&)> Command(TimedCommand T::*member) {
  return [member](const json& v, T& out, const FieldContext& c) {
    TimedCommand& cmd = out.*member;
    if (v.is_string()) {
      cmd.run = v.get<std::string>();
      if (cmd.run.empty()) return c.Error("must not be empty");
      return CheckTemplate(cmd.run, c);
    }
    if (!v.is_object()) return c.Error("must be a command string or {run, timeout_s}");
    return ParseObject(v, CommandTable(), cmd, c);
  };
}

json CommandSchema() {
  return {{"oneOf", json::array({json{{"type", "string"}, {"minLength", 1}}, TableSchema(CommandTable())})}};
}

std::function<Status(const json&, SshSettings&, const FieldContext&)> RefuseSecret(const std::string& env) {
  return [env](const json&, SshSettings&, const FieldContext& c) {
    return c.Error("secrets never go in a scenario file (it is committed, copied and printed); set " + env +
                   " in the controller's environment instead");
  };
}

// The schema of a field that is named only to be refused: no value is valid.
json RefusedSchema() { return {{"not", json::object()}}; }

const std::vector<FieldDef<SshSettings>>& SshTable() {
  static const std::vector<FieldDef<SshSettings>> t = {
      {"user", FieldKind::kString, "", "login user unless the node says", {}, {},
       Set(&SshSettings::user)},
      {"identity_file", FieldKind::kString, "(ssh-agent)", "private key file", {}, {},
       Path(&SshSettings::identity_file)},
      {"known_hosts", FieldKind::kString, "~/.ssh/known_hosts", "host keys to verify against",
       {}, {}, Path(&SshSettings::known_hosts)},
      {"host_keys", FieldKind::kString, "strict", "strict | accept-new (unknown keys)", {}, {},
       Set(&SshSettings::host_keys), false, [] { return std::vector<std::string>{"strict", "accept-new"}; }},
      {"connect_timeout_s", FieldKind::kNumber, "10", "per connection attempt", 0.1, 3600,
       Set(&SshSettings::connect_timeout_s)},
      {"command_timeout_s", FieldKind::kNumber, "60", "default per command", 0.1, 86400,
       Set(&SshSettings::command_timeout_s)},
      {"upload_timeout_s", FieldKind::kNumber, "120", "the agent's upload to a node", 1, 86400,
       Set(&SshSettings::upload_timeout_s)},
      {"silence_s", FieldKind::kNumber, "60",
       "an agent that prints nothing (no record, no progress line) this long is hung: the "
       "controller abandons it and fails the window (at least 3 record intervals)",
       5, 86400, Set(&SshSettings::silence_s)},
      {"keepalive_s", FieldKind::kNumber, "15", "keepalive interval", 1, 3600,
       Set(&SshSettings::keepalive_s)},
      {"concurrency", FieldKind::kInteger, "32", "nodes worked on at once", 1, 1024,
       Set(&SshSettings::concurrency)},
      // Named only to refuse them with the way that works: a scenario file is committed,
      // copied and printed, so a secret in it is a leaked secret.
      {"password", FieldKind::kString, "(never here)", "refused: set FWCANARY_SSH_PASSWORD in the environment", {},
       {}, RefuseSecret("FWCANARY_SSH_PASSWORD"), false, nullptr, RefusedSchema},
      {"passphrase", FieldKind::kString, "(never here)",
       "refused: set FWCANARY_SSH_PASSPHRASE in the environment", {}, {}, RefuseSecret("FWCANARY_SSH_PASSPHRASE"),
       false, nullptr, RefusedSchema},
  };
  return t;
}

const std::vector<FieldDef<FirmwareDriver>>& FirmwareTable() {
  static const std::vector<FieldDef<FirmwareDriver>> t = {
      {"image", FieldKind::kString, "", "image to flash ({image}); --image overrides", {}, {},
       Set(&FirmwareDriver::image)},
      {"version", FieldKind::kString, "(image)", "version the node must report afterwards", {},
       {}, Set(&FirmwareDriver::version)},
      {"rollback_image", FieldKind::kString, "", "what a rollback restores", {}, {},
       Set(&FirmwareDriver::rollback_image)},
      {"version_command", FieldKind::kAny, "", "prints the running version", {}, {},
       Command(&FirmwareDriver::version_cmd), true, {}, CommandSchema},
      {"boot_id_command", FieldKind::kAny, "cat /proc/sys/kernel/random/boot_id",
       "prints an id that changes at every boot", {}, {}, Command(&FirmwareDriver::boot_id_cmd), false, nullptr, CommandSchema},
      {"upgrade_command", FieldKind::kAny, "", "flashes {image}", {}, {},
       Command(&FirmwareDriver::upgrade), true, {}, CommandSchema},
      {"rollback_command", FieldKind::kAny, "", "restores the previous image", {}, {},
       Command(&FirmwareDriver::rollback), true, {}, CommandSchema},
      {"rollback_check_command", FieldKind::kAny, "",
       "exits 0 when {rollback_image} can be restored on the node (checked before flashing)",
       {}, {}, Command(&FirmwareDriver::rollback_check), false, nullptr, CommandSchema},
      {"reboots", FieldKind::kBool, "true", "the node goes down and comes back (new boot id)",
       {}, {}, Set(&FirmwareDriver::reboots)},
      {"reboot_timeout_s", FieldKind::kNumber, "300", "how long it may stay down", 1, 86400,
       Set(&FirmwareDriver::reboot_timeout_s)},
      {"stable_s", FieldKind::kNumber, "10", "up and healthy this long before it counts", 0,
       86400, Set(&FirmwareDriver::stable_s)},
      {"resend_after_s", FieldKind::kNumber, "20",
       "resume only: an upgrade or rollback the controller died sending is sent again when the "
       "node shows no sign of it (down, new boot id, target version) for this long",
       1, 3600, Set(&FirmwareDriver::resend_after_s)},
  };
  return t;
}

const std::vector<FieldDef<Check>>& CheckTable() {
  static const std::vector<FieldDef<Check>> t = {
      {"name", FieldKind::kString, "", "what it checks", {}, {}, Set(&Check::name), true},
      {"run", FieldKind::kString, "", "shell command template", {}, {},
       [](const json& v, Check& o, const FieldContext& c) {
         o.cmd.run = v.get<std::string>();
         return CheckTemplate(o.cmd.run, c);
       },
       true},
      {"timeout_s", FieldKind::kNumber, "60", "kill it after this long", 0.1, 86400,
       [](const json& v, Check& o, const FieldContext&) {
         o.cmd.timeout_s = v.get<double>();
         return Status::Ok();
       }},
      {"expect_exit", FieldKind::kInteger, "0", "exit status that means healthy", 0, 255,
       Set(&Check::expect_exit)},
      {"on", FieldKind::kString, "targets", "targets | clients | all: the nodes it runs on", {},
       {}, Set(&Check::on), false, [] { return std::vector<std::string>{"targets", "clients", "all"}; }},
      {"expect_regex", FieldKind::kString, "", "stdout must match (health checks)", {}, {},
       [](const json& v, Check& o, const FieldContext& c) {
         o.expect_regex = v.get<std::string>();
         try {
           std::regex re(o.expect_regex);
         } catch (const std::regex_error& e) {
           return c.Error(std::string("not a valid regex: ") + e.what());
         }
         return Status::Ok();
       }},
  };
  return t;
}

std::function<Status(const json&, Scenario&, const FieldContext&)> Checks(
    std::vector<Check> Scenario::*member) {
  return [member](const json& v, Scenario& out, const FieldContext& c) {
    for (std::size_t i = 0; i < v.size(); ++i) {
      Check check;
      check.cmd.timeout_s = 60;
      if (Status s = ParseObject(v[i], CheckTable(), check, c.Element(i)); !s.ok()) return s;
      (out.*member).push_back(std::move(check));
    }
    return Status::Ok();
  };
}

const std::vector<FieldDef<Rollout>>& RolloutTable() {
  static const std::vector<FieldDef<Rollout>> t = {
      {"waves", FieldKind::kArray, "[1, \"100%\"]",
       "targets per wave: counts or percentages; the last repeats", {}, {},
       [](const json& v, Rollout& o, const FieldContext& c) {
         if (v.empty()) return c.Error("must hold at least one wave");
         o.waves.clear();
         static const std::regex kPct(R"(([0-9]+(\.[0-9]+)?)%)");
         for (std::size_t i = 0; i < v.size(); ++i) {
           const json& w = v[i];
           // Bounded: a count past any inventory is a typo, and the plan's arithmetic is int.
           if (w.is_number_integer() && w.get<long long>() >= 1 && w.get<long long>() <= kMaxWaveSize) {
             o.waves.push_back(std::to_string(w.get<long long>()));
             continue;
           }
           std::smatch m;
           std::string s = w.is_string() ? w.get<std::string>() : "";
           const double pct = std::regex_match(s, m, kPct) ? std::strtod(m.str(1).c_str(), nullptr) : 0;
           if (pct > 0 && pct <= 100) {
             o.waves.push_back(s);
             continue;
           }
           return c.Element(i).Error("must be a count from 1 to " + std::to_string(kMaxWaveSize) +
                                     " or a percentage like \"25%\", got " +
                                     DumpForMessage(w));
         }
         return Status::Ok();
       },
       false, nullptr, [] {
         return json{{"minItems", 1},
                     {"items", {{"oneOf", json::array({json{{"type", "integer"}, {"minimum", 1}, {"maximum", kMaxWaveSize}},
                                                       json{{"type", "string"}, {"pattern", "^[0-9]+(\\.[0-9]+)?%$"}}})}}}};
       }},
      {"max_failures", FieldKind::kInteger, "0", "failed nodes tolerated before halting", 0,
       100000, Set(&Rollout::max_failures)},
      {"pause_s", FieldKind::kNumber, "0", "pause between waves", 0, 86400,
       Set(&Rollout::pause_s)},
      {"allow_unrollbackable", FieldKind::kBool, "false",
       "flash nodes whose rollback cannot be checked", {}, {},
       Set(&Rollout::allow_unrollbackable)},
      {"lock_path", FieldKind::kString, "/var/tmp/fwcanary-{node.name}.lock",
       "lease lock file on each node (template); keeps two controllers apart", {}, {},
       [](const json& v, Rollout& o, const FieldContext& c) {
         o.lock_path = v.get<std::string>();
         if (o.lock_path.empty()) return c.Error("must not be empty");
         return CheckTemplate(o.lock_path, c);
       }},
      {"lock_ttl_s", FieldKind::kNumber, "900",
       "a lease not renewed for this long may be taken over (renewed every third of it)", 10,
       86400, Set(&Rollout::lock_ttl_s)},
  };
  return t;
}

// A tolerances key: "metric", "class.metric", "class.metric.phase" or "metric.phase" (a
// per-node metric in one phase); the phase is checked against the workload after loading.
Status CheckToleranceKey(const std::string& k, const FieldContext& c) {
  if (k == "headroom") return Status::Ok();  // the ramp's knee (harness/judge/headroom.h): per node
  std::vector<std::string> parts;
  for (std::size_t b = 0;;) {
    std::size_t e = k.find('.', b);
    parts.push_back(k.substr(b, e == std::string::npos ? std::string::npos : e - b));
    if (e == std::string::npos) break;
    b = e + 1;
  }
  const bool classed = parts.size() >= 2 && judge::IsOperationClass(parts[0]);
  const std::string& metric = classed ? parts[1] : parts[0];
  const judge::MetricDef* m = judge::FindMetric(metric);
  if (m == nullptr) {
    std::vector<std::string> names;
    for (const auto& d : judge::Metrics()) names.push_back(d.name);
    std::string hint = ClosestName(metric, names);
    return c.Error("unknown metric '" + metric + "'" + (hint.empty() ? std::string() : " (did you mean '" + hint + "'?)") +
                   "; keys are metric, class.metric, class.metric.phase or metric.phase");
  }
  if (parts.size() > (classed ? 3U : 2U)) return c.Error("too many parts: metric, class.metric, class.metric.phase or metric.phase");
  if (classed && !m->per_class) return c.Error(metric + " is measured per node, not per class");
  for (const auto& p : parts) {
    if (p.empty()) return c.Error("an empty part in '" + k + "'");
  }
  return Status::Ok();
}

const std::vector<FieldDef<JudgeSettings>>& JudgeTable() {
  static const std::vector<FieldDef<JudgeSettings>> t = {
      {"tolerances", FieldKind::kObject, "(metric table)",
       "by metric (p99: 0.10 is +10%), or narrower: deliver.p99, p99.surge, deliver.p99.surge", {}, {},
       [](const json& v, JudgeSettings& o, const FieldContext& c) {
         for (const auto& [k, val] : v.items()) {
           if (Status s = CheckToleranceKey(k, c.Child(k)); !s.ok()) return s;
           if (Status s = CheckValue(FieldKind::kNumber, 0, 100, val, c.Child(k)); !s.ok()) return s;
           o.tolerances[k] = val.get<double>();
         }
         return Status::Ok();
       },
       false, nullptr, [] {
         json props = json::object();
         for (const auto& m : judge::Metrics()) props[m.name] = {{"type", "number"}, {"minimum", 0}, {"maximum", 100}};
         props["headroom"] = {{"type", "number"}, {"minimum", 0}, {"maximum", 100}};
         // Narrower keys: class.metric, class.metric.phase, metric.phase.
         return json{{"properties", props},
                     {"patternProperties", {{"^[a-z_0-9]+[.][a-z_0-9]+([.][A-Za-z0-9_-]+)?$",
                                             {{"type", "number"}, {"minimum", 0}, {"maximum", 100}}}}},
                     {"additionalProperties", false}};
       }},
      {"pass_score", FieldKind::kNumber, "95",
       "the score (share of decided metrics that PASS, critical ones weighted 2) a PASS needs", 0, 100,
       Set(&JudgeSettings::pass_score)},
      {"fail_below_score", FieldKind::kNumber, "75", "a score below this FAILs the wave", 0, 100,
       Set(&JudgeSettings::fail_below_score)},
      {"critical", FieldKind::kArray, "(metric table)",
       "metrics whose FAIL or missing data fails the run", {}, {},
       [](const json& v, JudgeSettings& o, const FieldContext& c) {
         for (std::size_t i = 0; i < v.size(); ++i) {
           if (!v[i].is_string() ||
               (judge::FindMetric(v[i].get<std::string>()) == nullptr && v[i].get<std::string>() != "headroom")) {
             return c.Element(i).Error("must be a metric name (throughput, p50, p99, ..., headroom), got " +
                                       DumpForMessage(v[i]));
           }
           o.critical.push_back(v[i].get<std::string>());
         }
         return Status::Ok();
       },
       false, nullptr, [] {
         std::vector<std::string> names;
         for (const auto& m : judge::Metrics()) names.push_back(m.name);
         names.push_back("headroom");
         return json{{"items", {{"enum", names}}}};
       }},
      {"alpha", FieldKind::kNumber, "0.01", "false-discovery rate for FAILs", 1e-6, 0.5,
       Set(&JudgeSettings::alpha)},
  };
  return t;
}

const std::vector<FieldDef<UpgradeSettings>>& UpgradeTable() {
  static const std::vector<FieldDef<UpgradeSettings>> t = {
      {"max_stall_s", FieldKind::kNumber, "15",
       "a client of an upgraded target whose I/O stalls longer than this while it flashes FAILs the wave",
       0, 3600, Set(&UpgradeSettings::max_stall_s)},
      {"max_errors", FieldKind::kInteger, "0",
       "failed operations plus refused deliveries a client may see while its target flashes", 0, 1e12,
       [](const json& v, UpgradeSettings& o, const FieldContext&) {
         o.max_errors = v.get<uint64_t>();
         return Status::Ok();
       }},
      {"recovery_tolerance", FieldKind::kNumber, "0.2",
       "after a stall, throughput within this share of the baseline's counts as recovered", 0.01, 1,
       Set(&UpgradeSettings::recovery_tolerance)},
      {"margin_s", FieldKind::kNumber, "15",
       "the upgrade window goes on this long after the wave is active again (to see the recovery)", 0,
       3600, Set(&UpgradeSettings::margin_s)},
  };
  return t;
}

const std::vector<FieldDef<HeadroomSettings>>& HeadroomTable() {
  static const std::vector<FieldDef<HeadroomSettings>> t = {
      {"expected_surge", FieldKind::kNumber, "(the surge phase's multiplier)",
       "the surge, in multiples of the steady rate, the candidate's knee must reach", 1, 1000,
       Set(&HeadroomSettings::expected_surge)},
      {"margin", FieldKind::kNumber, "0", "the knee must reach expected_surge x (1 + margin)", 0, 10,
       Set(&HeadroomSettings::margin)},
  };
  return t;
}

const std::vector<FieldDef<ServiceLevel>>& ServiceLevelTable() {
  static const std::vector<FieldDef<ServiceLevel>> t = {
      {"metric", FieldKind::kString, "", "p50 | p99 | p999 (ms), error_rate (%), throughput (ops/s, a lower limit)",
       {}, {}, Set(&ServiceLevel::metric), true,
       [] { return std::vector<std::string>{"p50", "p99", "p999", "error_rate", "throughput"}; }},
      {"class", FieldKind::kString, "", "the operation class it limits", {}, {}, Set(&ServiceLevel::cls), true,
       [] { return std::vector<std::string>{"deliver", "retrieve", "scan"}; }},
      {"phase", FieldKind::kString, "", "the workload phase it applies to; empty: every phase", {}, {},
       Set(&ServiceLevel::phase)},
      {"limit", FieldKind::kNumber, "", "the limit, in the metric's SLO unit (ms, %, ops/s)", 0, 1e12,
       Set(&ServiceLevel::limit), true},
      {"baseline", FieldKind::kBool, "false",
       "judge the baseline too: a baseline that breaks it stops the run before anything is flashed", {}, {},
       Set(&ServiceLevel::baseline)},
  };
  return t;
}

Status ParseServiceLevels(const json& v, Scenario& out, const FieldContext& c) {
  for (std::size_t i = 0; i < v.size(); ++i) {
    ServiceLevel sl;
    if (Status s = ParseObject(v[i], ServiceLevelTable(), sl, c.Element(i)); !s.ok()) return s;
    out.slo.push_back(std::move(sl));
  }
  return Status::Ok();
}

const std::vector<FieldDef<Reports>>& ReportsTable() {
  static const std::vector<FieldDef<Reports>> t = {
      {"dir", FieldKind::kString, "runs", "run directories go under it", {}, {},
       Path(&Reports::dir)},
      {"history", FieldKind::kString, "", "history.db across runs", {}, {},
       Path(&Reports::history)},
  };
  return t;
}

template <typename T>
std::function<Status(const json&, Scenario&, const FieldContext&)> Nested(
    T Scenario::*member, const std::vector<FieldDef<T>>& (*table)()) {
  return [member, table](const json& v, Scenario& out, const FieldContext& c) {
    return ParseObject(v, table(), out.*member, c);
  };
}

const std::vector<FieldDef<Scenario>>& ScenarioTable() {
  static const std::vector<FieldDef<Scenario>> t = {
      {"name", FieldKind::kString, "", "scenario name (run directories carry it)", {}, {},
       Set(&Scenario::name), true},
      {"description", FieldKind::kString, "", "what this scenario checks", {}, {},
       Set(&Scenario::description)},
      {"transport", FieldKind::kString, "ssh", "ssh | local", {}, {}, Set(&Scenario::transport), false,
       [] { return std::vector<std::string>{"ssh", "local"}; }},
      {"inventory", FieldKind::kAny, "", "path to an Ansible inventory, or {vars, nodes}", {},
       {},
       [](const json& v, Scenario& o, const FieldContext& c) {
         if (v.is_string()) {
           // A relative path is relative to the scenario file, wherever fwcanary runs from.
           std::filesystem::path path = ExpandEnv(v.get<std::string>());
           if (path.is_relative()) {
             path = std::filesystem::path(c.source.source()).parent_path() / path;
           }
           Result<Inventory> inv = LoadAnsibleInventory(path);
           if (!inv.ok()) return c.Error(inv.status().message());
           o.inventory = inv.value();
           return Status::Ok();
         }
         return ParseInlineInventory(v, c, &o.inventory);
       },
       true, {}, [] {
         // As ParseInlineInventory reads it (harness/scenario/inventory.h).
         json node = {{"type", {"object", "null"}},
                      {"properties", {{"host", {{"type", "string"}}},
                                      {"port", {{"type", "integer"}, {"minimum", 1}, {"maximum", 65535}}},
                                      {"user", json::object()},
                                      {"roles", json::object()},
                                      {"target", {{"description", "the target a client's storage is on"}}},
                                      {"vars", {{"type", "object"}}}}},
                      {"additionalProperties", false}};
         json inline_inv = {{"type", "object"},
                            {"properties", {{"vars", {{"type", "object"}}},
                                            {"nodes", {{"type", "object"}, {"minProperties", 1},
                                                       {"additionalProperties", node}}}}},
                            {"required", {"nodes"}},
                            {"additionalProperties", false}};
         return json{{"oneOf", json::array({json{{"type", "string"}}, inline_inv})}};
       }},
      {"ssh", FieldKind::kObject, "{}", "SSH settings", {}, {}, Nested(&Scenario::ssh, &SshTable), false,
       {}, [] { return TableSchema(SshTable()); }},
      {"firmware", FieldKind::kObject, "", "the firmware driver", {}, {},
       Nested(&Scenario::firmware, &FirmwareTable), true, {}, [] { return TableSchema(FirmwareTable()); }},
      {"health", FieldKind::kArray, "[]", "health checks: {name, run, expect_exit, expect_regex}",
       {}, {}, Checks(&Scenario::health), false, nullptr, [] { return ArrayOfSchema(CheckTable()); }},
      {"drift", FieldKind::kArray, "[]", "drift checks: output snapshotted before, diffed after",
       {}, {}, Checks(&Scenario::drift), false, nullptr, [] { return ArrayOfSchema(CheckTable()); }},
      {"workload", FieldKind::kObject, "", "the agent's workload spec (agents/README.md)", {},
       {},
       [](const json& v, Scenario& o, const FieldContext& c) {
         return ParseWorkloadSpecAt(v, c, &o.workload);
       },
       true, {}, WorkloadSpecSchema},
      {"rollout", FieldKind::kObject, "{}", "waves and failure budget", {}, {},
       Nested(&Scenario::rollout, &RolloutTable), false, nullptr, [] { return TableSchema(RolloutTable()); }},
      {"judge", FieldKind::kObject, "{}", "tolerances and alpha", {}, {},
       Nested(&Scenario::judge, &JudgeTable), false, nullptr, [] { return TableSchema(JudgeTable()); }},
      {"upgrade", FieldKind::kObject, "{}", "limits for the upgrade window (what clients see while a wave flashes)",
       {}, {}, Nested(&Scenario::upgrade, &UpgradeTable), false, nullptr,
       [] { return TableSchema(UpgradeTable()); }},
      {"slo", FieldKind::kArray, "[]",
       "absolute service levels the candidate must meet: {metric, class, phase, limit, baseline}", {}, {},
       ParseServiceLevels, false, nullptr, [] { return ArrayOfSchema(ServiceLevelTable()); }},
      {"headroom", FieldKind::kObject, "{}",
       "the surge a ramp phase's knee must cover (judged when the workload has a ramp)", {}, {},
       Nested(&Scenario::headroom, &HeadroomTable), false, nullptr, [] { return TableSchema(HeadroomTable()); }},
      {"reports", FieldKind::kObject, "{}", "where results go", {}, {},
       Nested(&Scenario::reports, &ReportsTable), false, nullptr, [] { return TableSchema(ReportsTable()); }},
  };
  return t;
}

}  // namespace

const Phase* Scenario::RampPhase() const {
  for (const auto& p : workload.phases) {
    if (p.IsRamp()) return &p;
  }
  return nullptr;
}

double Scenario::ExpectedSurge() const {
  if (headroom.expected_surge > 0) return headroom.expected_surge;
  double surge = 1;
  for (const auto& p : workload.phases) {
    if (!p.IsRamp() && !p.drain && !p.rate) surge = std::max(surge, p.multiplier);
  }
  return surge;
}

std::string ExpandEnv(const std::string& s) {
  static const std::regex kVar(R"(\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\})");
  std::string out;
  auto begin = s.cbegin();
  std::smatch m;
  while (std::regex_search(begin, s.cend(), m, kVar)) {
    out.append(begin, m[0].first);
    const char* env = std::getenv(m[1].str().c_str());
    out += (env != nullptr && *env != '\0') ? std::string(env) : m[3].str();
    begin = m[0].second;
  }
  out.append(begin, s.cend());
  if (out.rfind("~/", 0) == 0) {
    const char* home = std::getenv("HOME");
    if (home != nullptr) out = std::string(home) + out.substr(1);
  }
  return out;
}

Result<Scenario> LoadScenario(const std::string& path, const LoadOverrides& o) {
  Result<PositionedJson> doc = LoadYamlFile(path);
  if (!doc.ok()) return doc.status();
  Scenario sc;
  sc.source = path;
  FieldContext root{doc.value(), ""};
  if (!doc->doc().is_object()) return root.Error("a scenario is a YAML mapping");
  // With --inventory, the scenario's own inventory is not read (it may name a lab that is not
  // up) and need not be present.
  std::vector<FieldDef<Scenario>> table = ScenarioTable();
  if (!o.inventory.empty()) {
    for (auto& f : table) {
      if (f.name != "inventory") continue;
      f.required = false;
      f.set = [](const json&, Scenario&, const FieldContext&) { return Status::Ok(); };
    }
  }
  if (Status s = ParseObject(doc->doc(), table, sc, root); !s.ok()) return s;
  if (!o.inventory.empty()) {
    Result<Inventory> inv = LoadAnsibleInventory(o.inventory);
    if (!inv.ok()) return inv.status();
    sc.inventory = inv.value();
  }
  if (Status s = FinishInventory(&sc.inventory); !s.ok()) return s;
  if (!o.image.empty()) {
    sc.firmware.image = o.image;
    sc.firmware.version = o.version.empty() ? o.image : o.version;
  }
  if (sc.firmware.image.empty()) {
    return root.Child("firmware").Error("no image to flash: set firmware.image or give --image");
  }
  if (sc.firmware.version.empty()) sc.firmware.version = sc.firmware.image;
  // {node.VAR} must exist on every node the command runs on: firmware commands run on
  // targets, checks where their `on` says, the lease on every node.
  auto check_vars = [&](const TimedCommand& cmd, const std::string& field,
                        const std::function<bool(const Node&)>& runs_on) -> Status {
    auto names = Placeholders(cmd.run);
    if (!names.ok()) return Status::Ok();  // reported while parsing
    for (const auto& n : names.value()) {
      if (n.rfind("node.", 0) != 0 || n == "node.name" || n == "node.host") continue;
      std::string var = n.substr(5);
      for (const auto& node : sc.inventory.nodes) {
        if (!runs_on(node)) continue;
        if (node.vars.count(var) == 0) {
          return root.Child(field).Error("uses {" + n + "} but node '" + node.name +
                                         "' has no var '" + var + "'");
        }
      }
    }
    return Status::Ok();
  };
  for (const auto& [cmd, field] :
       std::vector<std::pair<const TimedCommand*, std::string>>{
           {&sc.firmware.version_cmd, "firmware"}, {&sc.firmware.upgrade, "firmware"},
           {&sc.firmware.rollback, "firmware"}, {&sc.firmware.boot_id_cmd, "firmware"},
           {&sc.firmware.rollback_check, "firmware"}}) {
    if (Status s = check_vars(*cmd, field, [](const Node& n) { return n.target; }); !s.ok()) return s;
  }
  auto everywhere = [](const Node&) { return true; };
  if (Status s = check_vars(TimedCommand{sc.rollout.lock_path, 0}, "rollout", everywhere); !s.ok()) {
    return s;
  }
  // Safety before touching a node: a node whose rollback cannot be checked is not flashed
  // unless the scenario says so, in so many words.
  if (sc.firmware.rollback_check.run.empty() && !sc.rollout.allow_unrollbackable) {
    return root.Child("firmware").Error(
        "no rollback_check_command: without one the rollback cannot be checked before "
        "flashing; add it, or set rollout.allow_unrollbackable: true");
  }
  if (sc.firmware.rollback_check.run.find("{rollback_image}") != std::string::npos &&
      sc.firmware.rollback_image.empty()) {
    return root.Child("firmware").Error("rollback_check_command uses {rollback_image} but "
                                        "firmware.rollback_image is not set");
  }
  for (const auto& c : sc.health) {
    if (Status s = check_vars(c.cmd, "health", [&](const Node& n) { return c.AppliesTo(n); }); !s.ok()) {
      return s;
    }
  }
  for (const auto& c : sc.drift) {
    if (Status s = check_vars(c.cmd, "drift", [&](const Node& n) { return c.AppliesTo(n); }); !s.ok()) {
      return s;
    }
  }
  if (sc.judge.fail_below_score > sc.judge.pass_score) {
    return root.Child("judge").Child("fail_below_score").Error("must not be above judge.pass_score (" +
                                                                 std::to_string(sc.judge.pass_score) + ")");
  }
  // After the whole file: the workload may come after the slo list and the tolerances.
  for (const auto& [k, v] : sc.judge.tolerances) {
    std::size_t dots = static_cast<std::size_t>(std::count(k.begin(), k.end(), '.'));
    std::string first = k.substr(0, k.find('.'));
    bool phased = dots == 2 || (dots == 1 && !judge::IsOperationClass(first));
    if (!phased) continue;
    std::string phase = k.substr(k.rfind('.') + 1);
    bool known = false;
    for (const auto& p : sc.workload.phases) known = known || p.name == phase;
    if (!known) return root.Child("judge").Child("tolerances").Child(k).Error("no workload phase is named '" + phase + "'");
  }
  for (std::size_t i = 0; i < sc.slo.size(); ++i) {
    if (sc.slo[i].phase.empty()) continue;
    bool known = false;
    for (const auto& p : sc.workload.phases) known = known || p.name == sc.slo[i].phase;
    if (!known) {
      return root.Child("slo").Element(i).Child("phase").Error("no workload phase is named '" + sc.slo[i].phase + "'");
    }
  }
  int ramps = 0;
  for (const auto& p : sc.workload.phases) ramps += p.IsRamp() ? 1 : 0;
  if (ramps > 1) return root.Child("workload").Child("phases").Error("at most one ramp phase (`steps`)");
  if (ramps == 0 && (sc.judge.tolerances.count("headroom") ||
                     std::find(sc.judge.critical.begin(), sc.judge.critical.end(), "headroom") != sc.judge.critical.end())) {
    return root.Child("judge").Error("headroom is judged on a ramp phase (`steps`), and the workload has none");
  }
  if (const Phase* ramp = sc.RampPhase(); ramp != nullptr && ramp->steps.back() < sc.ExpectedSurge()) {
    return root.Child("workload").Child("phases").Error(
        "the ramp's last step (" + StepText(ramp->steps.back()) + ") is below the expected surge (" +
        StepText(sc.ExpectedSurge()) + "): it could never show the surge is covered");
  }
  for (const auto* n : sc.inventory.Clients()) {
    for (const char* var : {"workdir"}) {
      if (n->vars.count(var) == 0) {
        return Status::InvalidArgument(sc.inventory.source + ": client node '" + n->name +
                                       "' has no '" + var + "' var (where its agent works)");
      }
    }
  }
  return sc;
}

nlohmann::json ScenarioSchema() {
  return DocumentSchema(TableSchema(ScenarioTable()), "fwcanary scenario",
                        "A fwcanary scenario file (YAML). Generated from the field table in "
                        "harness/scenario/scenario_schema.cc by `fwcanary schema`.");
}

std::string DescribeScenarioFormat() {
  return DescribeTable(ScenarioTable(), "") + DescribeTable(SshTable(), "ssh.") +
         DescribeTable(FirmwareTable(), "firmware.") + DescribeTable(CheckTable(), "health[].") +
         DescribeTable(RolloutTable(), "rollout.") + DescribeTable(JudgeTable(), "judge.") +
         DescribeTable(UpgradeTable(), "upgrade.") + DescribeTable(ServiceLevelTable(), "slo[].") +
         DescribeTable(HeadroomTable(), "headroom.") + DescribeTable(ReportsTable(), "reports.");
}

}  // namespace fwcanary::scenario
