#include "agents/fio/fio_json.h"

#include <algorithm>

#include "common/json_number.h"

namespace fwcanary {

using nlohmann::json;

std::vector<std::string> JsonDocumentSplitter::Feed(const std::string& chunk) {
  std::vector<std::string> docs;
  buf_ += chunk;
  for (; scan_ < buf_.size(); ++scan_) {
    char c = buf_[scan_];
    if (depth_ == 0) {
      if (c == '{') {
        start_ = scan_;
        depth_ = 1;
      }
      continue;
    }
    if (in_string_) {
      if (escape_) escape_ = false;
      else if (c == '\\') escape_ = true;
      else if (c == '"') in_string_ = false;
      continue;
    }
    if (c == '"') in_string_ = true;
    else if (c == '{' || c == '[') ++depth_;
    else if (c == '}' || c == ']') {
      if (--depth_ == 0) docs.push_back(buf_.substr(start_, scan_ - start_ + 1));
    }
  }
  if (depth_ == 0) {  // nothing pending: drop consumed text
    buf_.clear();
    scan_ = 0;
  }
  return docs;
}

namespace {

// Adds fio's latency section (ns) to `s`: bins if present (json+), else the mean only.
void AddLatency(const json& lat, uint64_t n, OpStats& s) {
  if (lat.contains("bins") && lat["bins"].is_object() && !lat["bins"].empty()) {
    for (const auto& [ns, count] : lat["bins"].items()) {
      s.hist.Record(std::stod(ns) / 1000.0, JsonCount(count));
    }
    return;
  }
  if (n > 0 && lat.contains("mean")) s.hist.Record(lat["mean"].get<double>() / 1000.0, n);
}

}  // namespace

Result<FioSnapshot> ParseFioDocument(const json& doc) {
  try {
    FioSnapshot snap;
    snap.fio_version = doc.value("fio version", std::string());
    snap.timestamp_s = doc.value("timestamp_ms", 0.0) / 1000.0;
    // Client/server mode nests the jobs under client_stats; skip its "All clients" aggregate.
    const json& jobs = doc.contains("jobs") ? doc.at("jobs") : doc.at("client_stats");
    for (const auto& job : jobs) {
      std::string name = job.at("jobname").get<std::string>();
      if (name == "All clients") continue;
      snap.job_errors[name] = std::max<uint64_t>(snap.job_errors[name], JsonCountOr(job, "error", 0));
      snap.runtime_s = std::max(snap.runtime_s, job.value("job_runtime", 0.0) / 1000.0);
      const json& w = job.at("write");
      const json& r = job.at("read");
      bool writes = JsonCountOr(w, "total_ios", 0) > 0 || name == "deliver";
      if (writes && name != "retrieve") {
        OpStats& s = snap.ops["deliver"];
        const json& sync = job.contains("sync") ? job["sync"] : json::object();
        uint64_t fsyncs = JsonCountOr(sync, "total_ios", 0);
        if (fsyncs > 0) {
          s.count += fsyncs;
          AddLatency(sync.at("lat_ns"), fsyncs, s);
        } else {  // fsync off: the write itself is the delivery
          uint64_t n = JsonCountOr(w, "total_ios", 0);
          s.count += n;
          AddLatency(w.at("clat_ns"), n, s);
        }
        s.bytes += JsonCountOr(w, "io_bytes", 0);
      } else {
        OpStats& s = snap.ops["retrieve"];
        uint64_t n = JsonCountOr(r, "total_ios", 0);
        s.count += n;
        s.bytes += JsonCountOr(r, "io_bytes", 0);
        AddLatency(r.at("clat_ns"), n, s);
      }
      if (JsonCountOr(job, "error", 0) != 0) snap.ops[writes ? "deliver" : "retrieve"].errors += 1;
    }
    return snap;
  } catch (const json::exception& e) {
    return Status::InvalidArgument(std::string("not fio JSON output: ") + e.what());
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("fio JSON: ") + e.what());
  }
}

uint64_t FioSnapshot::total_ops() const {
  uint64_t n = 0;
  for (const auto& [cls, s] : ops) n += s.count;
  return n;
}

Result<std::vector<FioSnapshot>> ParseFioOutput(const std::string& text) {
  JsonDocumentSplitter splitter;
  std::vector<FioSnapshot> out;
  for (const std::string& d : splitter.Feed(text)) {
    json doc;
    try {
      doc = json::parse(d);
    } catch (const json::exception& e) {
      return Status::InvalidArgument(std::string("fio output: ") + e.what());
    }
    auto snap = ParseFioDocument(doc);
    if (!snap.ok()) return snap.status();
    out.push_back(std::move(snap.value()));
  }
  if (out.empty()) return Status::InvalidArgument("no fio JSON document found");
  return out;
}

std::map<std::string, OpStats> DiffSnapshots(const FioSnapshot& a, const FioSnapshot& b) {
  std::map<std::string, OpStats> out;
  for (const auto& [cls, later] : b.ops) {
    OpStats d;
    auto it = a.ops.find(cls);
    if (it == a.ops.end()) {
      out[cls] = later;
      continue;
    }
    const OpStats& earlier = it->second;
    d.count = later.count - std::min(later.count, earlier.count);
    d.errors = later.errors - std::min(later.errors, earlier.errors);
    d.bytes = later.bytes - std::min(later.bytes, earlier.bytes);
    // Subtract histograms bucket by bucket through their JSON form (both share gamma).
    json lj = later.hist.ToJson(), ej = earlier.hist.ToJson();
    int lf = lj["first"].get<int>(), ef = ej["first"].get<int>();
    auto lc = lj["counts"].get<std::vector<uint64_t>>();
    auto ec = ej["counts"].get<std::vector<uint64_t>>();
    for (std::size_t k = 0; k < lc.size(); ++k) {
      int idx = lf + static_cast<int>(k);
      int e = idx - ef;
      uint64_t sub = (e >= 0 && e < static_cast<int>(ec.size())) ? ec[static_cast<std::size_t>(e)] : 0;
      uint64_t n = lc[k] - std::min(lc[k], sub);
      if (n > 0) d.hist.Record(LatencyHistogram::ValueOf(idx), n);
    }
    out[cls] = d;
  }
  return out;
}

}  // namespace fwcanary
