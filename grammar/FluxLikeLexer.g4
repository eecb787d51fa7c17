// Lexer for the Flux-like query language. Tokens follow the Flux SPEC (influxdata/flux docs/SPEC.md).
// Regenerate the C# parser with scripts/antlr-gen.sh after editing; a test fails when the committed
// output is stale.
lexer grammar FluxLikeLexer;

options {
    // FluxLikeLexerBase (src/InfluxLike.Query/Syntax) decides regex-vs-division and never lets an
    // unbalanced '}' pop the mode stack past the bottom.
    superClass = FluxLikeLexerBase;
}

LINE_COMMENT : '//' ~[\r\n]* -> channel(HIDDEN);
WHITESPACE   : [ \t\r\n\f]+ -> channel(HIDDEN);

AND     : 'and';
OR      : 'or';
NOT     : 'not';
EXISTS  : 'exists';
IF      : 'if';
THEN    : 'then';
ELSE    : 'else';
IMPORT  : 'import';
OPTION  : 'option';
PACKAGE : 'package';
RETURN  : 'return';
WITH    : 'with';
TRUE    : 'true';
FALSE   : 'false';

// Longest match makes 2018-12-01 a date, not 2018 - 12 - 01 (as in Flux).
DATETIME : DATE ('T' TIME)?;
// 1h30m, 1mo, 1y; 1m is minutes, 1mo months, 1ms milliseconds.
DURATION : (DIGITS DURATION_UNIT)+;
FLOAT    : DIGITS '.' DIGITS | '.' DIGITS;
INTEGER  : DIGITS;

// A '/' starts a regex only where an operand may begin (after an operator, '(' or ',', or at the
// start); after an operand it is division. The predicate sits on the right edge, as ANTLR advises.
REGEX : '/' (~[/\\\r\n] | '\\' ~[\r\n])+ '/' { RegexAllowed() }?;

PIPE_FORWARD : '|>';
PIPE_RECEIVE : '<-';
ARROW        : '=>';
EQ           : '==';
NEQ          : '!=';
LTE          : '<=';
GTE          : '>=';
LT           : '<';
GT           : '>';
REGEX_EQ     : '=~';
REGEX_NEQ    : '!~';
ASSIGN       : '=';
PLUS         : '+';
MINUS        : '-';
STAR         : '*';
SLASH        : '/';
PERCENT      : '%';
CARET        : '^';
LPAREN       : '(';
RPAREN       : ')';
LBRACK       : '[';
RBRACK       : ']';
// Braces push and pop the default mode so that the '}' closing a "${...}" interpolation returns to
// the string it started in.
LBRACE       : '{' -> pushMode(DEFAULT_MODE);
RBRACE       : '}' -> popMode;
COMMA        : ',';
COLON        : ':';
DOT          : '.';
QUOTE        : '"' -> pushMode(STRING_MODE);

IDENTIFIER : [\p{L}_] [\p{L}\p{Nd}_]*;

// Anything else becomes one token the parser rejects with a readable message, instead of a lexer
// error without position context.
UNKNOWN_CHARACTER : .;

fragment DIGIT  : [0-9];
fragment DIGITS : DIGIT+;
fragment DATE   : DIGIT DIGIT DIGIT DIGIT '-' DIGIT DIGIT '-' DIGIT DIGIT;
fragment TIME   : DIGIT DIGIT ':' DIGIT DIGIT ':' DIGIT DIGIT ('.' DIGIT+)? ('Z' | [+-] DIGIT DIGIT ':' DIGIT DIGIT);
fragment DURATION_UNIT : 'y' | 'mo' | 'w' | 'd' | 'h' | 'm' | 's' | 'ms' | 'us' | '\u00B5s' | 'ns';

mode STRING_MODE;

STRING_END   : '"' -> popMode;
INTERP_START : '${' -> pushMode(DEFAULT_MODE);
// A lone '$' not followed by '{' is text; the longer '${' match wins otherwise.
STRING_TEXT  : (~["\\$] | '\\' .)+ | '$';
