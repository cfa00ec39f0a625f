// fwcanary plan: load and validate a scenario, print the resolved plan, touch nothing.
#include <cstdio>
#include <iostream>

#include "common/exit_status.h"
#include "harness/cli/commands.h"
#include "harness/rollout/plan.h"

namespace fwcanary::cli {
namespace {

struct PlanArgs {
  std::string scenario;
  scenario::LoadOverrides o;
  bool help_scenario = false;
};

int RunPlan(const PlanArgs& a) {
  if (a.help_scenario) {
    std::cout << scenario::DescribeScenarioFormat();
    return kExitPass;
  }
  if (a.scenario.empty()) {
    std::fprintf(stderr, "fwcanary plan: give a scenario file\n");
    return kExitError;
  }
  auto sc = scenario::LoadScenario(a.scenario, a.o);
  if (!sc.ok()) {
    std::fprintf(stderr, "fwcanary plan: %s\n", sc.status().message().c_str());
    return kExitError;
  }
  rollout::Plan plan = rollout::MakePlan(sc.value());
  std::cout << rollout::RenderPlan(sc.value(), plan);
  return kExitPass;
}

}  // namespace

std::function<int()> SetupPlan(CLI::App& app) {
  auto a = std::make_shared<PlanArgs>();
  app.add_option("scenario", a->scenario, "scenario YAML file");
  app.add_option("--image", a->o.image, "image to flash instead of the scenario's");
  app.add_option("--version", a->o.version, "version expected after the upgrade (default: the image)");
  app.add_option("--inventory", a->o.inventory, "Ansible inventory instead of the scenario's");
  app.add_flag("--help-scenario", a->help_scenario, "print every scenario field and exit");
  return [a] { return RunPlan(*a); };
}

}  // namespace fwcanary::cli
