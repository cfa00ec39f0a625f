// The lab through its real path: labctl, fwsim (FUSE), sshd per node, fwsim-node over SSH with
// strict host key checking, and the real agent writing mail through fwsim.
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/integration/agent_runner.h"
#include "tests/integration/test_lab.h"

namespace fwcanary::testing {
namespace {

using nlohmann::json;

const char kSteadySpec[] =
    R"({"v":1,"engine":"mail","rate":50,"phases":[{"name":"steady","duration_s":4}],)"
    R"("size":{"dist":"fixed","mean_bytes":16384},"users":20})";

bool Mounted(const std::string& path) {
  std::ifstream in("/proc/mounts");
  std::string line;
  while (std::getline(in, line)) {
    if (line.find(" " + path + " ") != std::string::npos) return true;
  }
  return false;
}

// Processes whose command line mentions `text`.
int ProcessesMentioning(const std::string& text) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(e.path() / "cmdline");
    std::string cmd((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmd.find(text) != std::string::npos) ++n;
  }
  return n;
}

json Summary(const CommandResult& r) {
  std::vector<json> recs = ParseRecords(r.out);
  REQUIRE(!recs.empty());
  REQUIRE(recs.back()["type"] == "summary");
  return recs.back();
}

template <typename Pred>
bool WaitFor(Pred pred, double timeout_s) {
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(static_cast<int>(timeout_s * 1000));
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return pred();
}

TEST_CASE("lab: nodes answer over ssh with strict host keys and down leaves nothing behind") {
  TestLab lab(2, "127.0.11");
  CHECK(lab.Ask(1, "fwsim-node version") == "1.0");
  CHECK(lab.Ask(2, "fwsim-node version") == "1.0");
  std::string boot1 = lab.Ask(1, "fwsim-node boot-id");
  std::string boot2 = lab.Ask(2, "fwsim-node boot-id");
  CHECK(boot1.size() == 36);
  CHECK(boot1 != boot2);
  CHECK(lab.Ask(1, "id -un") == "fwlab");

  CommandResult status = lab.Labctl({"status", "--ssh"});
  INFO(status.out << status.err);
  CHECK(status.exit_code == 0);
  CHECK(status.out.find("node-2   127.0.11.2") != std::string::npos);

  SECTION("up again is idempotent: nodes are not restarted") {
    REQUIRE(lab.Labctl({"up", "2", "--net", "127.0.11"}).exit_code == 0);
    CHECK(lab.Ask(1, "fwsim-node boot-id") == boot1);
  }

  SECTION("a changed or unknown host key is refused") {
    // known_hosts where node-1 carries node-2's key: what a man in the middle would look like.
    std::ifstream in(lab.dir + "/known_hosts");
    std::string line1, line2;
    std::getline(in, line1);
    std::getline(in, line2);
    std::string key2 = line2.substr(line2.find(' '));
    std::string tampered = lab.dir + "/known_hosts.tampered";
    std::ofstream(tampered) << line1.substr(0, line1.find(' ')) << key2 << "\n";
    CommandResult r = RunCommand({"ssh", "-F", lab.dir + "/ssh_config", "-o",
                                  "UserKnownHostsFile=" + tampered, "node-1", "true"});
    CHECK(r.exit_code == 255);
    CHECK(r.err.find("HOST IDENTIFICATION HAS CHANGED") != std::string::npos);
    std::ofstream(lab.dir + "/known_hosts.empty") << "";
    r = RunCommand({"ssh", "-F", lab.dir + "/ssh_config", "-o",
                    "UserKnownHostsFile=" + lab.dir + "/known_hosts.empty", "node-1", "true"});
    CHECK(r.exit_code == 255);
    CHECK(r.err.find("Host key verification failed") != std::string::npos);
  }

  SECTION("bad node commands are refused with a clear error") {
    CommandResult r = lab.Ssh(1, "fwsim-node flash no-such-image");
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("unknown firmware image 'no-such-image'") != std::string::npos);
    CHECK(r.err.find("2.0-slow-fsync") != std::string::npos);  // lists what is known
    r = lab.Ssh(1, "fwsim-node rollback");
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("no previous firmware") != std::string::npos);
    r = lab.Ssh(1, "fwsim-node reboot-now");
    CHECK(r.exit_code == 2);
    r = lab.Ssh(1, "fwsim-node flash /etc/passwd");
    CHECK(r.exit_code == 1);
    CHECK(lab.Ask(1, "fwsim-node version") == "1.0");
  }

  SECTION("down leaves no process, mount or file") {
    // Something is stored and a session is open when the lab goes down.
    REQUIRE(lab.RunAgent(1, "mail", kSteadySpec, "--duration 1").exit_code == 0);
    auto session = std::async(std::launch::async, [&] { return lab.Ssh(2, "sleep 60"); });
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    CommandResult down = lab.Labctl({"down"});
    INFO(down.out << down.err);
    CHECK(down.exit_code == 0);
    CHECK(session.get().exit_code != 0);
    CHECK(!std::filesystem::exists(lab.dir));
    CHECK(!Mounted(lab.dir + "/nodes/node-1/mnt"));
    CHECK(ProcessesMentioning(lab.dir) == 0);
    CHECK(RunCommand({"ssh", "-F", "/dev/null", "-o", "ConnectTimeout=2", "-o", "BatchMode=yes",
                      "127.0.11.1", "true"})
              .exit_code == 255);
    lab.dir.clear();  // nothing left for the destructor
  }
}

