// libFuzzer target: the agent record reader, line by line and as the judge loads a stream
// (records come over SSH from nodes: they are input, not trusted).
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "agents/records/records.h"
#include "harness/judge/samples.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    auto r = fwcanary::ParseRecordLine(line);
    if (r.ok()) {
      if (auto* i = std::get_if<fwcanary::IntervalRecord>(&r.value())) (void)i->ToJson().dump();
      if (auto* s = std::get_if<fwcanary::SummaryRecord>(&r.value())) (void)s->ToJson().dump();
    }
  }
  (void)fwcanary::judge::ParseAgentRecords(text, "fuzz", fwcanary::judge::LoadOptions{});
  return 0;
}
