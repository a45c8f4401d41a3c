using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Passes;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.PassKit;

namespace PercentileClipPlugin;

/// <summary>
/// <c>percentile-clip</c>: symmetric int8 weights with one scale per output channel (per tensor where the device has
/// no per-channel weights), each channel clipped at the ratio of its absolute maximum that minimises the weights'
/// squared reconstruction error. Outliers then cost one clipped weight instead of a coarser grid for all the others.
/// PassKit finds the layers (weights stored as initializers or as Constant nodes) and reads each weight as an
/// [output channel, input] matrix, whatever the op's layout.
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
        int qMax = WeightGrid.For(context.Device, 8).SymmetricMax;
        var index = new GraphIndex(context.Model);
        List<LinearLayer> layers = LinearLayer.FindAll(index, options.OpTypes);
        int done = 0;
        foreach (LinearLayer layer in layers)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            if (!context.WeightEncodings.ContainsKey(layer.WeightName))
            {
                context.SetWeightEncoding(layer.WeightName, Encode(layer, layer.ReadMatrix(index), perChannel, qMax, options));
                done++;
            }

            context.Progress.Report(new StageProgress("weights", done, layers.Count));
        }

        context.Log.Information($"clipped {done} weights per {(perChannel ? "channel" : "tensor")}");
    }

    private WeightEncoding Encode(LinearLayer layer, float[] matrix, bool perChannel, int qMax, PercentileClipOptions options)
    {
        // One row of the matrix is one output channel; per tensor, the whole matrix is one "channel".
        int channels = perChannel ? layer.Rows : 1;
        int length = matrix.Length / channels;
        var scales = new float[channels];
        var rowCodes = new int[matrix.Length];
        for (int c = 0; c < channels; c++)
        {
            (scales[c], _) = ClipSearch.Best(matrix.AsSpan(c * length, length), qMax, options.MinRatio, options.Steps, rowCodes.AsSpan(c * length, length));
        }

        // Codes go back in the weight's stored layout.
        var codes = new int[matrix.Length];
        for (int o = 0; o < layer.Rows; o++)
        {
            for (int j = 0; j < layer.Columns; j++)
            {
                codes[layer.Index(o, j)] = rowCodes[o * layer.Columns + j];
            }
        }

        return new WeightEncoding
        {
            Bits = 8,
            Type = ElementType.Int8,
            Axis = perChannel ? layer.OutputAxis : null,
            Scales = scales,
            Codes = codes,
            Origin = Name,
        };
    }
}
