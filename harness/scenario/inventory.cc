#include "harness/scenario/inventory.h"

#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

#include "common/positioned_yaml.h"
#include "common/schema.h"
#include "common/untrusted_text.h"

namespace fwcanary::scenario {
namespace {

using nlohmann::json;

std::string AsString(const json& v) { return v.is_string() ? v.get<std::string>() : DumpForMessage(v); }

// Moves Ansible's connection vars and the role vars into the node's fields.
Status ApplyRoles(Node& n, const json& roles, const std::string& where) {
  if (!roles.is_array()) return Status::InvalidArgument(where + ": roles must be a list");
  n.target = n.client = false;
  for (const auto& r : roles) {
    std::string role = AsString(r);
    if (role == "target") {
      n.target = true;
    } else if (role == "client") {
      n.client = true;
    } else {
      return Status::InvalidArgument(where + ": unknown role '" + role +
                                     "' (roles are target and client)");
    }
  }
  return Status::Ok();
}

Status ApplyVar(Node& n, const std::string& key, const std::string& value,
                const std::string& where) {
  if (key == "ansible_host") {
    n.host = value;
  } else if (key == "ansible_port") {
    try {
      n.port = std::stoi(value);
    } catch (const std::exception&) {
      return Status::InvalidArgument(where + ": ansible_port must be a number, got '" + value + "'");
    }
  } else if (key == "ansible_user") {
    n.user = value;
  } else if (key == "target") {
    n.writes_to = value;
  } else if (key == "roles") {
    // From an INI line (roles=target,client) or a group's vars (a YAML list, flattened).
    json list = json::array();
    std::string word;
    for (char c : value + ",") {
      if (c == ',' || c == ' ' || c == '[' || c == ']' || c == '"') {
        if (!word.empty()) list.push_back(word);
        word.clear();
      } else {
        word += c;
      }
    }
    if (Status s = ApplyRoles(n, list, where); !s.ok()) return s;
    return Status::Ok();
  }
  n.vars[key] = value;
  return Status::Ok();
}

// Ansible YAML: groups nest under `children`; vars inherit downwards (group < host).
Status WalkYamlGroup(const json& group, const PositionedJson& doc, const std::string& pointer,
                     std::map<std::string, std::string> vars, Inventory* inv,
                     std::map<std::string, std::size_t>* index) {
  if (group.is_null()) return Status::Ok();
  if (!group.is_object()) {
    return Status::InvalidArgument(doc.Where(pointer) + ": a group must be a mapping");
  }
  if (group.contains("vars") && group["vars"].is_object()) {
    for (const auto& [k, v] : group["vars"].items()) vars[k] = AsString(v);
  }
  if (group.contains("hosts") && group["hosts"].is_object()) {
    for (const auto& [name, hv] : group["hosts"].items()) {
      std::string where = doc.Where(pointer + "/hosts/" + name);
      auto it = index->find(name);
      if (it == index->end()) {
        Node n;
        n.name = name;
        it = index->emplace(name, inv->nodes.size()).first;
        inv->nodes.push_back(n);
      }
      Node& n = inv->nodes[it->second];
      for (const auto& [k, v] : vars) {
        if (n.vars.count(k) == 0) {
          if (Status s = ApplyVar(n, k, v, where); !s.ok()) return s;
        }
      }
      if (hv.is_object()) {
        for (const auto& [k, v] : hv.items()) {
          if (k == "roles") {
            if (Status s = ApplyRoles(n, v, where); !s.ok()) return s;
            continue;
          }
          if (Status s = ApplyVar(n, k, AsString(v), where); !s.ok()) return s;
        }
      }
    }
  }
  if (group.contains("children") && group["children"].is_object()) {
    for (const auto& [name, child] : group["children"].items()) {
      if (Status s = WalkYamlGroup(child, doc, pointer + "/children/" + name, vars, inv, index);
          !s.ok()) {
        return s;
      }
    }
  }
  return Status::Ok();
}

Result<Inventory> ParseIni(const std::string& text, const std::string& path) {
  if (Status s = CheckUtf8(text, path); !s.ok()) return s;
  Inventory inv;
  inv.source = path;
  std::map<std::string, std::vector<std::string>> group_hosts;
  std::map<std::string, std::map<std::string, std::string>> group_vars;
  std::map<std::string, std::size_t> index;
  std::string section = "ungrouped";
  bool vars_section = false;
  std::istringstream in(text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    std::string where = path + ":" + std::to_string(n);
    std::size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#' || line[start] == ';') continue;
    line = line.substr(start);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.front() == '[') {
      if (line.back() != ']') return Status::InvalidArgument(where + ": unclosed section header");
      section = line.substr(1, line.size() - 2);
      vars_section = false;
      if (section.size() > 5 && section.compare(section.size() - 5, 5, ":vars") == 0) {
        section = section.substr(0, section.size() - 5);
        vars_section = true;
      } else if (section.find(':') != std::string::npos) {
        section = "";  // [group:children]: membership of groups, not hosts
      }
      continue;
    }
    if (section.empty()) continue;
    std::istringstream words(line);
    std::string first;
    words >> first;
    if (vars_section) {
      std::size_t eq = line.find('=');
      if (eq == std::string::npos) return Status::InvalidArgument(where + ": expected key=value");
      auto trim = [](std::string s) {
        s.erase(0, s.find_first_not_of(" \t"));
        s.erase(s.find_last_not_of(" \t") + 1);
        return s;
      };
      group_vars[section][trim(line.substr(0, eq))] = trim(line.substr(eq + 1));
      continue;
    }
    auto it = index.find(first);
    if (it == index.end()) {
      Node node;
      node.name = first;
      it = index.emplace(first, inv.nodes.size()).first;
      inv.nodes.push_back(node);
    }
    group_hosts[section].push_back(first);
    for (std::string kv; words >> kv;) {
      std::size_t eq = kv.find('=');
      if (eq == std::string::npos) {
        return Status::InvalidArgument(where + ": expected key=value after the host, got '" + kv + "'");
      }
      if (Status s = ApplyVar(inv.nodes[it->second], kv.substr(0, eq), kv.substr(eq + 1), where);
          !s.ok()) {
        return s;
      }
    }
  }
  // Group vars apply where the host does not set the var itself; [all:vars] to every host.
  for (auto& node : inv.nodes) {
    std::vector<std::string> groups = {"all"};
    for (const auto& [g, hosts] : group_hosts) {
      for (const auto& h : hosts) {
        if (h == node.name) groups.push_back(g);
      }
    }
    for (auto g = groups.rbegin(); g != groups.rend(); ++g) {
      for (const auto& [k, v] : group_vars[*g]) {
        if (node.vars.count(k) == 0) {
          if (Status s = ApplyVar(node, k, v, path); !s.ok()) return s;
        }
      }
    }
  }
  return inv;
}

}  // namespace