TEST_CASE("lab: a slow-fsync flash shows in measured fsync latency and rollback restores it") {
  TestLab lab(1, "127.0.12");
  CommandResult before = lab.RunAgent(1, "mail", kSteadySpec);
  INFO(before.err);
  REQUIRE(before.exit_code == 0);
  json s1 = Summary(before);
  double fsync1 = s1["steps"]["dir_fsync"]["p50_us"].get<double>();
  double deliver1 = s1["ops"]["deliver"]["p50_us"].get<double>();
  uint64_t stored1 = s1["stored_messages"].get<uint64_t>();
  REQUIRE(stored1 > 0);

  std::string boot = lab.Ask(1, "fwsim-node boot-id");
  CommandResult flash = lab.Ssh(1, "fwsim-node flash 2.0-slow-fsync");
  INFO(flash.out << flash.err);
  REQUIRE(flash.exit_code == 0);
  REQUIRE(lab.WaitForNewBoot(1, boot));
  CHECK(lab.Ask(1, "fwsim-node version") == "2.0-slow-fsync");

  // Same work dir: the agent adopts what run 1 stored and verifies every message at the end.
  CommandResult after = lab.RunAgent(1, "mail", kSteadySpec);
  INFO(after.err);
  REQUIRE(after.exit_code == 0);
  json s2 = Summary(after);
  CHECK(s2["lost"].empty());
  CHECK(s2["corrupt"].empty());
  CHECK(s2["messages_inherited"].get<uint64_t>() == stored1);
  double fsync2 = s2["steps"]["dir_fsync"]["p50_us"].get<double>();
  double deliver2 = s2["ops"]["deliver"]["p50_us"].get<double>();
  INFO("dir fsync p50 " << fsync1 << " -> " << fsync2 << " us; deliver p50 " << deliver1
                        << " -> " << deliver2 << " us");
  // The image adds 4.5 ms to every fsync (1.5 -> 6 ms). The host's own delay adds to both sides
  // and dilutes a ratio on a loaded host (CI: 3.1 -> 7.3 ms, 2.4x): the increase is checked.
  CHECK(fsync2 - fsync1 > 0.7 * (6000 - 1500));
  CHECK(fsync2 > 1.5 * fsync1);
  CHECK(deliver2 - deliver1 > 0.7 * 3 * (6000 - 1500));  // three fsyncs per delivery (CI: +14.7 ms)

  boot = lab.Ask(1, "fwsim-node boot-id");
  REQUIRE(lab.Ssh(1, "fwsim-node rollback").exit_code == 0);
  REQUIRE(lab.WaitForNewBoot(1, boot));
  CHECK(lab.Ask(1, "fwsim-node version") == "1.0");
  CHECK(lab.Ask(1, "fwsim-node status").find("previous: 2.0-slow-fsync") != std::string::npos);
  CommandResult rolled = lab.RunAgent(1, "mail", kSteadySpec);
  REQUIRE(rolled.exit_code == 0);
  json s3 = Summary(rolled);
  CHECK(s3["lost"].empty());
  CHECK(s3["steps"]["dir_fsync"]["p50_us"].get<double>() < 1.5 * fsync1);
}

TEST_CASE("lab: space amplification shows in statfs and st_blocks while the data stays") {
  TestLab lab(1, "127.0.13");
  std::string w = lab.NodeDir(1) + "/mnt/files";
  std::string write = "mkdir " + w + " && for i in $(seq 1 40); do head -c 65536 /dev/urandom > " +
                      w + "/f$i; done && sha256sum " + w + "/* | sha256sum";
  std::string measure = "du -sB1 " + w + " | cut -f1; df -B1 --output=used " + lab.NodeDir(1) +
                        "/mnt | tail -1; sha256sum " + w + "/* | sha256sum";
  CommandResult wr = lab.Ssh(1, write);
  REQUIRE(wr.exit_code == 0);
  std::istringstream m1(lab.Ask(1, measure));
  double du1 = 0, used1 = 0;
  std::string sum1;
  m1 >> du1 >> used1;
  std::getline(m1 >> std::ws, sum1);

  std::string boot = lab.Ask(1, "fwsim-node boot-id");
  REQUIRE(lab.Ssh(1, "fwsim-node flash 2.0-space-amp").exit_code == 0);
  REQUIRE(lab.WaitForNewBoot(1, boot));
  std::istringstream m2(lab.Ask(1, measure));
  double du2 = 0, used2 = 0;
  std::string sum2;
  m2 >> du2 >> used2;
  std::getline(m2 >> std::ws, sum2);
  INFO("du " << du1 << " -> " << du2 << ", df used " << used1 << " -> " << used2);
  // 64 KiB files: 64 KiB x 2 + 16 KiB each = 2.25x.
  CHECK(du2 > 2.0 * du1);
  CHECK(used2 - used1 > 40 * 80000.0);
  CHECK(sum2 == sum1);  // the same data, byte for byte
}

