using QuantBuild.Abstractions.Diagnostics;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace QuantBuild.Engine.Config;

/// <summary>
/// Parses yaml text through YamlDotNet's representation model (which keeps every node's start mark) into the
/// engine's <see cref="ConfigNode"/> tree. Syntax errors become QB1001 at the parser's position.
/// </summary>
internal static class YamlConfigReader
{
    /// <summary>The first document's root, or null for an empty file.</summary>
    public static ConfigNode? Read(string text, string file)
    {
        var stream = new YamlStream();
        var parser = new TrackingParser(new Parser(new StringReader(text)));
        try
        {
            stream.Load(parser);
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

        if (stream.Documents.Count > 1)
        {
            YamlNode second = stream.Documents[1].RootNode;
            throw new QuantBuildException(
                ConfigErrorCodes.Syntax,
                "the file holds more than one yaml document ('---')",
                "keep one document per quantize.yaml; put other configs in their own files",
                file, (int)second.Start.Line, (int)second.Start.Column);
        }

        return stream.Documents.Count == 0 ? null : Convert(stream.Documents[0].RootNode, file);
    }

    private static ConfigNode Convert(YamlNode node, string file)
    {
        var at = new SourceLocation(file, (int)node.Start.Line, (int)node.Start.Column);
        switch (node)
        {
            case YamlScalarNode s:
                return new ConfigScalar(s.Value ?? string.Empty, s.Style is ScalarStyle.Plain or ScalarStyle.Any, at);
            case YamlSequenceNode seq:
                return new ConfigSequence(seq.Children.Select(c => Convert(c, file)).ToList(), at);
            case YamlMappingNode map:
                var entries = new List<ConfigEntry>(map.Children.Count);
                foreach (KeyValuePair<YamlNode, YamlNode> kv in map.Children)
                {
                    if (kv.Key is not YamlScalarNode key)
                    {
                        throw new QuantBuildException(
                            ConfigErrorCodes.Syntax, "a mapping key must be a plain word, not a list or mapping",
                            "write the key as a plain word followed by ':'", file, (int)kv.Key.Start.Line, (int)kv.Key.Start.Column);
                    }

                    entries.Add(new ConfigEntry((ConfigScalar)Convert(key, file), Convert(kv.Value, file)));
                }

                return new ConfigMapping(entries, at);
            default:
                // Aliases are resolved by the representation model; anything else is a yaml feature we do not read.
                throw new QuantBuildException(
                    ConfigErrorCodes.Syntax, $"unsupported yaml node ({node.NodeType})",
                    "use plain mappings, lists and scalars", file, at.Line, at.Column);
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
