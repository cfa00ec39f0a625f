// fwsim: one simulated storage node (FUSE data path + sshd management + control socket).
// Started by lab/labctl; see lab/README.md. `fwsim --check IMAGE.yaml...` validates images.
#include <grp.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "common/exit_status.h"
#include "lab/fwsim/firmware_profile.h"
#include "lab/fwsim/node_daemon.h"

int main(int argc, char** argv) {
  using namespace fwcanary::lab;
  CLI::App app{"fwsim: a simulated storage node whose firmware can be upgraded"};
  NodeOptions o;
  std::string group;
  std::vector<std::string> check;
  bool help_image = false, schema = false;
  app.add_option("--name", o.name, "node name (node-1)");
  app.add_option("--dir", o.dir, "node directory (backing/, mnt/, sshd/, state.json)");
  app.add_option("--firmware-dir", o.firmware_dir, "directory of firmware images (IMAGE.yaml)");
  app.add_option("--initial-image", o.initial_image, "firmware of a node's first boot");
  app.add_option("--address", o.address, "sshd listen address");
  app.add_option("--port", o.port, "sshd port");
  app.add_option("--capacity", o.capacity_bytes, "node capacity in bytes (0: backing fs)");
  app.add_flag("--real-fsync", o.real_fsync, "also fsync the backing files (adds host noise)");
  app.add_option("--control-group", group, "group allowed to use the control socket");
  app.add_option("--check", check, "validate firmware image files and exit");
  app.add_flag("--help-image", help_image, "print the firmware image format and exit");
  app.add_flag("--schema", schema, "print the firmware image format as a JSON Schema and exit");
  CLI11_PARSE(app, argc, argv);

  if (schema) {
    std::printf("%s\n", FirmwareImageSchema().dump(2).c_str());
    return 0;
  }
  if (help_image) {
    std::fputs(DescribeFirmwareFormat().c_str(), stdout);
    return 0;
  }
  if (!check.empty()) {
    int rc = 0;
    for (const auto& path : check) {
      auto p = LoadFirmwareProfile(path);
      if (p.ok()) {
        std::printf("%s: ok: %s\n", path.c_str(), p->description.c_str());
      } else {
        std::fprintf(stderr, "fwsim: %s\n", p.status().message().c_str());
        rc = fwcanary::kExitError;
      }
    }
    return rc;
  }
  if (o.dir.empty() || o.firmware_dir.empty()) {
    std::fprintf(stderr, "fwsim: --dir and --firmware-dir are required (lab/labctl starts fwsim)\n");
    return fwcanary::kExitError;
  }
  if (::geteuid() != 0) {
    std::fprintf(stderr, "fwsim: must run as root (FUSE mount with allow_other, sshd on port "
                         "22 that logs in the lab user); run lab/labctl as root\n");
    return fwcanary::kExitError;
  }
  if (!group.empty()) {
    struct group* g = getgrnam(group.c_str());
    if (g == nullptr) {
      std::fprintf(stderr, "fwsim: no such group '%s'\n", group.c_str());
      return fwcanary::kExitError;
    }
    o.control_gid = g->gr_gid;
  }
  NodeDaemon daemon(o);
  return daemon.Run();
}
