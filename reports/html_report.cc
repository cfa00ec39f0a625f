#include "reports/html_report.h"

#include <cmath>
#include <cstdio>
#include <ctime>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "reports/run_model.h"
#include "reports/svg_chart.h"
#include "reports/svg_timeline.h"
#include "reports/xml_text.h"

namespace fwcanary::reports {
namespace {

using nlohmann::json;

const double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string H(const std::string& s) { return XmlEscape(s); }

std::string Utc(double t) {
  std::time_t s = static_cast<std::time_t>(t);
  char b[64];
  std::strftime(b, sizeof b, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&s));
  return b;
}

std::string Fixed(double v, int digits) {
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", digits, v);
  return b;
}

const std::map<std::string, std::string> kRoleColor = {
    {"baseline", "#7f7f7f"}, {"canary", "#d62728"}, {"control", "#1f77b4"}, {"upgraded", "#2ca02c"}};

const char kStyle[] = R"(
body{font:14px/1.45 "DejaVu Sans",sans-serif;margin:24px auto;max-width:1000px;color:#222;padding:0 12px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd}
h3{font-size:15px;margin:18px 0 6px}
.verdict{display:inline-block;padding:2px 10px;border-radius:4px;color:#fff;font-weight:bold}
.PASS{background:#2ca02c}.FAIL{background:#d62728}.ERROR{background:#8c564b}
.INCONCLUSIVE{background:#ff7f0e}.INCOMPLETE{background:#7f7f7f}
.reason{font-size:16px;margin:8px 0 12px}
table{border-collapse:collapse;margin:6px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f5f5f5}td.num{text-align:right;font-variant-numeric:tabular-nums}
.meta td:first-child{color:#666}
svg{display:block;margin:4px 0}svg text{font:11px "DejaVu Sans",sans-serif;fill:#333}
svg .title{font-weight:bold;font-size:12px}svg .grid{stroke:#eee}svg .frame{stroke:#999}
svg .axis line{stroke:#999}svg .band{fill:#888;font-size:10px}svg .empty{fill:#999}
.charts{display:flex;flex-wrap:wrap;gap:8px}
pre{background:#f8f8f8;border:1px solid #eee;padding:6px;white-space:pre-wrap;margin:2px 0}
.legend span{display:inline-block;width:12px;height:10px;margin:0 4px 0 10px;vertical-align:middle}
details{margin:6px 0}summary{cursor:pointer;color:#1f77b4}
.bad{color:#d62728;font-weight:bold}.del{color:#b00}.add{color:#070;font-weight:bold}
)";

// Series of one role and class in a window.
const json* FindSeries(const json& window, const std::string& role, const std::string& cls) {
  for (const auto& s : window["series"]) {
    if (ModelString(s, "role") == role && ModelString(s, "class") == cls) return &s;
  }
  return nullptr;
}

std::vector<double> Numbers(const json& arr) {
  std::vector<double> v;
  for (const auto& x : arr) v.push_back(x.is_number() ? x.get<double>() : kNaN);
  return v;
}

std::vector<ChartBand> Bands(const json& window) {
  std::vector<ChartBand> bands;
  int i = 0;
  for (const auto& p : window["phases"]) {
    bands.push_back({p.value("start", 0.0), p.value("end", 0.0), ModelString(p, "name"),
                     i++ % 2 ? "#f7f7f7" : "#eef3f8"});
  }
  return bands;
}

// Upgrade, activation and rollback of the wave's nodes, in seconds since the window started.
std::vector<ChartMarker> NodeMarkers(const json& model, const json& window, const std::set<std::string>& nodes) {
  std::vector<ChartMarker> out;
  double start = window.value("started", 0.0);
  double end = window["done"].is_number() ? window["done"].get<double>() : start + 1e9;
  for (const auto& n : model["nodes"]) {
    if (!nodes.count(ModelString(n, "name"))) continue;
    for (const auto& e : n["timeline"]) {
      double t = e.value("t", 0.0);
      if (t < start || t > end) continue;
      std::string state = ModelString(e, "state");
      if (state == "flash_acked" || state == "rollback_acked") continue;  // a moment after "sent"
      std::string label = state == "flash_sent" ? "flash " : state == "active" ? "active " : state + " ";
      out.push_back({t - start, label + ModelString(n, "name"),
                     state == "failed"                ? "#d62728"
                     : StateColor(state) == "#cccccc" ? "#b00"
                                                      : "#a0522d"});
    }
  }
  return out;
}

std::string Fixed0(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.0f", v);
  return b;
}

// The upgrade window's judgment on its during charts: each upgraded client's longest stall as
// a band, and where the limit would have ended it as a marker (harness/judge/upgrade_window.h).
void MarkStalls(const json* upgrade, std::vector<ChartBand>* bands, std::vector<ChartMarker>* markers) {
  if (upgrade == nullptr || !upgrade->is_object()) return;
  const double limit = upgrade->contains("limits") ? (*upgrade)["limits"].value("max_stall_s", 0.0) : 0.0;
  for (const auto& c : upgrade->value("clients", json::array())) {
    if (ModelString(c, "role") != "upgraded" || c.value("longest_stall_s", 0.0) <= 0 || !c.contains("stall_begin_t")) continue;
    const double b = c.value("stall_begin_t", 0.0), e = c.value("stall_end_t", 0.0), len = c.value("longest_stall_s", 0.0);
    char label[96];
    std::snprintf(label, sizeof label, "%s stalled %.0f s", ModelString(c, "node").c_str(), len);
    bands->push_back({b, e, label, len > limit ? "#f4c7c3" : "#fde9c8"});
    if (limit > 0) markers->push_back({b + limit, "stall limit " + Fixed0(limit) + " s", "#d62728"});
  }
}

std::string Charts(const json& model, const json& window, const json* baseline, const std::set<std::string>& wave_nodes,
                   const json* upgrade = nullptr) {
  std::set<std::string> classes;
  for (const auto& s : window["series"]) classes.insert(ModelString(s, "class"));
  std::vector<ChartMarker> markers = NodeMarkers(model, window, wave_nodes);
  std::vector<ChartBand> bands = Bands(window);
  MarkStalls(upgrade, &bands, &markers);
  std::string out = "<div class=\"charts\">\n";
  for (const auto& cls : classes) {
    ChartSpec tput{cls + ": throughput per client", "seconds into the window", "ops/s", false, false, {}, markers, bands};
    ChartSpec p99{cls + ": p99 latency", "seconds into the window", "ms (log)", false, true, {}, markers, bands};
    auto add = [&](const json* s, const std::string& role, bool dashed) {
      if (!s) return;
      std::vector<double> t = Numbers((*s)["t"]);
      tput.lines.push_back({role, kRoleColor.at(role), t, Numbers((*s)["throughput"]), dashed});
      p99.lines.push_back({role, kRoleColor.at(role), t, Numbers((*s)["p99_ms"]), dashed});
    };
    if (baseline) add(FindSeries(*baseline, "baseline", cls), "baseline", true);
    for (const char* role : {"baseline", "control", "upgraded", "canary"}) add(FindSeries(window, role, cls), role, false);
    out += RenderLineChart(tput) + RenderLineChart(p99);
  }
  return out + "</div>\n";
}

std::string CdfCharts(const json& window, const json* baseline) {
  std::set<std::string> classes;
  for (const auto& f : window["figures"]) classes.insert(ModelString(f, "class"));
  std::string out = "<div class=\"charts\">\n";
  for (const auto& cls : classes) {
    ChartSpec c{cls + ": latency CDF", "latency ms (log)", "fraction of operations", true, false, {}, {}, {}};
    auto add = [&](const json& win, const std::string& role) {
      for (const auto& f : win["figures"]) {
        if (ModelString(f, "class") != cls || ModelString(f, "role") != role ||
            ModelString(f, "phase") == "drain")
          continue;
        std::vector<double> x, y;
        for (const auto& p : f["cdf_ms"]) {
          x.push_back(p[0].get<double>());
          y.push_back(p[1].get<double>());
        }
        c.lines.push_back({role + " " + ModelString(f, "phase"), kRoleColor.at(role), x, y,
                           ModelString(f, "phase") != "surge"});
      }
    };
    if (baseline) add(*baseline, "baseline");
    add(window, "canary");
    out += RenderLineChart(c);
  }
  return out + "</div>\n";
}

std::string QueueChart(const json& window, const json* baseline) {
  ChartSpec q{"queue depth (accepted, not yet readable)", "seconds into the window", "messages per client", false, false,
              {}, {}, Bands(window)};
  auto add = [&](const json& win, const std::string& role, bool dashed) {
    for (const auto& s : win["queue"]) {
      if (ModelString(s, "role") == role)
        q.lines.push_back(
            {role, kRoleColor.at(role), Numbers(s["t"]), Numbers(s["depth"]), dashed});
    }
  };
  if (baseline) add(*baseline, "baseline", true);
  for (const char* role : {"baseline", "control", "upgraded", "canary"}) add(window, role, false);
  return RenderLineChart(q);
}

std::string FiguresTable(const json& window, const json* baseline) {
  std::string out = "<table><tr><th>phase</th><th>class</th><th>role</th><th>ops/s per client</th><th>p50 ms</th>"
                    "<th>p99 ms</th><th>p99.9 ms</th><th>errors</th><th>refused</th></tr>\n";
  auto rows = [&](const json& win, bool only_baseline) {
    for (const auto& f : win["figures"]) {
      if (only_baseline && ModelString(f, "role") != "baseline") continue;
      out += "<tr><td>" + H(ModelString(f, "phase")) + "</td><td>" + H(ModelString(f, "class")) +
             "</td><td>" + H(ModelString(f, "role")) + "</td><td class=num>" +
             Fixed(f.value("throughput", 0.0), 1) + "</td><td class=num>" +
             Fixed(f.value("p50_ms", 0.0), 3) + "</td><td class=num>" +
             Fixed(f.value("p99_ms", 0.0), 3) + "</td><td class=num>" +
             Fixed(f.value("p999_ms", 0.0), 3) + "</td><td class=num>" +
             std::to_string(f.value("errors", 0)) + "</td><td class=num>" +
             std::to_string(f.value("refused", 0)) + "</td></tr>\n";
    }
  };
  if (baseline) rows(*baseline, true);
  rows(window, false);
  return out + "</table>\n";
}

std::string SpaceAndDrainTable(const json& window, const json* baseline) {
  std::map<std::string, double> base_bpm;
  if (baseline) {
    for (const auto& n : (*baseline)["nodes"]) {
      if (n.contains("bytes_per_message"))
        base_bpm[ModelString(n, "node")] = n["bytes_per_message"].get<double>();
    }
  }
  std::string out = "<table><tr><th>client</th><th>role</th><th>bytes allocated per stored message</th>"
                    "<th>vs baseline</th><th>drain time s</th><th>max queue</th></tr>\n";
  for (const auto& n : window["nodes"]) {
    std::string node = ModelString(n, "node");
    std::string bpm = "-", ratio = "-";
    if (n.contains("bytes_per_message")) {
      double v = n["bytes_per_message"].get<double>();
      bpm = Fixed(v, 0);
      if (base_bpm.count(node) && base_bpm[node] > 0) ratio = "x" + Fixed(v / base_bpm[node], 2);
    }
    std::string drain = "-", maxq = "-";
    for (const auto& d : n.value("drain", json::array())) {
      drain = d["drain_time_s"].is_number() ? Fixed(d["drain_time_s"].get<double>(), 1) : "not drained";
      maxq = std::to_string(d.value("max_queue_depth", 0));
    }
    out += "<tr><td>" + H(node) + "</td><td>" + H(ModelString(n, "role")) + "</td><td class=num>" +
           bpm + "</td><td class=num>" + ratio + "</td><td class=num>" + drain +
           "</td><td class=num>" + maxq + "</td></tr>\n";
  }
  return out + "</table>\n";
}

// The service levels of one window (harness/judge/slo.h): value, limit, verdict per check.
std::string SloTable(const json& slo) {
  std::string h = "<table><tr><th>client</th><th>phase</th><th>class</th><th>metric</th><th>value</th><th>limit</th>"
                  "<th>verdict</th><th>why</th></tr>\n";
  for (const auto& c : slo.value("checks", json::array())) {
    const std::string v = ModelString(c, "verdict");
    char value[64], limit[64];
    std::snprintf(value, sizeof value, "%.3g %s", c.value("value", 0.0), ModelString(c, "unit").c_str());
    std::snprintf(limit, sizeof limit, "%s %.6g %s", ModelString(c, "metric") == "throughput" ? "&ge;" : "&le;",
                  c.value("limit", 0.0), ModelString(c, "unit").c_str());
    h += "<tr><td>" + H(ModelString(c, "node")) + "</td><td>" + H(ModelString(c, "phase")) + "</td><td>" +
         H(ModelString(c, "class")) + "</td><td>" + H(ModelString(c, "metric")) + "</td><td class=num>" + H(value) +
         "</td><td class=num>" + limit + "</td><td><span class=\"verdict " + H(v) + "\">" + H(v) +
         "</span></td><td>" + H(ModelString(c, "sentence")) + "</td></tr>\n";
  }
  for (const auto& m : slo.value("missing", json::array())) {
    h += "<tr><td colspan=8 class=bad>" + H(m.get<std::string>()) + "</td></tr>\n";
  }
  return h + "</table>\n";
}

// Headroom (harness/judge/headroom.h): per upgraded client, what it served against what was
// offered at each ramp step, before and after, the knees and the expected surge marked; then
// every client's knees and the sentence that decided.
// One client's p99 per ramp step and class, before (dashed) and after (solid): where each
// class's latency turned, next to the knees.
std::string RampLatencyChart(const json& n) {
  static const std::map<std::string, std::string> kColor = {
      {"deliver", "#c0392b"}, {"retrieve", "#2e86c1"}, {"scan", "#27ae60"}};
  ChartSpec p;
  p.title = ModelString(n, "node") + ": p99 per ramp step, by class (ms)";
  p.x_label = "offered (x steady rate)";
  p.y_label = "p99 (ms)";
  p.log_y = true;
  for (const char* when : {"before", "after"}) {
    if (!n.contains(when) || !n[when].is_object()) continue;
    const bool before = std::string(when) == "before";
    std::map<std::string, ChartLine> by_class;
    for (const auto& st : n[when].value("steps", json::array())) {
      if (!st.is_object() || !st.value("multiplier", json()).is_number()) continue;
      const json p99 = st.value("p99_us", json::object());
      if (!p99.is_object()) continue;
      for (const auto& [cls, us] : p99.items()) {
        if (!us.is_number() || us.get<double>() <= 0) continue;
        ChartLine& l = by_class[cls];
        l.x.push_back(st.value("multiplier", 0.0));
        l.y.push_back(us.get<double>() / 1000);
      }
    }
    for (auto& [cls, l] : by_class) {
      l.label = cls + " " + when;
      auto color = kColor.find(cls);
      l.color = color != kColor.end() ? color->second : "#555";
      l.dashed = before;
      p.lines.push_back(std::move(l));
    }
    const json knee = n[when].value("knee", json(nullptr));
    if (knee.is_number()) p.markers.push_back({knee.get<double>(), std::string("knee ") + when, before ? "#888" : "#c0392b"});
  }
  return p.lines.empty() ? "" : RenderLineChart(p);
}

// The knee of each class (a class can turn before the node does), before and after.
std::string ClassKneeTable(const json& hr) {
  std::string rows;
  for (const auto& n : hr.value("nodes", json::array())) {
    std::set<std::string> classes;
    for (const char* when : {"before", "after"}) {
      if (!n.contains(when) || !n[when].is_object()) continue;
      const json by_class = n[when].value("classes", json::object());  // items() must not outlive it
      if (!by_class.is_object()) continue;
      for (const auto& [cls, k] : by_class.items()) classes.insert(cls);
    }
    for (const auto& cls : classes) {
      auto text = [&](const char* when) {
        if (!n.contains(when) || !n[when].is_object()) return std::string("-");
        const json by_class = n[when].value("classes", json::object());
        if (!by_class.is_object() || !by_class.contains(cls)) return std::string("-");
        const std::string t = ModelString(by_class[cls], "text");
        return t.empty() ? std::string("-") : t;
      };
      rows += "<tr><td>" + H(ModelString(n, "node")) + "</td><td>" + H(cls) + "</td><td class=num>" +
              H(text("before")) + "</td><td class=num>" + H(text("after")) + "</td></tr>\n";
    }
  }
  if (rows.empty()) return "";
  return "<table><tr><th>client</th><th>class</th><th>knee before</th><th>knee after</th></tr>\n" + rows +
         "</table>\n";
}

std::string HeadroomSection(const json& hr) {
  std::string h;
  auto line = [](const json& knees, const char* what, const std::string& label, const std::string& color, bool dashed) {
    ChartLine l;
    l.label = label;
    l.color = color;
    l.dashed = dashed;
    const double base = knees.value("base_rate", 0.0);
    for (const auto& st : knees.value("steps", json::array())) {
      l.x.push_back(st.value("multiplier", 0.0));
      l.y.push_back(base > 0 ? st.value(what, 0.0) / base : 0.0);
    }
    return l;
  };
  for (const auto& n : hr.value("nodes", json::array())) {
    if (ModelString(n, "role") != "candidate") continue;
    ChartSpec c;
    c.title = ModelString(n, "node") + ": served vs offered per ramp step (multiples of the steady rate)";
    c.x_label = "offered (x steady rate)";
    c.y_label = "served (x steady rate)";
    for (const char* when : {"before", "after"}) {
      if (!n.contains(when) || !n[when].is_object()) continue;
      const bool before = std::string(when) == "before";
      c.lines.push_back(line(n[when], "achieved", std::string("served ") + when, before ? "#888" : "#c0392b", before));
      if (n[when]["knee"].is_number()) {
        c.markers.push_back({n[when]["knee"].get<double>(), std::string("knee ") + when, before ? "#888" : "#c0392b"});
      }
    }
    if (!c.lines.empty()) {
      ChartLine ideal = line(n.contains("after") && n["after"].is_object() ? n["after"] : n["before"], "offered",
                             "offered", "#2e86c1", true);
      c.lines.push_back(ideal);
      c.markers.push_back({hr.value("required", 0.0), "expected surge", "#b00"});
      h += RenderLineChart(c);
    }
    h += RampLatencyChart(n);
  }
  h += "<table><tr><th>client</th><th>role</th><th>knee before</th><th>knee after</th><th>verdict</th><th>why</th></tr>\n";
  for (const auto& n : hr.value("nodes", json::array())) {
    auto text = [&](const char* when) {
      return n.contains(when) && n[when].is_object() ? ModelString(n[when], "text") : std::string("-");
    };
    const std::string v = ModelString(n, "role") == "candidate" ? ModelString(n, "verdict") : "";
    h += "<tr><td>" + H(ModelString(n, "node")) + "</td><td>" + H(ModelString(n, "role")) + "</td><td class=num>" +
         H(text("before")) + "</td><td class=num>" + H(text("after")) + "</td><td>" +
         (v.empty() ? "" : "<span class=\"verdict " + H(v) + "\">" + H(v) + "</span>") + "</td><td>" +
         H(ModelString(n, "sentence")) + "</td></tr>\n";
  }
  return h + "</table>\n" + ClassKneeTable(hr);
}

std::string VerdictTable(const json& judge) {
  if (!judge.is_object()) return "<p>The judge did not run for this wave.</p>\n";
  std::string bad, good;
  int passes = 0;
  for (const auto& m : judge.value("metrics", json::array())) {
    std::string v = ModelString(m, "verdict");
    std::string cls = ModelString(m, "class");
    std::string row = "<tr><td><span class=\"verdict " + H(v) + "\">" + H(v) + "</span></td><td>" +
                      H(ModelString(m, "node")) + "</td><td>" + H(ModelString(m, "phase")) +
                      "</td><td>" + H((cls.empty() ? "" : cls + " ") + ModelString(m, "metric")) +
                      (m.value("critical", false) ? "*" : "") + "</td><td>" +
                      H(ModelString(m, "sentence")) + "</td></tr>\n";
    if (v == "PASS") {
      good += row;
      ++passes;
    } else {
      bad += row;
    }
  }
  const std::string head = "<table><tr><th>verdict</th><th>node</th><th>phase</th><th>metric</th><th>evidence</th></tr>\n";
  std::string out;
  if (!bad.empty()) out += head + bad + "</table>\n";
  if (passes > 0) {
    out += "<details><summary>" + std::to_string(passes) + " metrics PASS</summary>" + head + good + "</table></details>\n";
  }
  for (const auto& i : judge.value("integrity", json::array())) out += "<p class=bad>integrity: " + H(i.get<std::string>()) + "</p>\n";
  for (const auto& n : judge.value("notes", json::array())) out += "<p>note: " + H(n.get<std::string>()) + "</p>\n";
  for (const auto& st : judge.value("stalls", json::array())) {
    if (st.is_string()) out += "<p>stall: " + H(st.get<std::string>()) + "</p>\n";
  }
  return out + "<p>(* critical metric; score " + Fixed(judge.value("score", 0.0), 0) + ")</p>\n";
}

// Lines only before ("- "), only after ("+ "), and the rest ("  "): enough of a diff for the
// few lines a drift check prints.
std::string LineDiff(const std::string& before, const std::string& after) {
  auto lines = [](const std::string& t) {
    std::vector<std::string> v;
    std::istringstream in(t);
    for (std::string l; std::getline(in, l);) v.push_back(l);
    return v;
  };
  std::vector<std::string> b = lines(before), a = lines(after);
  std::multiset<std::string> in_a(a.begin(), a.end()), in_b(b.begin(), b.end());
  std::string out;
  for (const auto& l : b) {
    if (!in_a.count(l)) out += "<span class=del>- " + H(l) + "</span>\n";
  }
  for (const auto& l : a) {
    out += in_b.count(l) ? "  " + H(l) + "\n" : "<span class=add>+ " + H(l) + "</span>\n";
  }
  return out;
}

std::vector<TimelineRow> TimelineRows(const json& model, double start) {
  std::vector<TimelineRow> rows;
  for (const auto& s : model["steps"]) {
    // A step journaled only as done (the judge) is drawn as a point at that moment.
    double t0 = (s["started"].is_number() ? s["started"].get<double>() : s.value("done", 0.0)) - start;
    double t1 = s["done"].is_number() ? s["done"].get<double>() - start : model["run"].value("duration_s", 0.0);
    rows.push_back(
        {ModelString(s, "name"),
         {{t0, t1, s["done"].is_number() ? "step-done" : "step", ModelString(s, "name")}}});
  }
  std::sort(rows.begin(), rows.end(), [](const TimelineRow& a, const TimelineRow& b) {
    return a.segments.front().t0 < b.segments.front().t0;
  });
  const double end = model["run"].value("duration_s", 0.0);
  for (const auto& n : model["nodes"]) {
    TimelineRow row{ModelString(n, "name"), {}};
    const json& tl = n["timeline"];
    for (std::size_t i = 0; i < tl.size(); ++i) {
      double t0 = tl[i].value("t", 0.0) - start;
      double t1 = i + 1 < tl.size() ? tl[i + 1].value("t", 0.0) - start : end;
      row.segments.push_back({t0, t1, ModelString(tl[i], "state"),
                              ModelString(tl[i], "state") + ": " + ModelString(tl[i], "detail")});
    }
    rows.push_back(row);
  }
  return rows;
}

}  // namespace

std::string RenderHtml(const json& model) {
  const json& run = model["run"];
  const std::string verdict = ModelString(run, "verdict");
  const double start = run.value("started", 0.0);
  std::string h =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>fwcanary " +
      H(ModelString(run, "scenario")) + " " + H(ModelString(run, "version")) + ": " + H(verdict) +
      "</title>\n<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n<style>" +
      kStyle + "</style></head><body>\n";
  h += "<h1>fwcanary: " + H(ModelString(run, "image")) + " <span class=\"verdict " + H(verdict) +
       "\" id=\"verdict\">" + H(verdict) + "</span></h1>\n";
  h += "<p class=\"reason\">" + H(ModelString(run, "reason")) + "</p>\n";
  h += "<table class=meta><tr><td>scenario</td><td>" + H(ModelString(run, "scenario")) + " (" +
       H(ModelString(run, "scenario_path")) + ")</td></tr><tr><td>firmware</td><td>" +
       H(ModelString(run, "image")) + ", version " + H(ModelString(run, "version")) +
       "</td></tr><tr><td>run</td><td>" + H(ModelString(run, "id")) +
       (run.value("resumed", false) ? " (resumed)" : "") + "</td></tr><tr><td>started</td><td>" +
       Utc(start) + ", " + Fixed(run.value("duration_s", 0.0), 0) +
       " s</td></tr><tr><td>exit code</td><td>" +
       (run["exit_code"].is_number() ? std::to_string(run["exit_code"].get<int>())
                                     : std::string("not finished")) +
       "</td></tr></table>\n";

  h += "<h2>Waves</h2>\n<table><tr><th>wave</th><th>nodes</th><th>controls</th><th>verdict</th><th>reason</th></tr>\n";
  for (const auto& w : model["waves"]) {
    std::string nodes, controls;
    for (const auto& n : w.value("nodes", json::array())) nodes += (nodes.empty() ? "" : ", ") + n.get<std::string>();
    for (const auto& n : w.value("controls", json::array())) controls += (controls.empty() ? "" : ", ") + n.get<std::string>();
    if (w.value("reference", std::string("baseline")) != "baseline") {
      controls += " (vs " + w.value("reference", std::string()) + "'s window)";
    }
    h += "<tr><td>" + std::to_string(w.value("wave", 0)) +
         (w.value("wave", 0) == 1 ? " (canary)" : "") + "</td><td>" + H(nodes) + "</td><td>" +
         H(controls) + "</td><td><span class=\"verdict " + H(ModelString(w, "verdict")) + "\">" +
         H(ModelString(w, "verdict")) + "</span>" +
         (w["rolled_back"].is_boolean()
              ? (w["rolled_back"].get<bool>() ? " rolled back"
                                              : " <span class=bad>rollback incomplete</span>")
              : "") +
         "</td><td>" + H(ModelString(w, "reason")) + "</td></tr>\n";
  }
  h += "</table>\n";

  h += "<h2>Timeline</h2>\n<p class=legend>";
  for (const char* s : {"ready", "flash_sent", "flash_acked", "flash_unknown", "active", "failed", "rollback_sent",
                        "rollback_acked", "rollback_unknown", "rolled_back"}) {
    h += "<span style=\"background:" + StateColor(s) + "\"></span>" + std::string(s);
  }
  h += "</p>\n" + RenderTimeline(TimelineRows(model, start), run.value("duration_s", 0.0));

  const json* baseline = nullptr;
  for (const auto& w : model["windows"]) {
    if (ModelString(w, "kind") == "baseline") baseline = &w;
  }
  if (baseline) {
    h += "<h2>Baseline (before any upgrade)</h2>\n" + Charts(model, *baseline, nullptr, {}) + QueueChart(*baseline, nullptr) +
         FiguresTable(*baseline, nullptr);
  }
  if (model.contains("slo_baseline") && model["slo_baseline"].is_object()) {
    h += "<h3>The baseline's service levels (judged before anything was flashed)</h3>\n" + SloTable(model["slo_baseline"]);
  }
  if (model.contains("headroom_baseline") && model["headroom_baseline"].is_object()) {
    h += "<h3>The baseline's headroom (each client's ramp before anything was flashed)</h3>\n" +
         HeadroomSection(model["headroom_baseline"]);
  }
  for (const auto& wave : model["waves"]) {
    int n = wave.value("wave", 0);
    std::set<std::string> nodes;
    for (const auto& x : wave.value("nodes", json::array())) nodes.insert(x.get<std::string>());
    h += "<h2>Wave " + std::to_string(n) + (n == 1 ? " (canary)" : "") +
         ": <span class=\"verdict " + H(ModelString(wave, "verdict")) + "\">" +
         H(ModelString(wave, "verdict")) + "</span></h2>\n<p>" + H(ModelString(wave, "reason")) +
         "</p>\n";
    for (const auto& f : wave.value("failures", json::array())) h += "<pre class=bad>" + H(f.get<std::string>()) + "</pre>\n";
    for (const auto& w : model["windows"]) {
      if (w.value("wave", 0) != n) continue;
      if (ModelString(w, "kind") == "during") {
        h += "<h3>During the upgrade (steady load; markers: flash, activation and the stall limit; shaded: the "
             "longest stall)</h3>\n" +
             Charts(model, w, nullptr, nodes, wave.contains("upgrade") ? &wave["upgrade"] : nullptr);
      } else {
        h += "<h3>After the upgrade: canary vs baseline vs control</h3>\n" + Charts(model, w, baseline, nodes) +
             "<h3>Latency distribution</h3>\n" + CdfCharts(w, baseline) + "<h3>Queue and drain</h3>\n" +
             QueueChart(w, baseline) + SpaceAndDrainTable(w, baseline) + "<h3>Figures</h3>\n" + FiguresTable(w, baseline);
      }
    }
    if (wave.contains("slo")) h += "<h3>Service levels (absolute limits)</h3>\n" + SloTable(wave["slo"]);
    if (wave.contains("headroom")) {
      h += "<h3>Headroom: the load each client keeps up with, before and after</h3>\n" + HeadroomSection(wave["headroom"]);
    }
    h += "<h3>The judge's evidence</h3>\n" + VerdictTable(wave["judge"]);
  }

  h += "<h2>Configuration drift</h2>\n";
  std::string drift_rows;
  for (const auto& d : model["drift"]) {
    bool changed = d.value("changed", false);
    drift_rows +=
        "<tr><td>" + H(ModelString(d, "node")) + "</td><td>" + H(ModelString(d, "check")) +
        "</td><td>" + (changed ? "<span class=bad>changed</span>" : "same") + "</td><td><pre>" +
        H(ModelString(d, "before")) + "</pre></td><td>" +
        (changed ? "<pre>" + LineDiff(ModelString(d, "before"), ModelString(d, "after")) + "</pre>"
                 : "") +
        "</td></tr>\n";
  }
  h += drift_rows.empty() ? "<p>No drift checks in this scenario.</p>\n"
                          : "<table><tr><th>node</th><th>check</th><th>after upgrade</th><th>before</th><th>diff after</th></tr>\n" +
                                drift_rows + "</table>\n";

  h += "<h2>Mail integrity</h2>\n<table><tr><th>window</th><th>client</th><th>written</th><th>delivered</th>"
       "<th>retrieved</th><th>verified</th><th>lost</th><th>corrupt</th><th>agent</th></tr>\n";
  for (const auto& w : model["windows"]) {
    for (const auto& n : w["nodes"]) {
      std::string status = ModelString(n, "status") +
                           (n.contains("error") ? ": " + ModelString(n, "error") : "") +
                           (n.contains("agent_error") ? ": " + ModelString(n, "agent_error") : "");
      if (!n.contains("integrity")) {
        h += "<tr><td>" + H(ModelString(w, "name")) + "</td><td>" + H(ModelString(n, "node")) +
             "</td><td colspan=6>-</td><td>" + H(status) + "</td></tr>\n";
        continue;
      }
      const json& i = n["integrity"];
      std::size_t lost = i["lost"].size(), corrupt = i["corrupt"].size();
      h += "<tr><td>" + H(ModelString(w, "name")) + "</td><td>" + H(ModelString(n, "node")) +
           "</td><td class=num>" + std::to_string(i.value("written", 0)) + "</td><td class=num>" +
           std::to_string(i.value("delivered", 0)) + "</td><td class=num>" +
           std::to_string(i.value("retrieved", 0)) + "</td><td class=num>" +
           std::to_string(i.value("verified", 0)) + "</td><td class=\"num" + (lost ? " bad" : "") +
           "\">" + std::to_string(lost) + "</td><td class=\"num" + (corrupt ? " bad" : "") + "\">" +
           std::to_string(corrupt) + "</td><td>" + H(status) + "</td></tr>\n";
    }
  }
  h += "</table>\n";

  h += "<h2>Plan</h2>\n<pre>" + H(ModelString(run, "plan")) + "</pre>\n";
  h += "<details><summary>Event log (" + std::to_string(model["events"].size()) + ")</summary><pre>";
  for (const auto& e : model["events"]) {
    h += Fixed(e.value("t", 0.0) - start, 1) + " s  " + H(ModelString(e, "what")) + "\n";
  }
  h += "</pre></details>\n<p style=\"color:#888\">fwcanary " +
       H(ModelString(model, "tool_version")) + ", report version " +
       std::to_string(model.value("report_version", 0)) + "</p>\n</body></html>\n";
  return h;
}

}  // namespace fwcanary::reports
