// The Redis client against a real redis-server: round trips, pipelining from many threads,
// AUTH and SELECT, a server that stops, comes back, stops answering or never answers, a full
// queue, and TLS with the right and a wrong CA.
#include "redis/redis_client.h"

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <future>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "pki/bundle.h"
#include "redis_server.h"

namespace jotgate::redis {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

template <class Predicate>
bool eventually(Predicate predicate, std::chrono::milliseconds timeout = 10s) {
  const auto give_up = Clock::now() + timeout;
  while (!predicate()) {
    if (Clock::now() > give_up) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

class RedisClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!RedisServer::installed()) GTEST_SKIP() << RedisServer::kMissing;
  }

  std::unique_ptr<RedisClient> client(RedisSettings settings) {
    auto created = RedisClient::create(std::move(settings));
    EXPECT_TRUE(created.ok()) << created.error().describe();
    return created.ok() ? std::move(*created) : nullptr;
  }

  std::unique_ptr<RedisClient> connected_client(RedisSettings settings) {
    auto made = client(std::move(settings));
    if (made) {
      EXPECT_TRUE(eventually([&] { return made->connected(); })) << made->last_error();
    }
    return made;
  }

  RedisServer server_;
};

TEST_F(RedisClientTest, SetGetExpireDeleteRoundTrips) {
  server_.start();
  auto redis = connected_client({.url = server_.url()});
  ASSERT_TRUE(redis);
  EXPECT_EQ(redis->address(), server_.url());
  EXPECT_EQ(redis->last_error(), "");

  auto set = redis->send_and_wait({{"SET", "s:1", "alice", "PX", "300"},
                                   {"GET", "s:1"},
                                   {"PTTL", "s:1"},
                                   {"SET", "s:2", std::string("\0\r\n", 3)},
                                   {"GETDEL", "s:2"},
                                   {"GET", "s:2"},
                                   {"DEL", "s:1", "s:3"},
                                   {"GET", "s:1"},
                                   {"INCR", "counter"},
                                   {"MGET", "counter", "nothing"},
                                   {"HSET", "counter", "f", "v"},
                                   {"NOSUCHCOMMAND"}});
  ASSERT_TRUE(set.ok()) << set.error().describe();
  const Replies& r = *set;
  ASSERT_EQ(r.size(), 12u);
  EXPECT_EQ(r[0].type, Reply::Type::kStatus);
  EXPECT_EQ(r[0].text, "OK");
  EXPECT_EQ(r[1].type, Reply::Type::kString);
  EXPECT_EQ(r[1].text, "alice");
  EXPECT_EQ(r[2].type, Reply::Type::kInteger);
  EXPECT_GT(r[2].integer, 0);
  EXPECT_LE(r[2].integer, 300);
  EXPECT_EQ(r[4].text, std::string("\0\r\n", 3));
  EXPECT_EQ(r[5].type, Reply::Type::kNil);
  EXPECT_EQ(r[6].type, Reply::Type::kInteger);
  EXPECT_EQ(r[6].integer, 1);
  EXPECT_EQ(r[7].type, Reply::Type::kNil);
  EXPECT_EQ(r[8].integer, 1);
  ASSERT_EQ(r[9].type, Reply::Type::kArray);
  ASSERT_EQ(r[9].elements.size(), 2u);
  EXPECT_EQ(r[9].elements[0].text, "1");
  EXPECT_EQ(r[9].elements[1].type, Reply::Type::kNil);
  // A command's own error is a reply, not a failure of the batch.
  EXPECT_EQ(r[10].type, Reply::Type::kError);
  EXPECT_EQ(r[10].text.rfind("WRONGTYPE", 0), 0u) << r[10].text;
  EXPECT_EQ(r[11].type, Reply::Type::kError);
  EXPECT_EQ(r[11].text.rfind("ERR unknown command", 0), 0u) << r[11].text;

  // PX expires the key.
  redis->send_and_wait({{"SET", "short", "x", "PX", "50"}}).value();
  std::this_thread::sleep_for(120ms);
  auto gone = redis->send_and_wait({{"GET", "short"}});
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(gone->at(0).type, Reply::Type::kNil);

  auto empty = redis->send_and_wait({});
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST_F(RedisClientTest, CallsDoneOnceOnTheClientsThread) {
  server_.start();
  auto redis = connected_client({.url = server_.url(), .connections = 1});
  ASSERT_TRUE(redis);
  std::promise<std::thread::id> called;
  std::atomic<int> calls{0};
  redis->send({{"PING"}}, [&](Result<Replies> replies) {
    ++calls;
    EXPECT_TRUE(replies.ok());
    called.set_value(std::this_thread::get_id());
  });
  auto thread = called.get_future();
  ASSERT_EQ(thread.wait_for(2s), std::future_status::ready);
  EXPECT_NE(thread.get(), std::this_thread::get_id());
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(calls.load(), 1);
}

TEST_F(RedisClientTest, PipelinesBatchesFromEightThreadsAndMatchesEveryReply) {
  server_.start();
  auto redis = connected_client({.url = server_.url()});
  ASSERT_TRUE(redis);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 1000;
  std::atomic<int> answered{0};
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string key = "k:" + std::to_string(t) + ":" + std::to_string(i);
        const std::string value = "v" + std::to_string(t * kPerThread + i);
        redis->send({{"SET", key, value}, {"GET", key}, {"STRLEN", key}},
                    [&, value](Result<Replies> replies) {
                      if (!replies.ok() || replies->size() != 3 || (*replies)[0].text != "OK" ||
                          (*replies)[1].text != value ||
                          (*replies)[2].integer != static_cast<std::int64_t>(value.size()))
                        ++wrong;
                      ++answered;
                    });
      }
    });
  }
  for (auto& thread : threads) thread.join();
  ASSERT_TRUE(eventually([&] { return answered.load() == kThreads * kPerThread; }))
      << answered.load();
  EXPECT_EQ(wrong.load(), 0);
  const auto counters = redis->counters();
  EXPECT_EQ(counters.batches, static_cast<std::uint64_t>(kThreads * kPerThread));
  // Batches that queued while a write was in flight went out together.
  EXPECT_LT(counters.writes, counters.batches / 2) << counters.writes;
  auto count = redis->send_and_wait({{"DBSIZE"}});
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(count->at(0).integer, kThreads * kPerThread);
}

