// textDocument/completion (analysis.h).
//
// The text being typed rarely parses, so the context comes from the raw
// tokens before the cursor (compiler/parse/tokens.h), and the meaning of
// the names in it from the analysis (which recovers the rest of the file):
//   `billing.`          the connector's operations, as call snippets
//   `charge.`           the fields of the local's record type (chains too)
//   `billing.charge(`   the operation's arguments not given yet
//   `plan: `            the values of an enum-typed argument
//   `x: `, `-> `        type names
//   anywhere else       locals in scope, functions, built-ins, connectors,
//                       keywords
// Inside a comment or a string's text nothing is offered.
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <set>

#include "cli/lsp/analysis.h"
#include "cli/lsp/locate.h"
#include "compiler/check/builtins.h"

namespace flow::lsp {

using nlohmann::json;
using parse::RawKind;
using parse::RawToken;

namespace {

// LSP CompletionItemKind values.
constexpr int kMethodItem = 2, kFunctionItem = 3, kFieldItem = 5, kVariableItem = 6,
              kStructItem = 22, kModuleItem = 9, kPropertyItem = 10, kKeywordItem = 14,
              kEnumMemberItem = 20;

constexpr const char* kScalarTypes[] = {"int", "float", "bool", "string", "duration", "time",
                                        "json"};

auto Item(std::string label, int kind, std::string detail, std::string sort) -> json {
  return json{{"label", std::move(label)}, {"kind", kind}, {"detail", std::move(detail)},
              {"sortText", std::move(sort)}};
}

class Completer {
 public:
  Completer(const Analysis& a, uint32_t offset) : a_(a), offset_(offset) {
    for (size_t i = 0; i < a.tokens().size(); ++i) {
      const RawToken& t = a.tokens()[i];
      if (t.begin >= offset) break;
      if (t.kind == RawKind::Newline) continue;
      // A comment is context only when the cursor is in it (then: nothing).
      bool comment = t.kind == RawKind::LineComment || t.kind == RawKind::BlockComment;
      if (comment && t.end < offset) continue;
      sig_.push_back(i);
    }
  }

  auto Run() -> json {
    if (!sig_.empty() && InsideText(a_.tokens()[sig_.back()])) return json::array();
    // The word being typed (the client filters by it) is not context.
    size_t end = sig_.size();
    if (end > 0) {
      const RawToken& last = a_.tokens()[sig_[end - 1]];
      if (last.kind == RawKind::Word && last.end >= offset_) --end;
    }
    if (end > 0 && Text(end - 1) == ".") return Members(end - 1);
    if (end > 0 && a_.tokens()[sig_[end - 1]].kind == RawKind::StringStart && end >= 2 &&
        Text(end - 2) == ":") {
      return EnumValues(end - 2, /*quoted=*/false);
    }
    if (end > 0 && (Text(end - 1) == ":" || Text(end - 1) == "->" || Text(end - 1) == "as")) {
      if (json values = EnumValues(end - 1, /*quoted=*/true); !values.empty()) return values;
      if (Text(end - 1) != ":" || !InsideCallOrRecord(end - 1)) return TypeNames();
    }
    if (end > 0 && (Text(end - 1) == "(" || Text(end - 1) == ",")) {
      if (json args = ArgumentNames(end); !args.empty()) return args;
    }
    return General();
  }

 private:
  auto Text(size_t k) const -> std::string_view {
    const RawToken& t = a_.tokens()[sig_[k]];
    return a_.text().substr(t.begin, t.end - t.begin);
  }
  auto InsideText(const RawToken& t) const -> bool {
    bool comment = t.kind == RawKind::LineComment || t.kind == RawKind::BlockComment;
    bool in_string = t.kind == RawKind::StringText || t.kind == RawKind::StringEscape ||
                     t.kind == RawKind::StringDollar;
    return (comment && offset_ > t.begin) || (in_string && offset_ <= t.end);
  }

