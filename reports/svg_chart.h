#pragma once
// SvgLineChart: a line chart as inline SVG, drawn by the project so report.html needs nothing
// fetched at view time. Lines (a NaN y is a gap, not a zero), vertical event markers (upgrade,
// reboot, rollback), shaded bands (phases: steady, surge, drain), linear or log axes with
// readable ticks, and a legend. Every element carries a <title> so hovering tells the value.
//
// Thread safety: pure function.

#include <string>
#include <vector>

namespace fwcanary::reports {

struct ChartLine {
  std::string label;
  std::string color;  // CSS color
  std::vector<double> x, y;
  bool dashed = false;
};

struct ChartMarker {
  double x = 0;
  std::string label;
  std::string color = "#b00";
};

struct ChartBand {
  double x0 = 0, x1 = 0;
  std::string label;
  std::string color = "#f3f3f3";
};

struct ChartSpec {
  std::string title, x_label, y_label;
  bool log_x = false, log_y = false;
  std::vector<ChartLine> lines;
  std::vector<ChartMarker> markers;
  std::vector<ChartBand> bands;
  int width = 480, height = 220;
};

std::string RenderLineChart(const ChartSpec& spec);

// Readable tick values covering [lo, hi]: 1-2-5 steps on a linear axis, powers of ten on a log
// axis (lo > 0). Exposed for tests.
std::vector<double> NiceTicks(double lo, double hi, bool log, int target = 5);

// A coordinate as SVG wants it: one decimal, no exponent.
std::string SvgCoordinate(double v);

// A number as a short axis label: 1.5k, 250, 0.12, 3e-05.
std::string ShortNumber(double v);

}  // namespace fwcanary::reports
