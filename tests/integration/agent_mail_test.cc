// The real agent binary, mail engine, on a real filesystem under /tmp.
#include <signal.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include <catch2/catch.hpp>

#include "agents/mail/message.h"
#include "tests/integration/agent_runner.h"

using fwcanary::testing::AgentRun;
using fwcanary::testing::RunAgent;
using fwcanary::testing::ScratchDir;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const std::string kExamples = FWCANARY_EXAMPLES;

uint64_t SumOps(const std::vector<json>& intervals, const std::string& cls, const char* field) {
  uint64_t n = 0;
  for (const auto& r : intervals) {
    if (r["ops"].contains(cls)) n += r["ops"][cls][field].get<uint64_t>();
  }
  return n;
}

double Offered(const std::vector<json>& intervals) {
  double n = 0;
  for (const auto& r : intervals) n += r["offered_rate"].get<double>() * r["dt"].get<double>();
  return n;
}

std::vector<fs::path> StoredFiles(const std::string& workdir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(workdir + "/mail")) {
    if (e.is_regular_file() && e.path().parent_path().filename() == "new") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string IdOf(const fs::path& p) {
  std::ifstream in(p);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("X-Fwcanary-Id: ", 0) == 0) return line.substr(15);
  }
  return "";
}

// A deliver-only run of `seconds` at 100 messages/s into work dir `w`, for a later run to
// inherit; returns how many messages it left stored.
uint64_t StoreMessages(const std::string& w, int seconds) {
  std::string spec = R"({"rate": 100, "duration_s": )" + std::to_string(seconds) + R"(, "users": 5,
      "mix": {"deliver": 1, "retrieve": 0, "scan": 0}, "size": {"mean_bytes": 8000}})";
  AgentRun first = RunAgent({"--spec", "-", "--workdir", w}, spec);
  INFO(first.stderr_text);
  REQUIRE(first.exit_code == 0);
  return first.summary()["stored_messages"];
}

}  // namespace

TEST_CASE("steady open-loop run: every class measured, rates and counts consistent",
          "[agent][mail]") {
  ScratchDir dir;
  AgentRun run = RunAgent({"--spec", kExamples + "/mail-steady.json", "--workdir",
                           dir.path + "/w", "--duration", "4", "--rate", "100", "--node",
                           "node-7"});
  INFO(run.stderr_text);
  REQUIRE(run.exit_code == 0);
  REQUIRE(run.records.front()["type"] == "start");
  CHECK(run.records.front()["spec"]["rate"] == 100.0);
  const json& sum = run.summary();
  auto iv = run.intervals("steady");
  REQUIRE(iv.size() >= 4);
  REQUIRE(iv.size() <= 5);
  for (const auto& r : iv) {
    CHECK(r["node"] == "node-7");
    CHECK(r["v"] == 1);
    for (const char* cls : {"deliver", "retrieve", "scan"}) CHECK(r["ops"].contains(cls));
    CHECK(r["dt"].get<double>() > 0);
    CHECK(r["intended_rate"] == 100.0);
  }
  // 400 arrivals expected from a Poisson process: sd 20, allow 5 sd.
  CHECK(std::abs(Offered(iv) - 400) < 100);
  // What the intervals say adds up to what the summary says, plus what was still in flight
  // when the last interval closed (agents/README.md): at most one operation per worker (16).
  for (const char* cls : {"deliver", "retrieve", "scan"}) {
    INFO(cls);
    uint64_t in_intervals = SumOps(iv, cls, "count");
    uint64_t in_summary = sum["ops"][cls]["count"].get<uint64_t>();
    CHECK(in_intervals <= in_summary);
    CHECK(in_summary - in_intervals <= 16);
    CHECK(SumOps(iv, cls, "errors") == 0);
  }
  const json& d = sum["ops"]["deliver"];
  CHECK(d["count"].get<uint64_t>() > 100);
  CHECK(d["p99_us"].get<double>() >= d["p50_us"].get<double>());
  CHECK(d["p50_us"].get<double>() > 0);
  CHECK(sum["steps"]["queue_write"]["count"] == d["count"]);
  CHECK(sum["steps"]["dir_fsync"]["count"] == d["count"]);
  CHECK(sum["steps"]["pop_read"]["count"].get<uint64_t>() > 0);
  // Integrity: everything written is either retrieved (verified) or still stored (verified).
  CHECK(sum["integrity_failures"] == 0);
  CHECK(sum["lost"].empty());
  CHECK(sum["corrupt"].empty());
  CHECK(sum["messages_written"] == sum["messages_delivered"]);
  uint64_t stored = sum["stored_messages"];
  CHECK(stored + sum["messages_retrieved"].get<uint64_t>() == sum["messages_delivered"]);
  CHECK(sum["messages_verified"].get<uint64_t>() ==
        sum["messages_retrieved"].get<uint64_t>() + stored);
  CHECK(StoredFiles(dir.path + "/w").size() == stored);
  CHECK(sum["allocated_bytes"].get<uint64_t>() >= sum["stored_bytes"].get<uint64_t>() / 2);
  CHECK(fs::exists(dir.path + "/w/manifest.json"));
}

