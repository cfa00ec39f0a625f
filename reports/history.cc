#include "reports/history.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <limits>
#include <map>

#include "common/sqlite_db.h"
#include "reports/run_model.h"

namespace fwcanary::reports {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const char kSchema[] = R"(
CREATE TABLE IF NOT EXISTS runs (id TEXT PRIMARY KEY, scenario TEXT NOT NULL, started REAL NOT NULL,
  image TEXT, version TEXT, verdict TEXT NOT NULL, exit_code INTEGER, reason TEXT, run_dir TEXT,
  duration_s REAL);
CREATE TABLE IF NOT EXISTS figures (run_id TEXT, wave INTEGER, role TEXT, phase TEXT, class TEXT,
  throughput REAL, p50_ms REAL, p99_ms REAL, p999_ms REAL, errors INTEGER,
  PRIMARY KEY (run_id, wave, role, phase, class));
CREATE TABLE IF NOT EXISTS verdicts (run_id TEXT, wave INTEGER, node TEXT, phase TEXT, class TEXT,
  metric TEXT, verdict TEXT, effect REAL, PRIMARY KEY (run_id, wave, node, phase, class, metric));
CREATE TABLE IF NOT EXISTS samples (run_id TEXT, wave INTEGER, node TEXT, path TEXT,
  PRIMARY KEY (run_id, wave, node));
CREATE TABLE IF NOT EXISTS headroom (run_id TEXT, wave INTEGER, node TEXT, role TEXT, knee_before REAL,
  knee_after REAL, text_before TEXT, text_after TEXT, verdict TEXT, PRIMARY KEY (run_id, wave, node));
)";

std::string PlainNumber(double v) {
  char b[64];
  std::snprintf(b, sizeof b, "%.10g", v);
  return b;
}

Result<std::unique_ptr<SqliteDb>> OpenHistory(const std::string& path, bool create) {
  if (!create && !fs::exists(path)) return Status::NotFound(path + ": no history yet (a finished run records one)");
  std::error_code ec;
  if (create && fs::path(path).has_parent_path()) fs::create_directories(fs::path(path).parent_path(), ec);
  return SqliteDb::Open(path, create, kSchema);
}

double Median(std::vector<double> v) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(v.begin(), v.end());
  std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

}  // namespace

