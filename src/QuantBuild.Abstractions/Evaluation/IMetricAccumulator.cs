namespace QuantBuild.Abstractions.Evaluation;

/// <summary>The running tally of one metric over one model's outputs.</summary>
public interface IMetricAccumulator
{
    /// <summary>Adds one batch.</summary>
    void Add(MetricBatch batch);

    /// <summary>The metric over every batch added so far.</summary>
    double Result();
}
