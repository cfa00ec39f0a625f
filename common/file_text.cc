#include "common/file_text.h"

#include <cerrno>
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

}  // namespace fwcanary
