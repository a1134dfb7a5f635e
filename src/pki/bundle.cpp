#include "pki/bundle.h"

#include <fcntl.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string_view>
#include <system_error>
#include <vector>

#include "base/random.h"

namespace jotgate::pki {

namespace {

namespace fs = std::filesystem;

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
  void operator()(GENERAL_NAMES* p) const { GENERAL_NAMES_free(p); }
  void operator()(GENERAL_NAME* p) const { GENERAL_NAME_free(p); }
  void operator()(ASN1_OCTET_STRING* p) const { ASN1_OCTET_STRING_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
};
template <class T>
using Owned = std::unique_ptr<T, Free>;

constexpr int kMaxDays = 36500;
constexpr long kBackdateSeconds = 5 * 60;  // tolerate small clock differences between hosts

Error openssl_error(std::string what) { return make_error(Reason::kKeyInvalid, std::move(what)); }

// A DNS name we can put in a SAN: letters, digits, '-', '.', and a leading "*." wildcard.
bool is_host_name(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  if (name.starts_with("*.")) name.remove_prefix(2);
  if (name.empty() || name.front() == '.' || name.back() == '.' || name.front() == '-')
    return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.';
    if (!ok) return false;
  }
  return name.find("..") == std::string_view::npos;
}

// Octets of an IPv4/IPv6 literal, or nullopt.
std::optional<std::vector<unsigned char>> ip_octets(const std::string& text) {
  Owned<ASN1_OCTET_STRING> ip(a2i_IPADDRESS(text.c_str()));
  if (!ip) return std::nullopt;
  const unsigned char* data = ASN1_STRING_get0_data(ip.get());
  return std::vector<unsigned char>(data, data + ASN1_STRING_length(ip.get()));
}

Result<void> check_options(const std::string& common_name, int days) {
  if (!is_host_name(common_name) && !ip_octets(common_name)) {
    return make_error(Reason::kBadRequest,
                      "common name '" + common_name + "' is not a host name or IP address");
  }
  if (days < 1 || days > kMaxDays) {
    return make_error(Reason::kBadRequest,
                      "days must be between 1 and " + std::to_string(kMaxDays));
  }
  return {};
}

Result<Owned<EVP_PKEY>> ec_p256_key() {
  Owned<EVP_PKEY> key(EVP_EC_gen("P-256"));
  if (!key) return openssl_error("cannot generate an EC P-256 key");
  return key;
}

Result<Owned<EVP_PKEY>> rsa_2048_key() {
  Owned<EVP_PKEY> key(EVP_RSA_gen(2048));
  if (!key) return openssl_error("cannot generate an RSA 2048 key");
  return key;
}

bool add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  Owned<X509_EXTENSION> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

bool push_name(GENERAL_NAMES* names, int type, const unsigned char* data, int length) {
  Owned<GENERAL_NAME> name(GENERAL_NAME_new());
  if (!name) return false;
  ASN1_STRING* value =
      ASN1_STRING_type_new(type == GEN_IPADD ? V_ASN1_OCTET_STRING : V_ASN1_IA5STRING);
  if (!value || ASN1_STRING_set(value, data, length) != 1) {
    ASN1_STRING_free(value);
    return false;
  }
  GENERAL_NAME_set0_value(name.get(), type, value);
  if (sk_GENERAL_NAME_push(names, name.get()) == 0) return false;
  name.release();
  return true;
}

// SAN: the common name (as DNS or IP), localhost, 127.0.0.1, ::1 (without repeats). Built from
// values rather than a config string so a name cannot smuggle in extra entries.
bool add_server_names(X509* cert, const std::string& common_name) {
  Owned<GENERAL_NAMES> names(sk_GENERAL_NAME_new_null());
  if (!names) return false;
  std::vector<std::string> dns;
  std::vector<std::vector<unsigned char>> ips;
  if (auto ip = ip_octets(common_name)) {
    ips.push_back(*ip);
  } else {
    dns.push_back(common_name);
  }
  if (common_name != "localhost") dns.emplace_back("localhost");
  for (const char* literal : {"127.0.0.1", "::1"}) {
    auto ip = ip_octets(literal);
    if (ip && (ips.empty() || ips.front() != *ip)) ips.push_back(*ip);
  }
  for (const auto& name : dns) {
    if (!push_name(names.get(), GEN_DNS, reinterpret_cast<const unsigned char*>(name.data()),
                   static_cast<int>(name.size()))) {
      return false;
    }
  }
  for (const auto& ip : ips) {
    if (!push_name(names.get(), GEN_IPADD, ip.data(), static_cast<int>(ip.size()))) return false;
  }
  return X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) == 1;
}

// kSelfSignedServer is its own trust anchor, so clients can trust the file itself: like
// `openssl req -x509` it is marked as a CA (keyCertSign) as well as a serverAuth leaf.
enum class Profile { kCa, kServer, kSelfSignedServer, kSigner };

