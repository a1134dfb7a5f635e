#include "base/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

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

Result<void> replace_file(const std::string& path, std::string_view text, unsigned mode) {
  const std::string temporary = path + ".tmp" + std::to_string(::getpid());
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
                        static_cast<mode_t>(mode));
  if (fd < 0) {
    return make_error(Reason::kFileUnwritable, temporary + ": " + std::strerror(errno));
  }
  int error_number = ::fchmod(fd, static_cast<mode_t>(mode)) == 0 ? 0 : errno;
  for (std::size_t done = 0; error_number == 0 && done < text.size();) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
    } else if (errno != EINTR) {
      error_number = errno;
    }
  }
  if (::close(fd) != 0 && error_number == 0) error_number = errno;
  if (error_number == 0 && ::rename(temporary.c_str(), path.c_str()) != 0) error_number = errno;
  if (error_number != 0) {
    ::unlink(temporary.c_str());
    return make_error(Reason::kFileUnwritable, path + ": " + std::strerror(error_number));
  }
  return {};
}

}  // namespace jotgate
