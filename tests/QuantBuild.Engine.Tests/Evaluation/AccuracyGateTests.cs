using QuantBuild.Engine.Config;
using QuantBuild.Engine.Evaluation;

namespace QuantBuild.Engine.Tests.Evaluation;

public class AccuracyGateTests
{
    [Fact]
    public void Gate_fails_when_top1_drops_more_than_max_drop_and_says_both_numbers()
    {
        GateVerdict v = AccuracyGate.Evaluate(new TopKMetric(1), 91.9, 91.2, new GateConfig { MaxDrop = 0.5 });
        Assert.False(v.Passed);
        Assert.Contains("91.90 %", v.Message);
        Assert.Contains("91.20 %", v.Message);
        Assert.Contains("max_drop 0.50", v.Message);
        Assert.Equal(0.7, v.Drop, 9);
    }

    [Fact]
    public void Gate_passes_a_drop_exactly_at_max_drop()
    {
        Assert.True(AccuracyGate.Evaluate(new TopKMetric(1), 91.9, 91.4, new GateConfig { MaxDrop = 0.5 }).Passed);
    }

    [Fact]
    public void Relative_max_drop_is_a_percent_of_the_fp32_value()
    {
        var gate = new GateConfig { MaxDrop = 1, MaxDropIsRelative = true };
        Assert.True(AccuracyGate.Evaluate(new TopKMetric(1), 80, 79.3, gate).Passed);   // 0.7 ≤ 0.8
        Assert.False(AccuracyGate.Evaluate(new TopKMetric(1), 80, 79.1, gate).Passed);  // 0.9 > 0.8
    }

    [Fact]
    public void Min_is_a_floor_for_accuracy_and_a_ceiling_for_errors()
    {
        Assert.False(AccuracyGate.Evaluate(new TopKMetric(1), 91, 84, new GateConfig { Min = 85 }).Passed);
        Assert.True(AccuracyGate.Evaluate(new TopKMetric(1), 91, 86, new GateConfig { Min = 85 }).Passed);
        Assert.False(AccuracyGate.Evaluate(new MaxAbsErrorMetric(), 0, 0.3, new GateConfig { Min = 0.1 }).Passed);
        Assert.True(AccuracyGate.Evaluate(new MaxAbsErrorMetric(), 0, 0.05, new GateConfig { Min = 0.1 }).Passed);
    }

    [Fact]
    public void Against_an_infinite_ideal_only_the_absolute_bound_applies()
    {
        // SQNR of fp32 against itself is +inf: a max_drop cannot apply, the floor does.
        var gate = new GateConfig { MaxDrop = 1, Min = 30 };
        Assert.True(AccuracyGate.Evaluate(new SqnrMetric(), double.PositiveInfinity, 35, gate).Passed);
        Assert.False(AccuracyGate.Evaluate(new SqnrMetric(), double.PositiveInfinity, 25, gate).Passed);
    }

    [Fact]
    public void A_NaN_result_never_passes()
    {
        Assert.False(AccuracyGate.Evaluate(new TopKMetric(1), 91, double.NaN, null).Passed);
    }

    [Fact]
    public void A_max_drop_only_gate_against_an_infinite_fp32_fails_instead_of_passing_anything()
    {
        GateVerdict v = AccuracyGate.Evaluate(new SqnrMetric(), double.PositiveInfinity, 5.8, new GateConfig { MaxDrop = 3 });

        Assert.False(v.Passed);
        Assert.Contains("use min instead", v.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_degenerate_fp32_baseline_fails_the_gate()
    {
        // 0 % on the labels (labels or preprocessing do not match), and NaN scores: no model can be judged against them.
        Assert.False(AccuracyGate.Evaluate(new TopKMetric(1), 0, 0, new GateConfig { MaxDrop = 1 }).Passed);
        Assert.False(AccuracyGate.Evaluate(new TopKMetric(1), 0, 10, null).Passed);
        Assert.False(AccuracyGate.Evaluate(new CosineMetric(), double.NaN, 1, new GateConfig { MaxDrop = 0.01 }).Passed);
    }
}
