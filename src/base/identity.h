// UserIdentity: who a request is for, as the original system names users: directory and id.
//   UserIdentity u{"ACME", "alice"};  u.qualified() -> "ACME\\alice"
#pragma once

#include <string>

namespace jotgate {

struct UserIdentity {
  std::string directory;
  std::string id;

  // "DIRECTORY\\id", the form allocations and messages use.
  std::string qualified() const { return directory + "\\" + id; }
  bool operator==(const UserIdentity&) const = default;
};

}  // namespace jotgate
