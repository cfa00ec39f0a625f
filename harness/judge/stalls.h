#pragma once
// Stalls: a few seconds in which every operation of a node waits (a GC pause, a noisy
// neighbour, a controller failover), found in each window and judged on their own.
//
// Why: a 2 s stall at 20x latency puts ~2% of a 90 s block's operations at 20x, so that block's
// p99 is 20x and the batch-means noise of the whole window explodes. Left in, one stall in a
// good firmware's window FAILed it one time in four, and one stall in a control's window made
// every metric's run-to-run noise so large that a doubled p99 went unseen (issue 19). So a
// short stall is a finding of its own ("node-1: I/O stalled 2.1 s at t=475 s in the surge
// window"), latency is judged without its seconds (the time slots stay, only their latency
// samples go, so paired blocks stay paired), and whether the canary stalls more often than
// the other windows is a verdict of its own (StallVerdict in judge.cc).
//
// What counts: an interval whose upper-quartile latency is at least kStallFactor times the
// window's typical upper quartile, in the median class (a stall hits every class; one class
// slow alone is a regression for the class metrics, not a stall), with the neighbouring
// intervals that are elevated too (a stall straddles interval edges). Spans longer than
// kMaxStallS are a slow spell, not a stall: they stay in and the latency metrics judge them.
// A window keeps its stalls in when it has more than kMaxExcisedSpans of them or they cover
// more than kMaxExcisedShare of it: then they are the window's behaviour, not an accident. The
// share is generous on purpose: a 2 s stall with its edges is 4 intervals, 20% of the lab's
// 20 s surge, and keeping it in one window while the other window's is left out made an A/A
// p99 "x4.5" on 40 s windows; how often a node stalls is the stall verdict's to judge.
//
// Thread safety: pure functions.

#include <string>
#include <vector>

#include "harness/judge/samples.h"

namespace fwcanary::judge {

inline constexpr double kStallFactor = 5;
inline constexpr double kStallEdgeFactor = 1.5;
inline constexpr double kMaxStallS = 5;
inline constexpr int kMaxExcisedSpans = 3;
inline constexpr double kMaxExcisedShare = 0.25;

struct StallSpan {
  std::size_t first = 0, last = 0;  // interval indices, inclusive
  double t_begin = 0, t_end = 0;    // run time (s)
  double seconds = 0;               // time above kStallFactor (the stall itself)
  double factor = 0;                // peak upper-quartile latency / the window's typical
};

struct WindowStalls {
  std::vector<StallSpan> spans;  // every stall found, in time order
  bool excised = false;          // their latency samples are left out of the latency metrics
  std::vector<char> skip;        // per interval: 1 = left out (empty when nothing is)
};

// Needs 20 intervals or more to know what is typical; fewer: no stalls.
WindowStalls FindStalls(const Window& w);

// "I/O stalled 2.1 s at t=475 s (latency x23)"
std::string DescribeStall(const StallSpan& s);

}  // namespace fwcanary::judge
