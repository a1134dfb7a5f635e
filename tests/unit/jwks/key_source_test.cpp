#include "jwks/key_source.h"

#include <sys/stat.h>

#include <filesystem>
#include <future>
#include <map>

#include <gtest/gtest.h>

#include "base/file.h"

namespace jotgate::jwks {
namespace {

using std::chrono::seconds;
namespace fs = std::filesystem;

std::string jwks_text() { return *read_file(JOTGATE_TEST_DATA "/keys/jwks.json"); }

// A provider the test scripts: URL -> answer; counts its hits.
struct FakeProvider {
  std::map<std::string, Result<fetch::Document>> answers;
  std::map<std::string, int> hits;
  FetchFunction function() {
    return [this](const std::string& url) -> Result<fetch::Document> {
      ++hits[url];
      auto it = answers.find(url);
      if (it == answers.end()) return make_error(Reason::kFetchFailed, url + ": HTTP 404");
      return it->second;
    };
  }
  void serve(const std::string& url, std::string body,
             std::optional<seconds> max_age = std::nullopt) {
    answers.insert_or_assign(url, fetch::Document{std::move(body), max_age});
  }
  void fail(const std::string& url, const std::string& why) {
    answers.insert_or_assign(url, make_error(Reason::kFetchFailed, url + ": " + why));
  }
};

constexpr const char* kUri = "https://idp.test/keys";

class KeySourceTest : public ::testing::Test {
 protected:
  SourceSettings settings() const {
    SourceSettings s;
    s.jwks_uri = kUri;
    return s;
  }
  std::shared_ptr<KeySource> source(SourceSettings s) {
    return KeySource::create(std::move(s), clock_, provider_.function());
  }
  FixedClock clock_{1'700'000'000};
  FakeProvider provider_;
};

TEST_F(KeySourceTest, NoKeysBeforeTheFirstFetch) {
  auto keys = source(settings())->current();
  EXPECT_EQ(keys.keys, nullptr);
  EXPECT_EQ(keys.problem, "not fetched yet");
}

TEST_F(KeySourceTest, FetchesTheJwks) {
  provider_.serve(kUri, jwks_text());
  auto s = source(settings());
  EXPECT_EQ(s->fetch_now(), seconds(300));
  auto keys = s->current();
  ASSERT_NE(keys.keys, nullptr);
  EXPECT_EQ(keys.keys->keys().size(), 3u);
  EXPECT_EQ(keys.problem, "");
  EXPECT_EQ(s->figures().fetches_ok, 1u);
  EXPECT_EQ(s->figures().keys, 3u);
  EXPECT_EQ(s->figures().fetched_at, clock_.now_seconds());
}

TEST_F(KeySourceTest, AFailedFetchKeepsTheLastGoodKeysUntilMaxStale) {
  provider_.serve(kUri, jwks_text());
  auto s = source(settings());
  s->fetch_now();
  provider_.fail(kUri, "HTTP 500");
  clock_.set(clock_.now_seconds() + 3600);
  EXPECT_EQ(s->fetch_now(), seconds(30));  // a failure retries after min_refetch
  auto keys = s->current();
  ASSERT_NE(keys.keys, nullptr);
  EXPECT_EQ(keys.problem, "https://idp.test/keys: HTTP 500");
  EXPECT_EQ(s->figures().fetches_failed, 1u);

  clock_.set(clock_.now_seconds() + 86400 - 3600);  // exactly max_stale: still used
  EXPECT_NE(s->current().keys, nullptr);
  clock_.set(clock_.now_seconds() + 1);
  keys = s->current();
  EXPECT_EQ(keys.keys, nullptr);
  EXPECT_EQ(keys.problem,
            "the last good keys were fetched 86401s ago, longer than jwks_max_stale (86400s): "
            "https://idp.test/keys: HTTP 500");
  EXPECT_EQ(s->figures().keys, 0u);
}

TEST_F(KeySourceTest, ADocumentWithoutUsableKeysIsAFailedFetch) {
  auto s = source(settings());
  provider_.serve(kUri, "<html>not json</html>");
  s->fetch_now();
  EXPECT_EQ(s->current().keys, nullptr);
  EXPECT_EQ(s->current().problem.rfind("https://idp.test/keys: no usable JWKS: ", 0), 0u)
      << s->current().problem;
  provider_.serve(kUri, R"({"keys":[{"kty":"oct","k":"c2VjcmV0"}]})");
  s->fetch_now();
  EXPECT_EQ(s->current().keys, nullptr);
  EXPECT_EQ(s->current().problem,
            "https://idp.test/keys: no usable JWKS: the key type or size is not supported: the "
            "JWKS has no usable key");
  EXPECT_EQ(s->figures().fetches_failed, 2u);
}

TEST_F(KeySourceTest, DiscoveryTakesTheJwksUriOfTheIssuer) {
  SourceSettings s;
  s.issuer = "https://idp.test/realm/";
  provider_.serve("https://idp.test/realm/.well-known/openid-configuration",
                  R"({"issuer":"https://idp.test/realm/","jwks_uri":"https://keys.idp.test/k"})");
  provider_.serve("https://keys.idp.test/k", jwks_text());
  auto source_ = source(s);
  source_->fetch_now();
  EXPECT_NE(source_->current().keys, nullptr) << source_->current().problem;
}

TEST_F(KeySourceTest, DiscoveryRefusesAnotherIssuer) {
  SourceSettings s;
  s.issuer = "https://idp.test";
  provider_.serve("https://idp.test/.well-known/openid-configuration",
                  R"({"issuer":"https://evil.test","jwks_uri":"https://idp.test/k"})");
  provider_.serve("https://idp.test/k", jwks_text());
  auto source_ = source(s);
  source_->fetch_now();
  EXPECT_EQ(source_->current().keys, nullptr);
  EXPECT_EQ(source_->current().problem,
            "https://idp.test/.well-known/openid-configuration: its issuer \"https://evil.test\" "
            "is not the configured \"https://idp.test\"");
  EXPECT_EQ(provider_.hits["https://idp.test/k"], 0);
}

TEST_F(KeySourceTest, DiscoveryRefusesAPlainHttpJwksUri) {
  SourceSettings s;
  s.issuer = "https://idp.test";
  provider_.serve("https://idp.test/.well-known/openid-configuration",
                  R"({"issuer":"https://idp.test","jwks_uri":"http://idp.test/k"})");
  auto source_ = source(s);
  source_->fetch_now();
  EXPECT_EQ(source_->current().problem,
            "https://idp.test/.well-known/openid-configuration: jwks_uri http://idp.test/k: only "
            "https:// URLs are fetched");
}

TEST_F(KeySourceTest, MaxAgeBetweenAMinuteAndADayTakesPrecedence) {
  EXPECT_EQ(refresh_interval(seconds(300), seconds(60)), seconds(60));
  EXPECT_EQ(refresh_interval(seconds(300), seconds(86400)), seconds(86400));
  EXPECT_EQ(refresh_interval(seconds(300), seconds(59)), seconds(300));
  EXPECT_EQ(refresh_interval(seconds(300), seconds(86401)), seconds(300));
  EXPECT_EQ(refresh_interval(seconds(300), std::nullopt), seconds(300));
  provider_.serve(kUri, jwks_text(), seconds(120));
  auto s = source(settings());
  EXPECT_EQ(s->fetch_now(), seconds(120));
  provider_.serve(kUri, jwks_text(), seconds(10));
  EXPECT_EQ(s->fetch_now(), seconds(300));
}

TEST_F(KeySourceTest, KidMissRefetchesAreSharedAndRateLimited) {
  provider_.serve(kUri, jwks_text());
  auto s = source(settings());
  s->fetch_now();
  auto first = s->refetch();
  ASSERT_TRUE(first);
  EXPECT_EQ(s->refetch(), first);  // asked already: the same fetch
  int called = 0;
  s->when_fetched(*first, [&] { ++called; });
  s->when_fetched(*first, [&] { ++called; });
  EXPECT_EQ(called, 0);
  s->fetch_now();
  EXPECT_EQ(called, 2);
  s->when_fetched(*first, [&] { ++called; });  // ended already: at once
  EXPECT_EQ(called, 3);
  EXPECT_EQ(s->refetch(), std::nullopt);  // less than min_refetch after the last one
  EXPECT_EQ(provider_.hits[kUri], 2);
}

TEST_F(KeySourceTest, SavesTheLastGoodDocumentForARestart) {
  const fs::path dir = fs::path(::testing::TempDir()) / "jwks_saved";
  fs::remove_all(dir);
  SourceSettings s = settings();
  s.data_dir = dir.string();
  provider_.serve(kUri, jwks_text());
  source(s)->fetch_now();
  const std::string path = SavedKeys(s.data_dir, kUri).path();
  struct stat status {};
  ASSERT_EQ(::stat(path.c_str(), &status), 0);
  EXPECT_EQ(status.st_mode & 0777, 0600u);

  provider_.fail(kUri, "timed out after 5s");
  clock_.set(clock_.now_seconds() + 600);
  auto restarted = source(s);
  ASSERT_NE(restarted->current().keys, nullptr);
  EXPECT_EQ(restarted->current().keys->keys().size(), 3u);
  restarted->fetch_now();
  EXPECT_NE(restarted->current().keys, nullptr);
  EXPECT_EQ(restarted->figures().fetched_at, 1'700'000'000);

  clock_.set(1'700'000'000 + 86401);  // the saved keys too are bounded by max_stale
  EXPECT_EQ(source(s)->current().keys, nullptr);

  SourceSettings other = s;
  other.jwks_uri = "https://other.test/keys";
  EXPECT_NE(SavedKeys(other.data_dir, other.jwks_uri).path(), path);
  fs::remove_all(dir);
}

TEST_F(KeySourceTest, TheThreadFetchesAtOnceOnRefetchAndStopsPromptly) {
  provider_.serve(kUri, jwks_text());
  std::promise<void> fetched;
  auto s = source(settings());
  auto ticket = s->refetch();  // the first fetch of the thread answers it
  ASSERT_TRUE(ticket);
  s->when_fetched(*ticket, [&] { fetched.set_value(); });
  s->start();
  ASSERT_EQ(fetched.get_future().wait_for(seconds(5)), std::future_status::ready);
  const auto begin = std::chrono::steady_clock::now();
  s->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - begin, std::chrono::milliseconds(500));
}

}  // namespace
}  // namespace jotgate::jwks
