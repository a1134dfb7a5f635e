#include "config/gateway_config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <initializer_list>
#include <set>
#include <sstream>
#include <string_view>
#include <tuple>

#include <yaml-cpp/yaml.h>

#include "base/duration.h"
#include "base/file.h"
#include "base/text.h"
#include "config/environment.h"
#include "jose/key.h"

namespace jotgate::config {

namespace fs = std::filesystem;

namespace {

std::string in_quotes(std::string_view text) { return "\"" + std::string(text) + "\""; }

std::string child(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}
std::string item(const std::string& path, std::size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

// RFC 9110 tchar: header names and (RFC 6265) cookie names.
bool is_token(std::string_view text) {
  if (text.empty()) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

bool valid_prefix(std::string_view prefix) {
  return std::all_of(prefix.begin(), prefix.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
  });
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value > 65535) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(value);
}

// "host:port" or "[v6]:port" into host and port.
bool split_host_port(std::string_view text, std::string& host, std::uint16_t& port) {
  std::size_t colon;
  if (!text.empty() && text.front() == '[') {
    std::size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return false;
    }
    host = std::string(text.substr(1, close - 1));
    colon = close + 1;
  } else {
    colon = text.rfind(':');
    if (colon == std::string_view::npos) return false;
    host = std::string(text.substr(0, colon));
    if (host.find(':') != std::string::npos) return false;  // IPv6 needs brackets
  }
  auto parsed = parse_port(text.substr(colon + 1));
  if (!parsed || host.empty() || has_control(host) || host.find(' ') != std::string::npos) {
    return false;
  }
  port = *parsed;
  return true;
}

// Collects every problem with its place; the parse goes on after an error so that one run
// shows them all.
class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}

  void error(const YAML::Node& node, const std::string& path, const std::string& message) {
    YAML::Mark mark = node.IsDefined() ? node.Mark() : YAML::Mark::null_mark();
    error_at(mark, path, message);
  }
  void error_at(const YAML::Mark& mark, const std::string& path, const std::string& message) {
    if (mark.pos >= 0 && unresolved_.contains(mark.pos)) return;
    errors_.push_back(problem_line(mark, path, message));
    problems_.push_back({path, message});
  }
  // "<file>:<line>:<column>: <yaml.path>: <message>", the form of every problem.
  std::string problem_line(const YAML::Mark& mark, const std::string& path,
                           const std::string& message) const {
    std::string place = source_;
    if (mark.line >= 0) {
      place += ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
    }
    return place + ": " + (path.empty() ? "" : path + ": ") + message;
  }
  const std::vector<std::string>& errors() const { return errors_; }
  // The same problems as {yaml.path, message}, without their place in the text.
  const std::vector<FieldProblem>& problems() const { return problems_; }

  // A value whose environment reference failed is reported once, for that reason: what else
  // its unreplaced text would cause is not (the value it was meant to have is unknown).
  void mark_unresolved(const YAML::Mark& mark) {
    if (mark.pos >= 0) unresolved_.insert(mark.pos);
  }

  // A map node, its unknown keys reported. Returns false when the node is not a map.
  bool map(const YAML::Node& node, const std::string& path,
           std::initializer_list<std::string_view> known) {
    return map(node, path, std::vector<std::string_view>(known));
  }
  bool map(const YAML::Node& node, const std::string& path,
           const std::vector<std::string_view>& known) {
    if (!node.IsMap()) {
      error(node, path, "expected a mapping");
      return false;
    }
    for (const auto& entry : node) {
      std::string key = entry.first.IsScalar() ? entry.first.Scalar() : std::string();
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        std::string list;
        for (auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
        error(entry.first, child(path, key), "unknown key (expected one of: " + list + ")");
      }
    }
    return true;
  }

  std::optional<std::string> string(const YAML::Node& parent, const std::string& path,
                                    std::string_view key) {
    YAML::Node node = parent[std::string(key)];
    if (!node.IsDefined() || node.IsNull()) return std::nullopt;
    if (!node.IsScalar()) {
      error(node, child(path, key), "expected a string");
      return std::nullopt;
    }
    return node.Scalar();
  }

  std::optional<bool> boolean(const YAML::Node& parent, const std::string& path,
                              std::string_view key) {
    YAML::Node node = parent[std::string(key)];
    if (!node.IsDefined() || node.IsNull()) return std::nullopt;
    bool value = false;
    if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value)) {
      error(node, child(path, key), "expected true or false");
      return std::nullopt;
    }
    return value;
  }

  std::optional<std::int64_t> count(const YAML::Node& parent, const std::string& path,
                                    std::string_view key) {
    YAML::Node node = parent[std::string(key)];
    if (!node.IsDefined() || node.IsNull()) return std::nullopt;
    std::int64_t value = 0;
    const std::string text = node.IsScalar() ? node.Scalar() : std::string();
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < 0) {
      error(node, child(path, key), "expected a whole number >= 0");
      return std::nullopt;
    }
    return value;
  }

  // Whole seconds (lifetimes, leeway).
  std::optional<std::int64_t> duration(const YAML::Node& parent, const std::string& path,
                                       std::string_view key) {
    return parsed(parent, path, key, parse_duration_seconds,
                  "expected a duration such as 90s, 30m, 8h, 2d or whole seconds");
  }

  // Timeouts: milliseconds too.
  std::optional<std::chrono::milliseconds> timeout(const YAML::Node& parent,
                                                   const std::string& path, std::string_view key) {
    return parsed(parent, path, key, parse_duration,
                  "expected a duration such as 250ms, 90s, 30m, 8h, 2d or whole seconds");
  }

  // A scalar read by `parse` (nullopt: not valid, reported as `expected`); nullopt when absent.
  template <typename Parse>
  auto parsed(const YAML::Node& parent, const std::string& path, std::string_view key, Parse parse,
              const char* expected) -> decltype(parse(std::string_view())) {
    YAML::Node node = parent[std::string(key)];
    if (!node.IsDefined() || node.IsNull()) return std::nullopt;
    decltype(parse(std::string_view())) value;
    if (node.IsScalar()) value = parse(node.Scalar());
    if (!value) error(node, child(path, key), expected);
    return value;
  }

  // A sequence of strings; nullopt when absent or wrong (the error is reported).
  std::optional<std::vector<std::string>> strings(const YAML::Node& parent, const std::string& path,
                                                  std::string_view key,
                                                  std::vector<YAML::Mark>* marks = nullptr) {
    YAML::Node node = parent[std::string(key)];
    if (!node.IsDefined() || node.IsNull()) return std::nullopt;
    if (!node.IsSequence()) {
      error(node, child(path, key), "expected a list");
      return std::nullopt;
    }
    std::vector<std::string> values;
    bool ok = true;
    for (std::size_t i = 0; i < node.size(); ++i) {
      if (!node[i].IsScalar()) {
        error(node[i], item(child(path, key), i), "expected a string");
        ok = false;
        continue;
      }
      values.push_back(node[i].Scalar());
      if (marks != nullptr) marks->push_back(node[i].Mark());
    }
    if (!ok) return std::nullopt;
    return values;
  }

 private:
  std::string source_;
  std::vector<std::string> errors_;
  std::vector<FieldProblem> problems_;
  std::set<int> unresolved_;  // marks' positions
};

// Where a reference `offset` bytes into a scalar's value is in the file: a plain or quoted
// scalar written on one line without escapes is its text at its mark (after the quote);
// otherwise (escapes, block scalars) the scalar's own start.
YAML::Mark place_in_scalar(std::string_view yaml_text, YAML::Mark mark, std::string_view value,
                           std::size_t offset) {
  if (mark.pos < 0 || static_cast<std::size_t>(mark.pos) >= yaml_text.size()) return mark;
  std::string_view written = yaml_text.substr(static_cast<std::size_t>(mark.pos));
  const int quote = written.starts_with('"') || written.starts_with('\'') ? 1 : 0;
  if (value.find('\n') != std::string_view::npos || !written.substr(quote).starts_with(value)) {
    return mark;
  }
  const int shift = quote + static_cast<int>(offset);
  mark.pos += shift;
  mark.column += shift;
  return mark;
}

std::string resolve(const std::string& base_dir, const std::string& path) {
  fs::path p(path);
  if (p.is_relative()) p = fs::path(base_dir) / p;
  return p.lexically_normal().string();
}