const Node* Inventory::Find(const std::string& name) const {
  for (const auto& n : nodes) {
    if (n.name == name) return &n;
  }
  return nullptr;
}

std::vector<const Node*> Inventory::Targets() const {
  std::vector<const Node*> out;
  for (const auto& n : nodes) {
    if (n.target) out.push_back(&n);
  }
  return out;
}

std::vector<const Node*> Inventory::Clients() const {
  std::vector<const Node*> out;
  for (const auto& n : nodes) {
    if (n.client) out.push_back(&n);
  }
  return out;
}

Status ParseInlineInventory(const json& obj, const FieldContext& ctx, Inventory* out) {
  if (!obj.is_object()) return ctx.Error("must be a path to an inventory file or a mapping");
  for (const auto& [k, v] : obj.items()) {
    if (k != "vars" && k != "nodes") {
      return ctx.Child(k).Error("unknown field (an inline inventory has vars and nodes)");
    }
  }
  if (!obj.contains("nodes") || !obj["nodes"].is_object() || obj["nodes"].empty()) {
    return ctx.Error("needs `nodes`: a mapping of node name to its settings");
  }
  std::map<std::string, std::string> vars;
  if (obj.contains("vars")) {
    if (!obj["vars"].is_object()) return ctx.Child("vars").Error("must be a mapping");
    for (const auto& [k, v] : obj["vars"].items()) vars[k] = AsString(v);
  }
  out->source = "inline";
  for (const auto& [name, nv] : obj["nodes"].items()) {
    FieldContext nc = ctx.Child("nodes").Child(name);
    Node n;
    n.name = name;
    for (const auto& [k, v] : vars) {
      if (Status s = ApplyVar(n, k, v, nc.source.Where(nc.pointer)); !s.ok()) return s;
    }
    if (!nv.is_null() && !nv.is_object()) return nc.Error("must be a mapping");
    if (nv.is_object()) {
      for (const auto& [k, v] : nv.items()) {
        FieldContext fc = nc.Child(k);
        if (k == "host") {
          if (!v.is_string()) return fc.Error("must be a string");
          n.host = v.get<std::string>();
        } else if (k == "port") {
          if (!v.is_number_integer() || v.get<int>() < 1 || v.get<int>() > 65535) {
            return fc.Error("must be a port number 1..65535");
          }
          n.port = v.get<int>();
        } else if (k == "user") {
          n.user = AsString(v);
        } else if (k == "roles") {
          if (Status s = ApplyRoles(n, v, fc.source.Where(fc.pointer)); !s.ok()) return s;
        } else if (k == "target") {
          n.writes_to = AsString(v);
        } else if (k == "vars") {
          if (!v.is_object()) return fc.Error("must be a mapping");
          for (const auto& [vk, vv] : v.items()) {
            if (Status s = ApplyVar(n, vk, AsString(vv), fc.source.Where(fc.pointer)); !s.ok()) {
              return s;
            }
          }
        } else {
          return fc.Error("unknown field (a node has host, port, user, roles, target, vars)");
        }
      }
    }
    out->nodes.push_back(std::move(n));
  }
  return Status::Ok();
}

