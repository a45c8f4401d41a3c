using QuantBuild.Abstractions.Data;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Calibration;
using QuantBuild.Engine.Data;
using QuantBuild.Engine.Evaluation;
using QuantBuild.Engine.Quantization;
using QuantBuild.Runtime;

namespace QuantBuild.Engine.Pipeline;

/// <summary>
/// Measures each quantized layer's output against fp32's on the same few samples, by exposing the layers'
/// outputs of both models as extra outputs: the per-layer chart that says where accuracy goes.
/// </summary>
public static class LayerErrorProbe
{
    /// <summary>SQNR per layer over the first <paramref name="samples"/> samples of <paramref name="data"/>, worst first.</summary>
    public static IReadOnlyList<LayerError> Measure(OnnxModel fp32, OnnxModel quantized, IReadOnlyList<QuantizedLayer> layers,
        IDataSource data, int samples, SessionOptions? options)
    {
        if (layers.Count == 0)
        {
            return Array.Empty<LayerError>();
        }

        byte[] fp32Bytes = Calibrator.Augment(fp32, layers.Select(l => l.Fp32Tensor).ToList());
        byte[] quantBytes = Calibrator.Augment(quantized, layers.Select(l => l.QuantizedTensor).ToList());
        using var fp32Session = new InferenceSession(fp32Bytes, options);
        using var quantSession = new InferenceSession(quantBytes, options);
        // The encoder gives a Conv/Gemm followed by Relu the Relu's grid (ORT then fuses the Relu away), so that
        // layer's quantized output is already rectified: compare it with the rectified fp32 output.
        bool[] rectified = layers.Select(l => FeedsOnlyRelu(fp32.Graph, l.Fp32Tensor)).ToArray();
        var signal = new double[layers.Count];
        var noise = new double[layers.Count];
        var batcher = new Batcher(data, fp32, 16, samples);
        foreach (IReadOnlyDictionary<string, DenseTensor> batch in batcher.Batches())
        {
            var a = fp32Session.Run(batch, layers.Select(l => l.Fp32Tensor).ToList());
            var b = quantSession.Run(batch, layers.Select(l => l.QuantizedTensor).ToList());
            for (int i = 0; i < layers.Count; i++)
            {
                ReadOnlySpan<float> x = a[layers[i].Fp32Tensor].AsSpan<float>();
                ReadOnlySpan<float> y = b[layers[i].QuantizedTensor].AsSpan<float>();
                for (int j = 0; j < x.Length; j++)
                {
                    double reference = rectified[i] ? Math.Max(0, x[j]) : x[j];
                    double d = reference - y[j];
                    signal[i] += reference * reference;
                    noise[i] += d * d;
                }
            }
        }

        return layers
            .Select((l, i) => new LayerError(l.NodeName, l.OpType, SqnrMetric.Decibels(signal[i], noise[i])))
            .OrderBy(e => e.SqnrDb)
            .ThenBy(e => e.Node, StringComparer.Ordinal)
            .ToList();
    }

    private static bool FeedsOnlyRelu(Graph graph, string tensor)
    {
        bool any = false;
        foreach (Node node in graph.Nodes)
        {
            if (node.Inputs.Contains(tensor))
            {
                if (node.OpType != "Relu")
                {
                    return false;
                }

                any = true;
            }
        }

        return any && !graph.Outputs.Any(o => o.Name == tensor);
    }
}