TEST_CASE("surge and drain phases: 3x arrivals, then the backlog drains", "[agent][mail]") {
  ScratchDir dir;
  AgentRun run = RunAgent({"--spec", kExamples + "/mail-surge.json", "--workdir",
                           dir.path + "/w", "--duration", "6", "--rate", "60"});
  INFO(run.stderr_text);
  REQUIRE(run.exit_code == 0);
  const json& sum = run.summary();
  REQUIRE(sum["phases"].size() == 3);
  CHECK(sum["phases"][0]["name"] == "steady");
  CHECK(sum["phases"][1]["name"] == "surge");
  CHECK(sum["phases"][1]["intended_rate"] == 180.0);
  double steady = Offered(run.intervals("steady")) / sum["phases"][0]["duration_s"].get<double>();
  double surge = Offered(run.intervals("surge")) / sum["phases"][1]["duration_s"].get<double>();
  CHECK(surge / steady > 2.0);
  CHECK(surge / steady < 4.5);
  const json& drain = sum["phases"][2];
  CHECK(drain["drain"] == true);
  REQUIRE_FALSE(drain["drain_time_s"].is_null());
  CHECK(drain["drain_time_s"].get<double>() < 120);
  // Phases come in order and never share an interval.
  std::string last;
  std::vector<std::string> order;
  for (const auto& r : run.intervals()) {
    if (r["phase"] != last) order.push_back(last = r["phase"]);
  }
  CHECK(order == std::vector<std::string>{"steady", "surge", "drain"});
  CHECK(sum["integrity_failures"] == 0);
}

TEST_CASE("uniform arrivals: the offered count is exact and every arrival is served",
          "[agent][mail]") {
  ScratchDir dir;
  std::string spec = R"({"rate": 150, "arrivals": "uniform", "duration_s": 3, "users": 10,
      "mix": {"deliver": 1, "retrieve": 0, "scan": 0}, "size": {"dist": "fixed",
      "mean_bytes": 4096}})";
  AgentRun run = RunAgent({"--spec", "-", "--workdir", dir.path + "/w"}, spec);
  INFO(run.stderr_text);
  REQUIRE(run.exit_code == 0);
  CHECK(run.records.front()["spec"]["arrivals"] == "uniform");
  // 3 s at 150/s from t = 0, 1/150 s apart: exactly 450 arrivals before the phase ends.
  // A Poisson process would be off by ~21.
  double offered = Offered(run.intervals());
  CHECK(offered == Approx(450).margin(0.5));
  CHECK(run.summary()["ops"]["deliver"]["count"].get<double>() == Approx(offered).margin(0.5));
}

