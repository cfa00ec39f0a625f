#pragma once
// RecordSink: where records go, one JSON object per line. Thread-safe: engines emit from the
// thread that closes an interval, and main emits the start and summary records.

#include <cstdio>
#include <mutex>

#include <nlohmann/json.hpp>

namespace fwcanary {

class RecordSink {
 public:
  virtual ~RecordSink() = default;
  virtual void Emit(const nlohmann::json& record) = 0;
};

// Writes each record as one line to a stdio stream and flushes it, so a reader over SSH sees
// every interval as soon as it closes.
class StreamRecordSink : public RecordSink {
 public:
  explicit StreamRecordSink(std::FILE* out) : out_(out) {}
  void Emit(const nlohmann::json& record) override;

 private:
  std::mutex mu_;
  std::FILE* out_;  // not owned
};

}  // namespace fwcanary
