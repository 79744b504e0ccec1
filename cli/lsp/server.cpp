#include "cli/lsp/server.h"

#include <cstdio>
#include <exception>

#include "vm/base/version.h"

namespace flow::lsp {

using nlohmann::json;

namespace {

// JSON-RPC and LSP error codes.
constexpr int kParseError = -32700;
constexpr int kInvalidRequest = -32600;
constexpr int kMethodNotFound = -32601;
constexpr int kInvalidParams = -32602;
constexpr int kInternalError = -32603;
constexpr int kServerNotInitialized = -32002;
constexpr int kRequestFailed = -32803;

// Thrown by a handler whose request cannot be answered (the reason goes to
// the client as RequestFailed).
struct Refused {
  std::string why;
};
// Thrown by Answer for a method this server does not have.
struct UnknownMethod {};

auto Capabilities() -> json {
  return json{
      {"positionEncoding", "utf-16"},
      {"textDocumentSync", {{"openClose", true}, {"change", 2}}},  // 2: incremental
      {"hoverProvider", true},
      {"definitionProvider", true},
      {"completionProvider", {{"triggerCharacters", {".", "(", ",", ":", "\""}}}},
      {"documentSymbolProvider", true},
      {"documentFormattingProvider", true},
      {"codeActionProvider", {{"codeActionKinds", {"quickfix"}}}},
      {"experimental", {{"flowGraphProvider", true}}},
  };
}

}  // namespace

auto Server::Run() -> int {
  std::string body;
  while (!exit_ && !output_broken_) {
    MessageReader::Status status = reader_.Next(body);
    if (status == MessageReader::Status::End) break;
    if (status == MessageReader::Status::Malformed) {
      Log("skipped " + body);
      continue;
    }
    json message = json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (message.is_discarded()) {
      ReplyError(nullptr, kParseError, "the message is not JSON");
    } else {
      Dispatch(message);
    }
    if (!exit_ && !reader_.MoreReady()) AnalyseStale();
  }
  return exit_ && state_ == State::ShutDown ? 0 : 1;
}

void Server::Dispatch(const json& message) {
  if (!message.is_object()) {
    ReplyError(nullptr, kInvalidRequest, "a message must be a JSON object");
    return;
  }
  auto method = message.find("method");
  auto id = message.find("id");
  bool has_id = id != message.end() && (id->is_number_integer() || id->is_string());
  if (method == message.end() || !method->is_string()) {
    // A response to a request of ours (we send none), or garbage.
    if (message.contains("result") || message.contains("error")) return;
    ReplyError(has_id ? *id : json(nullptr), kInvalidRequest, "a request needs a method");
    return;
  }
  json params = message.value("params", json::object());
  if (has_id) {
    Request(*id, method->get<std::string>(), params);
  } else if (id != message.end()) {
    ReplyError(nullptr, kInvalidRequest, "a request id must be a number or a string");
  } else {
    try {
      Notification(method->get<std::string>(), params);
    } catch (const std::exception& e) {
      Log("ignored " + method->get<std::string>() + ": " + e.what());
    }
  }
}

void Server::Request(const json& id, const std::string& method, const json& params) {
  if (method == "initialize") {
    if (state_ != State::Uninitialized) {
      ReplyError(id, kInvalidRequest, "initialize was already received");
      return;
    }
    state_ = State::Running;
    Reply(id, {{"capabilities", Capabilities()},
               {"serverInfo", {{"name", "flow"}, {"version", FlowVersion()}}}});
    return;
  }
  if (state_ == State::Uninitialized) {
    ReplyError(id, kServerNotInitialized, "the server has not been initialized");
    return;
  }
  if (state_ == State::ShutDown) {
    ReplyError(id, kInvalidRequest, "the server is shutting down");
    return;
  }
  if (method == "shutdown") {
    state_ = State::ShutDown;
    Reply(id, nullptr);
    return;
  }
  try {
    Reply(id, Answer(method, params));
  } catch (const UnknownMethod&) {
    ReplyError(id, kMethodNotFound, "unknown method '" + method + "'");
  } catch (const Refused& r) {
    ReplyError(id, kRequestFailed, r.why);
  } catch (const json::exception& e) {
    ReplyError(id, kInvalidParams, std::string("bad params: ") + e.what());
  } catch (const std::exception& e) {
    ReplyError(id, kInternalError, e.what());
  }
}

auto Server::Answer(const std::string& method, const json& params) -> json {
  uint32_t offset = 0;
  if (method == "textDocument/hover") {
    const Analysis* a = Target(params, offset);
    return a ? Hover(*a, offset) : json(nullptr);
  }
  if (method == "textDocument/definition") {
    const Analysis* a = Target(params, offset);
    return a ? Definition(*a, offset) : json(nullptr);
  }
  if (method == "textDocument/completion") {
    const Analysis* a = Target(params, offset);
    return a ? Complete(*a, offset) : json::array();
  }
  if (method == "textDocument/documentSymbol") {
    const Analysis* a = Fresh(params.at("textDocument").at("uri").get<std::string>());
    return a ? DocumentSymbols(*a) : json::array();
  }
  if (method == "textDocument/formatting") {
    const Analysis* a = Fresh(params.at("textDocument").at("uri").get<std::string>());
    if (a == nullptr) return nullptr;
    std::string why;
    json edits = Formatting(*a, why);
    if (edits.is_null()) Log("not formatted: " + why);
    return edits;
  }
  if (method == "textDocument/codeAction") {
    const Analysis* a = Fresh(params.at("textDocument").at("uri").get<std::string>());
    if (a == nullptr) return json::array();
    const json& range = params.at("range");
    return CodeActions(*a, a->lines.Offset(PositionFromJson(range.at("start"))),
                       a->lines.Offset(PositionFromJson(range.at("end"))));
  }
  if (method == "flow/graph") {
    const Analysis* a = Fresh(params.at("textDocument").at("uri").get<std::string>());
    if (a == nullptr) throw Refused{"the document is not open"};
    if (params.contains("position")) offset = a->lines.Offset(PositionFromJson(params["position"]));
    std::string why;
    json graph = WorkflowGraph(*a, offset, params.value("format", "dot"), why);
    if (graph.is_null()) throw Refused{why};
    return graph;
  }
  throw UnknownMethod{};
}

void Server::Notification(const std::string& method, const json& params) {
  if (method == "exit") {
    exit_ = true;
    return;
  }
  if (state_ != State::Running) return;  // before initialize, after shutdown
  if (method == "textDocument/didOpen") {
    const json& doc = params.at("textDocument");
    std::string uri = doc.at("uri").get<std::string>();
    Document& d = docs_[uri];
    d.text = doc.at("text").get<std::string>();
    d.version = doc.value("version", int64_t{0});
    d.stale = true;
  } else if (method == "textDocument/didChange") {
    Change(params);
  } else if (method == "textDocument/didClose") {
    std::string uri = params.at("textDocument").at("uri").get<std::string>();
    auto it = docs_.find(uri);
    if (it == docs_.end()) return;
    for (const std::string& target : it->second.published) {
      Send({{"jsonrpc", "2.0"}, {"method", "textDocument/publishDiagnostics"},
            {"params", {{"uri", target}, {"diagnostics", json::array()}}}});
    }
    docs_.erase(it);
  } else if (method == "workspace/didChangeWatchedFiles") {
    // A connector file changed on disk: every open document may read it.
    for (auto& [uri, doc] : docs_) doc.stale = true;
  }
  // Everything else (initialized, didSave, $/cancelRequest, $/setTrace...)
  // needs nothing from this server.
}

void Server::Change(const json& params) {
  std::string uri = params.at("textDocument").at("uri").get<std::string>();
  auto it = docs_.find(uri);
  if (it == docs_.end()) {
    Log("a change to " + uri + ", which is not open: ignored");
    return;
  }
  Document& doc = it->second;
  for (const json& change : params.at("contentChanges")) {
    if (change.contains("range")) {
      const json& r = change.at("range");
      ApplyEdit(doc.text, Range{PositionFromJson(r.at("start")), PositionFromJson(r.at("end"))},
                change.at("text").get<std::string>());
    } else {
      doc.text = change.at("text").get<std::string>();
    }
  }
  doc.version = params.at("textDocument").value("version", doc.version + 1);
  doc.stale = true;
}

auto Server::Fresh(const std::string& uri) -> const Analysis* {
  auto it = docs_.find(uri);
  if (it == docs_.end()) return nullptr;
  if (it->second.stale) AnalyseAndPublish(uri, it->second);
  return it->second.analysis.get();
}

auto Server::Target(const json& params, uint32_t& offset) -> const Analysis* {
  const Analysis* a = Fresh(params.at("textDocument").at("uri").get<std::string>());
  Position p = PositionFromJson(params.at("position"));
  if (a != nullptr) offset = a->lines.Offset(p);
  return a;
}

void Server::AnalyseAndPublish(const std::string& uri, Document& doc) {
  doc.analysis = Analyse(uri, doc.text);
  doc.stale = false;
  std::map<std::string, json> by_uri = DiagnosticsByUri(*doc.analysis);
  // Files that had diagnostics last time and have none now are cleared.
  for (const std::string& old : doc.published) {
    if (!by_uri.count(old)) by_uri[old] = json::array();
  }
  doc.published.clear();
  for (auto& [target, diagnostics] : by_uri) {
    json params = {{"uri", target}, {"diagnostics", std::move(diagnostics)}};
    if (target == uri) params["version"] = doc.version;
    if (!params["diagnostics"].empty()) doc.published.insert(target);
    Send({{"jsonrpc", "2.0"}, {"method", "textDocument/publishDiagnostics"}, {"params", params}});
  }
}

void Server::AnalyseStale() {
  for (auto& [uri, doc] : docs_) {
    if (doc.stale) AnalyseAndPublish(uri, doc);
  }
}

void Server::Send(const json& message) {
  if (output_broken_) return;
  std::string body = message.dump(-1, ' ', false, json::error_handler_t::replace);
  if (!WriteMessage(out_fd_, body)) {
    Log("the client closed its input; stopping");
    output_broken_ = true;
  }
}

void Server::Reply(const json& id, json result) {
  Send({{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}});
}

void Server::ReplyError(const json& id, int code, const std::string& message) {
  Send({{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}});
}

void Server::Log(const std::string& line) { std::fprintf(stderr, "flow lsp: %s\n", line.c_str()); }

}  // namespace flow::lsp
