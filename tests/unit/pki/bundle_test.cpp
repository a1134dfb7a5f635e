// generate_bundle / generate_self_signed_tls: what they write must be a working PKI (chains verify
// with OpenSSL's own verifier, names and usages as documented), keys private from the first byte,
// and nothing ever overwritten without force.
#include "pki/bundle.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>

namespace jotgate::pki {
namespace {

namespace fs = std::filesystem;

struct Free {
  void operator()(X509* p) const { X509_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509_STORE* p) const { X509_STORE_free(p); }
  void operator()(X509_STORE_CTX* p) const { X509_STORE_CTX_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(GENERAL_NAMES* p) const { GENERAL_NAMES_free(p); }
  void operator()(BASIC_CONSTRAINTS* p) const { BASIC_CONSTRAINTS_free(p); }
};
template <class T>
using Owned = std::unique_ptr<T, Free>;

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

Owned<X509> load_cert(const std::string& path) {
  Owned<BIO> bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) return nullptr;
  return Owned<X509>(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

Owned<EVP_PKEY> load_key(const std::string& path) {
  Owned<BIO> bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) return nullptr;
  return Owned<EVP_PKEY>(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

// X509_verify_cert of `leaf` with `ca` as the only trust anchor; returns the verify error code.
int verify_against(X509* ca, X509* leaf, int purpose) {
  Owned<X509_STORE> store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), ca);
  Owned<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  X509_STORE_CTX_init(ctx.get(), store.get(), leaf, nullptr);
  if (purpose != 0) X509_STORE_CTX_set_purpose(ctx.get(), purpose);
  int ok = X509_verify_cert(ctx.get());
  int error = X509_STORE_CTX_get_error(ctx.get());
  return ok == 1 ? X509_V_OK : (error == X509_V_OK ? -1 : error);
}

std::set<std::string> subject_alt_names(X509* cert) {
  std::set<std::string> out;
  Owned<GENERAL_NAMES> names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type == GEN_DNS) {
      const auto* s = name->d.dNSName;
      out.insert("DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                      ASN1_STRING_length(s)));
    } else if (name->type == GEN_IPADD) {
      const auto* s = name->d.iPAddress;
      std::string ip;
      const unsigned char* data = ASN1_STRING_get0_data(s);
      if (ASN1_STRING_length(s) == 4) {
        ip = std::to_string(data[0]) + "." + std::to_string(data[1]) + "." +
             std::to_string(data[2]) + "." + std::to_string(data[3]);
      } else {
        ip = "v6:" + std::to_string(ASN1_STRING_length(s)) + ":" + std::to_string(data[15]);
      }
      out.insert("IP:" + ip);
    }
  }
  return out;
}

bool is_ca(X509* cert) {
  Owned<BASIC_CONSTRAINTS> bc(static_cast<BASIC_CONSTRAINTS*>(
      X509_get_ext_d2i(cert, NID_basic_constraints, nullptr, nullptr)));
  return bc && bc->ca;
}

mode_t mode_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

class BundleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "jotgate-pki-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    // The documented modes assume the usual umask; pin it so the test does not depend on the shell.
    old_umask_ = ::umask(022);
  }
  void TearDown() override {
    ::umask(old_umask_);
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  BundleOptions options() const { return {.out_dir = (dir_ / "certs").string()}; }
  std::string path(const char* name) const { return (dir_ / "certs" / name).string(); }

  fs::path dir_;
  mode_t old_umask_ = 0;
};

TEST_F(BundleTest, WritesSixFilesWithAbsolutePathsAndPrivateKeyModes) {
  auto files = generate_bundle(options());
  ASSERT_TRUE(files) << files.error().describe();
  EXPECT_EQ(files->ca_cert, path("ca.pem"));
  EXPECT_EQ(files->ca_key, path("ca_key.pem"));
  EXPECT_EQ(files->server_cert, path("server.pem"));
  EXPECT_EQ(files->server_key, path("server_key.pem"));
  EXPECT_EQ(files->signer_cert, path("signer.pem"));
  EXPECT_EQ(files->signer_key, path("signer_key.pem"));
  for (const auto* p : {&files->ca_cert, &files->server_cert, &files->signer_cert}) {
    EXPECT_TRUE(fs::path(*p).is_absolute());
    EXPECT_EQ(mode_of(*p), 0644u) << *p;
  }
  for (const auto* p : {&files->ca_key, &files->server_key, &files->signer_key}) {
    EXPECT_EQ(mode_of(*p), 0600u) << *p;
    EXPECT_NE(read_text(*p).find("-----BEGIN PRIVATE KEY-----"), std::string::npos) << *p;
  }
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_ / "certs"), fs::directory_iterator{}), 6);
}

