// The http and builtin transports (vm/connectors/step_call.h) against a real
// HTTP server: tests/servers/http_server.py, started once for the suite as a
// child process. The fixture waits on the port line the server prints, never
// on a sleep; every test starts from POST /_reset.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <vector>

#include "tests/unit/runtime/test_http_server.h"
#include "stdlib/builtin_connectors.h"
#include "vm/connectors/http_client.h"
#include "vm/connectors/http_transport.h"
#include "vm/connectors/redact.h"
#include "vm/connectors/step_call.h"
#include "vm/connectors/transport.h"
#include "vm/schema/validate.h"

namespace flow::connectors {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using Status = StepOutcome::Status;

constexpr const char* kToken = "s3cret-T0KEN-value";

class HttpTransportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_.Start();
    port_ = server_.port();
  }
  static void TearDownTestSuite() { server_.Stop(); }

  void SetUp() override {
    ::unsetenv("FLOW_TEST_BILLING_URL");
    ::setenv("FLOW_TEST_TOKEN", kToken, 1);
    Post("/_reset", json::object());
    Load(R"({"kind": "bearer", "token_env": "FLOW_TEST_TOKEN"})");
  }

  static auto Base() -> std::string { return "http://127.0.0.1:" + std::to_string(port_); }

  static auto Call(const std::string& method, const std::string& path, const json& body) -> json {
    HttpRequest request{method,
                        Base() + path,
                        {"Content-Type: application/json"},
                        body.is_null() ? std::nullopt : std::optional(body.dump()),
                        milliseconds(5000)};
    auto result = SendHttp(request);
    EXPECT_TRUE(std::holds_alternative<HttpResponse>(result));
    if (!std::holds_alternative<HttpResponse>(result)) return nullptr;
    return json::parse(std::get<HttpResponse>(result).body);
  }
  static void Post(const std::string& path, const json& body) { Call("POST", path, body); }
  static auto Requests() -> json { return Call("GET", "/_requests", nullptr); }
  static void Script(json rule) { Post("/_control", rule); }

  // The billing connector with the given auth object.
  void Load(const std::string& auth) {
    std::string text = R"({"connector": "billing",
      "transport": {"kind": "http", "base_url": ")" +
                       Base() + R"(",
                    "base_url_env": "FLOW_TEST_BILLING_URL", "auth": )" +
                       auth + R"(},
      "types": {"Charge": {"type": "object", "required": ["id", "amount"],
        "properties": {"id": {"type": "string"}, "amount": {"type": "integer"},
                       "status": {"enum": ["paid", "pending"]}}}},
      "operations": {
        "charge": {"http": {"method": "POST", "path": "/customers/{customer}/charges"},
          "input": {"type": "object", "required": ["customer", "amount"],
            "properties": {"customer": {"type": "string"}, "amount": {"type": "integer", "minimum": 1},
                           "note": {"type": "string"}}},
          "output": {"$ref": "#/types/Charge"}},
        "find": {"http": {"method": "GET", "path": "/search"},
          "input": {"type": "object", "properties": {"q": {"type": "string"},
            "limit": {"type": "integer"}, "tags": {"type": "array", "items": {"type": "string"}},
            "opt": {"type": "string"}}}},
        "remove": {"http": {"method": "DELETE", "path": "/items/{id}"},
          "input": {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"},
            "force": {"type": "boolean"}}}}}})";
    auto file = ParseConnectorFile(text);
    ASSERT_TRUE(file.ok()) << file.error().message;
    connector_ = std::move(file).value();
  }

  auto Attempt(const std::string& op, json args, milliseconds timeout = milliseconds(5000))
      -> StepOutcome {
    StepAttempt attempt{
        &connector_, connector_.FindOperation(op), "", std::move(args), "run-1/step-3", "run-1",
        timeout};
    EXPECT_NE(attempt.op, nullptr);
    return PerformAttempt(DefaultTransports(), attempt);
  }

  static inline flow::testing::TestHttpServer server_;
  static inline int port_ = 0;
  ConnectorFile connector_;
};

