#include "lab/fwsim/fwsim_fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace fwcanary::lab {
namespace {

FsContext& Ctx() { return *static_cast<FsContext*>(fuse_get_context()->private_data); }

// Paths from libfuse start with '/'; the backing tree is addressed relative to root_fd.
const char* Rel(const char* path) { return path[1] == '\0' ? "." : path + 1; }

int Err() { return -errno; }

void ChownToCaller(const char* rel) {
  fuse_context* c = fuse_get_context();
  if (fchownat(Ctx().root_fd, rel, c->uid, c->gid, AT_SYMLINK_NOFOLLOW) != 0) {
    // Not fatal: the file exists; default_permissions will show the owner as it is.
  }
}

uint64_t SizeOfFd(int fd) {
  struct stat st {};
  return fstat(fd, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

void* Init(fuse_conn_info*, fuse_config* cfg) {
  cfg->use_ino = 1;
  cfg->hard_remove = 1;   // we keep fds: no .fuse_hidden files for open-unlinked files
  cfg->nullpath_ok = 1;
  // No attribute caching: space overhead changes with the firmware, and every lookup must stall
  // while the node flashes, as a real array's would.
  cfg->entry_timeout = 0;
  cfg->attr_timeout = 0;
  cfg->negative_timeout = 0;
  return fuse_get_context()->private_data;
}

int GetAttr(const char* path, struct stat* st, fuse_file_info* fi) {
  auto t = Ctx().model->BeginFree();
  int r = fi != nullptr ? fstat(static_cast<int>(fi->fh), st)
                        : fstatat(Ctx().root_fd, Rel(path), st, AT_SYMLINK_NOFOLLOW);
  if (r != 0) return Err();
  if (S_ISREG(st->st_mode)) {
    st->st_blocks += static_cast<blkcnt_t>(
        Ctx().space->FileOverhead(static_cast<uint64_t>(st->st_size)) / 512);
  }
  return 0;
}

int ReadLink(const char* path, char* buf, size_t size) {
  auto t = Ctx().model->BeginFree();
  ssize_t n = readlinkat(Ctx().root_fd, Rel(path), buf, size - 1);
  if (n < 0) return Err();
  buf[n] = '\0';
  return 0;
}

int MkDir(const char* path, mode_t mode) {
  auto t = Ctx().model->Begin(FsOp::kCreate, 0);
  if (mkdirat(Ctx().root_fd, Rel(path), mode) != 0) return Err();
  ChownToCaller(Rel(path));
  return 0;
}

int Unlink(const char* path) {
  auto t = Ctx().model->Begin(FsOp::kUnlink, 0);
  struct stat st {};
  bool had = fstatat(Ctx().root_fd, Rel(path), &st, AT_SYMLINK_NOFOLLOW) == 0;
  if (unlinkat(Ctx().root_fd, Rel(path), 0) != 0) return Err();
  if (had && S_ISREG(st.st_mode) && st.st_nlink == 1) {
    Ctx().space->FileRemoved(static_cast<uint64_t>(st.st_size));
  }
  return 0;
}

int RmDir(const char* path) {
  auto t = Ctx().model->Begin(FsOp::kUnlink, 0);
  return unlinkat(Ctx().root_fd, Rel(path), AT_REMOVEDIR) == 0 ? 0 : Err();
}

int SymLink(const char* target, const char* link) {
  auto t = Ctx().model->Begin(FsOp::kCreate, 0);
  if (symlinkat(target, Ctx().root_fd, Rel(link)) != 0) return Err();
  ChownToCaller(Rel(link));
  return 0;
}

int Rename(const char* from, const char* to, unsigned int flags) {
  auto t = Ctx().model->Begin(FsOp::kRename, 0);
  struct stat st {};
  bool replaced = (flags & RENAME_EXCHANGE) == 0 &&
                  fstatat(Ctx().root_fd, Rel(to), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                  S_ISREG(st.st_mode) && st.st_nlink == 1;
  if (renameat2(Ctx().root_fd, Rel(from), Ctx().root_fd, Rel(to), flags) != 0) return Err();
  if (replaced) Ctx().space->FileRemoved(static_cast<uint64_t>(st.st_size));
  return 0;
}

int Link(const char* from, const char* to) {
  auto t = Ctx().model->Begin(FsOp::kCreate, 0);
  return linkat(Ctx().root_fd, Rel(from), Ctx().root_fd, Rel(to), 0) == 0 ? 0 : Err();
}

int ChMod(const char* path, mode_t mode, fuse_file_info* fi) {
  auto t = Ctx().model->BeginFree();
  int r = fi != nullptr ? fchmod(static_cast<int>(fi->fh), mode)
                        : fchmodat(Ctx().root_fd, Rel(path), mode, 0);
  return r == 0 ? 0 : Err();
}

int ChOwn(const char* path, uid_t uid, gid_t gid, fuse_file_info* fi) {
  auto t = Ctx().model->BeginFree();
  int r = fi != nullptr ? fchown(static_cast<int>(fi->fh), uid, gid)
                        : fchownat(Ctx().root_fd, Rel(path), uid, gid, AT_SYMLINK_NOFOLLOW);
  return r == 0 ? 0 : Err();
}

int Truncate(const char* path, off_t size, fuse_file_info* fi) {
  auto t = Ctx().model->Begin(FsOp::kWrite, 0);
  int fd = fi != nullptr ? static_cast<int>(fi->fh)
                         : openat(Ctx().root_fd, Rel(path), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Err();
  uint64_t old_size = SizeOfFd(fd);
  uint64_t new_size = static_cast<uint64_t>(size);
  int r = 0;
  if (new_size > old_size && !Ctx().space->Fits(0, SpaceAccounting::Allocated(new_size) -
                                                       SpaceAccounting::Allocated(old_size))) {
    r = -ENOSPC;
  } else if (ftruncate(fd, size) != 0) {
    r = Err();
  } else {
    Ctx().space->Resized(old_size, new_size);
  }
  if (fi == nullptr) close(fd);
  return r;
}

int Open(const char* path, fuse_file_info* fi) {
  auto t = Ctx().model->BeginFree();
  uint64_t old_size = 0;
  bool truncating = (fi->flags & O_TRUNC) != 0;
  if (truncating) {
    struct stat st {};
    if (fstatat(Ctx().root_fd, Rel(path), &st, 0) == 0) old_size = static_cast<uint64_t>(st.st_size);
  }
  int fd = openat(Ctx().root_fd, Rel(path), (fi->flags & ~O_NOFOLLOW) | O_CLOEXEC);
  if (fd < 0) return Err();
  if (truncating) Ctx().space->Resized(old_size, 0);
  fi->fh = static_cast<uint64_t>(fd);
  return 0;
}

int Create(const char* path, mode_t mode, fuse_file_info* fi) {
  auto t = Ctx().model->Begin(FsOp::kCreate, 0);
  struct stat st {};
  bool existed = fstatat(Ctx().root_fd, Rel(path), &st, AT_SYMLINK_NOFOLLOW) == 0;
  if (!existed && !Ctx().space->Fits(1, 0)) return -ENOSPC;
  int fd = openat(Ctx().root_fd, Rel(path), fi->flags | O_CREAT | O_CLOEXEC, mode);
  if (fd < 0) return Err();
  if (!existed) {
    ChownToCaller(Rel(path));
    Ctx().space->FileAdded();
  } else if ((fi->flags & O_TRUNC) != 0 && S_ISREG(st.st_mode)) {
    Ctx().space->Resized(static_cast<uint64_t>(st.st_size), 0);
  }
  fi->fh = static_cast<uint64_t>(fd);
  return 0;
}

int Read(const char*, char* buf, size_t size, off_t off, fuse_file_info* fi) {
  if (Ctx().model->Fails(FsOp::kRead)) return -EIO;
  auto t = Ctx().model->Begin(FsOp::kRead, size);
  ssize_t n = pread(static_cast<int>(fi->fh), buf, size, off);
  return n < 0 ? Err() : static_cast<int>(n);
}

int Write(const char*, const char* buf, size_t size, off_t off, fuse_file_info* fi) {
  if (Ctx().model->Fails(FsOp::kWrite)) return -EIO;
  auto t = Ctx().model->Begin(FsOp::kWrite, size);
  int fd = static_cast<int>(fi->fh);
  uint64_t old_size = SizeOfFd(fd);
  uint64_t end = static_cast<uint64_t>(off) + size;
  uint64_t new_size = end > old_size ? end : old_size;
  if (!Ctx().space->Fits(0, SpaceAccounting::Allocated(new_size) -
                                SpaceAccounting::Allocated(old_size))) {
    return -ENOSPC;
  }
  ssize_t n = pwrite(fd, buf, size, off);
  if (n < 0) return Err();
  uint64_t written_end = static_cast<uint64_t>(off) + static_cast<uint64_t>(n);
  if (written_end > old_size) Ctx().space->Resized(old_size, written_end);
  return static_cast<int>(n);
}

int StatFs(const char*, struct statvfs* st) {
  auto t = Ctx().model->BeginFree();
  if (fstatvfs(Ctx().root_fd, st) != 0) return Err();
  uint64_t frsize = st->f_frsize != 0 ? st->f_frsize : st->f_bsize;
  uint64_t total = 0, free = 0;
  Ctx().space->View(st->f_blocks * frsize, st->f_bavail * frsize, &total, &free);
  st->f_blocks = total / frsize;
  st->f_bfree = free / frsize;
  st->f_bavail = free / frsize;
  return 0;
}

int Release(const char*, fuse_file_info* fi) {
  close(static_cast<int>(fi->fh));
  return 0;
}

int FSync(const char*, int datasync, fuse_file_info* fi) {
  if (Ctx().model->Fails(FsOp::kFsync)) return -EIO;
  auto t = Ctx().model->Begin(FsOp::kFsync, 0);
  if (!Ctx().real_fsync) return 0;
  int fd = static_cast<int>(fi->fh);
  return (datasync != 0 ? fdatasync(fd) : fsync(fd)) == 0 ? 0 : Err();
}

int OpenDir(const char* path, fuse_file_info* fi) {
  auto t = Ctx().model->BeginFree();
  int fd = openat(Ctx().root_fd, Rel(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Err();
  DIR* d = fdopendir(fd);
  if (d == nullptr) {
    int e = errno;
    close(fd);
    return -e;
  }
  fi->fh = reinterpret_cast<uintptr_t>(d);
  return 0;
}

int ReadDir(const char*, void* buf, fuse_fill_dir_t filler, off_t, fuse_file_info* fi,
            fuse_readdir_flags) {
  auto t = Ctx().model->BeginFree();
  DIR* d = reinterpret_cast<DIR*>(fi->fh);
  rewinddir(d);
  // Offset 0 for every entry: libfuse's high-level layer buffers the whole listing.
  while (dirent* e = readdir(d)) {
    struct stat st {};
    st.st_ino = e->d_ino;
    st.st_mode = static_cast<mode_t>(DTTOIF(e->d_type));
    if (filler(buf, e->d_name, &st, 0, static_cast<fuse_fill_dir_flags>(0)) != 0) break;
  }
  return 0;
}

int ReleaseDir(const char*, fuse_file_info* fi) {
  closedir(reinterpret_cast<DIR*>(fi->fh));
  return 0;
}

int FSyncDir(const char*, int datasync, fuse_file_info* fi) {
  if (Ctx().model->Fails(FsOp::kFsync)) return -EIO;
  auto t = Ctx().model->Begin(FsOp::kFsync, 0);
  if (!Ctx().real_fsync) return 0;
  int fd = dirfd(reinterpret_cast<DIR*>(fi->fh));
  return (datasync != 0 ? fdatasync(fd) : fsync(fd)) == 0 ? 0 : Err();
}

int UTimens(const char* path, const timespec tv[2], fuse_file_info* fi) {
  auto t = Ctx().model->BeginFree();
  int r = fi != nullptr ? futimens(static_cast<int>(fi->fh), tv)
                        : utimensat(Ctx().root_fd, Rel(path), tv, AT_SYMLINK_NOFOLLOW);
  return r == 0 ? 0 : Err();
}

int Access(const char* path, int mask) {
  auto t = Ctx().model->BeginFree();
  return faccessat(Ctx().root_fd, Rel(path), mask, 0) == 0 ? 0 : Err();
}

fuse_operations MakeOps() {
  fuse_operations ops{};
  ops.init = Init;
  ops.getattr = GetAttr;
  ops.readlink = ReadLink;
  ops.mkdir = MkDir;
  ops.unlink = Unlink;
  ops.rmdir = RmDir;
  ops.symlink = SymLink;
  ops.rename = Rename;
  ops.link = Link;
  ops.chmod = ChMod;
  ops.chown = ChOwn;
  ops.truncate = Truncate;
  ops.open = Open;
  ops.create = Create;
  ops.read = Read;
  ops.write = Write;
  ops.statfs = StatFs;
  ops.release = Release;
  ops.fsync = FSync;
  ops.opendir = OpenDir;
  ops.readdir = ReadDir;
  ops.releasedir = ReleaseDir;
  ops.fsyncdir = FSyncDir;
  ops.utimens = UTimens;
  ops.access = Access;
  return ops;
}

}  // namespace

const fuse_operations& FwsimOperations() {
  static const fuse_operations ops = MakeOps();
  return ops;
}

}  // namespace fwcanary::lab
