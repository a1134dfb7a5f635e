#include "base/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace jotgate {

namespace {

Error unreadable(int error_number) {
  return make_error(Reason::kFileUnreadable, std::strerror(error_number));
}

}  // namespace

Result<std::string> read_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return unreadable(errno);
  std::string text;
  struct stat status {};
  int error_number = 0;
  if (::fstat(fd, &status) != 0) {
    error_number = errno;
  } else if (S_ISDIR(status.st_mode)) {
    error_number = EISDIR;
  } else {
    // st_size is a hint only (files in /proc say 0): read until the end.
    text.reserve(static_cast<std::size_t>(status.st_size));
    char buffer[16384];
    for (;;) {
      const ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n > 0) {
        text.append(buffer, static_cast<std::size_t>(n));
      } else if (n == 0) {
        break;
      } else if (errno != EINTR) {
        error_number = errno;
        break;
      }
    }
  }
  ::close(fd);
  if (error_number != 0) return unreadable(error_number);
  return text;
}

}  // namespace jotgate
