#include "console/console_assets.h"

#include <algorithm>
#include <vector>

#include "console/embedded_files.h"

namespace jotgate::console {

std::string_view content_type_for(std::string_view path) {
  struct Type {
    std::string_view extension;
    std::string_view content_type;
  };
  static constexpr Type kTypes[] = {{".html", "text/html; charset=utf-8"},
                                    {".css", "text/css; charset=utf-8"},
                                    {".js", "text/javascript; charset=utf-8"},
                                    {".svg", "image/svg+xml"},
                                    {".png", "image/png"},
                                    {".json", "application/json"}};
  for (const Type& type : kTypes) {
    if (path.ends_with(type.extension)) return type.content_type;
  }
  return "application/octet-stream";
}

const Asset* find_asset(std::string_view path) {
  // Built once, sorted by path, from the generated file list.
  static const std::vector<Asset> kAssets = [] {
    std::vector<Asset> assets;
    for (const EmbeddedFile& file : embedded_files()) {
      assets.push_back({file.path, content_type_for(file.path), file.bytes, file.etag});
    }
    std::sort(assets.begin(), assets.end(),
              [](const Asset& a, const Asset& b) { return a.path < b.path; });
    return assets;
  }();
  auto found = std::lower_bound(kAssets.begin(), kAssets.end(), path,
                                [](const Asset& a, std::string_view p) { return a.path < p; });
  return found != kAssets.end() && found->path == path ? &*found : nullptr;
}

}  // namespace jotgate::console