// A v3 certificate for `key` named `common_name`, signed by issuer_key (issuer null: self-signed).
Result<Owned<X509>> make_certificate(Profile profile, const std::string& common_name, EVP_PKEY* key,
                                     X509* issuer, EVP_PKEY* issuer_key, int days) {
  Owned<X509> cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) {
    return openssl_error("cannot create a certificate");
  }
  // A random positive 127-bit serial, as RFC 5280 allows up to 20 octets.
  std::array<unsigned char, 16> serial_bytes{};
  random_bytes(serial_bytes);
  serial_bytes[0] &= 0x7f;
  serial_bytes[0] |= 0x01;
  Owned<BIGNUM> serial(
      BN_bin2bn(serial_bytes.data(), static_cast<int>(serial_bytes.size()), nullptr));
  if (!serial || !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get()))) {
    return openssl_error("cannot set the serial number");
  }
  X509_NAME* subject = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                 -1, 0) != 1 ||
      X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>("jotgate development"), -1,
                                 -1, 0) != 1) {
    return openssl_error("cannot set the subject name");
  }
  X509* signer = issuer ? issuer : cert.get();
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(signer)) != 1 ||
      !X509_gmtime_adj(X509_getm_notBefore(cert.get()), -kBackdateSeconds) ||
      !X509_time_adj_ex(X509_getm_notAfter(cert.get()), days, 0, nullptr) ||
      X509_set_pubkey(cert.get(), key) != 1) {
    return openssl_error("cannot set the validity or public key");
  }
  bool ok = add_extension(cert.get(), signer, NID_subject_key_identifier, "hash") &&
            add_extension(cert.get(), signer, NID_authority_key_identifier, "keyid:always");
  switch (profile) {
    case Profile::kCa:
      ok = ok &&
           add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") &&
           add_extension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
      break;
    case Profile::kServer:
      ok = ok && add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE") &&
           add_extension(cert.get(), signer, NID_key_usage, "critical,digitalSignature") &&
           add_extension(cert.get(), signer, NID_ext_key_usage, "serverAuth") &&
           add_server_names(cert.get(), common_name);
      break;
    case Profile::kSelfSignedServer:
      ok = ok &&
           add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") &&
           add_extension(cert.get(), signer, NID_key_usage,
                         "critical,digitalSignature,keyCertSign") &&
           add_extension(cert.get(), signer, NID_ext_key_usage, "serverAuth") &&
           add_server_names(cert.get(), common_name);
      break;
    case Profile::kSigner:
      ok = ok && add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE") &&
           add_extension(cert.get(), signer, NID_key_usage, "critical,digitalSignature");
      break;
  }
  if (!ok) return openssl_error("cannot add the certificate extensions");
  if (X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256()) <= 0) {
    return openssl_error("cannot sign the certificate");
  }
  return cert;
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long length = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(length));
}

Result<std::string> certificate_pem(X509* cert) {
  Owned<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1)
    return openssl_error("cannot encode a certificate");
  return bio_text(bio.get());
}

// PKCS#8 "PRIVATE KEY", unencrypted: a development bundle, protected by file mode 0600.
Result<std::string> private_key_pem(EVP_PKEY* key) {
  Owned<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return openssl_error("cannot encode a private key");
  }
  return bio_text(bio.get());
}

// One file to write: its final path, contents and mode.
struct PlannedFile {
  std::string path;
  std::string contents;
  mode_t mode;
};

Error write_error(const std::string& path, int error_number) {
  return make_error(Reason::kFileUnwritable, path + ": " + std::strerror(error_number));
}

Result<void> write_all(int fd, const std::string& path, std::string_view contents) {
  while (!contents.empty()) {
    ssize_t written = ::write(fd, contents.data(), contents.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return write_error(path, errno);
    }
    contents.remove_prefix(static_cast<std::size_t>(written));
  }
  if (::fsync(fd) != 0) return write_error(path, errno);
  return {};
}

// Creates `path` with O_EXCL, so the mode is set at creation (never a window where a private
// key is readable by others) and an existing file is never touched.
Result<void> create_exclusive(const std::string& path, const std::string& contents, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) {
    if (errno == EEXIST) return make_error(Reason::kFileExists, path);
    return write_error(path, errno);
  }
  auto written = write_all(fd, path, contents);
  ::close(fd);
  if (!written) ::unlink(path.c_str());
  return written;
}

// With force: write a fresh file next to the target and rename it over, so a replaced key gets
// mode 0600 even if the old file had a wider one, and a reader never sees half a file.
Result<void> replace_file(const std::string& path, const std::string& contents, mode_t mode) {
  const std::string temp = path + ".tmp-" + random_hex(8);
  auto created = create_exclusive(temp, contents, mode);
  if (!created) return created;
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    int error_number = errno;
    ::unlink(temp.c_str());
    return write_error(path, error_number);
  }
  return {};
}

