#include "compiler/parse/parse.h"

#include <antlr4-runtime.h>

#include "Flow.h"
#include "compiler/parse/ast_builder.h"
#include "compiler/parse/limits.h"
#include "compiler/parse/scanner.h"
#include "compiler/parse/source_offsets.h"
#include "compiler/parse/syntax_errors.h"
#include "compiler/parse/syntax_reporter.h"
#include "compiler/parse/token_filter.h"

namespace flow::parse {

namespace {

using P = grammar::Flow;

thread_local ParseMode last_mode = ParseMode::None;

// Counts open brackets plus the current run of prefix operators over the
// whole token stream; reports E007 at the first token past kMaxNestingDepth.
auto NestingTooDeep(antlr4::CommonTokenStream& tokens, SyntaxReporter& reporter) -> bool {
  int depth = 0;
  int prefix_run = 0;
  for (antlr4::Token* t : tokens.getTokens()) {
    switch (t->getType()) {
      case P::LPAREN: case P::LBRACKET: case P::LBRACE: case P::INTERP_START:
        ++depth;
        prefix_run = 0;
        break;
      case P::RPAREN: case P::RBRACKET: case P::RBRACE:
        depth = depth > 0 ? depth - 1 : 0;
        prefix_run = 0;
        break;
      case P::MINUS: case P::NOT:
        ++prefix_run;
        break;
      default:
        prefix_run = 0;
        break;
    }
    if (depth + prefix_run > kMaxNestingDepth) {
      reporter.diags().Report(DiagKind::NestingTooDeep, reporter.TokenRange(t), kMaxNestingDepth);
      return true;
    }
  }
  return false;
}

// SLL prediction with the bail strategy is the fast path and is exact for
// every correct program of this grammar; only when it throws (a syntax error,
// or an input SLL cannot decide) does the parse restart in full LL mode with
// our error strategy, which reports and recovers.
auto RunParser(P& parser, antlr4::CommonTokenStream& tokens, SyntaxReporter& reporter)
    -> P::FileContext* {
  parser.removeErrorListeners();
  auto* sim = parser.getInterpreter<antlr4::atn::ParserATNSimulator>();
  sim->setPredictionMode(antlr4::atn::PredictionMode::SLL);
  parser.setErrorHandler(std::make_shared<antlr4::BailErrorStrategy>());
  // No parse-tree children in the fast pass: the AST builder reads the
  // labelled fields, and skipping a terminal node per token and a child
  // vector per rule is a fifth of the parse.
  parser.setBuildParseTree(false);
  try {
    auto* tree = parser.file();
    last_mode = ParseMode::Sll;
    return tree;
  } catch (const antlr4::ParseCancellationException&) {
    // Fall through to the LL pass.
  }
  tokens.seek(0);
  parser.reset();
  sim->setPredictionMode(antlr4::atn::PredictionMode::LL);
  parser.setBuildParseTree(true);
  parser.setErrorHandler(std::make_shared<FlowErrorStrategy>(reporter));
  last_mode = ParseMode::Ll;
  return parser.file();
}

auto ParseText(const SourceFile& file, FileId id, Diagnostics& diags) -> ast::Ast {
  ast::Ast ast;
  ast.file = id;
  SourceOffsets offsets(file.text());
  SyntaxReporter reporter(file, id, offsets, diags);
  antlr4::ANTLRInputStream input(file.text().data(), file.text().size());
  Scanner lexer(file.text(), &input);
  TokenFilter filter(lexer, reporter);
  FilteredTokenStream tokens(&filter);
  tokens.fill();
  if (NestingTooDeep(tokens, reporter)) return ast;
  P parser(&tokens);
  P::FileContext* tree = RunParser(parser, tokens, reporter);
  AstBuilder builder(ast, reporter, last_mode == ParseMode::Ll);
  builder.BuildFile(tree);
  return ast;
}

}  // namespace

auto LastParseMode() -> ParseMode { return last_mode; }

auto ParseFile(const SourceFile& file, FileId id, Diagnostics& diags) -> ast::Ast {
  last_mode = ParseMode::None;
  if (!IsValidUtf8Text(file.text())) {
    diags.Report(DiagKind::FileNotUtf8, SourceRange{id, 0, 0}, file.path());
    ast::Ast ast;
    ast.file = id;
    return ast;
  }
  try {
    return ParseText(file, id, diags);
  } catch (const std::exception& e) {
    diags.Report(DiagKind::SyntaxError, SourceRange{id, 0, 0},
                 std::string("the parser failed: ") + e.what());
  } catch (...) {
    diags.Report(DiagKind::SyntaxError, SourceRange{id, 0, 0}, "the parser failed");
  }
  ast::Ast ast;
  ast.file = id;
  return ast;
}

}  // namespace flow::parse
