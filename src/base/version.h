// The version jotgate was built as: the project version (CMake's project(VERSION)) and the git
// revision of the checkout it was built from ("unknown" when built outside one).
//   std::cout << "jotgate " << version_string();   // jotgate 0.1.0 (git 6f5a894)
//   metric label: project_version() == "0.1.0", git_revision() == "6f5a894"
// In the jotgate_version library (linked by what prints it), so that a new commit relinks only
// those and not every test.
#pragma once

#include <string_view>

namespace jotgate {

std::string_view project_version();
std::string_view git_revision();
// "0.1.0 (git 6f5a894)": what `jotgate --version` prints after the program's name.
std::string_view version_string();

}  // namespace jotgate
