#include "vm/connectors/builtin_transport.h"

#include <cstdio>
#include <ctime>

#include "vm/base/json_text.h"
#include "vm/connectors/http_client.h"
#include "vm/connectors/redact.h"

namespace flow::connectors {
namespace {

using nlohmann::json;

auto Dump(const json& value) -> std::string {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

auto Log(const StepAttempt& attempt, std::string_view level) -> StepOutcome {
  std::string line = "[" + std::string(level) + "] " + attempt.args.value("message", "");
  auto data = attempt.args.find("data");
  if (data != attempt.args.end() && !data->is_null()) line += " " + Dump(*data);
  line += "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
  return ValidateOutput(*attempt.connector, *attempt.op, json{{"at", NowRfc3339()}});
}

// Builds the request; a header value that is not a string, or a header
// HeaderProblem refuses, is a contract error.
auto BuildRequest(const StepAttempt& attempt, HttpRequest& request)
    -> std::optional<StepOutcome> {
  const json& args = attempt.args;
  request.method = args.value("method", "GET");
  request.url = args.value("url", "");
  request.timeout = attempt.timeout;
  bool has_content_type = false;
  if (auto headers = args.find("headers"); headers != args.end() && headers->is_object()) {
    for (const auto& [name, value] : headers->items()) {
      // A CR/LF in a name or value would start a header of the caller's
      // choosing: refused before anything is sent (docs/security.md).
      if (auto problem = HeaderProblem(name, "")) {
        return FailOutcome(kKindContract, "arguments: $.headers: " + *problem);
      }
      if (!value.is_string()) {
        return FailOutcome(kKindContract,
                           "arguments: $.headers." + name + ": expected string");
      }
      if (auto problem = HeaderProblem(name, value.get_ref<const std::string&>())) {
        return FailOutcome(kKindContract, "arguments: $.headers: " + *problem);
      }
      std::string lower = name;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      has_content_type |= lower == "content-type";
      request.headers.push_back(name + ": " + value.get<std::string>());
    }
  }
  auto body = args.find("body");
  if (body != args.end() && !body->is_null()) {
    request.body = body->is_string() ? body->get<std::string>() : Dump(*body);
    if (!has_content_type) {
      request.headers.push_back(body->is_string() ? "Content-Type: text/plain; charset=utf-8"
                                                  : "Content-Type: application/json");
    }
  }
  return std::nullopt;
}

auto ResponseJson(const HttpResponse& response) -> json {
  json headers = json::object();
  for (const auto& [name, value] : response.headers) {
    auto it = headers.find(name);
    if (it == headers.end())
      headers[name] = value;
    else
      *it = it->get<std::string>() + ", " + value;
  }
  // JSON when it parses within the depth limit, else the text as is.
  auto parsed = ParseJsonText(response.body);
  json body = parsed ? std::move(*parsed) : json(response.body);
  return json{
      {"status", response.status}, {"headers", std::move(headers)}, {"body", std::move(body)}};
}

auto Request(const StepAttempt& attempt) -> StepOutcome {
  HttpRequest request;
  if (auto rejected = BuildRequest(attempt, request)) return std::move(*rejected);
  std::string route = request.method + " " + request.url.substr(0, request.url.find('?'));
  auto result = SendHttp(request);
  if (auto* failure = std::get_if<HttpFailure>(&result)) {
    using Kind = HttpFailure::Kind;
    std::string_view kind = failure->kind == Kind::Timeout      ? kKindTimeout
                            : failure->kind == Kind::TooLarge   ? kKindContract
                            : failure->kind == Kind::BadRequest ? kKindConfig
                                                                : kKindTransport;
    return FailOutcome(kind, route + ": " + failure->message);
  }
  auto& response = std::get<HttpResponse>(result);
  // A server may echo a secret("ENV") header or body back: redacted from the
  // raw body and headers before anything reads them (redact.h).
  Redactor redactor;
  for (const std::string& secret : attempt.secret_values) redactor.Add(secret);
  if (!redactor.empty()) {
    response.body = redactor.Apply(response.body);
    for (auto& header : response.headers) header.second = redactor.Apply(header.second);
  }
  if (response.status >= 500 && response.status < 600) {
    std::string message = "HTTP " + std::to_string(response.status) + " from " + route;
    std::string excerpt = Excerpt(response.body);
    return FailOutcome(kKindServerError,
                       excerpt.empty() ? message : message + ": " + excerpt);
  }
  return ValidateOutput(*attempt.connector, *attempt.op, ResponseJson(response));
}

}  // namespace

auto NowRfc3339() -> std::string {
  auto now = std::chrono::system_clock::now();
  auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t seconds = static_cast<std::time_t>(millis / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[80];  // room for any int the compiler can imagine in %04d
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(millis % 1000));
  return text;
}

auto PerformBuiltinAttempt(const StepAttempt& attempt) -> StepOutcome {
  const std::string& connector = attempt.connector->name;
  const std::string& op = attempt.op->name;
  if (connector == "log" && (op == "info" || op == "warn" || op == "error"))
    return Log(attempt, op);
  if (connector == "http" && op == "request") return Request(attempt);
  return FailOutcome(kKindConfig, "no builtin operation " + connector + "." + op);
}

}  // namespace flow::connectors
