using QuantBuild.Abstractions.Ir;

namespace QuantBuild.Engine.Quantization.Operators;

/// <summary>The registry's answers for the nodes of one graph: what the selector, planner and writer ask per node.</summary>
internal sealed class GraphOps
{
    private readonly OpQuantizerRegistry _registry;
    private readonly GraphIndex _index;

    public GraphOps(OpQuantizerRegistry registry, GraphIndex index)
    {
        _registry = registry;
        _index = index;
    }

    public OpQuantizer? Find(Node node) => _registry.Find(node);

    public OpRole RoleOf(Node node) => _registry.Find(node)?.RoleOf(node, _index) ?? OpRole.None;

    public IReadOnlyList<int> ActivationInputs(Node node) =>
        _registry.Find(node)?.ActivationInputs(node, _index) ?? Array.Empty<int>();

    public WeightInput? Weight(Node node) => _registry.Find(node)?.Weight(node, _index);

    public int DataOutputCount(Node node) => _registry.Find(node)?.DataOutputCount(node) ?? node.Outputs.Count;

    public bool FusesWithoutOutputQuantize(Node node) => _registry.Find(node)?.FusesWithoutOutputQuantize ?? false;

    public bool FoldsIntoProducer(Node node) => _registry.Find(node)?.FoldsIntoProducer ?? false;

    /// <summary>True when <paramref name="tensor"/> feeds <paramref name="node"/> at one of its activation inputs.</summary>
    public bool IsActivationInput(Node node, string tensor)
    {
        foreach (int position in ActivationInputs(node))
        {
            if (position < node.Inputs.Count && node.Inputs[position] == tensor)
            {
                return true;
            }
        }

        return false;
    }
}