TEST_F(RedisClientTest, AuthenticatesWithThePasswordFromTheFileOrTheUrl) {
  server_.start({"--requirepass", "s3cret-pw"});
  auto from_file = connected_client({.url = server_.url(), .password = "s3cret-pw"});
  ASSERT_TRUE(from_file);
  EXPECT_EQ(from_file->send_and_wait({{"PING"}})->at(0).text, "PONG");
  auto from_url = connected_client(
      {.url = "redis://default:s3cret-pw@127.0.0.1:" + std::to_string(server_.port()) + "/0"});
  ASSERT_TRUE(from_url);
  EXPECT_EQ(from_url->address(), "redis://127.0.0.1:" + std::to_string(server_.port()) + "/0");
  EXPECT_EQ(from_url->send_and_wait({{"PING"}})->at(0).text, "PONG");
}

TEST_F(RedisClientTest, AWrongOrMissingPasswordIsNotConnectedAndNeverLogged) {
  server_.start({"--requirepass", "s3cret-pw"});
  std::ostringstream log;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log);
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink));

  // The password file overrides the URL's (right) password.
  auto wrong = client({.url = "redis://:s3cret-pw@127.0.0.1:" + std::to_string(server_.port()),
                       .password = "not-the-pw"});
  ASSERT_TRUE(wrong);
  ASSERT_TRUE(eventually([&] { return !wrong->last_error().empty(); }));
  EXPECT_FALSE(wrong->connected());
  EXPECT_EQ(wrong->last_error(),
            "authentication failed: WRONGPASS invalid username-password pair or user is "
            "disabled.");
  auto refused = wrong->send_and_wait({{"PING"}});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().reason, Reason::kSessionStoreUnavailable);
  EXPECT_EQ(refused.error().detail,
            "Redis redis://127.0.0.1:" + std::to_string(server_.port()) +
                ": not connected (authentication failed: WRONGPASS invalid username-password "
                "pair or user is disabled.)");

  auto none = client({.url = server_.url()});
  ASSERT_TRUE(none);
  ASSERT_TRUE(eventually([&] { return !none->last_error().empty(); }));
  EXPECT_FALSE(none->connected());
  EXPECT_EQ(none->last_error(), "authentication failed: NOAUTH Authentication required.");
  wrong.reset();
  none.reset();
  spdlog::set_default_logger(previous);
  EXPECT_NE(log.str().find("unavailable (authentication failed: WRONGPASS"), std::string::npos)
      << log.str();
  EXPECT_EQ(log.str().find("s3cret-pw"), std::string::npos) << log.str();
  EXPECT_EQ(log.str().find("not-the-pw"), std::string::npos) << log.str();
}