// "https://host[:port][/path][?query]": where keys may be fetched from (never plain HTTP).
bool is_https_url(std::string_view url) {
  if (!url.starts_with("https://") || has_control(url)) return false;
  std::string_view rest = url.substr(8);
  const std::string_view authority = rest.substr(0, rest.find_first_of("/?"));
  return !authority.empty() && authority.find_first_of(" @#\\") == std::string_view::npos &&
         rest.find_first_of(" #") == std::string_view::npos;
}

class ConfigParser {
 public:
  ConfigParser(std::string source, std::string base_dir, KeyFiles key_files)
      : reader_(std::move(source)), base_dir_(std::move(base_dir)), key_files_(key_files) {}

  // One virtual proxy document, in the setting of `base`. Unlike the file, no ${NAME} is
  // replaced: a document is data from the admin API, and the gateway's environment is not its
  // to read.
  VirtualProxyDocument parse_document(std::string_view text, const GatewayConfig& base) {
    YAML::Node node;
    try {
      node = YAML::Load(std::string(text));
    } catch (const YAML::ParserException& e) {
      return {std::nullopt, {{"", "not valid JSON: " + e.msg}}};
    }
    config_.listeners = base.listeners;
    config_.data_dir = base.data_dir;
    auto vp = parse_virtual_proxy(node, "");
    if (vp && base.session_store.type == SessionStoreType::kRedis) {
      check_redis_sessions(node, "", *vp);
    }
    if (!vp || !reader_.problems().empty()) return {std::nullopt, reader_.problems()};
    return {std::move(vp), {}};
  }

  Result<GatewayConfig> parse(const std::string& yaml_text) {
    YAML::Node root;
    try {
      root = YAML::Load(yaml_text);
    } catch (const YAML::ParserException& e) {
      reader_.error_at(e.mark, "", "not valid YAML: " + e.msg);
      return failure();
    }
    if (!root.IsDefined() || root.IsNull()) {
      reader_.error_at(YAML::Mark::null_mark(), "", "the file is empty");
      return failure();
    }
    std::set<int> expanded;
    expand_environment_references(yaml_text, root, "", expanded);
    if (!reader_.map(
            root, "",
            {"data_dir", "listeners", "virtual_proxies", "access", "log_format", "access_log",
             "limits", "admin", "watch", "session_store", "ops", "database"})) {
      return failure();
    }
    config_.data_dir =
        resolve(base_dir_, reader_.string(root, "", "data_dir").value_or("jotgate-data"));
    config_.watch = reader_.boolean(root, "", "watch").value_or(false);
    parse_listeners(root);
    parse_virtual_proxies(root);
    parse_access(root);
    parse_session_store(root);
    parse_database(root);
    if (auto format = reader_.string(root, "", "log_format")) {
      if (*format == "text")
        config_.log_format = LogFormat::kText;
      else if (*format == "json")
        config_.log_format = LogFormat::kJson;
      else
        reader_.error(root["log_format"], "log_format",
                      in_quotes(*format) + " is not text or json");
    }
    if (auto log = reader_.string(root, "", "access_log"); log && !log->empty()) {
      if (*log == "off") {
        config_.access_log_enabled = false;
      } else {
        config_.access_log = resolve(base_dir_, *log);
      }
    }
    parse_limits(root);
    parse_admin(root);
    parse_ops(root);
    if (!reader_.errors().empty()) return failure();
    return std::move(config_);
  }

 private:
  Error failure() const {
    std::string detail;
    for (const auto& line : reader_.errors()) detail += (detail.empty() ? "" : "\n") + line;
    return make_error(Reason::kBadRequest, detail);
  }

  // Replaces `${NAME}` references in every scalar value (keys name the schema and stay as
  // written). `expanded`: the positions of the scalars done, so that a YAML alias of one is not
  // expanded a second time (a value from the environment is never expanded).
  // A mapping or sequence is walked once: an alias of it names the same nodes, and one inside
  // itself (`a: &x [*x]`) would otherwise be walked forever.
  void expand_environment_references(std::string_view yaml_text, YAML::Node node,
                                     const std::string& path, std::set<int>& expanded) {
    if ((node.IsMap() || node.IsSequence()) && !expanded.insert(node.Mark().pos).second) return;
    if (node.IsMap()) {
      for (auto entry : node) {
        const std::string key = entry.first.IsScalar() ? entry.first.Scalar() : "?";
        expand_environment_references(yaml_text, entry.second, child(path, key), expanded);
      }
    } else if (node.IsSequence()) {
      for (std::size_t i = 0; i < node.size(); ++i) {
        expand_environment_references(yaml_text, node[i], item(path, i), expanded);
      }
    } else if (node.IsScalar() && node.Scalar().find('$') != std::string::npos &&
               expanded.insert(node.Mark().pos).second) {
      const std::string written = node.Scalar();
      Expansion expansion = expand_environment(written, process_environment);
      for (const auto& problem : expansion.problems) {
        reader_.error_at(place_in_scalar(yaml_text, node.Mark(), written, problem.offset), path,
                         problem.message);
      }
      if (expansion.problems.empty()) {
        node = expansion.text;
      } else {
        reader_.mark_unresolved(node.Mark());
      }
    }
  }

  void parse_listeners(const YAML::Node& root) {
    YAML::Node list = root["listeners"];
    if (!list.IsDefined() || list.IsNull() || (list.IsSequence() && list.size() == 0)) {
      reader_.error(root, "listeners", "at least one listener is required");
      return;
    }
    if (!list.IsSequence()) {
      reader_.error(list, "listeners", "expected a list");
      return;
    }
    std::map<std::string, std::size_t> names;
    for (std::size_t i = 0; i < list.size(); ++i) {
      const YAML::Node node = list[i];
      const std::string path = item("listeners", i);
      if (!reader_.map(node, path, {"name", "address", "tls", "trusted"})) continue;
      Listener listener;
      if (auto name = reader_.string(node, path, "name"); name && !name->empty()) {
        listener.name = *name;
        auto [it, fresh] = names.emplace(*name, i);
        if (!fresh) {
          reader_.error(node["name"], child(path, "name"),
                        in_quotes(*name) + " is already used by " + item("listeners", it->second));
        }
      } else {
        reader_.error(node, child(path, "name"), "a name is required");
      }
      if (auto address = reader_.string(node, path, "address")) {
        if (!split_host_port(*address, listener.host, listener.port)) {
          reader_.error(node["address"], child(path, "address"),
                        in_quotes(*address) + " is not host:port (IPv6: [::1]:8443)");
        }
      } else {
        reader_.error(node, child(path, "address"), "an address host:port is required");
      }
      listener.trusted = reader_.boolean(node, path, "trusted").value_or(false);
      YAML::Node tls = node["tls"];
      if (tls.IsDefined() && !tls.IsNull()) listener.tls = parse_tls(tls, child(path, "tls"));
      config_.listeners.push_back(std::move(listener));
    }
  }

  // `tls: {certificate, key}`; nullopt when wrong (reported). Both files missing: generate.
  std::optional<TlsSettings> parse_tls(const YAML::Node& tls, const std::string& tls_path) {
    if (!reader_.map(tls, tls_path, {"certificate", "key", "min_version"})) return std::nullopt;
    auto certificate = reader_.string(tls, tls_path, "certificate");
    auto key = reader_.string(tls, tls_path, "key");
    if (!certificate || certificate->empty()) {
      reader_.error(tls, child(tls_path, "certificate"), "a certificate file is required");
      return std::nullopt;
    }
    if (!key || key->empty()) {
      reader_.error(tls, child(tls_path, "key"), "a private key file is required");
      return std::nullopt;
    }
    TlsSettings settings{resolve(base_dir_, *certificate), resolve(base_dir_, *key), false};
    if (auto version = reader_.string(tls, tls_path, "min_version")) {
      // OpenSSL's spelling ("TLSv1.3", as in nginx's ssl_protocols) is accepted too.
      if (*version == "1.2" || *version == "TLSv1.2") {
        settings.min_version = TlsVersion::kTls12;
      } else if (*version == "1.3" || *version == "TLSv1.3") {
        settings.min_version = TlsVersion::kTls13;
      } else {
        reader_.error(tls["min_version"], child(tls_path, "min_version"),
                      in_quotes(*version) +
                          " is not a TLS version this gateway offers "
                          "(expected \"1.2\" or \"1.3\")");
      }
    }
    // The error_code forms: a name the system refuses (too long, ...) counts as missing, never
    // throws.
    std::error_code ec;
    const bool has_cert = fs::exists(settings.certificate, ec);
    const bool has_key = fs::exists(settings.key, ec);
    if (!has_cert && !has_key) {
      settings.generate_if_missing = true;
    } else if (has_cert != has_key) {
      reader_.error(tls, tls_path,
                    (has_cert ? settings.key : settings.certificate) + " is missing while " +
                        (has_cert ? settings.certificate : settings.key) +
                        " exists (when both are missing a self-signed pair is generated)");
    }
    return settings;
  }

