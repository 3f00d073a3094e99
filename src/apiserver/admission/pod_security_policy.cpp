#include "apiserver/admission/pod_security_policy.h"

#include <algorithm>
#include <functional>
#include <set>

#include "apiserver/admission/json_util.h"

namespace berth::apiserver::admission::podsecurity {

namespace json = boost::json;

namespace {

using Strings = std::vector<std::string>;
using SortedSet = std::set<std::string>;  // upstream's sets.NewString(...).List(): sorted

Strings list(const SortedSet& s) { return Strings(s.begin(), s.end()); }

std::string join(const Strings& items, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    out += items[i];
  }
  return out;
}

// "container \"a\"" / "containers \"a\", \"b\""
std::string containersPhrase(const Strings& names) {
  return pluralize("container", "containers", names.size()) + " " + joinQuote(names);
}

// Init containers, containers, then ephemeral containers, as upstream's visitContainers.
void visitContainers(const json::object& spec, const std::function<void(const json::object&)>& f) {
  for (const char* key : {"initContainers", "containers", "ephemeralContainers"}) {
    if (const auto* arr = arrayField(spec, key)) {
      for (const auto& c : *arr)
        if (c.is_object()) f(c.as_object());
    }
  }
}

const json::object* securityContext(const json::object& o) {
  return objectField(o, "securityContext");
}

const json::object* podSecurityContext(const json::object& spec) { return securityContext(spec); }

// A field of a container's securityContext (or null).
const json::value* scField(const json::object& container, std::string_view key) {
  const auto* sc = securityContext(container);
  return sc ? sc->if_contains(key) : nullptr;
}

using CheckFn = std::optional<CheckResult> (*)(const json::object& meta, const json::object& spec,
                                               int minor);

struct Check {
  const char* id;
  Level level;
  int minVersion;               // first policy version the check applies to
  const char* overriddenBy;     // a restricted check that replaces this baseline one, or null
  CheckFn fn;
};

// ---- baseline --------------------------------------------------------------------------------

bool allowedAppArmor(std::string_view profile) {
  return profile.empty() || profile == "runtime/default" || profile.substr(0, 10) == "localhost/";
}

std::optional<CheckResult> appArmorProfile(const json::object& meta, const json::object& spec,
                                           int) {
  Strings bad;
  if (const auto* ann = objectField(meta, "annotations")) {
    static constexpr std::string_view kPrefix = "container.apparmor.security.beta.kubernetes.io/";
    for (const auto& [k, v] : *ann) {
      std::string_view key = k;
      if (key.substr(0, kPrefix.size()) == kPrefix && v.is_string() &&
          !allowedAppArmor(v.as_string())) {
        bad.push_back(std::string(key) + "=" + goQuote(std::string_view(v.as_string())));
      }
    }
  }
  auto fieldBad = [&](const json::object* sc, const std::string& who) {
    const auto* p = sc ? objectField(*sc, "appArmorProfile") : nullptr;
    if (p && stringField(*p, "type") == "Unconfined")
      bad.push_back(who + " securityContext.appArmorProfile.type=\"Unconfined\"");
  };
  fieldBad(podSecurityContext(spec), "pod");
  visitContainers(spec, [&](const json::object& c) {
    fieldBad(securityContext(c), "container " + goQuote(stringField(c, "name")));
  });
  if (bad.empty()) return std::nullopt;
  std::sort(bad.begin(), bad.end());
  return CheckResult{pluralize("forbidden AppArmor profile", "forbidden AppArmor profiles", bad.size()),
                     join(bad, ", ")};
}

const SortedSet kBaselineCapabilities = {"AUDIT_WRITE", "CHOWN",  "DAC_OVERRIDE",    "FOWNER",
                                         "FSETID",      "KILL",   "MKNOD",           "NET_BIND_SERVICE",
                                         "SETFCAP",     "SETGID", "SETPCAP",         "SETUID",
                                         "SYS_CHROOT"};

const json::array* capabilityList(const json::object& c, std::string_view which) {
  const auto* sc = securityContext(c);
  const auto* caps = sc ? objectField(*sc, "capabilities") : nullptr;
  return caps ? arrayField(*caps, which) : nullptr;
}

std::optional<CheckResult> capabilitiesBaseline(const json::object&, const json::object& spec,
                                                int) {
  Strings badContainers;
  SortedSet caps;
  visitContainers(spec, [&](const json::object& c) {
    bool bad = false;
    if (const auto* add = capabilityList(c, "add")) {
      for (const auto& v : *add) {
        if (v.is_string() && !kBaselineCapabilities.count(std::string(v.as_string()))) {
          bad = true;
          caps.insert(std::string(v.as_string()));
        }
      }
    }
    if (bad) badContainers.push_back(stringField(c, "name"));
  });
  if (badContainers.empty()) return std::nullopt;
  return CheckResult{"non-default capabilities",
                     containersPhrase(badContainers) + " must not include " + joinQuote(list(caps)) +
                         " in securityContext.capabilities.add"};
}

std::optional<CheckResult> hostNamespaces(const json::object&, const json::object& spec, int) {
  Strings set;
  for (const char* f : {"hostNetwork", "hostPID", "hostIPC"}) {
    if (boolField(spec, f).value_or(false)) set.push_back(std::string(f) + "=true");
  }
  if (set.empty()) return std::nullopt;
  return CheckResult{"host namespaces", join(set, ", ")};
}

std::optional<CheckResult> hostPathVolumes(const json::object&, const json::object& spec, int) {
  Strings names;
  if (const auto* vols = arrayField(spec, "volumes")) {
    for (const auto& v : *vols) {
      if (v.is_object() && objectField(v.as_object(), "hostPath"))
        names.push_back(stringField(v.as_object(), "name"));
    }
  }
  if (names.empty()) return std::nullopt;
  return CheckResult{"hostPath volumes",
                     pluralize("volume", "volumes", names.size()) + " " + joinQuote(names)};
}

std::optional<CheckResult> hostPorts(const json::object&, const json::object& spec, int) {
  Strings badContainers;
  SortedSet ports;
  visitContainers(spec, [&](const json::object& c) {
    bool bad = false;
    if (const auto* ps = arrayField(c, "ports")) {
      for (const auto& p : *ps) {
        auto hp = p.is_object() ? intField(p.as_object(), "hostPort") : std::nullopt;
        if (hp && *hp != 0) {
          bad = true;
          ports.insert(std::to_string(*hp));
        }
      }
    }
    if (bad) badContainers.push_back(stringField(c, "name"));
  });
  if (badContainers.empty()) return std::nullopt;
  return CheckResult{"hostPort", containersPhrase(badContainers) + " " +
                                     pluralize("uses", "use", badContainers.size()) + " " +
                                     pluralize("hostPort", "hostPorts", ports.size()) + " " +
                                     join(list(ports), ", ")};
}

std::optional<CheckResult> privileged(const json::object&, const json::object& spec, int) {
  Strings bad;
  visitContainers(spec, [&](const json::object& c) {
    const auto* v = scField(c, "privileged");
    if (v && v->is_bool() && v->as_bool()) bad.push_back(stringField(c, "name"));
  });
  if (bad.empty()) return std::nullopt;
  return CheckResult{"privileged",
                     containersPhrase(bad) + " must not set securityContext.privileged=true"};
}

std::optional<CheckResult> procMount(const json::object&, const json::object& spec, int) {
  Strings bad;
  SortedSet types;
  visitContainers(spec, [&](const json::object& c) {
    const auto* v = scField(c, "procMount");
    if (v && v->is_string() && v->as_string() != "Default") {
      bad.push_back(stringField(c, "name"));
      types.insert(std::string(v->as_string()));
    }
  });
  if (bad.empty()) return std::nullopt;
  return CheckResult{"procMount", containersPhrase(bad) + " must not set securityContext.procMount to " +
                                      joinQuote(list(types))};
}

std::optional<CheckResult> seLinuxOptions(const json::object&, const json::object& spec, int) {
  static const SortedSet kAllowedTypes = {"", "container_t", "container_init_t", "container_kvm_t"};
  Strings badSetters;
  SortedSet badTypes;
  bool setUser = false, setRole = false;
  auto valid = [&](const json::object& opts) {
    bool ok = true;
    std::string type = stringField(opts, "type");
    if (!kAllowedTypes.count(type)) {
      ok = false;
      badTypes.insert(type);
    }
    if (!stringField(opts, "user").empty()) ok = false, setUser = true;
    if (!stringField(opts, "role").empty()) ok = false, setRole = true;
    return ok;
  };
  const auto* psc = podSecurityContext(spec);
  if (const auto* o = psc ? objectField(*psc, "seLinuxOptions") : nullptr; o && !valid(*o))
    badSetters.push_back("pod");
  Strings badContainers;
  visitContainers(spec, [&](const json::object& c) {
    const auto* sc = securityContext(c);
    if (const auto* o = sc ? objectField(*sc, "seLinuxOptions") : nullptr; o && !valid(*o))
      badContainers.push_back(stringField(c, "name"));
  });
  if (!badContainers.empty()) badSetters.push_back(containersPhrase(badContainers));
  if (badSetters.empty()) return std::nullopt;
  // As upstream: user and role are only named next to a bad type.
  Strings badData;
  if (!badTypes.empty()) {
    badData.push_back(pluralize("type", "types", badTypes.size()) + " " + joinQuote(list(badTypes)));
    if (setUser) badData.push_back("user may not be set");
    if (setRole) badData.push_back("role may not be set");
  }
  return CheckResult{"seLinuxOptions", join(badSetters, " and ") +
                                           " set forbidden securityContext.seLinuxOptions: " +
                                           join(badData, "; ")};
}

bool validSeccomp(std::string_view t) { return t == "Localhost" || t == "RuntimeDefault"; }

const json::object* seccompProfile(const json::object* sc) {
  return sc ? objectField(*sc, "seccompProfile") : nullptr;
}

std::optional<CheckResult> seccompBaseline(const json::object& meta, const json::object& spec,
                                           int minor) {
  if (minor >= 0 && minor < 19) {
    // Before 1.19 the profile was an annotation.
    SortedSet bad;
    auto validValue = [](std::string_view v) {
      return v == "runtime/default" || v == "docker/default" || v.substr(0, 10) == "localhost/";
    };
    const auto* ann = objectField(meta, "annotations");
    auto checkAnn = [&](const std::string& key) {
      if (!ann) return;
      std::string v = stringField(*ann, key);
      if (ann->contains(key) && !validValue(v)) bad.insert(key + "=" + goQuote(v));
    };
    checkAnn("seccomp.security.alpha.kubernetes.io/pod");
    visitContainers(spec, [&](const json::object& c) {
      checkAnn("container.seccomp.security.alpha.kubernetes.io/" + stringField(c, "name"));
    });
    if (bad.empty()) return std::nullopt;
    return CheckResult{"seccompProfile", "forbidden " +
                                             pluralize("annotation", "annotations", bad.size()) +
                                             " " + join(list(bad), ", ")};
  }
  Strings badSetters;
  SortedSet badValues;
  if (const auto* p = seccompProfile(podSecurityContext(spec))) {
    if (!validSeccomp(stringField(*p, "type"))) {
      badSetters.push_back("pod");
      badValues.insert(stringField(*p, "type"));
    }
  }
  Strings bad;
  visitContainers(spec, [&](const json::object& c) {
    if (const auto* p = seccompProfile(securityContext(c)); p && !validSeccomp(stringField(*p, "type"))) {
      bad.push_back(stringField(c, "name"));
      badValues.insert(stringField(*p, "type"));
    }
  });
  if (!bad.empty()) badSetters.push_back(containersPhrase(bad));
  if (badSetters.empty()) return std::nullopt;
  return CheckResult{"seccompProfile", join(badSetters, " and ") +
                                           " must not set securityContext.seccompProfile.type to " +
                                           joinQuote(list(badValues))};
}

std::optional<CheckResult> sysctls(const json::object&, const json::object& spec, int minor) {
  SortedSet allowed = {"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range",
                       "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range",
                       "net.ipv4.ip_unprivileged_port_start"};
  if (minor < 0 || minor >= 27) allowed.insert("net.ipv4.ip_local_reserved_ports");
  if (minor < 0 || minor >= 29) {
    for (const char* s : {"net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout",
                          "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes"})
      allowed.insert(s);
  }
  Strings bad;
  const auto* psc = podSecurityContext(spec);
  if (const auto* arr = psc ? arrayField(*psc, "sysctls") : nullptr) {
    for (const auto& s : *arr) {
      std::string name = s.is_object() ? stringField(s.as_object(), "name") : "";
      if (!allowed.count(name)) bad.push_back(name);
    }
  }
  if (bad.empty()) return std::nullopt;
  return CheckResult{"forbidden sysctls", join(bad, ", ")};
}

bool hostProcessSet(const json::object* sc) {
  const auto* w = sc ? objectField(*sc, "windowsOptions") : nullptr;
  return w && boolField(*w, "hostProcess").value_or(false);
}

std::optional<CheckResult> windowsHostProcess(const json::object&, const json::object& spec, int) {
  Strings setters;
  if (hostProcessSet(podSecurityContext(spec))) setters.push_back("pod");
  Strings bad;
  visitContainers(spec, [&](const json::object& c) {
    if (hostProcessSet(securityContext(c))) bad.push_back(stringField(c, "name"));
  });
  if (!bad.empty()) setters.push_back(containersPhrase(bad));
  if (setters.empty()) return std::nullopt;
  return CheckResult{"hostProcess", join(setters, " and ") +
                                        " must not set securityContext.windowsOptions.hostProcess=true"};
}

// ---- restricted ------------------------------------------------------------------------------

std::optional<CheckResult> allowPrivilegeEscalation(const json::object&, const json::object& spec,
                                                    int) {
  Strings bad;
  visitContainers(spec, [&](const json::object& c) {
    const auto* v = scField(c, "allowPrivilegeEscalation");
    if (!v || !v->is_bool() || v->as_bool()) bad.push_back(stringField(c, "name"));
  });
  if (bad.empty()) return std::nullopt;
  return CheckResult{"allowPrivilegeEscalation != false",
                     containersPhrase(bad) + " must set securityContext.allowPrivilegeEscalation=false"};
}

std::optional<CheckResult> capabilitiesRestricted(const json::object&, const json::object& spec,
                                                  int) {
  Strings missingDrop, adding;
  SortedSet forbiddenCaps;
  visitContainers(spec, [&](const json::object& c) {
    std::string name = stringField(c, "name");
    const auto* sc = securityContext(c);
    if (!sc || !objectField(*sc, "capabilities")) {
      missingDrop.push_back(name);
      return;
    }
    bool droppedAll = false;
    if (const auto* drop = capabilityList(c, "drop")) {
      for (const auto& v : *drop) droppedAll = droppedAll || (v.is_string() && v.as_string() == "ALL");
    }
    if (!droppedAll) missingDrop.push_back(name);
    bool bad = false;
    if (const auto* add = capabilityList(c, "add")) {
      for (const auto& v : *add) {
        if (v.is_string() && v.as_string() != "NET_BIND_SERVICE") {
          bad = true;
          forbiddenCaps.insert(std::string(v.as_string()));
        }
      }
    }
    if (bad) adding.push_back(name);
  });
  Strings details;
  if (!missingDrop.empty())
    details.push_back(containersPhrase(missingDrop) +
                      " must set securityContext.capabilities.drop=[\"ALL\"]");
  if (!adding.empty())
    details.push_back(containersPhrase(adding) + " must not include " +
                      joinQuote(list(forbiddenCaps)) + " in securityContext.capabilities.add");
  if (details.empty()) return std::nullopt;
  return CheckResult{"unrestricted capabilities", join(details, "; ")};
}

std::optional<CheckResult> restrictedVolumes(const json::object&, const json::object& spec, int) {
  static const SortedSet kAllowed = {"configMap", "csi",    "downwardAPI", "emptyDir",
                                     "ephemeral", "persistentVolumeClaim", "projected", "secret"};
  Strings badVolumes;
  SortedSet badTypes;
  if (const auto* vols = arrayField(spec, "volumes")) {
    for (const auto& v : *vols) {
      if (!v.is_object()) continue;
      for (const auto& [k, val] : v.as_object()) {
        if (k == "name" || kAllowed.count(std::string(k))) continue;
        badVolumes.push_back(stringField(v.as_object(), "name"));
        badTypes.insert(std::string(k));
        break;
      }
    }
  }
  if (badVolumes.empty()) return std::nullopt;
  return CheckResult{"restricted volume types",
                     pluralize("volume", "volumes", badVolumes.size()) + " " +
                         joinQuote(badVolumes) + " " + pluralize("uses", "use", badVolumes.size()) +
                         " " +
                         pluralize("restricted volume type", "restricted volume types",
                                   badTypes.size()) +
                         " " + joinQuote(list(badTypes))};
}

// runAsNonRoot and seccompProfile share a shape: the pod's setting covers containers that do not
// set their own; explicit bad values and implicitly uncovered containers get different texts.
std::optional<CheckResult> runAsNonRoot(const json::object&, const json::object& spec, int) {
  Strings badSetters, explicitBad, implicitBad;
  bool podSet = false;
  const auto* psc = podSecurityContext(spec);
  if (auto v = psc ? boolField(*psc, "runAsNonRoot") : std::nullopt) {
    if (!*v) badSetters.push_back("pod");
    else podSet = true;
  }
  visitContainers(spec, [&](const json::object& c) {
    const auto* sc = securityContext(c);
    if (auto v = sc ? boolField(*sc, "runAsNonRoot") : std::nullopt) {
      if (!*v) explicitBad.push_back(stringField(c, "name"));
    } else if (!podSet) {
      implicitBad.push_back(stringField(c, "name"));
    }
  });
  if (!explicitBad.empty()) badSetters.push_back(containersPhrase(explicitBad));
  if (!badSetters.empty())
    return CheckResult{"runAsNonRoot != true",
                       join(badSetters, " and ") + " must not set securityContext.runAsNonRoot=false"};
  if (!implicitBad.empty())
    return CheckResult{"runAsNonRoot != true", "pod or " + containersPhrase(implicitBad) +
                                                   " must set securityContext.runAsNonRoot=true"};
  return std::nullopt;
}

std::optional<CheckResult> runAsUser(const json::object&, const json::object& spec, int) {
  Strings badSetters, bad;
  const auto* psc = podSecurityContext(spec);
  if (auto v = psc ? intField(*psc, "runAsUser") : std::nullopt; v && *v == 0)
    badSetters.push_back("pod");
  visitContainers(spec, [&](const json::object& c) {
    const auto* sc = securityContext(c);
    if (auto v = sc ? intField(*sc, "runAsUser") : std::nullopt; v && *v == 0)
      bad.push_back(stringField(c, "name"));
  });
  if (!bad.empty()) badSetters.push_back(containersPhrase(bad));
  if (badSetters.empty()) return std::nullopt;
  return CheckResult{"runAsUser=0", join(badSetters, " and ") + " must not set runAsUser=0"};
}

std::optional<CheckResult> seccompRestricted(const json::object&, const json::object& spec, int) {
  Strings badSetters, explicitBad, implicitBad;
  SortedSet badValues;
  bool podSet = false;
  if (const auto* p = seccompProfile(podSecurityContext(spec))) {
    if (!validSeccomp(stringField(*p, "type"))) {
      badSetters.push_back("pod");
      badValues.insert(stringField(*p, "type"));
    } else {
      podSet = true;
    }
  }
  visitContainers(spec, [&](const json::object& c) {
    if (const auto* p = seccompProfile(securityContext(c))) {
      if (!validSeccomp(stringField(*p, "type"))) {
        explicitBad.push_back(stringField(c, "name"));
        badValues.insert(stringField(*p, "type"));
      }
    } else if (!podSet) {
      implicitBad.push_back(stringField(c, "name"));
    }
  });
  if (!explicitBad.empty()) badSetters.push_back(containersPhrase(explicitBad));
  if (!badSetters.empty())
    return CheckResult{"seccompProfile", join(badSetters, " and ") +
                                             " must not set securityContext.seccompProfile.type to " +
                                             joinQuote(list(badValues))};
  if (!implicitBad.empty())
    return CheckResult{"seccompProfile",
                       "pod or " + containersPhrase(implicitBad) +
                           " must set securityContext.seccompProfile.type to \"RuntimeDefault\" or "
                           "\"Localhost\""};
  return std::nullopt;
}

// Upstream registers its checks in file-name order; results keep that order, baseline first.
const Check kChecks[] = {
    {"allowPrivilegeEscalation", Level::kRestricted, 8, nullptr, allowPrivilegeEscalation},
    {"appArmorProfile", Level::kBaseline, 0, nullptr, appArmorProfile},
    {"capabilities_baseline", Level::kBaseline, 0, "capabilities_restricted", capabilitiesBaseline},
    {"capabilities_restricted", Level::kRestricted, 22, nullptr, capabilitiesRestricted},
    {"hostNamespaces", Level::kBaseline, 0, nullptr, hostNamespaces},
    {"hostPathVolumes", Level::kBaseline, 0, "restrictedVolumes", hostPathVolumes},
    {"hostPorts", Level::kBaseline, 0, nullptr, hostPorts},
    {"privileged", Level::kBaseline, 0, nullptr, privileged},
    {"procMount", Level::kBaseline, 0, nullptr, procMount},
    {"restrictedVolumes", Level::kRestricted, 0, nullptr, restrictedVolumes},
    {"runAsNonRoot", Level::kRestricted, 0, nullptr, runAsNonRoot},
    {"runAsUser", Level::kRestricted, 23, nullptr, runAsUser},
    {"seLinuxOptions", Level::kBaseline, 0, nullptr, seLinuxOptions},
    {"seccompProfile_baseline", Level::kBaseline, 0, "seccompProfile_restricted", seccompBaseline},
    {"seccompProfile_restricted", Level::kRestricted, 19, nullptr, seccompRestricted},
    {"sysctls", Level::kBaseline, 0, nullptr, sysctls},
    {"windowsHostProcess", Level::kBaseline, 0, nullptr, windowsHostProcess},
};

bool applies(const Check& c, int minor) { return minor < 0 || minor >= c.minVersion; }

bool overridden(const Check& c, int minor) {
  if (!c.overriddenBy) return false;
  for (const auto& r : kChecks) {
    if (std::string_view(r.id) == c.overriddenBy) return applies(r, minor);
  }
  return false;
}

}  // namespace

