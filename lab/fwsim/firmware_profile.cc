#include "lab/fwsim/firmware_profile.h"

#include <filesystem>

#include "common/positioned_yaml.h"
#include "common/schema.h"

namespace fwcanary::lab {
namespace {

using nlohmann::json;
using Setter = std::function<Status(const json&, FirmwareProfile&, const FieldContext&)>;

Setter Op(FsOp op) {
  return [op](const json& v, FirmwareProfile& p, const FieldContext&) {
    p.base_us[static_cast<std::size_t>(op)] = v.get<double>();
    return Status::Ok();
  };
}

template <typename V>
Setter Set(V FirmwareProfile::*member) {
  return SetMember(member);
}

// Sub-objects share the profile as target, so one FieldDef<FirmwareProfile> type serves all.
const std::vector<FieldDef<FirmwareProfile>>& LatencyTable() {
  static const std::vector<FieldDef<FirmwareProfile>> t = {
      {"read", FieldKind::kNumber, "0", "service time of a read, us", 0, 1e8, Op(FsOp::kRead)},
      {"write", FieldKind::kNumber, "0", "service time of a write, us", 0, 1e8, Op(FsOp::kWrite)},
      {"fsync", FieldKind::kNumber, "0", "service time of an fsync or directory fsync, us", 0,
       1e8, Op(FsOp::kFsync)},
      {"create", FieldKind::kNumber, "0", "create, mkdir, symlink, us", 0, 1e8,
       Op(FsOp::kCreate)},
      {"rename", FieldKind::kNumber, "0", "rename, us", 0, 1e8, Op(FsOp::kRename)},
      {"unlink", FieldKind::kNumber, "0", "unlink, rmdir, us", 0, 1e8, Op(FsOp::kUnlink)},
  };
  return t;
}

const std::vector<FieldDef<FirmwareProfile>>& PerKibTable() {
  static const std::vector<FieldDef<FirmwareProfile>> t = {
      {"read", FieldKind::kNumber, "0", "extra us per KiB read", 0, 1e6,
       Set(&FirmwareProfile::read_us_per_kib)},
      {"write", FieldKind::kNumber, "0", "extra us per KiB written", 0, 1e6,
       Set(&FirmwareProfile::write_us_per_kib)},
  };
  return t;
}

const std::vector<FieldDef<FirmwareProfile>>& FillTable() {
  static const std::vector<FieldDef<FirmwareProfile>> t = {
      {"start", FieldKind::kNumber, "0", "share of the node's capacity in use where service starts slowing", 0, 0.99,
       Set(&FirmwareProfile::fill_start)},
      {"slowdown", FieldKind::kNumber, "0", "service-time factor added when full (linear from start)", 0, 1e4,
       Set(&FirmwareProfile::fill_slowdown)},
  };
  return t;
}

const std::vector<FieldDef<FirmwareProfile>>& KneeTable() {
  static const std::vector<FieldDef<FirmwareProfile>> t = {
      {"ops_per_s", FieldKind::kNumber, "0", "modelled ops/s (last 1 s) where slowdown starts", 0,
       1e7, Set(&FirmwareProfile::knee_ops_per_s)},
      {"slowdown", FieldKind::kNumber, "0", "service-time factor added per 100% over the knee",
       0, 1e4, Set(&FirmwareProfile::knee_slowdown)},
      // A regression of one path past a load (reads slow only in a surge): what the judge
      // must resolve on the lab, one class in one phase (harness/judge/README.md).
      {"only", FieldKind::kString, "(every operation)",
       "the one operation the knee slows: read, write, fsync, create, rename or unlink", {}, {},
       [](const json& v, FirmwareProfile& p, const FieldContext&) {
         for (int op = 0; op < static_cast<int>(kFsOpCount); ++op) {
           if (v.get<std::string>() == FsOpName(static_cast<FsOp>(op))) p.knee_only = op;
         }
         return Status::Ok();
       },
       false, [] { return std::vector<std::string>{"read", "write", "fsync", "create", "rename", "unlink"}; }},
  };
  return t;
}

const std::vector<FieldDef<FirmwareProfile>>& SpaceTable() {
  static const std::vector<FieldDef<FirmwareProfile>> t = {
      {"per_file_bytes", FieldKind::kInteger, "0", "internal space per stored file", 0, 1e9,
       Set(&FirmwareProfile::space_per_file_bytes)},
      {"bytes_factor", FieldKind::kNumber, "1.0", "space used per allocated data byte", 1, 100,
       Set(&FirmwareProfile::space_bytes_factor)},
  };
  return t;
}

Setter Nested(const std::vector<FieldDef<FirmwareProfile>>& (*table)()) {
  return [table](const json& v, FirmwareProfile& p, const FieldContext& c) {
    return ParseObject(v, table(), p, c);
  };
}

const std::vector<FieldDef<FirmwareProfile>>& ProfileTable() {
  static const std::vector<FieldDef<FirmwareProfile>> t = {
      {"version", FieldKind::kString, "", "the version the node reports; the file's stem", {},
       {}, Set(&FirmwareProfile::version), true},
      {"description", FieldKind::kString, "", "what this image does, one line", {}, {},
       Set(&FirmwareProfile::description), true},
      {"flash_seconds", FieldKind::kNumber, "3", "how long flashing holds I/O / keeps it down",
       0, 600, Set(&FirmwareProfile::flash_seconds)},
      {"disruptive", FieldKind::kBool, "false", "flashing unmounts (a host reboot)", {}, {},
       Set(&FirmwareProfile::disruptive)},
      {"giveback_seconds", FieldKind::kNumber, "0",
       "a second I/O hold at the end of a non-disruptive flash (an HA pair's giveback); 0: none", 0, 600,
       Set(&FirmwareProfile::giveback_seconds)},
      {"giveback_after_s", FieldKind::kNumber, "10", "normal service between the takeover and the giveback hold",
       0, 600, Set(&FirmwareProfile::giveback_after_s)},
      {"error_seconds", FieldKind::kNumber, "0",
       "before the hold, fail error_ops with EIO for this long (an upgrade that errors instead of pausing)", 0,
       600, Set(&FirmwareProfile::error_seconds)},
      {"error_ops", FieldKind::kArray, "[\"read\", \"write\", \"fsync\"]", "the operations error_seconds fails", {}, {},
       [](const json& v, FirmwareProfile& p, const FieldContext& c) {
         p.error_ops.clear();
         for (std::size_t i = 0; i < v.size(); ++i) {
           bool found = false;
           for (std::size_t op = 0; op < kFsOpCount && v[i].is_string(); ++op) {
             if (v[i].get<std::string>() == FsOpName(static_cast<FsOp>(op))) {
               p.error_ops.push_back(static_cast<FsOp>(op));
               found = true;
             }
           }
           if (!found) return c.Element(i).Error("must be one of read, write, fsync, create, rename, unlink");
         }
         return Status::Ok();
       },
       false, nullptr, [] {
         return json{{"items", {{"enum", {"read", "write", "fsync", "create", "rename", "unlink"}}}}};
       }},
      {"management_returns", FieldKind::kBool, "true",
       "false: sshd does not come back after the flash (a bricked management plane)", {}, {},
       Set(&FirmwareProfile::management_returns)},
      {"reports_version", FieldKind::kString, "(version)",
       "what `fwsim-node version` prints after this flash, if not `version` (wrong firmware)", {}, {},
       Set(&FirmwareProfile::reports_version)},
      {"changes_boot_id", FieldKind::kBool, "true", "false: the flash does not reboot (boot id stays)", {}, {},
       Set(&FirmwareProfile::changes_boot_id)},
      {"service_slots", FieldKind::kInteger, "8", "operations served at once", 1, 4096,
       Set(&FirmwareProfile::service_slots)},
      {"latency_us", FieldKind::kObject, "{}", "service time per operation", {}, {},
       Nested(&LatencyTable), false, nullptr, [] { return TableSchema(LatencyTable()); }},
      {"per_kib_us", FieldKind::kObject, "{}", "service time per KiB moved", {}, {},
       Nested(&PerKibTable), false, nullptr, [] { return TableSchema(PerKibTable()); }},
      {"load_knee", FieldKind::kObject, "{}", "surge collapse: where and how hard", {}, {},
       Nested(&KneeTable), false, nullptr, [] { return TableSchema(KneeTable()); }},
      {"fill_knee", FieldKind::kObject, "{}", "slowdown as the node's internal space fills", {}, {},
       Nested(&FillTable), false, nullptr, [] { return TableSchema(FillTable()); }},
      {"space", FieldKind::kObject, "{}", "internal space overhead", {}, {}, Nested(&SpaceTable),
       false, nullptr, [] { return TableSchema(SpaceTable()); }},
      {"reset_settings", FieldKind::kObject, "{}",
       "node settings set back on flash: {name: value}", {}, {},
       [](const json& v, FirmwareProfile& p, const FieldContext& c) {
         for (const auto& [k, val] : v.items()) {
           if (!val.is_string() && !val.is_number()) {
             return c.Child(k).Error("must be a string or number");
           }
           p.reset_settings[k] = val.is_string() ? val.get<std::string>() : val.dump();
         }
         return Status::Ok();
       },
       false, nullptr, [] { return json{{"additionalProperties", {{"type", {"string", "number"}}}}}; }},
  };
  return t;
}

}  // namespace

const char* FsOpName(FsOp op) {
  static const char* kNames[] = {"read", "write", "fsync", "create", "rename", "unlink"};
  return kNames[static_cast<std::size_t>(op)];
}

std::string ImagePath(const std::string& dir, const std::string& image) {
  if (image.find('/') != std::string::npos) return image;
  return dir + "/" + image + ".yaml";
}

Result<FirmwareProfile> LoadFirmwareProfile(const std::string& path) {
  Result<PositionedJson> doc = LoadYamlFile(path);
  if (!doc.ok()) return doc.status();
  FirmwareProfile p;
  FieldContext root{doc.value(), ""};
  if (Status s = ParseObject(doc->doc(), ProfileTable(), p, root); !s.ok()) return s;
  std::string stem = std::filesystem::path(path).stem().string();
  if (p.version != stem) {
    return root.Child("version").Error("is \"" + p.version + "\" but the image file is named \"" +
                                       stem + ".yaml\"; they must match");
  }
  return p;
}

nlohmann::json FirmwareImageSchema() {
  return DocumentSchema(TableSchema(ProfileTable()), "fwsim firmware image",
                        "A lab firmware image (lab/firmware/IMAGE.yaml). Generated from the field "
                        "table in lab/fwsim/firmware_profile.cc by `fwsim --schema`.");
}

std::string DescribeFirmwareFormat() {
  return DescribeTable(ProfileTable(), "") + DescribeTable(LatencyTable(), "latency_us.") +
         DescribeTable(PerKibTable(), "per_kib_us.") + DescribeTable(KneeTable(), "load_knee.") +
         DescribeTable(FillTable(), "fill_knee.") + DescribeTable(SpaceTable(), "space.");
}

}  // namespace fwcanary::lab