  // The admin listener: TLS only, and at least one way for clients to prove who they are.
  void parse_admin(const YAML::Node& root) {
    YAML::Node node = root["admin"];
    if (!node.IsDefined() || node.IsNull()) return;
    if (!reader_.map(node, "admin", {"address", "tls", "client_ca", "token_file"})) return;
    AdminSettings admin;
    if (auto address = reader_.string(node, "admin", "address")) {
      if (!split_host_port(*address, admin.host, admin.port)) {
        reader_.error(node["address"], "admin.address",
                      in_quotes(*address) + " is not host:port (IPv6: [::1]:4243)");
      }
    }
    YAML::Node tls = node["tls"];
    if (!tls.IsDefined() || tls.IsNull()) {
      reader_.error(node, "admin.tls",
                    "a tls section {certificate, key} is required: the admin API is served over "
                    "TLS only");
    } else if (auto settings = parse_tls(tls, "admin.tls")) {
      admin.tls = std::move(*settings);
    }
    // Files the admin listener reads at start: they must exist now, not be generated.
    for (auto [key, target] :
         {std::pair<std::string_view, std::string*>{"client_ca", &admin.client_ca},
          {"token_file", &admin.token_file}}) {
      auto file = reader_.string(node, "admin", key);
      if (!file || file->empty()) continue;
      *target = resolve(base_dir_, *file);
      std::error_code ec;
      if (!fs::is_regular_file(*target, ec)) {
        reader_.error(node[std::string(key)], child("admin", key),
                      *target + " does not exist or is not a file");
      }
    }
    if (admin.client_ca.empty() && admin.token_file.empty()) {
      reader_.error(node, "admin",
                    "client_ca or token_file is required (or both): the admin API admits only "
                    "clients with a certificate signed by client_ca or the token in token_file");
    }
    config_.admin = std::move(admin);
  }

  // The ops listener: plain HTTP; `ops: {}` listens on the default address.
  void parse_ops(const YAML::Node& root) {
    YAML::Node node = root["ops"];
    if (!node.IsDefined() || node.IsNull()) return;
    if (!reader_.map(node, "ops", {"address"})) return;
    OpsSettings ops;
    if (auto address = reader_.string(node, "ops", "address")) {
      if (!split_host_port(*address, ops.host, ops.port)) {
        reader_.error(node["address"], "ops.address",
                      in_quotes(*address) + " is not host:port (IPv6: [::1]:9100)");
      }
    }
    config_.ops = std::move(ops);
  }

  void parse_virtual_proxies(const YAML::Node& root) {
    YAML::Node list = root["virtual_proxies"];
    if (!list.IsDefined() || list.IsNull() || (list.IsSequence() && list.size() == 0)) {
      reader_.error(root, "virtual_proxies", "at least one virtual proxy is required");
      return;
    }
    if (!list.IsSequence()) {
      reader_.error(list, "virtual_proxies", "expected a list");
      return;
    }
    std::map<std::string, std::size_t> names;
    std::map<std::string, std::size_t> prefixes;
    for (std::size_t i = 0; i < list.size(); ++i) {
      const YAML::Node node = list[i];
      const std::string path = item("virtual_proxies", i);
      auto vp = parse_virtual_proxy(node, path);
      if (!vp) continue;
      if (!vp->name.empty()) {
        auto [it, fresh] = names.emplace(vp->name, i);
        if (!fresh) {
          reader_.error(
              node["name"], child(path, "name"),
              in_quotes(vp->name) + " is already used by " + item("virtual_proxies", it->second));
        }
      }
      // A const node answers a missing key with an invalid node, which throws on IsScalar.
      const YAML::Node prefix = node["prefix"];
      if (prefix.IsDefined() && prefix.IsScalar() && valid_prefix(vp->prefix)) {
        auto [it, fresh] = prefixes.emplace(vp->prefix, i);
        if (!fresh) {
          reader_.error(
              node["prefix"], child(path, "prefix"),
              in_quotes(vp->prefix) + " is already used by " + item("virtual_proxies", it->second));
        }
      }
      config_.virtual_proxies.push_back(std::move(*vp));
      virtual_proxy_items_.push_back(i);
    }
  }

  // One item of virtual_proxies (of the file, or a document of the admin API with `path` ""):
  // everything but what depends on the other virtual proxies (unique names and prefixes).
  // nullopt when it is not a mapping (reported).
  std::optional<VirtualProxy> parse_virtual_proxy(const YAML::Node& node, const std::string& path) {
    if (!reader_.map(
            node, path,
            {"name", "prefix", "listeners", "upstreams", "strip_prefix", "session", "auth",
             "identity_header", "response_headers", "host_allow_list", "connect_timeout",
             "read_timeout", "logout_redirect_uri", "cors", "allow_underscores_in_headers"})) {
      return std::nullopt;
    }
    VirtualProxy vp;
    if (auto name = reader_.string(node, path, "name"); name && !name->empty()) {
      vp.name = *name;
    } else {
      reader_.error(node, child(path, "name"), "a name is required");
    }
    if (auto prefix = reader_.string(node, path, "prefix")) {
      vp.prefix = *prefix;
      if (!valid_prefix(*prefix)) {
        reader_.error(node["prefix"], child(path, "prefix"),
                      in_quotes(*prefix) +
                          " may only contain a-z, 0-9, '.', '_' and '-' (\"\" serves the root)");
      }
    } else {
      reader_.error(node, child(path, "prefix"), "a prefix is required (\"\" serves the root)");
    }
    parse_vp_listeners(node, path, vp);
    parse_upstreams(node, path, vp);
    vp.strip_prefix = reader_.boolean(node, path, "strip_prefix").value_or(true);
    parse_session(node, path, vp);
    parse_auth(node, path, vp);
    if (auto header = reader_.string(node, path, "identity_header")) {
      vp.identity_header = *header;
      if (!is_token(*header)) {
        reader_.error(node["identity_header"], child(path, "identity_header"),
                      in_quotes(*header) + " is not a valid header name");
      }
    }
    vp.allow_underscores_in_headers =
        reader_.boolean(node, path, "allow_underscores_in_headers").value_or(false);
    parse_response_headers(node, path, vp);
    if (auto uri = redirect_uri(node, path, "logout_redirect_uri")) vp.logout_redirect_uri = *uri;
    if (auto hosts = reader_.strings(node, path, "host_allow_list")) {
      for (std::size_t h = 0; h < hosts->size(); ++h) {
        const auto& host = (*hosts)[h];
        if (host.empty() || has_control(host) || host.find(' ') != std::string::npos) {
          reader_.error(node["host_allow_list"][h], item(child(path, "host_allow_list"), h),
                        in_quotes(host) + " is not a host name (host or host:port)");
        }
      }
      vp.host_allow_list = std::move(*hosts);
    }
    parse_cors(node, path, vp);
    if (auto t = reader_.timeout(node, path, "connect_timeout")) vp.connect_timeout = *t;
    if (auto t = reader_.timeout(node, path, "read_timeout")) vp.read_timeout = *t;
    return vp;
  }

  void parse_vp_listeners(const YAML::Node& node, const std::string& path, VirtualProxy& vp) {
    auto names = reader_.strings(node, path, "listeners");
    if (!names) {
      if (!node["listeners"].IsDefined() || node["listeners"].IsNull()) {
        reader_.error(node, child(path, "listeners"), "at least one listener name is required");
      }
      return;
    }
    if (names->empty()) {
      reader_.error(node["listeners"], child(path, "listeners"),
                    "at least one listener name is required");
    }
    for (std::size_t l = 0; l < names->size(); ++l) {
      const auto& name = (*names)[l];
      bool known = std::any_of(config_.listeners.begin(), config_.listeners.end(),
                               [&](const Listener& listener) { return listener.name == name; });
      if (!known) {
        reader_.error(node["listeners"][l], item(child(path, "listeners"), l),
                      "no listener is named " + in_quotes(name));
      }
    }
    vp.listeners = std::move(*names);
  }