TEST_CASE("a storage stall shows in latency: no coordinated omission", "[agent][mail][fault]") {
  ScratchDir dir;
  std::string spec = R"({"rate": 100, "duration_s": 5, "users": 10, "mix": {"deliver": 1,
      "retrieve": 0, "scan": 0}, "size": {"dist": "fixed", "mean_bytes": 4096}})";
  // Freeze the whole agent (dispatcher included) for 600 ms, 1.5 s into the run. An agent that
  // timed from the actual start, or skipped the arrivals it missed, would hide this.
  AgentRun run = RunAgent({"--spec", "-", "--workdir", dir.path + "/w"}, spec, 60, [](int pid) {
    std::thread([pid] {
      std::this_thread::sleep_for(std::chrono::milliseconds(1500));
      ::kill(pid, SIGSTOP);
      std::this_thread::sleep_for(std::chrono::milliseconds(600));
      ::kill(pid, SIGCONT);
    }).detach();
  });
  INFO(run.stderr_text);
  REQUIRE(run.exit_code == 0);
  const json& d = run.summary()["ops"]["deliver"];
  CHECK(d["max_us"].get<double>() > 500000);
  // ~60 arrivals fell into the stall: well over 1% of 500, so p99 must see the stall.
  CHECK(d["p99_us"].get<double>() > 250000);
  // Every scheduled arrival was still served.
  CHECK(std::abs(Offered(run.intervals()) - 500) < 5 * 23);
}

// One worker cannot keep up with 20,000 deliveries/s with fsync on any storage: the backlog
// fills, and past max_backlog arrivals are refused (counted, as a full queue tells the sender
// to retry), not silently skipped: every arrival is either served or refused.
TEST_CASE("a full backlog refuses arrivals: every arrival is served or refused",
          "[agent][mail]") {
  ScratchDir dir;
  std::string spec = R"({"rate": 20000, "arrivals": "uniform", "duration_s": 1.5, "users": 10,
      "workers": 1, "max_backlog": 20, "mix": {"deliver": 1, "retrieve": 0, "scan": 0},
      "size": {"dist": "fixed", "mean_bytes": 4096}})";
  AgentRun run = RunAgent({"--spec", "-", "--workdir", dir.path + "/w"}, spec);
  INFO(run.stderr_text);
  REQUIRE(run.exit_code == 0);
  const json& sum = run.summary();
  const json& d = sum["ops"]["deliver"];
  double offered = Offered(run.intervals());
  CHECK(offered == Approx(30000).margin(0.5));
  CHECK(d["refused"].get<double>() > 0);
  CHECK(d["count"].get<double>() >= 1);
  CHECK(d["errors"] == 0);
  CHECK(d["count"].get<double>() + d["refused"].get<double>() == Approx(offered).margin(0.5));
  CHECK(sum["max_queue_depth"].get<double>() <= 20);
  CHECK(sum["integrity_failures"] == 0);
  CHECK(sum["messages_verified"] == d["count"]);
}

// A ramp climbs until the node is past its knee, then stops instead of loading it further: one
// worker on a real filesystem keeps up with 50 ops/s and not with 25600.
TEST_CASE("a ramp climbs its steps and stops past the knee, its records carry the step", "[agent][mail]") {
  ScratchDir dir;
  std::string spec = R"({"rate": 50, "users": 10, "workers": 1, "max_backlog": 5000,
      "phases": [{"name": "ramp", "duration_s": 30, "steps": [1, 8, 64, 512], "step_s": 2},
                 {"name": "drain", "duration_s": 20, "drain": true}],
      "size": {"dist": "fixed", "mean_bytes": 4096}})";
  AgentRun run = RunAgent({"--spec", "-", "--workdir", dir.path + "/w"}, spec);
  INFO(run.stderr_text);
  REQUIRE(run.exit_code == 0);
  std::vector<double> seen;
  for (const auto& r : run.intervals("ramp")) {
    REQUIRE(r.contains("ramp_step"));
    const double m = r["ramp_step"].get<double>();
    if (seen.empty() || seen.back() != m) seen.push_back(m);
    CHECK(r["intended_rate"].get<double>() == Approx(50 * m));
  }
  REQUIRE(seen.size() >= 2);
  CHECK(seen.front() == 1);
  CHECK(seen.size() < 4);  // never reached 512x (25600 ops/s on one worker)
  CHECK(run.stderr_text.find("phase ramp: past the knee at ") != std::string::npos);
  CHECK(run.stderr_text.find("; the ramp stops here") != std::string::npos);
  for (const auto& r : run.intervals("drain")) CHECK_FALSE(r.contains("ramp_step"));
  // Nothing lost on the way: the backlog the last step left drained and was verified.
  const json& sum = run.summary();
  CHECK(sum["integrity_failures"] == 0);
}

