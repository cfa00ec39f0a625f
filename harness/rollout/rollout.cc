#include "harness/rollout/rollout.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "common/exit_status.h"
#include "common/file_text.h"
#include "common/untrusted_text.h"
#include "rundir/drift_snapshot.h"
#include "rundir/journal.h"
#include "rundir/run_layout.h"
#include "harness/judge/judge.h"
#include "harness/judge/verdict_render.h"
#include "harness/judge/headroom.h"
#include "harness/judge/slo.h"
#include "harness/judge/upgrade_window.h"
#include "harness/judge/wave_judgment.h"
#include "harness/rollout/activation.h"
#include "harness/rollout/agent_window.h"
#include "harness/rollout/command_arrival.h"
#include "harness/rollout/fan_out.h"
#include "harness/rollout/lease_lock.h"
#include "harness/rollout/node_session.h"
#include "harness/rollout/plan.h"
#include "harness/rollout/progress.h"
#include "harness/rollout/upgrade_check.h"
#include "harness/scenario/command_template.h"
#include "reports/render_run.h"
#include "reports/run_model.h"

namespace fwcanary::rollout {

using journal::Journal;
using journal::JournalNode;
using journal::NodeState;
using journal::NodeStateName;
using journal::StepState;
namespace {

namespace fs = std::filesystem;
using scenario::Node;
using scenario::Scenario;

std::atomic<bool> g_stop{false};

std::string NewRunDir(const Scenario& sc) {
  std::time_t now = std::time(nullptr);
  char ts[32];
  std::strftime(ts, sizeof ts, "%Y%m%d-%H%M%S", std::gmtime(&now));
  std::error_code ec;
  std::string root = fs::absolute(sc.reports.dir, ec).lexically_normal().string();
  std::string base = (ec ? sc.reports.dir : root) + "/" + ts + "-" + sc.name;
  std::string dir = base;
  for (int i = 2; fs::exists(dir); ++i) dir = base + "-" + std::to_string(i);
  fs::create_directories(rundir::RunLayout(dir).SamplesDir());
  return dir;
}

// The lease owner: this run, wherever it is resumed from. No whitespace (the lock file is
// "<owner> <expiry>").
std::string OwnerFor(const std::string& dir) {
  char host[256] = "host";
  ::gethostname(host, sizeof host - 1);
  std::string owner = "fwcanary:" + std::string(host) + ":" + fs::path(dir).filename().string();
  for (char& c : owner) {
    if (c == ' ' || c == '\t' || c == '\n') c = '_';
  }
  return owner;
}

std::vector<judge::Run> Load(const std::vector<std::string>& files, const std::string& what,
                             std::vector<std::string>* errors) {
  std::vector<judge::Run> runs;
  for (const auto& f : files) {
    auto r = judge::LoadRuns(f, judge::LoadOptions{});
    if (!r.ok()) {
      errors->push_back(what + ": " + r.status().message());
      continue;
    }
    for (auto& run : r.value()) runs.push_back(std::move(run));
  }
  return runs;
}

// Returned by a stage that ends the run; std::nullopt means "go on".
using Outcome = std::optional<int>;

class Controller {
 public:
  Controller(const Scenario& sc, RunOptions o, std::string dir, Journal& journal, bool resumed)
      : sc_(sc), o_(std::move(o)), dir_(std::move(dir)), layout_(dir_), j_(journal), resumed_(resumed),
        progress_(layout_.LogPath(), o_.tty), plan_(MakePlan(sc)) {}

  int Run();

 private:
  void Log(const std::string& line) { progress_.Log(line); }
  std::function<void(const std::string&)> Logger() {
    return [this](const std::string& l) { Log(l); };
  }
  JournalNode NodeOf(const std::string& name) {
    std::lock_guard lock(mu_);
    return nodes_[name];
  }
  // Records the state in the journal (and the mirror). Not OK when the journal refused it: a
  // caller about to act on the node (a flash) must then not act.
  Status SetNode(const std::string& name, NodeState state, const std::string& detail = "");
  // The same, for a state nothing is about to act on: a failure to record it is remembered by
  // Record and stops the run at its next check.
  void MarkNode(const std::string& name, NodeState state, const std::string& detail = "") {
    Status s = SetNode(name, state, detail);
    static_cast<void>(s);
  }
  // Every journal write goes through here. One that fails is logged and remembered, and the run
  // stops at its next check (JournalBroken): a controller that cannot record what it does must
  // not go on doing things (a resume would not know them).
  void Record(const Status& s);
  // When a journal write failed: the wave under way rolled back, the run finished as an error.
  Outcome JournalBroken(const Wave* wave);
  int Finish(int code, const std::string& why);
  judge::SloJudgment ServiceLevels(const std::vector<judge::Run>& runs, const std::string& window, bool baseline_only);
  Outcome BaselineServiceLevels();
  // Headroom (harness/judge/headroom.h), when the workload has a ramp: the settings, and a
  // judgment written beside the window's verdict and logged.
  judge::HeadroomConfig Headroom() const;
  void RecordHeadroom(const judge::HeadroomJudgment& h);
  void BaselineHeadroom();
  // An exception escaped a stage: journaled, the wave under way rolled back and verified.
  int Crashed(const std::string& what);
  int RunStages();
  // Reads back the version of every target the run touched and checks it against the state
  // the journal claims; a node that reads otherwise is marked failed. Returns the mismatches.
  std::vector<std::string> VerifyNodes();
  // Why no new flash may start now (a lease not known to be held), or "".
  std::string MayNotFlash();
  int Interrupted(const std::string& where);
  void Render();
  void RemoveFillers();

  Outcome Leases();
  Outcome Preflight();
  // `wave`: the wave whose nodes were (being) flashed, rolled back if the window fails.
  Outcome Window(const std::string& step, const std::string& window, const WorkloadSpec& spec,
                 const std::function<void()>& during, std::map<std::string, std::string>* samples,
                 const Wave* wave = nullptr);
  // One wave: flash under load, activation, the upgrade window, the after window, the verdict.
  Outcome WaveStep(const Wave& wave);
  // A wave judged in an earlier life of this run: its outcome taken, its nodes rolled back if
  // it did not pass.
  Outcome ResumeJudgedWave(const Wave& wave, const std::set<std::string>& targets);
  // The flash under steady load on every client (the "during" window).
  Outcome FlashUnderLoad(const Wave& wave);
  // Activation read back; more failures than the scenario allows end the run.
  Outcome ActivationStep(const Wave& wave, nlohmann::json& wj);
  // The after window judged against the plan's reference and controls, held to the SLOs,
  // recorded; a verdict other than PASS rolls the wave back.
  Outcome JudgeAfterWindow(const Wave& wave, const std::set<std::string>& targets,
                           const std::map<std::string, std::string>& after, nlohmann::json& wj);
  void Flash(const std::vector<const Node*>& nodes);
  void SendUpgrade(NodeSession& s, const Node& n);
  enum class Sent { kAccepted, kUnknown, kRefused };
  Sent SendRollback(NodeSession& s, const Node& n, const std::string& to);
  std::vector<std::string> Activate(const Wave& wave);
  std::vector<std::string> ActivateAndRecord(const Wave& wave);
  void EndUpgradeWindow(std::chrono::steady_clock::time_point started);
  Outcome JudgeUpgrade(const Wave& wave, nlohmann::json& wj);
  bool RollBack(const Wave& wave);
  Outcome Postflight();
  std::vector<StageEstimate> Estimates() const;

