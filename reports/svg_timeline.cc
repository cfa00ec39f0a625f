#include "reports/svg_timeline.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "reports/svg_chart.h"
#include "reports/xml_text.h"

namespace fwcanary::reports {
namespace {

const auto& Num = SvgCoordinate;

}  // namespace

std::string StateColor(const std::string& state) {
  static const std::map<std::string, std::string> colors = {
      {"ready", "#9ecae1"},         {"flash_sent", "#fdae6b"},    {"flash_acked", "#fd8d3c"},
      {"active", "#74c476"},        {"failed", "#d62728"},        {"rollback_sent", "#c994c7"},
      {"rollback_acked", "#df65b0"}, {"rolled_back", "#807dba"},
      {"step", "#bdbdbd"},          {"step-done", "#969696"}};
  auto it = colors.find(state);
  return it == colors.end() ? "#cccccc" : it->second;
}

std::string RenderTimeline(const std::vector<TimelineRow>& rows, double duration_s, int width) {
  const double left = 130, right = 12, top = 8, row_h = 18, axis_h = 24;
  const double pw = width - left - right;
  const double height = top + row_h * static_cast<double>(rows.size()) + axis_h;
  const double span = std::max(duration_s, 1.0);
  auto sx = [&](double t) { return left + std::clamp(t / span, 0.0, 1.0) * pw; };
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"timeline\" width=\"" + std::to_string(width) +
                    "\" height=\"" + Num(height) + "\" viewBox=\"0 0 " + std::to_string(width) + " " + Num(height) +
                    "\" role=\"img\" aria-label=\"timeline of the run\">\n";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    double y = top + row_h * static_cast<double>(i);
    svg += "<text x=\"" + Num(left - 6) + "\" y=\"" + Num(y + 13) + "\" text-anchor=\"end\">" +
           XmlEscape(rows[i].label) + "</text>\n";
    for (const auto& s : rows[i].segments) {
      double x = sx(s.t0), w = std::max(sx(s.t1) - x, 1.5);
      svg += "<rect x=\"" + Num(x) + "\" y=\"" + Num(y + 2) + "\" width=\"" + Num(w) + "\" height=\"" +
             Num(row_h - 4) + "\" fill=\"" + StateColor(s.state) + "\" class=\"seg\"><title>" +
             XmlEscape(s.label) + "</title></rect>\n";
    }
  }
  double base = top + row_h * static_cast<double>(rows.size());
  svg += "<g class=\"axis\"><line x1=\"" + Num(left) + "\" x2=\"" + Num(left + pw) + "\" y1=\"" + Num(base) +
         "\" y2=\"" + Num(base) + "\"/>\n";
  for (double t : NiceTicks(0, span, false, 8)) {
    svg += "<line x1=\"" + Num(sx(t)) + "\" x2=\"" + Num(sx(t)) + "\" y1=\"" + Num(base) + "\" y2=\"" + Num(base + 4) +
           "\"/><text x=\"" + Num(sx(t)) + "\" y=\"" + Num(base + 16) + "\" text-anchor=\"middle\">" +
           ShortNumber(t) + " s</text>\n";
  }
  return svg + "</g>\n</svg>\n";
}

}  // namespace fwcanary::reports
