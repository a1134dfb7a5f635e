// SavedKeys: the last good JWKS of a key source, kept in data_dir so that a gateway restarted
// during a provider outage verifies tokens at once. One file per source:
// <data_dir>/jwks/<hex SHA-256 of the configured JWKS URI or issuer>.json, mode 0600, replaced
// atomically; it holds {"source", "jwks_uri", "fetched_at", "document"}.
//   SavedKeys saved(data_dir, "https://idp.example/keys");
//   saved.write({"https://idp.example/keys", body, now});
//   if (auto last = saved.read()) use(last->document, last->fetched_at);
#pragma once

#include <optional>
#include <string>

#include "base/clock.h"
#include "base/result.h"

namespace jotgate::jwks {

struct SavedDocument {
  std::string jwks_uri;  // where it was fetched from
  std::string document;  // the JWKS as served
  UnixSeconds fetched_at = 0;
};

class SavedKeys {
 public:
  // `source`: the configured JWKS URI, or the issuer with discovery. An empty data_dir saves
  // nothing.
  SavedKeys(const std::string& data_dir, std::string source);

  const std::string& path() const { return path_; }
  // nullopt when there is no file (or no data_dir); an error when it cannot be used.
  std::optional<Result<SavedDocument>> read() const;
  Result<void> write(const SavedDocument& saved) const;

 private:
  std::string source_;
  std::string path_;  // "" without data_dir
};

}  // namespace jotgate::jwks
