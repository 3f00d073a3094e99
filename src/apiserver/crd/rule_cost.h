#pragma once
// Static cost estimation of CRD validation rules, after apiextensions-apiserver's use of cel-go's
// cost estimator: a rule's worst-case cost follows from the schema's bounds (maxLength,
// maxItems, maxProperties; unbounded strings and lists are sized by what fits in one 3 MiB
// request, as upstream's estimates), and is multiplied by how many times the rule can run (the
// product of the list and map sizes above its node). Rules over StaticEstimatedCostLimit, and
// CRDs whose rules total over StaticEstimatedCRDCostLimit, are refused with upstream's messages.
// The estimate is this server's own model of cel-go's (string work at a tenth per byte,
// comprehensions at their range size times their body), so borderline rules may fall either
// side of upstream's line; clearly unbounded ones (a nested loop over unbounded lists) fail
// here as they do upstream.
//
// Thread-safety: pure functions.
#include <cstdint>
#include <string>

#include "apiserver/crd/schema.h"
#include "cel/ast.h"

namespace berth::apiserver::crd {

constexpr uint64_t kStaticEstimatedCostLimit = 10'000'000;
constexpr uint64_t kStaticEstimatedCrdCostLimit = 100'000'000;

// The worst-case cost of one evaluation of `rule` at a node of schema `node`.
uint64_t estimateRuleCost(const cel::Expr& rule, const Schema& node);

// How many values a child of a list (or map) of schema `parent` can have, bounded by maxItems
// (maxProperties) or else by the request size.
uint64_t maxChildren(const Schema& parent);

// Multiplication that saturates instead of overflowing.
uint64_t saturatingMul(uint64_t a, uint64_t b);

// upstream's getCostErrorMessage: "<what> exceeds budget by factor of 2.5x (try ...)".
std::string costErrorMessage(const std::string& what, uint64_t cost, uint64_t limit);

}  // namespace berth::apiserver::crd
