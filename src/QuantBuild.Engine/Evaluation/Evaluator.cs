using System.Diagnostics;
using QuantBuild.Abstractions.Data;
using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Evaluation;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Data;
using QuantBuild.Engine.Sessions;
using QuantBuild.Runtime;

namespace QuantBuild.Engine.Evaluation;

/// <summary>
/// Runs a model's exact bytes over the evaluation data and scores one output, batch by batch. The fp32 model is
/// evaluated once per run with its outputs kept; each quantized model is then compared with those outputs, so
/// label-free metrics and the agreement/SQNR columns of the report cost no second fp32 pass.
/// </summary>
public static class Evaluator
{
    /// <summary>Scores serialized bytes (small models; tests): see the <see cref="ModelSource"/> overload.</summary>
    public static EvaluationResult Run(byte[] modelBytes, OnnxModel model, IDataSource inputs, IDataSource? labels, IMetric metric,
        string outputName, int batchSize, IReadOnlyList<DenseTensor>? reference, bool keepOutputs, SessionOptions? sessionOptions = null,
        IProgress<StageProgress>? progress = null, CancellationToken cancellation = default) =>
        Run(ModelSource.Bytes(modelBytes), model, inputs, labels, metric, outputName, batchSize, reference, keepOutputs, sessionOptions, progress, cancellation);

    /// <summary>Scores <paramref name="source"/> (whose graph is <paramref name="model"/>) on <paramref name="inputs"/>.</summary>
    /// <param name="source">The model: for the gate, the file exactly as shipped.</param>
    /// <param name="model">The same model as IR, for input shapes and names.</param>
    /// <param name="inputs">Evaluation inputs.</param>
    /// <param name="labels">Labels for label metrics, else null.</param>
    /// <param name="metric">The gate's metric.</param>
    /// <param name="outputName">The scored output.</param>
    /// <param name="batchSize">Samples per batch when the model's batch dimension is free.</param>
    /// <param name="reference">The fp32 outputs per batch, or null when this is the fp32 run.</param>
    /// <param name="keepOutputs">Keep the scored outputs (for the fp32 run).</param>
    /// <param name="sessionOptions">ONNX Runtime settings: the device profile's deploy settings.</param>
    /// <param name="progress">Progress per batch.</param>
    /// <param name="cancellation">Stops between batches.</param>
    public static EvaluationResult Run(ModelSource source, OnnxModel model, IDataSource inputs, IDataSource? labels, IMetric metric,
        string outputName, int batchSize, IReadOnlyList<DenseTensor>? reference, bool keepOutputs, SessionOptions? sessionOptions = null,
        IProgress<StageProgress>? progress = null, CancellationToken cancellation = default)
    {
        var clock = Stopwatch.StartNew();
        var batcher = new Batcher(inputs, model, batchSize);
        using InferenceSession session = source.Open(sessionOptions);
        IMetricAccumulator score = metric.Start();
        IMetricAccumulator agreement = new AgreementMetric().Start();
        IMetricAccumulator sqnr = new SqnrMetric().Start();
        var kept = keepOutputs ? new ReferenceOutputs() : null;
        IReadOnlyList<string> outputs = new[] { outputName };
        // A streamed input: this model's own state, window after window (the fp32 reference and each candidate apart).
        StreamFeedback? streams = StreamFeedback.For(inputs);
        if (streams is not null && batcher.BatchSize != 1)
        {
            throw new QuantBuildException("QB1306", $"Evaluation streams a recurrent input window after window, so it runs one window per batch, not {batcher.BatchSize}.",
                "write 'batch_size: 1' under 'evaluation'");
        }

        long done = 0;
        int index = 0;
        foreach (IReadOnlyDictionary<string, DenseTensor> batch in batcher.Batches())
        {
            cancellation.ThrowIfCancellationRequested();
            // An fp16/bf16 model's scores are read as float32: the metric and the gate compare the model's own values.
            IReadOnlyDictionary<string, DenseTensor> results = streams is null ? session.Run(batch, outputs) : streams.Run(batch, outputs, session.Run);
            DenseTensor output = HalfPrecision.ToFloat(results[outputName]);
            if (output.ElementType != ElementType.Float)
            {
                throw new QuantBuildException("QB4002", $"Output '{outputName}' is {ElementTypeInfo.OnnxName(output.ElementType)}; metrics read float scores.",
                    "set evaluation.output to a float output of the model (logits or probabilities)");
            }

            if (reference is null && Batcher.FirstNonFinite(output) is not null)
            {
                // A baseline of NaN scores makes every comparison vacuous (NaN evaluation data once passed the gate).
                throw new QuantBuildException("QB4005", $"The fp32 model's output '{outputName}' holds NaN or infinity on evaluation samples {done}..{done + output.Shape[0]}, so there is no baseline to compare with.",
                    "check the evaluation data's preprocessing (it must match what the model was trained on) and that the fp32 model runs correctly on it");
            }

            int rows = (int)batch.Values.First().Shape[0];
            DenseTensor? labelBatch = labels?.Read(done, rows)["labels"];
            DenseTensor ownReference = reference is null ? output : reference[index];
            score.Add(new MetricBatch(output, metric.NeedsReference ? ownReference : null, metric.NeedsLabels ? labelBatch : null));
            agreement.Add(new MetricBatch(output, ownReference, null));
            sqnr.Add(new MetricBatch(output, ownReference, null));
            kept?.Add(output);
            done += rows;
            index++;
            progress?.Report(new StageProgress("evaluate", done, batcher.SampleCount));
        }

        return new EvaluationResult(score.Result(), agreement.Result(), sqnr.Result(), done, clock.Elapsed, kept);
    }
}