  const Scenario& sc_;
  const RunOptions o_;
  const std::string dir_;
  const rundir::RunLayout layout_;
  Journal& j_;
  const bool resumed_;
  Progress progress_;
  const Plan plan_;
  std::string owner_;
  std::mutex mu_;
  std::map<std::string, JournalNode> nodes_;  // mirror of the journal's node table
  std::string journal_error_;                 // the first journal write that failed (mu_)
  std::map<std::string, std::string> baseline_;  // node -> samples file
  std::set<std::string> upgraded_;
  // The noise the controls of earlier waves measured (harness/judge/wave_judgment.h), and the
  // window the last passed wave's after-load wrote per client: the last wave, with no node
  // left on the old firmware, is judged against them.
  judge::CarriedNoise carried_;
  std::map<std::string, std::string> previous_after_;
  std::string previous_window_;
  std::string open_window_;  // the agent window running now (its name, attempt included)
  nlohmann::json waves_ = nlohmann::json::array();
  std::unique_ptr<LeaseKeeper> keeper_;
  const Wave* current_wave_ = nullptr;  // the wave whose nodes may be off their old firmware
  bool finished_ = false;
};

Status Controller::SetNode(const std::string& name, NodeState state, const std::string& detail) {
  JournalNode n;
  {
    std::lock_guard lock(mu_);
    nodes_[name].state = state;
    nodes_[name].detail = detail;
    n = nodes_[name];
  }
  Status s = j_.SetNode(name, n);
  Record(s);
  progress_.SetNode(name, NodeStateName(state));
  return s;
}

void Controller::Record(const Status& s) {
  if (s.ok()) return;
  Log("journal: " + s.message());
  std::lock_guard lock(mu_);
  if (journal_error_.empty()) journal_error_ = s.message();
}

Outcome Controller::JournalBroken(const Wave* wave) {
  std::string error;
  {
    std::lock_guard lock(mu_);
    error = journal_error_;
  }
  if (error.empty()) return std::nullopt;
  std::string why = "journal: " + error + "; stopped (what is not recorded could not be resumed)";
  if (wave != nullptr) {
    why += RollBack(*wave) ? "; the wave was rolled back" : "; the wave's rollback did not complete";
  }
  return Finish(kExitError, why);
}

int Controller::Finish(int code, const std::string& why_in) {
  finished_ = true;
  std::string why = why_in;
  // The report never claims a node's state that was not read back.
  std::vector<std::string> wrong = VerifyNodes();
  if (!wrong.empty()) {
    code = kExitError;
    why += "; " + wrong.front() + (wrong.size() > 1 ? " (and " + std::to_string(wrong.size() - 1) + " more)" : "");
  }
  RemoveFillers();
  keeper_.reset();
  if (!owner_.empty()) {
    FanOut<Node>(sc_.inventory.nodes, sc_.ssh.concurrency, [&](const Node& n) {
      NodeSession s(sc_, n);
      if (Status r = ReleaseLease(sc_, s, owner_); !r.ok()) Log("lease release: " + r.message());
    });
  }
  // The outcome goes to the journal first: a run whose end is not recorded would be resumed.
  for (Status st : {j_.SetFact("exit_code", std::to_string(code)), j_.SetFact("reason", why),
                    j_.SetFact("status", "finished")}) {
    if (st.ok()) continue;
    Log("journal: " + st.message());
    code = kExitError;
    why += "; journal: " + st.message() + " (the run's end is not recorded)";
    break;
  }
  nlohmann::json result = {{"scenario", sc_.name},   {"image", sc_.firmware.image},
                           {"version", sc_.firmware.version}, {"waves", waves_},
                           {"exit_code", code},      {"reason", why},
                           {"resumed", resumed_}};
  if (Status w = WriteTextFile(layout_.ResultPath(),
                               result.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
      !w.ok()) {
    Log("result: " + w.message());
  }
  Log(reports::VerdictForExitCode(code) + ": " + why);
  Render();
  Log("results in " + dir_);
  return code;
}

// The reports are rendered from the run directory alone (reports/render_run.h); a failure to
// render is logged, never a reason to change the run's verdict.
void Controller::Render() {
  auto files = reports::RenderRunReports(dir_, reports::RenderOptions{j_.Fact("history").value_or("")});
  if (!files.ok()) {
    Log("report: " + files.status().message());
    return;
  }
  Log("report: " + dir_ + "/report.html");
}

// The run's fill_to filler (FillDir) goes when the run ends, whatever its outcome: the storage
// is given back as it was found. Not on an interrupt: resume's windows still need it.
void Controller::RemoveFillers() {
  if (sc_.workload.fill_to <= 0) return;
  FanOut<const Node*>(sc_.inventory.Clients(), sc_.ssh.concurrency, [&](const Node* c) {
    NodeSession s(sc_, *c);
    const std::string dir = scenario::ShellQuote(FillDir(*c));
    // Read back: "removed" only when the directory is gone (--cleanup leaves a foreign file
    // in place and still exits 0).
    const std::string cmd = "if [ -d " + dir + " ]; then " + scenario::ShellQuote(c->vars.at("agent_path")) +
                            " --workdir " + dir + " --cleanup && if [ -e " + dir +
                            " ]; then echo 'still there' >&2; exit 1; else echo removed; fi; fi";
    auto r = s.Run(cmd, sc_.ssh.command_timeout_s);
    if (!r.ok() || r->exit_code != 0) {
      Log(c->name + ": the fill_to filler in " + FillDir(*c) + " was not removed (" +
          (r.ok() ? SafeText(r->err) : r.status().message()) + ")");
    } else if (r->out.rfind("removed", 0) == 0) {
      Log(c->name + ": the fill_to filler in " + FillDir(*c) + " was removed");
    }
  });
}

int Controller::Interrupted(const std::string& where) {
  keeper_.reset();  // the leases stay (they expire after lock_ttl_s): resume takes them back
  Record(j_.SetFact("status", "interrupted"));
  Record(j_.Event("stopped during " + where));
  Render();
  Log("stopped during " + where + "; the journal is consistent. Continue with: fwcanary resume " + dir_);
  return kExitError;
}

std::vector<StageEstimate> Controller::Estimates() const {
  const double window = sc_.workload.MaxDurationSeconds();
  std::vector<StageEstimate> out = {{rundir::kPreflightStep, 5}, {rundir::kBaselineStep, window}};
  for (const auto& w : plan_.waves) {
    out.push_back({rundir::WaveName(w.number),
                   o_.during_s + sc_.firmware.stable_s + sc_.upgrade.margin_s + 10 + window + sc_.rollout.pause_s});
  }
  out.push_back({rundir::kPostflightStep, 2});
  return out;
}

// Leases on every node first: another controller's run on any of them stops this one before it
// touches anything.
Outcome Controller::Leases() {
  auto fact = j_.Fact("owner");
  owner_ = fact ? *fact : OwnerFor(dir_);
  Record(j_.SetFact("owner", owner_));
  if (Outcome out = JournalBroken(nullptr)) return out;
  std::mutex mu;
  std::vector<std::string> refused;
  // A node that cannot be reached may be rebooting from this run's own flash (a resume after a
  // crash mid-flash): tried again until a reboot would be over. Held by another owner: at once.
  bool in_flight = false;
  for (const auto& [name, jn] : nodes_) in_flight = in_flight || (jn.state != NodeState::kReady && jn.state != NodeState::kRolledBack);
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration<double>(in_flight ? sc_.firmware.reboot_timeout_s : 0);
  FanOut<Node>(sc_.inventory.nodes, sc_.ssh.concurrency, [&](const Node& n) {
    NodeSession s(sc_, n);
    Status st = AcquireLease(sc_, s, owner_);
    while (!st.ok() && st.code() != Status::Code::kRefused && std::chrono::steady_clock::now() < deadline &&
           !StopRequested()) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      st = AcquireLease(sc_, s, owner_);
    }
    if (!st.ok()) {
      std::lock_guard lock(mu);
      refused.push_back(st.message());
    }
  });
  if (!refused.empty()) {
    for (const auto& r : refused) Log(r);
    // With a wave's nodes off their old firmware the run must stay resumable: finishing it
    // here would leave them with nobody to roll them back.
    if (in_flight) return Interrupted("leases (" + refused.front() + ")");
    return Finish(kExitError, "lease: " + refused.front());
  }
  std::vector<const Node*> all;
  for (const auto& n : sc_.inventory.nodes) all.push_back(&n);
  keeper_ = std::make_unique<LeaseKeeper>(sc_, all, owner_, Logger());
  Log("leases taken on " + std::to_string(all.size()) + " node(s) as " + owner_);
  return std::nullopt;
}

// Preflight: every node answers and is healthy, tells its firmware and boot, can be rolled
// back; drift state is snapshotted; the agent runs where clients need it.
Outcome Controller::Preflight() {
  if (j_.Step(rundir::kPreflightStep) == StepState::kDone) return std::nullopt;
  progress_.EnterStage("preflight", std::to_string(sc_.inventory.nodes.size()) + " node(s)");
  Record(j_.BeginStep(rundir::kPreflightStep));
  if (Outcome out = JournalBroken(nullptr)) return out;
  Log("preflight: " + std::to_string(sc_.inventory.nodes.size()) + " node(s), " +
      std::to_string(sc_.ssh.concurrency) + " at once");
  std::mutex mu;
  std::vector<std::string> errors;
  FanOut<Node>(sc_.inventory.nodes, sc_.ssh.concurrency, [&](const Node& n) {
    auto fail = [&](const std::string& e) {
      std::lock_guard lock(mu);
      errors.push_back(e);
    };
    NodeSession s(sc_, n);
    JournalNode jn;
    if (n.target) {
      auto v = s.Ask(sc_.firmware.version_cmd);
      auto b = v.ok() ? s.Ask(sc_.firmware.boot_id_cmd) : Result<std::string>(v.status());
      if (!v.ok() || !b.ok()) return fail((v.ok() ? b : v).status().message());
      jn.version_before = v.value();
      jn.boot_before = b.value();
      if (jn.version_before == sc_.firmware.version) {
        return fail(n.name + " already runs " + sc_.firmware.version +
                    ": nothing to compare (a node is never flashed twice)");
      }
      if (!sc_.firmware.rollback_check.run.empty()) {
        auto rb = s.Ask(sc_.firmware.rollback_check);
        if (!rb.ok() && !sc_.rollout.allow_unrollbackable) {
          return fail(n.name + ": cannot be rolled back, so it is not flashed (" +
                      rb.status().message() + ")");
        }
        if (!rb.ok()) Log(n.name + ": rollback check failed, flashed anyway (allow_unrollbackable)");
      }
    }
    if (Status h = RunHealthChecks(sc_, s); !h.ok()) return fail(h.message());
    std::vector<std::pair<std::string, std::string>> snapshot;
    for (const auto& d : sc_.drift) {
      if (!d.AppliesTo(n)) continue;
      auto out = s.Ask(d.cmd);
      if (!out.ok()) return fail("drift check: " + out.status().message());
      // Without its snapshot a check would compare with nothing after the upgrade.
      if (Status st = j_.SetDrift(n.name, d.name, out.value()); !st.ok()) return fail("journal: " + st.message());
      snapshot.emplace_back(d.name, out.value());
    }
    if (!sc_.drift.empty()) {
      if (Status st = WriteTextFile(layout_.DriftBeforePath(n.name), rundir::FormatDriftSnapshot(snapshot));
          !st.ok())
        Log(st.message());
    }
    if (n.client) {
      // Each window gets <workdir>/<window>, created by the agent (with its marker).
      auto mk = s.Run("mkdir -p " + scenario::ShellQuote(n.vars.at("workdir")), sc_.ssh.command_timeout_s);
      if (!mk.ok() || mk->exit_code != 0) {
        return fail(n.name + ": cannot create " + n.vars.at("workdir") +
                    (mk.ok() ? ": " + mk->err : ": " + mk.status().message()));
      }
      std::string agent = scenario::ShellQuote(n.vars.at("agent_path"));
      auto r = s.Run(agent + " --version", sc_.ssh.command_timeout_s);
      if (!r.ok() || r->exit_code != 0) {
        if (o_.agent_binary.empty()) return fail(n.name + ": no agent at " + agent);
        Log(n.name + ": deploying the agent to " + n.vars.at("agent_path"));
        if (Status p = s.Put(o_.agent_binary, n.vars.at("agent_path"), 0755, sc_.ssh.upload_timeout_s); !p.ok()) {
          return fail(n.name + ": agent upload: " + p.message());
        }
      }
    }
    {
      std::lock_guard lock(mu_);
      nodes_[n.name] = jn;
    }
    MarkNode(n.name, NodeState::kReady, n.target ? "firmware " + jn.version_before : "client");
  });
  if (!errors.empty()) {
    for (const auto& e : errors) Log("preflight: " + e);
    return Finish(kExitError, "preflight: " + errors.front() +
                                  (errors.size() > 1 ? " (and " + std::to_string(errors.size() - 1) +
                                                           " more, see run.log)"
                                                     : ""));
  }
  Record(j_.FinishStep(rundir::kPreflightStep, nlohmann::json::object()));
  if (Outcome out = JournalBroken(nullptr)) return out;
  return std::nullopt;
}

// One agent window on every client. A window cut short by a stop or a crash is run again
// under a new name (its half-written samples stay for the record).
Outcome Controller::Window(const std::string& step, const std::string& window,
                           const WorkloadSpec& spec, const std::function<void()>& during,
                           std::map<std::string, std::string>* samples, const Wave* wave) {
  if (j_.Step(step) == StepState::kDone) {
    const nlohmann::json data = j_.StepData(step);  // a named value: items() must not dangle
    for (const auto& [node, path] : data["samples"].items()) (*samples)[node] = path;
    return std::nullopt;
  }
  int attempt = j_.StepData(step).value("attempt", 0) + 1;
  std::string name = attempt == 1 ? window : window + "-" + std::to_string(attempt);
  if (attempt > 1) Log(window + ": the window was cut short before; running it again as " + name);
  // The files are named before the agents start, so a report of a run stopped mid-window
  // still finds what they wrote.
  std::map<std::string, std::string> files;
  for (const auto* c : sc_.inventory.Clients()) files[c->name] = layout_.SamplesPath(name, c->name);
  Record(j_.BeginStep(step, {{"attempt", attempt}, {"samples", files}}));
  if (Outcome out = JournalBroken(wave)) return out;
  open_window_ = name;
  WindowResult r = RunAgentWindow(sc_, sc_.inventory.Clients(), name, spec, dir_, during,
                                  during ? 2.0 : 0.0, Logger(), [] { return !StopRequested(); });
  if (StopRequested()) return Interrupted(window);
  // A disruptive upgrade reboots the node it flashes (docs/DESIGN.md, "Nodes and roles"): an
  // agent running on that node itself ends with the reboot, and its window ends there; what the
  // other clients saw is the "during" window. Not an error, but said. (An agent on a host that
  // only writes to a rebooting array stalls and survives: losing one of those is an error.)
  // Whether the node really rebooted is checked next, by the activation (a new boot id).
  std::vector<std::string> ended_with_reboot;
  if (during && wave != nullptr && sc_.firmware.reboots) {
    std::vector<std::string> kept;
    for (const auto& e : r.errors) {
      bool own = false;
      for (const auto* n : wave->nodes) own = own || (n->client && e.rfind(n->name + ": ", 0) == 0);
      if (!own) {
        kept.push_back(e);
        continue;
      }
      Log(window + ": " + e + " (the upgrade rebooted its node under it: its window ends there)");
      ended_with_reboot.push_back(e.substr(0, e.find(':')));
    }
    r.errors = kept;
  }
  if (!r.errors.empty()) {
    // The node an agent was lost on is marked (errors start with its name), so the report
    // says which; firmware that could not be measured is not left on the wave's nodes.
    for (const auto& e : r.errors) {
      Log(window + ": " + e);
      for (const auto* c : sc_.inventory.Clients()) {
        if (e.rfind(c->name + ": ", 0) == 0 && NodeOf(c->name).state == NodeState::kReady) {
          MarkNode(c->name, NodeState::kFailed, window + ": " + e.substr(c->name.size() + 2));
        }
      }
    }
    std::string why = window + ": " + r.errors.front();
    if (wave != nullptr) {
      why += RollBack(*wave) ? "; the wave was rolled back (its firmware could not be measured)"
                             : "; the wave's rollback did not complete";
    }
    return Finish(kExitError, why);
  }
  *samples = r.samples;
  nlohmann::json data = {{"attempt", attempt}, {"samples", r.samples}};
  if (!ended_with_reboot.empty()) data["ended_with_reboot"] = ended_with_reboot;
  Record(j_.FinishStep(step, data));
  return JournalBroken(wave);
}

// Flashes `nodes` (in parallel, up to ssh.concurrency); a node whose version already reads the
// target is not flashed again.
void Controller::Flash(const std::vector<const Node*>& nodes) {
  FanOut<const Node*>(nodes, sc_.ssh.concurrency, [&](const Node* n) {
    if (StopRequested()) return;
    NodeSession s(sc_, *n);
    auto v = s.Ask(sc_.firmware.version_cmd);
    if (v.ok() && v.value() == sc_.firmware.version) {
      Log(n->name + ": already reports " + v.value() + "; not flashing it again");
      MarkNode(n->name, NodeState::kFlashAcked, "found on the target version");
      return;
    }
    SendUpgrade(s, *n);
  });
}

// The journal says flash_sent before the command leaves and flash_acked once the node took it:
// a resume can tell "sent" from "maybe never sent". A flash the journal could not record first
// is not sent. A command that left and did not finish (timed out, or the connection dropped)
// is flash_unknown: it may still act, so it is watched, never sent again.
void Controller::SendUpgrade(NodeSession& s, const Node& n) {
  if (std::string why = MayNotFlash(); !why.empty()) {
    Log(n.name + ": not flashed: " + why);
    MarkNode(n.name, NodeState::kFailed, "not flashed: " + why);
    return;
  }
  if (Status j = SetNode(n.name, NodeState::kFlashSent, sc_.firmware.image); !j.ok()) {
    Log(n.name + ": not flashed: the journal could not record flash_sent first (" + j.message() + ")");
    std::lock_guard lock(mu_);
    nodes_[n.name].state = NodeState::kFailed;  // not sent: the journal's flash_sent (if any) is resolved by resume
    nodes_[n.name].detail = "not flashed: the journal could not record it";
    return;
  }
  auto r = s.Ask(sc_.firmware.upgrade, NodeSession::Retry::kNever);
  if (!r.ok()) {
    if (s.OutcomeUnknown()) {
      Log(n.name + ": upgrade command: " + r.status().message() +
          "; whether it ran is unknown: watching the node, not sending it again");
      MarkNode(n.name, NodeState::kFlashUnknown, "upgrade command: " + r.status().message());
      return;
    }
    MarkNode(n.name, NodeState::kFailed, "upgrade command: " + r.status().message());
    Log(n.name + ": upgrade command failed: " + r.status().message());
    return;
  }
  std::string reply = r.value().empty() ? "upgrade command done" : r.value();
  Log(n.name + ": " + reply);
  MarkNode(n.name, NodeState::kFlashAcked, reply);
}

// Likewise rollback_sent, then rollback_acked; rollback_unknown when it left and did not finish
// (the caller then waits for the old version as for an accepted one). kRefused: it exited
// non-zero, or never left.
Controller::Sent Controller::SendRollback(NodeSession& s, const Node& n, const std::string& to) {
  if (Status j = SetNode(n.name, NodeState::kRollbackSent, "to " + to); !j.ok()) {
    Log(n.name + ": rollback not sent: the journal could not record rollback_sent first");
    return Sent::kRefused;
  }
  auto r = s.Ask(sc_.firmware.rollback, NodeSession::Retry::kNever);
  if (!r.ok()) {
    if (s.OutcomeUnknown()) {
      Log(n.name + ": rollback command: " + r.status().message() +
          "; whether it ran is unknown: waiting for " + to + ", not sending it again");
      MarkNode(n.name, NodeState::kRollbackUnknown, "rollback command: " + r.status().message());
      return Sent::kUnknown;
    }
    Log(n.name + ": rollback failed: " + r.status().message());
    MarkNode(n.name, NodeState::kFailed, "rollback command: " + r.status().message());
    return Sent::kRefused;
  }
  MarkNode(n.name, NodeState::kRollbackAcked, r.value().empty() ? "rollback command done" : r.value());
  return Sent::kAccepted;
}

// Waits for every flashed node of the wave to run the new firmware, stable and healthy, then
// diffs its drift checks. Returns the failures.
std::vector<std::string> Controller::Activate(const Wave& wave) {
  std::mutex mu;
  std::vector<std::string> failures;
  auto fail = [&](const std::string& f) {
    std::lock_guard lock(mu);
    failures.push_back(f);
  };
  FanOut<const Node*>(wave.nodes, sc_.ssh.concurrency, [&](const Node* n) {
    JournalNode jn = NodeOf(n->name);
    if (jn.state == NodeState::kFailed) return fail(n->name + ": " + jn.detail);
    if (jn.state == NodeState::kReady) return fail(n->name + ": was never flashed");
    NodeSession s(sc_, *n);
    if (jn.state == NodeState::kFlashSent) {  // an earlier life died sending it: did it arrive?
      Arrival arrival = WatchForArrival(sc_, s, sc_.firmware.version, jn.boot_before, &StopRequested);
      if (StopRequested()) return;
      if (arrival.arrived) {
        MarkNode(n->name, NodeState::kFlashAcked, "the upgrade had arrived: " + arrival.evidence);
      } else {
        Log(n->name + ": the upgrade never reached it before the controller stopped (" + arrival.evidence +
            "); sending it now");
        SendUpgrade(s, *n);
      }
      jn = NodeOf(n->name);
      if (jn.state == NodeState::kFailed) return fail(n->name + ": " + jn.detail);
    }
    if (jn.state == NodeState::kFlashUnknown) {
      // It left and may still act: wait for what it would bring, as for an accepted flash;
      // if it never does, the node stays `flash_unknown` (never "failed, still on the old").
      auto a = WaitForActivation(sc_, s, sc_.firmware.version, jn.boot_before, Logger(), &StopRequested);
      if (!a.ok()) {
        if (StopRequested()) return;
        MarkNode(n->name, NodeState::kFlashUnknown, jn.detail + "; then " + a.status().message());
        return fail(n->name + ": its upgrade command did not finish and the node did not activate it: " +
                    a.status().message());
      }
      Log(n->name + ": active on " + a->version + " after " + std::to_string(static_cast<int>(a->seconds)) +
          " s (the upgrade command had not finished, but it ran), boot " + a->boot_id);
      MarkNode(n->name, NodeState::kActive, a->version);
      jn = NodeOf(n->name);
    }
    if (jn.state == NodeState::kFlashAcked) {
      auto a = WaitForActivation(sc_, s, sc_.firmware.version, jn.boot_before, Logger(), &StopRequested);
      if (!a.ok()) {
        if (StopRequested()) return;
        MarkNode(n->name, NodeState::kFailed, a.status().message());
        return fail(a.status().message());
      }
      Log(n->name + ": active on " + a->version + " after " + std::to_string(static_cast<int>(a->seconds)) +
          " s, boot " + a->boot_id);
      MarkNode(n->name, NodeState::kActive, a->version);
    }
    // Drift: the settings a check snapshotted must read the same after the upgrade.
    std::map<std::string, std::string> before = j_.Drift(n->name);
    std::vector<std::pair<std::string, std::string>> changed;
    for (const auto& d : sc_.drift) {
      if (!d.AppliesTo(*n)) continue;
      auto out = s.Ask(d.cmd);
      std::string after = out.ok() ? out.value() : "<" + out.status().message() + ">";
      if (after != before[d.name]) {
        changed.emplace_back(d.name, after);
        fail(n->name + ": drift check '" + d.name + "' changed: before\n" + before[d.name] +
             "\nafter\n" + after);
      }
    }
    if (!changed.empty()) {
      if (Status st = WriteTextFile(layout_.DriftAfterPath(n->name), rundir::FormatDriftSnapshot(changed)); !st.ok())
        Log(st.message());
    }
  });
  return failures;
}

// Rolls the wave's nodes back to what they ran before. Never twice: a node whose rollback was
// sent is only waited for; one already on its old version is confirmed there (read back and
// stable for stable_s), never assumed. A node whose upgrade did not finish and that still reads
// the old version is not rolled back (there is nothing to roll back yet, and a rollback now
// would race the command): it stays flash_unknown and the rollback is incomplete.
bool Controller::RollBack(const Wave& wave) {
  const std::string step = rundir::StepName(wave.number, rundir::WaveStep::kRollback);
  // Recorded or not, the rollback goes ahead: it is what a broken journal stops the run for.
  Record(j_.BeginStep(step));
  std::atomic<bool> ok{true};
  FanOut<const Node*>(wave.nodes, sc_.ssh.concurrency, [&](const Node* n) {
    JournalNode jn = NodeOf(n->name);
    if (jn.state == NodeState::kRolledBack || jn.state == NodeState::kReady) return;
    NodeSession s(sc_, *n);
    if (jn.state == NodeState::kFlashSent || jn.state == NodeState::kFlashAcked ||
        jn.state == NodeState::kFlashUnknown) {
      // A flash in flight (the wave failed before its activation was confirmed): a rollback
      // sent now would race it, and a version read now would still say the old one.
      bool in_flight = jn.state == NodeState::kFlashAcked ||
                       WatchForArrival(sc_, s, sc_.firmware.version, jn.boot_before).arrived;
      if (in_flight) {
        auto a = WaitForActivation(sc_, s, sc_.firmware.version, jn.boot_before, Logger(), nullptr);
        if (a.ok()) MarkNode(n->name, NodeState::kActive, a->version);
      }
      jn = NodeOf(n->name);
      if (jn.state == NodeState::kFlashUnknown) {
        Log(n->name + ": its upgrade command did not finish and the node did not take the new firmware; "
                      "not rolled back, and it may still flash: check it by hand");
        ok = false;
        return;
      }
    }
    // The boot id the rollback must change; unknown after a resume (activation then waits for
    // the version alone).
    std::string boot;
    bool send = jn.state != NodeState::kRollbackSent && jn.state != NodeState::kRollbackAcked &&
                jn.state != NodeState::kRollbackUnknown;
    if (jn.state == NodeState::kRollbackSent) {  // an earlier life died sending it
      Arrival arrival = WatchForArrival(sc_, s, jn.version_before, "");
      if (arrival.arrived) {
        MarkNode(n->name, NodeState::kRollbackAcked, "the rollback had arrived: " + arrival.evidence);
      } else {
        Log(n->name + ": the rollback never reached it before the controller stopped (" + arrival.evidence +
            "); sending it now");
        send = true;
      }
    }
    if (send) {
      auto v = s.Ask(sc_.firmware.version_cmd);
      if (v.ok() && v.value() == jn.version_before) {
        // Already on the old firmware (never flashed, or its flash did not take): confirmed only
        // when it stays there, healthy, for stable_s.
        auto c = WaitForActivation(sc_, s, jn.version_before, "", Logger(), nullptr);
        if (c.ok()) {
          MarkNode(n->name, NodeState::kRolledBack, "still on " + c->version + " (read back, stable " +
                                                       std::to_string(static_cast<int>(sc_.firmware.stable_s)) + " s)");
          return;
        }
        v = s.Ask(sc_.firmware.version_cmd);
        if (v.ok() && v.value() == jn.version_before) {
          Log(n->name + ": on " + v.value() + " but not stable: " + c.status().message());
          MarkNode(n->name, NodeState::kFailed, "rollback: " + c.status().message());
          ok = false;
          return;
        }
      }
      auto b = s.Ask(sc_.firmware.boot_id_cmd);
      boot = b.ok() ? b.value() : "";
      if (SendRollback(s, *n, jn.version_before) == Sent::kRefused) {
        ok = false;
        return;
      }
    }
    auto a = WaitForActivation(sc_, s, jn.version_before, boot, Logger(), nullptr);
    if (!a.ok()) {
      Log(n->name + ": rollback did not complete: " + a.status().message());
      MarkNode(n->name, NodeState::kFailed, "rollback: " + a.status().message());
      ok = false;
      return;
    }
    Log(n->name + ": rolled back to " + a->version);
    MarkNode(n->name, NodeState::kRolledBack, a->version);
  });
  Record(j_.FinishStep(step, {{"ok", ok.load()}}));
  return ok;
}

// The activation step, journaled: run inside the upgrade window (which then ends with it), or
// after it when the window could not wait (fio) or was run before a resume.
std::vector<std::string> Controller::ActivateAndRecord(const Wave& wave) {
  const std::string step = rundir::StepName(wave.number, rundir::WaveStep::kActivation);
  Record(j_.BeginStep(step));
  std::vector<std::string> failures = Activate(wave);
  if (!StopRequested()) Record(j_.FinishStep(step, {{"failures", failures}}));
  return failures;
}

// Ends the open-ended upgrade window: the margin after activation (to see the recovery), at
// least --during-s in all, then a file in each agent's work directory ends its phase.
void Controller::EndUpgradeWindow(std::chrono::steady_clock::time_point started) {
  using Clock = std::chrono::steady_clock;
  const auto until = std::max(Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                 std::chrono::duration<double>(sc_.upgrade.margin_s)),
                              started + std::chrono::duration_cast<Clock::duration>(
                                            std::chrono::duration<double>(o_.during_s)));
  while (Clock::now() < until && !StopRequested()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  if (StopRequested()) return;
  const std::string window = open_window_;
  FanOut<const Node*>(sc_.inventory.Clients(), sc_.ssh.concurrency, [&](const Node* c) {
    NodeSession s(sc_, *c);
    const std::string path = c->vars.at("workdir") + "/" + window + "/" + kEndPhaseFile;
    // The agent removes the file when it sees it; an agent already gone (its node rebooted)
    // leaves it in a work directory it never cleaned up anyway.
    auto r = s.Run("touch -- " + scenario::ShellQuote(path), sc_.ssh.command_timeout_s);
    if (!r.ok() || r->exit_code != 0) {
      Log(c->name + ": could not end its upgrade window (" +
          (r.ok() ? SafeText(r->err) : r.status().message()) + "); it ends at its longest");
    }
  });
}

// The scenario's absolute service levels on `runs` (harness/judge/slo.h), written beside the
// verdicts and logged.
judge::SloJudgment Controller::ServiceLevels(const std::vector<judge::Run>& runs, const std::string& window,
                                             bool baseline_only) {
  std::vector<judge::SloLimit> limits;
  for (const auto& l : sc_.slo) limits.push_back({l.metric, l.cls, l.phase, l.limit, l.baseline});
  judge::SloJudgment s = judge::JudgeSlos(limits, runs, window, sc_.judge.alpha, baseline_only);
  const std::string table = judge::RenderSloTable(s);
  for (Status st : {WriteTextFile(layout_.SloJsonPath(window), judge::ToJson(s).dump(2) + "\n"),
                    WriteTextFile(layout_.SloTextPath(window), table)}) {
    if (!st.ok()) Log(st.message());
  }
  Log(window + " service levels:\n" + table);
  return s;
}

// A baseline that already breaks a service level marked `baseline: true` stops the run before
// anything is flashed: upgrading storage that is already too slow proves nothing (exit 1, the
// storage's regression, whichever firmware caused it).
Outcome Controller::BaselineServiceLevels() {
  bool any = false;
  for (const auto& l : sc_.slo) any = any || l.baseline;
  // Only before the first flash: a resumed run with nodes already flashed goes on to judge
  // (and, if need be, roll back) them.
  for (const auto& [name, jn] : nodes_) any = any && jn.state == NodeState::kReady;
  if (!any) return std::nullopt;
  std::vector<std::string> files, errors;
  for (const auto& [node, path] : baseline_) files.push_back(path);
  std::vector<judge::Run> runs = Load(files, "baseline", &errors);
  if (!errors.empty()) return Finish(kExitError, errors.front());
  judge::SloJudgment s = ServiceLevels(runs, "baseline", true);
  if (s.overall == judge::Verdict::kFail) {
    return Finish(kExitRegression, "the baseline already breaks its service level, before anything was flashed: " +
                                       s.reason + "; nothing flashed");
  }
  if (s.overall == judge::Verdict::kInconclusive) {
    Log("baseline service levels: INCONCLUSIVE (" + s.reason + "); going on: the candidate is judged on them too");
  }
  return std::nullopt;
}

judge::HeadroomConfig Controller::Headroom() const {
  judge::HeadroomConfig cfg;
  const Phase* ramp = sc_.RampPhase();
  cfg.expected_surge = sc_.ExpectedSurge();
  cfg.margin = sc_.headroom.margin;
  auto tol = sc_.judge.tolerances.find("headroom");
  cfg.tolerance = tol != sc_.judge.tolerances.end() ? tol->second : scenario::kHeadroomTolerance;
  cfg.critical = sc_.judge.critical.empty() ||
                 std::find(sc_.judge.critical.begin(), sc_.judge.critical.end(), "headroom") != sc_.judge.critical.end();
  if (ramp != nullptr) {
    cfg.rule.keep_up = ramp->keep_up;
    cfg.rule.latency_factor = ramp->latency_factor;
  }
  // A p99 SLO that holds in the ramp's phase (or in every phase) is the ramp's latency limit.
  for (const auto& l : sc_.slo) {
    if (l.metric == "p99" && ramp != nullptr && (l.phase.empty() || l.phase == ramp->name)) {
      cfg.rule.p99_limit_us[l.cls] = l.limit * 1000;
    }
  }
  return cfg;
}

void Controller::RecordHeadroom(const judge::HeadroomJudgment& h) {
  const std::string table = judge::RenderHeadroomTable(h);
  for (Status st : {WriteTextFile(layout_.HeadroomJsonPath(h.window), judge::ToJson(h).dump(2) + "\n"),
                    WriteTextFile(layout_.HeadroomTextPath(h.window), table)}) {
    if (!st.ok()) Log(st.message());
  }
  Log(h.window + " headroom:\n" + table);
}

// The baseline's knees: reported (the report's "before"), never a reason to stop.
void Controller::BaselineHeadroom() {
  if (sc_.RampPhase() == nullptr) return;
  std::vector<std::string> files, errors;
  for (const auto& [node, path] : baseline_) files.push_back(path);
  std::vector<judge::Run> runs = Load(files, "baseline", &errors);
  if (!errors.empty()) return;  // the wave's judgment reports the same files' errors
  RecordHeadroom(judge::BaselineHeadroom(runs, Headroom()));
}

// The upgrade window, judged (harness/judge/upgrade_window.h): a FAIL halts and rolls back
// like any other, before the after window is spent on a firmware already known bad.
Outcome Controller::JudgeUpgrade(const Wave& wave, nlohmann::json& wj) {
  const std::string w = rundir::WaveName(wave.number);
  const std::string during_step = rundir::StepName(wave.number, rundir::WaveStep::kDuring);
  const nlohmann::json data = j_.StepData(during_step);
  if (data.contains("skipped") || !data.contains("samples")) return std::nullopt;
  UpgradeCheckInput in;
  for (const auto* n : wave.nodes) in.targets.insert(n->name);
  for (const auto* c : sc_.inventory.Clients()) in.clients.emplace_back(c->name, c->writes_to);
  for (const auto& [node, path] : data["samples"].items()) in.during[node] = layout_.LocateSamples(path.get<std::string>());
  in.baseline = baseline_;
  for (const auto& n : data.value("ended_with_reboot", std::vector<std::string>{})) in.ended_with_reboot.insert(n);
  in.limits.max_stall_s = sc_.upgrade.max_stall_s;
  in.limits.max_errors = sc_.upgrade.max_errors;
  in.limits.recovery_tolerance = sc_.upgrade.recovery_tolerance;
  judge::UpgradeJudgment u = CheckUpgradeWindow(in);
  const std::string table = judge::RenderUpgradeTable(u);
  for (Status st : {WriteTextFile(layout_.UpgradeJsonPath(wave.number), judge::ToJson(u).dump(2) + "\n"),
                    WriteTextFile(layout_.UpgradeTextPath(wave.number), table)}) {
    if (!st.ok()) Log(st.message());
  }
  Log(w + " upgrade window:\n" + table);
  wj["upgrade"] = judge::ToJson(u);
  if (u.overall == judge::Verdict::kPass) return std::nullopt;
  const std::string judge_step = rundir::StepName(wave.number, rundir::WaveStep::kJudge);
  const int code = judge::ExitCodeFor(u.overall);
  wj["verdict"] = judge::VerdictName(u.overall);
  wj["reason"] = u.reason;
  waves_.push_back(wj);
  Record(j_.FinishStep(judge_step, {{"verdict", judge::VerdictName(u.overall)}, {"reason", u.reason},
                                    {"exit_code", code}, {"wave", wj}}));
  if (Outcome out = JournalBroken(&wave)) return out;
  Log(w + ": " + judge::VerdictName(u.overall) + " on the upgrade window: halting and rolling back " +
      std::to_string(wave.nodes.size()) + " node(s)");
  progress_.EnterStage(w, "rollback");
  bool rolled = RollBack(wave);
  return Finish(rolled ? code : kExitError, u.reason + (rolled ? "" : " (and the rollback did not complete)"));
}

Outcome Controller::WaveStep(const Wave& wave) {
  using rundir::StepName;
  const std::string w = rundir::WaveName(wave.number);
  std::set<std::string> targets;
  for (const auto* n : wave.nodes) targets.insert(n->name);
  nlohmann::json wj = {{"wave", wave.number},
                       {"nodes", std::vector<std::string>(targets.begin(), targets.end())}};

  current_wave_ = &wave;
  if (j_.Step(StepName(wave.number, rundir::WaveStep::kJudge)) == StepState::kDone) {
    return ResumeJudgedWave(wave, targets);
  }
  progress_.EnterStage(w, "upgrading under load");
  Log(w + (wave.number == 1 ? " (canary)" : "") + ": upgrading " + std::to_string(targets.size()) +
      " node(s) to " + sc_.firmware.image + " under load");
  if (Outcome out = FlashUnderLoad(wave)) return out;
  if (Outcome out = ActivationStep(wave, wj)) return out;
  if (Outcome out = JudgeUpgrade(wave, wj)) return out;

  // After: the whole workload again; the judge compares.
  progress_.EnterStage(w, "post-upgrade window");
  std::map<std::string, std::string> after;
  if (Outcome out = Window(StepName(wave.number, rundir::WaveStep::kAfter), w, sc_.workload, nullptr, &after, &wave)) {
    return out;
  }
  if (Outcome out = JudgeAfterWindow(wave, targets, after, wj)) return out;
  current_wave_ = nullptr;  // its nodes stay on the new firmware: that is the plan
  previous_after_ = after;
  previous_window_ = w;
  if (sc_.rollout.pause_s > 0 && &wave != &plan_.waves.back()) {
    progress_.EnterStage(w, "pause");
    std::this_thread::sleep_for(std::chrono::duration<double>(sc_.rollout.pause_s));
  }
  return std::nullopt;
}

Outcome Controller::ResumeJudgedWave(const Wave& wave, const std::set<std::string>& targets) {
  using rundir::StepName;
  nlohmann::json d = j_.StepData(StepName(wave.number, rundir::WaveStep::kJudge));
  waves_.push_back(d["wave"]);
  if (d["verdict"] == "PASS") {
    current_wave_ = nullptr;
    for (const auto& t : targets) upgraded_.insert(t);
    carried_.run_noise = d.value("measured_noise", std::map<std::string, double>{});
    carried_.control_run_var = d.value("control_run_var", carried_.control_run_var);
    previous_after_ = j_.StepData(StepName(wave.number, rundir::WaveStep::kAfter))
                          .value("samples", std::map<std::string, std::string>{});
    previous_window_ = rundir::WaveName(wave.number);
    return std::nullopt;
  }
  bool rolled = RollBack(wave);
  int code = d.value("exit_code", kExitError);
  return Finish(rolled ? code : kExitError, d.value("reason", std::string("halted")));
}

Outcome Controller::FlashUnderLoad(const Wave& wave) {
  const std::string w = rundir::WaveName(wave.number);
  const std::string during_step = rundir::StepName(wave.number, rundir::WaveStep::kDuring);
  if (j_.Step(during_step) == StepState::kDone) return std::nullopt;
  std::vector<const Node*> to_flash;
  for (const auto* n : wave.nodes) {
    if (NodeOf(n->name).state == NodeState::kReady) to_flash.push_back(n);
  }
  if (to_flash.size() < wave.nodes.size()) {
    Log(w + ": " + std::to_string(wave.nodes.size() - to_flash.size()) +
        " node(s) were flashed before the controller stopped; not flashing them again");
  }
  if (to_flash.empty()) {
    Record(j_.FinishStep(during_step, {{"skipped", "flashed before the controller stopped"}}));
    return JournalBroken(&wave);
  }
  // The upgrade window lasts until the wave is active again plus a margin (the mail engine's
  // open-ended phase, ended by the controller), whatever the upgrade takes; at least
  // --during-s, at most what the flash and the activation may take. The fio engine cannot
  // end a job early: its window is --during-s.
  WorkloadSpec during = sc_.workload;
  const bool open = sc_.workload.engine == "mail";
  const double longest = o_.during_s + sc_.firmware.upgrade.timeout_s + sc_.firmware.reboot_timeout_s +
                         sc_.firmware.stable_s + sc_.upgrade.margin_s;
  Phase window;
  window.name = "during";
  window.duration_s = open ? longest : o_.during_s;
  window.open_ended = open;
  during.phases = {window};
  std::map<std::string, std::string> samples;
  return Window(during_step, w + "-during", during,
                [&] {
                  const auto started = std::chrono::steady_clock::now();
                  Flash(to_flash);
                  if (!open) return;
                  ActivateAndRecord(wave);
                  EndUpgradeWindow(started);
                },
                &samples, &wave);
}

Outcome Controller::ActivationStep(const Wave& wave, nlohmann::json& wj) {
  const std::string w = rundir::WaveName(wave.number);
  const std::string activation_step = rundir::StepName(wave.number, rundir::WaveStep::kActivation);
  progress_.EnterStage(w, "activation");
  std::vector<std::string> failures;
  if (j_.Step(activation_step) == StepState::kDone) {
    failures = j_.StepData(activation_step).value("failures", std::vector<std::string>{});
  } else {
    failures = ActivateAndRecord(wave);
    if (StopRequested()) return Interrupted(w + " activation");
  }
  if (Outcome out = JournalBroken(&wave)) return out;
  for (const auto* n : wave.nodes) {
    if (NodeOf(n->name).state == NodeState::kActive) upgraded_.insert(n->name);
  }
  wj["failures"] = failures;
  if (static_cast<int>(failures.size()) <= sc_.rollout.max_failures) return std::nullopt;
  for (const auto& f : failures) Log("FAILED " + f);
  waves_.push_back(wj);
  // A node that never came back is an infrastructure failure; one that came back wrong
  // (drift, wrong version) is the firmware's.
  bool infra = false;
  for (const auto* n : wave.nodes) {
    JournalNode jn = NodeOf(n->name);
    // ... and so is one this controller did not flash (no journal record, no lease).
    infra = infra || (jn.state == NodeState::kFailed && (jn.detail.find("not active on") != std::string::npos ||
                                                         jn.detail.rfind("not flashed: ", 0) == 0));
  }
  Record(j_.FinishStep(rundir::StepName(wave.number, rundir::WaveStep::kJudge),
                       {{"verdict", "FAIL"}, {"reason", failures.front()},
                        {"exit_code", infra ? kExitError : kExitRegression}, {"wave", wj}}));
  bool rolled = RollBack(wave);
  return Finish(infra || !rolled ? kExitError : kExitRegression,
                failures.front() + (rolled ? "" : "; the wave's rollback did not complete"));
}

Outcome Controller::JudgeAfterWindow(const Wave& wave, const std::set<std::string>& targets,
                                     const std::map<std::string, std::string>& after, nlohmann::json& wj) {
  const std::string w = rundir::WaveName(wave.number);
  judge::WaveContext ctx;
  ctx.targets = targets;
  for (const auto& n : upgraded_) {
    if (!targets.count(n)) ctx.upgraded_before.insert(n);
  }
  for (const auto* t : sc_.inventory.Targets()) ctx.all_targets.insert(t->name);
  for (const auto* c : sc_.inventory.Clients()) ctx.clients.emplace_back(c->name, c->writes_to);
  ctx.baseline = baseline_;
  ctx.after = after;
  ctx.previous_after = previous_after_;
  ctx.previous_window = previous_window_;
  ctx.carried = carried_;
  ctx.tolerances = sc_.judge.tolerances;
  ctx.critical = sc_.judge.critical;
  ctx.alpha = sc_.judge.alpha;
  ctx.pass_score = sc_.judge.pass_score;
  ctx.fail_below_score = sc_.judge.fail_below_score;
  const judge::WaveJudgment plan = judge::PlanWaveJudgment(ctx);
  if (plan.rolling) {
    Log(w + ": no node is left on the old firmware: judged against " + plan.reference +
        "'s window, the nodes upgraded before it as controls");
  }
  std::vector<std::string> errors = plan.errors;
  judge::JudgeInput in{Load(plan.baseline_files, "baseline", &errors),
                       Load(plan.candidate_files, "candidate", &errors),
                       Load(plan.control_files, "control", &errors)};
  if (!errors.empty()) {
    RollBack(wave);
    return Finish(kExitError, errors.front());
  }
  const judge::JudgeConfig& cfg = plan.config;
  judge::JudgeResult verdict = judge::Judge(in, cfg);
  carried_ = judge::CarryNoise(plan, in, verdict, carried_);
  std::string table = judge::RenderTable(verdict, false);
  // The verdict files are what the reports show; the journal below is what the run decides by.
  for (Status st : {WriteTextFile(layout_.VerdictJsonPath(wave.number), judge::ToJson(verdict, cfg).dump(2) + "\n"),
                    WriteTextFile(layout_.VerdictTextPath(wave.number), table)}) {
    if (!st.ok()) Log(st.message());
  }
  Log(w + " verdict:\n" + table);
  if (!sc_.slo.empty()) {
    judge::SloJudgment slo = ServiceLevels(in.candidate, w, false);
    wj["slo"] = judge::ToJson(slo);
    judge::HoldToServiceLevels(slo, &verdict.overall, &verdict.reason);
  }
  if (sc_.RampPhase() != nullptr) {
    judge::HeadroomJudgment h = judge::JudgeHeadroom(in.baseline, in.candidate, in.control, Headroom(), w);
    RecordHeadroom(h);
    wj["headroom"] = judge::ToJson(h);
    // Like a service level: a headroom that does not cover the surge FAILs the wave; one that
    // cannot be shown holds a PASS.
    judge::FoldVerdict(h.overall, "headroom: " + h.reason, &verdict.overall, &verdict.reason);
  }
  wj["verdict"] = judge::VerdictName(verdict.overall);
  wj["reason"] = verdict.reason;
  wj["controls"] = std::vector<std::string>(plan.controls.begin(), plan.controls.end());
  wj["reference"] = plan.reference;
  wj["roles"] = plan.roles;
  waves_.push_back(wj);
  Record(j_.FinishStep(rundir::StepName(wave.number, rundir::WaveStep::kJudge),
                       {{"verdict", judge::VerdictName(verdict.overall)},
                        {"reason", verdict.reason},
                        {"exit_code", judge::ExitCodeFor(verdict.overall)},
                        {"measured_noise", carried_.run_noise},
                        {"control_run_var", carried_.control_run_var},
                        {"wave", wj}}));
  // A verdict that is not recorded would be judged again by a resume, after the nodes moved on.
  if (Outcome out = JournalBroken(&wave)) return out;
  if (verdict.overall != judge::Verdict::kPass) {
    Log(w + ": " + judge::VerdictName(verdict.overall) + ": halting and rolling back " +
        std::to_string(wave.nodes.size()) + " node(s)");
    progress_.EnterStage(w, "rollback");
    bool rolled = RollBack(wave);
    int code = judge::ExitCodeFor(verdict.overall);
    return Finish(rolled ? code : kExitError,
                  verdict.reason + (rolled ? "" : " (and the rollback did not complete)"));
  }
  Log(w + ": PASS: " + verdict.reason);
  return std::nullopt;
}

Outcome Controller::Postflight() {
  progress_.EnterStage("postflight", "");
  std::mutex mu;
  std::vector<std::string> errors;
  FanOut<Node>(sc_.inventory.nodes, sc_.ssh.concurrency, [&](const Node& n) {
    NodeSession s(sc_, n);
    if (Status h = RunHealthChecks(sc_, s); !h.ok()) {
      std::lock_guard lock(mu);
      errors.push_back(h.message());
    }
  });
  if (!errors.empty()) return Finish(kExitError, "postflight: " + errors.front());
  Record(j_.FinishStep(rundir::kPostflightStep, nlohmann::json::object()));
  return JournalBroken(nullptr);
}

// Nothing may escape the run loop: an exception (a library's, a bug's) becomes a journaled
// error, and the wave under way is rolled back and verified, as for any other failure.
int Controller::Run() {
  try {
    return RunStages();
  } catch (const std::exception& e) {
    return Crashed(e.what());
  } catch (...) {
    return Crashed("an unknown exception");
  }
}

int Controller::Crashed(const std::string& what) {
  const std::string why = "internal error: " + SafeText(what);
  try {
    Log(why);
    Record(j_.Event(why));
    if (finished_) return kExitError;  // it happened while finishing: the journal has the result
    std::string rolled;
    if (current_wave_ != nullptr) {
      rolled = RollBack(*current_wave_) ? "; the wave was rolled back" : "; the wave's rollback did not complete";
    }
    return Finish(kExitError, why + rolled);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fwcanary: %s; then, while rolling back: %s. Continue with: fwcanary resume %s\n",
                 why.c_str(), SafeText(e.what()).c_str(), dir_.c_str());
  } catch (...) {
    std::fprintf(stderr, "fwcanary: %s. Continue with: fwcanary resume %s\n", why.c_str(), dir_.c_str());
  }
  return kExitError;
}

std::string Controller::MayNotFlash() {
  if (Status e = j_.ReadError(); !e.ok()) return "the journal could not be read: " + e.message();
  if (keeper_ == nullptr) return "";
  Status held = keeper_->Held();
  return held.ok() ? "" : "the lease is not known to be held: " + held.message();
}

std::vector<std::string> Controller::VerifyNodes() {
  std::mutex mu;
  std::vector<std::string> wrong;
  std::vector<const Node*> touched;
  for (const auto* t : sc_.inventory.Targets()) {
    if (NodeOf(t->name).state != NodeState::kReady) touched.push_back(t);
  }
  FanOut<const Node*>(touched, sc_.ssh.concurrency, [&](const Node* n) {
    JournalNode jn = NodeOf(n->name);
    NodeSession s(sc_, *n);
    auto v = s.Ask(sc_.firmware.version_cmd);
    std::string read = v.ok() ? v.value() : "";
    std::string expected = jn.state == NodeState::kActive       ? sc_.firmware.version
                           : jn.state == NodeState::kRolledBack ? jn.version_before
                                                                : "";
    Record(j_.Event(n->name + ": read back at the end: " + (v.ok() ? "version " + read : v.status().message()) +
                    " (journal: " + NodeStateName(jn.state) + ")"));
    // A node that does not answer now keeps the state it was read in (the event says so); one
    // that answers with another version than its state's is not in that state.
    if (expected.empty() || !v.ok() || read == expected) return;
    std::string what = n->name + ": the journal says " + NodeStateName(jn.state) + " (" + expected +
                       ") but it reads " + read;
    Log(what);
    MarkNode(n->name, NodeState::kFailed, "read back at the end: " + read);
    std::lock_guard lock(mu);
    wrong.push_back(what);
  });
  return wrong;
}

int Controller::RunStages() {
  if (auto status = j_.Fact("status"); status && *status == "finished") {
    int code = static_cast<int>(std::strtol(j_.Fact("exit_code").value_or("2").c_str(), nullptr, 10));
    Log("this run already finished: " + j_.Fact("reason").value_or("") + " (nothing to resume)");
    return code;
  }
  if (Status st = j_.SetFact("status", "running"); !st.ok()) {
    std::fprintf(stderr, "fwcanary: cannot write the journal: %s; nothing was touched\n", st.message().c_str());
    return kExitError;
  }
  nodes_ = j_.Nodes();
  // A read that failed looks like "nothing done yet": every node ready, free to flash again.
  if (Status e = j_.ReadError(); !e.ok()) {
    std::fprintf(stderr, "fwcanary: cannot read the journal: %s; nothing was touched\n", e.message().c_str());
    return kExitError;
  }
  for (const auto& [name, n] : nodes_) progress_.SetNode(name, NodeStateName(n.state));
  progress_.SetStages(Estimates());
  Log(std::string(resumed_ ? "resuming run " : "run directory ") + dir_);
  if (resumed_) Record(j_.Event("resumed"));

  if (Outcome out = Leases()) return *out;
  if (Outcome out = Preflight()) return *out;
  if (StopRequested()) return Interrupted("preflight");
  progress_.EnterStage("baseline", "agents on every client");
  if (Outcome out = Window(rundir::kBaselineStep, "baseline", sc_.workload, nullptr, &baseline_)) return *out;
  if (Outcome out = BaselineServiceLevels()) return *out;
  BaselineHeadroom();
  for (const auto& wave : plan_.waves) {
    if (Outcome out = WaveStep(wave)) return *out;
    if (StopRequested()) return Interrupted(rundir::WaveName(wave.number));
  }
  if (Outcome out = Postflight()) return *out;
  return Finish(kExitPass, "every wave passed; " + std::to_string(upgraded_.size()) + " node(s) on " +
                               sc_.firmware.version);
}

}  // namespace

