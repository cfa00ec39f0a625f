#include "tests/integration/agent_runner.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <boost/process.hpp>

namespace fwcanary::testing {
namespace bp = boost::process;

const nlohmann::json& AgentRun::summary() const {
  if (records.empty() || records.back().value("type", "") != "summary") {
    throw std::runtime_error("no summary record; stderr: " + stderr_text);
  }
  return records.back();
}

std::vector<nlohmann::json> AgentRun::intervals(const std::string& phase) const {
  std::vector<nlohmann::json> out;
  for (const auto& r : records) {
    if (r.value("type", "") == "interval" && (phase.empty() || r.value("phase", "") == phase)) {
      out.push_back(r);
    }
  }
  return out;
}

AgentRun RunAgent(const std::vector<std::string>& args, const std::string& stdin_text,
                  double timeout_s, void (*after_start)(int pid)) {
  AgentRun run;
  bp::opstream in;
  bp::ipstream out, err;
  bp::child child(FWCANARY_AGENT_BIN, bp::args(args), bp::std_in < in, bp::std_out > out,
                  bp::std_err > err);
  in << stdin_text;
  in.flush();
  in.pipe().close();
  if (after_start != nullptr) after_start(child.id());
  auto err_future = std::async(std::launch::async, [&err] {
    std::ostringstream ss;
    ss << err.rdbuf();
    return ss.str();
  });
  std::atomic<bool> done{false};
  std::thread watchdog([&] {
    auto deadline = std::chrono::steady_clock::now() +
                    std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                        std::chrono::duration<double>(timeout_s));
    while (!done && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (!done) child.terminate();
  });
  std::string line;
  while (std::getline(out, line)) {
    if (!line.empty()) run.records.push_back(nlohmann::json::parse(line));
  }
  child.wait();
  done = true;
  watchdog.join();
  run.exit_code = child.exit_code();
  run.stderr_text = err_future.get();
  return run;
}

ScratchDir::ScratchDir() {
  char tmpl[] = "/tmp/fwcanary-it-XXXXXX";
  path = ::mkdtemp(tmpl);
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

}  // namespace fwcanary::testing