Status RecordRun(const std::string& db_path, const json& model, const std::string& run_dir) {
  auto opened = OpenHistory(db_path, true);
  if (!opened.ok()) return opened.status();
  SqliteDb& db = *opened.value();
  const json& run = model["run"];
  const std::string id = ModelString(run, "id");
  std::error_code ec;
  const std::string dir = fs::absolute(run_dir, ec).string();
  for (const char* table : {"figures", "verdicts", "samples", "headroom"}) {
    if (Status s = db.Exec(std::string("DELETE FROM ") + table + " WHERE run_id = ?", {id}); !s.ok()) return s;
  }
  Status s =
      db.Exec("INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
              {id, ModelString(run, "scenario"), PlainNumber(run.value("started", 0.0)),
               ModelString(run, "image"), ModelString(run, "version"), ModelString(run, "verdict"),
               run["exit_code"].is_number() ? std::to_string(run["exit_code"].get<int>()) : "",
               ModelString(run, "reason"), dir, PlainNumber(run.value("duration_s", 0.0))});
  if (!s.ok()) return s;
  for (const auto& win : model["windows"]) {
    if (ModelString(win, "kind") != "after" && ModelString(win, "kind") != "baseline") continue;
    const std::string wave = std::to_string(win.value("wave", 0));
    for (const auto& f : win["figures"]) {
      s = db.Exec("INSERT OR REPLACE INTO figures VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                  {id, wave, ModelString(f, "role"), ModelString(f, "phase"),
                   ModelString(f, "class"), PlainNumber(f.value("throughput", 0.0)),
                   PlainNumber(f.value("p50_ms", 0.0)), PlainNumber(f.value("p99_ms", 0.0)),
                   PlainNumber(f.value("p999_ms", 0.0)), std::to_string(f.value("errors", 0))});
      if (!s.ok()) return s;
    }
    for (const auto& n : win["nodes"]) {
      if (ModelString(win, "kind") != "after" || ModelString(n, "role") != "canary") continue;
      s = db.Exec("INSERT OR REPLACE INTO samples VALUES (?, ?, ?, ?)",
                  {id, wave, ModelString(n, "node"), dir + "/" + ModelString(n, "file")});
      if (!s.ok()) return s;
    }
  }
  // Each client's knee before and after (harness/judge/headroom.h): a nightly trend of headroom.
  for (const auto& w : model["waves"]) {
    if (!w.contains("headroom") || !w["headroom"].is_object()) continue;
    for (const auto& n : w["headroom"].value("nodes", json::array())) {
      auto knee = [&](const char* when) {
        const json& k = n.contains(when) ? n[when] : json();
        return k.is_object() && k["knee"].is_number() ? PlainNumber(k["knee"].get<double>()) : std::string();
      };
      auto text = [&](const char* when) {
        const json& k = n.contains(when) ? n[when] : json();
        return k.is_object() ? ModelString(k, "text") : std::string();
      };
      s = db.Exec("INSERT OR REPLACE INTO headroom VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                  {id, std::to_string(w.value("wave", 0)), ModelString(n, "node"), ModelString(n, "role"),
                   knee("before"), knee("after"), text("before"), text("after"), ModelString(n, "verdict")});
      if (!s.ok()) return s;
    }
  }
  for (const auto& w : model["waves"]) {
    if (!w["judge"].is_object()) continue;
    for (const auto& m : w["judge"].value("metrics", json::array())) {
      double effect = m["vs_baseline"].is_object() ? m["vs_baseline"].value("effect", 0.0) : std::numeric_limits<double>::quiet_NaN();
      s = db.Exec("INSERT OR REPLACE INTO verdicts VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                  {id, std::to_string(w.value("wave", 0)), ModelString(m, "node"),
                   ModelString(m, "phase"), ModelString(m, "class"), ModelString(m, "metric"),
                   ModelString(m, "verdict"), std::isfinite(effect) ? PlainNumber(effect) : ""});
      if (!s.ok()) return s;
    }
  }
  return Status::Ok();
}