  // None: a virtual proxy that only decides (GET .auth/verify for another proxy); what it
  // would forward is answered 502 UPSTREAM_UNAVAILABLE.
  void parse_upstreams(const YAML::Node& node, const std::string& path, VirtualProxy& vp) {
    auto urls = reader_.strings(node, path, "upstreams");
    if (!urls) return;
    for (std::size_t u = 0; u < urls->size(); ++u) {
      auto upstream = parse_upstream((*urls)[u]);
      if (!upstream) {
        reader_.error(node["upstreams"][u], item(child(path, "upstreams"), u),
                      in_quotes((*urls)[u]) + " is not http(s)://host:port[/path]");
        continue;
      }
      vp.upstreams.push_back(std::move(*upstream));
    }
  }

  static std::optional<Upstream> parse_upstream(const std::string& url) {
    Upstream upstream;
    upstream.url = url;
    std::string_view rest(url);
    if (rest.starts_with("https://")) {
      upstream.tls = true;
      rest.remove_prefix(8);
    } else if (rest.starts_with("http://")) {
      rest.remove_prefix(7);
    } else {
      return std::nullopt;
    }
    if (has_control(rest) || rest.find_first_of(" ?#@\\") != std::string_view::npos) {
      return std::nullopt;
    }
    std::size_t slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    std::string_view path =
        slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
    bool has_port = !authority.empty() &&
                    (authority.front() == '[' ? authority.find("]:") != std::string_view::npos
                                              : authority.find(':') != std::string_view::npos);
    std::string with_port = std::string(authority);
    if (!has_port) with_port += upstream.tls ? ":443" : ":80";
    if (!split_host_port(with_port, upstream.host, upstream.port) || upstream.port == 0) {
      return std::nullopt;
    }
    while (path.ends_with('/')) path.remove_suffix(1);
    upstream.base_path = std::string(path);
    return upstream;
  }

  void parse_cors(const YAML::Node& vp_node, const std::string& vp_path, VirtualProxy& vp) {
    YAML::Node node = vp_node["cors"];
    const std::string path = child(vp_path, "cors");
    if (!node.IsDefined() || node.IsNull()) return;
    if (!reader_.map(node, path, {"allowed_origins"})) return;
    auto origins = reader_.strings(node, path, "allowed_origins");
    if (!origins) return;
    for (std::size_t i = 0; i < origins->size(); ++i) {
      const std::string& origin = (*origins)[i];
      // As browsers send it: scheme://host[:port], lower case, nothing after. No wildcards:
      // credentials are only ever allowed for origins named here.
      const std::size_t scheme_end = origin.find("://");
      const std::string scheme =
          scheme_end == std::string::npos ? "" : origin.substr(0, scheme_end);
      const std::string rest = scheme_end == std::string::npos ? "" : origin.substr(scheme_end + 3);
      const bool lower = std::none_of(origin.begin(), origin.end(), [](char c) {
        return std::isupper(static_cast<unsigned char>(c));
      });
      if ((scheme != "http" && scheme != "https") || rest.empty() || !lower ||
          rest.find_first_of("/?#*@ \\") != std::string::npos || has_control(origin)) {
        reader_.error(node["allowed_origins"][i], item(child(path, "allowed_origins"), i),
                      in_quotes(origin) +
                          " is not an origin such as https://app.example.com "
                          "(lower case, no path, no wildcard)");
      }
    }
    vp.cors_allowed_origins = std::move(*origins);
  }

  void parse_session(const YAML::Node& vp_node, const std::string& vp_path, VirtualProxy& vp) {
    SessionSettings& s = vp.session;
    s.cookie_name = vp.prefix.empty() ? "X-Jotgate-Session" : "X-Jotgate-Session-" + vp.prefix;
    YAML::Node node = vp_node["session"];
    const std::string path = child(vp_path, "session");
    if (!node.IsDefined() || node.IsNull()) return;
    if (!reader_.map(node, path,
                     {"cookie_name", "inactivity_timeout", "max_lifetime", "max_per_user",
                      "same_site", "secure", "domain", "partitioned"})) {
      return;
    }
    if (auto name = reader_.string(node, path, "cookie_name")) {
      s.cookie_name = *name;
      if (!is_token(*name)) {
        reader_.error(node["cookie_name"], child(path, "cookie_name"),
                      in_quotes(*name) + " is not a valid cookie name");
      }
    }
    if (auto t = reader_.duration(node, path, "inactivity_timeout")) {
      s.inactivity_timeout_seconds = *t;
      if (*t == 0) {
        reader_.error(node["inactivity_timeout"], child(path, "inactivity_timeout"),
                      "must be longer than 0");
      }
    }
    if (auto t = reader_.duration(node, path, "max_lifetime")) s.max_lifetime_seconds = *t;
    if (auto n = reader_.count(node, path, "max_per_user")) s.max_per_user = *n;
    if (auto v = reader_.string(node, path, "same_site")) {
      if (*v == "lax")
        s.same_site = SameSite::kLax;
      else if (*v == "strict")
        s.same_site = SameSite::kStrict;
      else if (*v == "none")
        s.same_site = SameSite::kNone;
      else
        reader_.error(node["same_site"], child(path, "same_site"),
                      in_quotes(*v) + " is not lax, strict or none");
    }
    if (auto v = reader_.string(node, path, "secure")) {
      if (*v == "auto")
        s.secure = SecureMode::kAuto;
      else if (*v == "always" || *v == "true")
        s.secure = SecureMode::kAlways;
      else if (*v == "never" || *v == "false")
        s.secure = SecureMode::kNever;
      else
        reader_.error(node["secure"], child(path, "secure"),
                      in_quotes(*v) + " is not auto, always or never");
    }
    if (s.same_site == SameSite::kNone && s.secure == SecureMode::kNever) {
      reader_.error(node["same_site"], child(path, "same_site"),
                    "none requires secure cookies (secure: auto or always, not never)");
    }
    const auto partitioned = reader_.boolean(node, path, "partitioned");
    s.partitioned = partitioned.value_or(s.same_site == SameSite::kNone);
    if (partitioned && *partitioned && s.secure == SecureMode::kNever) {
      reader_.error(node["partitioned"], child(path, "partitioned"),
                    "true requires secure cookies (secure: auto or always, not never): browsers "
                    "drop a Partitioned cookie without Secure");
    }
    if (auto domain = reader_.string(node, path, "domain")) {
      s.domain = *domain;
      if (!domain->empty() &&
          (has_control(*domain) || domain->find_first_of(" ;,\"") != std::string::npos)) {
        reader_.error(node["domain"], child(path, "domain"),
                      in_quotes(*domain) + " is not a domain name");
      }
    }
  }

  // A URL the gateway sends browsers to: an absolute http(s) URL or a path on this host. It
  // becomes a Location header, so nothing that could add a header line or be read as another
  // host ("//evil").
  std::optional<std::string> redirect_uri(const YAML::Node& node, const std::string& path,
                                          const std::string& key) {
    auto uri = reader_.string(node, path, key);
    if (!uri) return std::nullopt;
    const bool url = uri->starts_with("https://") || uri->starts_with("http://");
    const bool local = uri->starts_with("/") && !uri->starts_with("//");
    if (!uri->empty() &&
        ((!url && !local) || has_control(*uri) || uri->find_first_of(" \\") != std::string::npos)) {
      reader_.error(node[key], child(path, key),
                    in_quotes(*uri) + " is not an http(s) URL or a path starting with /");
    }
    return uri;
  }