TEST_F(HttpTransportTest, PostSendsBodyAndValidatesOutput) {
  auto outcome = Attempt("charge", {{"customer", "c1"}, {"amount", 250}, {"note", "hi"}});
  ASSERT_EQ(outcome.status, Status::Ok) << outcome.message;
  EXPECT_EQ(outcome.output["amount"], 250);
  EXPECT_EQ(outcome.output["status"], "paid");
  json requests = Requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0]["method"], "POST");
  EXPECT_EQ(requests[0]["path"], "/customers/c1/charges");
  // The path parameter is not repeated in the body.
  EXPECT_EQ(requests[0]["json"], json({{"amount", 250}, {"note", "hi"}}));
  EXPECT_EQ(requests[0]["headers"]["Content-Type"], "application/json");
  EXPECT_EQ(requests[0]["headers"]["Accept"], "application/json");
  EXPECT_EQ(requests[0]["headers"]["Idempotency-Key"], "run-1/step-3");
  EXPECT_EQ(requests[0]["headers"]["Authorization"], std::string("Bearer ") + kToken);
}

TEST_F(HttpTransportTest, ResponseBreakingTheSchemaIsAContractError) {
  Script({{"path", "/search"}, {"respond", {{"id", "ch_1"}, {"amount", "12"}}}});
  // `find` has no output schema: anything goes.
  ASSERT_EQ(Attempt("find", json::object()).status, Status::Ok);
  Script({{"path", "/customers/c1/charges"},
          {"fail", 1},
          {"status", 200},
          {"body", {{"id", "ch_1"}, {"amount", "12"}}}});
  auto outcome = Attempt("charge", {{"customer", "c1"}, {"amount", 12}});
  EXPECT_EQ(outcome.status, Status::Permanent);
  EXPECT_EQ(outcome.error_kind, "contract");
  EXPECT_EQ(outcome.message, "$.amount: expected integer, got string");
}

TEST_F(HttpTransportTest, TheTestServerAppliesAnEffectOncePerKey) {
  // The effect happens, then the response is lost: the retry with the same
  // key gets the stored answer and no second charge.
  Script({{"path", "/customers/c1/charges"}, {"lose_response", 1}});
  auto lost = Attempt("charge", {{"customer", "c1"}, {"amount", 9}});
  EXPECT_EQ(lost.error_kind, "server_error");
  auto retried = Attempt("charge", {{"customer", "c1"}, {"amount", 9}});
  ASSERT_EQ(retried.status, Status::Ok) << retried.message;
  json effects = Call("GET", "/_effects", nullptr);
  ASSERT_EQ(effects.size(), 1u);
  EXPECT_EQ(effects[0]["id"], retried.output["id"]);
  EXPECT_EQ(effects[0]["key"], "run-1/step-3");
}

TEST_F(HttpTransportTest, ResponseThatIsNotJsonIsAContractError) {
  Script({{"path", "/customers/c1/charges"}, {"fail", 1}, {"status", 200}, {"body", "<html>oops"}});
  auto outcome = Attempt("charge", {{"customer", "c1"}, {"amount", 12}});
  EXPECT_EQ(outcome.error_kind, "contract");
  EXPECT_EQ(outcome.message, "response is not JSON: '<html>oops'");
}

TEST_F(HttpTransportTest, BadArgumentsAreRejectedBeforeSending) {
  auto outcome = Attempt("charge", {{"customer", "c1"}, {"amount", "12"}});
  EXPECT_EQ(outcome.status, Status::Permanent);
  EXPECT_EQ(outcome.error_kind, "contract");
  EXPECT_EQ(outcome.message, "arguments: $.amount: expected integer, got string");
  EXPECT_EQ(Attempt("charge", {{"customer", "c1"}}).message,
            "arguments: $: missing required property 'amount'");
  EXPECT_EQ(Requests().size(), 0u);
}

TEST_F(HttpTransportTest, ClientErrorIsPermanentWithStatusAndBody) {
  Script({{"path", "/customers/c9/charges"},
          {"fail", 1},
          {"status", 404},
          {"body", {{"error", "no such customer"}}}});
  auto outcome = Attempt("charge", {{"customer", "c9"}, {"amount", 5}});
  EXPECT_EQ(outcome.status, Status::Permanent);
  EXPECT_EQ(outcome.error_kind, "http");
  EXPECT_EQ(outcome.message,
            R"(HTTP 404 from POST /customers/c9/charges: {"error": "no such customer"})");
}