  // sig_ index of the innermost bracket still open at position k, or -1.
  auto EnclosingOpen(size_t k) const -> int {
    int depth = 0;
    for (size_t i = k + 1; i-- > 0;) {
      std::string_view t = Text(i);
      if (t == ")" || t == "]" || t == "}") ++depth;
      if (t == "(" || t == "[" || t == "{") {
        if (depth == 0) return static_cast<int>(i);
        --depth;
      }
    }
    return -1;
  }
  // sig_ index of the `(` of the call the position k is inside, or -1.
  auto OpenParen(size_t k) const -> int {
    int open = EnclosingOpen(k);
    return open >= 0 && Text(open) == "(" ? open : -1;
  }
  // Inside a call's parentheses or a record literal's braces (a `{` after
  // `)` opens a block).
  auto InsideCallOrRecord(size_t k) const -> bool {
    int open = EnclosingOpen(k);
    if (open < 0) return false;
    return Text(open) == "(" || (Text(open) == "{" && open > 0 && Text(open - 1) != ")");
  }

  // The dotted name ending at sig_ index k (`a.b.c`), first part first.
  auto Chain(size_t k) const -> std::vector<std::string> {
    std::vector<std::string> parts;
    for (size_t i = k + 1; i-- > 0;) {
      if (a_.tokens()[sig_[i]].kind != RawKind::Word) break;
      parts.insert(parts.begin(), std::string(Text(i)));
      if (i == 0 || Text(i - 1) != ".") break;
      --i;
    }
    return parts;
  }

  // The type of the dotted name `parts` at the cursor (invalid if unknown).
  auto ChainType(const std::vector<std::string>& parts) const -> types::TypeId {
    if (parts.empty()) return {};
    const auto& tt = a_.program->types;
    types::TypeId t;
    for (const auto* local : LocalsBefore(a_, FunctionAt(a_, offset_), offset_)) {
      if (local->name == parts[0]) t = local->type;
    }
    for (size_t i = 1; i < parts.size() && t.valid(); ++i) {
      t = tt.FieldType(tt.StripOptional(t), parts[i]);
    }
    return t;
  }

  auto Members(size_t dot) -> json {
    json out = json::array();
    if (dot == 0) return out;
    std::vector<std::string> parts = Chain(dot - 1);
    types::TypeId t = ChainType(parts);
    if (!t.valid() && parts.size() == 1) {
      if (const auto* c = FindConnector(a_, parts[0])) return Operations(*c);
    }
    if (!t.valid()) return out;
    const auto& tt = a_.program->types;
    types::TypeId record = tt.StripOptional(t);
    if (tt.kind(record) != types::Kind::Record) return out;
    for (const auto& f : tt.get(record).fields) {
      out.push_back(Item(f.name, kFieldItem, tt.Display(f.type), "0" + f.name));
    }
    return out;
  }

  auto Operations(const schema::ConnectorSig& c) -> json {
    json out = json::array();
    for (const auto& op : c.operations) {
      std::string args, snippet;
      int n = 0;
      for (const auto& arg : op.args) {
        args += (args.empty() ? "" : ", ") + arg.name + (arg.required ? ": " : "?: ") +
                a_.program->types.Display(arg.type);
        if (!arg.required) continue;
        snippet += fmt::format("{}{}: ${{{}}}", n ? ", " : "", arg.name, n + 1);
        ++n;
      }
      json item = Item(op.name, kMethodItem,
                       fmt::format("{}({}) -> {}", op.display_name(), args,
                                   a_.program->types.Display(op.output)),
                       "0" + op.name);
      item["documentation"] = {{"kind", "markdown"}, {"value", OperationMarkdown(a_, op)}};
      item["insertText"] = fmt::format("{}({})$0", op.name, snippet);
      item["insertTextFormat"] = 2;  // snippet
      out.push_back(std::move(item));
    }
    return out;
  }

  // The operation (or nullptr) of the call whose `(` is at sig_ index paren.
  auto CallAt(int paren) const -> const schema::OperationSig* {
    if (paren < 3 || Text(paren - 2) != ".") return nullptr;
    std::vector<std::string> parts = Chain(paren - 1);
    if (parts.size() != 2) return nullptr;
    const auto* c = FindConnector(a_, parts[0]);
    if (c == nullptr) return nullptr;
    for (const auto& op : c->operations) {
      if (op.name == parts[1]) return &op;
    }
    return nullptr;
  }

