#include "lab/fwsim/node_daemon.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>

namespace fwcanary::lab {
namespace {

void Log(const std::string& node, const std::string& line) {
  std::fprintf(stderr, "fwsim %s: %s\n", node.c_str(), line.c_str());
  std::fflush(stderr);
}

void SleepSeconds(double s) {
  std::this_thread::sleep_for(std::chrono::duration<double>(s));
}

std::vector<std::string> Words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::string KnownImages(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".yaml") names.push_back(e.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// Seconds between the acknowledgement and management going down, so the session that asked
// for the flash sees its answer and exits cleanly.
constexpr double kAckSeconds = 1.0;

}  // namespace

NodeDaemon::NodeDaemon(NodeOptions options)
    : o_(std::move(options)),
      space_(o_.capacity_bytes),
      sshd_(o_.dir + "/sshd/sshd_config", o_.dir + "/sshd.log", o_.address, o_.port) {}

NodeDaemon::~NodeDaemon() {
  if (flash_thread_.joinable()) flash_thread_.join();
  if (root_fd_ >= 0) ::close(root_fd_);
}

Status NodeDaemon::Boot() {
  root_fd_ = ::open(Path("backing").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd_ < 0) return Status::FromErrno("cannot open " + Path("backing"), errno);
  Result<NodeState> st = LoadNodeState(Path("state.json"));
  if (st.ok()) {
    state_ = st.value();
  } else if (st.status().code() == Status::Code::kNotFound) {
    state_.active = o_.initial_image;
  } else {
    return st.status();
  }
  Result<FirmwareProfile> p = LoadFirmwareProfile(ImagePath(o_.firmware_dir, state_.active));
  if (!p.ok()) return p.status();
  profile_ = p.value();
  model_ = std::make_unique<ServiceModel>(profile_);
  model_->SetFillSource(&space_);
  space_.SetProfile(profile_);
  space_.Rescan(root_fd_);
  ctx_ = FsContext{root_fd_, model_.get(), &space_, o_.real_fsync};
  if (Status s = mount_.Mount(Path("mnt"), "fwsim-" + o_.name, &ctx_); !s.ok()) return s;
  state_.boots += 1;
  state_.boot_id = NewBootId();
  if (Status s = SaveNodeState(Path("state.json"), state_); !s.ok()) return s;
  if (Status s = sshd_.Start(); !s.ok()) return s;
  phase_ = "up";
  Log(o_.name, "up: firmware " + state_.active + ", boot " + state_.boot_id + ", sshd on " +
                   o_.address + ":" + std::to_string(o_.port));
  return Status::Ok();
}

int NodeDaemon::Run() {
  // Processes that leave their session (an agent started with setsid) stay the node's: on a
  // reboot they are found and killed like everything else the node runs.
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGCHLD);
  sigaddset(&mask, SIGHUP);
  // Blocked before any thread starts, so FUSE and flash threads inherit the mask.
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);
  signal(SIGPIPE, SIG_IGN);

