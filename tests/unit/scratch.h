#pragma once
// Scratch: a fresh directory under /tmp for one unit test, removed with everything in it when
// the test ends.
#include <stdlib.h>

#include <filesystem>
#include <string>

namespace fwcanary::testing {

struct Scratch {
  std::string path;
  Scratch() {
    char tmpl[] = "/tmp/fwcanary-unit-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~Scratch() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
};

}  // namespace fwcanary::testing
