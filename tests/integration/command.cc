#include "tests/integration/command.h"

#include <atomic>
#include <chrono>
#include <future>
#include <sstream>
#include <thread>

#include <boost/process.hpp>

namespace fwcanary::testing {
namespace bp = boost::process;

CommandResult RunCommand(const std::vector<std::string>& argv, const CommandOptions& opts) {
  CommandResult r;
  boost::filesystem::path exe = argv.at(0);
  if (argv[0].find('/') == std::string::npos) exe = bp::search_path(argv[0]);
  bp::environment env = boost::this_process::environment();
  for (const auto& [k, v] : opts.env) env[k] = v;
  std::vector<std::string> args(argv.begin() + 1, argv.end());
  bp::opstream in;
  bp::ipstream out, err;
  bp::child child(exe, bp::args(args), env, bp::std_in < in, bp::std_out > out,
                  bp::std_err > err);
  in << opts.stdin_text;
  in.flush();
  in.pipe().close();
  if (opts.after_start != nullptr) opts.after_start(child.id());
  // Both pipes drain at once so a chatty stderr cannot stall the child.
  auto err_future = std::async(std::launch::async, [&err] {
    std::ostringstream ss;
    ss << err.rdbuf();
    return ss.str();
  });
  std::atomic<bool> done{false};
  std::thread watchdog([&] {
    auto deadline = std::chrono::steady_clock::now() +
                    std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                        std::chrono::duration<double>(opts.timeout_s));
    while (!done && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (!done) {
      r.timed_out = true;
      child.terminate();
    }
  });
  std::ostringstream ss;
  ss << out.rdbuf();
  r.out = ss.str();
  child.wait();
  done = true;
  watchdog.join();
  r.exit_code = child.exit_code();
  r.err = err_future.get();
  return r;
}

}  // namespace fwcanary::testing
