#pragma once
// RunLayout: where things are in a run directory, and the journal's step names. The run
// directory is the interchange between the controller (harness/rollout, which writes it) and
// the reports (reports/, which read it, also for a stopped run: `fwcanary report`), so its
// format has this one owner below both:
//
//   journal.db                   the journal (rundir/journal.h): facts, steps, nodes, events
//   run.log                      the controller's log lines
//   result.json                  the run's outcome, written when it finishes
//   samples/<window>-<node>.jsonl  one client's agent records of one window: window "baseline",
//                                "wave<N>-during", "wave<N>", and "-<attempt>" for a window run
//                                again after it was cut short
//   verdict-wave<N>.json / .txt  the judge's verdict of wave N (JSON, and the table)
//   drift-before-<node>.txt      drift snapshots (rundir/drift_snapshot.h): every check before,
//   drift-after-<node>.txt       and the ones that read differently after the upgrade
//
// Steps: "preflight", "baseline", then per wave "wave<N>.during" (load while flashing),
// ".activation", ".after" (the post-upgrade window), ".judge", and ".rollback" when it was rolled
// back; "postflight".
//
// Thread safety: values.

#include <optional>
#include <string>
#include <utility>

namespace fwcanary::rundir {

inline constexpr const char* kPreflightStep = "preflight";
inline constexpr const char* kBaselineStep = "baseline";
inline constexpr const char* kPostflightStep = "postflight";

enum class WaveStep { kDuring, kActivation, kAfter, kJudge, kRollback };

std::string WaveName(int wave);                 // "wave2"
std::string StepName(int wave, WaveStep step);  // "wave2.judge"
// The wave and step of a wave step's name; nullopt for any other name.
std::optional<std::pair<int, WaveStep>> ParseStepName(const std::string& name);

class RunLayout {
 public:
  explicit RunLayout(std::string dir) : dir_(std::move(dir)) {}
  const std::string& dir() const { return dir_; }

  std::string JournalPath() const { return dir_ + "/journal.db"; }
  std::string LogPath() const { return dir_ + "/run.log"; }
  std::string ResultPath() const { return dir_ + "/result.json"; }
  std::string SamplesDir() const { return dir_ + "/samples"; }
  std::string SamplesPath(const std::string& window, const std::string& node) const;
  // A samples path a step recorded, or the same file name under this directory's samples/ when
  // that exists (a run directory copied elsewhere, or committed as a fixture).
  std::string LocateSamples(const std::string& recorded) const;
  // The name a samples file is shown by in reports: "samples/<file>".
  static std::string SamplesDisplayName(const std::string& path);
  std::string VerdictJsonPath(int wave) const {
    return dir_ + "/verdict-" + WaveName(wave) + ".json";
  }
  std::string VerdictTextPath(int wave) const {
    return dir_ + "/verdict-" + WaveName(wave) + ".txt";
  }
  // The upgrade window's judgment (harness/judge/upgrade_window.h).
  std::string UpgradeJsonPath(int wave) const {
    return dir_ + "/upgrade-" + WaveName(wave) + ".json";
  }
  std::string UpgradeTextPath(int wave) const {
    return dir_ + "/upgrade-" + WaveName(wave) + ".txt";
  }
  // The service levels' judgment (harness/judge/slo.h) of one window: "baseline", "wave1", ...
  std::string SloJsonPath(const std::string& window) const { return dir_ + "/slo-" + window + ".json"; }
  std::string SloTextPath(const std::string& window) const { return dir_ + "/slo-" + window + ".txt"; }
  // The headroom judged on a window's ramp (harness/judge/headroom.h): "baseline", "wave1", ...
  std::string HeadroomJsonPath(const std::string& window) const { return dir_ + "/headroom-" + window + ".json"; }
  std::string HeadroomTextPath(const std::string& window) const { return dir_ + "/headroom-" + window + ".txt"; }
  std::string DriftBeforePath(const std::string& node) const {
    return dir_ + "/drift-before-" + node + ".txt";
  }
  std::string DriftAfterPath(const std::string& node) const {
    return dir_ + "/drift-after-" + node + ".txt";
  }

 private:
  std::string dir_;
};

}  // namespace fwcanary::rundir
