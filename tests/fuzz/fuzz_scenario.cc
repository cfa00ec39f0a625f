// libFuzzer target: the scenario loader (YAML with positions, the schema tables, the inventory
// resolution, command templates). Any input must give a scenario or an error, never a crash,
// an uncaught exception or a sanitizer report. The loader reads a path, so each input is
// written to one scratch file first.
#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>

#include "harness/scenario/scenario.h"

namespace {

const std::string& ScratchFile() {
  static const std::string path = [] {
    char tmpl[] = "/tmp/fwcanary-fuzz-scenario-XXXXXX";
    int fd = ::mkstemp(tmpl);
    if (fd >= 0) ::close(fd);
    return std::string(tmpl);
  }();
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  {
    std::ofstream out(ScratchFile(), std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  auto sc = fwcanary::scenario::LoadScenario(ScratchFile());
  if (sc.ok()) (void)fwcanary::scenario::DescribeScenarioFormat();
  return 0;
}
