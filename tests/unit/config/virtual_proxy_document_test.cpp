// Virtual proxy documents (the admin API's JSON): read by the file's parser with field-level
// problems (the YAML path relative to the virtual proxy, the parser's message), and written
// back with every value in force so that reading them again gives the same document.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "config/gateway_config.h"
#include "config/virtual_proxy_document.h"

namespace jotgate::config {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

class VirtualProxyDocumentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("jotgate-vp-document-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    fs::copy_file(std::string(JOTGATE_TEST_DATA) + "/keys/rsa_cert.pem", dir_ / "signer.pem",
                  fs::copy_options::overwrite_existing);
    std::ofstream(dir_ / "jotgate.yaml")
        << "listeners:\n  - name: http\n    address: 127.0.0.1:0\n"
           "  - name: inner\n    address: 127.0.0.1:0\n    trusted: true\n"
           "virtual_proxies:\n  - name: file\n    prefix: file\n    listeners: [http]\n"
           "    auth: {method: jwt, jwt: {key: signer.pem}}\n";
    auto loaded = load_config_file((dir_ / "jotgate.yaml").string());
    ASSERT_TRUE(loaded.ok()) << loaded.error().detail;
    base_ = std::move(*loaded);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::string pem() {
    std::ifstream in(std::string(JOTGATE_TEST_DATA) + "/keys/rsa_cert.pem");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  static json minimal() {
    return {{"name", "Sales"},
            {"prefix", "sales"},
            {"listeners", {"http"}},
            {"upstreams", {"http://127.0.0.1:9000"}},
            {"auth", {{"method", "jwt"}, {"jwt", {{"key_pem", pem()}}}}}};
  }
  VirtualProxyDocument parse(const json& document) {
    return parse_virtual_proxy_document(document.dump(), base_, "<document>");
  }
  std::vector<FieldProblem> problems(const json& document) {
    auto parsed = parse(document);
    EXPECT_FALSE(parsed.virtual_proxy);
    return parsed.problems;
  }

  fs::path dir_;
  GatewayConfig base_;
};

TEST_F(VirtualProxyDocumentTest, AMinimalDocumentGetsTheDefaultsOfTheFile) {
  auto parsed = parse(minimal());
  ASSERT_TRUE(parsed.virtual_proxy) << ::testing::PrintToString(parsed.problems.size());
  const VirtualProxy& vp = *parsed.virtual_proxy;
  EXPECT_EQ(vp.prefix, "sales");
  EXPECT_EQ(vp.session.inactivity_timeout_seconds, 1800);
  EXPECT_EQ(vp.auth.jwt.providers.at(0).key_pem, pem());
  EXPECT_FALSE(vp.auth.jwt.providers.at(0).keys.empty());

  const json document = virtual_proxy_document(vp);
  EXPECT_EQ(document["name"], "Sales");
  EXPECT_EQ(document["upstreams"], json({"http://127.0.0.1:9000"}));
  EXPECT_EQ(document["strip_prefix"], true);
  EXPECT_EQ(document["identity_header"], "X-Jotgate-User");
  EXPECT_EQ(document["connect_timeout"], "5s");
  EXPECT_EQ(document["read_timeout"], "1m");
  EXPECT_EQ(document["session"], json({{"cookie_name", "X-Jotgate-Session-sales"},
                                       {"inactivity_timeout", "30m"},
                                       {"max_lifetime", "0s"},
                                       {"max_per_user", 0},
                                       {"same_site", "lax"},
                                       {"secure", "auto"},
                                       {"domain", ""},
                                       {"partitioned", false}}));
  EXPECT_EQ(document["auth"]["method"], "jwt");
  EXPECT_EQ(document["auth"]["ticket_lifetime"], "1m");
  EXPECT_EQ(document["auth"]["failure_limit"], "60/m");
  EXPECT_EQ(document["auth"]["endpoint"], ".auth");
  const json& jwt = document["auth"]["jwt"];
  EXPECT_EQ(jwt["key_pem"], pem());
  EXPECT_FALSE(jwt.contains("key"));
  EXPECT_EQ(jwt["algorithms"], json({"RS256", "RS384", "RS512"}));
  EXPECT_EQ(jwt["user_id_claim"], "userId");
  EXPECT_EQ(jwt["user_directory_claim"], "userDirectory");
  EXPECT_EQ(jwt["leeway"], "1m");
  EXPECT_EQ(jwt["token_cache"], 10000);
}

// Everything a document can say, read back to the same document.
TEST_F(VirtualProxyDocumentTest, WrittenDocumentsReadBackTheSame) {
  std::vector<json> documents = {minimal()};
  json full = minimal();
  full["prefix"] = "";
  full["strip_prefix"] = false;
  full["session"] = {{"cookie_name", "sid"},    {"inactivity_timeout", "90s"},
                     {"max_lifetime", "8h"},    {"max_per_user", 3},
                     {"same_site", "none"},     {"secure", "always"},
                     {"domain", "example.test"}};
  full["auth"] = {{"method", "jwt"},
                  {"anonymous", "allow"},
                  {"redirect_uri", "/sign-in"},
                  {"failure_limit", "5/s"},
                  {"forward_attributes", {{"role", "X-Role"}}},
                  {"jwt",
                   {{"providers",
                     {{{"issuer", "https://a.example"}, {"key", "signer.pem"}},
                      {{"issuer", "https://b.example"},
                       {"jwks_uri", "https://b.example/keys"},
                       {"jwks_timeout", "250ms"},
                       {"user_directory", "ACME"},
                       {"audience", {"gate", "api"}},
                       {"required_claims", {"jti"}}}}},
                    {"forward_claims", {{"groups", "X-Groups"}}},
                    {"algorithms", {"RS256", "ES256"}},
                    {"forward_authorization", true}}}};
  full["response_headers"] = {{"X-Frame-Options", "DENY"}};
  full["host_allow_list"] = {"gate.example.test"};
  full["cors"] = {{"allowed_origins", {"https://app.example.test"}}};
  full["logout_redirect_uri"] = "https://example.test/bye";
  full["read_timeout"] = "1500ms";
  documents.push_back(full);
  json header = minimal();
  header["listeners"] = {"inner"};
  header["auth"] = {{"method", "header"},
                    {"header", {{"user_header", "X-User"}, {"directory", "CORP"}}}};
  documents.push_back(header);
  header["auth"] = {{"method", "ticket"}};
  documents.push_back(header);

  for (const json& document : documents) {
    auto first = parse(document);
    ASSERT_TRUE(first.virtual_proxy) << document.dump() << ": " << first.problems.at(0).field
                                     << ": " << first.problems.at(0).message;
    const json written = virtual_proxy_document(*first.virtual_proxy);
    auto second = parse(written);
    ASSERT_TRUE(second.virtual_proxy) << written.dump() << ": " << second.problems.at(0).field
                                      << ": " << second.problems.at(0).message;
    EXPECT_EQ(virtual_proxy_document(*second.virtual_proxy), written);
  }
  // A key file is shown by its path (resolved as in the file), never its contents.
  const json written = virtual_proxy_document(*parse(full).virtual_proxy);
  EXPECT_EQ(written["auth"]["jwt"]["providers"][0]["key"], (dir_ / "signer.pem").string());
  EXPECT_EQ(written["auth"]["jwt"]["providers"][1]["jwks_timeout"], "250ms");
  EXPECT_EQ(written["auth"]["jwt"]["providers"][1]["user_directory"], "ACME");
  EXPECT_EQ(written["session"]["partitioned"], true);
}

// The file's virtual proxies, written as documents, read back the same.
TEST_F(VirtualProxyDocumentTest, FileVirtualProxiesAsDocuments) {
  const json written = virtual_proxy_document(base_.virtual_proxies.at(0));
  EXPECT_EQ(written["auth"]["jwt"]["key"], (dir_ / "signer.pem").string());
  auto again = parse(written);
  ASSERT_TRUE(again.virtual_proxy);
  EXPECT_EQ(virtual_proxy_document(*again.virtual_proxy), written);
}

TEST_F(VirtualProxyDocumentTest, ProblemsNameTheFieldRelativeToTheVirtualProxy) {
  json document = minimal();
  document["prefix"] = "Sales Team";
  document["session"] = {{"inactivity_timeout", "soon"}};
  document["listeners"] = {"http", "nowhere"};
  document["auth"]["jwt"]["key_pem"] = "not a key";
  document["colour"] = "blue";
  EXPECT_EQ(
      problems(document),
      (std::vector<FieldProblem>{
          {"colour",
           "unknown key (expected one of: name, prefix, listeners, upstreams, strip_prefix, "
           "session, auth, identity_header, response_headers, host_allow_list, connect_timeout, "
           "read_timeout, logout_redirect_uri, cors, allow_underscores_in_headers)"},
          {"prefix",
           "\"Sales Team\" may only contain a-z, 0-9, '.', '_' and '-' (\"\" serves the root)"},
          {"listeners[1]", "no listener is named \"nowhere\""},
          {"session.inactivity_timeout",
           "expected a duration such as 90s, 30m, 8h, 2d or whole seconds"},
          {"auth.jwt.key_pem",
           "expected PEM text: a certificate (-----BEGIN CERTIFICATE-----) or a public key "
           "(-----BEGIN PUBLIC KEY-----)"}}));
}

TEST_F(VirtualProxyDocumentTest, RequiredFieldsAndTheWholeDocument) {
  EXPECT_EQ(problems(json::object()),
            (std::vector<FieldProblem>{
                {"name", "a name is required"},
                {"prefix", "a prefix is required (\"\" serves the root)"},
                {"listeners", "at least one listener name is required"},
                {"auth", "an auth section (method: jwt, header or ticket) is required"}}));
  EXPECT_EQ(problems(json::array()), (std::vector<FieldProblem>{{"", "expected a mapping"}}));
  auto broken = parse_virtual_proxy_document("{\"name\": ", base_, "<document>");
  ASSERT_EQ(broken.problems.size(), 1u);
  EXPECT_EQ(broken.problems[0].field, "");
  EXPECT_TRUE(broken.problems[0].message.starts_with("not valid JSON: "))
      << broken.problems[0].message;
}

TEST_F(VirtualProxyDocumentTest, EnvironmentReferencesAreNotReplaced) {
  ::setenv("JOTGATE_DOCUMENT_TEST", "secret", 1);
  json document = minimal();
  document["identity_header"] = "X-${JOTGATE_DOCUMENT_TEST}";
  EXPECT_EQ(problems(document),
            (std::vector<FieldProblem>{
                {"identity_header", "\"X-${JOTGATE_DOCUMENT_TEST}\" is not a valid header name"}}));
}

TEST_F(VirtualProxyDocumentTest, MaxPerUserIsRefusedWithRedisSessions) {
  base_.session_store.type = SessionStoreType::kRedis;
  json document = minimal();
  document["session"] = {{"max_per_user", 2}};
  EXPECT_EQ(problems(document),
            (std::vector<FieldProblem>{{"session.max_per_user",
                                        "is not supported with session_store type redis (leave "
                                        "it 0)"}}));
}

}  // namespace
}  // namespace jotgate::config
