#include "cli/lsp/locate.h"

#include <algorithm>
#include <map>

namespace flow::lsp {

auto Touches(SourceRange r, uint32_t offset) -> bool {
  return r.valid() && r.begin <= offset && offset <= r.end;
}

namespace {

auto Width(SourceRange r) -> uint32_t { return r.end - r.begin; }

// The index of the narrowest node of `nodes` (exprs or types) in the
// document whose range touches `offset`; the first of equal widths (`x` in
// `(x)` is the name, not a copy), -1 when none does.
template <typename Node>
auto Innermost(const std::vector<Node>& nodes, FileId doc, uint32_t offset) -> int32_t {
  int32_t best = -1;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const SourceRange& r = nodes[i].range;
    if (r.file != doc || !Touches(r, offset)) continue;
    if (best < 0 || Width(r) < Width(nodes[best].range)) best = static_cast<int32_t>(i);
  }
  return best;
}

}  // namespace

auto InnermostExpr(const Analysis& a, uint32_t offset) -> ast::ExprId {
  return ast::ExprId{Innermost(a.ast().exprs, a.doc, offset)};
}

auto InnermostType(const Analysis& a, uint32_t offset) -> ast::TypeExprId {
  return ast::TypeExprId{Innermost(a.ast().types, a.doc, offset)};
}

auto FunctionAt(const Analysis& a, uint32_t offset) -> int {
  const auto& fns = a.ast().functions;
  for (size_t i = 0; i < fns.size(); ++i) {
    if (fns[i].range.begin <= offset && offset <= fns[i].range.end) return static_cast<int>(i);
  }
  return -1;
}

auto CallOf(const Analysis& a, ast::ExprId callee) -> ast::ExprId {
  const auto& exprs = a.ast().exprs;
  for (size_t i = 0; i < exprs.size(); ++i) {
    const auto* call = std::get_if<ast::CallExpr>(&exprs[i].node);
    if (call != nullptr && call->callee == callee) return ast::ExprId{static_cast<int32_t>(i)};
  }
  return {};
}

auto StepOperation(const Analysis& a, ast::ExprId call) -> const schema::OperationSig* {
  const auto& calls = a.program->calls;
  if (!call.valid() || static_cast<size_t>(call.index) >= calls.size()) return nullptr;
  const check::CallTarget& t = calls[call.index];
  if (t.kind != check::CallKind::Step || t.connector < 0 || t.operation < 0) return nullptr;
  const auto& connectors = a.program->connectors;
  if (static_cast<size_t>(t.connector) >= connectors.size()) return nullptr;
  const auto& ops = connectors[t.connector].operations;
  return static_cast<size_t>(t.operation) < ops.size() ? &ops[t.operation] : nullptr;
}

auto FindConnector(const Analysis& a, std::string_view name) -> const schema::ConnectorSig* {
  const auto& connectors = a.program->connectors;
  for (size_t i = 0; i < connectors.size(); ++i) {
    bool loaded = i < a.program->connector_loaded.size() ? a.program->connector_loaded[i] : true;
    if (loaded && connectors[i].name == name) return &connectors[i];
  }
  return nullptr;
}

auto LocalsBefore(const Analysis& a, int function, uint32_t offset)
    -> std::vector<const check::LocalInfo*> {
  std::vector<const check::LocalInfo*> out;
  const auto& infos = a.program->functions;
  if (function < 0 || static_cast<size_t>(function) >= infos.size()) return out;
  std::map<std::string, const check::LocalInfo*> latest;
  for (const auto& local : infos[function].locals) {
    if (local.range.begin > offset) continue;
    auto& slot = latest[local.name];
    if (slot == nullptr || slot->range.begin < local.range.begin) slot = &local;
  }
  for (const auto& [name, local] : latest) out.push_back(local);
  return out;
}

auto FindJsonKey(std::string_view text, const std::vector<std::string>& path) -> int64_t {
  struct Frame {
    bool object;
    bool expect_key;
    std::string key;
  };
  std::vector<Frame> frames;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    switch (c) {
      case '{': frames.push_back({true, true, ""}); break;
      case '[': frames.push_back({false, false, ""}); break;
      case '}': case ']':
        if (!frames.empty()) frames.pop_back();
        break;
      case ',':
        if (!frames.empty() && frames.back().object) frames.back().expect_key = true;
        break;
      case ':':
        if (!frames.empty()) frames.back().expect_key = false;
        break;
      case '"': {
        size_t start = i;
        std::string s;
        for (++i; i < text.size() && text[i] != '"'; ++i) {
          if (text[i] == '\\' && i + 1 < text.size()) ++i;
          s += text[i];
        }
        if (frames.empty() || !frames.back().object || !frames.back().expect_key) break;
        frames.back().key = s;
        if (frames.size() != path.size()) break;
        bool match = true;
        for (size_t k = 0; k < path.size() && match; ++k) match = frames[k].key == path[k];
        if (match) return static_cast<int64_t>(start);
        break;
      }
      default: break;
    }
  }
  return -1;
}

auto ConnectorText(const schema::ConnectorSig& c) -> std::string {
  if (c.path.empty()) return "";
  auto text = ReadFileText(c.path);
  return text ? *text : "";
}

}  // namespace flow::lsp