  void parse_auth(const YAML::Node& vp_node, const std::string& vp_path, VirtualProxy& vp) {
    YAML::Node node = vp_node["auth"];
    const std::string path = child(vp_path, "auth");
    if (!node.IsDefined() || node.IsNull()) {
      reader_.error(vp_node, path, "an auth section (method: jwt, header or ticket) is required");
      return;
    }
    if (!reader_.map(node, path,
                     {"method", "jwt", "header", "anonymous", "redirect_uri", "ticket_lifetime",
                      "forward_attributes", "endpoint", "failure_limit"})) {
      return;
    }
    if (auto limit = reader_.parsed(node, path, "failure_limit", parse_failure_limit,
                                    "expected failures per second, minute or hour (N/s, N/m, "
                                    "N/h, N from 1 to 1000000), or off")) {
      vp.auth.failure_limit = *limit;
    }
    header_map(node, path, "forward_attributes", vp.auth.forward_attributes);
    if (auto uri = redirect_uri(node, path, "redirect_uri")) vp.auth.redirect_uri = *uri;
    if (auto t = reader_.duration(node, path, "ticket_lifetime")) {
      vp.auth.ticket_lifetime_seconds = *t;
      if (*t == 0) {
        reader_.error(node["ticket_lifetime"], child(path, "ticket_lifetime"),
                      "must be longer than 0");
      }
    }
    if (auto mode = reader_.string(node, path, "anonymous")) {
      if (*mode == "none")
        vp.auth.anonymous = AnonymousMode::kNone;
      else if (*mode == "allow")
        vp.auth.anonymous = AnonymousMode::kAllow;
      else if (*mode == "always")
        vp.auth.anonymous = AnonymousMode::kAlways;
      else
        reader_.error(node["anonymous"], child(path, "anonymous"),
                      in_quotes(*mode) + " is not none, allow or always");
    }
    if (auto endpoint = reader_.string(node, path, "endpoint")) {
      vp.auth.endpoint = *endpoint;
      const bool segment =
          !endpoint->empty() && *endpoint != "." && *endpoint != ".." &&
          std::all_of(endpoint->begin(), endpoint->end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
          });
      if (!segment) {
        reader_.error(node["endpoint"], child(path, "endpoint"),
                      in_quotes(*endpoint) +
                          " is not one path segment of letters, digits, '.', "
                          "'_' or '-'");
      }
    }
    if (auto method = reader_.string(node, path, "method")) {
      if (*method == "jwt")
        vp.auth.method = AuthMethod::kJwt;
      else if (*method == "header")
        vp.auth.method = AuthMethod::kHeader;
      else if (*method == "ticket")
        vp.auth.method = AuthMethod::kTicket;
      else {
        reader_.error(node["method"], child(path, "method"),
                      in_quotes(*method) + " is not jwt, header or ticket");
        return;
      }
    }
    // Each method reads its own section; another method's section is a mistake worth naming.
    for (auto [key, method] : {std::pair<std::string, AuthMethod>{"jwt", AuthMethod::kJwt},
                               {"header", AuthMethod::kHeader}}) {
      if (node[key].IsDefined() && vp.auth.method != method) {
        reader_.error(node[key], child(path, key),
                      "is used only with method: " + key + " (method is " +
                          std::string(auth_method_name(vp.auth.method)) + ")");
      }
    }
    if (vp.auth.method == AuthMethod::kHeader) parse_header_auth(node, path, vp);
    if (vp.auth.method == AuthMethod::kJwt) parse_jwt(node, path, vp);
  }

  // A mapping name: header (forwarded claims or attributes).
  void header_map(const YAML::Node& parent, const std::string& path, const std::string& key,
                  std::map<std::string, std::string>& out) {
    YAML::Node node = parent[key];
    const std::string map_path = child(path, key);
    if (!node.IsDefined() || node.IsNull()) return;
    if (!node.IsMap()) {
      reader_.error(node, map_path, "expected a mapping name: header");
      return;
    }
    for (const auto& entry : node) {
      const std::string name = entry.first.Scalar();
      if (!entry.second.IsScalar() || !is_token(entry.second.Scalar())) {
        reader_.error(entry.second, child(map_path, name), "expected a valid header name");
        continue;
      }
      out[name] = entry.second.Scalar();
    }
  }

  void parse_header_auth(const YAML::Node& node, const std::string& path, VirtualProxy& vp) {
    YAML::Node header = node["header"];
    const std::string header_path = child(path, "header");
    if (!header.IsDefined() || header.IsNull()) {
      reader_.error(node, header_path, "a header section with user_header is required");
      return;
    }
    if (!reader_.map(header, header_path, {"user_header", "directory_header", "directory"})) {
      return;
    }
    HeaderAuthSettings& settings = vp.auth.header;
    for (auto [key, target] :
         {std::pair<std::string, std::string*>{"user_header", &settings.user_header},
          {"directory_header", &settings.directory_header}}) {
      if (auto name = reader_.string(header, header_path, key)) {
        *target = *name;
        if (!is_token(*name)) {
          reader_.error(header[key], child(header_path, key),
                        in_quotes(*name) + " is not a valid header name");
        }
      }
    }
    if (settings.user_header.empty() && !header["user_header"].IsDefined()) {
      reader_.error(header, child(header_path, "user_header"),
                    "the header naming the user is required");
    }
    if (auto directory = reader_.string(header, header_path, "directory")) {
      settings.directory = *directory;
      if (header["directory_header"].IsDefined()) {
        reader_.error(header["directory"], child(header_path, "directory"),
                      "set either directory (a constant) or directory_header, not both");
      } else if (directory->empty() || has_control(*directory) ||
                 directory->find_first_of(";\\") != std::string::npos) {
        reader_.error(header["directory"], child(header_path, "directory"),
                      in_quotes(*directory) + " is not a valid user directory name");
      }
    }
    // Anyone can send a header to an untrusted listener: at least one must be trusted.
    const bool trusted = std::any_of(vp.listeners.begin(), vp.listeners.end(), [&](auto& name) {
      return std::any_of(config_.listeners.begin(), config_.listeners.end(),
                         [&](const Listener& l) { return l.name == name && l.trusted; });
    });
    if (!trusted && !vp.listeners.empty()) {
      reader_.error(node["method"], child(path, "method"),
                    "header authentication needs a listener marked trusted: true among this "
                    "virtual proxy's listeners (headers are accepted only there)");
    }
  }

  // What each provider sets (in the single-provider form: directly under auth.jwt).
  static std::vector<std::string_view> provider_keys() {
    return {"key",
            "key_pem",
            "jwks_uri",
            "discovery",
            "jwks_ca",
            "jwks_timeout",
            "jwks_refresh",
            "jwks_min_refetch",
            "jwks_max_stale",
            "issuer",
            "audience",
            "algorithms",
            "user_id_claim",
            "user_directory_claim",
            "user_directory",
            "forward_claims",
            "leeway",
            "required_claims"};
  }
  // auth.jwt: a provider's keys, or `providers` (the provider keys beside them, but issuer and
  // the key source, then being every provider's default), and what applies to all providers.
  static std::vector<std::string_view> jwt_keys() {
    std::vector<std::string_view> keys = provider_keys();
    keys.insert(keys.end(), {"providers", "forward_authorization", "token_cache"});
    return keys;
  }

  void parse_jwt(const YAML::Node& node, const std::string& path, VirtualProxy& vp) {
    YAML::Node jwt = node["jwt"];
    const std::string jwt_path = child(path, "jwt");
    if (!jwt.IsDefined() || jwt.IsNull()) {
      reader_.error(node, jwt_path, "a jwt section with a key is required");
      return;
    }
    if (!reader_.map(jwt, jwt_path, jwt_keys())) return;
    JwtSettings& settings = vp.auth.jwt;
    settings.forward_authorization =
        reader_.boolean(jwt, jwt_path, "forward_authorization").value_or(false);
    if (auto entries = reader_.count(jwt, jwt_path, "token_cache")) {
      settings.token_cache = static_cast<std::size_t>(*entries);
    }
    YAML::Node list = jwt["providers"];
    if (!list.IsDefined() || list.IsNull()) {
      JwtProvider provider;
      parse_provider(jwt, jwt_path, provider, JwksSettings{});
      settings.providers.push_back(std::move(provider));
      return;
    }
    settings.by_issuer = true;
    const std::string list_path = child(jwt_path, "providers");
    for (std::string_view key : {"issuer", "key", "key_pem", "jwks_uri", "discovery"}) {
      if (jwt[std::string(key)].IsDefined()) {
        reader_.error(jwt[std::string(key)], child(jwt_path, key),
                      "set it in each entry of providers, not beside them");
      }
    }
    if (!list.IsSequence() || list.size() == 0) {
      reader_.error(list, list_path, "expected a list of at least one provider");
      return;
    }
    // Beside the list: every provider's default rules and fetch settings.
    JwtProvider defaults;
    parse_provider_rules(jwt, jwt_path, defaults);
    defaults.verifier.issuer.clear();  // each provider's own (an error above when beside)
    JwksSettings default_fetch;
    parse_fetch_settings(jwt, jwt_path, default_fetch);
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string entry_path = item(list_path, i);
      if (!reader_.map(list[i], entry_path, provider_keys())) continue;
      JwtProvider provider = defaults;
      parse_provider(list[i], entry_path, provider, default_fetch);
      const std::string& issuer = provider.verifier.issuer;
      if (issuer.empty()) {
        reader_.error(list[i], child(entry_path, "issuer"),
                      "each provider needs its issuer (the token's iss picks the provider)");
      }
      for (std::size_t j = 0; j < settings.providers.size(); ++j) {
        if (!issuer.empty() && settings.providers[j].verifier.issuer == issuer) {
          reader_.error(
              list[i]["issuer"], child(entry_path, "issuer"),
              "the same issuer as " + item(list_path, j) + ": each provider needs its own");
        }
      }
      settings.providers.push_back(std::move(provider));
    }
  }

  // A provider: its rules and where its keys come from. `provider` holds the defaults beside
  // `providers` (none in the single form), which the node's own keys replace.
  void parse_provider(const YAML::Node& node, const std::string& path, JwtProvider& provider,
                      const JwksSettings& default_fetch) {
    parse_provider_rules(node, path, provider);
    parse_key_source(node, path, provider, default_fetch);
  }

  // Issuer, claim rules and forwarded claims.
  void parse_provider_rules(const YAML::Node& node, const std::string& path,
                            JwtProvider& provider) {
    jose::VerifierSettings& v = provider.verifier;
    if (auto algorithms = reader_.strings(node, path, "algorithms")) {
      v.algorithms.clear();
      const std::string alg_path = child(path, "algorithms");
      if (algorithms->empty()) {
        reader_.error(node["algorithms"], alg_path, "at least one algorithm is required");
      }
      for (std::size_t a = 0; a < algorithms->size(); ++a) {
        auto alg = jose::algorithm_from_name((*algorithms)[a]);
        if (!alg) {
          reader_.error(node["algorithms"][a], item(alg_path, a),
                        "unknown algorithm " + in_quotes((*algorithms)[a]));
        } else {
          v.algorithms.push_back(*alg);
        }
      }
    }
    for (auto [key, target] :
         {std::pair<std::string_view, std::string*>{"user_id_claim", &v.user_id_claim},
          {"user_directory_claim", &v.user_directory_claim},
          {"issuer", &v.issuer}}) {
      if (auto value = reader_.string(node, path, key)) {
        *target = *value;
        if (key != "issuer" && value->empty()) {
          reader_.error(node[std::string(key)], child(path, key), "must not be empty");
        }
      }
    }
    if (auto directory = reader_.string(node, path, "user_directory")) {
      if (node["user_directory_claim"].IsDefined()) {
        reader_.error(node["user_directory"], child(path, "user_directory"),
                      "set either user_directory (a constant) or user_directory_claim, not both");
      } else if (directory->empty() || has_control(*directory) ||
                 directory->find_first_of(";\\") != std::string::npos) {
        reader_.error(node["user_directory"], child(path, "user_directory"),
                      in_quotes(*directory) + " is not a valid user directory name");
      } else {
        v.user_directory = *directory;
      }
    }
    YAML::Node audience = node["audience"];
    if (audience.IsDefined() && !audience.IsNull()) {
      if (audience.IsScalar()) {
        if (!audience.Scalar().empty()) v.audiences = {audience.Scalar()};
      } else if (auto list = reader_.strings(node, path, "audience")) {
        v.audiences = std::move(*list);
      }
    }
    if (node["user_directory_claim"].IsDefined() && !node["user_directory"].IsDefined()) {
      v.user_directory.reset();  // the provider's own claim over a default constant
    }
    if (auto required = reader_.strings(node, path, "required_claims")) {
      v.required_claims = std::move(*required);
    }
    if (auto leeway = reader_.duration(node, path, "leeway")) v.leeway_seconds = *leeway;
    header_map(node, path, "forward_claims", provider.forward_claims);
  }

  // Exactly one of: key (a file), key_pem (the PEM text), jwks_uri, or discovery from the
  // issuer.
  void parse_key_source(const YAML::Node& node, const std::string& path, JwtProvider& provider,
                        const JwksSettings& default_fetch) {
    auto key = reader_.string(node, path, "key");
    auto pem = reader_.string(node, path, "key_pem");
    auto uri = reader_.string(node, path, "jwks_uri");
    const bool discovery = reader_.boolean(node, path, "discovery").value_or(false);
    const int sources = (key ? 1 : 0) + (uri ? 1 : 0) + (discovery ? 1 : 0);
    if (pem && sources > 0) {
      reader_.error(node["key_pem"], child(path, "key_pem"),
                    "set one of key, key_pem, jwks_uri or discovery: true, not several");
      return;
    }
    if (sources > 1) {
      reader_.error(node, path, "set one of key, jwks_uri or discovery: true, not several");
      return;
    }
    if (pem) {
      parse_key_pem(node, path, *pem, provider);
      return;
    }
    if (!uri && !discovery) {
      for (std::string_view fetch_key :
           {"jwks_ca", "jwks_timeout", "jwks_refresh", "jwks_min_refetch", "jwks_max_stale"}) {
        if (node[std::string(fetch_key)].IsDefined()) {
          reader_.error(node[std::string(fetch_key)], child(path, fetch_key),
                        "applies only with jwks_uri or discovery: true");
        }
      }
      parse_key_file(node, path, key, provider);
      return;
    }
    JwksSettings jwks = default_fetch;
    jwks.discovery = discovery;
    jwks.data_dir = config_.data_dir;  // the last good document is saved there
    if (uri) {
      if (!is_https_url(*uri)) {
        reader_.error(node["jwks_uri"], child(path, "jwks_uri"),
                      in_quotes(*uri) + " is not an https:// URL (keys are fetched over TLS only)");
      }
      jwks.uri = *uri;
    } else if (!is_https_url(provider.verifier.issuer)) {
      reader_.error(node["discovery"], child(path, "discovery"),
                    "discovery needs issuer, an https:// URL (its "
                    "/.well-known/openid-configuration names the jwks_uri)");
    }
    parse_fetch_settings(node, path, jwks);
    provider.jwks = std::move(jwks);
  }

  // jwks_ca and the jwks_* timings (a provider's own, or every provider's default).
  void parse_fetch_settings(const YAML::Node& node, const std::string& path, JwksSettings& jwks) {
    if (auto ca = reader_.string(node, path, "jwks_ca")) {
      jwks.ca = resolve(base_dir_, *ca);
      std::error_code ec;
      if (!fs::is_regular_file(jwks.ca, ec)) {
        reader_.error(node["jwks_ca"], child(path, "jwks_ca"),
                      "cannot read " + jwks.ca + " (a PEM file of the CA certificates to trust)");
      }
    }
    if (auto timeout = reader_.timeout(node, path, "jwks_timeout")) {
      if (timeout->count() <= 0) {
        reader_.error(node["jwks_timeout"], child(path, "jwks_timeout"), "must be more than 0");
      }
      jwks.timeout = *timeout;
    }
    for (auto [name, target, minimum] : {std::tuple<std::string_view, std::int64_t*, std::int64_t>{
                                             "jwks_refresh", &jwks.refresh_seconds, 1},
                                         {"jwks_min_refetch", &jwks.min_refetch_seconds, 0},
                                         {"jwks_max_stale", &jwks.max_stale_seconds, 1}}) {
      if (auto seconds = reader_.duration(node, path, name)) {
        if (*seconds < minimum) {
          reader_.error(node[std::string(name)], child(path, name),
                        minimum == 0 ? "must not be negative" : "must be at least 1s");
        }
        *target = *seconds;
      }
    }
  }

  void parse_key_file(const YAML::Node& node, const std::string& path,
                      const std::optional<std::string>& key, JwtProvider& provider) {
    if (!key || key->empty()) {
      reader_.error(node, child(path, "key"),
                    "a verification key file (PEM certificate, PEM public key or JWKS) is "
                    "required, or key_pem (the PEM text), or jwks_uri, or issuer with discovery: "
                    "true");
      return;
    }
    provider.key = resolve(base_dir_, *key);
    auto keys = jose::load_verification_keys(provider.key);
    if (!keys && key_files_ == KeyFiles::kMayFail) {
      // A reload: the rest of the configuration applies; this provider has no usable keys.
      provider.keys_problem =
          reader_.problem_line(node["key"].Mark(), child(path, "key"), keys.error().message());
      return;
    }
    if (!keys) {
      reader_.error(node["key"], child(path, "key"), keys.error().message());
      return;
    }
    use_keys(node, path, "key", std::move(*keys), provider);
  }

  // key_pem: a PEM certificate or public key given as text. Unlike a file it cannot change
  // before the next reload, so a bad one is an error even then. Messages never quote the text.
  void parse_key_pem(const YAML::Node& node, const std::string& path, const std::string& pem,
                     JwtProvider& provider) {
    for (std::string_view fetch_key :
         {"jwks_ca", "jwks_timeout", "jwks_refresh", "jwks_min_refetch", "jwks_max_stale"}) {
      if (node[std::string(fetch_key)].IsDefined()) {
        reader_.error(node[std::string(fetch_key)], child(path, fetch_key),
                      "applies only with jwks_uri or discovery: true");
      }
    }
    if (pem.find("-----BEGIN ") == std::string::npos) {
      reader_.error(node["key_pem"], child(path, "key_pem"),
                    "expected PEM text: a certificate (-----BEGIN CERTIFICATE-----) or a public "
                    "key (-----BEGIN PUBLIC KEY-----)");
      return;
    }
    auto keys = jose::parse_verification_keys(pem);
    if (!keys) {
      reader_.error(node["key_pem"], child(path, "key_pem"), keys.error().message());
      return;
    }
    provider.key_pem = pem;
    use_keys(node, path, "key_pem", std::move(*keys), provider);
  }

  // Keys read from `key_name`: they must suit the algorithms configured.
  void use_keys(const YAML::Node& node, const std::string& path, const std::string& key_name,
                jose::KeySet keys, JwtProvider& provider) {
    provider.keys = std::move(keys);
    if (!provider.verifier.algorithms.empty()) {
      auto verifier = jose::JwtVerifier::create(provider.verifier, provider.keys);
      if (!verifier) {
        reader_.error(node[key_name], child(path, key_name),
                      verifier.error().message() + " (for the algorithms configured)");
      }
    }
  }

  void parse_response_headers(const YAML::Node& vp_node, const std::string& vp_path,
                              VirtualProxy& vp) {
    YAML::Node node = vp_node["response_headers"];
    const std::string path = child(vp_path, "response_headers");
    if (!node.IsDefined() || node.IsNull()) return;
    if (!node.IsMap()) {
      reader_.error(node, path, "expected a mapping header: value");
      return;
    }
    for (const auto& entry : node) {
      const std::string name = entry.first.Scalar();
      if (!is_token(name)) {
        reader_.error(entry.first, child(path, name), "is not a valid header name");
        continue;
      }
      if (!entry.second.IsScalar() || has_control(entry.second.Scalar())) {
        reader_.error(entry.second, child(path, name),
                      "expected a header value without control characters");
        continue;
      }
      vp.response_headers.emplace_back(name, entry.second.Scalar());
    }
  }

  void parse_access(const YAML::Node& root) {
    YAML::Node node = root["access"];
    if (!node.IsDefined() || node.IsNull()) return;
    if (!reader_.map(node, "access", {"mode", "auto_allocate_seats", "allocations"})) return;
    AccessSettings& a = config_.access;
    if (auto mode = reader_.string(node, "access", "mode")) {
      if (*mode == "allocated")
        a.mode = AccessMode::kAllocated;
      else if (*mode == "open")
        a.mode = AccessMode::kOpen;
      else
        reader_.error(node["mode"], "access.mode", in_quotes(*mode) + " is not allocated or open");
    }
    if (auto seats = reader_.count(node, "access", "auto_allocate_seats")) {
      a.auto_allocate_seats = *seats;
    }
    if (auto list = reader_.strings(node, "access", "allocations")) {
      for (std::size_t i = 0; i < list->size(); ++i) {
        if (!parse_qualified_user((*list)[i])) {
          reader_.error(node["allocations"][i], item("access.allocations", i),
                        in_quotes((*list)[i]) + " is not DIRECTORY\\id");
        }
      }
      a.allocations = std::move(*list);
    }
  }

  void parse_session_store(const YAML::Node& root) {
    YAML::Node node = root["session_store"];
    if (!node.IsDefined() || node.IsNull()) return;
    if (!reader_.map(node, "session_store",
                     {"type", "save_interval", "url", "password_file", "key_prefix", "ca"})) {
      return;
    }
    SessionStoreSettings& s = config_.session_store;
    if (auto type = reader_.string(node, "session_store", "type")) {
      if (*type == "memory")
        s.type = SessionStoreType::kMemory;
      else if (*type == "redis")
        s.type = SessionStoreType::kRedis;
      else
        reader_.error(node["type"], "session_store.type",
                      in_quotes(*type) + " is not a session store type (expected: memory, redis)");
    }
    if (auto interval = reader_.duration(node, "session_store", "save_interval")) {
      s.save_interval_seconds = *interval;
    }
    if (s.type == SessionStoreType::kMemory) {
      for (const char* key : {"url", "password_file", "key_prefix", "ca"}) {
        if (node[key].IsDefined()) {
          reader_.error(node[key], child("session_store", key), "is only for type redis");
        }
      }
      return;
    }
    if (node["save_interval"].IsDefined()) {
      reader_.error(node["save_interval"], "session_store.save_interval",
                    "is only for type memory (Redis keeps the sessions)");
    }
    parse_redis_store(node, s.redis);
    // Items that are not mappings are left out of config_.virtual_proxies: the k-th virtual
    // proxy is item virtual_proxy_items_[k] of the file's list.
    const YAML::Node vps = root["virtual_proxies"];
    for (std::size_t k = 0; k < config_.virtual_proxies.size(); ++k) {
      const std::size_t i = virtual_proxy_items_[k];
      check_redis_sessions(vps[i], item("virtual_proxies", i), config_.virtual_proxies[k]);
    }
  }

  // The Redis store keeps no per-user order of sessions to evict the oldest from.
  void check_redis_sessions(const YAML::Node& vp_node, const std::string& vp_path,
                            const VirtualProxy& vp) {
    if (vp.session.max_per_user == 0) return;
    const YAML::Node session = vp_node["session"];
    const YAML::Node limit = session.IsDefined() && session.IsMap()
                                 ? session["max_per_user"]
                                 : YAML::Node(YAML::NodeType::Undefined);
    reader_.error(limit.IsDefined() ? limit : vp_node, child(vp_path, "session.max_per_user"),
                  "is not supported with session_store type redis (leave it 0)");
  }

  void parse_redis_store(const YAML::Node& node, RedisStoreSettings& redis) {
    auto url = reader_.string(node, "session_store", "url");
    if (!url) {
      if (!node["url"].IsDefined()) {
        reader_.error(node, "session_store.url",
                      "is required for type redis (redis://host:port/db or rediss://)");
      }
    } else if (!url->starts_with("redis://") && !url->starts_with("rediss://")) {
      reader_.error(node["url"], "session_store.url",
                    in_quotes(url_without_password(*url)) + " is not a redis:// or rediss:// URL");
    } else {
      redis.url = *url;
    }
    if (auto prefix = reader_.string(node, "session_store", "key_prefix")) {
      redis.key_prefix = *prefix;
    }
    if (auto file = reader_.string(node, "session_store", "password_file");
        file && !file->empty()) {
      redis.password_file = resolve(base_dir_, *file);
      if (auto secret = read_secret(node["password_file"], "session_store.password_file",
                                    redis.password_file)) {
        redis.password = std::move(*secret);
      }
    }
    if (auto ca = reader_.string(node, "session_store", "ca"); ca && !ca->empty()) {
      redis.ca = resolve(base_dir_, *ca);
      std::error_code ec;
      if (!redis.url.empty() && !redis.url.starts_with("rediss://")) {
        reader_.error(node["ca"], "session_store.ca", "is only for a rediss:// (TLS) url");
      } else if (!fs::is_regular_file(redis.ca, ec)) {
        reader_.error(node["ca"], "session_store.ca",
                      redis.ca + " does not exist or is not a file");
      }
    }
  }

  // A secret in a file of its own (a password): its first line, without the line break.
  // Problems are configuration errors at `node`; the secret itself is never in a message.
  std::optional<std::string> read_secret(const YAML::Node& node, const std::string& path,
                                         const std::string& file) {
    auto text = read_file(file);
    if (!text) {
      reader_.error(node, path, file + " does not exist or cannot be read");
      return std::nullopt;
    }
    std::string secret = text->substr(0, text->find_first_of("\r\n"));
    if (secret.empty()) {
      reader_.error(node, path, file + " is empty");
      return std::nullopt;
    }
    return secret;
  }

  void parse_database(const YAML::Node& root) {
    YAML::Node node = root["database"];
    if (!node.IsDefined() || node.IsNull()) return;
    if (!reader_.map(node, "database", {"type", "url", "password_file"})) return;
    DatabaseSettings& d = config_.database;
    if (auto type = reader_.string(node, "database", "type")) {
      if (*type == "sqlite") {
        d.type = DatabaseType::kSqlite;
      } else if (*type == "postgresql") {
        d.type = DatabaseType::kPostgresql;
      } else {
        reader_.error(node["type"], "database.type",
                      in_quotes(*type) + " is not a database type (expected: sqlite, postgresql)");
        return;
      }
    }
    const auto url = reader_.string(node, "database", "url");
    const auto password_file = reader_.string(node, "database", "password_file");
    if (d.type == DatabaseType::kSqlite) {
      for (const char* key : {"url", "password_file"}) {
        if (node[key]) {
          reader_.error(node[key], child("database", key),
                        "only for type postgresql (sqlite keeps jotgate.db in data_dir)");
        }
      }
      return;
    }
    if (!url) {
      if (!node["url"]) {
        reader_.error(node, "database.url",
                      "required for type postgresql (postgresql://user@host:port/dbname)");
      }
    } else if (!(url->starts_with("postgresql://") || url->starts_with("postgres://")) ||
               has_control(*url)) {
      reader_.error(node["url"], "database.url",
                    in_quotes(url_without_password(*url)) +
                        " is not a postgresql:// or postgres:// connection URI");
    } else {
      d.url = *url;
    }
    if (password_file && !password_file->empty()) {
      d.password_file = resolve(base_dir_, *password_file);
      std::error_code ec;
      auto text = fs::is_regular_file(d.password_file, ec)
                      ? read_file(d.password_file)
                      : Result<std::string>(make_error(Reason::kFileUnreadable));
      if (!text) {
        reader_.error(node["password_file"], "database.password_file",
                      d.password_file + " does not exist or is not a readable file");
      } else {
        std::string password = std::move(*text);
        while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) {
          password.pop_back();
        }
        if (password.empty()) {
          reader_.error(node["password_file"], "database.password_file",
                        d.password_file + " is empty");
        }
        d.password = std::move(password);
      }
    }
  }

  void parse_limits(const YAML::Node& root) {
    YAML::Node node = root["limits"];
    if (!node.IsDefined() || node.IsNull()) return;
    if (!reader_.map(node, "limits",
                     {"max_header_bytes", "max_header_count", "max_request_line", "header_timeout",
                      "idle_timeout", "shutdown_grace", "body_timeout", "body_min_rate",
                      "max_connections", "handshake_timeout"})) {
      return;
    }
    Limits& l = config_.limits;
    for (auto [key, target] :
         {std::pair<std::string_view, std::size_t*>{"max_header_bytes", &l.max_header_bytes},
          {"max_header_count", &l.max_header_count},
          {"max_request_line", &l.max_request_line},
          {"max_connections", &l.max_connections}}) {
      if (auto value = reader_.count(node, "limits", key)) {
        if (*value == 0) reader_.error(node[std::string(key)], child("limits", key), "must be > 0");
        *target = static_cast<std::size_t>(*value);
      }
    }
    for (auto [key, target] : {std::pair<std::string_view, std::chrono::milliseconds*>{
                                   "header_timeout", &l.header_timeout},
                               {"idle_timeout", &l.idle_timeout},
                               {"shutdown_grace", &l.shutdown_grace},
                               {"body_timeout", &l.body_timeout},
                               {"handshake_timeout", &l.handshake_timeout}}) {
      if (auto value = reader_.timeout(node, "limits", key)) *target = *value;
    }
    if (l.handshake_timeout == std::chrono::milliseconds::zero()) {
      reader_.error(node["handshake_timeout"], "limits.handshake_timeout",
                    "must be > 0 (no TLS handshake finishes in no time)");
    }
    if (l.body_timeout == std::chrono::milliseconds::zero()) {
      reader_.error(node["body_timeout"], "limits.body_timeout",
                    "must be > 0 (a request body cannot arrive in no time)");
    }
    // 0 is allowed here: no minimum rate, only the wait between reads is bounded.
    if (auto value = reader_.count(node, "limits", "body_min_rate")) l.body_min_rate = *value;
  }

  Reader reader_;
  std::string base_dir_;
  KeyFiles key_files_;
  GatewayConfig config_;
  std::vector<std::size_t> virtual_proxy_items_;  // see check_redis_sessions' caller
};

}  // namespace

