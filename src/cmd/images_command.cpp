// `berth images import FILE | ls | pull REF | rm REF`: the node's image store by hand, the same
// store the kubelet uses (<data-dir>/agent/images), as `k3s ctr images` is for k3s.
#include <iomanip>
#include <iostream>

#include "cmd/commands.h"
#include "kubelet/images/local_image_service.h"
#include "kubelet/images/registries_config.h"

namespace berth::cmd {

namespace {

namespace images = kubelet::images;

struct ImagesFlags {
  std::string dataDir = "/var/lib/berth";
  std::string registryConfig;  // default: <data-dir>/registries.yaml
  std::string file, ref;
};

std::unique_ptr<images::LocalImageService> openService(const ImagesFlags& f) {
  auto registries = images::loadRegistriesConfig(
      f.registryConfig.empty() ? f.dataDir + "/registries.yaml" : f.registryConfig);
  if (!registries.ok()) {
    std::cerr << "berth: " << registries.status().message() << "\n";
    return nullptr;
  }
  auto s = images::LocalImageService::open({f.dataDir + "/agent/images", *registries});
  if (!s.ok()) {
    std::cerr << "berth: " << s.status().message() << "\n";
    return nullptr;
  }
  return std::move(*s);
}

std::string shortId(const std::string& id) { return id.substr(7, 12); }

void printImage(const images::Image& image) {
  std::vector<std::string> names = image.repoTags;
  if (names.empty()) names.push_back("<none>");
  for (const auto& n : names)
    std::cout << std::left << std::setw(60) << n << " " << std::setw(14) << shortId(image.id) << " "
              << image.size << "\n";
}

int fail(const core::Status& st) {
  std::cerr << "berth: " << st.reason() << ": " << st.message() << "\n";
  return 1;
}

}  // namespace

void addImagesCommand(CLI::App& app) {
  auto flags = std::make_shared<ImagesFlags>();
  auto* cmd = app.add_subcommand("images", "Manage the node's images (import, ls, pull, rm)");
  cmd->require_subcommand(1);
  cmd->add_option("--data-dir", flags->dataDir, "State directory (as `berth server`'s)")
      ->capture_default_str();
  cmd->add_option("--registry-config", flags->registryConfig,
                  "registries.yaml (default: <data-dir>/registries.yaml)");

  auto* imp = cmd->add_subcommand("import", "Import a docker-save or OCI-layout tar");
  imp->add_option("FILE", flags->file)->required();
  imp->callback([flags] {
    auto s = openService(*flags);
    if (!s) return void(exitCode = 1);
    auto imported = s->importArchive(flags->file);
    if (!imported.ok()) return void(exitCode = fail(imported.status()));
    for (const auto& image : *imported)
      for (const auto& t :
           image.repoTags.empty() ? std::vector<std::string>{image.id} : image.repoTags)
        std::cout << "imported " << t << "\n";
  });

  auto* ls = cmd->add_subcommand("ls", "List images");
  ls->alias("list");
  ls->callback([flags] {
    auto s = openService(*flags);
    if (!s) return void(exitCode = 1);
    std::cout << std::left << std::setw(60) << "REF"
              << " " << std::setw(14) << "IMAGE ID"
              << " SIZE\n";
    for (const auto& image : s->list()) printImage(image);
  });

  auto* pull = cmd->add_subcommand("pull", "Pull an image from its registry (or a mirror)");
  pull->add_option("REF", flags->ref)->required();
  pull->callback([flags] {
    auto s = openService(*flags);
    if (!s) return void(exitCode = 1);
    auto image = s->ensure(flags->ref, images::PullPolicy::kAlways);
    if (!image.ok()) return void(exitCode = fail(image.status()));
    printImage(*image);
  });

  auto* rm = cmd->add_subcommand("rm", "Remove an image (by reference or id)");
  rm->add_option("REF", flags->ref)->required();
  rm->callback([flags] {
    auto s = openService(*flags);
    if (!s) return void(exitCode = 1);
    if (auto st = s->remove(flags->ref); !st.ok()) return void(exitCode = fail(st));
    std::cout << "removed " << flags->ref << "\n";
  });
}

}  // namespace berth::cmd
