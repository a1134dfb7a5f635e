// Session store benchmark: memory and speed of the real jotgate::session::MemorySessionStore with
// 100k and 1M live sessions of distinct users ("ACME\user123456"), without attributes and with two
// forwarded-claim attributes. Each case runs in a forked child, so one case's freed memory does
// not hide the next one's growth. Memory is the RSS delta (/proc/self/statm) and the malloc delta
// (mallinfo2: in use, heap + mmapped) of filling the store; times are the CPU time of one thread.
//   build/release/bench/session_bench                 # table on stdout
//   build/release/bench/session_bench --tsv           # one tab-separated line per case
//   build/release/bench/session_bench --sizes 100000  # other sizes (comma-separated)
#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "session/memory_session_store.h"

namespace {

using jotgate::UserIdentity;
using jotgate::session::Attributes;
using jotgate::session::LookupStatus;
using jotgate::session::MemorySessionStore;
using jotgate::session::SessionLimits;

// This thread's CPU time: figures stay comparable on a machine shared with other work (time
// spent waiting for memory counts; time the thread was preempted does not).
struct Clock {
  static std::int64_t now() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
  }
};

constexpr jotgate::UnixSeconds kNow = 1'700'000'000;
constexpr std::size_t kCookieSize = 43;  // base64url of 32 bytes
constexpr std::size_t kLookups = 2'000'000;

struct Case {
  std::size_t sessions;
  bool attributes;
};

struct Figures {
  double rss_bytes = 0;
  double heap_bytes = 0;
  double create_ns = 0;
  double lookup_ns = 0;
  double unknown_ns = 0;
  double remove_user_ms = 0;
  double expire_ns = 0;
};