TEST_F(HttpTransportTest, ServerErrorIsRetryableAndEveryAttemptSendsTheSameKey) {
  Script({{"path", "/customers/c1/charges"}, {"fail", 2}, {"status", 503}});
  auto first = Attempt("charge", {{"customer", "c1"}, {"amount", 7}});
  EXPECT_EQ(first.status, Status::Retryable);
  EXPECT_EQ(first.error_kind, "server_error");
  EXPECT_NE(first.message.find("HTTP 503"), std::string::npos) << first.message;
  EXPECT_EQ(Attempt("charge", {{"customer", "c1"}, {"amount", 7}}).error_kind, "server_error");
  auto third = Attempt("charge", {{"customer", "c1"}, {"amount", 7}});
  ASSERT_EQ(third.status, Status::Ok) << third.message;
  json requests = Requests();
  ASSERT_EQ(requests.size(), 3u);
  for (const json& r : requests) EXPECT_EQ(r["headers"]["Idempotency-Key"], "run-1/step-3");
  EXPECT_EQ(Call("GET", "/_effects", nullptr).size(), 1u);
}

TEST_F(HttpTransportTest, RateLimitHonoursRetryAfterSeconds) {
  Script({{"path", "/customers/c1/charges"}, {"rate_limit", 1}, {"retry_after", "7"}});
  auto outcome = Attempt("charge", {{"customer", "c1"}, {"amount", 7}});
  EXPECT_EQ(outcome.status, Status::Retryable);
  EXPECT_EQ(outcome.error_kind, "rate_limited");
  ASSERT_TRUE(outcome.retry_after.has_value());
  EXPECT_EQ(*outcome.retry_after, milliseconds(7000));
}

