#include <catch2/catch.hpp>

#include "agents/spec/workload_spec.h"

using namespace fwcanary;

namespace {
std::string ErrorOf(const std::string& text) {
  auto r = ParseWorkloadSpec(text, "spec.json");
  REQUIRE_FALSE(r.ok());
  return r.status().message();
}
}  // namespace

TEST_CASE("an empty spec gets mail defaults and one steady phase", "[spec]") {
  auto r = ParseWorkloadSpec("{}", "spec.json");
  REQUIRE(r.ok());
  const WorkloadSpec& s = r.value();
  CHECK(s.engine == "mail");
  CHECK(s.size.mean_bytes == 75.0 * 1024);
  CHECK(s.size.dist == "lognormal");
  REQUIRE(s.phases.size() == 1);
  CHECK(s.phases[0].name == "steady");
  CHECK(s.phases[0].duration_s == 10);
  CHECK(s.arrivals == "poisson");
  auto u = ParseWorkloadSpec(R"({"arrivals": "uniform"})", "spec.json");
  REQUIRE(u.ok());
  CHECK(u->arrivals == "uniform");
  CHECK(u->ToJson()["arrivals"] == "uniform");
}

TEST_CASE("phases parse with rates, multipliers and drains", "[spec]") {
  auto r = ParseWorkloadSpec(R"({"rate": 200, "phases": [
      {"name": "steady", "duration_s": 60},
      {"name": "surge", "duration_s": 30, "multiplier": 3},
      {"name": "drain", "duration_s": 120, "drain": true},
      {"name": "fixed", "duration_s": 5, "rate": 42}]})",
                             "spec.json");
  REQUIRE(r.ok());
  const auto& p = r->phases;
  REQUIRE(p.size() == 4);
  CHECK(p[1].multiplier == 3);
  CHECK(p[2].drain);
  CHECK(p[2].multiplier == 0);  // a drain stops arrivals unless told otherwise
  CHECK(p[3].rate.value() == 42);
  CHECK(r->MaxDurationSeconds() == 215);
}

TEST_CASE("an unknown field names its line, column and a suggestion", "[spec][bad-input]") {
  std::string e = ErrorOf("{\n  \"rate\": 10,\n  \"phases\": [\n    {\"name\": \"s\", \"duraton_s\": 5}\n  ]\n}");
  CHECK_THAT(e, Catch::Contains("spec.json:4:19"));
  CHECK_THAT(e, Catch::Contains("phases[0].duraton_s"));
  CHECK_THAT(e, Catch::Contains("unknown field"));
  CHECK_THAT(e, Catch::Contains("did you mean 'duration_s'"));
}

TEST_CASE("wrong types and out-of-range values are refused with the field", "[spec][bad-input]") {
  CHECK_THAT(ErrorOf("{\"rate\": -5}"), Catch::Contains("field 'rate': must be >= 0, got -5"));
  CHECK_THAT(ErrorOf("{\"rate\": \"fast\"}"), Catch::Contains("field 'rate': must be a number"));
  CHECK_THAT(ErrorOf("{\"users\": 2.5}"), Catch::Contains("field 'users': must be an integer"));
  CHECK_THAT(ErrorOf("{\"engine\": \"dd\"}"), Catch::Contains("must be one of mail, fio"));
  CHECK_THAT(ErrorOf("{\"arrivals\": \"bursty\"}"),
             Catch::Contains("field 'arrivals': must be one of poisson, uniform"));
  CHECK_THAT(ErrorOf("{\"size\": {\"dist\": \"pareto\"}}"), Catch::Contains("size.dist"));
  CHECK_THAT(ErrorOf("{\"phases\": []}"), Catch::Contains("at least one phase"));
  CHECK_THAT(ErrorOf("{\"phases\": [{\"duration_s\": 3}]}"),
             Catch::Contains("missing required field 'name'"));
  CHECK_THAT(ErrorOf("{\"phases\": [{\"name\": \"a\", \"duration_s\": 1, \"rate\": 5, "
                     "\"multiplier\": 2}]}"),
             Catch::Contains("either `rate` or `multiplier`"));
  CHECK_THAT(ErrorOf("{\"phases\": [{\"name\": \"a\", \"duration_s\": 1}, {\"name\": \"a\", "
                     "\"duration_s\": 1}]}"),
             Catch::Contains("duplicate phase name"));
  CHECK_THAT(ErrorOf("{\"mix\": {\"deliver\": 0, \"retrieve\": 0, \"scan\": 0}}"),
             Catch::Contains("at least one weight"));
  CHECK_THAT(ErrorOf("[1, 2]"), Catch::Contains("must be an object"));
}

TEST_CASE("a JSON syntax error names line and column", "[spec][bad-input]") {
  std::string e = ErrorOf("{\n  \"rate\": 10,\n  \"users\" 5\n}");
  CHECK_THAT(e, Catch::StartsWith("spec.json:3:"));
}

TEST_CASE("the spec reference lists every field", "[spec]") {
  std::string d = DescribeWorkloadSpec();
  for (const char* f : {"rate", "phases[].multiplier", "mix.deliver", "size.sigma",
                        "queue_minfree_bytes", "fio.binary", "concurrency", "arrivals"}) {
    CHECK_THAT(d, Catch::Contains(f));
  }
}
