#include "agents/record_sink.h"

namespace fwcanary {

void StreamRecordSink::Emit(const nlohmann::json& record) {
  // Replace invalid UTF-8 (a node name from a hostile inventory) instead of throwing.
  std::string line = record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::lock_guard<std::mutex> lock(mu_);
  std::fwrite(line.data(), 1, line.size(), out_);
  std::fputc('\n', out_);
  std::fflush(out_);
}

}  // namespace fwcanary
