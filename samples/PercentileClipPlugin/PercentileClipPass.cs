using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Passes;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Abstractions.Tensors;

namespace PercentileClipPlugin;

/// <summary>
/// <c>percentile-clip</c>: symmetric int8 weights with one scale per output channel (per tensor where the device has
/// no per-channel weights), each channel clipped at the ratio of its absolute maximum that minimises the weights'
/// squared reconstruction error. Outliers then cost one clipped weight instead of a coarser grid for all the others.
/// </summary>
public sealed class PercentileClipPass : QuantizationPass<PercentileClipOptions>
{
    /// <inheritdoc />
    public override string Name => "percentile-clip";

    /// <inheritdoc />
    public override IReadOnlyCollection<string> SupportedOps => ["Conv", "Gemm", "MatMul"];

    /// <inheritdoc />
    public override void Run(IPassContext context, PercentileClipOptions options)
    {
        if (context.Weights.Bits != 8)
        {
            context.Log.Warning($"the target asks for {context.Weights.Bits}-bit weights; this pass only writes int8, so it leaves them to the host");
            return;
        }

        bool perChannel = context.Device.Kernels.PerChannelWeights && context.Weights.PerChannel;
        int qMax = context.Device.Kernels.ReduceRange ? 63 : 127;
        var initializers = context.Model.Graph.Initializers.Where(t => t.Name is not null).ToDictionary(t => t.Name!, StringComparer.Ordinal);
        var ops = new HashSet<string>(options.OpTypes, StringComparer.Ordinal);
        List<Node> nodes = context.Model.Graph.Nodes.Where(n => ops.Contains(n.OpType) && n.Inputs.Count > 1).ToList();
        int done = 0;
        foreach (Node node in nodes)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            if (initializers.TryGetValue(node.Inputs[1], out TensorValue? weight) && weight.ElementType == ElementType.Float
                && !context.WeightEncodings.ContainsKey(node.Inputs[1]))
            {
                int axis = OutputAxis(node, weight.Dims.Length);
                context.SetWeightEncoding(node.Inputs[1], Encode(weight, perChannel ? axis : null, qMax, options));
            }

            context.Progress.Report(new QuantBuild.Abstractions.Diagnostics.StageProgress("weights", ++done, nodes.Count));
        }

        context.Log.Information($"clipped {done} weights per {(perChannel ? "channel" : "tensor")}");
    }

    private WeightEncoding Encode(TensorValue weight, int? axis, int qMax, PercentileClipOptions options)
    {
        ReadOnlySpan<float> w = weight.AsReadOnlySpan<float>();
        long[] dims = weight.Dims;
        int channels = axis is int a ? (int)dims[a] : 1;
        long inner = 1;
        for (int d = (axis ?? -1) + 1; d < dims.Length; d++)
        {
            inner *= dims[d];
        }

        long outer = w.Length / (channels * inner);
        var scales = new float[channels];
        var codes = new int[w.Length];
        var gathered = new float[outer * inner];
        var channelCodes = new int[gathered.Length];
        for (int c = 0; c < channels; c++)
        {
            // A channel is every element whose index along the axis is c: outer blocks of `inner` values.
            for (long o = 0; o < outer; o++)
            {
                w.Slice((int)((o * channels + c) * inner), (int)inner).CopyTo(gathered.AsSpan((int)(o * inner)));
            }

            (scales[c], _) = ClipSearch.Best(gathered, qMax, options.MinRatio, options.Steps, channelCodes);
            for (long o = 0; o < outer; o++)
            {
                channelCodes.AsSpan((int)(o * inner), (int)inner).CopyTo(codes.AsSpan((int)((o * channels + c) * inner)));
            }
        }

        return new WeightEncoding
        {
            Bits = 8,
            Type = ElementType.Int8,
            Axis = axis,
            Scales = scales,
            Codes = codes,
            Origin = Name,
        };
    }

    private static int OutputAxis(Node node, int rank) => node.OpType switch
    {
        "Conv" => 0,
        "Gemm" => node.FindAttribute("transB")?.Int == 1 ? 0 : 1,
        _ => rank - 1,
    };
}
