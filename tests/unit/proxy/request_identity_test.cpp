// Request ids and W3C trace context: a client's X-Request-Id is kept only on a trusted listener
// and only when sane; a valid traceparent is forwarded unchanged with its tracestate; anything
// else gets fresh ids that are well formed and unique.
#include "proxy/request_identity.h"

#include <set>
#include <string>

#include <gtest/gtest.h>

#include "proxy/admission.h"

namespace jotgate::proxy {
namespace {

constexpr std::string_view kValid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(RequestId, SaneIsOneTo128VisibleAsciiCharacters) {
  EXPECT_TRUE(sane_request_id("a"));
  EXPECT_TRUE(sane_request_id("f81d4fae-7dec-11d0-a765-00a0c91e6bf6"));
  EXPECT_TRUE(sane_request_id("!~{}\"'"));
  EXPECT_TRUE(sane_request_id(std::string(128, 'x')));
  EXPECT_FALSE(sane_request_id(""));
  EXPECT_FALSE(sane_request_id(std::string(129, 'x')));
  EXPECT_FALSE(sane_request_id("a b"));
  EXPECT_FALSE(sane_request_id("a\tb"));
  EXPECT_FALSE(sane_request_id("a\x01"));
  EXPECT_FALSE(sane_request_id("a\x7f"));
  EXPECT_FALSE(sane_request_id("caf\xc3\xa9"));
}

TEST(Traceparent, AValidVersion00GivesItsTraceId) {
  EXPECT_EQ(traceparent_trace_id(kValid), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(traceparent_trace_id("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"),
            "4bf92f3577b34da6a3ce929d0e0e4736");
}

TEST(Traceparent, EverythingElseIsInvalid) {
  for (std::string_view bad : {
           "",
           "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  // upper case
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0A",
           "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  // all-zero trace id
           "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  // all-zero parent id
           "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // not version 00
           "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",  // too long for 00
           "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-011",   // fields shifted
           "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
           "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
           " 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",
       }) {
    EXPECT_EQ(traceparent_trace_id(bad), std::nullopt) << bad;
  }
}

class Identify : public ::testing::Test {
 protected:
  RequestIdentity identify(bool trusted) {
    const ClientInfo client{"10.0.0.7", false};
    RequestIdentity identity;
    ids_.identify(HeadView(head_, client, trusted), identity);
    return identity;
  }
  http::request_header<> head_;
  RequestIdSource ids_;
};

TEST_F(Identify, KeepsASaneClientRequestIdOnlyOnATrustedListener) {
  head_.insert("x-request-id", "f81d4fae-7dec");
  EXPECT_EQ(identify(true).request_id, "f81d4fae-7dec");
  EXPECT_NE(identify(false).request_id, "f81d4fae-7dec");
}

TEST_F(Identify, ReplacesAnInsaneOrRepeatedClientRequestIdOnATrustedListener) {
  head_.insert("X-Request-Id", std::string(129, 'x'));
  EXPECT_NE(identify(true).request_id, std::string(129, 'x'));
  head_.set("X-Request-Id", "a b");
  EXPECT_NE(identify(true).request_id, "a b");
  head_.set("X-Request-Id", "one");
  head_.insert("X-Request-Id", "two");
  const std::string id = identify(true).request_id;
  EXPECT_NE(id, "one");
  EXPECT_NE(id, "two");
}

TEST_F(Identify, NewRequestIdsAreAWorkerPrefixAndACounter) {
  std::set<std::string> seen;
  std::string prefix;
  for (int i = 1; i <= 1000; ++i) {
    const std::string id = identify(false).request_id;
    ASSERT_TRUE(sane_request_id(id)) << id;
    ASSERT_EQ(id.find('-'), 16u) << id;
    if (prefix.empty()) prefix = id.substr(0, 16);
    EXPECT_EQ(id.substr(0, 17), prefix + "-");
    EXPECT_EQ(std::stoul(id.substr(17), nullptr, 16), static_cast<unsigned long>(i));
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
  // Another worker: another prefix.
  RequestIdSource other;
  const ClientInfo client{"10.0.0.7", false};
  RequestIdentity identity;
  other.identify(HeadView(head_, client, false), identity);
  EXPECT_NE(identity.request_id.substr(0, 16), prefix);
}

TEST_F(Identify, AValidTraceparentIsForwardedUnchangedWithItsTracestate) {
  head_.insert("traceparent", kValid);
  const RequestIdentity identity = identify(false);
  EXPECT_EQ(identity.traceparent, kValid);
  EXPECT_TRUE(identity.forward_tracestate);
  EXPECT_EQ(identity.ids().trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(identity.ids().request_id, identity.request_id);
}

TEST_F(Identify, AnAbsentInvalidOrRepeatedTraceparentIsReplacedByANewTrace) {
  std::set<std::string> traces;
  auto check_new = [&] {
    const RequestIdentity identity = identify(false);
    EXPECT_FALSE(identity.forward_tracestate);
    ASSERT_TRUE(traceparent_trace_id(identity.traceparent)) << identity.traceparent;
    EXPECT_EQ(identity.traceparent.substr(52), "-01");
    EXPECT_NE(identity.traceparent.substr(3, 32), "4bf92f3577b34da6a3ce929d0e0e4736");
    EXPECT_EQ(identity.ids().trace_id, identity.traceparent.substr(3, 32));
    traces.insert(identity.traceparent);
  };
  check_new();
  head_.set("traceparent", "00-00000000000000000000000000000000-00f067aa0ba902b7-01");
  check_new();
  head_.set("traceparent", std::string(kValid));
  head_.insert("traceparent", std::string(kValid));
  check_new();
  EXPECT_EQ(traces.size(), 3u);
}

}  // namespace
}  // namespace jotgate::proxy
