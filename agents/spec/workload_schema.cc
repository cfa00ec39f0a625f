// The agent spec's field table: names, kinds, defaults, help and bounds in one place.
#include <unistd.h>

#include <limits>

#include "agents/engine.h"
#include "agents/spec/workload_spec.h"
#include "common/schema.h"

namespace fwcanary {
namespace {

using nlohmann::json;

template <typename T, typename V>
auto Set(V T::*member) {
  return SetMember(member);
}

const std::vector<FieldDef<SizeDistribution>>& SizeTable() {
  static const std::vector<FieldDef<SizeDistribution>> t = {
      {"dist", FieldKind::kString, "lognormal", "lognormal | gamma | fixed", {}, {},
       Set(&SizeDistribution::dist), false, [] { return std::vector<std::string>{"lognormal", "gamma", "fixed"}; }},
      {"mean_bytes", FieldKind::kNumber, "76800", "mean message size (fixed: the size)", 64,
       1e9, Set(&SizeDistribution::mean_bytes)},
      {"sigma", FieldKind::kNumber, "1.0", "lognormal: stddev of ln(size), the tail's weight", 0,
       4, Set(&SizeDistribution::sigma)},
      {"shape", FieldKind::kNumber, "1.5", "gamma: shape k", 0.05, 100,
       Set(&SizeDistribution::shape)},
      {"min_bytes", FieldKind::kInteger, "512", "smallest message", 64, 1e9,
       Set(&SizeDistribution::min_bytes)},
      {"max_bytes", FieldKind::kInteger, "10240000", "cap (Postfix message_size_limit)", 64, 1e9,
       Set(&SizeDistribution::max_bytes)},
  };
  return t;
}

const std::vector<FieldDef<OperationMix>>& MixTable() {
  static const std::vector<FieldDef<OperationMix>> t = {
      {"deliver", FieldKind::kNumber, "0.5", "weight of deliveries (SMTP in, Maildir out)", 0,
       1e6, Set(&OperationMix::deliver)},
      {"retrieve", FieldKind::kNumber, "0.4", "weight of POP RETR+DELE", 0, 1e6,
       Set(&OperationMix::retrieve)},
      {"scan", FieldKind::kNumber, "0.1", "weight of IMAP-like header scans", 0, 1e6,
       Set(&OperationMix::scan)},
  };
  return t;
}

const std::vector<FieldDef<Phase>>& PhaseTable() {
  static const std::vector<FieldDef<Phase>> t = {
      {"name", FieldKind::kString, "", "label of the phase's records (steady, surge, drain...)",
       {}, {},
       [](const json& v, Phase& o, const FieldContext& c) {
         o.name = v.get<std::string>();
         if (o.name.empty()) return c.Error("must not be empty");
         return Status::Ok();
       },
       true},
      {"duration_s", FieldKind::kNumber, "(required)", "length; for a drain, its timeout", 0.001,
       7 * 86400.0, Set(&Phase::duration_s), true},
      {"rate", FieldKind::kNumber, "-", "absolute arrival rate, ops/s (instead of multiplier)", 0,
       1e7,
       [](const json& v, Phase& o, const FieldContext&) {
         o.rate = v.get<double>();
         return Status::Ok();
       }},
      {"multiplier", FieldKind::kNumber, "1 (drain: 0)", "arrival rate as a multiple of `rate`",
       0, 1000, Set(&Phase::multiplier)},
      {"drain", FieldKind::kBool, "false", "end when the delivery backlog is empty", {}, {},
       Set(&Phase::drain)},
      {"open_ended", FieldKind::kBool, "false",
       "end early (duration_s at most) when a file `end-phase` appears in the work directory (mail engine)",
       {}, {}, Set(&Phase::open_ended)},
      {"steps", FieldKind::kArray, "-",
       "a ramp: multipliers of `rate`, ascending, `step_s` each; ends past the knee (mail engine)", {}, {},
       [](const json& v, Phase& o, const FieldContext& c) {
         if (v.empty()) return c.Error("must hold at least one step");
         o.steps.clear();
         for (std::size_t i = 0; i < v.size(); ++i) {
           FieldContext ec = c.Element(i);
           if (!v[i].is_number()) return ec.Error("must be a number (a multiplier of `rate`)");
           const double m = v[i].get<double>();
           if (!(m > 0 && m <= 1000)) return ec.Error("must be in (0, 1000]");
           if (!o.steps.empty() && m <= o.steps.back()) return ec.Error("steps must ascend");
           o.steps.push_back(m);
         }
         return Status::Ok();
       },
       false, nullptr,
       [] {
         return json{{"items", {{"type", "number"}, {"exclusiveMinimum", 0}, {"maximum", 1000}}}, {"minItems", 1}};
       }},
      {"step_s", FieldKind::kNumber, "20", "ramp: seconds per step", 1, 3600, Set(&Phase::step_s)},
      {"keep_up", FieldKind::kNumber, "0.95", "ramp: a step keeps up when it serves this much of the offered load",
       0.5, 1, Set(&Phase::keep_up)},
      {"latency_factor", FieldKind::kNumber, "4",
       "ramp: a step keeps up while each class's median latency is within this factor of the first step's", 1, 1000,
       Set(&Phase::latency_factor)},
  };
  return t;
}

const std::vector<FieldDef<FioOptions>>& FioTable() {
  static const std::vector<FieldDef<FioOptions>> t = {
      {"binary", FieldKind::kString, "fio", "fio executable (searched in PATH)", {}, {},
       Set(&FioOptions::binary)},
      {"nrfiles", FieldKind::kInteger, "2000", "files per fio job", 1, 1e7,
       Set(&FioOptions::nrfiles)},
      {"timeout_slack_s", FieldKind::kNumber, "30", "kill fio this long after its planned end",
       1, 86400, Set(&FioOptions::timeout_slack_s)},
  };
  return t;
}

template <typename T>
std::function<Status(const json&, WorkloadSpec&, const FieldContext&)> Nested(
    T WorkloadSpec::*member, const std::vector<FieldDef<T>>& (*table)()) {
  return [member, table](const json& v, WorkloadSpec& out, const FieldContext& c) {
    return ParseObject(v, table(), out.*member, c);
  };
}

const std::vector<FieldDef<WorkloadSpec>>& SpecTable() {
  static const std::vector<FieldDef<WorkloadSpec>> t = {
      {"v", FieldKind::kInteger, "1", "spec format version", 1, 1, Set(&WorkloadSpec::v)},
      {"engine", FieldKind::kString, "mail", "mail (native open-loop replay) | fio (closed loop)",
       {}, {}, Set(&WorkloadSpec::engine), false, EngineNames},
      {"node", FieldKind::kString, "(hostname)", "node name carried by every record", {}, {},
       Set(&WorkloadSpec::node)},
      {"workdir", FieldKind::kString, "-", "work directory (or --workdir)", {}, {},
       Set(&WorkloadSpec::workdir)},
      {"seed", FieldKind::kInteger, "1", "random seed: schedule, sizes, users", 0, 9.0e15,
       Set(&WorkloadSpec::seed)},
      {"interval_s", FieldKind::kNumber, "1", "seconds per interval record", 0.05, 3600,
       Set(&WorkloadSpec::interval_s)},
      {"rate", FieldKind::kNumber, "100", "base arrival rate, ops/s over all classes", 0, 1e7,
       Set(&WorkloadSpec::rate)},
      {"arrivals", FieldKind::kString, "poisson",
       "poisson (independent arrivals) | uniform (exactly 1/rate apart)", {}, {},
       Set(&WorkloadSpec::arrivals), false, [] { return std::vector<std::string>{"poisson", "uniform"}; }},
      {"duration_s", FieldKind::kNumber, "10", "length of the single phase when no `phases`",
       0.001, 7 * 86400.0, Set(&WorkloadSpec::duration_s)},
      {"phases", FieldKind::kArray, "[steady]", "phases in order (see phases[].*)", {}, {},
       [](const json& v, WorkloadSpec& o, const FieldContext& c) {
         if (v.empty()) return c.Error("must hold at least one phase");
         o.phases.clear();
         for (std::size_t i = 0; i < v.size(); ++i) {
           Phase p;
           FieldContext ec = c.Element(i);
           // (a non-boolean `drain` is refused by the phase table just below, with its position)
           const bool drain = v[i].is_object() && v[i].contains("drain") && v[i]["drain"].is_boolean() &&
                              v[i]["drain"].get<bool>();
           if (drain && !v[i].contains("multiplier") && !v[i].contains("rate")) {
             p.multiplier = 0;  // a drain stops arrivals unless told otherwise
           }
           if (Status s = ParseObject(v[i], PhaseTable(), p, ec); !s.ok()) return s;
           if (p.rate && v[i].contains("multiplier")) {
             return ec.Error("give either `rate` or `multiplier`, not both");
           }
           if (p.IsRamp()) {
             // The steps are the ramp's rates; a drain or an end file would cut it.
             for (const char* f : {"rate", "multiplier"}) {
               if (v[i].contains(f)) return ec.Child(f).Error("a ramp (`steps`) sets its rate by its steps");
             }
             if (p.drain || p.open_ended) {
               return ec.Child(p.drain ? "drain" : "open_ended").Error("a ramp (`steps`) ends past its knee");
             }
             if (p.duration_s < p.step_s) return ec.Child("duration_s").Error("shorter than one ramp step (step_s)");
           } else {
             for (const char* f : {"step_s", "keep_up", "latency_factor"}) {
               if (v[i].contains(f)) return ec.Child(f).Error("only a ramp (`steps`) has it");
             }
           }
           for (const auto& q : o.phases) {
             if (q.name == p.name) return ec.Child("name").Error("duplicate phase name");
           }
           o.phases.push_back(p);
         }
         return Status::Ok();
       },
       false, nullptr, [] { return json{{"items", TableSchema(PhaseTable())}, {"minItems", 1}}; }},
      {"concurrency", FieldKind::kInteger, "0", "closed loop: N workers back to back (0: open)", 0,
       4096, Set(&WorkloadSpec::concurrency)},
      {"workers", FieldKind::kInteger, "16", "open loop: threads serving arrivals", 1, 4096,
       Set(&WorkloadSpec::workers)},
      {"mix", FieldKind::kObject, "", "operation weights (see mix.*)", {}, {},
       Nested(&WorkloadSpec::mix, &MixTable), false, nullptr, [] { return TableSchema(MixTable()); }},
      {"users", FieldKind::kInteger, "100", "mailboxes", 1, 1e6, Set(&WorkloadSpec::users)},
      {"user_skew", FieldKind::kNumber, "1.0", "Zipf exponent of mailbox popularity", 0, 5,
       Set(&WorkloadSpec::user_skew)},
      {"size", FieldKind::kObject, "", "message sizes (see size.*)", {}, {},
       Nested(&WorkloadSpec::size, &SizeTable), false, nullptr, [] { return TableSchema(SizeTable()); }},
      {"queue_minfree_bytes", FieldKind::kInteger, "15360000",
       "refuse deliveries (452) below this free space", 0, 1e18,
       Set(&WorkloadSpec::queue_minfree_bytes)},
      {"fill_to", FieldKind::kNumber, "0",
       "before the first phase, fill the work directory's filesystem to this share of its size (a store in use "
       "for years is full; kept between runs in the same work directory, or in --fill-dir's; removed by --cleanup; 0: off)",
       0, 0.95, Set(&WorkloadSpec::fill_to)},
      {"fsync", FieldKind::kBool, "true", "fsync queue and mailbox files", {}, {},
       Set(&WorkloadSpec::fsync)},
      {"dir_fsync", FieldKind::kBool, "true", "fdatasync the mailbox dir after rename", {}, {},
       Set(&WorkloadSpec::dir_fsync)},
      {"cold_read", FieldKind::kBool, "true", "evict delivered messages from the page cache", {},
       {}, Set(&WorkloadSpec::cold_read)},
      {"scan_messages", FieldKind::kInteger, "20", "message headers read per scan", 1, 100000,
       Set(&WorkloadSpec::scan_messages)},
      {"max_backlog", FieldKind::kInteger, "200000", "refuse arrivals beyond this backlog", 1,
       1e9, Set(&WorkloadSpec::max_backlog)},
      {"verify_at_end", FieldKind::kBool, "true", "verify every stored message at the end", {},
       {}, Set(&WorkloadSpec::verify_at_end)},
      {"final_timeout_s", FieldKind::kNumber, "60", "wait for in-flight work after the phases",
       0, 86400, Set(&WorkloadSpec::final_timeout_s)},
      {"fio", FieldKind::kObject, "", "fio engine options (see fio.*)", {}, {},
       Nested(&WorkloadSpec::fio, &FioTable), false, nullptr, [] { return TableSchema(FioTable()); }},
  };
  return t;
}

}  // namespace

Status ParseWorkloadSpecAt(const nlohmann::json& obj, const FieldContext& ctx, WorkloadSpec* out) {
  if (Status s = ParseObject(obj, SpecTable(), *out, ctx); !s.ok()) return s;
  if (out->phases.empty()) {
    Phase steady;
    steady.name = "steady";
    steady.duration_s = out->duration_s;
    out->phases.push_back(steady);
  }
  if (Status s = ValidateWorkloadSpec(*out); !s.ok()) return ctx.Error(s.message());
  return Status::Ok();
}

Result<WorkloadSpec> ParseWorkloadSpec(const std::string& text, const std::string& source) {
  auto doc = PositionedJson::Parse(text, source);
  if (!doc.ok()) return doc.status();
  WorkloadSpec spec;
  FieldContext root{doc.value(), ""};
  if (Status s = ParseWorkloadSpecAt(doc->doc(), root, &spec); !s.ok()) return s;
  return spec;
}

Status ValidateWorkloadSpec(const WorkloadSpec& spec) {
  if (spec.mix.deliver + spec.mix.retrieve + spec.mix.scan <= 0) {
    return Status::InvalidArgument("field 'mix': at least one weight must be > 0");
  }
  if (spec.size.min_bytes > spec.size.max_bytes) {
    return Status::InvalidArgument("field 'size.min_bytes' must be <= 'size.max_bytes'");
  }
  if (spec.phases.empty()) return Status::InvalidArgument("field 'phases': none");
  for (const auto& p : spec.phases) {
    if (p.IsRamp() && spec.concurrency > 0) {
      return Status::InvalidArgument("field 'phases': ramp '" + p.name +
                                     "' needs the open loop (a closed loop has no offered rate to climb)");
    }
    if (p.IsRamp() && spec.engine != "mail") {
      return Status::InvalidArgument("field 'phases': ramp '" + p.name + "' is a mail engine phase");
    }
  }
  return Status::Ok();
}

double WorkloadSpec::MaxDurationSeconds() const {
  double total = 0;
  for (const auto& p : phases) total += p.duration_s;
  return total;
}

nlohmann::json WorkloadSpec::ToJson() const {
  json j;
  j["v"] = v;
  j["engine"] = engine;
  j["node"] = node;
  j["workdir"] = workdir;
  j["seed"] = seed;
  j["interval_s"] = interval_s;
  j["rate"] = rate;
  j["arrivals"] = arrivals;
  j["phases"] = json::array();
  for (const auto& p : phases) {
    json pj = {{"name", p.name}, {"duration_s", p.duration_s}, {"drain", p.drain}};
    if (p.open_ended) pj["open_ended"] = true;
    if (p.IsRamp()) {
      pj["steps"] = p.steps;
      pj["step_s"] = p.step_s;
      pj["keep_up"] = p.keep_up;
      pj["latency_factor"] = p.latency_factor;
    } else if (p.rate) {
      pj["rate"] = *p.rate;
    } else {
      pj["multiplier"] = p.multiplier;
    }
    j["phases"].push_back(pj);
  }
  j["concurrency"] = concurrency;
  j["workers"] = workers;
  j["mix"] = {{"deliver", mix.deliver}, {"retrieve", mix.retrieve}, {"scan", mix.scan}};
  j["users"] = users;
  j["user_skew"] = user_skew;
  j["size"] = {{"dist", size.dist},           {"mean_bytes", size.mean_bytes},
               {"sigma", size.sigma},         {"shape", size.shape},
               {"min_bytes", size.min_bytes}, {"max_bytes", size.max_bytes}};
  j["queue_minfree_bytes"] = queue_minfree_bytes;
  if (fill_to > 0) j["fill_to"] = fill_to;
  j["fsync"] = fsync;
  j["dir_fsync"] = dir_fsync;
  j["cold_read"] = cold_read;
  j["scan_messages"] = scan_messages;
  j["max_backlog"] = max_backlog;
  j["verify_at_end"] = verify_at_end;
  j["final_timeout_s"] = final_timeout_s;
  j["fio"] = {{"binary", fio.binary},
              {"nrfiles", fio.nrfiles},
              {"timeout_slack_s", fio.timeout_slack_s}};
  return j;
}

nlohmann::json WorkloadSpecSchema() { return TableSchema(SpecTable()); }

nlohmann::json WorkloadSpecDocumentSchema() {
  return DocumentSchema(WorkloadSpecSchema(), "fwcanary-agent workload spec",
                        "The agent's workload spec (JSON; a scenario's `workload:`). Generated from "
                        "the field table in agents/spec/workload_schema.cc by `fwcanary-agent --schema`.");
}

std::string DescribeWorkloadSpec() {
  return "Workload spec fields (JSON; unknown fields are refused):\n" +
         DescribeTable(SpecTable(), "") + DescribeTable(PhaseTable(), "phases[].") +
         DescribeTable(MixTable(), "mix.") + DescribeTable(SizeTable(), "size.") +
         DescribeTable(FioTable(), "fio.");
}

}  // namespace fwcanary
