#include "agents/mail/mail_engine.h"

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "agents/cpu_run_delay.h"
#include "agents/end_file_watch.h"
#include "agents/mail/arrival_schedule.h"
#include "agents/mail/mail_ops.h"
#include "agents/mail/mail_store.h"
#include "agents/mail/run_stats.h"
#include "agents/progress.h"
#include "agents/records/ramp_knee.h"

namespace fwcanary {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }
Clock::duration FromSeconds(double s) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}
// How often the phase loop looks for arrivals no worker was free to take: bounds how late a
// stalled storage's arrivals are counted (and refused when the backlog is full).
constexpr auto kFeedPoll = std::chrono::milliseconds(2);

struct Task {
  OpClass op = OpClass::kDeliver;
  Clock::time_point intended;
  uint64_t seq = 0;
  std::optional<StoredMessage> redeliver;
};

// Sums of windows over a phase or the whole run.
struct Accumulator {
  std::array<OpStats, kOpClassCount> ops;
  std::map<std::string, OpStats> steps;
  uint64_t arrivals = 0, completions = 0, accepted = 0, delivered = 0, retrieved = 0;
  uint64_t max_queue_depth = 0;
  double seconds = 0;

  void Add(const StatsWindow& w, double dt, uint64_t depth) {
    for (int i = 0; i < kOpClassCount; ++i) ops[static_cast<std::size_t>(i)].Merge(w.ops[static_cast<std::size_t>(i)]);
    for (const auto& [name, s] : w.steps) steps[name].Merge(s);  // const char* -> string
    arrivals += w.arrivals;
    completions += w.completions;
    accepted += w.accepted;
    delivered += w.delivered;
    retrieved += w.retrieved;
    max_queue_depth = std::max(max_queue_depth, depth);
    seconds += dt;
  }
};

std::string RandomRunId() {
  std::random_device rd;
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%08x", rd());
  return buf;
}

class MailRun {
 public:
  MailRun(WorkloadSpec spec, RecordSink& sink, const std::atomic<bool>& stop)
      : spec_(std::move(spec)),
        sink_(sink),
        stop_(stop),
        store_(spec.users),
        ops_(spec_, spec_.workdir, RandomRunId(), store_) {}

  Result<SummaryRecord> Execute();
  bool hung() const { return hung_; }

 private:
  void StartWorkers();
  void WorkerLoop();
  bool TakeClosedLoop(Task& t);  // false when closing; otherwise counted busy
  bool TakeOpenLoop(Task& t);    // the same, for the open loop
  void Serve(Task& t);
  void Enqueue(Task t);
  bool AcceptArrival(const Task& t);  // counts an arrival at its time; false when refused
  Task NextFromFeed();                // qmu_ held; the feed has an arrival before its end
  bool FeedHasArrival() const;        // qmu_ held
  bool ReleaseDue(Clock::time_point now);  // qmu_ held; true when it queued any
  bool BacklogEmpty() const {
    return deliver_backlog_.load() == 0 && store_.deferred_count() == 0 &&
           redeliveries_.load() == 0;
  }
  void RetryDeferred();
  bool RunPhase(std::size_t index);  // false when stopped
  // One stretch at one rate: a whole phase, or one step of a ramp.
  struct Segment {
    double rate = 0;       // ops/s intended
    double seconds = 0;    // the longest it lasts (a drain ends when its backlog is empty)
    double ramp_step = 0;  // the ramp's multiplier; 0 = not a ramp
    uint64_t seed = 0;     // of its arrival schedule
  };
  // False when stopped. `drain_time`: set when a drain's backlog emptied; `records`: the
  // intervals it closed, when not null.
  bool RunSegment(const Phase& p, const Segment& seg, Accumulator& acc, std::optional<double>* drain_time,
                  std::vector<IntervalRecord>* records);
  IntervalRecord CloseInterval(const Phase& p, double intended_rate, double ramp_step, double dt,
                               Accumulator& phase_acc);
  bool StopWorkers();                // false when the storage hung
  void FinalSweep(SummaryRecord& sum);
  std::vector<OpClass> ReportedClasses() const;

