#include "rundir/run_layout.h"

#include <cstdlib>
#include <filesystem>

namespace fwcanary::rundir {
namespace {

struct StepSuffix {
  WaveStep step;
  const char* suffix;
};
constexpr StepSuffix kSuffixes[] = {{WaveStep::kDuring, "during"},
                                    {WaveStep::kActivation, "activation"},
                                    {WaveStep::kAfter, "after"},
                                    {WaveStep::kJudge, "judge"},
                                    {WaveStep::kRollback, "rollback"}};

}  // namespace

std::string WaveName(int wave) { return "wave" + std::to_string(wave); }

std::string StepName(int wave, WaveStep step) {
  for (const auto& s : kSuffixes) {
    if (s.step == step) return WaveName(wave) + "." + s.suffix;
  }
  return WaveName(wave);
}

std::optional<std::pair<int, WaveStep>> ParseStepName(const std::string& name) {
  if (name.rfind("wave", 0) != 0) return std::nullopt;
  std::size_t dot = name.find('.');
  if (dot == std::string::npos || dot == 4) return std::nullopt;
  std::string digits = name.substr(4, dot - 4);
  if (digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 6)
    return std::nullopt;
  const int wave = std::atoi(digits.c_str());
  if (wave < 1) return std::nullopt;
  const std::string suffix = name.substr(dot + 1);
  for (const auto& s : kSuffixes) {
    if (suffix == s.suffix) return std::make_pair(wave, s.step);
  }
  return std::nullopt;
}

std::string RunLayout::SamplesPath(const std::string& window, const std::string& node) const {
  return SamplesDir() + "/" + window + "-" + node + ".jsonl";
}

std::string RunLayout::LocateSamples(const std::string& recorded) const {
  std::string local = SamplesDir() + "/" + std::filesystem::path(recorded).filename().string();
  std::error_code ec;
  if (std::filesystem::exists(local, ec)) return local;
  return recorded;
}

std::string RunLayout::SamplesDisplayName(const std::string& path) {
  return "samples/" + std::filesystem::path(path).filename().string();
}

}  // namespace fwcanary::rundir
