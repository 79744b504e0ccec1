// Declarations, type expressions, scopes and the per-function driver.
#include <algorithm>

#include "compiler/check/checker.h"
#include "compiler/check/policy.h"
#include "compiler/diag/suggest.h"

namespace flow::check {
namespace {

constexpr std::string_view kScalarTypeNames[] = {"int",      "float", "bool", "string",
                                                 "duration", "time",  "json"};

auto ScalarType(const types::TypeTable& t, std::string_view name) -> TypeId {
  if (name == "int") return t.int_();
  if (name == "float") return t.float_();
  if (name == "bool") return t.bool_();
  if (name == "string") return t.string();
  if (name == "duration") return t.duration();
  if (name == "time") return t.time();
  if (name == "json") return t.json();
  return {};
}

}  // namespace

Checker::Checker(CheckInput& input, CheckedProgram& out, Diagnostics& diags)
    : input_(input), out_(out), diags_(diags) {}

void Checker::Run() {
  out_.expr_types.assign(ast().exprs.size(), TypeId{});
  out_.names.assign(ast().exprs.size(), NameTarget{});
  out_.calls.assign(ast().exprs.size(), CallTarget{});
  out_.type_exprs.assign(ast().types.size(), TypeId{});
  out_.stmt_slots.assign(ast().stmts.size(), -1);
  out_.expr_slots.assign(ast().exprs.size(), -1);
  out_.functions.assign(ast().functions.size(), FunctionInfo{});
  out_.type_decls.assign(ast().type_decls.size(), TypeId{});
  type_decl_state_.assign(ast().type_decls.size(), 0);

  approve_type_ = types().Record({{"at", types().time()},
                                  {"by", types().string()},
                                  {"comment", types().string()}});
  error_record_type_ = types().Record({{"kind", types().string()},
                                       {"message", types().string()},
                                       {"step", types().Optional(types().string())}});

  CollectSyntaxErrors();
  CollectConnectors();
  CollectDeclarations();
  ResolveSignatures();
  for (int32_t i = 0; i < static_cast<int32_t>(ast().functions.size()); ++i) {
    CheckFunction(i);
    if (ast().functions[i].is_workflow) CheckPolicy(out_, i, diags_);
  }
  CheckWorkflowRecursion();
}

auto Checker::DeclareTop(std::string_view name, SourceRange range) -> bool {
  if (!top_names_.insert(name).second) {
    diags_.Report(DiagKind::DuplicateDefinition, range, name);
    return false;
  }
  return true;
}

void Checker::CollectConnectors() {
  const auto& decls = ast().connectors;
  // Reserve first: connector_by_name_ keeps views of the names inside.
  out_.connectors.reserve(decls.size() + input_.builtins.size());
  for (size_t i = 0; i < decls.size(); ++i) {
    bool loaded = i < input_.declared.size() && input_.declared[i].has_value();
    if (loaded) {
      out_.connectors.push_back(std::move(*input_.declared[i]));
      // Messages and steps use the name the program declares.
      out_.connectors.back().name = decls[i].name;
      for (auto& op : out_.connectors.back().operations) op.connector = decls[i].name;
    } else {
      schema::ConnectorSig placeholder;
      placeholder.name = decls[i].name;
      out_.connectors.push_back(std::move(placeholder));
    }
    out_.connector_loaded.push_back(loaded);
  }
  for (auto& b : input_.builtins) {
    out_.connectors.push_back(std::move(b));
    out_.connector_loaded.push_back(true);
  }
  for (size_t i = 0; i < out_.connectors.size(); ++i) {
    std::unordered_map<std::string_view, int32_t> ops;
    const auto& sig = out_.connectors[i];
    for (size_t k = 0; k < sig.operations.size(); ++k) {
      ops.emplace(sig.operations[k].name, static_cast<int32_t>(k));
    }
    operation_index_.push_back(std::move(ops));
  }
  for (size_t i = 0; i < decls.size(); ++i) {
    if (DeclareTop(decls[i].name, decls[i].name_range)) {
      connector_by_name_.emplace(decls[i].name, static_cast<int32_t>(i));
    }
  }
  // Built-ins last, so a declared connector of the same name shadows one.
  for (size_t i = decls.size(); i < out_.connectors.size(); ++i) {
    connector_by_name_.emplace(out_.connectors[i].name, static_cast<int32_t>(i));
  }
}

void Checker::CollectDeclarations() {
  for (size_t i = 0; i < ast().type_decls.size(); ++i) {
    const auto& d = ast().type_decls[i];
    bool scalar = ScalarType(types(), d.name).valid();
    if (scalar) {
      diags_.Report(DiagKind::DuplicateDefinition, d.name_range, d.name);
      continue;
    }
    if (DeclareTop(d.name, d.name_range)) type_by_name_.emplace(d.name, static_cast<int32_t>(i));
  }
  for (size_t i = 0; i < ast().functions.size(); ++i) {
    const auto& f = ast().functions[i];
    if (DeclareTop(f.name, f.name_range)) {
      function_by_name_.emplace(f.name, static_cast<int32_t>(i));
    }
  }
}

void Checker::ResolveSignatures() {
  for (size_t i = 0; i < ast().type_decls.size(); ++i) {
    out_.type_decls[i] = ResolveTypeDecl(static_cast<int32_t>(i), ast().type_decls[i].name_range);
  }
  for (size_t i = 0; i < ast().functions.size(); ++i) {
    const auto& f = ast().functions[i];
    FunctionInfo& info = out_.functions[i];
    for (const auto& p : f.params) info.param_types.push_back(ResolveType(p.type));
    if (f.result.valid()) info.result = ResolveType(f.result);
  }
}

auto Checker::ResolveTypeDecl(int32_t index, SourceRange use) -> TypeId {
  const auto& d = ast().type_decls[index];
  switch (type_decl_state_[index]) {
    case 2:
      return out_.type_decls[index];
    case 1:
      // A cycle: flow types are structural values, so an alias cannot
      // contain itself (no recursive types).
      diags_.Report(DiagKind::CyclicType, use, d.name);
      out_.type_decls[index] = types().error();
      return types().error();
    default:
      break;
  }
  type_decl_state_[index] = 1;
  TypeId t = ResolveType(d.type);
  // A cycle found below already stored Error for this declaration.
  if (type_decl_state_[index] == 1 && out_.type_decls[index].valid()) t = out_.type_decls[index];
  type_decl_state_[index] = 2;
  out_.type_decls[index] = t;
  if (!IsError(t)) types().SetAlias(t, d.name);
  return t;
}

auto Checker::ResolveType(ast::TypeExprId id) -> TypeId {
  if (!id.valid()) return types().error();
  TypeId& slot = out_.type_exprs[id.index];
  if (slot.valid()) return slot;
  TypeId t = ResolveTypeNode(ast().type(id));
  out_.type_exprs[id.index] = t;
  return t;
}

auto Checker::ResolveTypeNode(const ast::TypeExpr& te) -> TypeId {
  auto& tt = types();
  if (auto* n = std::get_if<ast::NamedTypeExpr>(&te.node)) return ResolveNamedType(n->name, te.range);
  if (auto* l = std::get_if<ast::ListTypeExpr>(&te.node)) return tt.List(ResolveType(l->element));
  if (auto* o = std::get_if<ast::OptionalTypeExpr>(&te.node)) {
    return tt.Optional(ResolveType(o->inner));
  }
  if (auto* lit = std::get_if<ast::LiteralTypeExpr>(&te.node)) return tt.Literal({lit->value});
  if (auto* r = std::get_if<ast::RecordTypeExpr>(&te.node)) {
    std::vector<types::Field> fields;
    std::unordered_set<std::string_view> seen;
    for (const auto& f : r->fields) {
      TypeId ft = ResolveType(f.type);
      if (!seen.insert(f.name).second) {
        diags_.Report(DiagKind::DuplicateDefinition, f.name_range, f.name);
        continue;
      }
      fields.push_back({f.name, ft});
    }
    return tt.Record(std::move(fields));
  }
  if (auto* u = std::get_if<ast::UnionTypeExpr>(&te.node)) {
    std::vector<std::string> members;
    bool bad = false;
    for (ast::TypeExprId m : u->members) {
      TypeId mt = ResolveType(m);
      if (IsError(mt)) {
        bad = true;
      } else if (tt.kind(mt) != types::Kind::Literal) {
        diags_.Report(DiagKind::InvalidUnion, ast().type(m).range);
        bad = true;
      } else {
        const auto& lits = tt.get(mt).literals;
        members.insert(members.end(), lits.begin(), lits.end());
      }
    }
    if (bad || members.empty()) return tt.error();
    return tt.Literal(std::move(members));
  }
  return tt.error();  // ErrorTypeExpr: the parser reported it
}

auto Checker::ResolveNamedType(const std::string& name, SourceRange range) -> TypeId {
  TypeId scalar = ScalarType(types(), name);
  if (scalar.valid()) return scalar;
  auto it = type_by_name_.find(name);
  if (it != type_by_name_.end()) return ResolveTypeDecl(it->second, range);
  std::vector<std::string> candidates(std::begin(kScalarTypeNames), std::end(kScalarTypeNames));
  for (const auto& d : ast().type_decls) candidates.push_back(d.name);
  Suggestion s = Suggest(name, candidates);
  s.AttachTo(diags_.Report(DiagKind::UnknownType, range, name, s.suffix()), range);
  return types().error();
}

// ------------------------------------------------------------------ scopes

void Checker::PushScope() {
  scope_marks_.push_back(locals_.size());
  fact_marks_.push_back(facts_.size());
}

void Checker::PopScope() {
  size_t mark = scope_marks_.back();
  scope_marks_.pop_back();
  while (locals_.size() > mark) {
    const Local& l = locals_.back();
    if (l.shadowed >= 0) {
      visible_[l.name] = l.shadowed;
    } else {
      visible_.erase(l.name);
    }
    locals_.pop_back();
  }
  size_t fmark = fact_marks_.back();
  fact_marks_.pop_back();
  while (facts_.size() > fmark) {
    if (--fact_count_[facts_.back().slot] == 0) fact_count_.erase(facts_.back().slot);
    facts_.pop_back();
  }
}

auto Checker::Declare(std::string_view name, SourceRange range, TypeId type, LocalKind kind)
    -> int32_t {
  auto& locals = fn_info().locals;
  int32_t slot = static_cast<int32_t>(locals.size());
  locals.push_back(LocalInfo{std::string(name), type, kind, range});
  int32_t depth = static_cast<int32_t>(scope_marks_.size());
  int32_t shadowed = -1;
  auto it = visible_.find(name);
  if (it != visible_.end()) {
    if (locals_[it->second].depth == depth) {
      diags_.Report(DiagKind::DuplicateDefinition, range, name);
    }
    shadowed = it->second;
  }
  locals_.push_back(Local{name, slot, shadowed, depth});
  visible_[name] = static_cast<int32_t>(locals_.size() - 1);
  LogAccess(slot, range, LocalAccess::Kind::Bind);
  return slot;
}

auto Checker::LookupLocal(std::string_view name) const -> int32_t {
  auto it = visible_.find(name);
  return it == visible_.end() ? -1 : locals_[it->second].slot;
}

auto Checker::VisibleNames() const -> std::vector<std::string> {
  std::vector<std::string> names;
  for (size_t i = 0; i < locals_.size(); ++i) {
    auto it = visible_.find(locals_[i].name);
    if (it != visible_.end() && it->second == static_cast<int32_t>(i)) {
      names.emplace_back(locals_[i].name);
    }
  }
  std::vector<std::string> fns = FunctionNames();
  names.insert(names.end(), fns.begin(), fns.end());
  std::vector<std::string> conns = ConnectorNames();
  names.insert(names.end(), conns.begin(), conns.end());
  return names;
}

auto Checker::FunctionNames() const -> std::vector<std::string> {
  std::vector<std::string> names;
  for (const auto& f : ast().functions) names.push_back(f.name);  // workflows: child calls
  return names;
}

auto Checker::ConnectorNames() const -> std::vector<std::string> {
  std::vector<std::string> names;
  for (const auto& c : out_.connectors) names.push_back(c.name);
  return names;
}

auto Checker::CurrentFunctionLabel() const -> std::string {
  const auto& f = ast().functions[current_fn_];
  return (f.is_workflow ? "workflow '" : "fn '") + f.name + "'";
}

// ------------------------------------------------------------------ functions

void Checker::CheckFunction(int32_t index) {
  current_fn_ = index;
  locals_.clear();
  visible_.clear();
  scope_marks_.clear();
  fact_marks_.clear();
  facts_.clear();
  fact_count_.clear();
  unknown_names_.clear();
  jump_scopes_.clear();
  accesses_.clear();
  parallel_depth_ = 0;
  parallel_for_first_slot_.clear();
  open_parallels_.clear();
  const auto& f = ast().functions[index];
  // Code the parser could not read was dropped: "may end without returning"
  // or "unknown variable" would only echo the syntax error.
  saw_syntax_error_ = SyntaxErrorIn(f.range.begin);

  FunctionInfo& info = out_.functions[index];
  PushScope();
  for (size_t i = 0; i < f.params.size(); ++i) {
    Declare(f.params[i].name, f.params[i].name_range, info.param_types[i], LocalKind::Param);
  }
  // The body shares the parameters' scope: `let x` may not redeclare a param.
  bool falls_through = CheckStmts(f.body);
  PopScope();
  TypeId result = info.result;
  if (falls_through && result.valid() && !IsError(result) && !saw_syntax_error_) {
    // Point at the closing brace: that is where control falls off the end.
    SourceRange brace = f.body.range;
    if (brace.end > brace.begin) brace.begin = brace.end - 1;
    diags_.Report(DiagKind::MissingReturn, brace, CurrentFunctionLabel(),
                  types().Display(result));
  }
}

void Checker::CollectSyntaxErrors() {
  for (const Diagnostic& d : diags_.all()) {
    switch (d.kind) {
      // The kinds after which the parser skipped or lost source text.
      case DiagKind::SyntaxError: case DiagKind::UnclosedDelimiter: case DiagKind::UnterminatedString:
      case DiagKind::UnterminatedComment: case DiagKind::InvalidCharacter: case DiagKind::NestingTooDeep:
        if (d.range.file == ast().file) syntax_errors_.push_back(d.range.begin);
        break;
      default:
        break;
    }
  }
  for (const auto& c : ast().connectors) decl_starts_.push_back(c.range.begin);
  for (const auto& t : ast().type_decls) decl_starts_.push_back(t.range.begin);
  for (const auto& f : ast().functions) decl_starts_.push_back(f.range.begin);
  std::sort(decl_starts_.begin(), decl_starts_.end());
  // Past a syntax error, to the end of its declaration, the code is the
  // parser's guess: nothing the checker finds there is worth a message.
  for (uint32_t at : syntax_errors_) {
    auto next = std::upper_bound(decl_starts_.begin(), decl_starts_.end(), at);
    diags_.Mute(SourceRange{ast().file, at, next == decl_starts_.end() ? UINT32_MAX : *next});
  }
}

auto Checker::SyntaxErrorIn(uint32_t decl_begin) const -> bool {
  // The declaration's text runs to the next declaration: recovery may have
  // ended it early, leaving its tail to a syntax error outside its range.
  auto next = std::upper_bound(decl_starts_.begin(), decl_starts_.end(), decl_begin);
  uint32_t end = next == decl_starts_.end() ? UINT32_MAX : *next;
  return std::any_of(syntax_errors_.begin(), syntax_errors_.end(),
                     [&](uint32_t at) { return at >= decl_begin && at < end; });
}

auto Check(CheckInput input, Diagnostics& diags) -> std::unique_ptr<CheckedProgram> {
  auto program = std::make_unique<CheckedProgram>();
  program->ast = std::move(input.ast);
  program->types = std::move(input.types);
  Checker checker(input, *program, diags);
  checker.Run();
  return program;
}

}  // namespace flow::check
