using InfluxLike.Query.Ast;
using InfluxLike.Query.Diagnostics;
using InfluxLike.Query.Syntax;

namespace InfluxLike.Query.Semantics;

/// <summary>
/// Semantic checks on a parsed script: every name resolves (variables, parameters, imports,
/// built-ins), calls to known functions name only known arguments and all required ones, literals
/// passed to known parameters have the right kind, and '|>' feeds only functions with a pipe
/// parameter. Misspelt names get the nearest known names as a suggestion. Collects, never throws.
/// </summary>
public static class ScriptChecker
{
    /// <summary>
    /// Parse, then check if the syntax is fine: what the server and the UI call. Like
    /// <see cref="ScriptParser.Parse"/>, the result has an AST exactly when there is no error.
    /// </summary>
    public static ParseResult ParseAndCheck(string source, IEnumerable<string>? predefined = null)
    {
        var parsed = ScriptParser.Parse(source);
        if (parsed.Ast is null)
        {
            return parsed;
        }

        var diagnostics = Check(parsed.Ast, source, predefined);
        return diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error) ? new ParseResult(null, diagnostics) : parsed with { Diagnostics = diagnostics };
    }

    /// <param name="predefined">Names bound before the script runs (e.g. the conformance inputs).</param>
    public static IReadOnlyList<Diagnostic> Check(Ast.Program program, string source, IEnumerable<string>? predefined = null)
    {
        ArgumentNullException.ThrowIfNull(program);
        var walker = new Walker(new SourceText(source));
        var scope = new Scope(null);
        foreach (var name in predefined ?? [])
        {
            scope.Define(name, Binding.Value);
        }

        foreach (var import in program.Imports)
        {
            walker.Import(import, scope);
        }

        walker.Statements(program.Body, scope, topLevel: true);
        return walker.Diagnostics;
    }

    private sealed record Binding(FunctionSignature? Function, Package? Package)
    {
        public static readonly Binding Value = new(null, null);

        public static readonly IReadOnlyDictionary<string, Binding> Builtin =
            Builtins.Functions.ToDictionary(f => f.Key, f => new Binding(f.Value, null), StringComparer.Ordinal);
    }

    private sealed class Scope(Scope? parent)
    {
        private readonly Dictionary<string, Binding> _names = new(StringComparer.Ordinal);

        public void Define(string name, Binding binding) => _names[name] = binding;

        public Binding? Find(string name) =>
            _names.TryGetValue(name, out var binding) ? binding
            : parent is not null ? parent.Find(name)
            : Binding.Builtin.TryGetValue(name, out var function) ? function
            : Builtins.UniverseValues.Contains(name) ? Binding.Value
            : null;

        public IEnumerable<string> Names() =>
            _names.Keys.Concat(parent?.Names() ?? Builtins.Functions.Keys.Concat(Builtins.UniverseValues));
    }

    private sealed class Walker(SourceText source)
    {
        public List<Diagnostic> Diagnostics { get; } = [];

        public void Import(ImportDeclaration import, Scope scope)
        {
            var path = import.Path.Value;
            if (!Builtins.Packages.TryGetValue(path, out var package))
            {
                Error(import.Path.Span, $"unknown package \"{path}\"", Suggestions.DidYouMean(path, Builtins.Packages.Keys));
                return;
            }

            scope.Define(import.Alias?.Name ?? path[(path.LastIndexOf('/') + 1)..], new Binding(null, package));
        }

        public void Statements(IEnumerable<Statement> statements, Scope scope, bool topLevel)
        {
            foreach (var statement in statements)
            {
                Statement(statement, scope, topLevel);
            }
        }

        private void Statement(Statement statement, Scope scope, bool topLevel)
        {
            switch (statement)
            {
                case OptionStatement option:
                    if (!topLevel)
                    {
                        Error(option.Span, "options can only be set at the top level of a script, not inside a function");
                    }

                    if (option.Assignment is MemberAssignment member)
                    {
                        Expression(member.Object, scope);
                        Expression(member.Value, scope);
                    }
                    else
                    {
                        Statement(option.Assignment, scope, topLevel);
                    }

                    break;
                case VariableAssignment assignment:
                    Expression(assignment.Value, scope);
                    scope.Define(assignment.Name.Name, BindingOf(assignment.Value, assignment.Name.Name));
                    break;
                case MemberAssignment assignment:
                    // Only reachable without 'option': the grammar allows it so the error can be clear.
                    Error(assignment.Span, "only options can assign to a member: write 'option " + assignment.Object.Name + "." + assignment.Member.Name + " = ...'");
                    Expression(assignment.Object, scope);
                    Expression(assignment.Value, scope);
                    break;
                case ReturnStatement statementReturn:
                    if (topLevel)
                    {
                        Error(statementReturn.Span, "'return' is only allowed inside a function body");
                    }

                    Expression(statementReturn.Argument, scope);
                    break;
                case ExpressionStatement expression:
                    Expression(expression.Expression, scope);
                    break;
            }
        }

        // A variable bound to a function literal keeps its signature, so calls to it are checked too.
        private static Binding BindingOf(Expression value, string name) => value is FunctionExpression function
            ? new Binding(new FunctionSignature(name, [.. function.Parameters.Select(p => new ParameterSignature(p.Name.Name, p.Default is null && !p.IsPipe, p.IsPipe, ValueKind.Any))]), null)
            : Binding.Value;

        private void Expression(Expression? expression, Scope scope)
        {
            switch (expression)
            {
                case null:
                    break;
                case Identifier identifier:
                    Resolve(identifier, scope);
                    break;
                case BinaryExpression binary:
                    Expression(binary.Left, scope);
                    Expression(binary.Right, scope);
                    Operands(binary);
                    break;
                case ConditionalExpression conditional:
                    Expression(conditional.Test, scope);
                    Expression(conditional.Consequent, scope);
                    Expression(conditional.Alternate, scope);
                    if (KindOf(conditional.Test) is { } test and not ValueKind.Bool)
                    {
                        Error(conditional.Test.Span, $"the condition of 'if' must be a boolean, not {Describe(test)}");
                    }

                    break;
                case PipeExpression pipe:
                    Expression(pipe.Argument, scope);
                    Call(pipe.Call, scope, piped: true);
                    break;
                case CallExpression call:
                    Call(call, scope, piped: false);
                    break;
                case MemberExpression member:
                    Member(member, scope);
                    break;
                case FunctionExpression function:
                    Function(function, scope);
                    break;
                case RecordExpression record:
                    Expression(record.With, scope);
                    Properties(record.Properties, scope);
                    break;
                default:
                    foreach (var child in Children.Of(expression))
                    {
                        Expression(child, scope);
                    }

                    break;
            }
        }

        private void Function(FunctionExpression function, Scope scope)
        {
            var inner = new Scope(scope);
            foreach (var parameter in function.Parameters)
            {
                Expression(parameter.Default, scope);
                inner.Define(parameter.Name.Name, Binding.Value);
            }

            if (function.Body is Block block)
            {
                Statements(block.Body, inner, topLevel: false);
            }
            else
            {
                Expression((Expression)function.Body, inner);
            }
        }

        // Shorthand properties ({left}, f(n)) read the variable of the key's name.
        private void Properties(IEnumerable<Property> properties, Scope scope)
        {
            foreach (var property in properties)
            {
                Expression(property.Value ?? property.Key as Identifier, scope);
            }
        }

        private Binding? Resolve(Identifier identifier, Scope scope)
        {
            var binding = scope.Find(identifier.Name);
            if (binding is null)
            {
                if (Builtins.Packages.ContainsKey(identifier.Name))
                {
                    Error(identifier.Span, $"'{identifier.Name}' is a package that is not imported; add import \"{identifier.Name}\"");
                }
                else
                {
                    Error(identifier.Span, $"unknown name '{identifier.Name}'", Suggestions.DidYouMean(identifier.Name, scope.Names()));
                }
            }

            return binding;
        }

        private FunctionSignature? Member(MemberExpression member, Scope scope)
        {
            if (member.Object is not Identifier name || scope.Find(name.Name)?.Package is not { } package)
            {
                Expression(member.Object, scope);
                return null;
            }

            var property = member.Property.Name;
            if (package.Functions.TryGetValue(property, out var function))
            {
                return function;
            }

            if (!package.Constants.Contains(property))
            {
                Error(member.Property.Span, $"package '{package.Name}' has no member '{property}'", Suggestions.DidYouMean(property, package.MemberNames));
            }

            return null;
        }

        private void Call(CallExpression call, Scope scope, bool piped)
        {
            var signature = call.Callee switch
            {
                Identifier identifier => Resolve(identifier, scope)?.Function,
                MemberExpression member => Member(member, scope),
                var other => Callee(other, scope),
            };
            Properties(call.Arguments, scope);
            if (signature is null)
            {
                return;
            }

            if (piped && signature.Pipe is null)
            {
                Error(call.Span, $"'{signature.Name}' does not take piped input: it has no '<-' parameter");
            }

            var given = new HashSet<string>(StringComparer.Ordinal);
            foreach (var argument in call.Arguments)
            {
                var name = argument.Key is Identifier key ? key.Name : ((StringLiteral)argument.Key).Value;
                var parameter = signature.Find(name);
                if (parameter is null)
                {
                    Error(argument.Key.Span, $"'{signature.Name}' has no parameter '{name}'", Suggestions.DidYouMean(name, signature.Parameters.Select(p => p.Name)));
                }
                else if (!given.Add(name))
                {
                    Error(argument.Key.Span, $"argument '{name}' is given twice");
                }
                else if (argument.Value is { } value && KindOf(value) is { } kind && !Accepts(parameter.Kind, kind))
                {
                    Error(value.Span, $"argument '{name}' of '{signature.Name}' must be {Describe(parameter.Kind)}, not {Describe(kind)}");
                }
            }

            foreach (var parameter in signature.Parameters)
            {
                var missing = parameter.Required || (parameter.IsPipe && !piped);
                if (missing && !given.Contains(parameter.Name))
                {
                    Error(call.Span, parameter.IsPipe
                        ? $"'{signature.Name}' needs input: pipe a stream into it or pass '{parameter.Name}'"
                        : $"missing required argument '{parameter.Name}' in call to '{signature.Name}'");
                }
            }
        }

        /// <summary>
        /// Operators on literals whose kinds can never work: Flux converts nothing implicitly, so
        /// 1 + 1.0 is as wrong as 1 + "a"; =~ and !~ need a regex on the right.
        /// </summary>
        private void Operands(BinaryExpression binary)
        {
            var symbol = AstDump.Symbol(binary.Operator);
            if (binary.Operator is BinaryOperator.RegexMatch or BinaryOperator.RegexNotMatch)
            {
                if (KindOf(binary.Right) is { } right)
                {
                    Error(binary.Right.Span, $"the right side of '{symbol}' must be a regex like /abc/, not {Describe(right)}");
                }

                return;
            }

            if (KindOf(binary.Left) is { } leftKind && KindOf(binary.Right) is { } rightKind && leftKind != rightKind
                && !(leftKind is ValueKind.Time && rightKind is ValueKind.Duration))
            {
                Error(binary.Span, $"'{symbol}' cannot combine {Describe(leftKind)} and {Describe(rightKind)}; convert one side, e.g. with float(v: ...)");
            }
        }

        private FunctionSignature? Callee(Expression callee, Scope scope)
        {
            Expression(callee, scope);
            return null;
        }

        /// <summary>The kind of a literal; null when only evaluation would tell.</summary>
        private static ValueKind? KindOf(Expression value) => value switch
        {
            IntegerLiteral => ValueKind.Int,
            FloatLiteral => ValueKind.Float,
            StringLiteral or StringExpression => ValueKind.String,
            BooleanLiteral => ValueKind.Bool,
            DurationLiteral or UnaryExpression { Operator: UnaryOperator.Negate, Operand: DurationLiteral } => ValueKind.Duration,
            DateTimeLiteral => ValueKind.Time,
            FunctionExpression => ValueKind.Function,
            ArrayExpression => ValueKind.Array,
            RecordExpression => ValueKind.Record,
            _ => null,
        };

        private static bool Accepts(ValueKind parameter, ValueKind argument) => parameter switch
        {
            ValueKind.Any => true,
            // range(start: -1h) and range(start: 0) (Unix seconds) are both Flux.
            ValueKind.Time => argument is ValueKind.Time or ValueKind.Duration or ValueKind.Int,
            ValueKind.Float => argument is ValueKind.Float or ValueKind.Int,
            _ => parameter == argument,
        };

        private static string Describe(ValueKind kind) => kind switch
        {
            ValueKind.Time => "a time or duration",
            ValueKind.Duration => "a duration",
            ValueKind.Int => "an integer",
            ValueKind.Float => "a number",
            ValueKind.String => "a string",
            ValueKind.Bool => "a boolean",
            ValueKind.Function => "a function",
            ValueKind.Array => "an array",
            ValueKind.Record => "a record",
            _ => "a value",
        };

        private void Error(SourceSpan span, string message, string? suggestion = null) =>
            Diagnostics.Add(source.Error(DiagnosticCodes.Semantic, span, message, suggestion));
    }
}