TEST_F(BundleTest, CertificatesVerifyAgainstTheCa) {
  auto files = generate_bundle(options());
  ASSERT_TRUE(files) << files.error().describe();
  auto ca = load_cert(files->ca_cert);
  auto server = load_cert(files->server_cert);
  auto signer = load_cert(files->signer_cert);
  ASSERT_TRUE(ca && server && signer);

  EXPECT_TRUE(is_ca(ca.get()));
  EXPECT_FALSE(is_ca(server.get()));
  EXPECT_FALSE(is_ca(signer.get()));
  EXPECT_EQ(X509_check_issued(ca.get(), ca.get()), X509_V_OK) << "the CA is self-signed";
  EXPECT_EQ(verify_against(ca.get(), server.get(), X509_PURPOSE_SSL_SERVER), X509_V_OK);
  EXPECT_EQ(verify_against(ca.get(), signer.get(), 0), X509_V_OK);
  // The server certificate is for servers only (serverAuth EKU), not for clients.
  EXPECT_NE(verify_against(ca.get(), server.get(), X509_PURPOSE_SSL_CLIENT), X509_V_OK);
}

TEST_F(BundleTest, CertificatesDoNotVerifyAgainstAnotherCa) {
  auto first = generate_bundle(options());
  ASSERT_TRUE(first);
  BundleOptions other{.out_dir = (dir_ / "other").string()};
  auto second = generate_bundle(other);
  ASSERT_TRUE(second);
  auto other_ca = load_cert(second->ca_cert);
  auto server = load_cert(first->server_cert);
  EXPECT_NE(verify_against(other_ca.get(), server.get(), X509_PURPOSE_SSL_SERVER), X509_V_OK);
}

TEST_F(BundleTest, KeysMatchTheirCertificates) {
  auto files = generate_bundle(options());
  ASSERT_TRUE(files);
  auto server = load_cert(files->server_cert);
  auto signer = load_cert(files->signer_cert);
  auto ca = load_cert(files->ca_cert);
  auto server_key = load_key(files->server_key);
  auto signer_key = load_key(files->signer_key);
  auto ca_key = load_key(files->ca_key);
  ASSERT_TRUE(server_key && signer_key && ca_key);
  EXPECT_EQ(X509_check_private_key(server.get(), server_key.get()), 1);
  EXPECT_EQ(X509_check_private_key(signer.get(), signer_key.get()), 1);
  EXPECT_EQ(X509_check_private_key(ca.get(), ca_key.get()), 1);
  EXPECT_NE(X509_check_private_key(server.get(), signer_key.get()), 1);
  // The token-signing key is RSA 2048, so RS256 (the original system's algorithm) works.
  EXPECT_EQ(EVP_PKEY_get_base_id(signer_key.get()), EVP_PKEY_RSA);
  EXPECT_EQ(EVP_PKEY_get_bits(signer_key.get()), 2048);
}