TEST_F(HttpTransportTest, RateLimitHonoursRetryAfterDate) {
  // An HTTP-date 30 s ahead (whole seconds, so 29..30 s remain).
  std::time_t when = std::time(nullptr) + 30;
  std::tm utc{};
  gmtime_r(&when, &utc);
  char date[64];
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &utc);
  Script({{"path", "/customers/c1/charges"}, {"rate_limit", 1}, {"retry_after", date}});
  auto outcome = Attempt("charge", {{"customer", "c1"}, {"amount", 7}});
  EXPECT_EQ(outcome.error_kind, "rate_limited");
  ASSERT_TRUE(outcome.retry_after.has_value());
  EXPECT_GE(*outcome.retry_after, milliseconds(28'000));
  EXPECT_LE(*outcome.retry_after, milliseconds(30'000));
}

TEST_F(HttpTransportTest, UnavailableHonoursRetryAfter) {
  Script({{"path", "/customers/c1/charges"}, {"fail", 1}, {"status", 503}, {"retry_after", "9"}});
  auto outcome = Attempt("charge", {{"customer", "c1"}, {"amount", 7}});
  EXPECT_EQ(outcome.status, Status::Retryable);
  EXPECT_EQ(outcome.error_kind, "server_error");
  ASSERT_TRUE(outcome.retry_after.has_value());
  EXPECT_EQ(*outcome.retry_after, milliseconds(9000));
}

TEST_F(HttpTransportTest, RetryAfterOnOtherStatusesIsIgnored) {
  // RFC 9110 defines Retry-After for 429, 503 and redirects only.
  Script({{"path", "/customers/c1/charges"}, {"fail", 1}, {"status", 500}, {"retry_after", "9"}});
  auto outcome = Attempt("charge", {{"customer", "c1"}, {"amount", 7}});
  EXPECT_EQ(outcome.error_kind, "server_error");
  EXPECT_FALSE(outcome.retry_after.has_value());
}

TEST_F(HttpTransportTest, HangingServerIsATimeoutWithinTheLimit) {
  // The server would hang for 60 s; the bound below only proves the 300 ms
  // timeout cut the attempt short, with room for a loaded machine.
  Script({{"path", "/customers/slow/charges"}, {"hang", 1}, {"seconds", 60}});
  auto start = std::chrono::steady_clock::now();
  auto outcome = Attempt("charge", {{"customer", "slow"}, {"amount", 7}}, milliseconds(300));
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(outcome.status, Status::Retryable);
  EXPECT_EQ(outcome.error_kind, "timeout");
  EXPECT_EQ(outcome.message, "POST /customers/slow/charges: no response within 300ms");
  EXPECT_LT(elapsed, std::chrono::seconds(30));
}

TEST_F(HttpTransportTest, PathParametersArePercentEncoded) {
  auto outcome = Attempt("charge", {{"customer", "a b/c?d&é"}, {"amount", 1}});
  ASSERT_EQ(outcome.status, Status::Ok) << outcome.message;
  json requests = Requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0]["raw_path"], "/customers/a%20b%2Fc%3Fd%26%C3%A9/charges");
}

TEST_F(HttpTransportTest, GetSendsArgumentsAsQueryString) {
  auto outcome =
      Attempt("find", {{"q", "x y&z"}, {"limit", 5}, {"tags", {"a", "b"}}, {"opt", nullptr}});
  ASSERT_EQ(outcome.status, Status::Ok) << outcome.message;
  json request = Requests()[0];
  EXPECT_EQ(request["method"], "GET");
  EXPECT_EQ(request["body"], "");
  EXPECT_EQ(request["args"]["q"], json({"x y&z"}));
  EXPECT_EQ(request["args"]["limit"], json({"5"}));
  EXPECT_EQ(request["args"]["tags"], json({R"(["a","b"])"}));
  EXPECT_FALSE(request["args"].contains("opt"));  // null = not given
}

TEST_F(HttpTransportTest, DeleteUsesPathAndQuery) {
  auto outcome = Attempt("remove", {{"id", 42}, {"force", true}});
  ASSERT_EQ(outcome.status, Status::Ok) << outcome.message;
  json request = Requests()[0];
  EXPECT_EQ(request["method"], "DELETE");
  EXPECT_EQ(request["path"], "/items/42");
  EXPECT_EQ(request["query"], "force=true");
}

TEST_F(HttpTransportTest, BaseUrlEnvOverridesTheFile) {
  ::setenv("FLOW_TEST_BILLING_URL", "http://127.0.0.1:1", 1);
  auto outcome = Attempt("charge", {{"customer", "c1"}, {"amount", 7}});
  EXPECT_EQ(outcome.status, Status::Retryable);
  EXPECT_EQ(outcome.error_kind, "transport");
  EXPECT_EQ(Requests().size(), 0u);
  ::setenv("FLOW_TEST_BILLING_URL", "", 1);  // empty = unset
  EXPECT_EQ(Attempt("charge", {{"customer", "c1"}, {"amount", 7}}).status, Status::Ok);
}

TEST_F(HttpTransportTest, AMissingSecretBlocksTheStepNamingTheVariable) {
  ::unsetenv("FLOW_TEST_TOKEN");
  auto outcome = Attempt("charge", {{"customer", "c1"}, {"amount", 7}});
  EXPECT_EQ(outcome.status, Status::Blocked);
  EXPECT_EQ(outcome.error_kind, "config");
  EXPECT_EQ(outcome.message, "environment variable FLOW_TEST_TOKEN is not set (needed for auth)");
  EXPECT_EQ(Requests().size(), 0u);
}

TEST_F(HttpTransportTest, SecretsNeverAppearInMessages) {
  // The server echoes the request headers (Authorization included) in a 401.
  Script({{"path", "/customers/c1/charges"}, {"fail", 1}, {"status", 401}, {"echo_headers", true}});
  auto outcome = Attempt("charge", {{"customer", "c1"}, {"amount", 7}});
  EXPECT_EQ(outcome.error_kind, "http");
  EXPECT_NE(outcome.message.find("[redacted]"), std::string::npos) << outcome.message;
  EXPECT_EQ(outcome.message.find(kToken), std::string::npos) << outcome.message;
  // A transport failure with the token set.
  ::setenv("FLOW_TEST_BILLING_URL", "http://127.0.0.1:1", 1);
  auto refused = Attempt("charge", {{"customer", "c1"}, {"amount", 7}});
  EXPECT_EQ(refused.error_kind, "transport");
  EXPECT_EQ(refused.message.find(kToken), std::string::npos) << refused.message;
}

TEST_F(HttpTransportTest, BasicAndHeaderAuthComeFromTheEnvironment) {
  ::setenv("FLOW_TEST_USER", "ann", 1);
  ::setenv("FLOW_TEST_PASSWORD", "pa:ss", 1);
  Load(
      R"({"kind": "basic", "username_env": "FLOW_TEST_USER", "password_env": "FLOW_TEST_PASSWORD"})");
  ASSERT_EQ(Attempt("charge", {{"customer", "c1"}, {"amount", 7}}).status, Status::Ok);
  EXPECT_EQ(Requests()[0]["headers"]["Authorization"], "Basic " + Base64Encode("ann:pa:ss"));
  Load(R"({"kind": "header", "header": "X-Api-Key", "value_env": "FLOW_TEST_TOKEN"})");
  ASSERT_EQ(Attempt("charge", {{"customer", "c1"}, {"amount", 7}}).status, Status::Ok);
  EXPECT_EQ(Requests()[1]["headers"]["X-Api-Key"], kToken);
  ::unsetenv("FLOW_TEST_PASSWORD");
  Load(
      R"({"kind": "basic", "username_env": "FLOW_TEST_USER", "password_env": "FLOW_TEST_PASSWORD"})");
  EXPECT_EQ(Attempt("charge", {{"customer", "c1"}, {"amount", 7}}).message,
            "environment variable FLOW_TEST_PASSWORD is not set (needed for auth)");
}

// Issue 10: a server echoing the token JSON-escaped ('\/'), URL-encoded, in
// another case, as base64, or placed so that the 512-byte cut of the
// message would fall inside it. None of it may reach the message.
TEST_F(HttpTransportTest, SecretsAreRedactedInEveryEncodingAndBeforeTheCut) {
  const std::string token = "Tok/en+Value 9z";
  ::setenv("FLOW_TEST_TOKEN", token.c_str(), 1);
  const std::vector<std::string> echoes = {
      R"({"echo": "Bearer Tok\/en+Value 9z"})",      // JSON with an escaped slash
      "auth=Tok%2Fen%2BValue%209z",                  // percent-encoded
      "auth=tok%2fen%2bvalue+9z",                    // lower-case hex, '+' for the space
      "AUTHORIZATION: BEARER TOK/EN+VALUE 9Z",       // upper-cased
      "x-auth: " + Base64Encode(token),              // base64
      std::string(500, 'x') + " Bearer " + token,    // across the 512-byte cut
  };
  for (const std::string& echo : echoes) {
    Script({{"path", "/customers/c1/charges"}, {"fail", 1}, {"status", 401}, {"body", echo}});
    auto outcome = Attempt("charge", {{"customer", "c1"}, {"amount", 7}});
    ASSERT_EQ(outcome.error_kind, "http") << outcome.message;
    std::string lower = outcome.message;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const char* piece : {"tok/e", "tok\\/e", "tok%2f", "value 9z", "value+9z", "value%209z"}) {
      EXPECT_EQ(lower.find(piece), std::string::npos) << piece << " in " << outcome.message;
    }
    EXPECT_EQ(outcome.message.find(Base64Encode(token).substr(0, 8)), std::string::npos) << outcome.message;
    // (The mask itself may be what the 512-byte cut falls in: "[red...".)
    EXPECT_NE(outcome.message.find("[red"), std::string::npos) << outcome.message;
  }
}