// A 256 MiB tmpfs of the test's own (fill_to must not fill the host's disk), unmounted after.
struct SmallTmpfs {
  std::string at;
  explicit SmallTmpfs(std::string path) : at(std::move(path)) {
    std::filesystem::create_directory(at);
    REQUIRE(std::system(("mount -t tmpfs -o size=256m fwcanary-fill-test '" + at + "'").c_str()) == 0);
  }
  ~SmallTmpfs() { std::system(("umount '" + at + "'").c_str()); }
  SmallTmpfs(const SmallTmpfs&) = delete;
  SmallTmpfs& operator=(const SmallTmpfs&) = delete;
};

const char* const kFillSpec = R"({"rate": 20, "duration_s": 1, "fill_to": 0.5, "users": 5,
    "size": {"dist": "fixed", "mean_bytes": 4096}})";

// fill_to: a store in use for years is full, not empty. On a 256 MiB tmpfs of its own, the
// agent fills to half before its first phase, leaves the filler for the next run (which finds
// the level reached and writes nothing), and --cleanup removes it.
TEST_CASE("fill_to fills the work directory's filesystem before the first phase, the next run finds it full", "[agent][mail]") {
  ScratchDir dir;
  SmallTmpfs small(dir.path + "/small");
  const std::string& mnt = small.at;
  AgentRun first = RunAgent({"--spec", "-", "--workdir", mnt + "/w"}, kFillSpec);
  INFO(first.stderr_text);
  REQUIRE(first.exit_code == 0);
  CHECK(first.stderr_text.find("filling the work directory's filesystem to 50% of its 256 MiB") != std::string::npos);
  struct statvfs v {};
  REQUIRE(::statvfs(mnt.c_str(), &v) == 0);
  const double used = 1.0 - static_cast<double>(v.f_bfree) / static_cast<double>(v.f_blocks);
  CHECK(used >= 0.49);
  CHECK(used < 0.6);
  CHECK(std::filesystem::exists(mnt + "/w/fill/filler.0"));
  AgentRun second = RunAgent({"--spec", "-", "--workdir", mnt + "/w"}, kFillSpec);
  INFO(second.stderr_text);
  REQUIRE(second.exit_code == 0);
  CHECK(second.stderr_text.find("filling the work directory") == std::string::npos);
  AgentRun clean = RunAgent({"--workdir", mnt + "/w", "--cleanup"});
  INFO(clean.stderr_text);
  CHECK(clean.exit_code == 0);
  CHECK_FALSE(std::filesystem::exists(mnt + "/w/fill"));
}

TEST_CASE("fill_to with --fill-dir: the filler outlives each run's work directory, on the same filesystem only", "[agent][mail]") {
  ScratchDir dir;
  SmallTmpfs small(dir.path + "/small");
  const std::string& mnt = small.at;
  // The controller's windows: each its own work directory, cleaned up after it; one filler.
  AgentRun baseline = RunAgent({"--spec", "-", "--workdir", mnt + "/baseline", "--fill-dir", mnt + "/fill", "--cleanup"}, kFillSpec);
  INFO(baseline.stderr_text);
  REQUIRE(baseline.exit_code == 0);
  CHECK(baseline.stderr_text.find("filling the work directory's filesystem to 50%") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(mnt + "/baseline"));
  CHECK(std::filesystem::exists(mnt + "/fill/fill/filler.0"));
  AgentRun after = RunAgent({"--spec", "-", "--workdir", mnt + "/wave1", "--fill-dir", mnt + "/fill", "--cleanup"}, kFillSpec);
  INFO(after.stderr_text);
  REQUIRE(after.exit_code == 0);
  CHECK(after.stderr_text.find("filling the work directory") == std::string::npos);  // found it full
  AgentRun clean = RunAgent({"--workdir", mnt + "/fill", "--cleanup"});
  CHECK(clean.exit_code == 0);
  CHECK_FALSE(std::filesystem::exists(mnt + "/fill"));
  // A filler elsewhere would not fill the storage under test.
  AgentRun elsewhere = RunAgent({"--spec", "-", "--workdir", mnt + "/w", "--fill-dir", dir.path + "/fill"}, kFillSpec);
  CHECK(elsewhere.exit_code == 2);
  CHECK(elsewhere.stderr_text.find("is not on the work directory's filesystem") != std::string::npos);
}

