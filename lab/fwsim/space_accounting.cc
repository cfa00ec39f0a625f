#include "lab/fwsim/space_accounting.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fwcanary::lab {
namespace {

// Walks one directory (owned fd) counting regular files and their allocated bytes.
void Walk(int dir_fd, uint64_t* files, uint64_t* bytes) {
  DIR* d = fdopendir(dir_fd);
  if (d == nullptr) {
    ::close(dir_fd);
    return;
  }
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    struct stat st {};
    if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (S_ISREG(st.st_mode)) {
      ++*files;
      *bytes += SpaceAccounting::Allocated(static_cast<uint64_t>(st.st_size));
    } else if (S_ISDIR(st.st_mode)) {
      int child = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (child >= 0) Walk(child, files, bytes);
    }
  }
  closedir(d);
}

}  // namespace

void SpaceAccounting::SetProfile(const FirmwareProfile& p) {
  per_file_.store(p.space_per_file_bytes);
  factor_.store(p.space_bytes_factor);
}

uint64_t SpaceAccounting::Rescan(int root_fd) {
  uint64_t files = 0, bytes = 0;
  int fd = openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) Walk(fd, &files, &bytes);
  files_.store(files);
  bytes_.store(bytes);
  return files;
}

uint64_t SpaceAccounting::OverheadOf(uint64_t files, uint64_t bytes) const {
  double extra = static_cast<double>(bytes) * (factor_.load() - 1.0);
  return files * per_file_.load() + static_cast<uint64_t>(extra);
}

uint64_t SpaceAccounting::FileOverhead(uint64_t size) const {
  return OverheadOf(1, Allocated(size));
}

void SpaceAccounting::FileRemoved(uint64_t size) {
  uint64_t f = files_.load();
  while (f > 0 && !files_.compare_exchange_weak(f, f - 1)) {
  }
  Resized(size, 0);
}

void SpaceAccounting::Resized(uint64_t old_size, uint64_t new_size) {
  uint64_t a = Allocated(old_size), b = Allocated(new_size);
  if (b >= a) {
    bytes_.fetch_add(b - a);
  } else {
    uint64_t cur = bytes_.load();
    uint64_t dec = a - b;
    while (!bytes_.compare_exchange_weak(cur, cur > dec ? cur - dec : 0)) {
    }
  }
}

uint64_t SpaceAccounting::used_bytes() const {
  uint64_t f = files_.load(), b = bytes_.load();
  return b + OverheadOf(f, b);
}

bool SpaceAccounting::Fits(uint64_t extra_files, uint64_t grow_bytes) const {
  if (capacity_ == 0) return true;
  uint64_t f = files_.load() + extra_files, b = bytes_.load() + grow_bytes;
  return b + OverheadOf(f, b) <= capacity_;
}

void SpaceAccounting::View(uint64_t backing_total, uint64_t backing_free, uint64_t* total,
                           uint64_t* free) const {
  uint64_t f = files_.load(), b = bytes_.load();
  uint64_t overhead = OverheadOf(f, b);
  if (capacity_ > 0) {
    uint64_t used = b + overhead;
    *total = capacity_;
    *free = used >= capacity_ ? 0 : capacity_ - used;
    if (*free > backing_free) *free = backing_free;  // cannot promise more than the disk has
  } else {
    *total = backing_total;
    *free = backing_free > overhead ? backing_free - overhead : 0;
  }
}

}  // namespace fwcanary::lab
