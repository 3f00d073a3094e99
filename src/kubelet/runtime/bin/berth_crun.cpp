// `berth-crun ARGS...`: runs `crun ARGS...` in a private mount namespace without the cgroup2
// mount at /sys/fs/cgroup/unified. On a host with the hybrid cgroup layout (v1 controllers plus
// a cgroup2 mount holding only hugetlb, systemd's "hybrid" mode) crun refuses to run ("cgroups
// in hybrid mode not supported"); without that mount it sees a plain cgroup v1 host and places
// the container in the v1 hierarchies at the spec's absolute cgroupsPath, as runc does. The
// agent uses this wrapper in place of the runtime binary for every call (create, start, state,
// kill, exec, delete), so crun always sees the same layout (oci_runtime.h).
//
// The namespace is the wrapper's own (crun runs in it, exec'd, same pid); the container gets a
// mount namespace of its own from crun as always. / is made a recursive slave first, so the
// unmount stays in this namespace while the host's mounts still propagate into it.
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
  (void)argc;
  if (::unshare(CLONE_NEWNS) != 0) {
    std::fprintf(stderr, "berth-crun: unshare(CLONE_NEWNS): %s\n", std::strerror(errno));
    return 125;
  }
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0) {
    std::fprintf(stderr, "berth-crun: make / rslave: %s\n", std::strerror(errno));
    return 125;
  }
  // Not mounted (a pure v1 or v2 host) is fine: crun then sees the host as it is.
  if (::umount2("/sys/fs/cgroup/unified", MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) {
    std::fprintf(stderr, "berth-crun: umount /sys/fs/cgroup/unified: %s\n", std::strerror(errno));
    return 125;
  }
  const char* crun = std::getenv("BERTH_CRUN");  // for tests and unusual installs
  argv[0] = const_cast<char*>(crun && *crun ? crun : "crun");
  ::execvp(argv[0], argv);
  std::fprintf(stderr, "berth-crun: exec %s: %s\n", argv[0], std::strerror(errno));
  return 127;
}
