// FileWatch: notices that one of a set of files changed (written, replaced by a rename, created
// or removed), by comparing what stat() says between two looks. Polling rather than inotify: it
// also sees a file replaced through a symbolic link swap (Kubernetes ConfigMaps) and files on
// network file systems.
//   FileWatch watch({"/etc/jotgate/jotgate.yaml", "/etc/jotgate/idp.pem"});
//   if (watch.changed()) reload();          // then watch = FileWatch(new_paths)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace jotgate::gateway {

class FileWatch {
 public:
  FileWatch() = default;
  explicit FileWatch(std::vector<std::string> paths);
  // True when some file differs from the last look (which this look becomes).
  bool changed();
  const std::vector<std::string>& paths() const { return paths_; }

 private:
  struct Seen {
    bool exists = false;
    std::uint64_t device = 0;
    std::uint64_t inode = 0;
    std::int64_t size = 0;
    std::int64_t modified_ns = 0;
    bool operator==(const Seen&) const = default;
  };
  static Seen look(const std::string& path);

  std::vector<std::string> paths_;
  std::vector<Seen> seen_;
};

}  // namespace jotgate::gateway
