// textDocument/definition and textDocument/documentSymbol (analysis.h).
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>

#include "cli/lsp/analysis.h"
#include "cli/lsp/locate.h"

namespace flow::lsp {

using nlohmann::json;

namespace {

auto Location(const Analysis& a, SourceRange range) -> json {
  return json{{"uri", a.uri}, {"range", RangeJson(ToLspRange(a, range))}};
}

// A place in a connector file: the key at `path` inside it, or its start.
auto ConnectorLocation(const schema::ConnectorSig& c, const std::vector<std::string>& path)
    -> json {
  if (c.builtin || c.path.empty()) return nullptr;
  std::error_code ec;
  auto abs = std::filesystem::absolute(c.path, ec);
  std::string text = ConnectorText(c);
  Position at;
  int64_t offset = path.empty() ? -1 : FindJsonKey(text, path);
  if (offset >= 0) at = LineIndex(text).At(static_cast<uint32_t>(offset));
  return json{{"uri", PathToUri(ec ? c.path : abs.lexically_normal().string())},
              {"range", RangeJson(Range{at, at})}};
}

auto TypeDefinition(const Analysis& a, uint32_t offset) -> json {
  ast::TypeExprId t = InnermostType(a, offset);
  if (!t.valid()) return nullptr;
  const auto* named = std::get_if<ast::NamedTypeExpr>(&a.ast().type(t).node);
  if (named == nullptr) return nullptr;
  for (const auto& decl : a.ast().type_decls) {
    if (decl.name == named->name) return Location(a, decl.name_range);
  }
  return nullptr;
}

auto NameDefinition(const Analysis& a, ast::ExprId id, const ast::NameRef& name) -> json {
  const auto& names = a.program->names;
  check::NameTarget target =
      static_cast<size_t>(id.index) < names.size() ? names[id.index] : check::NameTarget{};
  const auto& ast = a.ast();
  switch (target.kind) {
    case check::NameKind::Local: {
      int fn = FunctionAt(a, ast.expr(id).range.begin);
      if (fn < 0 || static_cast<size_t>(fn) >= a.program->functions.size()) return nullptr;
      const auto& locals = a.program->functions[fn].locals;
      if (target.index < 0 || static_cast<size_t>(target.index) >= locals.size()) return nullptr;
      return Location(a, locals[target.index].range);
    }
    case check::NameKind::Function:
      if (target.index < 0) return nullptr;
      return Location(a, ast.functions[target.index].name_range);
    case check::NameKind::Connector:
      if (const auto* c = FindConnector(a, name.name)) return ConnectorLocation(*c, {});
      return nullptr;
    case check::NameKind::Builtin: return nullptr;
    case check::NameKind::None: break;
  }
  // A workflow called as a child, or a name the checker did not resolve.
  for (const auto& f : ast.functions) {
    if (f.name == name.name) return Location(a, f.name_range);
  }
  if (const auto* c = FindConnector(a, name.name)) return ConnectorLocation(*c, {});
  return nullptr;
}

}  // namespace

auto Definition(const Analysis& a, uint32_t offset) -> json {
  const auto& ast = a.ast();
  // `connector billing = "billing.json"`: the path opens the file.
  for (size_t i = 0; i < ast.connectors.size(); ++i) {
    if (!Touches(ast.connectors[i].path_range, offset)) continue;
    if (const auto* c = FindConnector(a, ast.connectors[i].name)) return ConnectorLocation(*c, {});
  }
  ast::ExprId id = InnermostExpr(a, offset);
  if (id.valid()) {
    const ast::Expr& e = ast.expr(id);
    if (const auto* m = std::get_if<ast::MemberExpr>(&e.node)) {
      if (const auto* op = StepOperation(a, CallOf(a, id))) {
        if (const auto* c = FindConnector(a, op->connector)) {
          // On the operation: its key in the connector file.
          if (Touches(m->name_range, offset)) return ConnectorLocation(*c, {"operations", op->name});
        }
      }
    }
    if (const auto* n = std::get_if<ast::NameRef>(&e.node)) return NameDefinition(a, id, *n);
  }
  return TypeDefinition(a, offset);
}

namespace {

// LSP SymbolKind values.
constexpr int kModule = 2, kMethod = 6, kFunction = 12, kVariable = 13, kEvent = 24,
              kStruct = 23, kClass = 5;

auto Symbol(const Analysis& a, const std::string& name, const std::string& detail, int kind,
            SourceRange range, SourceRange selection) -> json {
  return json{{"name", name.empty() ? "?" : name},
              {"detail", detail},
              {"kind", kind},
              {"range", RangeJson(ToLspRange(a, range))},
              {"selectionRange", RangeJson(ToLspRange(a, selection))},
              {"children", json::array()}};
}

// The steps, approvals and bindings of a workflow body, in source order.
auto BodySymbols(const Analysis& a, const ast::FunctionDecl& f) -> json {
  json out = json::array();
  const auto& ast = a.ast();
  const auto& exprs = ast.exprs;
  std::vector<std::pair<uint32_t, json>> found;
  for (size_t i = 0; i < exprs.size(); ++i) {
    const SourceRange& r = exprs[i].range;
    if (r.file != a.doc || r.begin < f.body.range.begin || r.end > f.body.range.end) continue;
    ast::ExprId id{static_cast<int32_t>(i)};
    if (const auto* op = StepOperation(a, id)) {
      found.emplace_back(r.begin, Symbol(a, op->display_name(), "step", kMethod, r, r));
    } else if (std::holds_alternative<ast::ApproveExpr>(exprs[i].node)) {
      found.emplace_back(r.begin, Symbol(a, "approve", "", kEvent, r, r));
    } else if (std::holds_alternative<ast::WaitExpr>(exprs[i].node)) {
      found.emplace_back(r.begin, Symbol(a, "wait", "", kEvent, r, r));
    }
  }
  for (const auto& s : ast.stmts) {
    const auto* let = std::get_if<ast::LetStmt>(&s.node);
    if (let == nullptr || s.range.file != a.doc || s.range.begin < f.body.range.begin ||
        s.range.end > f.body.range.end) {
      continue;
    }
    found.emplace_back(s.range.begin, Symbol(a, let->name, let->is_var ? "var" : "let", kVariable,
                                             s.range, let->name_range));
  }
  std::stable_sort(found.begin(), found.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  for (auto& [at, symbol] : found) out.push_back(std::move(symbol));
  return out;
}

}  // namespace

auto DocumentSymbols(const Analysis& a) -> json {
  std::vector<std::pair<uint32_t, json>> found;
  const auto& ast = a.ast();
  for (const auto& c : ast.connectors) {
    found.emplace_back(c.range.begin,
                       Symbol(a, c.name, "connector \"" + c.path + "\"", kModule, c.range, c.name_range));
  }
  for (const auto& t : ast.type_decls) {
    found.emplace_back(t.range.begin, Symbol(a, t.name, "type", kStruct, t.range, t.name_range));
  }
  for (const auto& f : ast.functions) {
    json s = Symbol(a, f.name, f.is_workflow ? "workflow" : "fn", f.is_workflow ? kClass : kFunction,
                    f.range, f.name_range);
    if (f.is_workflow) s["children"] = BodySymbols(a, f);
    found.emplace_back(f.range.begin, std::move(s));
  }
  std::stable_sort(found.begin(), found.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  json out = json::array();
  for (auto& [at, symbol] : found) out.push_back(std::move(symbol));
  return out;
}

}  // namespace flow::lsp
