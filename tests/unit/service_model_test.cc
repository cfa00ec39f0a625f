#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "lab/fwsim/service_model.h"
#include "lab/fwsim/space_accounting.h"

namespace fwcanary::lab {
namespace {

using Clock = std::chrono::steady_clock;

FirmwareProfile Profile(int slots, double fsync_us) {
  FirmwareProfile p;
  p.version = "t";
  p.service_slots = slots;
  p.base_us[static_cast<std::size_t>(FsOp::kFsync)] = fsync_us;
  return p;
}

TEST_CASE("service model: an op takes at least its service time and slots make others queue") {
  ServiceModel m(Profile(1, 20000));
  auto t0 = Clock::now();
  std::vector<std::thread> ts;
  for (int i = 0; i < 3; ++i) {
    ts.emplace_back([&] { m.Begin(FsOp::kFsync, 0).Finish(); });
  }
  for (auto& t : ts) t.join();
  // One slot: three 20 ms fsyncs are served one after another (a lower bound, never flaky).
  CHECK(Clock::now() - t0 >= std::chrono::milliseconds(60));
}

TEST_CASE("service model: a load knee slows every operation, or only the one it names") {
  FirmwareProfile p = Profile(8, 1000);
  p.base_us[static_cast<std::size_t>(FsOp::kRead)] = 100;
  p.read_us_per_kib = 1;
  p.knee_ops_per_s = 350;
  p.knee_slowdown = 12;
  // Below the knee: the base costs (a 30 KiB read: 100 + 30 us).
  CHECK(ServiceModel::ServiceUs(p, FsOp::kRead, 30 * 1024, 200) == Approx(130));
  CHECK(ServiceModel::ServiceUs(p, FsOp::kFsync, 0, 200) == Approx(1000));
  // Past it (700 ops/s: 100% over): x(1 + 12) for every operation ...
  CHECK(ServiceModel::ServiceUs(p, FsOp::kRead, 30 * 1024, 700) == Approx(130 * 13));
  CHECK(ServiceModel::ServiceUs(p, FsOp::kFsync, 0, 700) == Approx(13000));
  // ... or only for reads (2.0-surge-slow-reads).
  p.knee_only = static_cast<int>(FsOp::kRead);
  CHECK(ServiceModel::ServiceUs(p, FsOp::kRead, 30 * 1024, 700) == Approx(130 * 13));
  CHECK(ServiceModel::ServiceUs(p, FsOp::kFsync, 0, 700) == Approx(1000));
}

TEST_CASE("service model: a fill knee slows service as the node's space fills, from its start to full") {
  FirmwareProfile p = Profile(8, 1000);
  p.fill_start = 0.3;
  p.fill_slowdown = 8;
  CHECK(ServiceModel::ServiceUs(p, FsOp::kFsync, 0, 100, 0.0) == Approx(1000));   // empty: as 1.0
  CHECK(ServiceModel::ServiceUs(p, FsOp::kFsync, 0, 100, 0.3) == Approx(1000));   // at its start
  CHECK(ServiceModel::ServiceUs(p, FsOp::kFsync, 0, 100, 0.65) == Approx(5000));  // halfway: 1 + 8/2
  CHECK(ServiceModel::ServiceUs(p, FsOp::kFsync, 0, 100, 1.0) == Approx(9000));   // full
  // The model reads the fill from the node's space accounting: 4 files of 1 MiB on 10 MiB, data
  // counted twice by the image (2 x 4 MiB = 80%).
  p.space_bytes_factor = 2.0;
  SpaceAccounting space(10 << 20);
  space.SetProfile(p);
  for (int i = 0; i < 4; ++i) {
    space.FileAdded();
    space.Resized(0, 1 << 20);
  }
  ServiceModel m(p);
  m.SetFillSource(&space);
  auto t0 = Clock::now();
  m.Begin(FsOp::kFsync, 0).Finish();
  // 1 ms x (1 + 8 x (0.8 - 0.3) / 0.7) = 6.7 ms at least (a lower bound: never flaky).
  CHECK(Clock::now() - t0 >= std::chrono::microseconds(6700));
}

TEST_CASE("service model: a held gate stalls requests until released, then they run") {
  ServiceModel m(Profile(4, 0));
  m.Hold();
  std::atomic<bool> done{false};
  std::thread t([&] {
    m.BeginFree().Finish();
    done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(!done);
  CHECK(m.waiting() == 1);
  m.Release();
  t.join();
  CHECK(done);
}

TEST_CASE("service model: Hold waits for requests in service to finish") {
  ServiceModel m(Profile(4, 50000));
  std::thread t([&] { m.Begin(FsOp::kFsync, 0).Finish(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  auto t0 = Clock::now();
  m.Hold();
  CHECK(Clock::now() - t0 >= std::chrono::milliseconds(30));
  m.Release();
  t.join();
}

TEST_CASE("space accounting: overhead per file and per byte shows in the node's view") {
  SpaceAccounting s(1 << 20);  // 1 MiB node
  FirmwareProfile p;
  p.space_per_file_bytes = 16384;
  p.space_bytes_factor = 2.0;
  s.SetProfile(p);
  s.FileAdded();
  s.Resized(0, 5000);  // 8 KiB allocated
  CHECK(s.allocated_bytes() == 8192);
  CHECK(s.FileOverhead(5000) == 16384 + 8192);
  CHECK(s.used_bytes() == 8192 + 16384 + 8192);
  uint64_t total = 0, free = 0;
  s.View(100ull << 30, 50ull << 30, &total, &free);
  CHECK(total == 1 << 20);
  CHECK(free == (1 << 20) - 32768);
  CHECK(s.Fits(0, 400000));
  CHECK(!s.Fits(0, 600000));  // 600 KB of data costs 1.2 MB under a 2x factor
  s.FileRemoved(5000);
  CHECK(s.used_bytes() == 0);
}

}  // namespace
}  // namespace fwcanary::lab
