// The engine table: adding an engine is one line here plus its folder.
#include "agents/engine.h"
#include "agents/fio/fio_engine.h"
#include "agents/mail/mail_engine.h"

namespace fwcanary {
namespace {

struct EngineEntry {
  const char* name;
  std::unique_ptr<Engine> (*make)();
};

const EngineEntry kEngines[] = {
    {"mail", [] { return std::unique_ptr<Engine>(new MailEngine()); }},
    {"fio", [] { return std::unique_ptr<Engine>(new FioEngine()); }},
};

}  // namespace

std::unique_ptr<Engine> MakeEngine(const std::string& name) {
  for (const auto& e : kEngines) {
    if (name == e.name) return e.make();
  }
  return nullptr;
}

std::vector<std::string> EngineNames() {
  std::vector<std::string> out;
  for (const auto& e : kEngines) out.emplace_back(e.name);
  return out;
}

std::vector<EngineInfo> ListEngines() {
  std::vector<EngineInfo> out;
  for (const auto& e : kEngines) out.push_back(e.make()->info());
  return out;
}

}  // namespace fwcanary