TEST_F(RedisClientTest, SelectsTheUrlsDatabase) {
  server_.start();
  auto db3 = connected_client({.url = server_.url() + "/3"});
  auto db0 = connected_client({.url = server_.url()});
  ASSERT_TRUE(db3 && db0);
  ASSERT_TRUE(db3->send_and_wait({{"SET", "where", "three"}}).ok());
  EXPECT_EQ(db3->send_and_wait({{"GET", "where"}})->at(0).text, "three");
  EXPECT_EQ(db0->send_and_wait({{"GET", "where"}})->at(0).type, Reply::Type::kNil);
  EXPECT_EQ(db0->send_and_wait({{"SELECT", "3"}, {"GET", "where"}})->at(1).text, "three");

  auto no_such_db = client({.url = server_.url() + "/99"});
  ASSERT_TRUE(no_such_db);
  ASSERT_TRUE(eventually([&] { return !no_such_db->last_error().empty(); }));
  EXPECT_EQ(no_such_db->last_error(), "SELECT failed: ERR DB index is out of range");
}

TEST_F(RedisClientTest, AStoppedServerFailsFastAndAServerBackRecovers) {
  server_.start();
  auto redis = connected_client({.url = server_.url(), .command_timeout = 1000ms});
  ASSERT_TRUE(redis);
  ASSERT_TRUE(redis->send_and_wait({{"SET", "kept", "no"}}).ok());
  server_.stop();
  ASSERT_TRUE(eventually([&] { return !redis->connected(); }, 5s));
  EXPECT_NE(redis->last_error(), "");

  const auto start = Clock::now();
  std::promise<Result<Replies>> failed;
  redis->send({{"GET", "kept"}}, [&](Result<Replies> r) { failed.set_value(std::move(r)); });
  auto result = failed.get_future().get();
  EXPECT_LT(Clock::now() - start, 100ms);  // not queued behind a dead server
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().reason, Reason::kSessionStoreUnavailable);
  EXPECT_EQ(result.error().detail.rfind("Redis " + server_.url() + ": not connected (", 0), 0u)
      << result.error().detail;

  server_.restart();
  ASSERT_TRUE(eventually([&] { return redis->connected(); })) << redis->last_error();
  EXPECT_EQ(redis->last_error(), "");
  auto again = redis->send_and_wait({{"SET", "back", "yes"}, {"GET", "back"}});
  ASSERT_TRUE(again.ok()) << again.error().describe();
  EXPECT_EQ(again->at(1).text, "yes");
}

TEST_F(RedisClientTest, LosingTheConnectionFailsEveryBatchInFlight) {
  server_.start();
  auto redis = connected_client({.url = server_.url(), .connections = 1});
  ASSERT_TRUE(redis);
  // The server closes the connection while BLPOP waits: the batches behind it fail with it.
  std::vector<std::future<Result<Replies>>> results;
  for (int i = 0; i < 3; ++i) {
    auto promise = std::make_shared<std::promise<Result<Replies>>>();
    results.push_back(promise->get_future());
    redis->send({{"BLPOP", "nothing", "0"}},
                [promise](Result<Replies> r) { promise->set_value(std::move(r)); });
  }
  auto other = connected_client({.url = server_.url()});
  ASSERT_TRUE(other);
  ASSERT_TRUE(other->send_and_wait({{"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"}}).ok());
  for (auto& result : results) {
    ASSERT_EQ(result.wait_for(2s), std::future_status::ready);
    auto failed = result.get();
    ASSERT_FALSE(failed.ok());
    EXPECT_EQ(failed.error().detail,
              "Redis " + server_.url() + ": the server closed the connection");
  }
  EXPECT_TRUE(eventually([&] { return redis->connected(); }));
}

