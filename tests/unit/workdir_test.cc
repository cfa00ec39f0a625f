#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "agents/workdir.h"

using namespace fwcanary;
namespace fs = std::filesystem;

namespace {
struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/fwcanary-workdir-test-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
};
void Touch(const fs::path& p, const std::string& text = "x") { std::ofstream(p) << text; }
}  // namespace

TEST_CASE("a new work directory is created and marked", "[workdir]") {
  TempDir t;
  auto wd = WorkDir::Open((t.path / "w").string());
  REQUIRE(wd.ok());
  CHECK(fs::exists(t.path / "w" / WorkDir::kMarkerName));
  // Marked: opening again is accepted even though it is no longer empty.
  Touch(t.path / "w" / "manifest.json");
  CHECK(WorkDir::Open((t.path / "w").string()).ok());
}

TEST_CASE("a non-empty directory without the marker is refused", "[workdir]") {
  TempDir t;
  Touch(t.path / "precious.txt");
  auto wd = WorkDir::Open(t.path.string());
  REQUIRE_FALSE(wd.ok());
  CHECK(wd.status().code() == Status::Code::kRefused);
  CHECK_THAT(wd.status().message(), Catch::Contains("not empty"));
  CHECK(fs::exists(t.path / "precious.txt"));
  CHECK_FALSE(fs::exists(t.path / WorkDir::kMarkerName));
}

TEST_CASE("a symlink or a file is refused as a work directory", "[workdir][security]") {
  TempDir t;
  fs::create_directory(t.path / "real");
  fs::create_directory_symlink(t.path / "real", t.path / "link");
  CHECK(WorkDir::Open((t.path / "link").string()).status().code() == Status::Code::kRefused);
  Touch(t.path / "file");
  CHECK(WorkDir::Open((t.path / "file").string()).status().code() == Status::Code::kRefused);
}

TEST_CASE("cleanup removes agent files only and keeps a foreign file", "[workdir][security]") {
  TempDir t;
  auto wd = WorkDir::Open((t.path / "w").string());
  REQUIRE(wd.ok());
  fs::create_directories(t.path / "w/mail/u00000/new");
  fs::create_directories(t.path / "w/queue/active");
  Touch(t.path / "w/mail/u00000/new/1700000000.0a1b2c3d_5.fwcanary,S=900");
  Touch(t.path / "w/queue/active/0a1b2c3d_6");
  Touch(t.path / "w/mail/u00000/new/decoy-not-ours");
  std::vector<std::string> left;
  REQUIRE(wd->Cleanup(&left).ok());
  CHECK_FALSE(fs::exists(t.path / "w/mail/u00000/new/1700000000.0a1b2c3d_5.fwcanary,S=900"));
  CHECK_FALSE(fs::exists(t.path / "w/queue"));
  CHECK(fs::exists(t.path / "w/mail/u00000/new/decoy-not-ours"));
  CHECK(fs::exists(t.path / "w" / WorkDir::kMarkerName));  // still ours to clean later
  REQUIRE(left.size() == 1);

  fs::remove(t.path / "w/mail/u00000/new/decoy-not-ours");
  REQUIRE(wd->Cleanup(&left).ok());
  CHECK_FALSE(fs::exists(t.path / "w"));  // created by the agent: removed
}

TEST_CASE("an adopted empty directory (a mount point) is emptied but kept", "[workdir]") {
  TempDir t;
  auto wd = WorkDir::Open(t.path.string());
  REQUIRE(wd.ok());
  REQUIRE(wd->Cleanup(nullptr).ok());
  CHECK(fs::exists(t.path));
  CHECK_FALSE(fs::exists(t.path / WorkDir::kMarkerName));
}
