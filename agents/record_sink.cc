#include "agents/record_sink.h"

namespace fwcanary {

void StreamRecordSink::Emit(const nlohmann::json& record) {
  // Replace invalid UTF-8 (a node name from a hostile inventory) instead of throwing.
  std::string line = record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::lock_guard<std::mutex> lock(mu_);
  if (gone_) return;
  std::fwrite(line.data(), 1, line.size(), out_);
  std::fputc('\n', out_);
  if (std::fflush(out_) != 0 || std::ferror(out_)) {
    gone_ = true;  // SIGPIPE is ignored: the write failed with EPIPE instead
    if (reader_gone_) reader_gone_();
  }
}

}  // namespace fwcanary
