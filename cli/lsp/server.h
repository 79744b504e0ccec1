// The Language Server behind `flow lsp` (docs/editors.md): JSON-RPC 2.0 on
// the LSP base protocol (transport.h), one thread, one message at a time.
//
// The server owns the open documents (their text as the editor has it) and
// the latest Analysis of each (analysis.h). A change marks a document
// stale; the analysis runs, and its diagnostics are published, as soon as
// no further message is already waiting -- so a burst of keystrokes costs
// one analysis, not one per keystroke -- or at once when a request needs
// that document.
//
// Nothing a client sends stops it but `exit` or the end of its input:
//   - a header without a usable Content-Length, or a body over the size
//     limit, is skipped (transport.h) and logged;
//   - a body that is not JSON gets a ParseError (-32700) reply, one that is
//     not a request or notification an InvalidRequest (-32600);
//   - requests before `initialize` get ServerNotInitialized (-32002), those
//     after `shutdown` InvalidRequest; notifications then are dropped;
//   - an unknown method gets MethodNotFound (-32601) (notifications and
//     `$/` messages are ignored), bad params InvalidParams (-32602), and any
//     other failure inside a handler InternalError (-32603);
//   - a change to a document that is not open, or with a range past its
//     end, is logged and clamped or ignored, never trusted.
// Logging goes to stderr (the editor shows it in its output panel).
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "cli/lsp/analysis.h"
#include "cli/lsp/transport.h"

namespace flow::lsp {

class Server {
 public:
  Server(int in_fd, int out_fd) : reader_(in_fd), out_fd_(out_fd) {}

  // Serves until `exit` (0 after `shutdown`, else 1, as the protocol says)
  // or the end of the input (1 without `shutdown`).
  auto Run() -> int;

 private:
  enum class State { Uninitialized, Running, ShutDown };
  struct Document {
    std::string text;
    int64_t version = 0;
    std::unique_ptr<Analysis> analysis;
    bool stale = true;
    std::set<std::string> published;  // URIs this document's diagnostics went to
  };

  void Dispatch(const nlohmann::json& message);
  void Request(const nlohmann::json& id, const std::string& method, const nlohmann::json& params);
  auto Answer(const std::string& method, const nlohmann::json& params) -> nlohmann::json;
  void Notification(const std::string& method, const nlohmann::json& params);
  void Change(const nlohmann::json& params);

  // The analysis of an open document, run now if it is stale; nullptr when
  // the document is not open.
  auto Fresh(const std::string& uri) -> const Analysis*;
  void AnalyseAndPublish(const std::string& uri, Document& doc);
  void AnalyseStale();
  // The document a request is about, and the byte offset of its position.
  auto Target(const nlohmann::json& params, uint32_t& offset) -> const Analysis*;

  void Send(const nlohmann::json& message);
  void Reply(const nlohmann::json& id, nlohmann::json result);
  void ReplyError(const nlohmann::json& id, int code, const std::string& message);
  void Log(const std::string& line);

  MessageReader reader_;
  int out_fd_;
  bool output_broken_ = false;
  State state_ = State::Uninitialized;
  bool exit_ = false;
  std::map<std::string, Document> docs_;
};

}  // namespace flow::lsp