std::size_t rss_bytes() {
  long pages = 0, resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return static_cast<std::size_t>(resident) * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

std::size_t heap_bytes() {
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

double ns_since(std::int64_t start_ns, std::size_t count) {
  return static_cast<double>(Clock::now() - start_ns) / static_cast<double>(count);
}

UserIdentity user_of(std::size_t i) {
  char id[32];
  std::snprintf(id, sizeof id, "user%06zu", i % 1'000'000);
  return {"ACME", id};
}

// Two forwarded claims as a typical issuer sends them: a group list and a per-user e-mail.
Attributes attributes_of(const UserIdentity& user) {
  return {{"X-Jotgate-Groups", "analysts,sales"}, {"X-Jotgate-Email", user.id + "@acme.example"}};
}

Figures run(const Case& c) {
  Figures out;
  // Everything the benchmark itself keeps is allocated and touched before the baseline.
  std::vector<std::array<char, kCookieSize>> cookies(c.sessions);
  std::vector<std::uint32_t> order(kLookups);
  std::mt19937_64 rng(42);
  for (auto& i : order) i = static_cast<std::uint32_t>(rng() % c.sessions);
  malloc_trim(0);
  const std::size_t rss_before = rss_bytes();
  const std::size_t heap_before = heap_bytes();

  MemorySessionStore store(SessionLimits{30 * 60, 8 * 3600});
  auto start = Clock::now();
  for (std::size_t i = 0; i < c.sessions; ++i) {
    const UserIdentity user = user_of(i);
    auto created = store.create(user, c.attributes ? attributes_of(user) : Attributes{}, kNow);
    std::memcpy(cookies[i].data(), created.cookie_value.data(), kCookieSize);
  }
  out.create_ns = ns_since(start, c.sessions);
  malloc_trim(0);
  out.rss_bytes = static_cast<double>(rss_bytes()) - static_cast<double>(rss_before);
  out.heap_bytes = static_cast<double>(heap_bytes()) - static_cast<double>(heap_before);

  std::size_t found = 0;
  start = Clock::now();
  for (std::uint32_t i : order) {
    const auto& cookie = cookies[i];
    auto result = store.lookup(std::string_view(cookie.data(), cookie.size()), kNow + 1);
    found += result.status == LookupStatus::kFound;
  }
  out.lookup_ns = ns_since(start, kLookups);
  if (found != kLookups) std::fprintf(stderr, "lookup found %zu of %zu\n", found, kLookups);

  // Well-formed cookies that name no session: the cost of a forged or stale cookie.
  std::vector<std::array<char, kCookieSize>> unknown(4096);
  for (std::size_t i = 0; i < unknown.size(); ++i) {
    MemorySessionStore other(SessionLimits{});
    auto created = other.create(user_of(i), {}, kNow);
    std::memcpy(unknown[i].data(), created.cookie_value.data(), kCookieSize);
  }
  start = Clock::now();
  for (std::size_t i = 0; i < kLookups; ++i) {
    const auto& cookie = unknown[i % unknown.size()];
    found += store.lookup(std::string_view(cookie.data(), cookie.size()), kNow + 1).status ==
             LookupStatus::kFound;
  }
  out.unknown_ns = ns_since(start, kLookups);
  if (found != kLookups) std::fprintf(stderr, "an unknown cookie was found\n");

  start = Clock::now();
  const std::size_t removed = store.remove_user(user_of(c.sessions / 2));
  out.remove_user_ms = ns_since(start, 1) / 1e6;
  if (removed != 1) std::fprintf(stderr, "remove_user removed %zu\n", removed);

  const std::size_t live = store.size();
  start = Clock::now();
  const std::size_t expired = store.expire(kNow + 8 * 3600);
  out.expire_ns = ns_since(start, std::max<std::size_t>(expired, 1));
  if (expired != live) std::fprintf(stderr, "expire removed %zu of %zu\n", expired, live);
  return out;
}

// Runs one case in a child process; its figures come back through a pipe.
bool run_forked(const Case& c, Figures& figures) {
  int fds[2];
  if (pipe(fds) != 0) return false;
  const pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    close(fds[0]);
    const Figures result = run(c);
    const bool ok = write(fds[1], &result, sizeof result) == static_cast<ssize_t>(sizeof result);
    _exit(ok ? 0 : 1);
  }
  close(fds[1]);
  const bool got = read(fds[0], &figures, sizeof figures) == static_cast<ssize_t>(sizeof figures);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return got && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

constexpr double kMiB = 1024.0 * 1024.0;

}  // namespace

int main(int argc, char** argv) {
  bool tsv = false;
  std::vector<std::size_t> sizes{100'000, 1'000'000};
  CLI::App app{"session_bench: memory and speed of the session store", "session_bench"};
  app.add_flag("--tsv", tsv, "One tab-separated line per case");
  app.add_option("--sizes", sizes, "Store sizes, comma-separated")
      ->delimiter(',')
      ->allow_extra_args(false)
      ->check(CLI::Range(std::size_t{1}, std::size_t{100'000'000}))
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (tsv) {
    std::printf(
        "sessions\tattributes\trss_bytes\theap_bytes\tcreate_ns\tlookup_ns\tunknown_ns\t"
        "remove_user_ms\texpire_ns\n");
  } else {
    std::printf("%-9s %-10s %9s %9s %8s %8s %8s %8s %11s %9s\n", "sessions", "attributes",
                "RSS MiB", "heap MiB", "B/sess", "create", "lookup", "unknown", "remove_user",
                "expire");
    std::printf("%-9s %-10s %9s %9s %8s %8s %8s %8s %11s %9s\n", "", "", "", "", "(RSS)", "ns",
                "ns", "ns", "ms", "ns/sess");
  }
  bool ok = true;
  for (std::size_t n : sizes) {
    for (bool attributes : {false, true}) {
      Figures f;
      if (!run_forked({n, attributes}, f)) {
        std::fprintf(stderr, "case %zu sessions failed\n", n);
        ok = false;
        continue;
      }
      if (tsv) {
        std::printf("%zu\t%d\t%.0f\t%.0f\t%.1f\t%.1f\t%.1f\t%.2f\t%.1f\n", n, attributes ? 2 : 0,
                    f.rss_bytes, f.heap_bytes, f.create_ns, f.lookup_ns, f.unknown_ns,
                    f.remove_user_ms, f.expire_ns);
      } else {
        std::printf("%-9zu %-10s %9.1f %9.1f %8.0f %8.0f %8.0f %8.0f %11.2f %9.0f\n", n,
                    attributes ? "2 claims" : "none", f.rss_bytes / kMiB, f.heap_bytes / kMiB,
                    f.rss_bytes / static_cast<double>(n), f.create_ns, f.lookup_ns, f.unknown_ns,
                    f.remove_user_ms, f.expire_ns);
      }
      std::fflush(stdout);
    }
  }
  return ok ? 0 : 1;
}
