#include "reports/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "reports/xml_text.h"

namespace fwcanary::reports {
std::string SvgCoordinate(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f", v);
  return b;
}

std::string ShortNumber(double v) {
  char b[32];
  double a = std::fabs(v);
  if (a == 0) return "0";
  if (a >= 1e6) std::snprintf(b, sizeof b, "%gM", v / 1e6);
  else if (a >= 1e3) std::snprintf(b, sizeof b, "%gk", v / 1e3);
  else if (a >= 0.01) std::snprintf(b, sizeof b, "%.3g", v);
  else std::snprintf(b, sizeof b, "%.1g", v);
  return b;
}

std::vector<double> NiceTicks(double lo, double hi, bool log, int target) {
  std::vector<double> out;
  if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi)) return {lo};
  if (log) {
    for (double p = std::pow(10.0, std::floor(std::log10(lo))); p <= hi * 1.0001; p *= 10) {
      if (p >= lo * 0.9999) out.push_back(p);
    }
    if (out.size() < 2) return NiceTicks(lo, hi, false, target);
    return out;
  }
  double raw = (hi - lo) / std::max(target, 1);
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  }
  for (double t = std::ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) {
    out.push_back(std::fabs(t) < step * 1e-9 ? 0.0 : t);
  }
  return out;
}