// A 2xx answer that echoes the token is a result stored in the journal:
// the token is redacted there too.
TEST_F(HttpTransportTest, SecretsEchoedInAResultAreRedacted) {
  Script({{"path", "/search"}, {"respond", {{"token", kToken}, {"n", 7}, {"note", "ok"}}}});
  auto outcome = Attempt("find", {{"q", "x"}});
  ASSERT_EQ(outcome.status, Status::Ok) << outcome.message;
  EXPECT_EQ(outcome.output["token"], "[redacted]");
  EXPECT_EQ(outcome.output["n"], 7);
  EXPECT_EQ(outcome.output["note"], "ok");
}

// A response nested 65,000 deep is refused before it is parsed: every walk
// of it afterwards (validation, the journal's dump) would recurse per level.
TEST_F(HttpTransportTest, AResponseNestedTooDeepIsAContractError) {
  Script({{"path", "/search"}, {"respond", std::string(65000, '[') + std::string(65000, ']')}});
  auto outcome = Attempt("find", {{"q", "x"}});
  EXPECT_EQ(outcome.status, Status::Permanent);
  EXPECT_EQ(outcome.error_kind, "contract");
  EXPECT_EQ(outcome.message, "response is nested deeper than 512 levels");
}

// Issue 10: a CR/LF in a header value is header injection. An
// idempotency key carrying one (a run id from before run ids were checked)
// is refused before anything is sent.
TEST_F(HttpTransportTest, AHeaderWithACrLfIsNeverSent) {
  StepAttempt attempt{&connector_, connector_.FindOperation("charge"), "", {{"customer", "c1"}, {"amount", 7}},
                      "order-7\r\nX-Tenant: a:1", "order-7\r\nX-Tenant: a", milliseconds(5000)};
  auto outcome = PerformAttempt(DefaultTransports(), attempt);
  EXPECT_EQ(outcome.status, Status::Permanent);
  EXPECT_EQ(outcome.error_kind, "config");
  EXPECT_EQ(outcome.message,
            "POST /customers/c1/charges: header \"Idempotency-Key\" has a control character (U+000D) in its value; "
            "nothing was sent");
  EXPECT_EQ(Requests().size(), 0u);
}

