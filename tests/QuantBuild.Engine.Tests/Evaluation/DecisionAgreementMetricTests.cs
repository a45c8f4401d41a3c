using QuantBuild.Abstractions.Evaluation;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Evaluation;

namespace QuantBuild.Engine.Tests.Evaluation;

/// <summary>Decision agreement on outputs shaped like Silero VAD's speech probability [n, 1].</summary>
public class DecisionAgreementMetricTests
{
    [Fact]
    public void A_window_counts_when_both_probabilities_fall_on_the_same_side_of_one_half()
    {
        // fp32 says speech, no, speech, no, no (NaN is never speech); int8 keeps windows 0 and 3.
        var fp32 = DenseTensor.FromFloats([0.9f, 0.49f, 0.51f, 0.1f, float.NaN], 5, 1);
        var int8 = DenseTensor.FromFloats([0.8f, 0.51f, 0.5f, 0.2f, 0.7f], 5, 1);
        IMetricAccumulator tally = new DecisionAgreementMetric().Start();
        tally.Add(new MetricBatch(int8, fp32, null));
        Assert.Equal(40.0, tally.Result(), 9);
    }

    [Fact]
    public void Batches_accumulate_by_decision_and_fp32_agrees_with_itself_fully()
    {
        var a = DenseTensor.FromFloats([0.2f, 0.7f], 2, 1);
        var b = DenseTensor.FromFloats([0.6f, 0.6f, 0.6f], 3, 1);
        IMetricAccumulator tally = new DecisionAgreementMetric().Start();
        tally.Add(new MetricBatch(a, a, null));
        tally.Add(new MetricBatch(b, DenseTensor.FromFloats([0.4f, 0.4f, 0.4f], 3, 1), null));
        Assert.Equal(40.0, tally.Result(), 9);
        Assert.Equal(100.0, new DecisionAgreementMetric().IdealValue);
    }
}