std::string_view levelName(Level l) {
  switch (l) {
    case Level::kPrivileged:
      return "privileged";
    case Level::kBaseline:
      return "baseline";
    case Level::kRestricted:
      return "restricted";
  }
  return "";
}

std::string LevelVersion::str() const {
  return std::string(levelName(level)) + ":" +
         (minor < 0 ? std::string("latest") : "v1." + std::to_string(minor));
}

std::optional<Level> parseLevel(std::string_view s) {
  if (s == "privileged") return Level::kPrivileged;
  if (s == "baseline") return Level::kBaseline;
  if (s == "restricted") return Level::kRestricted;
  return std::nullopt;
}

std::optional<int> parseVersion(std::string_view s) {
  if (s == "latest") return -1;
  if (s.size() < 4 || s.substr(0, 3) != "v1.") return std::nullopt;
  std::string_view n = s.substr(3);
  if (n.size() > 1 && n[0] == '0') return std::nullopt;
  if (n.size() > 6) return std::nullopt;
  int v = 0;
  for (char ch : n) {
    if (ch < '0' || ch > '9') return std::nullopt;
    v = v * 10 + (ch - '0');
  }
  return v;
}

std::vector<CheckResult> evaluatePod(const LevelVersion& lv, const json::object& meta,
                                     const json::object& spec) {
  std::vector<CheckResult> out;
  if (lv.level == Level::kPrivileged) return out;
  bool restricted = lv.level == Level::kRestricted;
  for (int pass = 0; pass < (restricted ? 2 : 1); ++pass) {
    Level want = pass == 0 ? Level::kBaseline : Level::kRestricted;
    for (const auto& c : kChecks) {
      if (c.level != want || !applies(c, lv.minor)) continue;
      if (restricted && c.level == Level::kBaseline && overridden(c, lv.minor)) continue;
      if (auto r = c.fn(meta, spec, lv.minor)) out.push_back(std::move(*r));
    }
  }
  return out;
}

std::string forbiddenDetail(const std::vector<CheckResult>& failed) {
  std::string out;
  for (size_t i = 0; i < failed.size(); ++i) {
    if (i) out += ", ";
    out += failed[i].reason;
    if (!failed[i].detail.empty()) out += " (" + failed[i].detail + ")";
  }
  return out;
}

std::string forbiddenReasons(const std::vector<CheckResult>& failed) {
  std::string out;
  for (size_t i = 0; i < failed.size(); ++i) {
    if (i) out += ", ";
    out += failed[i].reason;
  }
  return out;
}

}  // namespace berth::apiserver::admission::podsecurity
