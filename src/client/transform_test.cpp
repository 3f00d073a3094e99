// dropUnreadPodFields: removes exactly the listed pod fields, keeps what controllers and the
// scheduler read (claims, container states, readiness, requests, tolerations), and leaves
// anything that is not a pod-shaped object alone.
#include "client/transform.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace berth::client {
namespace {

namespace json = boost::json;

TEST(DropUnreadPodFields, RemovesOnlyTheListedFields) {
  json::value pod = json::parse(R"({"metadata":{"name":"p","labels":{"a":"b"}},
    "spec":{"volumes":[
      {"name":"token","projected":{"sources":[{"serviceAccountToken":{"path":"token"}}],"defaultMode":420}},
      {"name":"cfg","configMap":{"name":"cm","items":[{"key":"k","path":"p"}]}},
      {"name":"sec","secret":{"secretName":"s"}},
      {"name":"info","downwardAPI":{"items":[{"path":"ns"}]}},
      {"name":"data","persistentVolumeClaim":{"claimName":"claim-1"}},
      {"name":"scratch","ephemeral":{"volumeClaimTemplate":{"spec":{"storageClassName":"x"}}}}],
     "initContainers":[{"name":"i","image":"busybox","volumeMounts":[{"name":"cfg","mountPath":"/c"}],
       "terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File"}],
     "containers":[{"name":"c","image":"busybox","resources":{"requests":{"cpu":"10m"}},
       "ports":[{"containerPort":80}],"volumeMounts":[{"name":"token","mountPath":"/t"}],
       "terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File",
       "imagePullPolicy":"Always"}],
     "nodeName":"n1","tolerations":[{"key":"k","operator":"Exists"}],"dnsPolicy":"ClusterFirst",
     "enableServiceLinks":true,"serviceAccountName":"sa","serviceAccount":"sa","securityContext":{},
     "terminationGracePeriodSeconds":30,"priority":0},
    "status":{"phase":"Running","conditions":[{"type":"Ready","status":"True","lastProbeTime":null,
      "lastTransitionTime":"2026-11-30T03:04:06Z"}],
     "containerStatuses":[{"name":"c","state":{"terminated":{"exitCode":1}},"ready":false,
       "restartCount":2,"image":"busybox","imageID":"sim://busybox","containerID":"sim://1",
       "lastState":{},"started":false}],"qosClass":"Burstable"}})");
  dropUnreadPodFields(pod);
  EXPECT_EQ(pod, json::parse(R"({"metadata":{"name":"p","labels":{"a":"b"}},
    "spec":{"volumes":[
      {"name":"token","projected":{}},
      {"name":"cfg","configMap":{}},
      {"name":"sec","secret":{}},
      {"name":"info","downwardAPI":{}},
      {"name":"data","persistentVolumeClaim":{"claimName":"claim-1"}},
      {"name":"scratch","ephemeral":{"volumeClaimTemplate":{"spec":{"storageClassName":"x"}}}}],
     "initContainers":[{"name":"i","image":"busybox"}],
     "containers":[{"name":"c","image":"busybox","resources":{"requests":{"cpu":"10m"}},
       "ports":[{"containerPort":80}]}],
     "nodeName":"n1","tolerations":[{"key":"k","operator":"Exists"}],"serviceAccountName":"sa",
     "priority":0},
    "status":{"phase":"Running","conditions":[{"type":"Ready","status":"True",
      "lastTransitionTime":"2026-11-30T03:04:06Z"}],
     "containerStatuses":[{"name":"c","state":{"terminated":{"exitCode":1}},"ready":false,
       "restartCount":2}],"qosClass":"Burstable"}})"));
}

TEST(DropUnreadPodFields, OddShapesAreLeftAlone) {
  for (const char* text :
       {R"(3)", R"({"spec":3,"status":[]})", R"({"spec":{"volumes":{"a":1},"containers":[1,"x"]}})",
        R"({"status":{"conditions":[null],"containerStatuses":"none"}})"}) {
    json::value v = json::parse(text);
    dropUnreadPodFields(v);
    EXPECT_EQ(v, json::parse(text)) << text;
  }
}

}  // namespace
}  // namespace berth::client