TEST_F(BundleTest, ServerCertificateNamesTheHostAndLoopback) {
  BundleOptions opts = options();
  opts.common_name = "gate.example.test";
  auto files = generate_bundle(opts);
  ASSERT_TRUE(files) << files.error().describe();
  auto server = load_cert(files->server_cert);
  std::set<std::string> expected{"DNS:gate.example.test", "DNS:localhost", "IP:127.0.0.1",
                                 "IP:v6:16:1"};
  EXPECT_EQ(subject_alt_names(server.get()), expected);
  EXPECT_EQ(X509_check_host(server.get(), "gate.example.test", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_host(server.get(), "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(server.get(), "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(server.get(), "::1", 0), 1);
  EXPECT_NE(X509_check_host(server.get(), "evil.example.test", 0, 0, nullptr), 1);
}

TEST_F(BundleTest, LocalhostIsNotRepeatedAndAnIpCommonNameIsAnIpSan) {
  auto files = generate_bundle(options());  // common name "localhost"
  ASSERT_TRUE(files);
  auto server = load_cert(files->server_cert);
  EXPECT_EQ(subject_alt_names(server.get()),
            (std::set<std::string>{"DNS:localhost", "IP:127.0.0.1", "IP:v6:16:1"}));

  BundleOptions opts{.out_dir = (dir_ / "ip").string(), .common_name = "10.1.2.3"};
  auto ip_files = generate_bundle(opts);
  ASSERT_TRUE(ip_files) << ip_files.error().describe();
  auto ip_server = load_cert(ip_files->server_cert);
  EXPECT_EQ(subject_alt_names(ip_server.get()),
            (std::set<std::string>{"IP:10.1.2.3", "DNS:localhost", "IP:127.0.0.1", "IP:v6:16:1"}));
}

TEST_F(BundleTest, ValidityFollowsDays) {
  BundleOptions opts = options();
  opts.days = 10;
  auto files = generate_bundle(opts);
  ASSERT_TRUE(files);
  auto server = load_cert(files->server_cert);
  std::time_t now = std::time(nullptr);
  std::time_t in_9_days = now + 9 * 86400;
  std::time_t in_11_days = now + 11 * 86400;
  EXPECT_LT(X509_cmp_time(X509_get0_notBefore(server.get()), &now), 0);
  EXPECT_GT(X509_cmp_time(X509_get0_notAfter(server.get()), &in_9_days), 0);
  EXPECT_LT(X509_cmp_time(X509_get0_notAfter(server.get()), &in_11_days), 0);
}

TEST_F(BundleTest, RefusesToOverwriteAndLeavesEverythingUntouched) {
  fs::create_directories(dir_ / "certs");
  {
    std::ofstream existing(path("server_key.pem"));
    existing << "my precious key";
  }
  ::chmod(path("server_key.pem").c_str(), 0640);
  auto files = generate_bundle(options());
  ASSERT_FALSE(files);
  EXPECT_EQ(files.error().reason, Reason::kFileExists);
  EXPECT_NE(files.error().detail.find("server_key.pem"), std::string::npos);
  EXPECT_EQ(read_text(path("server_key.pem")), "my precious key");
  EXPECT_EQ(mode_of(path("server_key.pem")), 0640u);
  // Checked before writing any: none of the other five exist.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_ / "certs"), fs::directory_iterator{}), 1);
}

TEST_F(BundleTest, ASecondRunWithoutForceChangesNothing) {
  auto first = generate_bundle(options());
  ASSERT_TRUE(first);
  std::string ca_before = read_text(first->ca_cert);
  std::string key_before = read_text(first->signer_key);
  auto second = generate_bundle(options());
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().reason, Reason::kFileExists);
  // EXPECT_TRUE, not EXPECT_EQ: a failure must not print key material.
  EXPECT_TRUE(read_text(first->ca_cert) == ca_before);
  EXPECT_TRUE(read_text(first->signer_key) == key_before);
}

TEST_F(BundleTest, ASymlinkCountsAsAnExistingFile) {
  fs::create_directories(dir_ / "certs");
  fs::create_symlink(dir_ / "elsewhere.pem", dir_ / "certs" / "ca_key.pem");  // dangling
  auto files = generate_bundle(options());
  ASSERT_FALSE(files);
  EXPECT_EQ(files.error().reason, Reason::kFileExists);
  EXPECT_FALSE(fs::exists(dir_ / "elsewhere.pem"));
}

TEST_F(BundleTest, ForceReplacesEveryFileAndTightensKeyModes) {
  auto first = generate_bundle(options());
  ASSERT_TRUE(first);
  std::string ca_before = read_text(first->ca_cert);
  std::string key_before = read_text(first->signer_key);
  ::chmod(first->signer_key.c_str(), 0644);  // someone loosened it

  BundleOptions opts = options();
  opts.force = true;
  auto second = generate_bundle(opts);
  ASSERT_TRUE(second) << second.error().describe();
  EXPECT_TRUE(read_text(second->ca_cert) != ca_before);
  EXPECT_TRUE(read_text(second->signer_key) != key_before);
  EXPECT_EQ(mode_of(second->signer_key), 0600u);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_ / "certs"), fs::directory_iterator{}), 6)
      << "no temporary files left behind";
  auto ca = load_cert(second->ca_cert);
  auto server = load_cert(second->server_cert);
  EXPECT_EQ(verify_against(ca.get(), server.get(), X509_PURPOSE_SSL_SERVER), X509_V_OK);
}

