#pragma once
// MailOps: the system calls a mail server makes on its storage, one function per operation
// class, each step timed. These are the agent's only writes, all under the work directory.
//
//   Deliver  (Postfix, then Dovecot's Maildir save):
//     queue_write    open(incoming/ID, O_EXCL) + write + fsync + close   -> accepted
//     queue_rename   rename incoming/ID -> active/ID
//     maildir_write  open(tmp/NAME) + write + fsync (+ drop from cache) + close
//     maildir_rename rename tmp/NAME -> new/NAME
//     dir_fsync      fdatasync(new/)                                     -> readable
//     queue_unlink   unlink active/ID
//   A failure before "accepted" is a refused delivery, as an SMTP 4xx; a failure after it parks
//   the queue file in queue/deferred (as Postfix does) to be retried, so nothing accepted is
//   ever dropped.
//   Retrieve (POP3 RETR + DELE): open + read whole (pop_read), verify, unlink (pop_unlink).
//   Scan (IMAP-like): list new/, read the headers of up to scan_messages messages.
//
// Thread safety: all methods may be called concurrently; shared state is in MailStore.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "agents/fs_space.h"
#include "agents/mail/distributions.h"
#include "agents/mail/mail_store.h"
#include "agents/spec/workload_spec.h"
#include "common/status.h"

namespace fwcanary {

struct StepTime {
  const char* step;
  double micros;
};

struct OpOutcome {
  enum class Kind { kOk, kError, kRefused, kEmpty, kLost, kCorrupt } kind = Kind::kOk;
  uint64_t bytes = 0;
  std::string message_id;  // for lost and corrupt
  std::string error;       // for kError, kLost, kCorrupt
  bool deferred = false;   // deliver: accepted, parked in queue/deferred
  std::chrono::steady_clock::time_point done;  // readable (deliver) or finished
  std::vector<StepTime> steps;
};

class MailOps {
 public:
  // `run_id`: 8 hex digits unique to this run (message ids are run_id + "_" + seq).
  MailOps(const WorkloadSpec& spec, std::string root, std::string run_id, MailStore& store);
  ~MailOps();
  MailOps(const MailOps&) = delete;
  MailOps& operator=(const MailOps&) = delete;

  // Creates queue/{incoming,active,deferred} and mail/uNNNNN/{tmp,new,cur}; opens new/ dirs.
  Status Prepare();

  // The user a message `seq` goes to or a retrieve/scan `seq` visits (popularity-skewed).
  int UserFor(uint64_t seq) const;

  OpOutcome Deliver(uint64_t seq);
  OpOutcome Redeliver(const StoredMessage& deferred);
  OpOutcome Retrieve(uint64_t seq);
  OpOutcome Scan(uint64_t seq);

  // Reads back one stored message and checks it: OK, NotFound (lost), Corruption, IOError.
  Status Verify(const StoredMessage& m) const;

  // Space of the stored messages, and of the work directory's filesystem as statvfs last
  // reported it (sampled every 50 ms on its own thread: never blocks on a hung storage).
  SpaceSample SampleSpace() const;
  // False when free space is below queue_minfree_bytes (the latest statvfs sample).
  bool HasFreeSpace() const;

 private:
  OpOutcome DeliverToMailbox(const MessageMeta& meta, int user, const std::vector<iovec>& iov,
                             const std::string& queue_path, OpOutcome out);
  void Defer(const MessageMeta& meta, int user, const std::string& from, OpOutcome& out);
  std::string UserDir(int user) const;

  const WorkloadSpec& spec_;
  std::string root_;
  std::string run_id_;
  MailStore& store_;
  SizeSampler sizes_;
  ZipfSampler users_;
  FsSpaceSampler fs_space_;
};

}  // namespace fwcanary