// Retrieves and scans have no queue file to wait in: with the same bound on the operations
// waiting for a worker, an overload of any class is refused and counted, and the agent's
// memory stays bounded whatever rate it is given.
TEST_CASE("an overload of every class is refused and counted instead of queued without bound",
          "[agent][mail]") {
  ScratchDir dir;
  std::string spec = R"({"rate": 100000, "arrivals": "uniform", "duration_s": 0.5, "users": 10,
      "workers": 1, "max_backlog": 20, "mix": {"deliver": 0.5, "retrieve": 0.3, "scan": 0.2},
      "size": {"dist": "fixed", "mean_bytes": 4096}})";
  AgentRun run = RunAgent({"--spec", "-", "--workdir", dir.path + "/w"}, spec);
  INFO(run.stderr_text);
  REQUIRE(run.exit_code == 0);
  const json& ops = run.summary()["ops"];
  double settled = 0;
  for (const char* c : {"deliver", "retrieve", "scan"}) {
    INFO(c);
    CHECK(ops[c]["refused"].get<double>() > 0);
    CHECK(ops[c]["errors"] == 0);
    settled += ops[c]["count"].get<double>() + ops[c].value("empty", 0.0) +
               ops[c]["refused"].get<double>();
  }
  // Every arrival was served (count, or empty for a retrieve) or refused.
  CHECK(settled == Approx(Offered(run.intervals())).margin(0.5));
  CHECK(Offered(run.intervals()) == Approx(50000).margin(0.5));
  CHECK(run.summary()["integrity_failures"] == 0);
}

// A node's ssh session usually gets 1,024 descriptors (systemd's default soft limit) while the
// shipped scenarios ask for 2,000-5,000 mailboxes: the agent must not need one per mailbox.
TEST_CASE("more mailboxes than the descriptor limit: the run still works", "[agent][mail]") {
  ScratchDir dir;
  std::string spec = R"({"rate": 100, "duration_s": 1, "users": 600,
      "mix": {"deliver": 0.7, "retrieve": 0.2, "scan": 0.1}})";
  struct LowDescriptorLimit {  // inherited by the agent; restored whatever happens
    rlimit saved{};
    LowDescriptorLimit() {
      REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved) == 0);
      rlimit low = saved;
      low.rlim_cur = std::min<rlim_t>(saved.rlim_cur, 256);
      REQUIRE(::setrlimit(RLIMIT_NOFILE, &low) == 0);
    }
    ~LowDescriptorLimit() { ::setrlimit(RLIMIT_NOFILE, &saved); }
  };
  AgentRun run;
  {
    LowDescriptorLimit limit;
    run = RunAgent({"--spec", "-", "--workdir", dir.path + "/w"}, spec);
  }
  INFO(run.stderr_text);
  REQUIRE(run.exit_code == 0);
  const json& sum = run.summary();
  CHECK(sum["ops"]["deliver"]["count"].get<double>() > 30);
  CHECK(sum["ops"]["deliver"]["errors"] == 0);
  CHECK(sum["steps"]["dir_fsync"]["count"] == sum["ops"]["deliver"]["count"]);
  CHECK(sum["integrity_failures"] == 0);
}

