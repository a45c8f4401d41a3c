using QuantBuild.Abstractions.Diagnostics;
using YamlDotNet.Core;

namespace QuantBuild.Engine.Config;

/// <summary>
/// Parses yaml text into the engine's <see cref="ConfigNode"/> tree straight from YamlDotNet's event stream, keeping
/// every node's start mark. Building from events (with an explicit stack, not recursion) is what lets every limit be
/// checked as the text is read: nesting depth, nodes after alias expansion (a 1 KB alias bomb once grew to GBs),
/// aliases to anchors not yet complete (<c>x: &amp;r [*r]</c> once looped forever) and document size. Syntax errors
/// become QB1001 at the parser's position, limits QB1021.
/// </summary>
internal static class YamlConfigReader
{
    /// <summary>Deepest nesting of lists and mappings accepted; a real quantize.yaml nests about six levels.</summary>
    public const int MaxDepth = 64;

    /// <summary>Most nodes the document may hold once every alias is expanded.</summary>
    public const long MaxNodes = 100_000;

    /// <summary>Largest config text accepted, in characters.</summary>
    public const int MaxChars = 1 << 20;

    /// <summary>The first document's root, or null for an empty file.</summary>
    public static ConfigNode? Read(string text, string file)
    {
        if (text.Length > MaxChars)
        {
            throw new QuantBuildException(
                ConfigErrorCodes.TooLarge, $"the config is {text.Length} characters long, more than the {MaxChars} a quantize.yaml may hold",
                "keep quantize.yaml to settings; data belongs in .npy/.npz files the config names", file, 1, 1);
        }

        var parser = new TrackingParser(new Parser(new StringReader(text)));
        try
        {
            return new YamlTreeBuilder(file).Build(parser);
        }
        catch (YamlException e)
        {
            // YamlDotNet wraps some failures ("While parsing a block mapping...") around the precise one.
            YamlException precise = e.InnerException as YamlException ?? e;
            throw new QuantBuildException(
                ConfigErrorCodes.Syntax,
                $"yaml syntax error: {Clean(precise.Message)}",
                "fix the yaml at this position: check indentation (spaces, not tabs), a missing ':' or an unclosed quote or bracket",
                file, (int)precise.Start.Line, (int)precise.Start.Column, e);
        }
        catch (InvalidOperationException e)
        {
            // YamlDotNet's scanner throws this (not a YamlException) on some malformed flow collections; the last
            // event it produced is the closest position we have.
            throw new QuantBuildException(
                ConfigErrorCodes.Syntax,
                "yaml syntax error: malformed value after this position (an unclosed '[' or '{'?)",
                "close every '[' with ']' and every '{' with '}', or write the list as '- item' lines",
                file, (int)parser.LastEnd.Line, (int)parser.LastEnd.Column, e);
        }
    }

    // YamlDotNet prefixes messages with "(Line: 3, Col: 5, Idx: 20) - (...): "; our diagnostic already says where.
    private static string Clean(string message)
    {
        int i = message.LastIndexOf("): ", StringComparison.Ordinal);
        return (i >= 0 && message.StartsWith("(Line:", StringComparison.Ordinal) ? message[(i + 3)..] : message).Trim();
    }

    /// <summary>Remembers where the last parsed event ended, for errors YamlDotNet raises without a position.</summary>
    private sealed class TrackingParser(IParser inner) : IParser
    {
        public Mark LastEnd { get; private set; } = new(0, 1, 1);

        public YamlDotNet.Core.Events.ParsingEvent? Current => inner.Current;

        public bool MoveNext()
        {
            if (inner.Current is { } current)
            {
                LastEnd = current.End;
            }

            return inner.MoveNext();
        }
    }
}
