// Parser for the Flux-like query language (influxdata/flux docs/SPEC.md). Syntax/AstBuilder.cs turns
// the parse tree into the immutable AST under Ast/; nothing outside Syntax/ sees these contexts.
parser grammar FluxLikeParser;

options {
    tokenVocab = FluxLikeLexer;
    // FluxLikeParserBase (src/InfluxLike.Query/Syntax) stops runaway recursion with a diagnostic.
    superClass = FluxLikeParserBase;
}

program
    : packageClause? importDeclaration* statement* EOF
    ;

packageClause
    : PACKAGE IDENTIFIER
    ;

importDeclaration
    : IMPORT alias=IDENTIFIER? path=stringLiteral
    ;

statement
    : OPTION assignment   # optionStatement
    | assignment          # assignmentStatement
    | RETURN expression   # returnStatement
    | expression          # expressionStatement
    ;

assignment
    : IDENTIFIER ASSIGN expression                          # variableAssignment
    | target=IDENTIFIER DOT member=IDENTIFIER ASSIGN expression # memberAssignment
    ;

// Precedence as Flux defines it, tightest first: postfix (member, index, call), unary + -, |>, ^,
// * / %, + -, comparisons and =~ !~, not/exists, and, or, if-then-else. ANTLR gives earlier
// alternatives of a left-recursive rule higher precedence; binary operators are left-associative.
expression
    : primary                                                       # primaryExpression
    | expression DOT IDENTIFIER                                     # memberExpression
    | expression LBRACK expression RBRACK                           # indexExpression
    | expression LPAREN propertyList? RPAREN                        # callExpression
    | op=(PLUS | MINUS) expression                                  # unaryExpression
    | expression PIPE_FORWARD expression                            # pipeExpression
    | expression CARET expression                                   # powerExpression
    | expression op=(STAR | SLASH | PERCENT) expression             # multiplicativeExpression
    | expression op=(PLUS | MINUS) expression                       # additiveExpression
    | expression op=(EQ | NEQ | LT | LTE | GT | GTE | REGEX_EQ | REGEX_NEQ) expression # comparisonExpression
    | op=(NOT | EXISTS) expression                                  # logicalUnaryExpression
    | expression AND expression                                     # andExpression
    | expression OR expression                                      # orExpression
    | IF expression THEN expression ELSE expression                 # conditionalExpression
    ;

primary
    : IDENTIFIER                    # identifier
    | INTEGER                       # integerLiteral
    | FLOAT                         # floatLiteral
    | DURATION                      # durationLiteral
    | DATETIME                      # dateTimeLiteral
    | (TRUE | FALSE)                # booleanLiteral
    | REGEX                         # regexLiteral
    | stringLiteral                 # stringPrimary
    | functionLiteral               # functionPrimary
    | LPAREN expression RPAREN      # parenthesized
    | record                        # recordPrimary
    | array                         # arrayPrimary
    | dictionary                    # dictionaryPrimary
    ;

// "(r) => {" always opens a block (as in Flux); a record body needs parentheses: (r) => ({...}).
functionLiteral
    : LPAREN parameterList? RPAREN ARROW (block | expression)
    ;

parameterList
    : parameter (COMMA parameter)* COMMA?
    ;

parameter
    : IDENTIFIER (ASSIGN (PIPE_RECEIVE | expression))?
    ;

block
    : LBRACE statement* RBRACE
    ;

record
    : LBRACE (with=IDENTIFIER WITH propertyList | propertyList?) RBRACE
    ;

propertyList
    : property (COMMA property)* COMMA?
    ;

// A property without a value is shorthand: {left} means {left: left}, f(n) means f(n: n).
property
    : (IDENTIFIER | stringLiteral) (COLON expression)?
    ;

array
    : LBRACK (expression (COMMA expression)* COMMA?)? RBRACK
    ;

dictionary
    : LBRACK (COLON | dictionaryItem (COMMA dictionaryItem)* COMMA?) RBRACK
    ;

dictionaryItem
    : key=expression COLON value=expression
    ;

stringLiteral
    : QUOTE stringPart* STRING_END
    ;

stringPart
    : STRING_TEXT                       # stringText
    | INTERP_START expression RBRACE    # stringInterpolation
    ;
