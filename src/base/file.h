// Reading a whole file (configuration, keys, secrets, tokens), one way everywhere.
//   auto text = read_file("jotgate.yaml");   // Result<std::string>
//   if (!text) std::cerr << text.error().detail;  // "No such file or directory"
#pragma once

#include <string>

#include "base/result.h"

namespace jotgate {

// The bytes of the file at `path`; else kFileUnreadable with the system's reason as the detail
// (a directory is "Is a directory"). Callers add the path and what the file was for.
Result<std::string> read_file(const std::string& path);

}  // namespace jotgate
