// The grammar of the .flow language (SPEC §2).
//
// The tokens come from FlowLexer.g4 (a separate lexer grammar because string
// interpolation needs lexer modes).
//
// Newlines: the lexer emits every line break as NL. The token filter in
// compiler/parse/token_filter.cpp (not this file) decides which ones are
// statement separators, Go style: a line break ends a statement only when the
// token before it can end one (a name, a literal, `)`, `]`, `}`, `?`,
// `return`, `break`, `continue`), it is outside `(` and `[`, and the next line
// does not start with a token that continues the statement (`retry`,
// `timeout`, `compensate`, `else`, `catch`, `from`, `as`, a binary operator, a
// closing bracket, the `limit` of a `parallel for` header...). The parser
// below therefore only ever sees NL where a statement may end.
//
// Strings: `"` switches the lexer into string mode, `${` back into the default
// mode for an interpolated expression; every `{` pushes the default mode and
// every `}` pops, so the `}` that closes an interpolation returns to string
// mode. A stray `}` at the top level pops nothing (see the action below).
//
// Performance: the parser runs in SLL mode first, without building parse
// tree children (the AST builder reaches every child through the labels
// below), and only re-parses in LL mode, with a full tree, when SLL fails. Expression precedence is one left-recursive rule, which ANTLR
// rewrites into precedence climbing: no deep lookahead.
parser grammar Flow;

options { tokenVocab = FlowLexer; }


// ---------------------------------------------------------------- top level

file : sep* (decls+=decl (sep+ decls+=decl)* sep*)? EOF ;

sep : NL | SEMI ;

decl
  : CONNECTOR name=ID ASSIGN path=string                          # connectorDecl
  | TYPE name=ID ASSIGN value=type                                    # typeDecl
  | kind=(FN | WORKFLOW) name=ID LPAREN ps=params? RPAREN (ARROW result=type)? body=block  # functionDecl
  ;

params : items+=param (COMMA items+=param)* COMMA? ;
param  : name=ID COLON ty=type ;

// ---------------------------------------------------------------- types

type      : un=unionType qs+=QUESTION* ;
unionType : members+=primaryType (PIPE members+=primaryType)* ;
primaryType
  : ID                                                            # namedType
  | LBRACKET elem=type RBRACKET                                   # listType
  | LBRACE (fields+=fieldType (COMMA fields+=fieldType)* COMMA?)? RBRACE # recordType
  | str=string                                                    # literalType
  | LPAREN inner=type RPAREN                                      # parenType
  ;
// A field name is a name or, for keys such as "X-Api-Key", a string literal
// without interpolation (SPEC §2.1); the AST keeps only the text.
fieldType : (name=ID | key=string) COLON ty=type ;

// ---------------------------------------------------------------- statements

block : LBRACE sep* (stmts+=stmt (sep+ stmts+=stmt)* sep*)? RBRACE ;

stmt
  : kind=(LET | VAR) name=ID (COLON ty=type)? ASSIGN init=expr cls=clauses # letStmt
  // An else-if chain is a loop, not recursion, so a long chain cannot
  // exhaust the parser's stack.
  | IF conds+=expr blocks+=block (ELSE elifs+=IF conds+=expr blocks+=block)*
      (ELSE elseBlock=block)?                                     # ifStmt
  | FOR name=ID IN iter=expr body=block                           # forStmt
  | WHILE cond=expr body=block                                    # whileStmt
  | RETURN (value=expr cls=clauses)?                              # returnStmt
  | FAIL value=expr                                               # failStmt
  | TRY body=block CATCH name=ID handler=block                    # tryStmt
  | CHECKPOINT value=expr                                         # checkpointStmt
  | SLEEP value=expr                                              # sleepStmt
  | PARALLEL body=block                                           # parallelStmt
  | BREAK                                                         # breakStmt
  | CONTINUE                                                      # continueStmt
  // One alternative for `x = e` and a bare expression, so that prediction
  // need not look past a whole expression to tell them apart. (`x += 1`
  // reaches the parser as `x = 1`: the token filter drops the `+` and the
  // AST builder reports E072 and builds `x = x + 1`.)
  | target=expr (eq=ASSIGN value=expr)? cls=clauses              # exprStmt
  ;

