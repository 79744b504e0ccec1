#include "vm/connectors/http_transport.h"

#include <cstdlib>
#include <set>

#include "vm/connectors/http_client.h"
#include "vm/connectors/redact.h"

namespace flow::connectors {
namespace {

using nlohmann::json;

// The request being built, plus what its messages must not reveal.
struct Prepared {
  HttpRequest request;
  std::string route;  // "POST /customers/c1/charges": how messages name it
  std::vector<std::string> secrets;
};

auto Getenv(const std::string& name) -> const char* {
  const char* value = std::getenv(name.c_str());
  return (value != nullptr && value[0] != '\0') ? value : nullptr;
}

// A scalar as text ("abc", 42, true); anything else as its JSON text.
auto ArgText(const json& value) -> std::string {
  if (value.is_string()) return value.get<std::string>();
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

// Substitutes `{name}` parameters; an absent or null one is a contract error.
auto ExpandPath(const HttpRoute& route, const json& args, std::string* error) -> std::string {
  std::string out;
  const std::string& path = route.path;
  for (size_t i = 0; i < path.size(); ++i) {
    size_t close = path[i] == '{' ? path.find('}', i) : std::string::npos;
    if (close == std::string::npos) {
      out.push_back(path[i]);
      continue;
    }
    std::string name = path.substr(i + 1, close - i - 1);
    auto it = args.is_object() ? args.find(name) : args.end();
    if (it == args.end() || it->is_null()) {
      *error = "arguments: missing path parameter '" + name + "'";
      return "";
    }
    out += UrlEscape(ArgText(*it));
    i = close;
  }
  return out;
}

// The arguments that are not path parameters.
auto OtherArgs(const HttpRoute& route, const json& args) -> json {
  json rest = json::object();
  if (!args.is_object()) return rest;
  std::set<std::string> taken(route.path_params.begin(), route.path_params.end());
  for (const auto& [key, value] : args.items()) {
    if (taken.count(key) == 0) rest[key] = value;
  }
  return rest;
}

// "a=1&b=x%20y"; null arguments are left out (the same as not given).
auto QueryString(const json& rest) -> std::string {
  std::string out;
  for (const auto& [key, value] : rest.items()) {
    if (value.is_null()) continue;
    if (!out.empty()) out.push_back('&');
    out += UrlEscape(key) + "=" + UrlEscape(ArgText(value));
  }
  return out;
}

// Adds the auth header; a missing variable blocks the step (SPEC §4: the
// machine lacks it), naming the variable (never a value).
auto AddAuth(const HttpAuth& auth, Prepared& prepared) -> std::optional<StepOutcome> {
  auto require = [](const std::string& var) -> std::optional<std::string> {
    const char* value = Getenv(var);
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
  auto missing = [](const std::string& var) {
    return BlockedOutcome("environment variable " + var + " is not set (needed for auth)");
  };
  switch (auth.kind) {
    case AuthKind::None:
      return std::nullopt;
    case AuthKind::Bearer: {
      auto token = require(auth.token_env);
      if (!token) return missing(auth.token_env);
      prepared.secrets.push_back(*token);
      prepared.request.headers.push_back("Authorization: Bearer " + *token);
      return std::nullopt;
    }
    case AuthKind::Basic: {
      auto user = require(auth.username_env);
      if (!user) return missing(auth.username_env);
      auto password = require(auth.password_env);
      if (!password) return missing(auth.password_env);
      std::string encoded = Base64Encode(*user + ":" + *password);
      prepared.secrets.insert(prepared.secrets.end(), {*password, encoded});
      prepared.request.headers.push_back("Authorization: Basic " + encoded);
      return std::nullopt;
    }
    case AuthKind::Header: {
      auto value = require(auth.value_env);
      if (!value) return missing(auth.value_env);
      prepared.secrets.push_back(*value);
      prepared.request.headers.push_back(auth.header + ": " + *value);
      return std::nullopt;
    }
  }
  return std::nullopt;
}

auto Prepare(const StepAttempt& attempt, Prepared& prepared) -> std::optional<StepOutcome> {
  const TransportConfig& transport = attempt.connector->transport;
  const HttpRoute& route = attempt.op->http;
  std::string base = transport.base_url;
  if (!transport.base_url_env.empty()) {
    if (const char* value = Getenv(transport.base_url_env)) base = value;
  }
  while (!base.empty() && base.back() == '/') base.pop_back();

  std::string error;
  std::string path = ExpandPath(route, attempt.args, &error);
  if (!error.empty()) return FailOutcome(kKindContract, error);
  prepared.route = route.method + " " + path;

  HttpRequest& request = prepared.request;
  request.method = route.method;
  request.url = base + path;
  request.timeout = attempt.timeout;
  request.headers = {"Accept: application/json"};
  json rest = OtherArgs(route, attempt.args);
  if (route.method == "GET" || route.method == "DELETE") {
    std::string query = QueryString(rest);
    if (!query.empty()) request.url += (path.find('?') == std::string::npos ? "?" : "&") + query;
  } else {
    request.headers.push_back("Content-Type: application/json");
    request.body = rest.dump(-1, ' ', false, json::error_handler_t::replace);
  }
  if (!attempt.idempotency_key.empty()) {
    request.headers.push_back("Idempotency-Key: " + attempt.idempotency_key);
  }
  return AddAuth(transport.auth, prepared);
}

auto FromFailure(const HttpFailure& failure, const Prepared& prepared, const StepAttempt& attempt)
    -> StepOutcome {
  switch (failure.kind) {
    case HttpFailure::Kind::Timeout:
      // Without a step timeout only curl's connect timeout can expire.
      if (attempt.timeout.count() == 0)
        return FailOutcome(kKindTimeout, prepared.route + ": " + failure.message);
      return FailOutcome(kKindTimeout, prepared.route + ": no response within " +
                                           std::to_string(attempt.timeout.count()) + "ms");
    case HttpFailure::Kind::TooLarge:
      return FailOutcome(kKindContract, prepared.route + ": " + failure.message);
    case HttpFailure::Kind::BadRequest:
      return FailOutcome(kKindConfig, prepared.route + ": " + failure.message);
    case HttpFailure::Kind::Transport:
      break;
  }
  return FailOutcome(kKindTransport, prepared.route + ": " + failure.message);
}

auto FromResponse(const HttpResponse& response, const Prepared& prepared,
                  const StepAttempt& attempt) -> StepOutcome {
  long status = response.status;
  if (status >= 200 && status < 300) {
    // An empty body (204 No Content) is null, which the output schema decides on.
    std::string_view body = response.body;
    if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
      return ValidateOutput(*attempt.connector, *attempt.op, json(nullptr));
    }
    return ParseAndValidateOutput(*attempt.connector, *attempt.op, body, "response");
  }
  std::string message = "HTTP " + std::to_string(status) + " from " + prepared.route;
  std::string excerpt = Excerpt(response.body);
  if (!excerpt.empty()) message += ": " + excerpt;
  StepOutcome outcome;
  if (status == 429) {
    outcome = FailOutcome(kKindRateLimited, std::move(message));
  } else if (status >= 500 && status < 600) {
    outcome = FailOutcome(kKindServerError, std::move(message));
  } else {
    return FailOutcome(kKindHttp, std::move(message));
  }
  // RFC 9110 §10.2.3: Retry-After on a 429, or on a 503 ("how long the
  // service is expected to be unavailable"); other statuses do not define it.
  if (status == 429 || status == 503) {
    if (auto header = response.Header("retry-after")) {
      if (auto delay = ParseRetryAfter(*header, std::chrono::system_clock::now())) {
        outcome.retry_after = std::min(*delay, std::chrono::milliseconds(kMaxRetryAfter));
      }
    }
  }
  return outcome;
}

}  // namespace

auto PerformHttpAttempt(const StepAttempt& attempt) -> StepOutcome {
  Prepared prepared;
  if (auto rejected = Prepare(attempt, prepared)) return std::move(*rejected);
  Redactor redactor;
  for (const std::string& secret : prepared.secrets) redactor.Add(secret);
  for (const std::string& secret : attempt.secret_values) redactor.Add(secret);  // secret("ENV") arguments
  auto result = SendHttp(prepared.request);
  StepOutcome outcome;
  if (auto* response = std::get_if<HttpResponse>(&result)) {
    // Before anything reads it: the output (stored as the step's result)
    // and the message excerpt both come from the redacted body.
    if (!redactor.empty()) response->body = redactor.Apply(response->body);
    outcome = FromResponse(*response, prepared, attempt);
  } else {
    outcome = FromFailure(std::get<HttpFailure>(result), prepared, attempt);
  }
  outcome.message = redactor.Apply(outcome.message);
  return outcome;
}

}  // namespace flow::connectors
