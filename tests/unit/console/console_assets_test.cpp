#include "console/console_assets.h"

#include <set>

#include <gtest/gtest.h>

#include "console/embedded_files.h"

namespace jotgate::console {
namespace {

TEST(ConsoleAssets, ThePageAndItsFilesAreCompiledIn) {
  const Asset* page = find_asset("index.html");
  ASSERT_NE(page, nullptr);
  EXPECT_EQ(page->content_type, "text/html; charset=utf-8");
  EXPECT_TRUE(page->bytes.starts_with("<!doctype html>"));
  EXPECT_NE(page->bytes.find(R"(<script type="module" src="assets/app.js">)"), std::string::npos);
  const Asset* script = find_asset("app.js");
  ASSERT_NE(script, nullptr);
  EXPECT_EQ(script->content_type, "text/javascript; charset=utf-8");
  const Asset* style = find_asset("style.css");
  ASSERT_NE(style, nullptr);
  EXPECT_EQ(style->content_type, "text/css; charset=utf-8");
}

TEST(ConsoleAssets, EveryFileHasItsOwnQuotedEtag) {
  std::set<std::string_view> etags;
  for (const EmbeddedFile& file : embedded_files()) {
    ASSERT_EQ(file.etag.size(), 34u) << file.path;
    EXPECT_EQ(file.etag.front(), '"');
    EXPECT_EQ(file.etag.back(), '"');
    EXPECT_TRUE(etags.insert(file.etag).second) << file.path;
    const Asset* asset = find_asset(file.path);
    ASSERT_NE(asset, nullptr) << file.path;
    EXPECT_EQ(asset->bytes, file.bytes);
  }
  EXPECT_GE(etags.size(), 3u);
}

TEST(ConsoleAssets, UnknownPathsAreNotFound) {
  for (std::string_view path :
       {"", "/index.html", "nope.js", "../index.html", "app.js/", "APP.JS"}) {
    EXPECT_EQ(find_asset(path), nullptr) << path;
  }
}

TEST(ConsoleAssets, ContentTypesFollowTheExtension) {
  EXPECT_EQ(content_type_for("pages/overview.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(content_type_for("logo.svg"), "image/svg+xml");
  EXPECT_EQ(content_type_for("README"), "application/octet-stream");
}

}  // namespace
}  // namespace jotgate::console