TEST_CASE("corruption and loss between runs are reported by message id", "[agent][mail][fault]") {
  ScratchDir dir;
  std::string w = dir.path + "/w";
  uint64_t stored = StoreMessages(w, 2);
  REQUIRE(stored > 50);

  // Between runs (say, across a firmware upgrade) one message rots and one disappears.
  auto files = StoredFiles(w);
  REQUIRE(files.size() == stored);
  fs::path rotten = files[files.size() / 2], gone = files[files.size() / 3];
  std::string rotten_id = IdOf(rotten), gone_id = IdOf(gone);
  {
    std::fstream f(rotten, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(rotten) - 3));
    f.put('#');
  }
  fs::remove(gone);

  std::string verify_spec = R"({"rate": 0, "duration_s": 0.5, "users": 5})";
  AgentRun second = RunAgent({"--spec", "-", "--workdir", w}, verify_spec);
  INFO(second.stderr_text);
  CHECK(second.exit_code == 1);
  const json& sum = second.summary();
  CHECK(sum["messages_inherited"] == stored);
  CHECK(sum["integrity_failures"] == 2);
  CHECK(sum["corrupt"] == json::array({rotten_id}));
  CHECK(sum["lost"] == json::array({gone_id}));
  CHECK(sum["messages_verified"] == stored - 2);
  CHECK_THAT(second.stderr_text, Catch::Contains("INTEGRITY"));
  CHECK(fs::exists(rotten));  // evidence is kept
}

// A work directory written by an agent from before checksum versions (messages and manifest
// entries without a version: version-1 checksums) is still verified, and rot is still caught.
TEST_CASE("messages with version-1 checksums from an older agent still verify",
          "[agent][mail][fault]") {
  ScratchDir dir;
  std::string w = dir.path + "/w";
  uint64_t stored = StoreMessages(w, 1);
  REQUIRE(stored > 20);

  // Rewrite every stored message and the manifest as the older agent wrote them.
  std::map<std::string, uint64_t> v1_sum;  // by id
  for (const auto& f : StoredFiles(w)) {
    std::ifstream in(f, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    in.close();
    std::size_t tag = text.find(" h2\n\n");
    REQUIRE(tag != std::string::npos);  // new messages carry the version token
    std::size_t body = tag + 5;
    fwcanary::BodyHasher v1(1);
    v1.Update(text.data() + body, text.size() - body);
    std::size_t field = text.rfind(' ', tag - 1) + 1;  // the 16 hex digits of the checksum
    char hex[17];
    std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(v1.Final()));
    std::string old = text.substr(0, field) + hex + "\n\n" + text.substr(body);
    REQUIRE(old.size() + 3 == text.size());
    std::ofstream(f, std::ios::binary | std::ios::trunc) << old;
    v1_sum[IdOf(f)] = v1.Final();
  }
  json manifest;
  std::ifstream(w + "/manifest.json") >> manifest;
  for (auto& m : manifest["messages"]) {
    REQUIRE(m["hash"] == 2);
    m.erase("hash");
    m["checksum"] = v1_sum.at(m["id"].get<std::string>());
    m["size"] = m["size"].get<uint64_t>() - 3;
  }
  std::ofstream(w + "/manifest.json", std::ios::trunc) << manifest.dump();
  auto files = StoredFiles(w);
  fs::path rotten = files[files.size() / 2];
  {
    std::fstream f(rotten, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(rotten) - 3));
    f.put('#');
  }

  // Retrieves and the final verification read them with their own version.
  std::string verify_spec = R"({"rate": 50, "duration_s": 1, "users": 5,
      "mix": {"deliver": 1, "retrieve": 1, "scan": 0}, "size": {"mean_bytes": 8000}})";
  AgentRun second = RunAgent({"--spec", "-", "--workdir", w}, verify_spec);
  INFO(second.stderr_text);
  CHECK(second.exit_code == 1);
  const json& sum = second.summary();
  CHECK(sum["messages_inherited"] == stored);
  CHECK(sum["ops"]["retrieve"]["count"].get<uint64_t>() > 0);
  CHECK(sum["integrity_failures"] == 1);
  CHECK(sum["corrupt"] == json::array({IdOf(rotten)}));
  CHECK(sum["lost"].empty());
}

TEST_CASE("a non-empty directory without the marker is refused and untouched",
          "[agent][safety][security]") {
  ScratchDir dir;
  std::ofstream(dir.path + "/decoy.txt") << "precious";
  AgentRun run = RunAgent({"--spec", "-", "--workdir", dir.path}, R"({"duration_s": 1})");
  CHECK(run.exit_code == 2);
  CHECK_THAT(run.stderr_text, Catch::Contains("not empty"));
  CHECK_THAT(run.stderr_text, Catch::Contains(".fwcanary-workdir"));
  std::ifstream in(dir.path + "/decoy.txt");
  std::string text;
  std::getline(in, text);
  CHECK(text == "precious");
  CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 1);
}

