#pragma once
// MailStore: what the agent believes is stored, so that every message can be accounted for.
//
// Holds, per mailbox, the messages delivered and not yet retrieved (oldest first, as POP
// retrieves them), and the accepted messages parked in queue/deferred after a failed delivery.
// A message leaves the store only when retrieve has read, verified and deleted it. At the end
// of a run the store is written to manifest.json, and the next run in the same work directory
// starts from it: a message lost or corrupted between runs (across a firmware upgrade) is
// caught by id. Without a manifest (first run, or the previous run was killed) the store
// adopts what it finds in the mailboxes by reading each file's own headers.
//
// Thread safety: all methods are safe to call concurrently (one mutex).

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agents/mail/message.h"
#include "agents/records/records.h"
#include "common/status.h"

namespace fwcanary {

struct StoredMessage {
  MessageMeta meta;
  int user = 0;
  std::string path;         // relative to the work dir: mail/u00001/new/<name> or queue/deferred/x
  uint64_t allocated = 0;   // st_blocks * 512 after the fsync
};

class MailStore {
 public:
  explicit MailStore(int users) : boxes_(static_cast<std::size_t>(users)) {}

  void Add(StoredMessage m);
  // Removes and returns the oldest message of `user`, or nothing when the box is empty.
  std::optional<StoredMessage> ClaimOldest(int user);
  void AddDeferred(StoredMessage m);
  std::optional<StoredMessage> TakeDeferred();
  std::size_t deferred_count() const;

  // Stored messages (not deferred) and their sizes, for the space figures.
  SpaceSample Totals() const;
  std::vector<StoredMessage> Snapshot(bool include_deferred) const;

  // manifest.json: {"v":1,"messages":[{id,user,path,size,body_bytes,checksum,hash,allocated}...]}
  // ("hash": the checksum version; absent in manifests from before versions = 1).
  Status SaveManifest(const std::string& workdir) const;
  // Loads manifest.json if present (returns how many entries) and removes it, so a killed run
  // cannot leave a stale manifest behind that would later report retrieved mail as lost.
  Result<std::size_t> LoadManifest(const std::string& workdir);
  // Adopts agent-named files under mail/*/new by their headers. Returns how many.
  Result<std::size_t> AdoptFromDisk(const std::string& workdir);

 private:
  mutable std::mutex mu_;
  std::vector<std::deque<StoredMessage>> boxes_;
  std::deque<StoredMessage> deferred_;
  uint64_t stored_messages_ = 0, stored_bytes_ = 0, allocated_bytes_ = 0;
};

}  // namespace fwcanary