// SPEC §4 "Nothing hangs for ever": a server that accepts the connection
// and never answers. The operation's own "timeout" bounds the attempt; a
// `timeout` clause would override it, and without either the default is
// five minutes (AttemptTimeout).
TEST_F(HttpTransportTest, AServerThatNeverAnswersTimesOutAtTheOperationsTimeout) {
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(listener, 8), 0);  // the kernel accepts; nobody ever reads or answers
  socklen_t length = sizeof address;
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length), 0);
  auto file = ParseConnectorFile(R"({"connector": "silent", "transport": {"kind": "http", "base_url": "http://127.0.0.1:)" +
                                 std::to_string(ntohs(address.sin_port)) + R"("},
      "operations": {"ask": {"http": {"method": "POST", "path": "/ask"}, "timeout": "300ms"},
                     "plain": {"http": {"method": "POST", "path": "/ask"}}}})");
  ASSERT_TRUE(file.ok()) << file.error().message;
  const Operation* ask = file->FindOperation("ask");
  EXPECT_EQ(AttemptTimeout(std::nullopt, *ask), milliseconds(300));
  EXPECT_EQ(AttemptTimeout(milliseconds(100), *ask), milliseconds(100));
  EXPECT_EQ(AttemptTimeout(std::nullopt, *file->FindOperation("plain")), kDefaultStepTimeout);
  EXPECT_EQ(kDefaultStepTimeout, std::chrono::minutes(5));
  StepAttempt attempt{&*file, ask, "", nullptr, "r:1", "r", AttemptTimeout(std::nullopt, *ask)};
  auto outcome = PerformAttempt(DefaultTransports(), attempt);
  EXPECT_EQ(outcome.status, Status::Retryable);
  EXPECT_EQ(outcome.error_kind, "timeout");
  EXPECT_EQ(outcome.message, "POST /ask: no response within 300ms");
  ::close(listener);
}

// ------------------------------------------------------------ builtin steps

class BuiltinStepTest : public HttpTransportTest {
 protected:
  void SetUp() override {
    HttpTransportTest::SetUp();
    builtins_ = stdlib::LoadBuiltinConnectors();
  }
  auto Builtin(const std::string& connector, const std::string& op, json args) -> StepOutcome {
    for (const ConnectorFile& file : builtins_) {
      if (file.name != connector) continue;
      StepAttempt attempt{&file,   file.FindOperation(op), "", std::move(args), "",
                          "run-1", milliseconds(5000)};
      return PerformAttempt(DefaultTransports(), attempt);
    }
    ADD_FAILURE() << "no builtin " << connector;
    return {};
  }
  std::vector<ConnectorFile> builtins_;
};

TEST_F(BuiltinStepTest, LogWritesToStderrAndReturnsTheTime) {
  ::testing::internal::CaptureStderr();
  auto outcome = Builtin("log", "warn", {{"message", "low stock"}, {"data", {{"sku", 7}}}});
  std::string err = ::testing::internal::GetCapturedStderr();
  ASSERT_EQ(outcome.status, Status::Ok) << outcome.message;
  EXPECT_EQ(err, "[warn] low stock {\"sku\":7}\n");
  ASSERT_TRUE(outcome.output["at"].is_string());
  EXPECT_TRUE(jsonschema::IsRfc3339DateTime(outcome.output["at"].get<std::string>()));
}

TEST_F(BuiltinStepTest, HttpRequestReturnsStatusHeadersAndParsedBody) {
  auto outcome = Builtin("http", "request",
                         {{"method", "PUT"},
                          {"url", Base() + "/things/1"},
                          {"headers", {{"X-Trace", "t1"}}},
                          {"body", {{"a", 1}}}});
  ASSERT_EQ(outcome.status, Status::Ok) << outcome.message;
  EXPECT_EQ(outcome.output["status"], 200);
  EXPECT_EQ(outcome.output["headers"]["content-type"], "application/json");
  EXPECT_EQ(outcome.output["body"]["body"], json({{"a", 1}}));
  json request = Requests()[0];
  EXPECT_EQ(request["headers"]["X-Trace"], "t1");
  EXPECT_FALSE(request["headers"].contains("Idempotency-Key"));
}

