// textDocument/hover (analysis.h): Markdown with a ```flow block.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "cli/lsp/analysis.h"
#include "cli/lsp/locate.h"
#include "compiler/check/builtins.h"

namespace flow::lsp {

using nlohmann::json;

namespace {

// The operation's JSON object in the connector file shown under the
// signature is cut at this many lines: it is a reminder, not the file.
constexpr size_t kMaxSchemaLines = 40;

auto Code(std::string_view text) -> std::string { return fmt::format("```flow\n{}\n```", text); }

auto HoverJson(const Analysis& a, SourceRange range, const std::string& markdown) -> json {
  return json{{"contents", {{"kind", "markdown"}, {"value", markdown}}},
              {"range", RangeJson(ToLspRange(a, range))}};
}

auto Type(const Analysis& a, types::TypeId t) -> std::string {
  return t.valid() ? a.program->types.Display(t) : "?";
}

// A named type spelled out one level deep: Display would give its own name
// back (`type Customer = Customer`).
auto Structure(const Analysis& a, types::TypeId t) -> std::string {
  if (!t.valid()) return "?";
  const auto& tt = a.program->types;
  const types::Type& type = tt.get(t);
  if (type.kind == types::Kind::Record) {
    std::string out = "{ ";
    for (size_t i = 0; i < type.fields.size(); ++i) {
      out += (i ? ", " : "") + type.fields[i].name + ": " + tt.Display(type.fields[i].type);
    }
    return out + (type.fields.empty() ? "}" : " }");
  }
  if (type.kind == types::Kind::Literal) {
    std::string out;
    for (size_t i = 0; i < type.literals.size(); ++i) out += (i ? " | \"" : "\"") + type.literals[i] + "\"";
    return out;
  }
  return tt.Display(t);
}

}  // namespace

// `billing.charge(customer: string, amount: int, note?: string) -> Charge`,
// its flags, and its JSON from the connector file.
auto OperationMarkdown(const Analysis& a, const schema::OperationSig& op) -> std::string {
  std::string args;
  for (const auto& arg : op.args) {
    if (!args.empty()) args += ", ";
    args += arg.name + (arg.required ? ": " : "?: ") + Type(a, arg.type);
  }
  std::string md = Code(fmt::format("{}({}) -> {}", op.display_name(), args, Type(a, op.output)));
  std::vector<std::string> flags;
  flags.push_back(op.effect == schema::Effect::Irreversible ? "**irreversible** (compensate it)"
                  : op.effect == schema::Effect::Reversible ? "reversible"
                                                            : "no side effect declared");
  flags.push_back(op.idempotent ? "idempotent" : "not idempotent");
  if (op.sends_idempotency_key) flags.push_back("sent with an idempotency key");
  if (op.requires_approval) flags.push_back("**requires approval** (an `approve` must come first)");
  md += "\n\n" + fmt::format("{}", fmt::join(flags, " · "));
  const schema::ConnectorSig* connector = FindConnector(a, op.connector);
  if (connector == nullptr || connector->builtin) return md;
  std::string text = ConnectorText(*connector);
  try {
    // ordered_json: the keys in the file's order, as the author wrote them.
    auto file = nlohmann::ordered_json::parse(text);
    const auto& schema = file.at("operations").at(op.name);
    std::string dump = schema.dump(2);
    size_t lines = 0, cut = std::string::npos;
    for (size_t i = 0; i < dump.size(); ++i) {
      if (dump[i] == '\n' && ++lines == kMaxSchemaLines) {
        cut = i;
        break;
      }
    }
    if (cut != std::string::npos) dump = dump.substr(0, cut) + "\n  ...";
    md += fmt::format("\n\nFrom `{}`:\n```json\n{}\n```", connector->path, dump);
  } catch (const nlohmann::ordered_json::exception&) {
    // A connector file that changed on disk since: the signature alone.
  }
  return md;
}

namespace {

auto ConnectorMarkdown(const schema::ConnectorSig& c) -> std::string {
  std::string md = Code(c.builtin ? "connector " + c.name + "  // built-in"
                                  : fmt::format("connector {} = \"{}\"", c.name, c.path));
  md += "\n\nOperations: ";
  for (size_t i = 0; i < c.operations.size(); ++i) {
    md += (i ? ", `" : "`") + c.operations[i].name + "`";
  }
  return md;
}

auto FunctionMarkdown(const Analysis& a, size_t index) -> std::string {
  const ast::FunctionDecl& f = a.ast().functions[index];
  const check::FunctionInfo* info =
      index < a.program->functions.size() ? &a.program->functions[index] : nullptr;
  std::string params;
  for (size_t i = 0; i < f.params.size(); ++i) {
    if (i) params += ", ";
    params += f.params[i].name + ": ";
    params += info && i < info->param_types.size() ? Type(a, info->param_types[i]) : "?";
  }
  std::string result = info && info->result.valid() ? " -> " + Type(a, info->result) : "";
  return Code(fmt::format("{} {}({}){}", f.is_workflow ? "workflow" : "fn", f.name, params, result));
}

auto LocalMarkdown(const Analysis& a, const check::LocalInfo& local) -> std::string {
  const char* kind = "let";
  switch (local.kind) {
    case check::LocalKind::Param: kind = "(parameter)"; break;
    case check::LocalKind::Let: kind = "let"; break;
    case check::LocalKind::Var: kind = "var"; break;
    case check::LocalKind::ForVar: kind = "(loop variable)"; break;
    case check::LocalKind::CatchVar: kind = "(caught error)"; break;
  }
  return Code(fmt::format("{} {}: {}", kind, local.name, Type(a, local.type)));
}

// Hover on a name that declares something (not an expression).
auto DeclarationHover(const Analysis& a, uint32_t offset) -> json {
  const auto& ast = a.ast();
  for (size_t i = 0; i < ast.connectors.size(); ++i) {
    const auto& c = ast.connectors[i];
    if (!Touches(c.name_range, offset) && !Touches(c.path_range, offset)) continue;
    if (i < a.program->connectors.size() && i < a.program->connector_loaded.size() &&
        a.program->connector_loaded[i]) {
      return HoverJson(a, c.name_range, ConnectorMarkdown(a.program->connectors[i]));
    }
    return nullptr;
  }
  for (size_t i = 0; i < ast.type_decls.size(); ++i) {
    const auto& t = ast.type_decls[i];
    if (!Touches(t.name_range, offset)) continue;
    types::TypeId id = i < a.program->type_decls.size() ? a.program->type_decls[i] : types::TypeId{};
    std::string shape = Structure(a, id);
    return HoverJson(a, t.name_range, Code(fmt::format("type {} = {}", t.name, shape)));
  }
  for (size_t i = 0; i < ast.functions.size(); ++i) {
    if (Touches(ast.functions[i].name_range, offset)) {
      return HoverJson(a, ast.functions[i].name_range, FunctionMarkdown(a, i));
    }
  }
  for (const auto& info : a.program->functions) {
    for (const auto& local : info.locals) {
      if (Touches(local.range, offset)) return HoverJson(a, local.range, LocalMarkdown(a, local));
    }
  }
  return nullptr;
}

// Hover on the name of an argument: `amount` in `billing.charge(amount: 5)`.
auto ArgumentHover(const Analysis& a, uint32_t offset) -> json {
  const auto& exprs = a.ast().exprs;
  for (size_t i = 0; i < exprs.size(); ++i) {
    const auto* call = std::get_if<ast::CallExpr>(&exprs[i].node);
    if (call == nullptr || !Touches(call->args_range, offset)) continue;
    for (const auto& arg : call->args) {
      if (arg.name.empty() || !Touches(arg.name_range, offset)) continue;
      const auto* op = StepOperation(a, ast::ExprId{static_cast<int32_t>(i)});
      const schema::ArgumentSig* sig = op ? op->FindArg(arg.name) : nullptr;
      if (sig == nullptr) return nullptr;
      return HoverJson(a, arg.name_range,
                       Code(fmt::format("(argument of {}) {}{}: {}", op->display_name(), sig->name,
                                        sig->required ? "" : "?", Type(a, sig->type))));
    }
  }
  return nullptr;
}

auto NameHover(const Analysis& a, ast::ExprId id, const ast::NameRef& name) -> json {
  const SourceRange range = a.ast().expr(id).range;
  const auto& names = a.program->names;
  check::NameTarget target =
      static_cast<size_t>(id.index) < names.size() ? names[id.index] : check::NameTarget{};
  switch (target.kind) {
    case check::NameKind::Local: {
      int fn = FunctionAt(a, range.begin);
      if (fn >= 0 && static_cast<size_t>(fn) < a.program->functions.size()) {
        const auto& locals = a.program->functions[fn].locals;
        if (target.index >= 0 && static_cast<size_t>(target.index) < locals.size()) {
          return HoverJson(a, range, LocalMarkdown(a, locals[target.index]));
        }
      }
      break;
    }
    case check::NameKind::Function:
      if (target.index >= 0) return HoverJson(a, range, FunctionMarkdown(a, target.index));
      break;
    case check::NameKind::Connector:
      if (target.index >= 0 && static_cast<size_t>(target.index) < a.program->connectors.size()) {
        return HoverJson(a, range, ConnectorMarkdown(a.program->connectors[target.index]));
      }
      break;
    case check::NameKind::Builtin: {
      const auto& b = check::GetBuiltin(static_cast<check::BuiltinId>(target.index));
      std::string params;
      for (int i = 0; i < b.max_args; ++i) {
        params += (i ? ", " : "") + std::string(check::ParamName(b, i, b.max_args));
      }
      return HoverJson(a, range, Code(fmt::format("{}({})  // built-in{}", b.name, params,
                                                  b.effect ? ", journaled effect" : "")));
    }
    case check::NameKind::None: break;
  }
  if (const auto* c = FindConnector(a, name.name)) return HoverJson(a, range, ConnectorMarkdown(*c));
  return nullptr;
}

}  // namespace

auto Hover(const Analysis& a, uint32_t offset) -> json {
  if (json d = DeclarationHover(a, offset); !d.is_null()) return d;
  if (json arg = ArgumentHover(a, offset); !arg.is_null()) return arg;
  ast::ExprId id = InnermostExpr(a, offset);
  if (id.valid()) {
    const ast::Expr& e = a.ast().expr(id);
    if (const auto* m = std::get_if<ast::MemberExpr>(&e.node)) {
      if (const auto* op = StepOperation(a, CallOf(a, id))) {
        return HoverJson(a, m->name_range, OperationMarkdown(a, *op));
      }
    }
    if (const auto* n = std::get_if<ast::NameRef>(&e.node)) return NameHover(a, id, *n);
    const auto& types = a.program->expr_types;
    if (static_cast<size_t>(id.index) < types.size() && types[id.index].valid() &&
        a.program->types.kind(types[id.index]) != types::Kind::Error) {
      return HoverJson(a, e.range, Code(Type(a, types[id.index])));
    }
  }
  ast::TypeExprId t = InnermostType(a, offset);
  if (t.valid() && static_cast<size_t>(t.index) < a.program->type_exprs.size() &&
      a.program->type_exprs[t.index].valid()) {
    // A type's name shows what it stands for.
    const auto* named = std::get_if<ast::NamedTypeExpr>(&a.ast().type(t).node);
    types::TypeId id = a.program->type_exprs[t.index];
    types::Kind kind = a.program->types.kind(id);
    bool spelled = named && (kind == types::Kind::Record || kind == types::Kind::Literal);
    std::string text = spelled ? "type " + named->name + " = " + Structure(a, id) : Type(a, id);
    return HoverJson(a, a.ast().type(t).range, Code(text));
  }
  return nullptr;
}

}  // namespace flow::lsp
