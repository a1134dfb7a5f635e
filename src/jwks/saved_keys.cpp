#include "jwks/saved_keys.h"

#include <filesystem>
#include <system_error>

#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/hex.h"
#include "base/secret.h"

namespace jotgate::jwks {

namespace fs = std::filesystem;

SavedKeys::SavedKeys(const std::string& data_dir, std::string source) : source_(std::move(source)) {
  if (data_dir.empty()) return;
  const Sha256 digest = sha256(source_);
  const std::string name =
      hex_encode(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
  path_ = (fs::path(data_dir) / "jwks" / (name + ".json")).string();
}

std::optional<Result<SavedDocument>> SavedKeys::read() const {
  if (path_.empty()) return std::nullopt;
  std::error_code ec;
  if (!fs::exists(path_, ec)) return std::nullopt;
  auto text = read_file(path_);
  if (!text) return make_error(Reason::kFileUnreadable, path_ + ": " + text.error().detail);
  const auto json = nlohmann::json::parse(*text, nullptr, false);
  const auto string_at = [&](const char* name) -> const nlohmann::json* {
    auto it = json.find(name);
    return it != json.end() && it->is_string() ? &*it : nullptr;
  };
  if (!json.is_object() || !string_at("source") || !string_at("jwks_uri") ||
      !string_at("document") || !json.contains("fetched_at") ||
      !json["fetched_at"].is_number_integer()) {
    return make_error(Reason::kFileUnreadable, path_ + ": not a saved JWKS");
  }
  if (json["source"].get<std::string>() != source_) {
    return make_error(Reason::kFileUnreadable, path_ + ": saved for another source");
  }
  return SavedDocument{json["jwks_uri"].get<std::string>(), json["document"].get<std::string>(),
                       json["fetched_at"].get<UnixSeconds>()};
}

Result<void> SavedKeys::write(const SavedDocument& saved) const {
  if (path_.empty()) return {};
  std::error_code ec;
  fs::create_directories(fs::path(path_).parent_path(), ec);
  if (ec) return make_error(Reason::kFileUnwritable, path_ + ": " + ec.message());
  const nlohmann::json json = {{"source", source_},
                               {"jwks_uri", saved.jwks_uri},
                               {"fetched_at", saved.fetched_at},
                               {"document", saved.document}};
  return replace_file(path_,
                      json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

}  // namespace jotgate::jwks
