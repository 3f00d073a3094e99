#include "netpol/render.h"

#include <algorithm>
#include <iterator>

namespace berth::netpol {

namespace {

std::string join(const std::set<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

}  // namespace

std::string fullScript(const Ruleset& rs) {
  std::string t = std::string("inet ") + kTable;
  std::string s = "table " + t + "\ndelete table " + t + "\ntable " + t + " {\n";
  for (const auto& set : rs.sets) {
    s += "  set " + set.name + " {\n    type " + set.type + "\n";
    if (!set.elements.empty()) s += "    elements = { " + join(set.elements) + " }\n";
    s += "  }\n";
  }
  // IPv6 neighbour discovery between pods on one bridge passes the forward hook too
  // (br_netfilter); without it isolated dual-stack pods could not even resolve each other.
  s += "  chain forward {\n"
       "    type filter hook forward priority filter; policy accept;\n"
       "    ct state established,related accept\n"
       "    icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, "
       "nd-router-advert } accept\n"
       "    jump egress\n"
       "    jump ingress\n"
       "  }\n";
  for (const auto& [name, rules] : {std::pair{"egress", &rs.egress}, {"ingress", &rs.ingress}}) {
    s += std::string("  chain ") + name + " {\n";
    for (const auto& r : *rules) s += "    " + r + "\n";
    s += "  }\n";
  }
  s += "}\n";
  return s;
}

std::string elementScript(const Ruleset& before, const Ruleset& after) {
  std::string s;
  std::string t = std::string("inet ") + kTable + " ";
  for (size_t i = 0; i < after.sets.size() && i < before.sets.size(); ++i) {
    const auto& b = before.sets[i].elements;
    const auto& a = after.sets[i].elements;
    std::set<std::string> gone, added;
    std::set_difference(b.begin(), b.end(), a.begin(), a.end(), std::inserter(gone, gone.end()));
    std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::inserter(added, added.end()));
    if (!gone.empty())
      s += "delete element " + t + after.sets[i].name + " { " + join(gone) + " }\n";
    if (!added.empty()) s += "add element " + t + after.sets[i].name + " { " + join(added) + " }\n";
  }
  return s;
}

std::string deleteScript() {
  std::string t = std::string("inet ") + kTable;
  return "table " + t + "\ndelete table " + t + "\n";
}

}  // namespace berth::netpol
