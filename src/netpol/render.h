#pragma once
// Rendering a Ruleset (ruleset.h) as `nft -f -` input. Every script is one atomic transaction:
// either the whole table is replaced (first sync, or when policies changed the chains), or only
// set elements are added and deleted (pods came, went or changed labels).
//
// Thread-safety: pure functions.
#include <string>

#include "netpol/ruleset.h"

namespace berth::netpol {

inline constexpr const char* kTable = "berth-netpol";  // in the inet family

// Replaces the table: creates it if missing, deletes it and declares it anew, in one transaction.
std::string fullScript(const Ruleset& rs);
// Only element changes from `before` to `after`; requires before.sameStructure(after). Empty
// when nothing changed.
std::string elementScript(const Ruleset& before, const Ruleset& after);
// Removes the table (nothing enforced any more).
std::string deleteScript();

}  // namespace berth::netpol