  const WorkloadSpec spec_;
  RecordSink& sink_;
  const std::atomic<bool>& stop_;
  MailStore store_;
  MailOps ops_;
  RunStats stats_;
  Progress progress_;
  Clock::time_point run_start_;
  CpuRunDelay cpu_run_delay_;  // read by the phase loop only, at each interval's close

  std::mutex qmu_;
  std::condition_variable qcv_;
  std::deque<Task> queue_;  // due work without a worker yet: the backlog, and redeliveries
  // The open-loop phase's arrivals not yet taken (guarded by qmu_). An idle worker takes the
  // next one and waits for its time itself (claim_cv_), so an arrival costs no hand-off
  // between threads; arrivals that come due while every worker is busy are counted and queued
  // by whichever thread looks first (ReleaseDue).
  ArrivalSchedule* feed_ = nullptr;
  ArrivalSchedule::Arrival feed_next_{};
  Clock::time_point feed_start_, feed_end_;
  std::condition_variable claim_cv_;
  bool closing_ = false;
  std::atomic<bool> abandon_{false};
  std::atomic<bool> closed_active_{false};
  std::atomic<uint64_t> closed_seq_{0};
  std::atomic<uint64_t> deliver_backlog_{0};
  std::atomic<uint64_t> redeliveries_{0};
  std::atomic<uint64_t> max_depth_in_interval_{0};
  std::atomic<int> busy_workers_{0};
  std::vector<std::thread> workers_;
  bool hung_ = false;

  Accumulator total_;
  std::vector<PhaseSummary> phase_summaries_;
  uint64_t seq_ = 0;
};

std::vector<OpClass> MailRun::ReportedClasses() const {
  std::vector<OpClass> out;
  if (spec_.mix.deliver > 0) out.push_back(OpClass::kDeliver);
  if (spec_.mix.retrieve > 0) out.push_back(OpClass::kRetrieve);
  if (spec_.mix.scan > 0) out.push_back(OpClass::kScan);
  return out;
}