Result<std::string> RenderHistory(const std::string& db_path, const HistoryQuery& q) {
  auto opened = OpenHistory(db_path, false);
  if (!opened.ok()) return opened.status();
  SqliteDb& db = *opened.value();
  std::vector<std::string> scenarios;
  if (!q.scenario.empty()) {
    scenarios.push_back(q.scenario);
  } else {
    for (auto& r : db.Query("SELECT DISTINCT scenario FROM runs ORDER BY scenario")) scenarios.push_back(r[0]);
  }
  std::string out;
  char line[512];
  for (const auto& sc : scenarios) {
    auto runs = db.Query("SELECT id, started, version, verdict, exit_code, reason FROM "
                         "(SELECT * FROM runs WHERE scenario = ? ORDER BY started DESC LIMIT ?) ORDER BY started",
                         {sc, std::to_string(q.last)});
    if (runs.empty()) {
      out += "scenario " + sc + ": no runs recorded\n";
      continue;
    }
    out += "scenario " + sc + ": " + std::to_string(runs.size()) + " run(s), oldest first\n";
    std::snprintf(line, sizeof line, "  %-3s %-20s %-20s %-13s %s\n", "#", "STARTED (UTC)", "VERSION", "VERDICT", "REASON");
    out += line;
    std::map<std::string, int> index;
    for (std::size_t i = 0; i < runs.size(); ++i) {
      index[runs[i][0]] = static_cast<int>(i);
      std::time_t t = static_cast<std::time_t>(std::stod(runs[i][1]));
      char ts[32];
      std::strftime(ts, sizeof ts, "%Y-%m-%d %H:%M", std::gmtime(&t));
      std::string reason = runs[i][5].size() > 70 ? runs[i][5].substr(0, 67) + "..." : runs[i][5];
      std::snprintf(line, sizeof line, "  %-3zu %-20s %-20s %-13s %s\n", i + 1, ts, runs[i][2].c_str(), runs[i][3].c_str(),
                    reason.c_str());
      out += line;
    }
    // Trends: the first wave's canary (the node that sees a new build first), per phase and
    // class, run by run; each value against the median of the passing runs before it.
    auto rows = db.Query(
        "SELECT f.run_id, f.phase, f.class, f.p99_ms, f.throughput, r.verdict FROM figures f JOIN runs r ON r.id = f.run_id "
        "WHERE r.scenario = ? AND f.wave = 1 AND f.role = 'canary' ORDER BY f.phase, f.class, r.started",
        {sc});
    std::map<std::pair<std::string, std::string>, std::vector<std::vector<std::string>>> by;
    for (auto& r : rows) {
      if (index.count(r[0])) by[{r[1], r[2]}].push_back(r);
    }
    // The canary's knee after the upgrade, run by run: the capacity a release kept.
    auto knees = db.Query(
        "SELECT h.run_id, h.knee_after, h.text_after, r.verdict FROM headroom h JOIN runs r ON r.id = h.run_id "
        "WHERE r.scenario = ? AND h.wave = 1 AND h.role = 'candidate' ORDER BY r.started, h.node",
        {sc});
    std::string knee_line;
    std::vector<double> passing_knees;
    for (const auto& r : knees) {
      if (!index.count(r[0])) continue;
      const double v = r[1].empty() ? 0 : std::stod(r[1]);
      const double med = Median(passing_knees);
      const bool worse = std::isfinite(med) && med > 0 && v < med / 1.2;
      std::snprintf(line, sizeof line, " #%d %-12s", index[r[0]] + 1, (r[2] + (worse ? "!" : "")).c_str());
      knee_line += line;
      if (r[3] == "PASS") passing_knees.push_back(v);
    }
    if (!knee_line.empty()) {
      out += "  headroom of the canary (wave 1): its ramp's knee after the upgrade; '!' marks one 20% or more below "
             "the median of the passing runs before it\n  " +
             std::string(28, ' ') + knee_line + "\n";
    }
    if (by.empty()) continue;
    out += "  trend of the canary (wave 1) per run; '!' marks a value 20% or more worse than the median of the passing runs before it\n";
    for (const auto& [key, list] : by) {
      for (int which = 0; which < 2; ++which) {
        std::string name = key.first + " " + key.second + (which == 0 ? " p99 ms" : " ops/s");
        std::snprintf(line, sizeof line, "  %-28s", name.c_str());
        out += line;
        std::vector<double> passing;
        for (const auto& r : list) {
          double v = std::stod(r[3 + which]);
          double med = Median(passing);
          bool worse = std::isfinite(med) && med > 0 && (which == 0 ? v > med * 1.2 : v < med / 1.2);
          std::snprintf(line, sizeof line, " #%d %-9s", index[r[0]] + 1,
                        (PlainNumber(std::round(v * 100) / 100) + (worse ? "!" : "")).c_str());
          out += line;
          if (r[5] == "PASS") passing.push_back(v);
        }
        out += "\n";
      }
    }
  }
  return out;
}

Result<std::vector<std::string>> PassingRunSamples(const std::string& db_path, const std::string& scenario, int n) {
  auto opened = OpenHistory(db_path, false);
  if (!opened.ok()) return opened.status();
  SqliteDb& db = *opened.value();
  std::vector<std::string> files;
  auto runs = db.Query("SELECT id FROM runs WHERE scenario = ? AND verdict = 'PASS' ORDER BY started DESC LIMIT ?",
                       {scenario, std::to_string(n)});
  for (const auto& r : runs) {
    for (auto& s : db.Query("SELECT path FROM samples WHERE run_id = ? ORDER BY wave, node", {r[0]})) {
      if (fs::exists(s[0])) files.push_back(s[0]);
    }
  }
  if (files.empty()) {
    return Status::NotFound(db_path + ": no passing run of scenario '" + scenario + "' with its samples still on disk");
  }
  return files;
}

}  // namespace fwcanary::reports
