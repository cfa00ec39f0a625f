#include "lab/fwsim/node_state.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/file_text.h"

namespace fwcanary::lab {

Status WriteFileAtomic(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno("cannot write " + tmp, errno);
  const char* p = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      return Status::FromErrno("cannot write " + tmp, e);
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) return Status::FromErrno("cannot sync " + tmp, errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return Status::FromErrno("cannot rename " + tmp, errno);
  }
  return Status::Ok();
}

Result<NodeState> LoadNodeState(const std::string& path) {
  Result<std::string> text = ReadTextFile(path);
  if (!text.ok()) return text.status();
  try {
    nlohmann::json j = nlohmann::json::parse(text.value());
    NodeState s;
    s.active = j.at("active").get<std::string>();
    s.previous = j.value("previous", "");
    s.boot_id = j.value("boot_id", "");
    s.boots = j.value("boots", 0);
    s.flashes = j.value("flashes", 0);
    return s;
  } catch (const nlohmann::json::exception& e) {
    return Status::Corruption(path + ": " + e.what());
  }
}

Status SaveNodeState(const std::string& path, const NodeState& s) {
  nlohmann::json j = {{"active", s.active},   {"previous", s.previous}, {"boot_id", s.boot_id},
                      {"boots", s.boots},     {"flashes", s.flashes}};
  return WriteFileAtomic(path, j.dump(2) + "\n");
}

Result<NodeSettings> LoadSettings(const std::string& path) {
  Result<std::string> text = ReadTextFile(path);
  if (!text.ok()) return text.status();
  NodeSettings out;
  std::istringstream in(text.value());
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    std::size_t eq = line.find('=');
    if (eq == std::string::npos) {
      return Status::InvalidArgument(path + ":" + std::to_string(n) + ": expected 'key = value'");
    }
    auto trim = [](std::string s) {
      s.erase(0, s.find_first_not_of(" \t"));
      s.erase(s.find_last_not_of(" \t") + 1);
      return s;
    };
    out[trim(line.substr(0, eq))] = trim(line.substr(eq + 1));
  }
  return out;
}

Status SaveSettings(const std::string& path, const NodeSettings& s) {
  std::string text = "# node settings (what a drift check reads); written by fwsim\n";
  for (const auto& [k, v] : s) text += k + " = " + v + "\n";
  return WriteFileAtomic(path, text);
}

std::string NewBootId() {
  std::random_device rd;
  std::mt19937_64 g((static_cast<uint64_t>(rd()) << 32) ^ rd());
  uint64_t a = g(), b = g();
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xfff),
                static_cast<unsigned>(0x8000 | ((b >> 48) & 0x3fff)),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

}  // namespace fwcanary::lab
