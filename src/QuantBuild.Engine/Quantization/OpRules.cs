using QuantBuild.Abstractions.Ir;

namespace QuantBuild.Engine.Quantization;

/// <summary>The per-op table: which role an op plays and which of its inputs carry quantizable data.</summary>
internal static class OpRules
{
    private static readonly Dictionary<string, OpRole> Roles = new(StringComparer.Ordinal)
    {
        ["Conv"] = OpRole.Linear,
        ["Gemm"] = OpRole.Linear,
        ["MatMul"] = OpRole.Linear,
        ["Relu"] = OpRole.Requantizing,
        ["Clip"] = OpRole.Requantizing,
        ["LeakyRelu"] = OpRole.Requantizing,
        ["Sigmoid"] = OpRole.Requantizing,
        ["AveragePool"] = OpRole.Requantizing,
        ["GlobalAveragePool"] = OpRole.Requantizing,
        ["Add"] = OpRole.Requantizing,
        ["Mul"] = OpRole.Requantizing,
        ["Concat"] = OpRole.Requantizing,
        ["Resize"] = OpRole.Requantizing,
        ["Pad"] = OpRole.Requantizing,
        ["MaxPool"] = OpRole.ScaleInheriting,
        ["Reshape"] = OpRole.ScaleInheriting,
        ["Transpose"] = OpRole.ScaleInheriting,
        ["Flatten"] = OpRole.ScaleInheriting,
        ["Squeeze"] = OpRole.ScaleInheriting,
        ["Unsqueeze"] = OpRole.ScaleInheriting,
        ["Slice"] = OpRole.ScaleInheriting,
        ["Gather"] = OpRole.ScaleInheriting,
        ["Split"] = OpRole.ScaleInheriting,
    };

    public static OpRole RoleOf(Node node) =>
        node.IsDefaultDomain && Roles.TryGetValue(node.OpType, out OpRole role) ? role : OpRole.None;

    /// <summary>Positions of the inputs that are quantized as activations (weights and bias of linear ops excluded).</summary>
    public static IReadOnlyList<int> DataInputs(Node node)
    {
        switch (node.OpType)
        {
            case "Add" or "Mul":
                return new[] { 0, 1 };
            case "Concat":
            {
                var all = new int[node.Inputs.Count];
                for (int i = 0; i < all.Length; i++)
                {
                    all[i] = i;
                }

                return all;
            }

            default:
                return new[] { 0 };
        }
    }

    /// <summary>Outputs that carry data (MaxPool's optional second output holds int64 indices).</summary>
    public static int DataOutputCount(Node node) => node.OpType is "MaxPool" ? 1 : node.Outputs.Count;

    /// <summary>Position of the weight input of a linear op and the axis holding its output channels.</summary>
    public static (int Input, int Axis) WeightAxis(Node node) => node.OpType switch
    {
        "Conv" => (1, 0),
        "Gemm" => (1, node.FindAttribute("transB")?.Int == 1 ? 0 : 1),
        _ => (1, 1),
    };
}
