using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Passes;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.PassKit;

namespace MyPass;

/// <summary>
/// <c>my-pass</c>: symmetric int8 weights, one scale per output channel, each channel clipped at
/// <see cref="TemplateKernelOptions.ClipRatio"/> of its absolute maximum. PassKit finds the Conv, Gemm and MatMul
/// layers (weights as initializers or Constant nodes) and reads each weight as an [output channel, input] matrix. The
/// pass records scales and codes with <see cref="IPassContext.SetWeightEncoding"/>; QuantBuild's encoder writes them
/// verbatim and the gate checks the result.
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

        // The device's int8 range: 7 bits on reduce-range devices (x64 without VNNI).
        WeightGrid grid = WeightGrid.For(context.Device, 8);
        var index = new GraphIndex(context.Model);
        List<LinearLayer> layers = LinearLayer.FindAll(index, options.OpTypes);
        for (int i = 0; i < layers.Count; i++)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            context.SetWeightEncoding(layers[i].WeightName, Encode(layers[i], layers[i].ReadMatrix(index), grid, options.ClipRatio));
            context.Progress.Report(new StageProgress("weights", i + 1, layers.Count));
        }

        context.Log.Information($"coded {layers.Count} weights per channel at clip ratio {options.ClipRatio}");
    }

    /// <summary>Scales and codes for <paramref name="layer"/>, whose weight is <paramref name="matrix"/> as [Rows, Columns].</summary>
    public static WeightEncoding Encode(LinearLayer layer, float[] matrix, WeightGrid grid, double clipRatio)
    {
        int qMax = grid.SymmetricMax;
        var scales = new float[layer.Rows];
        var codes = new int[matrix.Length];
        for (int o = 0; o < layer.Rows; o++)
        {
            ReadOnlySpan<float> row = matrix.AsSpan(o * layer.Columns, layer.Columns);
            float absMax = 0;
            foreach (float w in row)
            {
                absMax = Math.Max(absMax, Math.Abs(w));
            }

            scales[o] = absMax > 0 ? (float)(absMax * clipRatio / qMax) : 1f;
            for (int j = 0; j < row.Length; j++)
            {
                // Codes go back in the weight's stored layout; symmetric, so ±qMax.
                codes[layer.Index(o, j)] = Math.Clamp(grid.Quantize(row[j], scales[o]), -qMax, qMax);
            }
        }

        return new WeightEncoding { Bits = 8, Type = ElementType.Int8, Axis = layer.OutputAxis, Scales = scales, Codes = codes };
    }
}
