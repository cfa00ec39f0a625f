#pragma once
// Escaping for the markup the reports write (JUnit XML, HTML, SVG): text and attribute values.
// Control characters XML 1.0 forbids (agent errors may carry them) become U+FFFD.
//
// Thread safety: pure function.

#include <string>

namespace fwcanary::reports {

std::string XmlEscape(const std::string& s);

}  // namespace fwcanary::reports