void RequestStop() { g_stop = true; }
bool StopRequested() { return g_stop.load(); }

int RunScenario(const Scenario& sc, const RunSource& src, const RunOptions& o) {
  const std::string dir = NewRunDir(sc);
  auto journal = Journal::Create(rundir::RunLayout(dir).JournalPath());
  if (!journal.ok()) {
    std::fprintf(stderr, "fwcanary: %s\n", journal.status().message().c_str());
    return kExitError;
  }
  Journal& j = *journal.value();
  std::error_code ec;
  // What the run is, recorded before anything is touched; a journal that refuses it stops here.
  Status recorded;
  auto fact = [&](const std::string& key, const std::string& value) {
    if (recorded.ok()) recorded = j.SetFact(key, value);
  };
  fact("scenario_path", fs::absolute(src.scenario_path, ec).string());
  fact("image_override", src.overrides.image);
  fact("version_override", src.overrides.version);
  fact("inventory_override", src.overrides.inventory);
  fact("reports_dir", fs::absolute(sc.reports.dir, ec).lexically_normal().string());
  // What the report needs to tell the run without the scenario file.
  fact("scenario", sc.name);
  fact("image", sc.firmware.image);
  fact("version", sc.firmware.version);
  fact("history", fs::absolute(sc.reports.history.empty() ? sc.reports.dir + "/history.db" : sc.reports.history, ec)
                          .string());
  nlohmann::json inventory = nlohmann::json::array();
  for (const auto& n : sc.inventory.nodes) {
    inventory.push_back({{"name", n.name}, {"target", n.target}, {"client", n.client},
                         {"writes_to", n.writes_to.empty() ? n.name : n.writes_to}});
  }
  fact("inventory", inventory.dump());
  fact("agent_binary", o.agent_binary);
  fact("during_s", std::to_string(o.during_s));
  // The plan as resolved now: resume refuses to continue a different one.
  fact("plan", RenderPlan(sc, MakePlan(sc)));
  if (!recorded.ok()) {
    std::fprintf(stderr, "fwcanary: %s; nothing was touched\n", recorded.message().c_str());
    return kExitError;
  }
  Controller c(sc, o, dir, j, false);
  return c.Run();
}