TEST_F(BuiltinStepTest, HttpRequestRefusesHeadersWithControlCharacters) {
  for (const json& headers : {json{{"X-A", "v\r\nX-Tenant: b"}}, json{{"X-A\r\nX-Tenant", "b"}},
                              json{{"X-A", std::string("v\0w", 3)}}, json{{"Bad Name", "v"}}}) {
    auto outcome =
        Builtin("http", "request", {{"method", "GET"}, {"url", Base() + "/things"}, {"headers", headers}});
    EXPECT_EQ(outcome.status, Status::Permanent) << headers.dump();
    EXPECT_EQ(outcome.error_kind, "contract") << outcome.message;
    EXPECT_EQ(outcome.message.find_first_of("\r\n"), std::string::npos) << outcome.message;
    EXPECT_EQ(outcome.message.rfind("arguments: $.headers: header", 0), 0u) << outcome.message;
  }
  EXPECT_EQ(Requests().size(), 0u);
  // A tab is allowed in a value.
  auto tab = Builtin("http", "request", {{"method", "GET"}, {"url", Base() + "/t"}, {"headers", {{"X-A", "a\tb"}}}});
  EXPECT_EQ(tab.status, Status::Ok) << tab.message;
}

TEST_F(BuiltinStepTest, HttpRequestReturnsClientErrorsAndTextBodies) {
  Script({{"path", "/missing"}, {"fail", 1}, {"status", 404}, {"body", "not here"}});
  auto outcome = Builtin("http", "request", {{"method", "GET"}, {"url", Base() + "/missing"}});
  ASSERT_EQ(outcome.status, Status::Ok) << outcome.message;
  EXPECT_EQ(outcome.output["status"], 404);
  EXPECT_EQ(outcome.output["body"], "not here");
}

TEST_F(BuiltinStepTest, HttpRequestServerErrorAndTransportFailureRetry) {
  Script({{"path", "/flaky"}, {"fail", 1}, {"status", 502}});
  auto outcome = Builtin("http", "request", {{"method", "GET"}, {"url", Base() + "/flaky"}});
  EXPECT_EQ(outcome.status, Status::Retryable);
  EXPECT_EQ(outcome.error_kind, "server_error");
  auto refused = Builtin("http", "request", {{"method", "GET"}, {"url", "http://127.0.0.1:1/"}});
  EXPECT_EQ(refused.status, Status::Retryable);
  EXPECT_EQ(refused.error_kind, "transport");
  auto scheme = Builtin("http", "request", {{"method", "GET"}, {"url", "file:///etc/passwd"}});
  EXPECT_EQ(scheme.status, Status::Permanent);
  EXPECT_EQ(scheme.error_kind, "config");
}

// ------------------------------------------------------------ pure helpers

TEST(HttpHelpers, RetryAfterParsing) {
  auto now = std::chrono::system_clock::from_time_t(1445412480);  // Wed, 21 Oct 2015 07:28:00 GMT
  EXPECT_EQ(ParseRetryAfter("120", now), milliseconds(120'000));
  EXPECT_EQ(ParseRetryAfter(" 0 ", now), milliseconds(0));
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:28:10 GMT", now), milliseconds(10'000));
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:00:00 GMT", now), milliseconds(0));  // past
  EXPECT_EQ(ParseRetryAfter("soon", now), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("", now), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("-5", now), std::nullopt);
}

TEST(HttpHelpers, RedactionAndBase64) {
  EXPECT_EQ(RedactSecrets("a tok1 b tok1", {"tok1", ""}), "a [redacted] b [redacted]");
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(UrlEscape("a b/~é"), "a%20b%2F~%C3%A9");
}

TEST(HttpHelpers, ExcerptIsOneTrimmedCappedLine) {
  EXPECT_EQ(Excerpt("  line one\n\tline two \n"), "line one line two");
  EXPECT_EQ(Excerpt(std::string(600, 'x')), std::string(512, 'x') + "...");
  // Never cuts inside a UTF-8 sequence.
  EXPECT_EQ(Excerpt("aé", 2), "a...");
}

}  // namespace
}  // namespace flow::connectors
