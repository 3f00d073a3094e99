#pragma once
// The PriorityClasses every cluster has (upstream's SystemPriorityClasses), which the server
// creates on start when missing; the Priority plugin resolves pods' classes against them.
#include <boost/json/object.hpp>

#include <vector>

namespace berth::apiserver::admission {

std::vector<boost::json::object> builtinPriorityClasses();

}  // namespace berth::apiserver::admission