TEST_CASE("lab: a non-disruptive flash holds I/O without errors and a reset setting shows", "[fault]") {
  TestLab lab(1, "127.0.14");
  std::string settings_before = lab.Ask(1, "fwsim-node settings");
  CHECK(settings_before.find("inbound_smtp = 1") != std::string::npos);
  std::string boot = lab.Ask(1, "fwsim-node boot-id");
  const char* spec =
      R"({"v":1,"engine":"mail","rate":40,"phases":[{"name":"steady","duration_s":9}],)"
      R"("size":{"dist":"fixed","mean_bytes":8192},"users":10})";
  // The agent's session stays open through the management restart, as an NFS or iSCSI client
  // of an array keeps running through a non-disruptive upgrade.
  auto agent = std::async(std::launch::async, [&] { return lab.RunAgent(1, "mail", spec); });
  std::this_thread::sleep_for(std::chrono::seconds(2));
  REQUIRE(lab.Ssh(1, "fwsim-node flash 2.0-setting-reset").exit_code == 0);
  REQUIRE(lab.WaitForNewBoot(1, boot));
  CommandResult run = agent.get();
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  json s = Summary(run);
  CHECK(s["lost"].empty());
  CHECK(s["ops"]["deliver"]["errors"].get<uint64_t>() == 0);
  CHECK(s["ops"]["retrieve"]["errors"].get<uint64_t>() == 0);
  // The hold (flash_seconds: 3) is seen as latency, counted from the intended start.
  CHECK(s["ops"]["deliver"]["max_us"].get<double>() > 2.0e6);
  // ... and the records kept coming once a second while the storage held I/O: nothing in the
  // agent's interval path waits for the storage.
  std::vector<json> recs = ParseRecords(run.out);
  double last_t = 0;
  int late = 0, intervals = 0;
  for (const auto& r : recs) {
    if (r["type"] != "interval") continue;
    double t = r["t"].get<double>();
    if (intervals > 0 && r["dt"].get<double>() > 0.5 && (t - last_t < 0.7 || t - last_t > 1.3)) {
      ++late;
    }
    last_t = t;
    ++intervals;
  }
  INFO(run.out);
  CHECK(intervals >= 8);
  CHECK(late == 0);
  std::string settings_after = lab.Ask(1, "fwsim-node settings");
  CHECK(settings_after.find("inbound_smtp = 0") != std::string::npos);
  CHECK(settings_after.find("mx_record = mx1.node-1.lab.example.") != std::string::npos);
}

TEST_CASE("lab: a disruptive image reboots the node and the data survives", "[fault]") {
  TestLab lab(1, "127.0.15");
  std::string mnt = lab.NodeDir(1) + "/mnt";
  REQUIRE(lab.Ssh(1, "echo kept-across-reboot > " + mnt + "/marker.txt").exit_code == 0);
  auto session = std::async(std::launch::async, [&] { return lab.Ssh(1, "sleep 60", "", 90); });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  std::string boot = lab.Ask(1, "fwsim-node boot-id");
  auto t0 = std::chrono::steady_clock::now();
  REQUIRE(lab.Ssh(1, "fwsim-node flash 1.1-reboot").exit_code == 0);
  CHECK(WaitFor([&] { return !Mounted(mnt); }, 5));  // storage goes away: a host reboot
  CommandResult killed = session.get();
  CHECK(killed.exit_code != 0);  // sessions die with the host
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(20));
  REQUIRE(lab.WaitForNewBoot(1, boot));
  CHECK(Mounted(mnt));
  CHECK(lab.Ask(1, "fwsim-node version") == "1.1-reboot");
  CHECK(lab.Ask(1, "cat " + mnt + "/marker.txt") == "kept-across-reboot");
}

TEST_CASE("lab: labctl without root says what it needs") {
  CommandOptions o;
  o.env = {{"FWCANARY_LAB", "/var/tmp/fwcanary-test-lab-noroot"}, {"FWCANARY_BIN", FWCANARY_BIN_DIR}};
  CommandResult r = RunCommand({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                FWCANARY_LABCTL, "up", "1"},
                               o);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("needs root") != std::string::npos);
  CHECK(!std::filesystem::exists("/var/tmp/fwcanary-test-lab-noroot"));
}

}  // namespace
}  // namespace fwcanary::testing
