#pragma once
// ReadTextFile: a whole file as a string, with the one error style: NotFound when it does not
// exist, IOError naming the path otherwise.

#include <string>

#include "common/status.h"

namespace fwcanary {

Result<std::string> ReadTextFile(const std::string& path);

}  // namespace fwcanary
