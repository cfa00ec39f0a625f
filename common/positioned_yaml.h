#pragma once
// ParseYaml: YAML (yaml-cpp) into a PositionedJson, so YAML files (scenarios, firmware images)
// get the same schema tables and the same "file:line:col: field 'x.y'" errors as JSON specs.
//
// Scalars are typed as YAML 1.2's core schema does: quoted scalars are strings; plain ones are
// null (~, null, empty), booleans (true/false), integers, floats, else strings. "yes"/"no" stay
// strings on purpose: YAML 1.1's implicit booleans turn country codes and settings into bools.
// Duplicate keys are an error (yaml-cpp keeps the last silently; a config tool must not).
//
// Thread safety: no shared state.

#include <string>

#include "common/positioned_json.h"
#include "common/status.h"

namespace fwcanary {

// `source` names the text in messages (a path). Syntax errors: InvalidArgument
// "source:line:col: <what>".
Result<PositionedJson> ParseYaml(const std::string& text, const std::string& source);

// Reads and parses a YAML file; NotFound / IOError name the path.
Result<PositionedJson> LoadYamlFile(const std::string& path);

}  // namespace fwcanary
