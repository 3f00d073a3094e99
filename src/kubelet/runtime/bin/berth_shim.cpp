// `berth-shim`: the per-container shim as an executable of its own (kubelet/runtime/shim.h).
// The agent starts one per container, on the pod start path, so it is built from the shim's
// sources only and linked statically: its exec costs a fraction of `berth shim` (the whole
// 70 MB `berth`, its shared libraries and static initialisers).
#include <string>
#include <vector>

#include "kubelet/runtime/shim_args.h"

int main(int argc, char** argv) {
  return berth::kubelet::runtime::shimMain(std::vector<std::string>(argv + 1, argv + argc),
                                           "berth-shim");
}