TEST_CASE("cleanup removes what agents wrote and nothing else", "[agent][safety][security]") {
  ScratchDir dir;
  std::string spec = R"({"rate": 50, "duration_s": 1, "users": 3})";
  AgentRun run = RunAgent({"--spec", "-", "--workdir", dir.path + "/gone", "--cleanup"}, spec);
  REQUIRE(run.exit_code == 0);
  CHECK_FALSE(fs::exists(dir.path + "/gone"));  // created by the agent: removed whole

  std::string w = dir.path + "/kept";
  REQUIRE(RunAgent({"--spec", "-", "--workdir", w}, spec).exit_code == 0);
  std::ofstream(w + "/mail/u00000/new/decoy") << "not the agent's";
  std::ofstream(w + "/notes.txt") << "an operator's notes";
  AgentRun clean = RunAgent({"--workdir", w, "--cleanup"});
  CHECK(clean.exit_code == 0);
  CHECK(fs::exists(w + "/mail/u00000/new/decoy"));
  CHECK(fs::exists(w + "/notes.txt"));
  CHECK_THAT(clean.stderr_text, Catch::Contains("left in place"));
  CHECK_FALSE(fs::exists(w + "/queue"));
  CHECK_FALSE(fs::exists(w + "/manifest.json"));
  for (const auto& e : fs::recursive_directory_iterator(w)) {
    if (e.is_regular_file()) {
      std::string name = e.path().filename();
      CHECK((name == "decoy" || name == "notes.txt" || name == ".fwcanary-workdir"));
    }
  }
}

TEST_CASE("below queue_minfree deliveries are refused like smtpd's 452", "[agent][mail][fault]") {
  ScratchDir dir;
  std::string spec = R"({"rate": 100, "duration_s": 1, "queue_minfree_bytes": 1000000000000000000,
      "mix": {"deliver": 1, "retrieve": 0, "scan": 0}})";
  AgentRun run = RunAgent({"--spec", "-", "--workdir", dir.path + "/w"}, spec);
  REQUIRE(run.exit_code == 0);
  const json& d = run.summary()["ops"]["deliver"];
  CHECK(d["refused"].get<uint64_t>() > 50);
  CHECK(d["count"] == 0);
  CHECK(run.summary()["messages_written"] == 0);
}

TEST_CASE("closed loop (concurrency) finds a rate", "[agent][mail]") {
  ScratchDir dir;
  std::string spec = R"({"concurrency": 2, "duration_s": 2, "users": 10,
      "size": {"mean_bytes": 8192}})";
  AgentRun run = RunAgent({"--spec", "-", "--workdir", dir.path + "/w"}, spec);
  INFO(run.stderr_text);
  REQUIRE(run.exit_code == 0);
  const json& sum = run.summary();
  CHECK(sum["achieved_rate"].get<double>() > 20);
  CHECK(sum["intended_rate"] == 0.0);
  CHECK(sum["ops"]["deliver"]["count"].get<uint64_t>() > 10);
  CHECK(sum["integrity_failures"] == 0);
}

TEST_CASE("SIGTERM stops the run cleanly with a summary", "[agent][mail][fault]") {
  ScratchDir dir;
  std::string spec = R"({"rate": 50, "duration_s": 30, "users": 5})";
  AgentRun run = RunAgent({"--spec", "-", "--workdir", dir.path + "/w"}, spec, 60, [](int pid) {
    std::thread([pid] {
      std::this_thread::sleep_for(std::chrono::milliseconds(1500));
      ::kill(pid, SIGTERM);
    }).detach();
  });
  CHECK(run.exit_code == 0);
  CHECK(run.summary()["status"] == "stopped");
  CHECK(run.summary()["duration_s"].get<double>() < 10);
  CHECK(run.summary()["integrity_failures"] == 0);
}
