// libFuzzer target: the agent's workload spec parser and validation (what arrives on the
// agent's stdin from the controller, or from a user's file).
#include <cstddef>
#include <cstdint>
#include <string>

#include "agents/spec/workload_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto spec = fwcanary::ParseWorkloadSpec(text, "fuzz");
  if (spec.ok()) {
    (void)fwcanary::ValidateWorkloadSpec(spec.value());
    (void)spec->ToJson().dump();
  }
  return 0;
}
