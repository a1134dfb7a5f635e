#include "base/version.h"

#include "base/git_revision.h"  // generated into the build tree

namespace jotgate {

std::string_view project_version() { return JOTGATE_PROJECT_VERSION; }

std::string_view git_revision() { return JOTGATE_GIT_REVISION; }

std::string_view version_string() {
  static constexpr char kVersion[] = JOTGATE_PROJECT_VERSION " (git " JOTGATE_GIT_REVISION ")";
  return kVersion;
}

}  // namespace jotgate
