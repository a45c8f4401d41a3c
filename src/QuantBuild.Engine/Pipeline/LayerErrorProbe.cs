using QuantBuild.Abstractions.Data;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Calibration;
using QuantBuild.Engine.Data;
using QuantBuild.Engine.Evaluation;
using QuantBuild.Engine.Quantization;
using QuantBuild.Engine.Results;
using QuantBuild.Engine.Sessions;
using QuantBuild.Runtime;

namespace QuantBuild.Engine.Pipeline;

/// <summary>
/// Measures each quantized layer's output against fp32's on the same few samples, by exposing the layers'
/// outputs of both models as extra outputs: the per-layer chart that says where accuracy goes.
/// </summary>
public static class LayerErrorProbe
{
    /// <summary>SQNR per layer over the first <paramref name="samples"/> samples of <paramref name="data"/>, worst first.</summary>
    /// <param name="fp32">The model the encoder read.</param>
    /// <param name="quantized">The encoded model.</param>
    /// <param name="layers">The quantized layers to compare.</param>
    /// <param name="data">The samples.</param>
    /// <param name="samples">How many samples, at most.</param>
    /// <param name="options">Session settings for both models.</param>
    /// <param name="budgetBytes">Memory the probe's activations may take: batches are sized from the first sample's layer outputs, and
    /// the fp32 outputs kept for the comparison move to disk past a quarter of it.</param>
    public static IReadOnlyList<LayerError> Measure(OnnxModel fp32, OnnxModel quantized, IReadOnlyList<QuantizedLayer> layers,
        IDataSource data, int samples, SessionOptions? options, long budgetBytes = DefaultBudgetBytes)
    {
        if (layers.Count == 0)
        {
            return Array.Empty<LayerError>();
        }

        // The encoder gives a Conv/Gemm followed by Relu the Relu's grid (ORT then fuses the Relu away), so that
        // layer's quantized output is already rectified: compare it with the rectified fp32 output.
        bool[] rectified = layers.Select(l => FeedsOnlyRelu(fp32.Graph, l.Fp32Tensor)).ToArray();
        var signal = new double[layers.Count];
        var noise = new double[layers.Count];
        var batcher = new Batcher(data, fp32, MaxBatch, samples);
        bool fixedBatch = Calibrator.HasFixedBatch(fp32);
        List<string> fp32Names = layers.Select(l => l.Fp32Tensor).ToList();
        List<string> quantNames = layers.Select(l => l.QuantizedTensor).ToList();

        // Two phases, one session alive at a time: fp32's layer outputs are kept (spilling to disk past an eighth of
        // the budget), then the quantized model runs the same batches and is compared with them.
        var reference = new ReferenceOutputs(budgetBytes / 8);
        var batches = new List<(long Start, int Rows)>();
        using (InferenceSession fp32Session = ModelSessions.Open(fp32, options, fp32Names))
        {
            int batchSize = fixedBatch ? batcher.BatchSize : 1;
            for (long done = 0; done < batcher.SampleCount;)
            {
                int rows = (int)Math.Min(batchSize, batcher.SampleCount - done);
                IReadOnlyDictionary<string, DenseTensor> a = fp32Session.Run(data.Read(done, rows), fp32Names);
                if (done == 0 && !fixedBatch)
                {
                    // The first sample ran alone: its outputs size every later batch.
                    // A batch's exposed outputs exist several times over at once (ORT's buffers that cannot be reused
                    // while every layer is an output, the managed copies, the comparison): measured at about 7× on
                    // the OCR recognizer, so a batch gets a sixteenth of the budget.
                    batchSize = Calibrator.BatchFor(budgetBytes / 16, a.Values.Sum(t => (long)t.Data.Length), MaxBatch);
                }

                foreach (string name in fp32Names)
                {
                    reference.Add(a[name]);
                }

                batches.Add((done, rows));
                done += rows;
            }
        }

        OrtMemory.ReleaseFreed();
        using (InferenceSession quantSession = ModelSessions.Open(quantized, options, quantNames))
        {
            for (int batch = 0; batch < batches.Count; batch++)
            {
                IReadOnlyDictionary<string, DenseTensor> b = quantSession.Run(data.Read(batches[batch].Start, batches[batch].Rows), quantNames);
                for (int i = 0; i < layers.Count; i++)
                {
                    ReadOnlySpan<float> x = reference[batch * layers.Count + i].AsSpan<float>();
                    ReadOnlySpan<float> y = b[layers[i].QuantizedTensor].AsSpan<float>();
                    for (int j = 0; j < x.Length; j++)
                    {
                        double r = rectified[i] ? Math.Max(0, x[j]) : x[j];
                        double d = r - y[j];
                        signal[i] += r * r;
                        noise[i] += d * d;
                    }
                }
            }
        }

        return layers
            .Select((l, i) => new LayerError(l.NodeName, l.OpType, SqnrMetric.Decibels(signal[i], noise[i])))
            .OrderBy(e => e.SqnrDb)
            .ThenBy(e => e.Node, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Samples per batch at most (the probe's old fixed batch).</summary>
    public const int MaxBatch = 16;

    /// <summary>The budget when the caller gives none.</summary>
    public const long DefaultBudgetBytes = 512L << 20;

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
