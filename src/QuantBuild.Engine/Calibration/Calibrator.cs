using System.Diagnostics;
using QuantBuild.Abstractions.Data;
using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Data;
using QuantBuild.Engine.Sessions;
using QuantBuild.Onnx;
using QuantBuild.Runtime;

namespace QuantBuild.Engine.Calibration;

/// <summary>
/// One streaming pass of the fp32 model over the calibration data in ONNX Runtime, with every tensor to observe
/// exposed as an extra graph output. Each batch's values are folded into fixed-size observers and dropped, so
/// memory does not grow with the number of samples.
/// </summary>
public static class Calibrator
{
    /// <summary>Runs <paramref name="model"/> over <paramref name="data"/> and observes the requested tensors.</summary>
    public static CalibrationResult Run(OnnxModel model, IDataSource data, CalibrationRequest request, SessionOptions? sessionOptions = null,
        IProgress<StageProgress>? progress = null, CancellationToken cancellation = default)
    {
        var total = Stopwatch.StartNew();
        var observers = new Dictionary<string, TensorObserver>(StringComparer.Ordinal);
        foreach (string name in request.Tensors.Distinct(StringComparer.Ordinal))
        {
            int? axis = request.ChannelAxes.TryGetValue(name, out int a) ? a : null;
            observers[name] = new TensorObserver(name, axis, request.Bins);
        }

        // Non-finite inputs are left to the observers, which report them as QB3005 with the tensor's name, the
        // same as NaN the model itself produces.
        var batcher = new Batcher(data, model, request.BatchSize, request.MaxSamples, requireFinite: false);
        var inputNames = new HashSet<string>(Batcher.ModelInputs(model).Select(i => i.Name), StringComparer.Ordinal);
        // Inputs are observed straight from the data; everything else must come out of the model.
        List<string> outputs = observers.Keys.Where(n => !inputNames.Contains(n)).ToList();
        using InferenceSession session = ModelSessions.Open(model, sessionOptions, outputs);
        var runtime = new Stopwatch();
        long done = 0;
        int batchSize = batcher.BatchSize;
        bool free = !HasFixedBatch(model);
        while (done < batcher.SampleCount)
        {
            cancellation.ThrowIfCancellationRequested();
            // With a memory budget, the first sample runs alone and its activations size the batches after it.
            int rows = (int)Math.Min(done == 0 && free && request.ActivationBudgetBytes is not null ? 1 : batchSize, batcher.SampleCount - done);
            IReadOnlyDictionary<string, DenseTensor> batch = data.Read(done, rows);
            runtime.Start();
            IReadOnlyDictionary<string, DenseTensor> results = outputs.Count == 0
                ? new Dictionary<string, DenseTensor>()
                : session.Run(batch, outputs);
            runtime.Stop();
            long batchBytes = 0;
            foreach ((string name, TensorObserver observer) in observers)
            {
                DenseTensor tensor = results.TryGetValue(name, out DenseTensor? t) ? t : batch[name];
                observer.Observe(tensor.AsSpan<float>(), tensor.Shape);
                batchBytes += tensor.Data.Length;
            }

            if (done == 0 && free && request.ActivationBudgetBytes is long budget)
            {
                batchSize = BatchFor(budget, batchBytes / Math.Max(1, rows), batchSize);
            }

            done += rows;
            progress?.Report(new StageProgress("calibrate", done, batcher.SampleCount));
        }

        return new CalibrationResult(observers, done, total.Elapsed, runtime.Elapsed, batchSize);
    }

    /// <summary>
    /// Samples per batch that keep one batch's observed activations, held twice (ONNX Runtime's buffers and the
    /// managed copies) plus headroom for the intermediates nobody observes, within <paramref name="budget"/>; never
    /// more than <paramref name="cap"/> (the configured batch size) nor less than one.
    /// </summary>
    public static int BatchFor(long budget, long bytesPerSample, int cap)
    {
        long perSample = Math.Max(1, bytesPerSample) * 3;
        return (int)Math.Clamp(budget / perSample, 1, Math.Max(1, cap));
    }

    /// <summary>True when an input fixes the batch dimension, so batches cannot be resized.</summary>
    internal static bool HasFixedBatch(OnnxModel model) => Batcher.ModelInputs(model)
        .Any(i => i.TensorType is { Shape: { Rank: > 0 } shape } && shape.Dims[0].Value is long b && b > 0);

    /// <summary>
    /// The model's bytes, every weight inline, with <paramref name="extraOutputs"/> added as float graph outputs; the
    /// model itself is not changed. For small models and tests: the engine opens sessions through
    /// <see cref="ModelSessions.Open"/>, which does not copy the weights.
    /// </summary>
    public static byte[] Augment(OnnxModel model, IReadOnlyList<string> extraOutputs) =>
        ModelSessions.WithOutputs(model, extraOutputs, OnnxModelSaver.SaveToBytes);
}
