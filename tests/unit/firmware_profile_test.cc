#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "lab/fwsim/firmware_profile.h"

namespace fwcanary::lab {
namespace {

std::string WriteImage(const std::string& name, const std::string& text) {
  std::string dir = std::filesystem::temp_directory_path() / "fwcanary-unit-images";
  std::filesystem::create_directories(dir);
  std::string path = dir + "/" + name + ".yaml";
  std::ofstream(path) << text;
  return path;
}

TEST_CASE("firmware: every shipped image loads and says what it does") {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(FWCANARY_FIRMWARE_DIR)) {
    if (e.path().extension() != ".yaml") continue;
    auto p = LoadFirmwareProfile(e.path().string());
    INFO(e.path() << ": " << p.status().message());
    REQUIRE(p.ok());
    CHECK(!p->description.empty());
    ++n;
  }
  CHECK(n >= 7);
}

TEST_CASE("firmware: the regressed images differ from 1.0 where they claim to") {
  std::string dir = FWCANARY_FIRMWARE_DIR;
  auto base = LoadFirmwareProfile(dir + "/1.0.yaml").value();
  auto slow = LoadFirmwareProfile(dir + "/2.0-slow-fsync.yaml").value();
  auto surge = LoadFirmwareProfile(dir + "/2.0-surge-collapse.yaml").value();
  auto space = LoadFirmwareProfile(dir + "/2.0-space-amp.yaml").value();
  auto reset = LoadFirmwareProfile(dir + "/2.0-setting-reset.yaml").value();
  auto reboot = LoadFirmwareProfile(dir + "/1.1-reboot.yaml").value();
  auto fsync = static_cast<std::size_t>(FsOp::kFsync);
  CHECK(slow.base_us[fsync] == 4 * base.base_us[fsync]);
  CHECK(surge.base_us == base.base_us);
  CHECK(surge.knee_ops_per_s > 0);
  CHECK(space.space_bytes_factor > base.space_bytes_factor);
  CHECK(reset.reset_settings.at("inbound_smtp") == "0");
  CHECK(reboot.disruptive);
  CHECK(!base.disruptive);
  // The read-path images (issue 19): reads only, at every load or past a knee.
  auto reads = LoadFirmwareProfile(dir + "/2.0-slow-reads.yaml").value();
  auto surge_reads = LoadFirmwareProfile(dir + "/2.0-surge-slow-reads.yaml").value();
  auto read = static_cast<std::size_t>(FsOp::kRead);
  CHECK(reads.base_us[read] == 12 * base.base_us[read]);
  CHECK(reads.read_us_per_kib == 12 * base.read_us_per_kib);
  CHECK(reads.base_us[fsync] == base.base_us[fsync]);
  CHECK(surge_reads.base_us == base.base_us);
  CHECK(surge_reads.knee_only == static_cast<int>(FsOp::kRead));
  CHECK(base.knee_only == -1);
  // The incident's mechanism (issue 22): 1.0 when empty, slower as it fills.
  auto fill = LoadFirmwareProfile(dir + "/2.0-fill-collapse.yaml").value();
  CHECK(fill.base_us == base.base_us);
  CHECK(fill.service_slots == base.service_slots);
  CHECK(fill.fill_start == 0.3);
  CHECK(fill.fill_slowdown == 60);
  CHECK(base.fill_slowdown == 0);
}

TEST_CASE("firmware: a bad image is refused naming file line column and field", "[bad-input]") {
  auto p = LoadFirmwareProfile(
      WriteImage("9.9", "version: \"9.9\"\ndescription: x\nlatency_us:\n  fsnyc: 10\n"));
  REQUIRE(!p.ok());
  CHECK(p.status().message().find("9.9.yaml:4:3: field 'latency_us.fsnyc': unknown field "
                                  "(did you mean 'fsync'?)") != std::string::npos);
  p = LoadFirmwareProfile(WriteImage("9.8", "version: \"9.8\"\ndescription: x\nservice_slots: 0\n"));
  REQUIRE(!p.ok());
  CHECK(p.status().message().find("9.8.yaml:3:1: field 'service_slots'") != std::string::npos);
  p = LoadFirmwareProfile(WriteImage("9.7", "version: \"1.0\"\ndescription: x\n"));
  REQUIRE(!p.ok());
  CHECK(p.status().message().find("must match") != std::string::npos);
  p = LoadFirmwareProfile(WriteImage("9.6", "version: \"9.6\"\n"));
  REQUIRE(!p.ok());
  CHECK(p.status().message().find("missing required field 'description'") != std::string::npos);
  p = LoadFirmwareProfile(WriteImage(
      "9.5", "version: \"9.5\"\ndescription: x\nload_knee:\n  ops_per_s: 10\n  only: reads\n"));
  REQUIRE(!p.ok());
  CHECK(p.status().message().find("9.5.yaml:5:3: field 'load_knee.only': must be one of read, write") !=
        std::string::npos);
}

}  // namespace
}  // namespace fwcanary::lab
