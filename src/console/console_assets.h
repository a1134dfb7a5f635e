// The file table of the console: a path under /console/ to the embedded file, its Content-Type
// (from its extension) and ETag. Only files compiled in are found; anything else is nullptr.
//   const Asset* page = find_asset("index.html");
//   if (const Asset* script = find_asset("app.js")) answer(script->content_type, script->bytes);
#pragma once

#include <string_view>

namespace jotgate::console {

struct Asset {
  std::string_view path;
  std::string_view content_type;  // "text/javascript; charset=utf-8", ...
  std::string_view bytes;
  std::string_view etag;
};

// The embedded file at `path` (relative to the assets folder, no leading slash), or nullptr.
const Asset* find_asset(std::string_view path);

// The Content-Type served for a file name, by its extension; application/octet-stream for an
// unknown one.
std::string_view content_type_for(std::string_view path);

}  // namespace jotgate::console
