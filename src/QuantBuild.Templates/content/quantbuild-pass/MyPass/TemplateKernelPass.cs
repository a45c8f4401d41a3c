using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Passes;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Abstractions.Tensors;

namespace MyPass;

/// <summary>
/// <c>my-pass</c>: symmetric int8 weights, one scale per output channel, each channel clipped at
/// <see cref="TemplateKernelOptions.ClipRatio"/> of its absolute maximum. It records scales and codes with
/// <see cref="IPassContext.SetWeightEncoding"/>; QuantBuild's encoder writes them verbatim and the gate checks the result.
/// </summary>
public sealed class TemplateKernelPass : QuantizationPass<TemplateKernelOptions>
{
    /// <inheritdoc />
    public override string Name => "my-pass";

    /// <inheritdoc />
    public override IReadOnlyCollection<string> SupportedOps => ["Conv", "Gemm", "MatMul"];

    /// <inheritdoc />
    public override void Run(IPassContext context, TemplateKernelOptions options)
    {
        if (context.Weights.Bits != 8 || !context.Device.Kernels.PerChannelWeights)
        {
            context.Log.Warning($"the target asks for {context.Weights.Bits}-bit weights on {context.Device.Name}; this pass writes per-channel int8 only, so it leaves them to the host");
            return;
        }

        int qMax = context.Device.Kernels.ReduceRange ? 63 : 127;
        var initializers = context.Model.Graph.Initializers.Where(t => t.Name is not null).ToDictionary(t => t.Name!, StringComparer.Ordinal);
        var ops = new HashSet<string>(options.OpTypes, StringComparer.Ordinal);
        List<Node> nodes = context.Model.Graph.Nodes.Where(n => ops.Contains(n.OpType) && n.Inputs.Count > 1).ToList();
        int coded = 0;
        for (int i = 0; i < nodes.Count; i++)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            Node node = nodes[i];
            if (initializers.TryGetValue(node.Inputs[1], out TensorValue? weight) && weight.ElementType == ElementType.Float && weight.Dims.Length >= 2)
            {
                context.SetWeightEncoding(node.Inputs[1], Encode(weight, OutputAxis(node, weight.Dims.Length), qMax, options.ClipRatio));
                coded++;
            }

            context.Progress.Report(new StageProgress("weights", i + 1, nodes.Count));
        }

        context.Log.Information($"coded {coded} weights per channel at clip ratio {options.ClipRatio}");
    }

    /// <summary>Scales and codes for <paramref name="weight"/> with one scale per index along <paramref name="axis"/>.</summary>
    public static WeightEncoding Encode(TensorValue weight, int axis, int qMax, double clipRatio)
    {
        ReadOnlySpan<float> w = weight.AsReadOnlySpan<float>();
        long[] dims = weight.Dims;
        int channels = (int)dims[axis];
        long inner = 1;
        for (int d = axis + 1; d < dims.Length; d++)
        {
            inner *= dims[d];
        }

        // element i belongs to channel (i / inner) % channels
        var scales = new float[channels];
        for (int i = 0; i < w.Length; i++)
        {
            int c = (int)(i / inner % channels);
            scales[c] = Math.Max(scales[c], Math.Abs(w[i]));
        }

        for (int c = 0; c < channels; c++)
        {
            scales[c] = scales[c] > 0 ? (float)(scales[c] * clipRatio / qMax) : 1f;
        }

        var codes = new int[w.Length];
        for (int i = 0; i < w.Length; i++)
        {
            float s = scales[(int)(i / inner % channels)];
            codes[i] = (int)Math.Clamp(Math.Round(w[i] / s, MidpointRounding.ToEven), -qMax, qMax);
        }

        return new WeightEncoding { Bits = 8, Type = ElementType.Int8, Axis = axis, Scales = scales, Codes = codes };
    }

    private static int OutputAxis(Node node, int rank) => node.OpType switch
    {
        "Conv" => 0,
        "Gemm" => node.FindAttribute("transB")?.Int == 1 ? 0 : 1,
        _ => rank - 1,
    };
}