TEST_F(RedisClientTest, AServerThatStopsAnsweringFailsTheBatchAfterCommandTimeout) {
  server_.start();
  auto redis = connected_client({.url = server_.url(), .command_timeout = 300ms, .connections = 1});
  ASSERT_TRUE(redis);
  server_.pause();
  const auto start = Clock::now();
  auto result = redis->send_and_wait({{"PING"}});
  const auto took = Clock::now() - start;
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().reason, Reason::kSessionStoreUnavailable);
  EXPECT_EQ(result.error().detail, "Redis " + server_.url() + ": no reply within 300 ms");
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 800ms);
  server_.resume();
  ASSERT_TRUE(eventually([&] { return redis->connected(); })) << redis->last_error();
  EXPECT_EQ(redis->send_and_wait({{"PING"}})->at(0).text, "PONG");
}

TEST_F(RedisClientTest, AServerThatNeverAnswersIsNotConnected) {
  // Accepts (the kernel completes the handshake) but never reads or answers.
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(listener, 16), 0);
  socklen_t length = sizeof address;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
  const std::string url = "redis://127.0.0.1:" + std::to_string(ntohs(address.sin_port));
  auto redis = client({.url = url, .connect_timeout = 200ms, .connections = 1});
  ASSERT_TRUE(redis);
  ASSERT_TRUE(eventually([&] { return !redis->last_error().empty(); }, 3s));
  EXPECT_FALSE(redis->connected());
  EXPECT_EQ(redis->last_error(), "no hello reply within 200 ms");
  auto refused = redis->send_and_wait({{"PING"}});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().detail,
            "Redis " + url + ": not connected (no hello reply within 200 ms)");
  redis.reset();
  ::close(listener);
}

TEST_F(RedisClientTest, AFullQueueRefusesMoreAndTheDestructorFailsWhatIsPending) {
  server_.start();
  auto redis = connected_client(
      {.url = server_.url(), .command_timeout = 5000ms, .connections = 1, .max_queued_batches = 5});
  ASSERT_TRUE(redis);
  server_.pause();
  std::atomic<int> failed{0};
  std::vector<std::string> details(6);
  for (int i = 0; i < 6; ++i) {
    redis->send({{"PING"}}, [&, i](Result<Replies> r) {
      if (!r.ok()) details[i] = r.error().detail;
      ++failed;
    });
  }
  ASSERT_TRUE(eventually([&] { return failed.load() == 1; }, 1s));
  EXPECT_EQ(details[5],
            "Redis " + server_.url() + ": too many commands waiting (5 batches on a connection)");
  redis.reset();  // the five waiting get an error, at once
  EXPECT_EQ(failed.load(), 6);
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(details[i], "Redis " + server_.url() + ": the client is shutting down");
}

TEST_F(RedisClientTest, RefusesBadSettings) {
  struct Bad {
    RedisSettings settings;
    Reason reason;
    std::string detail;
  };
  const Bad cases[] = {
      {{.url = "redis://user@host"},
       Reason::kConfigInvalid,
       "Redis URL redis://host: user 'user' needs a password (in the URL or "
       "session_store.password_file)"},
      {{.url = "redis://host", .ca_file = "/etc/ssl/certs/ca-certificates.crt"},
       Reason::kConfigInvalid,
       "a CA file is used only with TLS: the Redis URL must start with rediss://"},
      {{.url = "rediss://host", .ca_file = "/nonexistent/ca.pem"},
       Reason::kFileUnreadable,
       "/nonexistent/ca.pem: not a readable PEM CA certificate (No such file or directory)"},
      {{.url = "redis://host", .connections = 0},
       Reason::kConfigInvalid,
       "the Redis client needs at least one connection"},
      {{.url = "redis://host", .command_timeout = 0ms},
       Reason::kConfigInvalid,
       "the Redis client's timeouts must be positive"},
      {{.url = "redis://host", .max_queued_batches = 0},
       Reason::kConfigInvalid,
       "the Redis client must queue at least one batch"},
      {{.url = "redis://host:0"},
       Reason::kConfigInvalid,
       "Redis URL redis://host:0: the port must be a number from 1 to 65535"},
  };
  for (const auto& bad : cases) {
    auto created = RedisClient::create(bad.settings);
    ASSERT_FALSE(created.ok()) << bad.settings.url;
    EXPECT_EQ(created.error().reason, bad.reason) << bad.settings.url;
    EXPECT_EQ(created.error().detail, bad.detail) << bad.settings.url;
  }
}

