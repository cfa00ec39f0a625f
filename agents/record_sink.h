#pragma once
// RecordSink: where records go, one JSON object per line. Thread-safe: engines emit from the
// thread that closes an interval, and main emits the start and summary records.

#include <cstdio>
#include <functional>
#include <mutex>

#include <nlohmann/json.hpp>

namespace fwcanary {

class RecordSink {
 public:
  virtual ~RecordSink() = default;
  virtual void Emit(const nlohmann::json& record) = 0;
};

// Writes each record as one line to a stdio stream and flushes it, so a reader over SSH sees
// every interval as soon as it closes. When the reader has gone (a broken pipe: the
// controller closed its session or died), `reader_gone` is called once: the agent then stops
// its run and cleans up instead of loading the storage for nobody.
class StreamRecordSink : public RecordSink {
 public:
  explicit StreamRecordSink(std::FILE* out, std::function<void()> reader_gone = {})
      : out_(out), reader_gone_(std::move(reader_gone)) {}
  void Emit(const nlohmann::json& record) override;

 private:
  std::mutex mu_;
  std::FILE* out_;  // not owned
  std::function<void()> reader_gone_;
  bool gone_ = false;
};

}  // namespace fwcanary