// Writes every planned file or, on failure, removes the ones this call created.
Result<void> write_planned(const std::vector<PlannedFile>& files, bool force) {
  if (!force) {
    for (const auto& file : files) {
      std::error_code ec;
      if (fs::symlink_status(file.path, ec).type() != fs::file_type::not_found) {
        return make_error(Reason::kFileExists,
                          file.path + " (nothing was written; use --force to overwrite)");
      }
    }
  }
  std::vector<std::string> created;
  for (const auto& file : files) {
    auto written = force ? replace_file(file.path, file.contents, file.mode)
                         : create_exclusive(file.path, file.contents, file.mode);
    if (!written) {
      if (!force) {
        for (const auto& path : created) ::unlink(path.c_str());
      }
      return written;
    }
    created.push_back(file.path);
  }
  return {};
}

Result<std::string> prepare_directory(const std::string& out_dir) {
  if (out_dir.empty()) return make_error(Reason::kBadRequest, "no output directory given");
  std::error_code ec;
  fs::path dir = fs::absolute(out_dir, ec);
  if (ec) return write_error(out_dir, ec.value());
  fs::create_directories(dir, ec);
  if (ec) return write_error(dir.string(), ec.value());
  if (!fs::is_directory(dir, ec)) return write_error(dir.string(), ENOTDIR);
  return dir.lexically_normal().string();
}

constexpr mode_t kPublicMode = 0644;
constexpr mode_t kPrivateMode = 0600;

}  // namespace

Result<BundleFiles> generate_bundle(const BundleOptions& options) {
  if (auto checked = check_options(options.common_name, options.days); !checked)
    return checked.error();
  auto dir = prepare_directory(options.out_dir);
  if (!dir) return dir.error();
  auto in_dir = [&](const char* name) { return (fs::path(*dir) / name).string(); };
  BundleFiles files{in_dir("ca.pem"),         in_dir("ca_key.pem"), in_dir("server.pem"),
                    in_dir("server_key.pem"), in_dir("signer.pem"), in_dir("signer_key.pem")};

  // Fail fast before spending time on keys; write_planned checks again just before writing.
  if (!options.force) {
    for (const auto* path : {&files.ca_cert, &files.ca_key, &files.server_cert, &files.server_key,
                             &files.signer_cert, &files.signer_key}) {
      std::error_code ec;
      if (fs::symlink_status(*path, ec).type() != fs::file_type::not_found) {
        return make_error(Reason::kFileExists,
                          *path + " (nothing was written; use --force to overwrite)");
      }
    }
  }

  auto ca_key = ec_p256_key();
  auto server_key = ec_p256_key();
  auto signer_key = rsa_2048_key();
  if (!ca_key) return ca_key.error();
  if (!server_key) return server_key.error();
  if (!signer_key) return signer_key.error();

  auto ca = make_certificate(Profile::kCa, "jotgate development CA", ca_key->get(), nullptr,
                             nullptr, options.days);
  if (!ca) return ca.error();
  auto server = make_certificate(Profile::kServer, options.common_name, server_key->get(),
                                 ca->get(), ca_key->get(), options.days);
  if (!server) return server.error();
  auto signer = make_certificate(Profile::kSigner, "jotgate token signer", signer_key->get(),
                                 ca->get(), ca_key->get(), options.days);
  if (!signer) return signer.error();

  std::vector<PlannedFile> planned;
  auto plan = [&](const std::string& path, Result<std::string> pem, mode_t mode) -> Result<void> {
    if (!pem) return pem.error();
    planned.push_back({path, std::move(*pem), mode});
    return {};
  };
  for (auto step : {plan(files.ca_cert, certificate_pem(ca->get()), kPublicMode),
                    plan(files.ca_key, private_key_pem(ca_key->get()), kPrivateMode),
                    plan(files.server_cert, certificate_pem(server->get()), kPublicMode),
                    plan(files.server_key, private_key_pem(server_key->get()), kPrivateMode),
                    plan(files.signer_cert, certificate_pem(signer->get()), kPublicMode),
                    plan(files.signer_key, private_key_pem(signer_key->get()), kPrivateMode)}) {
    if (!step) return step.error();
  }
  if (auto written = write_planned(planned, options.force); !written) return written.error();
  return files;
}

Result<void> generate_self_signed_tls(const std::string& cert_path, const std::string& key_path,
                                      const std::string& common_name, int days) {
  if (auto checked = check_options(common_name, days); !checked) return checked;
  auto key = ec_p256_key();
  if (!key) return key.error();
  auto cert =
      make_certificate(Profile::kSelfSignedServer, common_name, key->get(), nullptr, nullptr, days);
  if (!cert) return cert.error();
  auto cert_pem = certificate_pem(cert->get());
  if (!cert_pem) return cert_pem.error();
  auto key_pem = private_key_pem(key->get());
  if (!key_pem) return key_pem.error();
  return write_planned({{cert_path, std::move(*cert_pem), kPublicMode},
                        {key_path, std::move(*key_pem), kPrivateMode}},
                       false);
}

}  // namespace jotgate::pki
