#include "harness/transport/local_transport.h"

#include <string.h>
#include <sys/stat.h>

#include <filesystem>

#include "common/child_process.h"

namespace fwcanary::transport {

Result<ExecResult> LocalTransport::Exec(const std::string& command, double timeout_s,
                                        const std::string& stdin_text,
                                        const std::function<bool(const std::string&)>& on_line,
                                        double silence_s) {
  ChildOptions o;
  o.stdin_text = stdin_text;
  o.timeout_s = timeout_s;
  o.silence_s = silence_s;
  o.on_line = on_line;
  auto r = RunChild({"/bin/sh", "-c", command}, o);
  if (!r.ok()) return Status::Unavailable("cannot run /bin/sh: " + r.status().message());
  ExecResult res;
  res.exit_code = r->exit_code;
  if (r->signal != 0) {
    const char* name = sigabbrev_np(r->signal);
    res.signal = name != nullptr ? name : std::to_string(r->signal);
  }
  res.out = std::move(r->out);
  res.err = std::move(r->err);
  res.timed_out = r->timed_out || r->stopped;
  res.silent = r->silent;
  res.seconds = r->seconds;
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