  if (Status s = Boot(); !s.ok()) {
    Log(o_.name, "cannot boot: " + s.message());
    Shutdown();
    return 2;
  }
  Result<int> listen_fd = ListenControl(Path("control.sock"), o_.control_gid);
  if (!listen_fd.ok()) {
    Log(o_.name, listen_fd.status().message());
    Shutdown();
    return 2;
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (!WriteFileAtomic(Path("fwsim.pid"), pid).ok() ||
      !WriteFileAtomic(Path("ready"), state_.boot_id + "\n").ok()) {
    Log(o_.name, "cannot write fwsim.pid/ready");
    Shutdown();
    return 2;
  }
  Serve(listen_fd.value());
  ::close(listen_fd.value());
  Shutdown();
  return 0;
}

void NodeDaemon::Serve(int listen_fd) {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGCHLD);
  sigaddset(&mask, SIGHUP);
  int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
  while (true) {
    pollfd fds[2] = {{listen_fd, POLLIN, 0}, {sfd, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents & POLLIN) {
      signalfd_siginfo si{};
      if (::read(sfd, &si, sizeof si) == sizeof si) {
        if (si.ssi_signo == SIGCHLD) {
          std::lock_guard lock(mu_);
          pid_t p;
          while ((p = ::waitpid(-1, nullptr, WNOHANG)) > 0) {
            if (sshd_.Reaped(p)) Log(o_.name, "sshd exited (not restarted until next boot)");
          }
        } else {
          Log(o_.name, std::string("stopping on ") + strsignal(static_cast<int>(si.ssi_signo)));
          break;
        }
      }
    }
    if (fds[0].revents & POLLIN) {
      int c = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      std::string req = ReadRequestLine(c, 2.0);
      if (!req.empty()) WriteReply(c, Handle(req));
      ::close(c);
    }
  }
  ::close(sfd);
}

ControlReply NodeDaemon::Handle(const std::string& request) {
  std::vector<std::string> w = Words(request);
  if (w.empty()) return {"empty request", 2};
  const std::string& cmd = w[0];
  auto no_args = [&](ControlReply r) {
    return w.size() == 1 ? r : ControlReply{cmd + " takes no argument", 2};
  };
  if (cmd == "version") {
    std::lock_guard lock(mu_);
    return no_args({profile_.reports_version.empty() ? state_.active : profile_.reports_version, 0});
  }
  if (cmd == "boot-id") {
    std::lock_guard lock(mu_);
    return no_args({state_.boot_id, 0});
  }
  if (cmd == "status") return no_args(StatusReply());
  if (cmd == "images") return no_args({KnownImages(o_.firmware_dir), 0});
  if (cmd == "settings") {
    Result<NodeSettings> s = LoadSettings(Path("settings.conf"));
    if (!s.ok()) return {s.status().message(), 2};
    std::string out;
    for (const auto& [k, v] : s.value()) out += k + " = " + v + "\n";
    return no_args({out, 0});
  }
  if (cmd == "flash") {
    if (w.size() != 2) return {"usage: flash IMAGE", 2};
    return StartFlash(w[1]);
  }
  if (cmd == "can-rollback") {
    // What a controller asks before flashing: after the flash, could this node go back to
    // IMAGE? It can when IMAGE is a known image and the one running now (what the flash keeps
    // as its previous firmware) or the previous one already.
    if (w.size() != 2) return {"usage: can-rollback IMAGE", 2};
    std::string known = KnownImages(o_.firmware_dir);
    std::lock_guard lock(mu_);
    if ((", " + known + ",").find(", " + w[1] + ",") == std::string::npos) return {"no image '" + w[1] + "' on this node (known: " + known + ")", 1};
    if (w[1] != state_.active && w[1] != state_.previous) {
      return {"'" + w[1] + "' is neither running (" + state_.active + ") nor the previous firmware", 1};
    }
    return {"rollback to " + w[1] + " possible", 0};
  }
  if (cmd == "fault") {
    // Fault injection for tests: the node's management dies (sshd and everything its sessions
    // run are killed, as when the management network or the host's sshd goes) and stays dead,
    // across flashes too, until `fault sshd-start`. Data and mount are untouched.
    if (w.size() != 2 || (w[1] != "sshd-kill" && w[1] != "sshd-start")) {
      return {"usage: fault sshd-kill | fault sshd-start", 2};
    }
    std::lock_guard lock(mu_);
    if (w[1] == "sshd-kill") {
      sshd_fault_ = true;
      sshd_.Stop(SshdSupervisor::StopMode::kKillEverything);
      Log(o_.name, "fault: sshd killed, stays down until 'fault sshd-start'");
      return {"sshd killed", 0};
    }
    sshd_fault_ = false;
    if (sshd_.running()) return {"sshd already running", 0};
    if (flashing_) return {"sshd comes back when the flash ends", 0};
    if (Status s = sshd_.Start(); !s.ok()) return {"sshd start failed: " + s.message(), 1};
    Log(o_.name, "fault cleared: sshd started");
    return {"sshd started", 0};
  }
  if (cmd == "rollback") {
    std::string prev;
    {
      std::lock_guard lock(mu_);
      prev = state_.previous;
    }
    if (prev.empty()) return {"rollback refused: this node has no previous firmware", 1};
    return StartFlash(prev);
  }
  return {"unknown command '" + cmd +
              "' (known: version, boot-id, status, settings, images, can-rollback IMAGE, "
              "flash IMAGE, rollback, fault sshd-kill|sshd-start)",
          2};
}

ControlReply NodeDaemon::StatusReply() {
  std::lock_guard lock(mu_);
  std::ostringstream o;
  o << "node: " << o_.name << "\n"
    << "state: " << phase_ << "\n"
    << "version: " << state_.active << "\n"
    << "previous: " << state_.previous << "\n"
    << "boot_id: " << state_.boot_id << "\n"
    << "boots: " << state_.boots << "\n"
    << "flashes: " << state_.flashes << "\n"
    << "sshd: " << (sshd_.running() ? "up" : "down") << "\n"
    << "mounted: " << (mount_.mounted() ? "yes" : "no") << "\n"
    << "io_held: " << (model_ && model_->held() ? "yes" : "no") << "\n"
    << "files: " << space_.files() << "\n"
    << "allocated_bytes: " << space_.allocated_bytes() << "\n"
    << "used_bytes: " << space_.used_bytes() << "\n"
    << "capacity_bytes: " << space_.capacity() << "\n"
    << "ops_last_second: " << (model_ ? model_->RecentOpsPerSecond() : 0) << "\n"
    << "requests_waiting: " << (model_ ? model_->waiting() : 0) << "\n";
  return {o.str(), 0};
}

ControlReply NodeDaemon::StartFlash(const std::string& image) {
  if (image.find('/') != std::string::npos &&
      std::filesystem::path(image).extension() != ".yaml") {
    return {"flash refused: an image path must name a .yaml image file, got '" + image + "'", 1};
  }
  std::string path = ImagePath(o_.firmware_dir, image);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return {"flash refused: unknown firmware image '" + image +
                "' (known: " + KnownImages(o_.firmware_dir) + ")",
            1};
  }
  Result<FirmwareProfile> p = LoadFirmwareProfile(path);
  if (!p.ok()) return {"flash refused: invalid image: " + p.status().message(), 1};
  bool expected = false;
  if (!flashing_.compare_exchange_strong(expected, true)) {
    return {"flash refused: a flash is already in progress", 1};
  }
  if (flash_thread_.joinable()) flash_thread_.join();
  {
    std::lock_guard lock(mu_);
    phase_ = "flashing";
  }
  FirmwareProfile target = p.value();
  std::ostringstream msg;
  msg << "flashing " << target.version << " (" << target.description << "): "
      << (target.disruptive ? "node reboots, storage offline" : "I/O held") << " for "
      << target.flash_seconds << " s, management restarts";
  Log(o_.name, msg.str());
  flash_thread_ = std::thread([this, target] { FlashSequence(target); });
  return {msg.str(), 0};
}

