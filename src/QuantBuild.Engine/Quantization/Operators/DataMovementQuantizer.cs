using QuantBuild.Abstractions.Ir;

namespace QuantBuild.Engine.Quantization.Operators;

/// <summary>
/// Ops that only move, select or replicate values. Their output reuses the input's scale and zero point, because
/// ONNX Runtime drops the surrounding DequantizeLinear/QuantizeLinear pair only when the two match; they then run
/// directly on 8-bit data.
/// </summary>
internal sealed class DataMovementQuantizer : OpQuantizer
{
    public override IReadOnlyList<string> OpTypes { get; } = new[]
    {
        "Reshape", "Transpose", "Flatten", "Squeeze", "Unsqueeze", "Slice", "Gather", "GatherElements", "Expand", "Tile",
        "Split", "MaxPool", "Resize", "ReduceMax", "ReduceMin", "Identity",
    };

    public override string Becomes => "the same op on 8-bit data (Q/DQ pair dropped)";

    public override OpRole RoleOf(Node node, GraphIndex index) => OpRole.ScaleInheriting;

    public override int DataOutputCount(Node node) => node.OpType is "MaxPool" ? 1 : node.Outputs.Count;

    public override string? Refusal(Node node, GraphIndex index) =>
        node.OpType is "Resize" && node.FindAttribute("mode")?.String is { } raw
        && System.Text.Encoding.UTF8.GetString(raw) is var mode && mode is not ("nearest" or "linear")
            ? $"Resize mode '{mode}' overshoots its input range, so it cannot reuse the input's scale"
            : null;
}
