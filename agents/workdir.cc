#include "agents/workdir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <regex>

namespace fwcanary {
namespace fs = std::filesystem;

namespace {

// Written into the marker; "created_dir: yes" lets Cleanup remove the directory itself.
constexpr const char* kMarkerHeader = "fwcanary-agent work directory\n";

bool MatchName(const std::string& name, const std::regex& re) { return std::regex_match(name, re); }

Status WriteMarker(const std::string& dir, bool created) {
  std::string path = dir + "/" + WorkDir::kMarkerName;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno("cannot write marker " + path, errno);
  std::string body = std::string(kMarkerHeader) + "created_dir: " + (created ? "yes" : "no") +
                     "\nEverything the agent writes here may be removed by `--cleanup`.\n";
  ssize_t n = ::write(fd, body.data(), body.size());
  int err = errno;
  ::fsync(fd);
  ::close(fd);
  if (n != static_cast<ssize_t>(body.size())) return Status::FromErrno("write " + path, err);
  return Status::Ok();
}

}  // namespace

bool IsAgentQueueFileName(const std::string& name) {
  static const std::regex re("[0-9a-f]{8}_[0-9]+");
  return MatchName(name, re);
}

bool IsAgentMaildirFileName(const std::string& name) {
  static const std::regex re("[0-9]+\\.[0-9a-f]{8}_[0-9]+\\.fwcanary,S=[0-9]+");
  return MatchName(name, re);
}

bool IsAgentFioFileName(const std::string& name) {
  static const std::regex re("(deliver|retrieve)\\.[0-9]+\\.[0-9]+");
  return MatchName(name, re);
}

bool IsAgentFillFileName(const std::string& name) {
  static const std::regex re("filler\\.[0-9]+");
  return MatchName(name, re);
}

Result<WorkDir> WorkDir::Open(const std::string& path) {
  if (path.empty()) return Status::InvalidArgument("no work directory given (--workdir or spec)");
  WorkDir wd;
  wd.path_ = fs::absolute(path).lexically_normal().string();
  if (wd.path_.size() > 1 && wd.path_.back() == '/') wd.path_.pop_back();
  struct stat st {};
  if (::lstat(wd.path_.c_str(), &st) != 0) {
    if (errno != ENOENT) return Status::FromErrno("work directory " + wd.path_, errno);
    if (::mkdir(wd.path_.c_str(), 0755) != 0) {
      return Status::FromErrno("cannot create work directory " + wd.path_, errno);
    }
    wd.created_dir_ = true;
    if (Status s = WriteMarker(wd.path_, true); !s.ok()) return s;
    return wd;
  }
  if (S_ISLNK(st.st_mode)) {
    return Status::Refused("work directory " + wd.path_ + " is a symlink; give the real path");
  }
  if (!S_ISDIR(st.st_mode)) return Status::Refused(wd.path_ + " is not a directory");

  std::string marker = wd.path_ + "/" + kMarkerName;
  std::ifstream in(marker);
  if (in) {
    std::string first, second;
    std::getline(in, first);
    std::getline(in, second);
    if (first + "\n" != kMarkerHeader) {
      return Status::Refused(marker + " is not an fwcanary-agent marker; refusing " + wd.path_);
    }
    wd.created_dir_ = second == "created_dir: yes";
    return wd;
  }
  std::error_code ec;
  bool empty = fs::is_empty(wd.path_, ec);
  if (ec) return Status::IOError("cannot list " + wd.path_ + ": " + ec.message());
  if (!empty) {
    return Status::Refused("work directory " + wd.path_ + " is not empty and has no " +
                           kMarkerName + " marker; the agent works only in a directory it "
                           "created or marked. Give a new or empty directory.");
  }
  if (Status s = WriteMarker(wd.path_, false); !s.ok()) return s;
  return wd;
}

Status WorkDir::MakeDirs(const std::string& rel) const {
  std::string cur = path_;
  std::size_t i = 0;
  while (i <= rel.size()) {
    std::size_t j = rel.find('/', i);
    if (j == std::string::npos) j = rel.size();
    cur += '/';
    cur.append(rel, i, j - i);  // not "/" + substr: GCC 12 -O3 warns (-Wrestrict) on it
    struct stat st {};
    if (::lstat(cur.c_str(), &st) == 0) {
      if (!S_ISDIR(st.st_mode)) return Status::Refused(cur + " exists and is not a directory");
    } else if (::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) {
      return Status::FromErrno("mkdir " + cur, errno);
    }
    i = j + 1;
  }
  return Status::Ok();
}

Status WorkDir::Cleanup(std::vector<std::string>* left) const {
  std::error_code ec;
  auto remove_files = [&](const fs::path& dir, bool (*is_ours)(const std::string&)) {
    if (!fs::is_directory(fs::symlink_status(dir, ec))) return;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      std::string name = e.path().filename().string();
      if (e.is_regular_file(ec) && !e.is_symlink(ec) && is_ours(name)) {
        fs::remove(e.path(), ec);
      } else if (left != nullptr) {
        left->push_back(e.path().string());
      }
    }
  };
  auto remove_dir = [&](const fs::path& dir) {
    if (!fs::is_directory(fs::symlink_status(dir, ec))) return;
    fs::remove(dir, ec);  // fails, and keeps the directory, if anything foreign is left
  };

  for (const char* q : {"queue/incoming", "queue/active", "queue/deferred"}) {
    remove_files(fs::path(path_) / q, IsAgentQueueFileName);
    remove_dir(fs::path(path_) / q);
  }
  remove_dir(fs::path(path_) / "queue");
  fs::path mail = fs::path(path_) / "mail";
  if (fs::is_directory(fs::symlink_status(mail, ec))) {
    for (const auto& user : fs::directory_iterator(mail, ec)) {
      if (!user.is_directory(ec) || user.is_symlink(ec)) {
        if (left != nullptr) left->push_back(user.path().string());
        continue;
      }
      for (const char* sub : {"tmp", "new", "cur"}) {
        remove_files(user.path() / sub, IsAgentMaildirFileName);
        remove_dir(user.path() / sub);
      }
      remove_dir(user.path());
    }
    remove_dir(mail);
  }
  remove_files(fs::path(path_) / "fio", IsAgentFioFileName);
  remove_dir(fs::path(path_) / "fio");
  remove_files(fs::path(path_) / "fill", IsAgentFillFileName);
  remove_dir(fs::path(path_) / "fill");
  for (const char* f : {"manifest.json", "manifest.json.tmp", "fio-job.fio"}) {
    fs::remove(fs::path(path_) / f, ec);
  }
  // Keep the marker while anything foreign remains: the directory is still ours to clean.
  bool empty_but_marker = true;
  for (const auto& e : fs::directory_iterator(path_, ec)) {
    if (e.path().filename() != kMarkerName) {
      empty_but_marker = false;
      if (left != nullptr && e.path().filename() != "queue" && e.path().filename() != "mail" &&
          e.path().filename() != "fio") {
        left->push_back(e.path().string());
      }
    }
  }
  if (empty_but_marker) {
    fs::remove(fs::path(path_) / kMarkerName, ec);
    if (created_dir_) fs::remove(path_, ec);
  }
  return Status::Ok();
}

}  // namespace fwcanary
