using QuantBuild.Abstractions.Data;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Calibration;
using QuantBuild.Engine.Data;
using QuantBuild.Engine.Evaluation;
using QuantBuild.Engine.Quantization;
using QuantBuild.Engine.Results;
using QuantBuild.Engine.Rewrites;
using QuantBuild.Engine.Sessions;
using QuantBuild.Runtime;

namespace QuantBuild.Engine.Pipeline;

/// <summary>
/// Measures each quantized layer's output against fp32's on the same few samples, by exposing the layers' outputs of
/// both models as extra outputs: the per-layer chart that says where accuracy goes. Layers are probed in
/// <see cref="CaptureGroups"/> sized from one sample, so no pass holds more than the budget allows however many
/// layers the model has; the SQNR of a layer is the same whichever group it lands in.
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
    /// <param name="budgetBytes">Memory the probe's activations may take: half of it for one pass's exposed layer outputs
    /// (which sets the batch size and the groups), a quarter for the fp32 outputs kept for the comparison (past it they
    /// move to disk).</param>
    public static IReadOnlyList<LayerError> Measure(OnnxModel fp32, OnnxModel quantized, IReadOnlyList<QuantizedLayer> layers,
        IDataSource data, int samples, SessionOptions? options, long budgetBytes = DefaultBudgetBytes)
    {
        if (layers.Count == 0)
        {
            return Array.Empty<LayerError>();
        }

        // The encoder gives a Conv/Gemm followed by Relu the Relu's grid (ORT then fuses the Relu away), so that
        // layer's quantized output is already rectified: compare it with the rectified fp32 output. Where no grid
        // follows (the Relu's output leaves a branch unquantized) the quantized output is rectified too: what the
        // Relu passes on is what the rest of the model sees.
        bool[] rectified = layers.Select(l => FeedsOnlyRelu(fp32.Graph, l.Fp32Tensor)).ToArray();
        var signal = new double[layers.Count];
        var noise = new double[layers.Count];
        var seen = new long[layers.Count];
        // A streamed state runs one window at a time, each model on its own state, as the gate measured them.
        bool streamed = StreamFeedback.For(data) is not null;
        var batcher = new Batcher(data, fp32, streamed ? 1 : MaxBatch, samples);
        bool fixedBatch = streamed || Calibrator.HasFixedBatch(fp32);
        CaptureGroups plan = PlanGroups(fp32, layers, data, options, budgetBytes, fixedBatch ? batcher.BatchSize : MaxBatch, !fixedBatch);
        ILookup<string, int> layersOf = layers.Select((l, i) => (l.Fp32Tensor, i)).ToLookup(p => p.Fp32Tensor, p => p.i, StringComparer.Ordinal);
        foreach (IReadOnlyList<string> group in plan.Groups)
        {
            int[] members = group.SelectMany(t => layersOf[t]).ToArray();
            MeasureGroup(fp32, quantized, layers, members, data, batcher.SampleCount, plan.BatchSize, options, budgetBytes / 4, rectified, signal, noise, seen);
        }

        return layers
            .Select((l, i) => new LayerError(l.NodeName, l.OpType, seen[i] == 0 ? null : SqnrMetric.Decibels(signal[i], noise[i])))
            .OrderBy(e => e.SqnrDb ?? double.PositiveInfinity)
            .ThenBy(e => e.SqnrDb is null)
            .ThenBy(e => e.Node, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>One sample through fp32 exposing every layer's output: their sizes plan the groups.</summary>
    private static CaptureGroups PlanGroups(OnnxModel fp32, IReadOnlyList<QuantizedLayer> layers, IDataSource data, SessionOptions? options,
        long budgetBytes, int batchSize, bool deriveBatch)
    {
        List<string> names = layers.Select(l => l.Fp32Tensor).Distinct(StringComparer.Ordinal).ToList();
        int rows = deriveBatch ? 1 : batchSize;
        List<(string, long)> sizes;
        using (var session = new ExposedSession(fp32, options, names))
        {
            IReadOnlyDictionary<string, DenseTensor> one = session.Run(data.Read(0, rows), names);
            sizes = names.Select(n => (n, (long)one[n].Data.Length / rows)).ToList();
        }

        Calibrator.ReleaseGarbage();
        return CaptureGroups.Plan(sizes, budgetBytes / 2, batchSize, deriveBatch);
    }

    /// <summary>
    /// Two phases, one session alive at a time: fp32's outputs of the group's layers are kept (spilling to disk past
    /// <paramref name="referenceBytes"/>), then the quantized model runs the same batches and is compared with them.
    /// </summary>
    private static void MeasureGroup(OnnxModel fp32, OnnxModel quantized, IReadOnlyList<QuantizedLayer> layers, int[] members, IDataSource data,
        long samples, int batchSize, SessionOptions? options, long referenceBytes, bool[] rectified, double[] signal, double[] noise, long[] seen)
    {
        // Layers can share a tensor (a node and the reshape after it): each distinct tensor is exposed and kept once.
        List<string> fp32Names = members.Select(i => layers[i].Fp32Tensor).Distinct(StringComparer.Ordinal).ToList();
        List<string> quantNames = members.Select(i => layers[i].QuantizedTensor).Distinct(StringComparer.Ordinal).ToList();
        int[] slotOf = members.Select(i => fp32Names.IndexOf(layers[i].Fp32Tensor)).ToArray();
        var reference = new ReferenceOutputs(referenceBytes);
        using (var fp32Session = new ExposedSession(fp32, options, fp32Names))
        {
            StreamFeedback? streams = StreamFeedback.For(data);
            for (long done = 0; done < samples; done += batchSize)
            {
                IReadOnlyDictionary<string, DenseTensor> rows = data.Read(done, (int)Math.Min(batchSize, samples - done));
                IReadOnlyDictionary<string, DenseTensor> a = streams is null ? fp32Session.Run(rows, fp32Names) : streams.Run(rows, fp32Names, fp32Session.Run);
                foreach (string name in fp32Names)
                {
                    reference.Add(a[name]);
                }

                // Past the reference budget the outputs went to disk and their arrays are garbage: collected now, as in
                // the quantized phase below (the recognizer's probe peaked at 2.07 GB with them left to the GC's budget).
                if (reference.BytesOnDisk > 0)
                {
                    a = null!;
                    GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: false);
                }
            }
        }

        Calibrator.ReleaseGarbage();
        using (var quantSession = new ExposedSession(quantized, options, quantNames))
        {
            StreamFeedback? streams = StreamFeedback.For(data);
            int batch = 0;
            for (long done = 0; done < samples; done += batchSize, batch++)
            {
                IReadOnlyDictionary<string, DenseTensor> rows = data.Read(done, (int)Math.Min(batchSize, samples - done));
                IReadOnlyDictionary<string, DenseTensor> b = streams is null ? quantSession.Run(rows, quantNames) : streams.Run(rows, quantNames, quantSession.Run);
                for (int m = 0; m < members.Length; m++)
                {
                    int i = members[m];
                    ReadOnlySpan<float> x = reference[batch * fp32Names.Count + slotOf[m]].AsSpan<float>();
                    ReadOnlySpan<float> y = b[layers[i].QuantizedTensor].AsSpan<float>();
                    seen[i] += x.Length;
                    for (int j = 0; j < x.Length; j++)
                    {
                        double r = rectified[i] ? Math.Max(0, x[j]) : x[j];
                        double d = r - (rectified[i] ? Math.Max(0, y[j]) : y[j]);
                        signal[i] += r * r;
                        noise[i] += d * d;
                    }
                }

                // This batch's outputs and the references read back for it are garbage: collected now, a batch's
                // worth is all that is ever resident, instead of whatever the GC's large-object budget lets pile up.
                // (No compaction: the freed space is what the next batch reuses.)
                b = null!;
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: false);
            }
        }

        Calibrator.ReleaseGarbage();
    }

    /// <summary>Samples per batch at most (the probe's old fixed batch).</summary>
    public const int MaxBatch = 16;

    /// <summary>The budget when the caller gives none.</summary>
    public const long DefaultBudgetBytes = 512L << 20;

    private static bool FeedsOnlyRelu(Graph graph, string tensor)
    {
        bool any = false;
        // A layer inside an If branch is read inside that branch (and the ones nested in it).
        foreach (Node node in GraphWalk.AllNodes(graph))
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