std::map<std::string, std::string> JwtSettings::all_forward_claims() const {
  std::map<std::string, std::string> claims;
  for (const JwtProvider& provider : providers) {
    claims.insert(provider.forward_claims.begin(), provider.forward_claims.end());
  }
  return claims;
}

std::string_view auth_method_name(AuthMethod method) {
  switch (method) {
    case AuthMethod::kJwt: return "jwt";
    case AuthMethod::kHeader: return "header";
    case AuthMethod::kTicket: return "ticket";
  }
  return "jwt";
}

std::optional<FailureLimit> parse_failure_limit(std::string_view text) {
  if (text == "off" || text == "0") return FailureLimit{0, 60};
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos || slash + 2 != text.size()) return std::nullopt;
  std::int64_t failures = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + slash, failures);
  // At most a million, so the limiter's arithmetic (seconds times failures) cannot overflow.
  if (slash == 0 || ec != std::errc() || end != text.data() + slash || failures < 1 ||
      failures > 1'000'000) {
    return std::nullopt;
  }
  switch (text.back()) {
    case 's': return FailureLimit{failures, 1};
    case 'm': return FailureLimit{failures, 60};
    case 'h': return FailureLimit{failures, 3600};
    default: return std::nullopt;
  }
}

std::optional<UserIdentity> parse_qualified_user(std::string_view text) {
  std::size_t slash = text.find('\\');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == text.size()) {
    return std::nullopt;
  }
  UserIdentity user{std::string(text.substr(0, slash)), std::string(text.substr(slash + 1))};
  for (const auto& part : {user.directory, user.id}) {
    if (has_control(part) || part.find_first_of("\\;") != std::string::npos) return std::nullopt;
  }
  return user;
}

