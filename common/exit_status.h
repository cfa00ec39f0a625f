#pragma once
// The exit codes every fwcanary binary uses; the contract CI systems gate on.

namespace fwcanary {

enum ExitStatus : int {
  kExitPass = 0,          // no regression (for the agent: the run completed, integrity intact)
  kExitRegression = 1,    // a regression was found (for the agent: a message lost or corrupt)
  kExitError = 2,         // harness or infrastructure error: bad input, I/O failure, tool missing
  kExitInconclusive = 3,  // the data cannot tell at the tolerance asked; run longer or repeat
};

}  // namespace fwcanary