void NodeDaemon::FlashSequence(FirmwareProfile target) {
  SleepSeconds(kAckSeconds);
  {
    std::lock_guard lock(mu_);
    sshd_.Stop(target.disruptive ? SshdSupervisor::StopMode::kKillEverything
                                 : SshdSupervisor::StopMode::kKeepSessions);
    phase_ = target.disruptive ? "down" : "flashing";
  }
  if (target.disruptive) {
    mount_.Unmount();
  } else {
    if (target.error_seconds > 0) {
      uint32_t mask = 0;
      for (FsOp op : target.error_ops) mask |= 1U << static_cast<uint32_t>(op);
      model_->SetFailing(mask);
      Log(o_.name, "failing I/O with EIO for " + std::to_string(target.error_seconds) + " s");
      SleepSeconds(target.error_seconds);
      model_->SetFailing(0);
    }
    model_->Hold();
  }
  SleepSeconds(target.flash_seconds);
  {
    std::lock_guard lock(mu_);
    profile_ = target;
    model_->SetProfile(target);
    space_.SetProfile(target);
    space_.Rescan(root_fd_);
    if (!target.reset_settings.empty()) {
      Result<NodeSettings> s = LoadSettings(Path("settings.conf"));
      NodeSettings settings = s.ok() ? s.value() : NodeSettings{};
      for (const auto& [k, v] : target.reset_settings) settings[k] = v;
      if (Status w = SaveSettings(Path("settings.conf"), settings); !w.ok()) {
        Log(o_.name, w.message());
      }
    }
    if (state_.active != target.version) state_.previous = state_.active;
    state_.active = target.version;
    state_.flashes += 1;
    if (target.changes_boot_id) {
      state_.boots += 1;
      state_.boot_id = NewBootId();
    }
    if (Status w = SaveNodeState(Path("state.json"), state_); !w.ok()) Log(o_.name, w.message());
  }
  if (target.disruptive) {
    if (Status s = mount_.Mount(Path("mnt"), "fwsim-" + o_.name, &ctx_); !s.ok()) {
      Log(o_.name, "remount failed: " + s.message());
    }
  } else {
    model_->Release();
    if (target.giveback_seconds > 0) {  // the partner serves, then gives the node back
      SleepSeconds(target.giveback_after_s);
      model_->Hold();
      Log(o_.name, "giveback: I/O held for " + std::to_string(target.giveback_seconds) + " s");
      SleepSeconds(target.giveback_seconds);
      model_->Release();
    }
  }
  {
    std::lock_guard lock(mu_);
    if (!target.management_returns) {
      Log(o_.name, "management did not come back (this image bricks it): no sshd");
    } else if (sshd_fault_) {
      Log(o_.name, "fault: sshd stays down after the flash");
    } else if (Status s = sshd_.Start(); !s.ok()) {
      Log(o_.name, "sshd restart failed: " + s.message());
    }
    phase_ = "up";
    Log(o_.name, "up: firmware " + state_.active + ", boot " + state_.boot_id);
  }
  flashing_ = false;
}

void NodeDaemon::Shutdown() {
  if (flash_thread_.joinable()) flash_thread_.join();
  {
    std::lock_guard lock(mu_);
    sshd_.Stop(SshdSupervisor::StopMode::kKillEverything);
    phase_ = "down";
  }
  if (model_) model_->Release();
  mount_.Unmount();
  ::unlink(Path("control.sock").c_str());
  ::unlink(Path("ready").c_str());
  ::unlink(Path("fwsim.pid").c_str());
  Log(o_.name, "down");
}

}  // namespace fwcanary::lab
