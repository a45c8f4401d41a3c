using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Quantization;

namespace QuantBuild.Engine.Rewrites;

/// <summary>
/// What an op conversion may look at and add while one graph (main or subgraph) is converted from opset
/// <see cref="From"/> to <see cref="To"/>: value types and ranks, constants, which values are read, new names, and
/// new initializers that land in the same graph as the node (so a converted subgraph stays self-contained).
/// </summary>
internal sealed class ConversionScope
{
    private readonly NameTable _names;
    private readonly HashSet<string> _read;

    public ConversionScope(long from, long to, ValueFacts facts, GraphConstants constants, HashSet<string> read, NameTable names)
    {
        From = from;
        To = to;
        Facts = facts;
        Constants = constants;
        _read = read;
        _names = names;
    }

    public long From { get; }

    public long To { get; }

    public ValueFacts Facts { get; }

    public GraphConstants Constants { get; }

    /// <summary>Initializers the conversions of this graph added.</summary>
    public List<TensorValue> AddedInitializers { get; } = new();

    /// <summary>True when the op's meaning changed at <paramref name="version"/> and the upgrade passes over it.</summary>
    public bool Crosses(long version) => From < version && version <= To;

    public bool IsRead(string value) => value.Length > 0 && _read.Contains(value);

    public string NewName(string wanted) => _names.Take(wanted);

    /// <summary>Adds <paramref name="value"/> as an initializer named after <paramref name="wanted"/>; returns its name.</summary>
    public string AddConstant(string wanted, TensorValue value)
    {
        string name = _names.Take(wanted);
        value.Name = name;
        AddedInitializers.Add(value);
        return name;
    }

    public string AddInt64s(string wanted, IReadOnlyList<long> values) =>
        AddConstant(wanted, GraphConstants.Int64s(string.Empty, values.ToArray(), values.Count));

    /// <summary>A new node whose name and single output derive from <paramref name="hint"/>.</summary>
    public Node NewNode(string op, string hint, IEnumerable<string> inputs, string? output = null, params NodeAttribute[] attributes)
    {
        var node = new Node { OpType = op, Name = _names.Take(hint) };
        node.Inputs.AddRange(inputs);
        node.Outputs.Add(output ?? _names.Take(hint + "_out"));
        node.Attributes.AddRange(attributes);
        return node;
    }

    public ElementType TypeOf(string value) => Facts.TypeOf(value) is var t && t != ElementType.Undefined ? t : ElementType.Float;

    /// <summary>Sets input <paramref name="position"/>, padding skipped optional inputs with empty names.</summary>
    public static void SetInput(Node node, int position, string value)
    {
        while (node.Inputs.Count <= position)
        {
            node.Inputs.Add(string.Empty);
        }

        node.Inputs.Replace(position, value);
    }

    public static string Hint(Node node) => !string.IsNullOrEmpty(node.Name) ? node.Name : node.OpType + "_" + (node.Outputs.Count > 0 ? node.Outputs[0] : "node");
}
