#pragma once
// ReadTextFile: a whole file as a string, with the one error style: NotFound when it does not
// exist, IOError naming the path otherwise. WriteTextFile: a whole file, replaced at once (written
// beside it, then renamed over it), so a reader never sees half of it; IOError naming the path.

#include <string>

#include "common/status.h"

namespace fwcanary {

Result<std::string> ReadTextFile(const std::string& path);
Status WriteTextFile(const std::string& path, const std::string& text);

}  // namespace fwcanary