void MailRun::StartWorkers() {
  int n = spec_.concurrency > 0 ? spec_.concurrency : spec_.workers;
  for (int i = 0; i < n; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

void MailRun::Enqueue(Task t) {
  {
    std::lock_guard<std::mutex> l(qmu_);
    queue_.push_back(std::move(t));
  }
  qcv_.notify_one();
}

bool MailRun::AcceptArrival(const Task& t) {
  stats_.CountArrival();
  if (t.op != OpClass::kDeliver) return true;
  if (deliver_backlog_.load() >= spec_.max_backlog) {
    stats_.CountRefused();  // the in-memory queue is full: the sender is told to retry
    return false;
  }
  uint64_t depth = deliver_backlog_.fetch_add(1) + 1;
  uint64_t prev = max_depth_in_interval_.load();
  while (depth > prev && !max_depth_in_interval_.compare_exchange_weak(prev, depth)) {
  }
  return true;
}

bool MailRun::FeedHasArrival() const {
  return feed_ != nullptr && !std::isinf(feed_next_.t) &&
         feed_start_ + FromSeconds(feed_next_.t) < feed_end_;
}

Task MailRun::NextFromFeed() {
  Task t;
  t.op = feed_next_.op;
  t.intended = feed_start_ + FromSeconds(feed_next_.t);
  t.seq = seq_++;
  feed_next_ = feed_->Next();
  return t;
}

bool MailRun::ReleaseDue(Clock::time_point now) {
  bool queued = false;
  while (FeedHasArrival() && feed_start_ + FromSeconds(feed_next_.t) <= now) {
    Task t = NextFromFeed();
    if (t.op != OpClass::kDeliver && queue_.size() >= spec_.max_backlog) {
      // A retrieve or scan has no queue file to wait in: past the same bound a busy POP/IMAP
      // server turns the client away. Keeps the agent's memory bounded at any rate.
      stats_.CountArrival();
      stats_.CountRefused(t.op);
      continue;
    }
    if (AcceptArrival(t)) {
      queue_.push_back(std::move(t));
      queued = true;
    }
  }
  return queued;
}

bool MailRun::TakeClosedLoop(Task& t) {
  // Closed loop: the next operation starts when the previous one ends.
  std::unique_lock<std::mutex> l(qmu_);
  qcv_.wait(l, [&] { return closing_ || closed_active_.load() || !queue_.empty(); });
  if (!queue_.empty()) {  // a deferred retry
    t = std::move(queue_.front());
    queue_.pop_front();
  } else if (closed_active_.load()) {
    t.seq = closed_seq_.fetch_add(1);
    uint64_t r = SeedFor(spec_.seed, t.seq, 3);
    t.op = PickClass(spec_.mix, static_cast<double>(r >> 11) * 0x1.0p-53);
    t.intended = Clock::now();
    if (t.op == OpClass::kDeliver) deliver_backlog_.fetch_add(1);
    stats_.CountArrival();
  } else {
    return false;  // closing
  }
  busy_workers_.fetch_add(1);  // under qmu_: StopWorkers never sees it neither queued nor busy
  return true;
}

bool MailRun::TakeOpenLoop(Task& t) {
  std::unique_lock<std::mutex> l(qmu_);
  while (true) {
    ReleaseDue(Clock::now());
    if (!queue_.empty()) {  // the backlog first, oldest first
      t = std::move(queue_.front());
      queue_.pop_front();
      busy_workers_.fetch_add(1);
      return true;
    }
    if (closing_) return false;
    if (!FeedHasArrival()) {
      qcv_.wait(l);
      continue;
    }
    // Take the next arrival and wait for its time here: under load it is already due and
    // nothing sleeps; below it, one timed wait per arrival and no wake-up of another thread.
    Task c = NextFromFeed();
    busy_workers_.fetch_add(1);  // in flight for StopWorkers while it waits
    if (claim_cv_.wait_until(l, c.intended, [&] { return closing_; })) {
      busy_workers_.fetch_sub(1);
      return false;  // stopped before its time: it never arrived
    }
    if (AcceptArrival(c)) {
      t = std::move(c);
      return true;
    }
    busy_workers_.fetch_sub(1);  // refused: the backlog is full
  }
}

void MailRun::WorkerLoop() {
  while (true) {
    Task t;
    if (!(spec_.concurrency > 0 ? TakeClosedLoop(t) : TakeOpenLoop(t))) return;
    if (abandon_.load()) {
      if (t.op == OpClass::kDeliver && !t.redeliver) deliver_backlog_.fetch_sub(1);
      if (t.redeliver) {
        store_.AddDeferred(*t.redeliver);
        redeliveries_.fetch_sub(1);
      }
    } else {
      Serve(t);
    }
    busy_workers_.fetch_sub(1);
  }
}

void MailRun::Serve(Task& t) {
  auto start = Clock::now();
  if (t.redeliver) {
    OpOutcome out = ops_.Redeliver(*t.redeliver);
    stats_.RecordRedelivery(out);
    redeliveries_.fetch_sub(1);
    return;
  }
  OpOutcome out;
  switch (t.op) {
    case OpClass::kDeliver:
      if (!ops_.HasFreeSpace()) {
        stats_.CountRefused();  // smtpd: "452 Insufficient system storage"
        deliver_backlog_.fetch_sub(1);
        return;
      }
      out = ops_.Deliver(t.seq);
      break;
    case OpClass::kRetrieve: out = ops_.Retrieve(t.seq); break;
    case OpClass::kScan: out = ops_.Scan(t.seq); break;
  }
  if (out.done == Clock::time_point()) out.done = Clock::now();
  // Time spent waiting for a worker: separates a backlog from a slow storage.
  out.steps.push_back({"queue_wait", std::chrono::duration<double, std::micro>(start - t.intended).count()});
  stats_.Record(t.op, out, std::chrono::duration<double, std::micro>(out.done - t.intended).count());
  if (t.op == OpClass::kDeliver) deliver_backlog_.fetch_sub(1);
}

void MailRun::RetryDeferred() {
  // Like Postfix's queue manager: move deferred mail back to active, a bounded batch per tick.
  for (int i = 0; i < 64; ++i) {
    auto m = store_.TakeDeferred();
    if (!m) break;
    redeliveries_.fetch_add(1);
    Task t;
    t.redeliver = std::move(*m);
    t.intended = Clock::now();
    Enqueue(std::move(t));
  }
}

IntervalRecord MailRun::CloseInterval(const Phase& p, double intended_rate, double ramp_step, double dt,
                                      Accumulator& phase_acc) {
  StatsWindow w = stats_.TakeWindow();
  uint64_t depth = deliver_backlog_.load();
  uint64_t max_depth = std::max(depth, max_depth_in_interval_.exchange(depth));
  IntervalRecord r;
  r.node = spec_.node;
  r.engine = "mail";
  r.phase = p.name;
  r.t = Seconds(Clock::now() - run_start_);
  r.dt = dt;
  r.intended_rate = intended_rate;
  r.offered_rate = dt > 0 ? static_cast<double>(w.arrivals) / dt : 0;
  r.achieved_rate = dt > 0 ? static_cast<double>(w.completions) / dt : 0;
  r.queue_depth = depth;
  r.deferred = store_.deferred_count();
  r.integrity_failures = w.integrity_failures;
  r.ramp_step = ramp_step;
  r.cpu_run_delay_us = cpu_run_delay_.Take().value_or(-1);
  r.space = ops_.SampleSpace();
  for (OpClass c : ReportedClasses()) r.ops[OpClassName(c)] = w.ops[static_cast<std::size_t>(c)];
  r.steps = w.StepsByName();
  sink_.Emit(r.ToJson());
  phase_acc.Add(w, dt, max_depth);
  total_.Add(w, dt, max_depth);
  for (const std::string& e : stats_.TakeNewErrors()) progress_.Log("error: " + e);

  const OpStats& d = w.ops[0];
  char rate_text[64];
  if (spec_.concurrency > 0) {
    std::snprintf(rate_text, sizeof(rate_text), "%.0f ops/s (closed loop)", r.achieved_rate);
  } else {
    std::snprintf(rate_text, sizeof(rate_text), "%.0f/%.0f ops/s", r.achieved_rate, intended_rate);
  }
  char line[256];
  const std::string label = ramp_step > 0 ? p.name + " " + StepText(ramp_step) : p.name;
  std::snprintf(line, sizeof(line), "%s t=%.0fs %s  deliver p99 %.1f ms  queue %llu  stored %llu",
                label.c_str(), r.t, rate_text, d.hist.Quantile(0.99) / 1000,
                static_cast<unsigned long long>(depth),
                static_cast<unsigned long long>(r.space.stored_messages));
  progress_.Update(line);
  return r;
}

bool MailRun::RunSegment(const Phase& p, const Segment& seg, Accumulator& acc, std::optional<double>* drain_time,
                         std::vector<IntervalRecord>* records) {
  const double rate = seg.rate;
  bool closed = spec_.concurrency > 0;
  ArrivalSchedule schedule(closed ? 0.0 : rate, spec_.mix, seg.seed, spec_.arrivals == "poisson");
  const auto start = Clock::now();
  const auto end = start + FromSeconds(seg.seconds);
  const auto interval = FromSeconds(spec_.interval_s);
  auto interval_start = start;
  auto next_tick = start + interval;
  std::optional<EndFileWatch> told;
  if (p.open_ended) told.emplace(spec_.workdir + "/" + kEndPhaseFile);
  if (closed && !p.drain) {
    closed_active_ = true;
  } else if (!closed) {
    std::lock_guard<std::mutex> l(qmu_);
    feed_ = &schedule;
    feed_next_ = schedule.Next();
    feed_start_ = start;
    feed_end_ = end;
  }
  qcv_.notify_all();
  bool stopped = false;
  auto close = [&](double dt) {
    IntervalRecord r = CloseInterval(p, rate, seg.ramp_step, dt, acc);
    if (records != nullptr) records->push_back(std::move(r));
  };
  while (true) {
    if (stop_.load()) {
      stopped = true;
      break;
    }
    auto now = Clock::now();
    if (!closed) {
      // Arrivals that came due while every worker was busy (a stalled storage): counted at
      // their time, refused if the backlog is full, queued for the next free worker.
      bool queued;
      {
        std::lock_guard<std::mutex> l(qmu_);
        queued = ReleaseDue(now);
      }
      if (queued) qcv_.notify_one();
    }
    if (p.drain && BacklogEmpty()) {
      *drain_time = Seconds(now - start);
      break;
    }
    if (now >= end) break;
    if (told && told->Seen()) {
      progress_.Log("phase " + p.name + ": ended by the controller after " +
                    std::to_string(static_cast<int>(Seconds(now - start))) + " s");
      break;
    }
    if (now >= next_tick) {
      RetryDeferred();
      close(Seconds(next_tick - interval_start));
      interval_start = next_tick;
      next_tick += interval;
    }
    auto wake = std::min(next_tick, end);
    if (!closed) wake = std::min(wake, now + kFeedPoll);
    if (p.drain) wake = std::min(wake, now + std::chrono::milliseconds(5));
    std::this_thread::sleep_until(wake);
  }
  if (!closed) {
    std::lock_guard<std::mutex> l(qmu_);
    feed_ = nullptr;  // arrivals not yet due when stopped never arrived
  }
  closed_active_ = false;
  // An interval never spans two phases, nor two steps of a ramp.
  double last_dt = Seconds(Clock::now() - interval_start);
  if (last_dt > 0.001 || acc.seconds == 0) close(last_dt);
  return !stopped;
}

bool MailRun::RunPhase(std::size_t index) {
  const Phase& p = spec_.phases[index];
  const bool closed = spec_.concurrency > 0;
  Accumulator acc;
  const auto start = Clock::now();
  std::optional<double> drain_time;
  bool stopped = false;
  double intended = 0;         // the phase's rate; a ramp's: its steps' rates, time-weighted
  double offered_seconds = 0;  // a ramp: each step's rate times its seconds, summed
  if (!p.IsRamp()) {
    const double rate = p.rate ? *p.rate : spec_.rate * p.multiplier;
    progress_.Log("phase " + p.name + ": " +
                  (closed ? "closed loop, " + std::to_string(spec_.concurrency) + " workers"
                          : std::to_string(static_cast<int>(rate)) + " ops/s") +
                  (p.drain ? ", until the backlog is empty" : ""));
    stopped = !RunSegment(p, Segment{rate, p.duration_s, 0, SeedFor(spec_.seed, index, 7)}, acc, &drain_time, nullptr);
    intended = rate;
  } else {
    // Climb until a step is past the knee: a ramp must not go on loading a node that is not
    // keeping up (its backlog grows with every step), and stops at duration_s whatever.
    const KneeRule rule{p.keep_up, p.latency_factor, {}};
    std::optional<RampStep> first;
    for (std::size_t k = 0; k < p.steps.size(); ++k) {
      const double left = p.duration_s - Seconds(Clock::now() - start);
      if (left < spec_.interval_s) {
        progress_.Log("phase " + p.name + ": its " + std::to_string(static_cast<int>(p.duration_s)) +
                      " s are up before step " + StepText(p.steps[k]));
        break;
      }
      const double rate = spec_.rate * p.steps[k];
      const double seconds = std::min(p.step_s, left);
      progress_.Log("phase " + p.name + ": step " + StepText(p.steps[k]) + ", " +
                    std::to_string(static_cast<int>(rate)) + " ops/s for " + std::to_string(static_cast<int>(seconds)) +
                    " s");
      std::vector<IntervalRecord> records;
      const auto step_start = Clock::now();
      const bool ran = RunSegment(p, Segment{rate, seconds, p.steps[k], SeedFor(spec_.seed, index * 1024 + k, 8)}, acc,
                                  nullptr, &records);
      offered_seconds += rate * Seconds(Clock::now() - step_start);
      if (!ran) {
        stopped = true;
        break;
      }
      RampStep step = JudgeRampStep(records, rule, first ? &*first : nullptr);
      if (!first) first = step;
      if (!step.KeptUp()) {
        progress_.Log("phase " + p.name + ": past the knee at " + StepText(p.steps[k]) + ": " + step.Why() +
                      "; the ramp stops here");
        break;
      }
    }
  }
  auto stop_at = Clock::now();
  if (p.IsRamp() && stop_at > start) intended = offered_seconds / Seconds(stop_at - start);

  PhaseSummary ps;
  ps.name = p.name;
  ps.duration_s = Seconds(stop_at - start);
  ps.intended_rate = closed ? 0 : intended;
  ps.offered_rate = ps.duration_s > 0 ? static_cast<double>(acc.arrivals) / ps.duration_s : 0;
  ps.achieved_rate = ps.duration_s > 0 ? static_cast<double>(acc.completions) / ps.duration_s : 0;
  ps.max_queue_depth = acc.max_queue_depth;
  ps.drain = p.drain;
  ps.drain_time_s = drain_time;
  for (OpClass c : ReportedClasses()) ps.ops[OpClassName(c)] = acc.ops[static_cast<std::size_t>(c)];
  phase_summaries_.push_back(std::move(ps));
  if (p.drain && !drain_time) {
    progress_.Log("phase " + p.name + ": backlog not empty after " +
                  std::to_string(static_cast<int>(p.duration_s)) + " s (queue " +
                  std::to_string(deliver_backlog_.load()) + ")");
  }
  return !stopped;
}

bool MailRun::StopWorkers() {
  // Let queued work finish, bounded by final_timeout_s; then abandon what has not started.
  auto deadline = Clock::now() + FromSeconds(spec_.final_timeout_s);
  auto shown = Clock::now();
  while (Clock::now() < deadline && !stop_.load()) {
    {
      std::lock_guard<std::mutex> l(qmu_);
      if (queue_.empty() && busy_workers_.load() == 0) break;
      // No records now: the progress line is what tells a controller this agent is alive.
      if (Clock::now() - shown > std::chrono::seconds(1)) {
        shown = Clock::now();
        progress_.Update("finishing: " + std::to_string(queue_.size()) + " queued, " +
                         std::to_string(busy_workers_.load()) + " in flight");
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  abandon_ = true;
  {
    std::lock_guard<std::mutex> l(qmu_);
    closing_ = true;
  }
  qcv_.notify_all();
  claim_cv_.notify_all();
  // Operations already inside a system call cannot be interrupted; give them a while.
  auto hard = Clock::now() + std::chrono::seconds(10);
  while (busy_workers_.load() > 0 && Clock::now() < hard) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (busy_workers_.load() > 0) {
    for (auto& w : workers_) w.detach();
    return false;
  }
  for (auto& w : workers_) w.join();
  return true;
}

void MailRun::FinalSweep(SummaryRecord& sum) {
  std::vector<StoredMessage> all = store_.Snapshot(true);
  progress_.Log("verifying " + std::to_string(all.size()) + " stored messages");
  std::size_t done = 0;
  auto shown = Clock::now();
  for (const StoredMessage& m : all) {
    Status s = ops_.Verify(m);
    if (s.ok()) {
      ++sum.messages_verified;
    } else if (s.code() == Status::Code::kNotFound) {
      stats_.RecordIntegrityFailure(m.meta.id, true, s.message());
    } else if (s.code() == Status::Code::kCorruption) {
      stats_.RecordIntegrityFailure(m.meta.id, false, s.message());
    } else {
      progress_.Log("verify: " + s.message());
    }
    // Time-based, so a controller hears from the agent however slow each read is.
    ++done;
    if (Clock::now() - shown > std::chrono::seconds(1)) {
      shown = Clock::now();
      progress_.Update("verified " + std::to_string(done) + "/" + std::to_string(all.size()));
    }
  }
}

Result<SummaryRecord> MailRun::Execute() {
  if (Status s = ops_.Prepare(); !s.ok()) return s;
  SummaryRecord sum;
  sum.node = spec_.node;
  sum.engine = "mail";
  // Messages an earlier run left: from its manifest, or adopted by their own headers.
  auto inherited = store_.LoadManifest(spec_.workdir);
  if (!inherited.ok()) return inherited.status();
  if (inherited.value() == 0) {
    auto adopted = store_.AdoptFromDisk(spec_.workdir);
    if (!adopted.ok()) return adopted.status();
    inherited = adopted.value();
  }
  sum.messages_inherited = inherited.value();
  if (sum.messages_inherited > 0) {
    progress_.Log("inherited " + std::to_string(sum.messages_inherited) +
                  " stored messages from an earlier run");
  }
  sum.space_start = ops_.SampleSpace();

  run_start_ = Clock::now();
  cpu_run_delay_ = CpuRunDelay();  // from the run's start, not from the work dir's set-up
  StartWorkers();
  bool completed = true;
  for (std::size_t i = 0; i < spec_.phases.size() && completed; ++i) completed = RunPhase(i);
  if (!StopWorkers()) {
    hung_ = true;
    sum.status = "error";
    sum.error = "storage did not complete in-flight operations within " +
                std::to_string(static_cast<int>(spec_.final_timeout_s) + 10) + " s";
  } else if (!completed) {
    sum.status = "stopped";
    sum.error = "stopped by signal";
  }
  // Whatever completed after the last interval closed belongs to the last phase.
  StatsWindow tail = stats_.TakeWindow();
  if (tail.completions > 0 || tail.integrity_failures > 0) {
    total_.Add(tail, 0, deliver_backlog_.load());
    if (!phase_summaries_.empty()) {
      for (OpClass c : ReportedClasses()) {
        phase_summaries_.back().ops[OpClassName(c)].Merge(tail.ops[static_cast<std::size_t>(c)]);
      }
    }
  }
  sum.duration_s = Seconds(Clock::now() - run_start_);
  if (!hung_ && spec_.verify_at_end) FinalSweep(sum);
  progress_.Finish();

  sum.ops.clear();
  for (OpClass c : ReportedClasses()) sum.ops[OpClassName(c)] = total_.ops[static_cast<std::size_t>(c)];
  sum.steps = total_.steps;
  sum.phases = phase_summaries_;
  double weighted = 0, secs = 0;
  for (const auto& p : phase_summaries_) {
    weighted += p.intended_rate * p.duration_s;
    secs += p.duration_s;
    sum.max_queue_depth = std::max(sum.max_queue_depth, p.max_queue_depth);
  }
  sum.intended_rate = secs > 0 ? weighted / secs : 0;
  sum.achieved_rate = secs > 0 ? static_cast<double>(total_.completions) / secs : 0;
  sum.messages_written = total_.accepted;
  sum.messages_delivered = total_.delivered;
  sum.messages_retrieved = total_.retrieved;
  sum.messages_verified += total_.retrieved;
  sum.lost = stats_.lost();
  sum.corrupt = stats_.corrupt();
  sum.integrity_failures = sum.lost.size() + sum.corrupt.size();
  sum.space = ops_.SampleSpace();
  if (!hung_) {
    if (Status s = store_.SaveManifest(spec_.workdir); !s.ok()) {
      progress_.Log("warning: " + s.message());
    }
  }
  return sum;
}

}  // namespace

const EngineInfo& MailEngine::info() const {
  static const EngineInfo kInfo{
      "mail", 1, {"deliver", "retrieve", "scan"}, true, true,
      "native replay: Postfix queue + Maildir deliver, POP retrieve, IMAP-like scan"};
  return kInfo;
}

Result<SummaryRecord> MailEngine::Run(const WorkloadSpec& spec, const WorkDir& workdir,
                                      RecordSink& sink, const std::atomic<bool>& stop) {
  WorkloadSpec local = spec;
  local.workdir = workdir.path();
  // The run is heap-held: if the storage hangs, worker threads stuck in system calls still
  // reference it, so it is deliberately leaked and the process exits without destructors.
  auto* run = new MailRun(std::move(local), sink, stop);
  Result<SummaryRecord> r = run->Execute();
  if (!run->hung()) delete run;
  return r;
}

}  // namespace fwcanary
