// The console's files as compiled into the binary (generated from src/console/assets by
// cmake/embed_files.cmake): each file's path under assets/, its bytes and a strong ETag.
//   for (const EmbeddedFile& file : embedded_files()) use(file.path, file.bytes);
#pragma once

#include <span>
#include <string_view>

namespace jotgate::console {

struct EmbeddedFile {
  std::string_view path;   // "index.html", "pages/overview.js"
  std::string_view bytes;  // the file's content
  std::string_view etag;   // "\"<128 bits of its SHA-256 in hex>\"", quotes included
};

std::span<const EmbeddedFile> embedded_files();

}  // namespace jotgate::console
