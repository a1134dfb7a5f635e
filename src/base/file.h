// Reading a whole file (configuration, keys, secrets, tokens), one way everywhere; and
// replacing one so that a reader never sees half of it.
//   auto text = read_file("jotgate.yaml");   // Result<std::string>
//   if (!text) std::cerr << text.error().detail;  // "No such file or directory"
//   auto saved = replace_file(path, text);      // a temporary beside it, renamed over it
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace jotgate {

// The bytes of the file at `path`; else kFileUnreadable with the system's reason as the detail
// (a directory is "Is a directory"). Callers add the path and what the file was for.
Result<std::string> read_file(const std::string& path);

// Writes `text` to a temporary file next to `path` (mode `mode` whatever the umask) and renames
// it over `path`. Errors are kFileUnwritable with the path and the system's reason.
Result<void> replace_file(const std::string& path, std::string_view text, unsigned mode = 0600);

}  // namespace jotgate
