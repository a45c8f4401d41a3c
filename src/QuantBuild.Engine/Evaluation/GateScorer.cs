using QuantBuild.Abstractions.Data;
using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Evaluation;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Sessions;
using QuantBuild.Runtime;

namespace QuantBuild.Engine.Evaluation;

/// <summary>
/// Scores models against one fp32 baseline with one gate: the run's Score stage, the fallback search's trials and
/// analyze's trials all go through this object, so each measures a model exactly the way the gate that ships it does.
/// Safe to share between threads (each call opens its own session).
/// </summary>
public sealed class GateScorer
{
    private readonly IDataSource _data;
    private readonly IDataSource? _labels;
    private readonly string _output;
    private readonly int _batchSize;
    private readonly SessionOptions _session;
    private readonly GateConfig? _gate;
    private readonly IProgress<StageProgress>? _progress;
    private readonly CancellationToken _cancellation;
    private int _scored;

    /// <summary>A scorer against a baseline already evaluated (with its outputs kept).</summary>
    /// <param name="data">The gate's samples.</param>
    /// <param name="labels">Their labels for label metrics, else null.</param>
    /// <param name="metric">The gate's metric.</param>
    /// <param name="output">The scored output.</param>
    /// <param name="batchSize">Samples per batch.</param>
    /// <param name="baseline">fp32 on <paramref name="data"/>, outputs kept.</param>
    /// <param name="session">ONNX Runtime settings the device deploys with.</param>
    /// <param name="gate">The gate, or null for none (every model passes).</param>
    /// <param name="progress">Progress per batch.</param>
    /// <param name="cancellation">Stops between batches.</param>
    public GateScorer(IDataSource data, IDataSource? labels, IMetric metric, string output, int batchSize, EvaluationResult baseline,
        SessionOptions session, GateConfig? gate, IProgress<StageProgress>? progress = null, CancellationToken cancellation = default)
    {
        if (baseline.Outputs is null)
        {
            throw new ArgumentException("The baseline must keep its outputs: every score compares with them.", nameof(baseline));
        }

        _data = data;
        _labels = labels;
        Metric = metric;
        _output = output;
        _batchSize = batchSize;
        Baseline = baseline;
        _session = session;
        _gate = gate;
        _progress = progress;
        _cancellation = cancellation;
    }

    /// <summary>Evaluates <paramref name="fp32"/> once on <paramref name="data"/> with <paramref name="session"/> and scores against it.</summary>
    public static GateScorer WithBaseline(OnnxModel fp32, IDataSource data, IDataSource? labels, IMetric metric, string output, int batchSize,
        SessionOptions session, GateConfig? gate)
    {
        EvaluationResult baseline = Evaluator.Run(ModelSource.Model(fp32), fp32, data, labels, metric, output, batchSize, null, keepOutputs: true, session);
        return new GateScorer(data, labels, metric, output, batchSize, baseline, session, gate);
    }

    /// <summary>The metric models are scored with.</summary>
    public IMetric Metric { get; }

    /// <summary>fp32 on the scorer's data.</summary>
    public EvaluationResult Baseline { get; }

    /// <summary>Models scored so far.</summary>
    public int Scored => Volatile.Read(ref _scored);

    /// <summary>Scores <paramref name="source"/> (whose graph is <paramref name="model"/>) and applies the gate.</summary>
    public ModelScore Score(ModelSource source, OnnxModel model)
    {
        Interlocked.Increment(ref _scored);
        EvaluationResult scored = Evaluator.Run(source, model, _data, _labels, Metric, _output, _batchSize, Baseline.Outputs, keepOutputs: false,
            _session, _progress, _cancellation);
        return new ModelScore(scored, AccuracyGate.Evaluate(Metric, Baseline.Value, scored.Value, _gate));
    }
}
