#include "rundir/drift_snapshot.h"

#include <sstream>

namespace fwcanary::rundir {

std::string FormatDriftSnapshot(const std::vector<std::pair<std::string, std::string>>& checks) {
  std::string out;
  for (const auto& [check, output] : checks) {
    out += "## " + check + "\n";
    std::size_t from = 0;
    while (from < output.size()) {
      std::size_t nl = output.find('\n', from);
      std::string line =
          output.substr(from, nl == std::string::npos ? std::string::npos : nl - from);
      if (line.rfind("## ", 0) == 0 || line.rfind('\\', 0) == 0) out += '\\';
      out += line + "\n";
      if (nl == std::string::npos) break;
      from = nl + 1;
    }
    // The newline that ends a check's section; one more keeps an output's own last newline.
    if (output.empty() || output.back() == '\n') out += "\n";
  }
  return out;
}

std::map<std::string, std::string> ParseDriftSnapshot(const std::string& text) {
  std::map<std::string, std::string> out;
  std::string current, body;
  bool open = false;
  auto flush = [&] {
    if (!open) return;
    if (!body.empty() && body.back() == '\n') body.pop_back();
    out[current] = body;
  };
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("## ", 0) == 0) {
      flush();
      current = line.substr(3);
      body.clear();
      open = true;
    } else {
      body += (line.rfind('\\', 0) == 0 ? line.substr(1) : line) + "\n";
    }
  }
  flush();
  return out;
}

}  // namespace fwcanary::rundir