// Clauses of a step, in any order, each at most once (the AST builder reports
// repeats, including a second `compensate`). Clauses written after
// `compensate STEP` belong to the compensation step, not to the main one.
clauses : items+=clause* ;

clause
  : RETRY attempts=postfixExpr (BACKOFF backoff=postfixExpr (MAX max=postfixExpr)?)?
      (ON ons+=string (COMMA ons+=string)*)?                                # retryClause
  | TIMEOUT value=postfixExpr                                     # timeoutClause
  | COMPENSATE step=postfixExpr                                   # compensateClause
  // `retry 3 timeout 2s on "timeout"`: the part of a retry clause written
  // after another clause (the token filter keeps `on`/`backoff` keywords
  // there). The AST builder reports E074 with the order that works and
  // merges it into the retry clause.
  | BACKOFF backoff=postfixExpr (MAX max=postfixExpr)?            # strayBackoffClause
  | ON ons+=string (COMMA ons+=string)*                           # strayOnClause
  ;

// ---------------------------------------------------------------- expressions

// Precedence, loosest first: or, and, not, comparison, ??, as, + -, * / %,
// unary minus, postfix. `??` is left-associative: (a ?? b) ?? c has the same
// value and type as a ?? (b ?? c) and keeps deep chains out of recursion.
expr
  : inner=postfixExpr                                             # postfix
  | op=MINUS operand=expr                                         # negate
  | left=expr op=(STAR | SLASH | PERCENT) right=expr             # multiplicative
  | left=expr op=(PLUS | MINUS) right=expr                       # additive
  | left=expr op=AS ty=type                                      # cast
  | left=expr op=QQ right=expr                                   # coalesce
  | left=expr op=(EQ | NE | LT | LE | GT | GE) right=expr        # comparison
  | op=NOT operand=expr                                           # not
  | left=expr op=AND right=expr                                  # and
  | left=expr op=OR right=expr                                   # or
  ;

postfixExpr
  : inner=primary                                                 # primaryExpr
  | object=postfixExpr DOT name=ID                                # member
  | object=postfixExpr LBRACKET idx=expr RBRACKET                 # index
  | object=postfixExpr lp=LPAREN arglist=args? rp=RPAREN          # call
  ;

args : items+=arg (COMMA items+=arg)* COMMA? ;
arg  : (name=ID COLON)? value=expr ;

primary
  : INT                                                           # intLit
  | FLOAT                                                         # floatLit
  | DURATION                                                      # durationLit
  | (TRUE_LIT | FALSE_LIT)                                                # boolLit
  | NULL_LIT                                                       # nullLit
  | str=string                                                    # stringLit
  | ID                                                            # name
  | LPAREN inner=expr RPAREN                                      # paren
  | LBRACKET (items+=expr (COMMA items+=expr)* COMMA?)? RBRACKET # listLit
  | LBRACE (fields+=recordField (COMMA fields+=recordField)* COMMA?)? RBRACE # recordLit
  | APPROVE prompt=postfixExpr aclauses+=approveClause*           # approve
  | WAIT event=postfixExpr wclauses+=waitClause*                  # wait
  // As a statement its value is dropped (the exprStmt alternative); `limit`
  // is a keyword only here (the token filter sees to it).
  | PARALLEL FOR name=ID IN iter=expr (LIMIT limit=expr)? body=block # parallelFor
  ;

recordField : (name=ID | key=string) COLON value=expr ;

approveClause
  : FROM value=postfixExpr                                        # approveFrom
  | TIMEOUT value=postfixExpr                                     # approveTimeout
  ;

waitClause
  : TIMEOUT value=postfixExpr                                     # waitTimeout
  | AS ty=type                                                    # waitAs
  ;

string : STR_START parts+=stringPart* STR_END ;
stringPart
  : STR_TEXT                                                      # strText
  | STR_ESCAPE                                                    # strEscape
  | STR_DOLLAR                                                    # strDollar
  | INTERP_START value=expr RBRACE                                # strInterp
  ;

