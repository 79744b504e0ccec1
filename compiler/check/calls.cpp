// Calls: built-in functions (SPEC §2.5a), user fns, child workflow calls, and
// steps (connector operations, SPEC §2.5) with their named arguments.
#include <algorithm>
#include <cctype>

#include "compiler/check/checker.h"
#include "compiler/diag/suggest.h"

namespace flow::check {
namespace {

using types::Kind;

auto IsNumeric(Kind k) -> bool { return k == Kind::Int || k == Kind::Float; }

// An environment variable name: [A-Za-z_][A-Za-z0-9_]*.
auto IsEnvironmentName(std::string_view name) -> bool {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}
auto IsStringLike(Kind k) -> bool { return k == Kind::String || k == Kind::Literal; }
auto Quoted(std::string_view name) -> std::string { return "'" + std::string(name) + "'"; }

}  // namespace

void Checker::CheckArgsOnly(const ast::CallExpr& call) {
  for (const auto& arg : call.args) CheckExpr(arg.value);
}

auto Checker::CheckCall(ast::ExprId id, const ast::CallExpr& call) -> TypeId {
  const ast::Expr& callee = ast().expr(call.callee);
  if (auto* name = std::get_if<ast::NameRef>(&callee.node)) {
    return CheckNamedCall(id, call, *name);
  }
  if (auto* member = std::get_if<ast::MemberExpr>(&callee.node)) {
    auto* object = std::get_if<ast::NameRef>(&ast().expr(member->object).node);
    // `x.f(...)` on a local is a (reported) call of a value; on any other
    // bare name it is a step.
    if (object && LookupLocal(object->name) < 0) return CheckStep(id, call, *member);
  }
  TypeId t = CheckExpr(call.callee);
  if (!IsError(t)) diags_.Report(DiagKind::NotCallable, callee.range, Text(call.callee));
  CheckArgsOnly(call);
  return types().error();
}

auto Checker::CheckNamedCall(ast::ExprId id, const ast::CallExpr& call,
                             const ast::NameRef& callee) -> TypeId {
  SourceRange range = ast().expr(call.callee).range;
  int32_t slot = LookupLocal(callee.name);
  if (slot >= 0) {
    out_.names[call.callee.index] = {NameKind::Local, slot};
    diags_.Report(DiagKind::NotCallable, range, callee.name);
    CheckArgsOnly(call);
    return types().error();
  }
  if (auto it = function_by_name_.find(callee.name); it != function_by_name_.end()) {
    out_.names[call.callee.index] = {NameKind::Function, it->second};
    if (ast().functions[it->second].is_workflow) return CheckChildCall(id, call, it->second);
    return CheckUserCall(id, call, it->second);
  }
  if (const BuiltinInfo* b = FindBuiltin(callee.name)) {
    out_.names[call.callee.index] = {NameKind::Builtin, static_cast<int32_t>(b->id)};
    return CheckBuiltinCall(id, call, *b);
  }
  if (unknown_names_.insert(callee.name).second) {
    std::vector<std::string> candidates = FunctionNames();
    for (const BuiltinInfo& b : AllBuiltins()) candidates.emplace_back(b.name);
    Suggestion s = Suggest(callee.name, candidates);
    if (s.best.empty()) s = ForeignSuggestion(callee.name);  // length -> len
    s.AttachTo(diags_.Report(DiagKind::UnknownFunction, range, callee.name, s.suffix()), range);
  }
  CheckArgsOnly(call);
  return types().error();
}

auto Checker::ForeignSuggestion(std::string_view name) const -> Suggestion {
  return Suggestion{std::string(FlowNameFor(name))};
}

auto Checker::CheckUserCall(ast::ExprId id, const ast::CallExpr& call, int32_t fn) -> TypeId {
  const auto& decl = ast().functions[fn];
  const FunctionInfo& info = out_.functions[fn];
  CallTarget& target = out_.calls[id.index];
  target.kind = CallKind::Function;
  target.function = fn;
  target.arg_params.assign(call.args.size(), -1);
  std::string label = Quoted(decl.name);
  size_t n = decl.params.size();
  std::vector<int32_t> filled(n, -1);
  std::vector<bool> suggested(n, false);
  size_t next_positional = 0;
  bool named = false;
  int extra = -1;  // first surplus positional argument
  for (size_t i = 0; i < call.args.size(); ++i) {
    const ast::Arg& arg = call.args[i];
    TypeId t = CheckExpr(arg.value);
    int32_t p = -1;
    if (arg.name.empty()) {
      if (next_positional >= n) {
        if (extra < 0) extra = static_cast<int>(i);
        continue;
      }
      p = static_cast<int32_t>(next_positional++);
    } else {
      named = true;
      for (size_t k = 0; k < n; ++k) {
        if (decl.params[k].name == arg.name) p = static_cast<int32_t>(k);
      }
      if (p < 0) {
        std::vector<std::string> names;
        for (const auto& param : decl.params) names.push_back(param.name);
        Suggestion s = Suggest(arg.name, names);
        s.AttachTo(diags_.Report(DiagKind::UnknownArgument, arg.name_range, label, arg.name,
                                 s.suffix()),
                   arg.name_range);
        // `plann: x` is the missing `plan`: one message, not two (as for steps).
        for (size_t k = 0; k < n; ++k) suggested[k] = suggested[k] || decl.params[k].name == s.best;
        continue;
      }
    }
    if (filled[p] >= 0) {
      diags_.Report(DiagKind::DuplicateArgument,
                    arg.name.empty() ? ast().expr(arg.value).range : arg.name_range,
                    decl.params[p].name);
      continue;
    }
    filled[p] = static_cast<int32_t>(i);
    target.arg_params[i] = p;
    if (Fits(arg.value, t, info.param_types[p]) == Fit::Mismatch) {
      diags_.Report(DiagKind::ArgumentType, ast().expr(arg.value).range, decl.params[p].name, label,
                    types().Display(info.param_types[p]), types().Display(t));
    }
  }
  if (extra >= 0 || (!named && call.args.size() != n)) {
    SourceRange where = extra >= 0 ? ast().expr(call.args[extra].value).range : call.args_range;
    diags_.Report(DiagKind::ArgumentCount, where, label, n, n == 1 ? "" : "s", call.args.size());
  } else {
    for (size_t k = 0; k < n; ++k) {
      if (filled[k] < 0 && !suggested[k]) {
        diags_.Report(DiagKind::MissingArgument, ast().expr(call.callee).range, label,
                      decl.params[k].name);
      }
    }
  }
  // A fn without a result yields null when used as a value.
  return info.result.valid() ? info.result : types().null();
}

// SPEC §2.5: "a workflow may call another workflow of the same file like a
// function", so the arguments follow the rules of fn calls (positional
// and/or named); the call becomes a child run (docs/composition.md).
auto Checker::CheckChildCall(ast::ExprId id, const ast::CallExpr& call, int32_t workflow)
    -> TypeId {
  SourceRange range = ast().expr(call.callee).range;
  ReportEffect("calling workflow '" + ast().functions[workflow].name + "'", range);
  TypeId result = CheckUserCall(id, call, workflow);
  out_.calls[id.index].kind = CallKind::Workflow;
  if (ast().functions[current_fn_].is_workflow) {
    child_calls_.push_back(ChildCall{current_fn_, workflow, range});
  }
  return result;
}

// ------------------------------------------------------------------ built-ins

auto Checker::ArgError(const ast::CallExpr& call, int index, std::string_view param,
                       std::string_view callee, std::string_view expected, TypeId found)
    -> TypeId {
  diags_.Report(DiagKind::ArgumentType, ast().expr(call.args[index].value).range, param,
                Quoted(callee), expected, types().Display(found));
  return types().error();
}

namespace {

// The result type of a built-in whose arguments were wrong (so the caller
// sees no second error), or invalid when it depends on the arguments.
auto FixedResult(types::TypeTable& tt, BuiltinId id) -> TypeId {
  switch (id) {
    case BuiltinId::Len: case BuiltinId::Int: return tt.int_();
    case BuiltinId::Range: return tt.List(tt.int_());
    case BuiltinId::Float: case BuiltinId::Random: return tt.float_();
    case BuiltinId::Keys: case BuiltinId::Split: return tt.List(tt.string());
    case BuiltinId::Contains: case BuiltinId::StartsWith: case BuiltinId::EndsWith:
      return tt.bool_();
    case BuiltinId::String: case BuiltinId::Join: case BuiltinId::Lower: case BuiltinId::Upper:
    case BuiltinId::Trim: case BuiltinId::Replace: case BuiltinId::ToJson: case BuiltinId::Uuid:
      return tt.string();
    case BuiltinId::ParseJson: return tt.json();
    case BuiltinId::Now: return tt.time();
    case BuiltinId::Secret: return tt.secret();
    case BuiltinId::Min: case BuiltinId::Max: case BuiltinId::Abs: return tt.error();
  }
  return tt.error();
}

}  // namespace

auto Checker::CheckBuiltinCall(ast::ExprId id, const ast::CallExpr& call, const BuiltinInfo& b)
    -> TypeId {
  CallTarget& target = out_.calls[id.index];
  target.kind = CallKind::Builtin;
  target.builtin = b.id;
  target.arg_params.assign(call.args.size(), -1);
  SourceRange callee_range = ast().expr(call.callee).range;
  if (b.effect) ReportEffect(Quoted(std::string(b.name) + "()"), callee_range);
  TypeId fixed = FixedResult(types(), b.id);
  bool bad = false;
  for (size_t i = 0; i < call.args.size(); ++i) {
    if (!call.args[i].name.empty() && !bad) {
      diags_.Report(DiagKind::NamedBuiltinArgument, call.args[i].name_range, Quoted(b.name));
      bad = true;
    }
  }
  std::vector<TypeId> args;
  for (size_t i = 0; i < call.args.size(); ++i) {
    args.push_back(CheckExpr(call.args[i].value));
    target.arg_params[i] = static_cast<int32_t>(i);
  }
  int count = static_cast<int>(call.args.size());
  if (count < b.min_args || count > b.max_args) {
    std::string expected = b.min_args == b.max_args
                               ? std::to_string(b.min_args)
                               : std::to_string(b.min_args) + " or " + std::to_string(b.max_args);
    SourceRange where =
        count > b.max_args ? ast().expr(call.args[b.max_args].value).range : call.args_range;
    diags_.Report(DiagKind::ArgumentCount, where, Quoted(b.name), expected,
                  b.max_args == 1 ? "" : "s", count);
    return fixed;
  }
  bool accepts_any = b.id == BuiltinId::String || b.id == BuiltinId::ToJson;
  for (size_t i = 0; i < args.size(); ++i) {
    if (IsError(args[i])) bad = true;
    else if (RejectSecret(call.args[i].value, args[i])) bad = true;
    else if (!accepts_any && RejectOptional(call.args[i].value, args[i])) bad = true;
  }
  if (bad) return fixed;
  return BuiltinResult(call, b, args);
}

auto Checker::BuiltinResult(const ast::CallExpr& call, const BuiltinInfo& b,
                            const std::vector<TypeId>& args) -> TypeId {
  auto& tt = types();
  int count = static_cast<int>(args.size());
  auto kind = [&](int i) { return tt.kind(args[i]); };
  auto fail = [&](int i, std::string_view expected) {
    ArgError(call, i, ParamName(b, i, count), b.name, expected, args[i]);
    return FixedResult(tt, b.id);
  };
  auto strings = [&](int from, int to) {  // every argument in [from, to) a string
    for (int i = from; i < to; ++i) {
      if (!IsStringLike(kind(i))) return fail(i, "string"), false;
    }
    return true;
  };
  switch (b.id) {
    case BuiltinId::Len:
      if (IsStringLike(kind(0)) || kind(0) == Kind::List || kind(0) == Kind::Record) return tt.int_();
      return fail(0, "string, list or record");
    case BuiltinId::Range:
      for (int i = 0; i < count; ++i) {
        if (kind(i) != Kind::Int) return fail(i, "int");
      }
      return tt.List(tt.int_());
    case BuiltinId::Int:
    case BuiltinId::Float:
      if (IsNumeric(kind(0)) || IsStringLike(kind(0)) || kind(0) == Kind::Json) {
        return FixedResult(tt, b.id);
      }
      return fail(0, "int, float, string or json");
    case BuiltinId::String:
    case BuiltinId::ToJson:
      return tt.string();
    case BuiltinId::Keys:
      if (kind(0) == Kind::Record || kind(0) == Kind::Json) return tt.List(tt.string());
      return fail(0, "record or json");
    case BuiltinId::Contains:
      if (IsStringLike(kind(0))) return IsStringLike(kind(1)) ? tt.bool_() : fail(1, "string");
      if (kind(0) == Kind::List) {
        TypeId element = tt.get(args[0]).element;
        if (types::IsAssignable(tt, args[1], element) || types::IsAssignable(tt, element, args[1])) {
          return tt.bool_();
        }
        return fail(1, tt.Display(element));
      }
      return fail(0, "string or list");
    case BuiltinId::Split:
    case BuiltinId::StartsWith:
    case BuiltinId::EndsWith:
    case BuiltinId::Lower:
    case BuiltinId::Upper:
    case BuiltinId::Trim:
    case BuiltinId::Replace:
    case BuiltinId::ParseJson:
      strings(0, count);
      return FixedResult(tt, b.id);
    case BuiltinId::Join: {
      bool list_ok = kind(0) == Kind::List &&
                     types::IsAssignable(tt, tt.get(args[0]).element, tt.string());
      if (!list_ok) return fail(0, "[string]");
      strings(1, 2);
      return tt.string();
    }
    case BuiltinId::Min:
    case BuiltinId::Max:
      if (IsNumeric(kind(0))) {
        if (!IsNumeric(kind(1))) return fail(1, "int or float");
        return kind(0) == Kind::Int && kind(1) == Kind::Int ? tt.int_() : tt.float_();
      }
      if (kind(0) == Kind::Duration || kind(0) == Kind::Time) {
        if (kind(1) != kind(0)) return fail(1, tt.Display(args[0]));
        return args[0];
      }
      return fail(0, "int, float, duration or time");
    case BuiltinId::Abs:
      if (IsNumeric(kind(0))) return args[0];
      return fail(0, "int or float");
    case BuiltinId::Now:
    case BuiltinId::Uuid:
    case BuiltinId::Random:
      return FixedResult(tt, b.id);
    case BuiltinId::Secret: {
      // A literal name: `flow check` can then say which variables a program
      // reads, and no input can make a run read another one.
      const auto* lit = std::get_if<ast::StringLit>(&ast().expr(call.args[0].value).node);
      if (lit == nullptr || !lit->is_plain() || !IsEnvironmentName(lit->parts.empty() ? "" : lit->parts[0].text)) {
        diags_.Report(DiagKind::SecretName, ast().expr(call.args[0].value).range);
      }
      return tt.secret();
    }
  }
  return tt.error();
}

auto Checker::RejectSecret(ast::ExprId id, TypeId t) -> bool {
  if (!id.valid() || !t.valid() || !types().HasSecret(t)) return false;
  diags_.Report(DiagKind::SecretMisuse, ast().expr(id).range, Text(id));
  return true;
}

auto Checker::SecretArgumentAllowed(const schema::ConnectorSig& sig, std::string_view arg) const -> bool {
  if (!sig.builtin) return true;  // http and exec connectors: the transport reads it
  // Of the built-ins only http.request sends its arguments, and only its
  // headers and body may carry one (SPEC §2.5a): a URL lands in messages.
  return sig.name == "http" && (arg == "headers" || arg == "body");
}

// ------------------------------------------------------------------ steps

auto Checker::CheckStep(ast::ExprId id, const ast::CallExpr& call, const ast::MemberExpr& callee)
    -> TypeId {
  const auto& object = std::get<ast::NameRef>(ast().expr(callee.object).node);
  CallTarget& target = out_.calls[id.index];
  target.kind = CallKind::Step;  // even when unresolved: clauses stay quiet
  auto it = connector_by_name_.find(object.name);
  if (it == connector_by_name_.end()) {
    // `JSON.parse(s)`, `Math.max(a, b)`: another language's function, not a step.
    std::string dotted = object.name + "." + callee.name;
    if (Suggestion s = ForeignSuggestion(dotted); !s.best.empty()) {
      SourceRange where = ast().expr(call.callee).range;
      s.AttachTo(diags_.Report(DiagKind::UnknownFunction, where, dotted, s.suffix()), where);
      CheckArgsOnly(call);
      return types().error();
    }
    if (unknown_names_.insert(object.name).second) {
      SourceRange where = ast().expr(callee.object).range;
      Suggestion s = Suggest(object.name, ConnectorNames());
      s.AttachTo(diags_.Report(DiagKind::UnknownConnector, where, object.name, s.suffix()), where);
    }
    CheckArgsOnly(call);
    return types().error();
  }
  int32_t conn = it->second;
  out_.names[callee.object.index] = {NameKind::Connector, conn};
  if (!out_.connector_loaded[conn]) {  // the load failure was the one message
    CheckArgsOnly(call);
    return types().error();
  }
  const schema::ConnectorSig& sig = out_.connectors[conn];
  auto op_it = operation_index_[conn].find(callee.name);
  if (op_it == operation_index_[conn].end()) {
    std::vector<std::string> ops;
    for (const auto& op : sig.operations) ops.push_back(op.name);
    Suggestion s = Suggest(callee.name, ops);
    s.AttachTo(diags_.Report(DiagKind::UnknownOperation, callee.name_range, sig.name, callee.name,
                             s.suffix()),
               callee.name_range);
    CheckArgsOnly(call);
    return types().error();
  }
  target.connector = conn;
  target.operation = op_it->second;
  const schema::OperationSig& op = sig.operations[op_it->second];
  ReportEffect("step '" + sig.name + "." + op.name + "'", ast().expr(call.callee).range);
  CheckStepArgs(id, call, op, callee.name_range);
  return op.output;
}

void Checker::CheckStepArgs(ast::ExprId id, const ast::CallExpr& call,
                            const schema::OperationSig& op, SourceRange op_range) {
  std::string label = op.connector + "." + op.name;
  std::vector<int32_t>& arg_params = out_.calls[id.index].arg_params;
  arg_params.assign(call.args.size(), -1);
  std::vector<bool> given(op.args.size(), false);
  std::vector<bool> suggested(op.args.size(), false);
  bool positional = false;
  for (size_t i = 0; i < call.args.size(); ++i) {
    const ast::Arg& arg = call.args[i];
    TypeId t = CheckExpr(arg.value);
    if (arg.name.empty()) {
      diags_.Report(DiagKind::PositionalStepArgument, ast().expr(arg.value).range, label);
      positional = true;
      continue;
    }
    int32_t k = -1;
    for (size_t j = 0; j < op.args.size(); ++j) {
      if (op.args[j].name == arg.name) k = static_cast<int32_t>(j);
    }
    if (k < 0) {
      std::vector<std::string> names;
      for (const auto& a : op.args) names.push_back(a.name);
      Suggestion s = Suggest(arg.name, names);
      const std::string& best = s.best;
      s.AttachTo(diags_.Report(DiagKind::UnknownArgument, arg.name_range, label, arg.name,
                               s.suffix()),
                 arg.name_range);
      // `amout: 5` is the missing `amount`: one message, not two.
      for (size_t j = 0; j < op.args.size(); ++j) {
        if (!best.empty() && op.args[j].name == best) suggested[j] = true;
      }
      continue;
    }
    if (given[k]) {
      diags_.Report(DiagKind::DuplicateArgument, arg.name_range, arg.name);
      continue;
    }
    given[k] = true;
    arg_params[i] = k;
    if (types().HasSecret(t)) {
      if (!SecretArgumentAllowed(out_.connectors[out_.calls[id.index].connector], arg.name)) {
        RejectSecret(arg.value, t);
        continue;
      }
      t = types().SecretsAsStrings(t);  // what the operation's schema will see
    }
    if (Fits(arg.value, t, op.args[k].type) == Fit::Mismatch) {
      diags_.Report(DiagKind::ArgumentType, ast().expr(arg.value).range, arg.name, label,
                    types().Display(op.args[k].type), types().Display(t));
    }
  }
  // Positional arguments were probably meant for the missing ones: one
  // message (E043) is enough.
  if (positional) return;
  for (size_t j = 0; j < op.args.size(); ++j) {
    if (op.args[j].required && !given[j] && !suggested[j]) {
      diags_.Report(DiagKind::MissingArgument, op_range, label, op.args[j].name);
    }
  }
}

}  // namespace flow::check
