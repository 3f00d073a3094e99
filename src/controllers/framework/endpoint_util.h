#pragma once
// What the EndpointSlice and Endpoints controllers both decide about a Service and its pods
// (upstream pkg/controller/util/endpoint and pkg/api/v1/pod FindPort): which Services select a
// pod, whether a pod belongs in the endpoints, the port a Service port reaches on a pod, and
// the pod's hostname for the Service.
//
// Thread-safety: stateless functions; PodServiceEnqueuer is safe from any informer thread.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "client/informer.h"
#include "core/labels.h"

namespace berth::controllers {

// The Service's spec.selector as a selector; nullopt when it has none (an empty or absent
// selector means "endpoints are managed by someone else", never "every pod").
std::optional<core::LabelSelector> serviceSelector(const boost::json::value& service);

// Upstream ShouldPodBeInEndpoints: the pod has an IP, is not Succeeded/Failed, and is not being
// deleted unless `includeTerminating`.
bool shouldPodBeInEndpoints(const boost::json::value& pod, bool includeTerminating);

// The pod's IPv4 address (status.podIPs, else status.podIP); empty when it has none.
std::string podIpv4(const boost::json::value& pod);

// The port number a Service port's targetPort reaches on `pod`: a number as is; a name looked
// up among the pod's container ports of the same protocol (upstream podutil.FindPort); nullopt
// when the pod has no such named port.
std::optional<int64_t> findPodPort(const boost::json::value& pod,
                                   const boost::json::value& servicePort);

// The port of an endpoint for one Service port on `pod`: {name, port, protocol[, appProtocol]}
// with the number findPodPort resolves; nullopt when it resolves to none.
std::optional<boost::json::object> endpointPort(const boost::json::value& pod,
                                                const boost::json::value& servicePort);

// {kind: Pod, namespace, name, uid}: an endpoint's targetRef.
boost::json::object podTargetRef(const boost::json::value& pod);

// The handler both endpoint controllers register on the Service informer: every add, update
// and delete enqueues the Service's key.
client::EventHandler serviceKeyHandler(std::function<void(const std::string&)> enqueue);

// Upstream ShouldSetHostname: the pod names a hostname and its subdomain is this Service.
bool shouldSetHostname(const boost::json::value& pod, const boost::json::value& service);

// The newest time any input of a Service's endpoints changed: pod creation, readiness
// transition or deletion, and the Service's creation (the value of
// endpoints.kubernetes.io/last-change-trigger-time, RFC 3339). Empty when none is known.
std::string lastChangeTriggerTime(const boost::json::value& service,
                                  const std::vector<client::ObjectPtr>& pods);

// Enqueues "ns/name" of every Service whose selector matches a pod event's old or new labels;
// the handler both endpoint controllers register on the pod informer.
client::EventHandler podToServicesHandler(const client::SharedInformer& services,
                                          std::function<void(const std::string&)> enqueue);

}  // namespace berth::controllers
