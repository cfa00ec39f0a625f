#include "common/file_text.h"

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace fwcanary {

Result<std::string> ReadTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return errno == ENOENT ? Status::NotFound(path + ": no such file")
                           : Status::FromErrno("cannot read " + path, errno);
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Status WriteTextFile(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return Status::FromErrno("cannot write " + tmp, errno);
    out << text;
    out.flush();
    if (!out) return Status::FromErrno("cannot write " + tmp, errno);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    std::remove(tmp.c_str());
    return Status::FromErrno("cannot replace " + path, err);
  }
  return Status::Ok();
}

}  // namespace fwcanary
