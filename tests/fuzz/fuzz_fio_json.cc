// libFuzzer target: fio's JSON/json+ output reader (fio's output has known quirks: status
// documents glued together, warnings before the JSON; see agents/fio/fio_json.h).
#include <cstddef>
#include <cstdint>
#include <string>

#include "agents/fio/fio_json.h"
#include "harness/judge/samples.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  (void)fwcanary::ParseFioOutput(text);
  (void)fwcanary::judge::ParseFioRuns(text, "fuzz");
  return 0;
}
