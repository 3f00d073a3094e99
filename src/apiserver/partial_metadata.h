#pragma once
// PartialObjectMetadata responses: `Accept: ...;as=PartialObjectMetadata[List];g=meta.k8s.io;
// v=v1` asks for objects reduced to their metadata. client-go's metadata client sends it for get,
// list and watch of any resource, custom resources included (the garbage collector, the
// namespace controller and metadata informers read only ownerReferences, finalizers, labels).
// Mirrors upstream's asPartialObjectMetadata[List] (apiserver handlers/response.go): the object
// form for one object or each watch event, the list form for a list; the other combination is
// 406 NotAcceptable; a Status passes through untouched.
//
// Thread-safety: stateless free functions.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <string>
#include <string_view>

#include "apiserver/negotiation.h"
#include "core/result.h"

namespace berth::apiserver {

// {"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/<version>","metadata":<obj's>}
boost::json::object partialObjectMetadata(const boost::json::object& obj,
                                          std::string_view version = "v1");

// Appends the PartialObjectMetadata of one serialized object (JSON text) to `out`; false (and
// nothing appended) if the text is not a JSON object. For building lists item by item.
bool appendPartialObjectMetadata(std::string_view objectJson, std::string_view version,
                                 std::string& out);

// A JSON response body (an object, a list, or a Status) in the form `media.partial` asks for,
// as JSON text; the body unchanged when media asks for no PartialObjectMetadata.
core::Result<std::string> toPartialMetadata(const OutputMedia& media, std::string body);

}  // namespace berth::apiserver
