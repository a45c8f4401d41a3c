using QuantBuild.Abstractions.Data;
using QuantBuild.Abstractions.Evaluation;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Evaluation;
using QuantBuild.Engine.Quantization;
using QuantBuild.Engine.Sessions;
using QuantBuild.Onnx;
using QuantBuild.Runtime;

namespace QuantBuild.Engine.Analysis;

/// <summary>
/// Encodes and scores model variants against one fp32 baseline: the calibrated ranges are computed once and reused
/// by every trial, so a trial costs one encode and one evaluation pass.
/// </summary>
public sealed class TrialRunner
{
    private readonly GateScorer _scorer;

    /// <summary>Evaluates fp32 once on <paramref name="data"/> and keeps its outputs as the reference.</summary>
    public TrialRunner(OnnxModel fp32, IReadOnlyDictionary<string, TensorRange> ranges, IDataSource data, IDataSource? labels, IMetric metric,
        string output, int batchSize, SessionOptions session, GateConfig? gate)
    {
        Fp32 = fp32;
        Ranges = ranges;
        // The same scorer the run's Score stage and the fallback search use: a trial is measured as the gate measures it.
        _scorer = GateScorer.WithBaseline(fp32, data, labels, metric, output, batchSize, session, gate);
    }

    /// <summary>The fp32 model.</summary>
    public OnnxModel Fp32 { get; }

    /// <summary>The calibrated activation ranges trials draw from (a superset of every trial's plan).</summary>
    public IReadOnlyDictionary<string, TensorRange> Ranges { get; }

    /// <summary>The metric trials are scored with.</summary>
    public IMetric Metric => _scorer.Metric;

    /// <summary>fp32 on the trial data.</summary>
    public EvaluationResult Baseline => _scorer.Baseline;

    /// <summary>Samples each trial runs.</summary>
    public long Samples => Baseline.Samples;

    /// <summary>Trials run so far.</summary>
    public int Trials => _scorer.Scored;

    /// <summary>Encodes the fp32 model with <paramref name="options"/> and scores it.</summary>
    public (TrialResult Result, EncodeResult Encoded) Run(EncodeOptions options)
    {
        // Exactly the ranges `run` would calibrate for these options: a range on a tensor the plan does not ask for
        // changes what the encoder does, a missing one leaves a layer in float.
        var ranges = new Dictionary<string, TensorRange>(StringComparer.Ordinal);
        foreach (string tensor in QdqEncoder.Plan(Fp32, options))
        {
            if (Ranges.TryGetValue(tensor, out TensorRange? range))
            {
                ranges[tensor] = range;
            }
        }

        EncodeResult encoded = QdqEncoder.Encode(Fp32, ranges, options);
        return (Score(encoded.Model), encoded);
    }

    /// <summary>Scores <paramref name="model"/> against the fp32 outputs (its file-backed weights are referenced, not copied).</summary>
    public TrialResult Score(OnnxModel model)
    {
        ModelScore s = _scorer.Score(ModelSource.Model(model), model);
        return new TrialResult(s.Evaluation.Value, s.Verdict.Drop, s.Evaluation.Sqnr, s.Evaluation.Agreement, s.Passed, OnnxModelSaver.SerializedSize(model));
    }
}