namespace {

// The text of a yaml-cpp exception that escaped the reader: a bug of ours (see kReaderBug).
std::string reader_bug(const YAML::Exception& e) {
  return std::string(kReaderBug) + " (" + e.what() + ")";
}

}  // namespace

Result<GatewayConfig> parse_config(const std::string& yaml_text, const std::string& source,
                                   const std::string& base_dir, KeyFiles key_files) {
  ConfigParser parser(source, fs::absolute(base_dir).lexically_normal().string(), key_files);
  try {
    auto config = parser.parse(yaml_text);
    if (config) config->source = source;
    return config;
  } catch (const YAML::Exception& e) {
    return make_error(Reason::kConfigInvalid, source + ": " + reader_bug(e));
  }
}

VirtualProxyDocument parse_virtual_proxy_document(std::string_view text, const GatewayConfig& base,
                                                  const std::string& source, KeyFiles key_files) {
  // Relative paths (key files) as in the configuration file: from its folder.
  const std::string base_dir = fs::absolute(base.source).parent_path().lexically_normal().string();
  try {
    return ConfigParser(source, base_dir, key_files).parse_document(text, base);
  } catch (const YAML::Exception& e) {
    return {std::nullopt, {{"", reader_bug(e)}}};
  }
}

Result<GatewayConfig> load_config_file(const std::string& path, KeyFiles key_files) {
  auto text = read_file(path);
  if (!text) {
    return make_error(Reason::kFileUnreadable, path + ": cannot read the configuration file");
  }
  fs::path folder = fs::absolute(path).parent_path();
  return parse_config(*text, path, folder.string(), key_files);
}

std::string data_dir_of(const std::string& path) {
  const fs::path folder = fs::absolute(path).parent_path();
  std::string data_dir = "jotgate-data";
  try {
    if (auto text = read_file(path)) {
      const YAML::Node root = YAML::Load(*text);
      if (root.IsMap() && root["data_dir"] && root["data_dir"].IsScalar()) {
        data_dir = root["data_dir"].Scalar();
      }
    }
  } catch (const YAML::Exception&) {
    // Not YAML any more: the default is all there is to go by.
  }
  return resolve(folder.string(), data_dir);
}

std::vector<std::string> error_lines(const Error& error) {
  std::vector<std::string> lines;
  std::istringstream in(error.detail.empty() ? error.describe() : error.detail);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace jotgate::config
