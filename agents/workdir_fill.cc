#include "agents/workdir_fill.h"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "agents/mail/distributions.h"

namespace fwcanary {
namespace {

constexpr uint64_t kFileBytes = 8ULL << 20;  // one filler file
constexpr uint64_t kWriteBytes = 1ULL << 20;

struct Fs {
  uint64_t total = 0, used = 0, avail = 0;
};

Result<Fs> StatFs(const std::string& path) {
  struct statvfs v {};
  if (::statvfs(path.c_str(), &v) != 0) {
    return Status::IOError("statvfs " + path + ": " + std::strerror(errno));
  }
  Fs f;
  f.total = static_cast<uint64_t>(v.f_blocks) * v.f_frsize;
  f.used = static_cast<uint64_t>(v.f_blocks - v.f_bfree) * v.f_frsize;
  f.avail = static_cast<uint64_t>(v.f_bavail) * v.f_frsize;
  return f;
}

Status WriteFiller(const std::string& path, uint64_t bytes, uint64_t seed) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return Status::IOError("create " + path + ": " + std::strerror(errno));
  SplitMix64 rng(seed);
  std::vector<uint64_t> buf(kWriteBytes / sizeof(uint64_t));
  Status st;
  for (uint64_t done = 0; done < bytes && st.ok();) {
    for (auto& w : buf) w = rng();
    const std::size_t n = static_cast<std::size_t>(std::min<uint64_t>(kWriteBytes, bytes - done));
    const ssize_t w = ::write(fd, buf.data(), n);
    if (w <= 0) {
      st = Status::IOError("write " + path + ": " + std::strerror(errno));
      break;
    }
    done += static_cast<uint64_t>(w);
  }
  if (st.ok() && ::fsync(fd) != 0) st = Status::IOError("fsync " + path + ": " + std::strerror(errno));
  ::close(fd);
  return st;
}

}  // namespace

Result<uint64_t> FillWorkDir(const WorkDir& wd, double fill_to, uint64_t keep_free_bytes, Progress& progress,
                             const std::atomic<bool>& stop) {
  if (Status s = wd.MakeDirs(kFillDir); !s.ok()) return s;
  Result<Fs> fs = StatFs(wd.path());
  if (!fs.ok()) return fs.status();
  const auto target = static_cast<uint64_t>(fill_to * static_cast<double>(fs->total));
  if (fs->used >= target) return uint64_t{0};
  progress.Log("filling the work directory's filesystem to " + std::to_string(static_cast<int>(100 * fill_to)) +
               "% of its " + std::to_string(fs->total >> 20) + " MiB (" + std::to_string(fs->used >> 20) +
               " MiB in use)");
  uint64_t written = 0;
  for (int n = 0; !stop.load(); ++n) {
    fs = StatFs(wd.path());
    if (!fs.ok()) return fs.status();
    if (fs->used >= target) break;
    if (fs->avail <= keep_free_bytes + kWriteBytes) {
      progress.Log("filling stopped at " + std::to_string(fs->used >> 20) + " MiB: " +
                   std::to_string(keep_free_bytes >> 20) + " MiB must stay free for the mail");
      break;
    }
    const uint64_t bytes = std::min({kFileBytes, target - fs->used, fs->avail - keep_free_bytes});
    const std::string path = wd.Sub(std::string(kFillDir) + "/filler." + std::to_string(n));
    if (::access(path.c_str(), F_OK) == 0) continue;  // an earlier run's
    if (Status s = WriteFiller(path, bytes, 0x66696c6cULL + static_cast<uint64_t>(n)); !s.ok()) return s;
    written += bytes;
    progress.Update("filling: " + std::to_string((fs->used + bytes) >> 20) + " of " + std::to_string(target >> 20) +
                    " MiB");
  }
  progress.Log("filled: " + std::to_string(written >> 20) + " MiB written");
  return written;
}

}  // namespace fwcanary
