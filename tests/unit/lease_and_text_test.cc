// The controller's guards that need no lab: the lease's takeover race (two controllers, one
// expired lease: exactly one wins), text from nodes made safe, and output kept within its cap.
// The lease script runs for real, in /bin/sh through the local transport.
#include <atomic>
#include <barrier>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "common/untrusted_text.h"
#include "harness/rollout/lease_lock.h"
#include "harness/rollout/node_session.h"
#include "tests/unit/scratch.h"

namespace fwcanary::rollout {
namespace {

scenario::Scenario LocalScenario(const std::string& lock_path) {
  scenario::Scenario sc;
  sc.transport = "local";
  sc.rollout.lock_path = lock_path;
  sc.rollout.lock_ttl_s = 900;
  sc.ssh.command_timeout_s = 10;
  return sc;
}

scenario::Node NodeNamed(const std::string& name) {
  scenario::Node n;
  n.name = name;
  n.host = "localhost";
  n.target = true;
  return n;
}

std::string Read(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST_CASE("lease: two controllers taking over one expired lease at once: exactly one wins, every time", "[security]") {
  testing::Scratch d;
  // A literal part with a space and shell syntax: the path is quoted whole.
  const std::string lock = d.path + "/state dir;x/fwcanary.lock";
  std::filesystem::create_directories(d.path + "/state dir;x");
  scenario::Scenario sc = LocalScenario(lock);
  scenario::Node node = NodeNamed("node-1");
  int both = 0, neither = 0;
  for (int round = 0; round < 40; ++round) {
    for (const auto& e : std::filesystem::directory_iterator(d.path + "/state dir;x")) std::filesystem::remove(e.path());
    std::ofstream(lock) << "fwcanary:dead:run 1000\n";  // expired long ago
    std::barrier sync(2);
    std::atomic<int> won{0};
    auto take = [&](const std::string& owner) {
      NodeSession s(sc, node);
      sync.arrive_and_wait();
      if (AcquireLease(sc, s, owner).ok()) ++won;
    };
    std::thread a(take, "controller-a"), b(take, "controller-b");
    a.join();
    b.join();
    both += won == 2;
    neither += won == 0;
    // The lock names the winner.
    std::string holder = Read(lock);
    CHECK((holder.rfind("controller-a ", 0) == 0 || holder.rfind("controller-b ", 0) == 0));
  }
  CHECK(both == 0);
  CHECK(neither == 0);
  CHECK(!std::filesystem::exists(d.path + "/x"));  // nothing ran from the path's ';'
}

TEST_CASE("lease: a live lease is refused, its owner renews it, and release leaves nothing behind", "[security]") {
  testing::Scratch d;
  const std::string lock = d.path + "/fwcanary.lock";
  scenario::Scenario sc = LocalScenario(lock);
  scenario::Node node = NodeNamed("node-1");
  NodeSession s(sc, node);
  REQUIRE(AcquireLease(sc, s, "run-a").ok());
  Status other = AcquireLease(sc, s, "run-b");
  CHECK(other.code() == Status::Code::kRefused);
  CHECK(other.message().find("locked by another controller: run-a for ") != std::string::npos);
  CHECK(AcquireLease(sc, s, "run-a").ok());  // renewal
  // Expired, taken over by run-b through its token; run-a's old view cannot win it back.
  std::ofstream(lock) << "run-a 1000\n";
  CHECK(AcquireLease(sc, s, "run-b").ok());
  CHECK(AcquireLease(sc, s, "run-a").code() == Status::Code::kRefused);
  CHECK(ReleaseLease(sc, s, "run-a").ok());  // not its lease: left alone
  CHECK(std::filesystem::exists(lock));
  CHECK(ReleaseLease(sc, s, "run-b").ok());
  CHECK(std::filesystem::is_empty(d.path));  // the lock and its takeover tokens are gone
}

TEST_CASE("lease keeper: a lease taken over by another controller is known lost at its next renewal", "[security]") {
  testing::Scratch d;
  const std::string lock = d.path + "/fwcanary.lock";
  scenario::Scenario sc = LocalScenario(lock);
  sc.rollout.lock_ttl_s = 10;  // renewed every 3.3 s
  scenario::Node node = NodeNamed("node-1");
  NodeSession s(sc, node);
  REQUIRE(AcquireLease(sc, s, "run-a").ok());
  std::vector<std::string> logged;
  std::mutex mu;
  LeaseKeeper keeper(sc, {&node}, "run-a", [&](const std::string& l) {
    std::lock_guard guard(mu);
    logged.push_back(l);
  });
  CHECK(keeper.Held().ok());
  std::ofstream(lock) << "run-b 99999999999\n";  // another controller holds it now
  Status held;
  for (int i = 0; i < 100 && held.ok(); ++i) {  // bounded: 10 s
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    held = keeper.Held();
  }
  CHECK(held.code() == Status::Code::kRefused);
  CHECK(held.message().find("locked by another controller: run-b") != std::string::npos);
}

TEST_CASE("untrusted text: valid UTF-8 passes, invalid bytes and control characters are escaped, deterministically", "[bad-input]") {
  CHECK(SafeText("firmware 1.0\n\tok") == "firmware 1.0\n\tok");
  CHECK(SafeText("Seriennummer: Müller-ß €") == "Seriennummer: Müller-ß €");
  CHECK(SafeText(std::string("x\xff\n", 3)) == "x\\xFF\n");
  CHECK(SafeText(std::string("a\0b", 3)) == "a\\x00b");
  CHECK(SafeText("\x1b[2J\x1b]0;title\x07\r") == "\\x1B[2J\\x1B]0;title\\x07\\x0D");
  // Latin-1 (a lone 0xE9), an overlong '/', a surrogate, a truncated sequence, above U+10FFFF.
  CHECK(SafeText("caf\xe9") == "caf\\xE9");
  CHECK(SafeText("\xc0\xaf") == "\\xC0\\xAF");
  CHECK(SafeText("\xed\xa0\x80") == "\\xED\\xA0\\x80");
  CHECK(SafeText("\xe2\x82") == "\\xE2\\x82");
  CHECK(SafeText("\xf4\x90\x80\x80") == "\\xF4\\x90\\x80\\x80");
  CHECK(SafeText("\xf0\x9f\x92\xbe") == "\xf0\x9f\x92\xbe");  // a 4-byte character stays
  // Whatever came in, what goes out is valid UTF-8 that nlohmann can dump.
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  nlohmann::json j = SafeText(all + all.substr(128));
  CHECK_NOTHROW(j.dump());
  CHECK(SafeText(all) == SafeText(all));
}

TEST_CASE("capped text: keeps the first bytes, counts the rest, says so", "[bad-input]") {
  CappedText t(8);
  t.Append("0123");
  t.Append("456789");
  t.Append(std::string(1000, 'x'));
  CHECK(t.kept() == "01234567");
  CHECK(t.dropped() == 1002);
  CHECK(t.Text() == "01234567\n[... 1002 more bytes not kept]");
  CappedText fits(8);
  fits.Append("abc");
  CHECK(fits.Text() == "abc");
}

}  // namespace
}  // namespace fwcanary::rollout