std::string RenderLineChart(const ChartSpec& s) {
  const double left = 58, right = 12, top = 26, bottom = 40;
  const double pw = s.width - left - right, ph = s.height - top - bottom;
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  auto usable = [](double v, bool log) { return std::isfinite(v) && (!log || v > 0); };
  for (const auto& l : s.lines) {
    for (std::size_t i = 0; i < l.x.size() && i < l.y.size(); ++i) {
      if (!usable(l.x[i], s.log_x) || !usable(l.y[i], s.log_y)) continue;
      x0 = std::min(x0, l.x[i]);
      x1 = std::max(x1, l.x[i]);
      y0 = std::min(y0, l.y[i]);
      y1 = std::max(y1, l.y[i]);
    }
  }
  for (const auto& m : s.markers) {
    if (std::isfinite(x0)) {
      x0 = std::min(x0, m.x);
      x1 = std::max(x1, m.x);
    }
  }
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"" + std::to_string(s.width) +
                    "\" height=\"" + std::to_string(s.height) + "\" viewBox=\"0 0 " + std::to_string(s.width) + " " +
                    std::to_string(s.height) + "\" role=\"img\" aria-label=\"" + XmlEscape(s.title) + "\">\n";
  svg += "<text x=\"" + SvgCoordinate(left) + "\" y=\"16\" class=\"title\">" + XmlEscape(s.title) +
         "</text>\n";
  if (!std::isfinite(x0)) {
    svg += "<text x=\"" + SvgCoordinate(left + pw / 2) + "\" y=\"" + SvgCoordinate(top + ph / 2) +
           "\" text-anchor=\"middle\" class=\"empty\">no data</text>\n</svg>\n";
    return svg;
  }
  if (!s.log_y && y0 > 0) y0 = 0;  // rates and latencies read best from zero
  if (x1 <= x0) x1 = x0 + 1;
  if (y1 <= y0) y1 = y0 + (y0 == 0 ? 1 : std::fabs(y0));
  if (s.log_y) {
    y0 = std::pow(10.0, std::floor(std::log10(y0)));
    y1 = std::pow(10.0, std::ceil(std::log10(y1)));
  } else {
    y1 *= 1.05;
  }
  if (s.log_x) {
    x0 = std::pow(10.0, std::floor(std::log10(x0)));
    x1 = std::pow(10.0, std::ceil(std::log10(x1)));
  }
  auto sx = [&](double x) {
    double f = s.log_x ? (std::log10(x) - std::log10(x0)) / (std::log10(x1) - std::log10(x0)) : (x - x0) / (x1 - x0);
    return left + f * pw;
  };
  auto sy = [&](double y) {
    double f = s.log_y ? (std::log10(y) - std::log10(y0)) / (std::log10(y1) - std::log10(y0)) : (y - y0) / (y1 - y0);
    return top + ph - f * ph;
  };
  for (const auto& b : s.bands) {
    double a = std::max(b.x0, x0), z = std::min(b.x1, x1);
    if (z <= a) continue;
    svg += "<rect x=\"" + SvgCoordinate(sx(a)) + "\" y=\"" + SvgCoordinate(top) + "\" width=\"" +
           SvgCoordinate(sx(z) - sx(a)) + "\" height=\"" + SvgCoordinate(ph) + "\" fill=\"" +
           XmlEscape(b.color) + "\"><title>" + XmlEscape(b.label) + "</title></rect>\n";
    svg += "<text x=\"" + SvgCoordinate(sx(a) + 3) + "\" y=\"" + SvgCoordinate(top + 11) +
           "\" class=\"band\">" + XmlEscape(b.label) + "</text>\n";
  }
  svg += "<g class=\"axis\">\n";
  for (double t : NiceTicks(y0, y1, s.log_y)) {
    svg += "<line x1=\"" + SvgCoordinate(left) + "\" x2=\"" + SvgCoordinate(left + pw) +
           "\" y1=\"" + SvgCoordinate(sy(t)) + "\" y2=\"" + SvgCoordinate(sy(t)) +
           "\" class=\"grid\"/><text x=\"" + SvgCoordinate(left - 4) + "\" y=\"" +
           SvgCoordinate(sy(t) + 4) + "\" text-anchor=\"end\">" + ShortNumber(t) + "</text>\n";
  }
  for (double t : NiceTicks(x0, x1, s.log_x)) {
    svg += "<line x1=\"" + SvgCoordinate(sx(t)) + "\" x2=\"" + SvgCoordinate(sx(t)) + "\" y1=\"" +
           SvgCoordinate(top + ph) + "\" y2=\"" + SvgCoordinate(top + ph + 4) + "\"/><text x=\"" +
           SvgCoordinate(sx(t)) + "\" y=\"" + SvgCoordinate(top + ph + 16) +
           "\" text-anchor=\"middle\">" + ShortNumber(t) + "</text>\n";
  }
  svg += "<rect x=\"" + SvgCoordinate(left) + "\" y=\"" + SvgCoordinate(top) + "\" width=\"" +
         SvgCoordinate(pw) + "\" height=\"" + SvgCoordinate(ph) +
         "\" fill=\"none\" class=\"frame\"/>\n";
  svg += "<text x=\"" + SvgCoordinate(left + pw / 2) + "\" y=\"" + SvgCoordinate(s.height - 6.0) +
         "\" text-anchor=\"middle\">" + XmlEscape(s.x_label) + "</text>\n";
  svg += "<text transform=\"translate(12," + SvgCoordinate(top + ph / 2) +
         ") rotate(-90)\" text-anchor=\"middle\">" + XmlEscape(s.y_label) + "</text>\n</g>\n";
  for (const auto& m : s.markers) {
    if (m.x < x0 || m.x > x1) continue;
    svg += "<line x1=\"" + SvgCoordinate(sx(m.x)) + "\" x2=\"" + SvgCoordinate(sx(m.x)) +
           "\" y1=\"" + SvgCoordinate(top) + "\" y2=\"" + SvgCoordinate(top + ph) + "\" stroke=\"" +
           XmlEscape(m.color) + "\" stroke-dasharray=\"4 3\" class=\"marker\"><title>" +
           XmlEscape(m.label) + "</title></line>\n<text x=\"" + SvgCoordinate(sx(m.x) + 3) +
           "\" y=\"" + SvgCoordinate(top + ph - 4) + "\" class=\"marker-label\" fill=\"" +
           XmlEscape(m.color) + "\">" + XmlEscape(m.label) + "</text>\n";
  }
  double legend_x = left + 4;
  for (const auto& l : s.lines) {
    std::string d;
    bool pen_down = false;
    for (std::size_t i = 0; i < l.x.size() && i < l.y.size(); ++i) {
      if (!usable(l.x[i], s.log_x) || !usable(l.y[i], s.log_y)) {
        pen_down = false;
        continue;
      }
      d += (pen_down ? " L" : " M") + SvgCoordinate(sx(l.x[i])) + " " + SvgCoordinate(sy(l.y[i]));
      pen_down = true;
    }
    svg += "<path d=\"" + d + "\" fill=\"none\" stroke=\"" + XmlEscape(l.color) + "\" stroke-width=\"1.6\"" +
           (l.dashed ? " stroke-dasharray=\"6 3\"" : "") + " class=\"line\"><title>" + XmlEscape(l.label) +
           "</title></path>\n";
    svg += "<rect x=\"" + SvgCoordinate(legend_x) + "\" y=\"" + SvgCoordinate(top + 16) +
           "\" width=\"10\" height=\"3\" fill=\"" + XmlEscape(l.color) + "\"/><text x=\"" +
           SvgCoordinate(legend_x + 13) + "\" y=\"" + SvgCoordinate(top + 21) +
           "\" class=\"legend\">" + XmlEscape(l.label) + "</text>\n";
    legend_x += 20 + 6.5 * static_cast<double>(l.label.size());
  }
  return svg + "</svg>\n";
}

}  // namespace fwcanary::reports
