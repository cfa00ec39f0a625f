#pragma once
// junit.xml: the run as a test report Jenkins and GitLab read (the de-facto JUnit schema:
// testsuites > testsuite > testcase with failure/error/skipped).
//
// One testsuite per wave; one testcase per node x phase x operation class x metric the judge
// judged (name "node-1 surge deliver p99", classname "fwcanary.<scenario>.wave<N>"). A FAIL is a
// <failure> carrying the evidence sentence; an INCONCLUSIVE is <skipped> with its sentence (the
// data could not tell; the run's exit code 3 gates it, not a red test). Activation, drift and
// integrity failures are testcases of their own; a run that ended in an error, or did not finish,
// has a testsuite "run" whose testcase carries an <error>.
//
// Thread safety: pure function.

#include <string>

#include <nlohmann/json.hpp>

namespace fwcanary::reports {

std::string RenderJUnit(const nlohmann::json& model);

}  // namespace fwcanary::reports
