// fwcanary run: the staged rollout of a scenario (harness/rollout/rollout.h).
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "common/exit_status.h"
#include "harness/cli/commands.h"
#include "harness/rollout/rollout.h"

namespace fwcanary::cli {
namespace {

struct RunArgs {
  std::string scenario;
  scenario::LoadOverrides o;
  rollout::RunOptions run;
  std::string reports_dir;
};

}  // namespace

std::string SiblingAgent() {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "";
  auto agent = self.parent_path() / "fwcanary-agent";
  return std::filesystem::exists(agent) ? agent.string() : "";
}

namespace {

void OnStopSignal(int) {
  if (rollout::StopRequested()) ::_exit(kExitError);
  rollout::RequestStop();
  const char msg[] = "\nfwcanary: stopping at the next safe point (again to quit at once)\n";
  ssize_t ignored = ::write(STDERR_FILENO, msg, sizeof msg - 1);
  (void)ignored;
}

}  // namespace

void InstallStopHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

namespace {

// Every path a run keeps is absolute: the journal stores the scenario and the plan (which names
// it), the run directory and its samples, and `resume` may run from another directory.
std::string Absolute(const std::string& path) {
  if (path.empty()) return path;
  std::error_code ec;
  auto abs = std::filesystem::absolute(path, ec);
  return ec ? path : abs.lexically_normal().string();
}

int RunRun(RunArgs& a) {
  a.scenario = Absolute(a.scenario);
  a.o.inventory = Absolute(a.o.inventory);
  a.reports_dir = Absolute(a.reports_dir);
  a.run.agent_binary = Absolute(a.run.agent_binary);
  auto sc = scenario::LoadScenario(a.scenario, a.o);
  if (!sc.ok()) {
    std::fprintf(stderr, "fwcanary run: %s\n", sc.status().message().c_str());
    return kExitError;
  }
  if (!a.reports_dir.empty()) sc->reports.dir = a.reports_dir;
  if (a.run.agent_binary.empty()) a.run.agent_binary = SiblingAgent();
  a.run.tty = ::isatty(STDERR_FILENO) == 1;
  InstallStopHandlers();
  return rollout::RunScenario(sc.value(), {a.scenario, a.o, a.reports_dir}, a.run);
}

}  // namespace

std::function<int()> SetupRun(CLI::App& app) {
  auto a = std::make_shared<RunArgs>();
  app.add_option("scenario", a->scenario, "scenario YAML file")->required();
  app.add_option("--image", a->o.image, "image to flash instead of the scenario's");
  app.add_option("--version", a->o.version, "version expected after the upgrade (default: the image)");
  app.add_option("--inventory", a->o.inventory, "Ansible inventory instead of the scenario's");
  app.add_option("--runs", a->reports_dir, "where run directories go (default: reports.dir)");
  app.add_option("--agent", a->run.agent_binary, "agent binary to deploy (default: next to fwcanary)");
  app.add_option("--during-s", a->run.during_s, "length of the load window while a wave flashes");
  app.footer("Exit codes: 0 pass, 1 regression (rolled back), 2 error, 3 inconclusive.");
  return [a] { return RunRun(*a); };
}

}  // namespace fwcanary::cli