TEST_F(RedisClientTest, ADownServerIsNoErrorAtCreate) {
  const std::string url = "redis://127.0.0.1:" + std::to_string(RedisServer::free_port());
  auto redis = client({.url = url});
  ASSERT_TRUE(redis);
  ASSERT_TRUE(eventually([&] { return !redis->last_error().empty(); }, 3s));
  EXPECT_FALSE(redis->connected());
  EXPECT_EQ(redis->last_error(), "cannot connect: Connection refused");
}

class RedisTlsTest : public RedisClientTest {
 protected:
  void SetUp() override {
    RedisClientTest::SetUp();
    if (IsSkipped()) return;
    auto right = pki::generate_bundle({.out_dir = server_.dir() + "/pki"});
    ASSERT_TRUE(right.ok()) << right.error().describe();
    auto other = pki::generate_bundle({.out_dir = server_.dir() + "/other"});
    ASSERT_TRUE(other.ok()) << other.error().describe();
    files_ = *right;
    other_ca_ = other->ca_cert;
    server_.start({"--tls-cert-file", files_.server_cert, "--tls-key-file", files_.server_key,
                   "--tls-ca-cert-file", files_.ca_cert, "--tls-auth-clients", "no",
                   // 127.0.0.2 too: an address the certificate does not name.
                   "--bind", "127.0.0.1", "127.0.0.2"},
                  /*tls=*/true);
  }
  std::string url(const std::string& host) const {
    return "rediss://" + host + ":" + std::to_string(server_.port());
  }
  pki::BundleFiles files_;
  std::string other_ca_;
};

TEST_F(RedisTlsTest, TalksTlsVerifiedWithTheCaFile) {
  for (const std::string host : {"127.0.0.1", "localhost"}) {
    auto redis = connected_client({.url = url(host), .ca_file = files_.ca_cert});
    ASSERT_TRUE(redis) << host;
    EXPECT_EQ(redis->address(), url(host));
    auto replies = redis->send_and_wait({{"SET", "tls", host}, {"GET", "tls"}});
    ASSERT_TRUE(replies.ok()) << replies.error().describe();
    EXPECT_EQ(replies->at(1).text, host);
  }
}

TEST_F(RedisTlsTest, RefusesAServerSignedByAnotherCa) {
  auto redis = client({.url = url("127.0.0.1"), .ca_file = other_ca_});
  ASSERT_TRUE(redis);
  ASSERT_TRUE(eventually([&] { return !redis->last_error().empty(); }, 3s));
  EXPECT_FALSE(redis->connected());
  // redis-server sends its chain with the CA, which nothing here trusts.
  EXPECT_EQ(redis->last_error(),
            "certificate verify failed: self-signed certificate in certificate chain");
  // Nor does the system store know the tests' CA.
  auto system = client({.url = url("127.0.0.1")});
  ASSERT_TRUE(system);
  ASSERT_TRUE(eventually([&] { return !system->last_error().empty(); }, 3s));
  EXPECT_EQ(system->last_error(),
            "certificate verify failed: self-signed certificate in certificate chain");
  // The right CA, but a name the certificate does not hold.
  auto other_name = client({.url = url("127.0.0.2"), .ca_file = files_.ca_cert});
  ASSERT_TRUE(other_name);
  ASSERT_TRUE(eventually([&] { return !other_name->last_error().empty(); }, 3s));
  EXPECT_EQ(other_name->last_error(), "certificate verify failed: IP address mismatch");
  // Plain RESP to a TLS port gets no hello reply.
  auto plain = client(
      {.url = "redis://127.0.0.1:" + std::to_string(server_.port()), .connect_timeout = 300ms});
  ASSERT_TRUE(plain);
  ASSERT_TRUE(eventually([&] { return !plain->last_error().empty(); }, 3s));
  EXPECT_FALSE(plain->connected());
}

}  // namespace
}  // namespace jotgate::redis
