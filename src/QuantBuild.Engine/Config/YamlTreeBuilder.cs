using QuantBuild.Abstractions.Diagnostics;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace QuantBuild.Engine.Config;

/// <summary>
/// Builds one <see cref="ConfigNode"/> tree from a yaml event stream with an explicit stack, so no input can
/// drive a recursion, and with every limit of <see cref="YamlConfigReader"/> checked as each event arrives.
/// An alias shares its anchor's node (the tree is immutable) but counts its full size against
/// <see cref="YamlConfigReader.MaxNodes"/>, which is what any later walk of the tree will visit.
/// </summary>
internal sealed class YamlTreeBuilder(string file)
{
    private readonly Dictionary<string, (ConfigNode Node, long Size)> _anchors = new(StringComparer.Ordinal);
    private readonly Stack<Frame> _open = new();
    private long _expanded;
    private ConfigNode? _root;

    public ConfigNode? Build(IParser parser)
    {
        int documents = 0;
        while (parser.MoveNext())
        {
            switch (parser.Current)
            {
                case DocumentStart start:
                    if (++documents > 1)
                    {
                        throw Error(ConfigErrorCodes.Syntax, "the file holds more than one yaml document ('---')",
                            "keep one document per quantize.yaml; put other configs in their own files", start.Start);
                    }

                    break;
                case Scalar scalar:
                    Add(new ConfigScalar(scalar.Value, scalar.Style is ScalarStyle.Plain or ScalarStyle.Any, At(scalar.Start)), 1, scalar.Anchor);
                    break;
                case SequenceStart seq:
                    Open(new Frame(false, At(seq.Start), seq.Anchor), seq.Start);
                    break;
                case MappingStart map:
                    Open(new Frame(true, At(map.Start), map.Anchor), map.Start);
                    break;
                case SequenceEnd or MappingEnd:
                    Frame done = _open.Pop();
                    Add(done.ToNode(), done.Size + 1, done.Anchor);
                    break;
                case AnchorAlias alias:
                    // An anchor is registered when its node is complete, so '&r [*r]' (an alias inside its own
                    // anchor) finds nothing here instead of building a cycle.
                    if (!_anchors.TryGetValue(alias.Value.Value, out (ConfigNode Node, long Size) target))
                    {
                        throw Error(ConfigErrorCodes.Syntax, $"alias '*{alias.Value}' refers to no complete anchor '&{alias.Value}' before it",
                            "define the anchor before using it, and never inside itself; or write the value out", alias.Start);
                    }

                    Add(target.Node, target.Size, AnchorName.Empty);
                    break;
            }
        }

        return _root;
    }

    private void Open(Frame frame, Mark at)
    {
        if (_open.Count >= YamlConfigReader.MaxDepth)
        {
            throw Error(ConfigErrorCodes.TooLarge, $"lists and mappings nest more than {YamlConfigReader.MaxDepth} levels deep here",
                "flatten the yaml; quantize.yaml needs only a few levels", at);
        }

        _open.Push(frame);
    }

    private void Add(ConfigNode node, long size, AnchorName anchor)
    {
        _expanded += size;
        if (_expanded > YamlConfigReader.MaxNodes)
        {
            throw Error(ConfigErrorCodes.TooLarge,
                $"the document expands to more than {YamlConfigReader.MaxNodes} values (aliases count once per use)",
                "remove the repeated aliases ('*name'); quantize.yaml needs a few hundred values at most", node.Location);
        }

        if (!anchor.IsEmpty)
        {
            _anchors[anchor.Value] = (node, size);
        }

        if (_open.Count == 0)
        {
            _root ??= node;
            return;
        }

        _open.Peek().Add(node, size, this);
    }

    private QuantBuildException Error(string code, string message, string fix, Mark at) =>
        new(code, message, fix, file, (int)at.Line, (int)at.Column);

    private QuantBuildException Error(string code, string message, string fix, SourceLocation at) =>
        new(code, message, fix, file, at.Line, at.Column);

    private SourceLocation At(Mark mark) => new(file, (int)mark.Line, (int)mark.Column);

    /// <summary>A list or mapping still open: its items so far, and for a mapping the key waiting for its value.</summary>
    private sealed class Frame(bool isMapping, SourceLocation at, AnchorName anchor)
    {
        private readonly List<ConfigNode> _items = new();
        private readonly List<ConfigEntry> _entries = new();
        private readonly HashSet<string> _keys = new(StringComparer.Ordinal);
        private ConfigScalar? _key;

        public AnchorName Anchor => anchor;

        public long Size { get; private set; }

        public void Add(ConfigNode node, long size, YamlTreeBuilder owner)
        {
            Size += size;
            if (!isMapping)
            {
                _items.Add(node);
                return;
            }

            if (_key is null)
            {
                if (node is not ConfigScalar key)
                {
                    throw owner.Error(ConfigErrorCodes.Syntax, "a mapping key must be a plain word, not a list or mapping",
                        "write the key as a plain word followed by ':'", node.Location);
                }

                if (!_keys.Add(key.Value))
                {
                    throw owner.Error(ConfigErrorCodes.Syntax, $"duplicate key '{key.Value}' in this mapping",
                        "keep one of the two entries; yaml does not merge repeated keys", key.Location);
                }

                _key = key;
                return;
            }

            _entries.Add(new ConfigEntry(_key, node));
            _key = null;
        }

        public ConfigNode ToNode() => isMapping ? new ConfigMapping(_entries, at) : new ConfigSequence(_items, at);
    }
}
