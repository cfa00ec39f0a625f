#include "harness/transport/local_transport.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <sstream>
#include <thread>

#include <boost/process.hpp>

namespace fwcanary::transport {
namespace bp = boost::process;
namespace {
using Clock = std::chrono::steady_clock;
}  // namespace

Result<ExecResult> LocalTransport::Exec(const std::string& command, double timeout_s,
                                        const std::string& stdin_text,
                                        const std::function<bool(const std::string&)>& on_line,
                                        double silence_s) {
  auto start = std::chrono::steady_clock::now();
  ExecResult res;
  try {
    bp::opstream in;
    bp::ipstream out, err;
    // Its own process group: a timeout kills what the shell started too (a `sleep` holding
    // the output pipe open would otherwise keep us reading until it ends).
    bp::group group;
    bp::child child("/bin/sh", bp::args({"-c", command}), bp::std_in < in, bp::std_out > out,
                    bp::std_err > err, group);
    in << stdin_text;
    in.flush();
    in.pipe().close();
    // Time of the last output (stdout or stderr line), for the silence watchdog.
    std::atomic<Clock::rep> last_output{start.time_since_epoch().count()};
    auto heard = [&last_output] { last_output = Clock::now().time_since_epoch().count(); };
    auto err_text = std::async(std::launch::async, [&err, &heard] {
      std::string text;
      for (std::string l; std::getline(err, l);) {
        text += l;
        if (!err.eof()) text += "\n";  // a last line without a newline stays without one
        heard();
      }
      return text;
    });
    std::atomic<bool> done{false}, killed{false}, silent{false};
    std::thread watchdog([&] {
      auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_s));
      auto quiet = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(silence_s));
      while (!done && Clock::now() < deadline) {
        if (silence_s > 0 && Clock::now() - Clock::time_point(Clock::duration(last_output.load())) > quiet) {
          silent = true;
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      if (!done) {
        killed = true;
        std::error_code ec;
        group.terminate(ec);
      }
    });
    std::string line;
    bool stop = false;
    while (std::getline(out, line)) {
      heard();
      res.out += line + "\n";
      if (on_line && !stop && !on_line(line)) {
        stop = true;
        std::error_code ec;
        group.terminate(ec);
      }
    }
    child.wait();
    done = true;
    watchdog.join();
    res.err = err_text.get();
    int native = child.native_exit_code();
    if (killed) {
      res.timed_out = true;
      res.silent = silent;
    } else if (WIFSIGNALED(native)) {
      res.signal = std::to_string(WTERMSIG(native));
    } else {
      res.exit_code = child.exit_code();
    }
  } catch (const std::exception& e) {
    return Status::Unavailable(std::string("cannot run /bin/sh: ") + e.what());
  }
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return res;
}

Status LocalTransport::Put(const std::string& local_path, const std::string& remote_path, int mode,
                           double) {
  std::error_code ec;
  std::string tmp = remote_path + ".fwcanary-upload";
  std::filesystem::copy_file(local_path, tmp, std::filesystem::copy_options::overwrite_existing, ec);
  if (ec) return Status::IOError("cannot copy " + local_path + " to " + tmp + ": " + ec.message());
  ::chmod(tmp.c_str(), static_cast<mode_t>(mode));
  std::filesystem::rename(tmp, remote_path, ec);
  if (ec) return Status::IOError("cannot rename " + tmp + ": " + ec.message());
  return Status::Ok();
}

}  // namespace fwcanary::transport
