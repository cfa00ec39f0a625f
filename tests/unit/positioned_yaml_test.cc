#include <catch2/catch.hpp>

#include "common/positioned_yaml.h"

namespace fwcanary {
namespace {

TEST_CASE("yaml: scalars are typed like YAML 1.2 core and quoted ones stay strings") {
  auto doc = ParseYaml("a: 1\nb: 2.5\nc: true\nd: \"1\"\ne: yes\nf: ~\ng: [1, x]\n", "t.yaml");
  REQUIRE(doc.ok());
  const auto& j = doc->doc();
  CHECK(j["a"] == 1);
  CHECK(j["b"] == 2.5);
  CHECK(j["c"] == true);
  CHECK(j["d"] == "1");
  CHECK(j["e"] == "yes");  // not YAML 1.1's implicit boolean
  CHECK(j["f"].is_null());
  CHECK(j["g"][1] == "x");
}

TEST_CASE("yaml: positions name the key's line and column") {
  auto doc = ParseYaml("top:\n  inner:\n    leaf: 3\nlist:\n  - a\n  - b\n", "s.yaml");
  REQUIRE(doc.ok());
  CHECK(doc->Where("/top/inner/leaf") == "s.yaml:3:5");
  CHECK(doc->Where("/list/1") == "s.yaml:6:5");
}

TEST_CASE("yaml: duplicate keys and syntax errors are refused with file and line", "[bad-input]") {
  auto dup = ParseYaml("a: 1\nb: 2\na: 3\n", "d.yaml");
  REQUIRE(!dup.ok());
  CHECK(dup.status().message() == "d.yaml:3:1: duplicate key 'a'");
  auto bad = ParseYaml("a: [1, 2\nb: 3\n", "e.yaml");
  REQUIRE(!bad.ok());
  CHECK(bad.status().message().rfind("e.yaml:", 0) == 0);
}

}  // namespace
}  // namespace fwcanary
