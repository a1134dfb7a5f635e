#include "console/request_origin.h"

#include <gtest/gtest.h>

namespace jotgate::console {
namespace {

constexpr std::string_view kHost = "127.0.0.1:4243";

TEST(RequestOrigin, ReadingIsNeverRefused) {
  for (std::string_view method : {"GET", "HEAD", "OPTIONS"}) {
    EXPECT_FALSE(is_cross_site_change({method, kHost, "https://evil.example", "cross-site"}))
        << method;
  }
}

TEST(RequestOrigin, ChangesFromTheListenersOwnOriginOrFromNoBrowserPass) {
  for (std::string_view method : {"POST", "PUT", "DELETE", "PATCH"}) {
    EXPECT_FALSE(is_cross_site_change({method, kHost, std::nullopt, std::nullopt})) << method;
    EXPECT_FALSE(is_cross_site_change({method, kHost, "https://127.0.0.1:4243", "same-origin"}));
    EXPECT_FALSE(is_cross_site_change({method, kHost, "HTTPS://127.0.0.1:4243", "none"}));
    EXPECT_FALSE(is_cross_site_change({method, kHost, std::nullopt, "same-origin"}));
  }
}

TEST(RequestOrigin, ChangesFromAnotherOriginAreRefused) {
  for (std::string_view method : {"POST", "PUT", "DELETE", "PATCH", "PROPFIND"}) {
    EXPECT_TRUE(is_cross_site_change({method, kHost, "https://evil.example", std::nullopt}));
    EXPECT_TRUE(is_cross_site_change({method, kHost, "null", std::nullopt}));
    // Same host, another port or scheme: another origin.
    EXPECT_TRUE(is_cross_site_change({method, kHost, "https://127.0.0.1:8443", std::nullopt}));
    EXPECT_TRUE(is_cross_site_change({method, kHost, "http://127.0.0.1:4243", std::nullopt}));
    EXPECT_TRUE(is_cross_site_change({method, "", "https://127.0.0.1:4243", std::nullopt}));
  }
}

TEST(RequestOrigin, SecFetchSiteCrossSiteOrSameSiteIsRefusedEvenWithoutOrigin) {
  EXPECT_TRUE(is_cross_site_change({"POST", kHost, std::nullopt, "cross-site"}));
  EXPECT_TRUE(is_cross_site_change({"POST", kHost, std::nullopt, "same-site"}));
  EXPECT_TRUE(is_cross_site_change({"DELETE", kHost, "https://127.0.0.1:4243", "Cross-Site"}));
}

}  // namespace
}  // namespace jotgate::console
