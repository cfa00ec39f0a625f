#pragma once
// Reading fio's JSON output (fio 3.x, --output-format=json or json+).
//
// With --status-interval fio prints one whole JSON document per interval, glued together with
// no separator, then a final one; each holds cumulative figures since the job started. The
// splitter cuts the stream into documents; FioSnapshot extracts what fwcanary measures from one
// document; Diff() turns two consecutive snapshots into one interval. Latency comes from json+'s
// "bins" (fio's own log-linear histogram, ~0.78% bucket error) re-bucketed into our histogram;
// plain json has no bins, so only count, bytes and the mean are exact there.
//
// Which fio section measures which operation class (see agents/README.md):
//   deliver  = the write job's fsyncs: sync.lat_ns (with buffered writes the write clat is only
//              a memcpy; the storage's cost is in the fsync), bytes from write.io_bytes
//   retrieve = the read job: read.clat_ns, read.io_bytes
// Thread safety: plain values and functions.

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agents/records/records.h"
#include "common/status.h"

namespace fwcanary {

// Cuts a byte stream into top-level JSON objects; text outside them (fio's warnings) is skipped.
class JsonDocumentSplitter {
 public:
  // Appends `chunk`; returns every document completed by it.
  std::vector<std::string> Feed(const std::string& chunk);

 private:
  std::string buf_;
  std::size_t scan_ = 0;   // next unexamined byte of buf_
  int depth_ = 0;
  bool in_string_ = false, escape_ = false;
  std::size_t start_ = 0;  // where the current document began
};

// Cumulative per-class figures from one fio JSON document (all jobs summed by class).
struct FioSnapshot {
  double runtime_s = 0;              // longest job_runtime (restarts after fio's file layout)
  double timestamp_s = 0;            // fio's wall clock when it printed the document
  std::map<std::string, OpStats> ops;  // "deliver", "retrieve"
  std::map<std::string, uint64_t> job_errors;  // job name -> fio's error code (0 = none)
  std::string fio_version;

  uint64_t total_ops() const;
};

// Parses one document. Jobs named other than deliver/retrieve are classified by direction:
// a job that writes is a deliver job, one that only reads is a retrieve job.
Result<FioSnapshot> ParseFioDocument(const nlohmann::json& doc);

// Parses a whole fio output (one or more documents; the last is the final result). Used by
// `fwcanary compare` to read fio runs, and by tests.
Result<std::vector<FioSnapshot>> ParseFioOutput(const std::string& text);

// later - earlier, per class (counts, bytes and histogram buckets subtract).
std::map<std::string, OpStats> DiffSnapshots(const FioSnapshot& earlier, const FioSnapshot& later);

}  // namespace fwcanary
