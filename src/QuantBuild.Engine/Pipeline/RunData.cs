using QuantBuild.Abstractions.Data;
using QuantBuild.Abstractions.Evaluation;

namespace QuantBuild.Engine.Pipeline;

/// <summary>The data every target reads, opened once per run and matched to the model's inputs.</summary>
/// <param name="Calibration">Calibration samples.</param>
/// <param name="Evaluation">The gate's samples, or null without an evaluation section.</param>
/// <param name="Labels">Their labels, or null.</param>
/// <param name="Metric">The gate's metric, or null.</param>
/// <param name="ScoredOutput">The output the metric scores, or null.</param>
internal sealed record RunData(IDataSource Calibration, IDataSource? Evaluation, IDataSource? Labels, IMetric? Metric, string? ScoredOutput) : IDisposable
{
    public void Dispose()
    {
        Calibration.Dispose();
        Evaluation?.Dispose();
        Labels?.Dispose();
    }
}
