// The tokens of the .flow language (SPEC §2.1). See Flow.g4 for how newlines
// and string interpolation are handled.
//
// This grammar is the specification; at run time the tokens come from the
// hand-written compiler/parse/scanner.cpp, which is several times faster and
// must emit exactly what this lexer emits. A change here must be made there
// too: tests/unit/lexer_check_test.cpp compares the two and fails until it is.
lexer grammar FlowLexer;

@members {
  // Pops the mode pushed by the matching `{` or `${`; ignores an unmatched `}`
  // so that a stray brace becomes a parse error, not a lexer exception.
  void PopModeIfAny() {
    if (!modeStack.empty()) popMode();
  }
}


CONNECTOR  : 'connector' ;
TYPE       : 'type' ;
FN         : 'fn' ;
WORKFLOW   : 'workflow' ;
LET        : 'let' ;
VAR        : 'var' ;
IF         : 'if' ;
ELSE       : 'else' ;
FOR        : 'for' ;
IN         : 'in' ;
WHILE      : 'while' ;
RETURN     : 'return' ;
FAIL       : 'fail' ;
TRY        : 'try' ;
CATCH      : 'catch' ;
RETRY      : 'retry' ;
TIMEOUT    : 'timeout' ;
COMPENSATE : 'compensate' ;
CHECKPOINT : 'checkpoint' ;
APPROVE    : 'approve' ;
FROM       : 'from' ;
WAIT       : 'wait' ;
SLEEP      : 'sleep' ;
PARALLEL   : 'parallel' ;
BREAK      : 'break' ;
CONTINUE   : 'continue' ;
TRUE_LIT   : 'true' ;
FALSE_LIT  : 'false' ;
NULL_LIT   : 'null' ;
AND        : 'and' ;
OR         : 'or' ;
NOT        : 'not' ;
AS         : 'as' ;
// `backoff`, `max` and `on` are keywords only inside a retry clause in spirit,
// but `max(a, b)` is a built-in: the token filter turns BACKOFF/MAX/ON back
// into ID outside a retry clause (see token_filter.cpp).
BACKOFF    : 'backoff' ;
MAX        : 'max' ;
ON         : 'on' ;
// `limit` is a keyword only in the header of `parallel for x in xs limit N`
// (SPEC §2.1): the token filter turns LIMIT back into ID anywhere else.
LIMIT      : 'limit' ;

DURATION : DIGITS ('ms' | 's' | 'm' | 'h' | 'd') ;
FLOAT    : DIGITS '.' DIGITS ([eE] [+-]? DIGITS)? ;
INT      : DIGITS ;
ID       : [A-Za-z_] [A-Za-z0-9_]* ;
fragment DIGITS : [0-9]+ ;

ARROW     : '->' ;
QQ        : '??' ;
EQ        : '==' ;
NE        : '!=' ;
LE        : '<=' ;
GE        : '>=' ;
LT        : '<' ;
GT        : '>' ;
ASSIGN    : '=' ;
PLUS      : '+' ;
MINUS     : '-' ;
STAR      : '*' ;
SLASH     : '/' ;
PERCENT   : '%' ;
LPAREN    : '(' ;
RPAREN    : ')' ;
LBRACKET  : '[' ;
RBRACKET  : ']' ;
LBRACE    : '{' -> pushMode(DEFAULT_MODE) ;
RBRACE    : '}' { PopModeIfAny(); } ;
COMMA     : ',' ;
COLON     : ':' ;
SEMI      : ';' ;
DOT       : '.' ;
QUESTION  : '?' ;
PIPE      : '|' ;
STR_START : '"' -> pushMode(STRING_MODE) ;

NL            : '\r'? '\n' ;
WS            : [ \t\f]+ -> skip ;
LINE_COMMENT  : '//' ~[\r\n]* -> skip ;
// Kept on the hidden channel so the token filter can see whether it spans a
// line break (which then separates statements like a newline does).
// An unterminated comment runs to the end of the file; the token filter sees
// the missing `*/` and reports it.
BLOCK_COMMENT : '/*' .*? ('*/' | EOF) -> channel(HIDDEN) ;
// Anything else is one bad character, reported by the parser's error listener.
BAD_CHAR : . ;

mode STRING_MODE;
STR_END      : '"' -> popMode ;
STR_TEXT     : ~["\\$\r\n]+ ;
STR_ESCAPE   : '\\' . ;
INTERP_START : '${' -> pushMode(DEFAULT_MODE) ;
STR_DOLLAR   : '$' ;
// A line break inside a string: the string is unterminated. Leaving string
// mode here lets the rest of the file lex normally.
STR_NEWLINE  : '\r'? '\n' -> popMode ;
