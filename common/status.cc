#include "common/status.h"

#include <cstring>

namespace fwcanary {

Status Status::FromErrno(const std::string& what, int err) {
  return IOError(what + ": " + std::strerror(err));
}

std::string Status::ToString() const {
  const char* name = "OK";
  switch (code_) {
    case Code::kOk: return "OK";
    case Code::kInvalidArgument: name = "invalid argument"; break;
    case Code::kNotFound: name = "not found"; break;
    case Code::kIOError: name = "I/O error"; break;
    case Code::kCorruption: name = "corruption"; break;
    case Code::kTimeout: name = "timeout"; break;
    case Code::kRefused: name = "refused"; break;
    case Code::kUnavailable: name = "unavailable"; break;
  }
  return std::string(name) + ": " + message_;
}

}  // namespace fwcanary
