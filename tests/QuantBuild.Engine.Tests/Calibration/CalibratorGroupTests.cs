using QuantBuild.Abstractions.Data;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Calibration;
using QuantBuild.Engine.Data;
using QuantBuild.Engine.Tests.Quantization;

namespace QuantBuild.Engine.Tests.Calibration;

/// <summary>
/// Calibration in capture groups (several passes over the same batches, each exposing some of the tensors) against one
/// pass exposing all of them: every statistic, and so every range, must be identical, bit for bit.
/// </summary>
public sealed class CalibratorGroupTests
{
    // Conv outputs and the Relus after them in different groups: ORT fuses Conv+Relu in a pass that does not expose
    // the Conv's output, and the values must still be the same.
    private static readonly string[] Tensors = ["x", "c1", "r1", "p1", "c2", "r2", "f", "logits"];

    private static IDataSource Data(int samples) =>
        new InMemoryDataSource("test", [("x", DenseTensor.FromFloats(TestGraphs.Normal(7, samples * 3 * 16 * 16, 1.5f), samples, 3, 16, 16))]);

    [Fact]
    public void Groups_observe_exactly_what_one_pass_observes()
    {
        OnnxModel model = TestGraphs.SmallConvNet();
        using IDataSource data = Data(45);
        var request = new CalibrationRequest
        {
            Tensors = Tensors,
            BatchSize = 8,
            ChannelAxes = new Dictionary<string, int> { ["c1"] = 1, ["r2"] = 1 },
        };

        CalibrationResult one = Calibrator.Run(model, data, request);
        // A few bytes per pass: every tensor gets a pass of its own, at the batch size given.
        CalibrationResult grouped = Calibrator.Run(model, data, request with { ActivationBudgetBytes = 3, BatchSizeFromBudget = false });

        Assert.Equal(1, one.Groups);
        Assert.Equal(Tensors.Length - 1, grouped.Groups);
        Assert.Equal(8, grouped.BatchSize);
        Assert.Equal(one.Samples, grouped.Samples);
        foreach (string name in Tensors)
        {
            TensorObserver a = one.Observers[name], b = grouped.Observers[name];
            Assert.Equal(a.Min, b.Min);
            Assert.Equal(a.Max, b.Max);
            Assert.Equal(a.Count, b.Count);
            Assert.Equal(a.Histogram!.Start, b.Histogram!.Start);
            Assert.Equal(a.Histogram.BinWidth, b.Histogram.BinWidth);
            Assert.Equal(a.Histogram.Counts.ToArray(), b.Histogram.Counts.ToArray());
            Assert.Equal(a.ChannelAbsMax.ToArray(), b.ChannelAbsMax.ToArray());
            foreach (RangeMethod method in Enum.GetValues<RangeMethod>())
            {
                Assert.Equal(RangeSelector.Select(a, method), RangeSelector.Select(b, method));
            }
        }

        Assert.Equal(16, one.Observers["c1"].ChannelAbsMax.Length * 2);
    }

    [Fact]
    public void The_same_request_twice_gives_the_same_histograms_whatever_the_worker_thread_does()
    {
        OnnxModel model = TestGraphs.SmallConvNet();
        using IDataSource data = Data(64);
        var request = new CalibrationRequest { Tensors = Tensors, BatchSize = 4, ActivationBudgetBytes = 64 << 10 };

        CalibrationResult first = Calibrator.Run(model, data, request);
        CalibrationResult second = Calibrator.Run(model, data, request);

        Assert.True(first.Groups > 1, $"{first.Groups} groups");
        foreach (string name in Tensors)
        {
            Assert.Equal(first.Observers[name].Histogram!.Counts.ToArray(), second.Observers[name].Histogram!.Counts.ToArray());
            Assert.Equal(first.Observers[name].Max, second.Observers[name].Max);
        }
    }

    [Fact]
    public void Only_the_data_inputs_observed_need_no_session_and_are_observed_once()
    {
        OnnxModel model = TestGraphs.SmallConvNet();
        using IDataSource data = Data(20);

        CalibrationResult result = Calibrator.Run(model, data, new CalibrationRequest { Tensors = ["x"], BatchSize = 8, ActivationBudgetBytes = 3 });

        Assert.Equal(20L * 3 * 16 * 16, result.Observers["x"].Count);
    }
}