Result<Inventory> LoadAnsibleInventory(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("inventory " + path + ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  std::size_t first = text.find_first_not_of(" \t\r\n");
  bool ini = first != std::string::npos && text[first] == '[';
  if (!ini) {
    // YAML unless it looks like INI host lines (no "key:" mapping at the top).
    Result<PositionedJson> doc = ParseYaml(text, path);
    if (doc.ok() && doc->doc().is_object()) {
      Inventory inv;
      inv.source = path;
      std::map<std::string, std::size_t> index;
      for (const auto& [name, group] : doc->doc().items()) {
        if (Status s = WalkYamlGroup(group, doc.value(), "/" + name, {}, &inv, &index); !s.ok()) {
          return s;
        }
      }
      if (inv.nodes.empty()) return Status::InvalidArgument(path + ": no hosts in the inventory");
      return inv;
    }
  }
  return ParseIni(text, path);
}

Status FinishInventory(Inventory* inv) {
  std::set<std::string> names;
  for (auto& n : inv->nodes) {
    // A node's name names its files in the run directory (samples, drift) and its lease: a `/`
    // would put them elsewhere, a control byte would reach a terminal.
    bool safe = !n.name.empty() && n.name.size() <= 253 && n.name[0] != '.' && n.name[0] != '-';
    for (char c : n.name) {
      safe = safe && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' ||
                      c == ':' || c == '@');
    }
    if (!safe) {
      return Status::InvalidArgument(inv->source + ": node name '" + SafeText(n.name) +
                                     "': may hold only letters, digits and . _ - : @ (not first: . -), "
                                     "at most 253 (it names the node's files in the run directory)");
    }
    if (!names.insert(n.name).second) {
      return Status::InvalidArgument(inv->source + ": node '" + n.name + "' appears twice");
    }
    if (n.host.empty()) n.host = n.name;
    if (n.port < 1 || n.port > 65535) {
      return Status::InvalidArgument(inv->source + ": node '" + n.name + "': bad port");
    }
    if (n.writes_to.empty()) n.writes_to = n.name;
  }
  for (const auto& n : inv->nodes) {
    if (n.client && inv->Find(n.writes_to) == nullptr) {
      return Status::InvalidArgument(inv->source + ": node '" + n.name + "' writes to target '" +
                                     n.writes_to + "', which is not in the inventory");
    }
  }
  if (inv->Targets().empty()) {
    return Status::InvalidArgument(inv->source + ": no node has the target role");
  }
  return Status::Ok();
}

}  // namespace fwcanary::scenario
