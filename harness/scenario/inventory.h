#pragma once
// Inventory: the nodes a scenario works on, with their vars and roles.
//
// Three sources, one result: inline in the scenario (`inventory: {vars, nodes}`), or a path to
// an Ansible inventory in YAML (all: {vars, hosts, children}) or INI ([group], [group:vars],
// "host key=value" lines). Ansible's connection vars map to the node's fields: ansible_host ->
// host, ansible_port -> port, ansible_user -> user. Other vars are node vars for templates
// ({node.workdir}). Roles: `roles: [target, client]` (default both); a client's `target` var
// names the target whose storage it writes to (default: itself).
//
// Thread safety: plain values, pure functions.

#include <map>
#include <string>
#include <vector>

#include "common/positioned_json.h"
#include "common/schema.h"
#include "common/status.h"

namespace fwcanary::scenario {

struct Node {
  std::string name;
  std::string host;  // address or name to connect to (default: the node name)
  int port = 22;
  std::string user;  // empty: the scenario's ssh.user
  std::map<std::string, std::string> vars;
  bool target = true;  // its firmware is upgraded
  bool client = true;  // an agent runs there
  std::string writes_to;  // the target whose storage this client uses (default: itself)
};

struct Inventory {
  std::string source;  // "inline" or the file it came from
  std::vector<Node> nodes;

  const Node* Find(const std::string& name) const;
  std::vector<const Node*> Targets() const;
  std::vector<const Node*> Clients() const;
};

// Parses an inline inventory at ctx (object with optional `vars` and required `nodes`).
Status ParseInlineInventory(const nlohmann::json& obj, const FieldContext& ctx, Inventory* out);

// Loads an Ansible inventory file (.yaml/.yml or INI by content). Errors name file:line.
Result<Inventory> LoadAnsibleInventory(const std::string& path);

// Applies roles and checks the whole: unique names, valid ports, clients' targets exist, at
// least one target.
Status FinishInventory(Inventory* inv);

}  // namespace fwcanary::scenario
