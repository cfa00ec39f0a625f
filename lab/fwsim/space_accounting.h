#pragma once
// SpaceAccounting: the space the simulated node says it uses, under its current firmware.
//
// The backing directory holds the real data. On top of it an image adds internal overhead
// (space.per_file_bytes per stored file, space.bytes_factor per allocated data byte), visible
// to clients where a real array shows it: statfs (used/free) and each file's st_blocks. An
// optional node capacity turns the overhead into ENOSPC, as a real array runs out of space.
//
// Counters are kept incrementally from the operations that change them (callers pass the size
// before and after), and recounted from the backing directory by Rescan() (at mount and at every
// flash, with I/O held) so an approximation cannot drift for long: concurrent writers to one
// file can race between the size read and the write.
//
// Thread safety: all methods may be called concurrently.

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

#include "lab/fwsim/firmware_profile.h"

namespace fwcanary::lab {

class SpaceAccounting {
 public:
  // capacity_bytes 0: the backing filesystem's own size and free space, minus overhead.
  explicit SpaceAccounting(uint64_t capacity_bytes) : capacity_(capacity_bytes) {}

  void SetProfile(const FirmwareProfile& p);
  // Recounts files and allocated bytes under `root_fd` (a directory). Returns files counted.
  uint64_t Rescan(int root_fd);

  // Allocated bytes of a file of `size` (4 KiB blocks), before overhead.
  static uint64_t Allocated(uint64_t size) { return (size + 4095) / 4096 * 4096; }
  // Extra bytes the firmware uses for one file of `size`.
  uint64_t FileOverhead(uint64_t size) const;

  // A regular file appeared (size 0) / disappeared (last link) / changed size.
  void FileAdded() { files_.fetch_add(1); }
  void FileRemoved(uint64_t size);
  void Resized(uint64_t old_size, uint64_t new_size);

  // Whether growing by `extra_files` files and `grow_bytes` data fits the capacity.
  bool Fits(uint64_t extra_files, uint64_t grow_bytes) const;

  // Fills a statvfs-like view: `total`, `free` in bytes for the node. `backing_total/free` are
  // the backing filesystem's own figures.
  void View(uint64_t backing_total, uint64_t backing_free, uint64_t* total, uint64_t* free) const;

  uint64_t files() const { return files_.load(); }
  uint64_t allocated_bytes() const { return bytes_.load(); }
  uint64_t used_bytes() const;  // allocated + overhead
  uint64_t capacity() const { return capacity_; }

 private:
  uint64_t OverheadOf(uint64_t files, uint64_t bytes) const;

  const uint64_t capacity_;
  std::atomic<uint64_t> files_{0};
  std::atomic<uint64_t> bytes_{0};  // sum of Allocated(size) of regular files
  std::atomic<uint64_t> per_file_{0};
  std::atomic<double> factor_{1.0};
};

}  // namespace fwcanary::lab