TEST_F(BundleTest, RejectsBadOptionsWithoutWriting) {
  BundleOptions bad_name = options();
  bad_name.common_name = "two words";
  auto r1 = generate_bundle(bad_name);
  ASSERT_FALSE(r1);
  EXPECT_EQ(r1.error().reason, Reason::kBadRequest);

  BundleOptions injected = options();
  injected.common_name = "a.test,DNS:evil.test";
  EXPECT_FALSE(generate_bundle(injected));

  BundleOptions no_days = options();
  no_days.days = 0;
  EXPECT_FALSE(generate_bundle(no_days));

  BundleOptions no_dir = options();
  no_dir.out_dir = "";
  EXPECT_FALSE(generate_bundle(no_dir));

  EXPECT_FALSE(fs::exists(dir_ / "certs"));
}

TEST_F(BundleTest, OutputPathThatIsAFileIsAnError) {
  {
    std::ofstream file(dir_ / "plain");
    file << "x";
  }
  BundleOptions opts{.out_dir = (dir_ / "plain").string()};
  auto files = generate_bundle(opts);
  ASSERT_FALSE(files);
  EXPECT_EQ(files.error().reason, Reason::kFileUnwritable);
}

TEST_F(BundleTest, SelfSignedTlsIsAServerCertificateForItsKey) {
  std::string cert_path = (dir_ / "tls.pem").string();
  std::string key_path = (dir_ / "tls_key.pem").string();
  auto made = generate_self_signed_tls(cert_path, key_path, "localhost", 30);
  ASSERT_TRUE(made) << made.error().describe();
  EXPECT_EQ(mode_of(key_path), 0600u);
  auto cert = load_cert(cert_path);
  auto key = load_key(key_path);
  ASSERT_TRUE(cert && key);
  EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1);
  EXPECT_EQ(X509_check_issued(cert.get(), cert.get()), X509_V_OK);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_purpose(cert.get(), X509_PURPOSE_SSL_SERVER, 0), 1);
  // Trusting the certificate file itself is enough for a client.
  EXPECT_EQ(verify_against(cert.get(), cert.get(), X509_PURPOSE_SSL_SERVER), X509_V_OK);

  std::string before = read_text(key_path);
  auto again = generate_self_signed_tls(cert_path, key_path, "localhost", 30);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().reason, Reason::kFileExists);
  EXPECT_TRUE(read_text(key_path) == before);
}

}  // namespace
}  // namespace jotgate::pki