int ResumeRun(const std::string& run_dir_given, const RunOptions& o) {
  std::error_code ec;
  std::string run_dir = fs::absolute(run_dir_given, ec).lexically_normal().string();
  while (run_dir.size() > 1 && run_dir.back() == '/') run_dir.pop_back();
  auto journal = Journal::Open(rundir::RunLayout(run_dir).JournalPath());
  if (!journal.ok()) {
    std::fprintf(stderr, "fwcanary resume: %s\n", journal.status().message().c_str());
    return kExitError;
  }
  Journal& j = *journal.value();
  scenario::LoadOverrides ov{j.Fact("image_override").value_or(""),
                             j.Fact("version_override").value_or(""),
                             j.Fact("inventory_override").value_or("")};
  std::string path = j.Fact("scenario_path").value_or("");
  auto sc = scenario::LoadScenario(path, ov);
  if (!sc.ok()) {
    std::fprintf(stderr, "fwcanary resume: %s\n", sc.status().message().c_str());
    return kExitError;
  }
  sc->reports.dir = j.Fact("reports_dir").value_or(sc->reports.dir);
  if (RenderPlan(sc.value(), MakePlan(sc.value())) != j.Fact("plan").value_or("")) {
    std::fprintf(stderr,
                 "fwcanary resume: %s: the scenario or its inventory changed since the run "
                 "started (the plan differs); refusing to continue a different rollout\n",
                 path.c_str());
    return kExitError;
  }
  RunOptions opts = o;
  if (opts.agent_binary.empty()) opts.agent_binary = j.Fact("agent_binary").value_or("");
  opts.during_s = std::strtod(j.Fact("during_s").value_or("20").c_str(), nullptr);
  Controller c(sc.value(), opts, run_dir, j, true);
  return c.Run();
}

}  // namespace fwcanary::rollout
