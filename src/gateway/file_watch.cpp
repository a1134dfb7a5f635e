#include "gateway/file_watch.h"

#include <sys/stat.h>

namespace jotgate::gateway {

FileWatch::FileWatch(std::vector<std::string> paths) : paths_(std::move(paths)) {
  for (const auto& path : paths_) seen_.push_back(look(path));
}

FileWatch::Seen FileWatch::look(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return {};  // follows links: a swapped target is seen
  return {true, static_cast<std::uint64_t>(info.st_dev), static_cast<std::uint64_t>(info.st_ino),
          static_cast<std::int64_t>(info.st_size),
          static_cast<std::int64_t>(info.st_mtim.tv_sec) * 1'000'000'000 + info.st_mtim.tv_nsec};
}

bool FileWatch::changed() {
  bool any = false;
  for (std::size_t i = 0; i < paths_.size(); ++i) {
    Seen now = look(paths_[i]);
    if (!(now == seen_[i])) {
      seen_[i] = now;
      any = true;
    }
  }
  return any;
}

}  // namespace jotgate::gateway