  auto ArgumentNames(size_t end) -> json {
    json out = json::array();
    int paren = OpenParen(end - 1);
    if (paren < 0) return out;
    const schema::OperationSig* op = CallAt(paren);
    if (op == nullptr) return out;
    std::set<std::string> given;
    int depth = 0;
    for (size_t i = paren + 1; i + 1 < end; ++i) {
      std::string_view t = Text(i);
      if (t == "(" || t == "[" || t == "{") ++depth;
      if (t == ")" || t == "]" || t == "}") --depth;
      if (depth == 0 && Text(i + 1) == ":") given.insert(std::string(t));
    }
    for (const auto& arg : op->args) {
      if (given.count(arg.name)) continue;
      json item = Item(arg.name, kPropertyItem,
                       (arg.required ? "" : "optional ") + a_.program->types.Display(arg.type),
                       (arg.required ? "0" : "1") + arg.name);
      item["insertText"] = arg.name + ": ";
      out.push_back(std::move(item));
    }
    return out;
  }

  // `name:` at sig_ index colon, inside a step call: the enum values of
  // that argument.
  auto EnumValues(size_t colon, bool quoted) -> json {
    json out = json::array();
    if (colon == 0 || Text(colon) != ":") return out;
    int paren = OpenParen(colon);
    if (paren < 0) return out;
    const schema::OperationSig* op = CallAt(paren);
    const schema::ArgumentSig* arg = op ? op->FindArg(std::string(Text(colon - 1))) : nullptr;
    if (arg == nullptr) return out;
    const auto& tt = a_.program->types;
    types::TypeId t = tt.StripOptional(arg->type);
    if (tt.kind(t) != types::Kind::Literal) return out;
    for (const auto& value : tt.get(t).literals) {
      json item = Item(quoted ? "\"" + value + "\"" : value, kEnumMemberItem,
                       "argument " + arg->name + " of " + op->display_name(), "0" + value);
      out.push_back(std::move(item));
    }
    return out;
  }

  auto TypeNames() -> json {
    json out = json::array();
    for (const char* t : kScalarTypes) out.push_back(Item(t, kKeywordItem, "type", "1" + std::string(t)));
    for (const auto& t : a_.ast().type_decls) out.push_back(Item(t.name, kStructItem, "type", "0" + t.name));
    return out;
  }

  auto General() -> json {
    json out = json::array();
    const auto& tt = a_.program->types;
    for (const auto* local : LocalsBefore(a_, FunctionAt(a_, offset_), offset_)) {
      std::string detail = local->type.valid() ? tt.Display(local->type) : "";
      out.push_back(Item(local->name, kVariableItem, detail, "0" + local->name));
    }
    for (const auto& f : a_.ast().functions) {
      out.push_back(Item(f.name, kFunctionItem, f.is_workflow ? "workflow" : "fn", "1" + f.name));
    }
    for (const auto& c : a_.program->connectors) {
      if (c.name.empty()) continue;
      out.push_back(Item(c.name, kModuleItem, c.builtin ? "built-in connector" : "connector",
                         "1" + c.name));
    }
    for (const auto& b : check::AllBuiltins()) {
      out.push_back(Item(std::string(b.name), kFunctionItem,
                         b.effect ? "built-in (journaled effect)" : "built-in",
                         "2" + std::string(b.name)));
    }
    for (std::string_view k : parse::LexerKeywords()) {
      out.push_back(Item(std::string(k), kKeywordItem, "keyword", "3" + std::string(k)));
    }
    return out;
  }

  const Analysis& a_;
  uint32_t offset_;
  std::vector<size_t> sig_;  // a_.tokens() indices before the cursor, no newlines
};

}  // namespace

auto Complete(const Analysis& a, uint32_t offset) -> json { return Completer(a, offset).Run(); }

}  // namespace flow::lsp
