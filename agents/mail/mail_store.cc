#include "agents/mail/mail_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>

#include "agents/workdir.h"
#include "common/json_number.h"

namespace fwcanary {
namespace fs = std::filesystem;
using nlohmann::json;

void MailStore::Add(StoredMessage m) {
  std::lock_guard<std::mutex> lock(mu_);
  stored_messages_ += 1;
  stored_bytes_ += m.meta.size;
  allocated_bytes_ += m.allocated;
  auto u = static_cast<std::size_t>(m.user) % boxes_.size();
  boxes_[u].push_back(std::move(m));
}

std::optional<StoredMessage> MailStore::ClaimOldest(int user) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& box = boxes_[static_cast<std::size_t>(user) % boxes_.size()];
  if (box.empty()) return std::nullopt;
  StoredMessage m = std::move(box.front());
  box.pop_front();
  stored_messages_ -= 1;
  stored_bytes_ -= m.meta.size;
  allocated_bytes_ -= std::min(allocated_bytes_, m.allocated);
  return m;
}

void MailStore::AddDeferred(StoredMessage m) {
  std::lock_guard<std::mutex> lock(mu_);
  deferred_.push_back(std::move(m));
}

std::optional<StoredMessage> MailStore::TakeDeferred() {
  std::lock_guard<std::mutex> lock(mu_);
  if (deferred_.empty()) return std::nullopt;
  StoredMessage m = std::move(deferred_.front());
  deferred_.pop_front();
  return m;
}

std::size_t MailStore::deferred_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return deferred_.size();
}

SpaceSample MailStore::Totals() const {
  std::lock_guard<std::mutex> lock(mu_);
  SpaceSample s;
  s.stored_messages = stored_messages_;
  s.stored_bytes = stored_bytes_;
  s.allocated_bytes = allocated_bytes_;
  return s;
}

std::vector<StoredMessage> MailStore::Snapshot(bool include_deferred) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<StoredMessage> out;
  for (const auto& box : boxes_) out.insert(out.end(), box.begin(), box.end());
  if (include_deferred) out.insert(out.end(), deferred_.begin(), deferred_.end());
  return out;
}

namespace {

json ToJson(const StoredMessage& m) {
  return {{"id", m.meta.id},       {"user", m.user},
          {"path", m.path},        {"size", m.meta.size},
          {"body_bytes", m.meta.body_bytes}, {"checksum", m.meta.checksum},
          {"hash", m.meta.hash_version}, {"allocated", m.allocated}};
}

}  // namespace

Status MailStore::SaveManifest(const std::string& workdir) const {
  json doc;
  doc["v"] = 1;
  doc["messages"] = json::array();
  doc["deferred"] = json::array();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& box : boxes_) {
      for (const auto& m : box) doc["messages"].push_back(ToJson(m));
    }
    for (const auto& m : deferred_) doc["deferred"].push_back(ToJson(m));
  }
  std::string tmp = workdir + "/manifest.json.tmp";
  std::string text = doc.dump();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno("write " + tmp, errno);
  const char* p = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return Status::FromErrno("write " + tmp, err);
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    return Status::FromErrno("fsync " + tmp, err);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), (workdir + "/manifest.json").c_str()) != 0) {
    return Status::FromErrno("rename manifest", errno);
  }
  return Status::Ok();
}

Result<std::size_t> MailStore::LoadManifest(const std::string& workdir) {
  std::string path = workdir + "/manifest.json";
  std::ifstream in(path);
  if (!in) return std::size_t{0};
  json doc;
  try {
    doc = json::parse(in);
  } catch (const json::exception& e) {
    return Status::Corruption(path + ": " + e.what());
  }
  std::size_t n = 0;
  try {
    for (const char* list : {"messages", "deferred"}) {
      for (const auto& e : doc.at(list)) {
        StoredMessage m;
        m.meta.id = e.at("id").get<std::string>();
        m.meta.size = JsonCountAt(e, "size");
        m.meta.body_bytes = JsonCountAt(e, "body_bytes");
        m.meta.checksum = JsonCountAt(e, "checksum");
        // Manifests from before checksum versions hold version-1 checksums.
        m.meta.hash_version =
            e.contains("hash") ? JsonIntIn(e.at("hash"), 1, kBodyHashVersion) : 1;
        m.user = JsonIntIn(e.at("user"), 0, std::numeric_limits<int>::max());
        m.path = e.at("path").get<std::string>();
        m.allocated = JsonCountOr(e, "allocated", 0);
        if (std::string(list) == "messages") Add(std::move(m));
        else AddDeferred(std::move(m));
        ++n;
      }
    }
  } catch (const json::exception& e) {
    return Status::Corruption(path + ": " + e.what());
  }
  if (::unlink(path.c_str()) != 0) return Status::FromErrno("unlink " + path, errno);
  return n;
}

Result<std::size_t> MailStore::AdoptFromDisk(const std::string& workdir) {
  std::size_t n = 0;
  std::error_code ec;
  fs::path mail = fs::path(workdir) / "mail";
  if (!fs::is_directory(mail, ec)) return n;
  for (const auto& user_dir : fs::directory_iterator(mail, ec)) {
    std::string uname = user_dir.path().filename().string();
    int user = 0;
    if (std::sscanf(uname.c_str(), "u%d", &user) != 1 || user < 0) continue;
    for (const auto& f : fs::directory_iterator(user_dir.path() / "new", ec)) {
      std::string name = f.path().filename().string();
      if (!IsAgentMaildirFileName(name)) continue;
      std::ifstream in(f.path(), std::ios::binary);
      std::string head(4096, '\0');
      in.read(head.data(), static_cast<std::streamsize>(head.size()));
      head.resize(static_cast<std::size_t>(in.gcount()));
      auto meta = ParseMessageHeaders(head);
      if (!meta.ok()) continue;  // unreadable and unlisted: not ours to judge
      StoredMessage m;
      m.meta = meta.value();
      m.user = user;
      m.path = "mail/" + uname + "/new/" + name;
      struct stat st {};
      if (::stat(f.path().c_str(), &st) == 0) m.allocated = static_cast<uint64_t>(st.st_blocks) * 512;
      Add(std::move(m));
      ++n;
    }
  }
  return n;
}

}  // namespace fwcanary
