// The grammar of the .flow language (SPEC §2).
//
// The tokens come from FlowLexer.g4 (a separate lexer grammar because string
// interpolation needs lexer modes).
//
// Newlines: the lexer emits every line break as NL. The token filter in
// compiler/parse/token_filter.cpp (not this file) decides which ones are
// statement separators, Go style: a line break ends a statement only when the
// token before it can end one (a name, a literal, `)`, `]`, `}`, `?`,
// `return`), it is outside `(` and `[`, and the next line does not start with a
// token that continues the statement (`retry`, `timeout`, `compensate`,
// `else`, `catch`, `from`, `as`, a binary operator, a closing bracket...). The
// parser below therefore only ever sees NL where a statement may end.
//
// Strings: `"` switches the lexer into string mode, `${` back into the default
// mode for an interpolated expression; every `{` pushes the default mode and
// every `}` pops, so the `}` that closes an interpolation returns to string
// mode. A stray `}` at the top level pops nothing (see the action below).
//
// Performance: the parser runs in SLL mode first and only re-parses in LL mode
// when SLL fails. Expression precedence is one left-recursive rule, which ANTLR
// rewrites into precedence climbing: no deep lookahead.
parser grammar Flow;

options { tokenVocab = FlowLexer; }


// ---------------------------------------------------------------- top level

file : sep* (decl (sep+ decl)* sep*)? EOF ;

sep : NL | SEMI ;

decl
  : CONNECTOR name=ID ASSIGN path=string                          # connectorDecl
  | TYPE name=ID ASSIGN type                                      # typeDecl
  | kind=(FN | WORKFLOW) name=ID LPAREN params? RPAREN (ARROW type)? block  # functionDecl
  ;

params : param (COMMA param)* COMMA? ;
param  : name=ID COLON type ;

// ---------------------------------------------------------------- types

type      : unionType QUESTION* ;
unionType : primaryType (PIPE primaryType)* ;
primaryType
  : ID                                                            # namedType
  | LBRACKET type RBRACKET                                        # listType
  | LBRACE (fieldType (COMMA fieldType)* COMMA?)? RBRACE          # recordType
  | string                                                        # literalType
  | LPAREN type RPAREN                                            # parenType
  ;
fieldType : name=ID COLON type ;

// ---------------------------------------------------------------- statements

block : LBRACE sep* (stmt (sep+ stmt)* sep*)? RBRACE ;

stmt
  : kind=(LET | VAR) name=ID (COLON type)? ASSIGN expr clauses     # letStmt
  // An else-if chain is a loop, not recursion, so a long chain cannot
  // exhaust the parser's stack.
  | IF conds+=expr blocks+=block (ELSE IF conds+=expr blocks+=block)*
      (ELSE elseBlock=block)?                                     # ifStmt
  | FOR name=ID IN expr block                                     # forStmt
  | WHILE expr block                                              # whileStmt
  | RETURN (expr clauses)?                                        # returnStmt
  | FAIL expr                                                     # failStmt
  | TRY body=block CATCH name=ID handler=block                    # tryStmt
  | CHECKPOINT expr                                               # checkpointStmt
  | SLEEP expr                                                    # sleepStmt
  | PARALLEL block                                                # parallelStmt
  // One alternative for `x = e` and a bare expression, so that prediction
  // need not look past a whole expression to tell them apart.
  | target=expr (ASSIGN value=expr)? clauses                      # exprStmt
  ;

// Clauses of a step, in any order, each at most once (the AST builder reports
// repeats, including a second `compensate`). Clauses written after
// `compensate STEP` belong to the compensation step, not to the main one.
clauses : clause* ;

clause
  : RETRY attempts=postfixExpr (BACKOFF backoff=postfixExpr (MAX max=postfixExpr)?)?
      (ON string (COMMA string)*)?                                # retryClause
  | TIMEOUT postfixExpr                                           # timeoutClause
  | COMPENSATE postfixExpr                                        # compensateClause
  ;

// ---------------------------------------------------------------- expressions

// Precedence, loosest first: or, and, not, comparison, ??, as, + -, * / %,
// unary minus, postfix. `??` is left-associative: (a ?? b) ?? c has the same
// value and type as a ?? (b ?? c) and keeps deep chains out of recursion.
expr
  : postfixExpr                                                   # postfix
  | op=MINUS expr                                                 # negate
  | left=expr op=(STAR | SLASH | PERCENT) right=expr             # multiplicative
  | left=expr op=(PLUS | MINUS) right=expr                       # additive
  | left=expr op=AS type                                         # cast
  | left=expr op=QQ right=expr                                   # coalesce
  | left=expr op=(EQ | NE | LT | LE | GT | GE) right=expr        # comparison
  | op=NOT expr                                                   # not
  | left=expr op=AND right=expr                                  # and
  | left=expr op=OR right=expr                                   # or
  ;

postfixExpr
  : primary                                                       # primaryExpr
  | object=postfixExpr DOT name=ID                                # member
  | object=postfixExpr LBRACKET expr RBRACKET                     # index
  | object=postfixExpr LPAREN args? RPAREN                        # call
  ;

args : arg (COMMA arg)* COMMA? ;
arg  : (name=ID COLON)? expr ;

primary
  : INT                                                           # intLit
  | FLOAT                                                         # floatLit
  | DURATION                                                      # durationLit
  | (TRUE_LIT | FALSE_LIT)                                                # boolLit
  | NULL_LIT                                                       # nullLit
  | string                                                        # stringLit
  | ID                                                            # name
  | LPAREN expr RPAREN                                            # paren
  | LBRACKET (expr (COMMA expr)* COMMA?)? RBRACKET                # listLit
  | LBRACE (recordField (COMMA recordField)* COMMA?)? RBRACE      # recordLit
  | APPROVE prompt=postfixExpr approveClause*                     # approve
  | WAIT event=postfixExpr waitClause*                            # wait
  ;

recordField : name=ID COLON expr ;

approveClause
  : FROM postfixExpr                                              # approveFrom
  | TIMEOUT postfixExpr                                           # approveTimeout
  ;

waitClause
  : TIMEOUT postfixExpr                                           # waitTimeout
  | AS type                                                       # waitAs
  ;

string : STR_START stringPart* STR_END ;
stringPart
  : STR_TEXT                                                      # strText
  | STR_ESCAPE                                                    # strEscape
  | STR_DOLLAR                                                    # strDollar
  | INTERP_START expr RBRACE                                      # strInterp
  ;

