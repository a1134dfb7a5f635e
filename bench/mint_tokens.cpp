// Mints N distinct RS256 tokens, one per line, for the unique-token rows of bench/run (row 7 and
// HAProxy's 4u): every token has its own `jti`, so no verified-token cache can help. Users cycle
// through ACME\user0..user99; exp = now + 2 h. Signs on every core.
//   build/release/bench/mint_tokens --key certs/signer_key.pem --count 200000 --out tokens.txt
//   build/release/bench/mint_tokens ... --first 200000 --count 50000 --out more.txt  # jti 200000..
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "base/clock.h"
#include "jose/jws.h"
#include "jose/key.h"

namespace {

using namespace jotgate;

constexpr int kUsers = 100;
constexpr std::int64_t kLifetimeSeconds = 2 * 3600;

struct Options {
  std::string key_path;
  std::string out_path;
  std::size_t count = 0;
  std::size_t first = 0;  // jti of the first token, to extend a file without repeating one
};

Options parse_options(int argc, char** argv) {
  CLI::App app{"mint_tokens: distinct RS256 tokens, one per line (bench/run's unique-token rows)",
               "mint_tokens"};
  Options options;
  app.add_option("--key", options.key_path, "RSA private key (PEM)")->required();
  app.add_option("--count", options.count, "How many tokens")
      ->required()
      ->check(CLI::Range(std::size_t{1}, std::size_t{100'000'000}));
  app.add_option("--out", options.out_path, "File to write (replaced)")->required();
  app.add_option("--first", options.first,
                 "jti of the first token, to extend a file without repeating one")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::exit(app.exit(e) == 0 ? 0 : 2);  // usage errors exit 2, like jotgate's
  }
  return options;
}

// Tokens [first, last) into `out`, each line ending in '\n'. The JSON is built by hand: the
// layout is fixed and this keeps minting close to the cost of the signature itself.
bool mint_range(const jose::Key& key, std::int64_t now, std::size_t first, std::size_t last,
                std::string& out) {
  const std::string header = R"({"alg":"RS256","typ":"JWT"})";
  for (std::size_t i = first; i < last; ++i) {
    std::string payload = R"({"userId":"user)" + std::to_string(i % kUsers) +
                          R"(","userDirectory":"ACME","jti":")" + std::to_string(i) +
                          R"(","iat":)" + std::to_string(now) + R"(,"exp":)" +
                          std::to_string(now + kLifetimeSeconds) + "}";
    auto token = jose::sign_compact(header, payload, key);
    if (!token) {
      std::cerr << "mint_tokens: signing failed: " << token.error().describe() << "\n";
      return false;
    }
    out += *token;
    out += '\n';
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse_options(argc, argv);
  auto key = jose::load_signing_key(options.key_path);
  if (!key) {
    std::cerr << "mint_tokens: key file '" << options.key_path << "': " << key.error().message()
              << "\n";
    return 2;
  }
  if (!key->fits(jose::Algorithm::kRS256) || !key->has_private_part()) {
    std::cerr << "mint_tokens: key file '" << options.key_path << "' is not an RSA private key\n";
    return 2;
  }

  const std::int64_t now = SystemClock().now_seconds();
  const std::size_t threads =
      std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, options.count);
  std::vector<std::string> parts(threads);
  std::vector<char> ok(threads, 0);
  std::vector<std::thread> workers;
  for (std::size_t t = 0; t < threads; ++t) {
    const std::size_t first = options.first + options.count * t / threads;
    const std::size_t last = options.first + options.count * (t + 1) / threads;
    workers.emplace_back(
        [&, t, first, last] { ok[t] = mint_range(*key, now, first, last, parts[t]); });
  }
  for (auto& worker : workers) worker.join();
  if (std::find(ok.begin(), ok.end(), 0) != ok.end()) return 1;

  std::ofstream out(options.out_path, std::ios::binary | std::ios::trunc);
  for (const auto& part : parts) out << part;
  out.close();
  if (!out) {
    std::cerr << "mint_tokens: cannot write '" << options.out_path << "'\n";
    return 1;
  }
  return 0;
}
