#include "reports/svg_timeline.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "reports/svg_chart.h"
#include "reports/xml_text.h"

namespace fwcanary::reports {
std::string StateColor(const std::string& state) {
  static const std::map<std::string, std::string> colors = {
      {"ready", "#9ecae1"},         {"flash_sent", "#fdae6b"},    {"flash_acked", "#fd8d3c"},
      {"active", "#74c476"},        {"failed", "#d62728"},        {"rollback_sent", "#c994c7"},
      {"rollback_acked", "#df65b0"}, {"rolled_back", "#807dba"},  {"flash_unknown", "#e6550d"},
      {"rollback_unknown", "#ae017e"},
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
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"timeline\" width=\"" +
                    std::to_string(width) + "\" height=\"" + SvgCoordinate(height) +
                    "\" viewBox=\"0 0 " + std::to_string(width) + " " + SvgCoordinate(height) +
                    "\" role=\"img\" aria-label=\"timeline of the run\">\n";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    double y = top + row_h * static_cast<double>(i);
    svg += "<text x=\"" + SvgCoordinate(left - 6) + "\" y=\"" + SvgCoordinate(y + 13) +
           "\" text-anchor=\"end\">" + XmlEscape(rows[i].label) + "</text>\n";
    for (const auto& s : rows[i].segments) {
      double x = sx(s.t0), w = std::max(sx(s.t1) - x, 1.5);
      svg += "<rect x=\"" + SvgCoordinate(x) + "\" y=\"" + SvgCoordinate(y + 2) + "\" width=\"" +
             SvgCoordinate(w) + "\" height=\"" + SvgCoordinate(row_h - 4) + "\" fill=\"" +
             StateColor(s.state) + "\" class=\"seg\"><title>" + XmlEscape(s.label) +
             "</title></rect>\n";
    }
  }
  double base = top + row_h * static_cast<double>(rows.size());
  svg += "<g class=\"axis\"><line x1=\"" + SvgCoordinate(left) + "\" x2=\"" +
         SvgCoordinate(left + pw) + "\" y1=\"" + SvgCoordinate(base) + "\" y2=\"" +
         SvgCoordinate(base) + "\"/>\n";
  for (double t : NiceTicks(0, span, false, 8)) {
    svg += "<line x1=\"" + SvgCoordinate(sx(t)) + "\" x2=\"" + SvgCoordinate(sx(t)) + "\" y1=\"" +
           SvgCoordinate(base) + "\" y2=\"" + SvgCoordinate(base + 4) + "\"/><text x=\"" +
           SvgCoordinate(sx(t)) + "\" y=\"" + SvgCoordinate(base + 16) +
           "\" text-anchor=\"middle\">" + ShortNumber(t) + " s</text>\n";
  }
  return svg + "</g>\n</svg>\n";
}

}  // namespace fwcanary::reports
