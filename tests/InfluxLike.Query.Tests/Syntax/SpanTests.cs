using System.Collections;
using InfluxLike.Query.Ast;

namespace InfluxLike.Query.Tests.Syntax;

/// <summary>Every node of every test script has a span inside its parent's, covering its own text.</summary>
public sealed class SpanTests
{
    public static TheoryData<string> Scripts()
    {
        var scripts = ParserTests.Sources();
        foreach (var row in ConformanceParseTests.Cases())
        {
            scripts.Add(ConformanceParseTests.Source(row));
        }

        return scripts;
    }

    [Theory]
    [MemberData(nameof(Scripts))]
    public void Spans_nest_and_match_the_source(string source)
    {
        var program = ParserTests.Parse(source);
        var lines = source.Split('\n');
        Walk(program, null);

        void Walk(Node node, Node? parent)
        {
            var span = node.Span;
            Assert.InRange(span.Offset, 0, source.Length);
            Assert.InRange(span.End, span.Offset, source.Length);
            // Line and column agree with the offset.
            var lineStart = string.Join('\n', lines.Take(span.Line - 1)).Length + (span.Line > 1 ? 1 : 0);
            Assert.Equal(span.Offset, lineStart + span.Column - 1);
            if (parent is not null)
            {
                Assert.True(span.Offset >= parent.Span.Offset && span.End <= parent.Span.End, $"{node} is outside {parent}");
            }

            switch (node)
            {
                case Identifier identifier:
                    Assert.Equal(identifier.Name, source.Substring(span.Offset, span.Length));
                    break;
                case StringLiteral or StringExpression:
                    Assert.Equal('"', source[span.Offset]);
                    Assert.Equal('"', source[span.End - 1]);
                    break;
            }

            foreach (var child in ChildNodes(node))
            {
                Walk(child, node);
            }
        }
    }

    // Every Node-typed property and every list of nodes, whatever the record.
    private static IEnumerable<Node> ChildNodes(Node node)
    {
        foreach (var property in node.GetType().GetProperties())
        {
            if (property.Name == "EqualityContract")
            {
                continue;
            }

            switch (property.GetValue(node))
            {
                case Node child:
                    yield return child;
                    break;
                case IEnumerable list and not string:
                    foreach (var item in list)
                    {
                        if (item is Node element)
                        {
                            yield return element;
                        }
                    }

                    break;
            }
        }
    }
}
