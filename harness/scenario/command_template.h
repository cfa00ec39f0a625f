#pragma once
// Command templates: "fwsim-node flash {image}" with every substituted value shell-quoted, so a
// node name, a var or an image path holding quotes, `;`, `$()`, spaces or newlines reaches the
// remote shell as one literal word, never as syntax. "{{" and "}}" are literal braces.
//
// Placeholders: {image}, {version}, {rollback_image}, {node.name}, {node.host}, {node.VAR} (a node var).
// Thread safety: pure functions.

#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace fwcanary::scenario {

// 'it'\''s' style single quoting: safe for any byte string in POSIX sh.
std::string ShellQuote(const std::string& value);

// The placeholders a template uses ("image", "node.workdir", ...), or InvalidArgument naming
// the offset of a malformed one (unclosed brace, empty name).
Result<std::vector<std::string>> Placeholders(const std::string& tmpl);

// Expands `tmpl`; every value is ShellQuote'd. NotFound names a placeholder with no value.
Result<std::string> Expand(const std::string& tmpl, const std::map<std::string, std::string>& values);

// The same with values as they are: for a template that names one thing (a path), which the
// caller then quotes whole. Never a command line.
Result<std::string> ExpandRaw(const std::string& tmpl, const std::map<std::string, std::string>& values);

}  // namespace fwcanary::scenario
