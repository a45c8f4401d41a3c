using System.Numerics.Tensors;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Calibration;
using QuantBuild.Engine.Data;
using QuantBuild.Engine.Tests.Data;
using QuantBuild.Onnx;
using QuantBuild.Runtime;

namespace QuantBuild.Engine.Tests.Calibration;

public class CalibratorTests
{
    private const string FirstRelu = "/features/features.2/Relu_output_0";

    [Fact]
    public void Observed_ranges_equal_a_direct_computation_whatever_the_batch_size()
    {
        OnnxModel model = DataSourceTests.SampleModel();
        using var data = NpyDataSource.Single("input", TestFiles.Sample("calibration.npy"));
        string[] tensors = { "input", FirstRelu, "logits" };

        CalibrationResult small = Calibrator.Run(model, data, new CalibrationRequest { Tensors = tensors, BatchSize = 7 });
        CalibrationResult large = Calibrator.Run(model, data, new CalibrationRequest { Tensors = tensors, BatchSize = 256 });

        // Independent reference: run the whole set through ORT at once with the tensors as outputs.
        using var session = new InferenceSession(Calibrator.Augment(model, new[] { FirstRelu, "logits" }));
        DenseTensor all = NpyReader.Read(TestFiles.Sample("calibration.npy"));
        var outputs = session.Run(new Dictionary<string, DenseTensor> { ["input"] = all }, new[] { FirstRelu, "logits" });
        var expected = new Dictionary<string, DenseTensor> { ["input"] = all, [FirstRelu] = outputs[FirstRelu], ["logits"] = outputs["logits"] };

        foreach (string name in tensors)
        {
            ReadOnlySpan<float> values = expected[name].AsSpan<float>();
            foreach (CalibrationResult result in new[] { small, large })
            {
                TensorObserver o = result.Observers[name];
                Assert.Equal(TensorPrimitives.Min(values), o.Min, 4);
                Assert.Equal(TensorPrimitives.Max(values), o.Max, 4);
                Assert.Equal(values.Length, o.Count);
                Assert.Equal(values.Length, o.RequireHistogram("the test").Total);
            }
        }

        Assert.Equal(256, small.Samples);
        Assert.Equal(0f, small.Observers[FirstRelu].Min); // a Relu output never goes below zero
    }

    /// <summary>
    /// A histogram past its threshold samples its batches; min/max and counts stay exact, the same run gives the same
    /// counts, and <c>histogram: exact</c> (<see cref="CalibrationRequest.HistogramValues"/>) counts every value.
    /// </summary>
    [Fact]
    public void Histograms_past_their_threshold_are_sampled_the_same_way_every_run_and_exact_ones_count_everything()
    {
        OnnxModel model = DataSourceTests.SampleModel();
        using var data = NpyDataSource.Single("input", TestFiles.Sample("calibration.npy"));
        string[] tensors = { "input", FirstRelu };
        CalibrationRequest Request(long exactValues) => new() { Tensors = tensors, BatchSize = 32, ExactHistogramValues = exactValues };

        CalibrationResult exact = Calibrator.Run(model, data, Request(CalibrationRequest.HistogramValues(exact: true)));
        CalibrationResult sampled = Calibrator.Run(model, data, Request(200_000));
        CalibrationResult again = Calibrator.Run(model, data, Request(200_000));

        TensorObserver e = exact.Observers[FirstRelu], s = sampled.Observers[FirstRelu];
        Assert.Equal(long.MaxValue, CalibrationRequest.HistogramValues(exact: true));
        Assert.Equal(StreamingHistogram.DefaultExactValues, CalibrationRequest.HistogramValues(exact: false));
        Assert.Equal(e.Count, e.Histogram!.Total);
        Assert.Equal(1, e.Histogram.Weight);
        // 256 samples of 12,544 values: sampled from 400,000 on, 1 block in 8 by the last batch (2.8 M before it).
        Assert.Equal(256 * 12_544, e.Count);
        Assert.Equal(8, s.Histogram!.Weight);
        Assert.Equal((e.Min, e.Max, e.Count), (s.Min, s.Max, s.Count));
        Assert.NotEqual(e.Histogram.Counts.ToArray(), s.Histogram.Counts.ToArray());
        Assert.InRange(s.Histogram.Total, 0.9 * e.Count, 1.1 * e.Count);
        Assert.Equal(s.Histogram.Counts.ToArray(), again.Observers[FirstRelu].Histogram!.Counts.ToArray());
        // The input's 200,704 values stay under twice the threshold: counted one by one, as with exact.
        Assert.Equal(exact.Observers["input"].Histogram!.Counts.ToArray(), sampled.Observers["input"].Histogram!.Counts.ToArray());
    }

    [Fact]
    public void Without_bins_calibration_keeps_the_same_min_max_and_no_histogram()
    {
        OnnxModel model = DataSourceTests.SampleModel();
        using var data = NpyDataSource.Single("input", TestFiles.Sample("calibration.npy"));
        string[] tensors = { "input", FirstRelu, "logits" };

        CalibrationResult full = Calibrator.Run(model, data, new CalibrationRequest { Tensors = tensors, BatchSize = 32 });
        CalibrationResult bare = Calibrator.Run(model, data, new CalibrationRequest { Tensors = tensors, BatchSize = 32, Bins = 0 });

        foreach (string name in tensors)
        {
            TensorObserver withBins = full.Observers[name], without = bare.Observers[name];
            Assert.Equal(withBins.Min, without.Min);
            Assert.Equal(withBins.Max, without.Max);
            Assert.Equal(withBins.Count, without.Count);
            Assert.NotNull(withBins.Histogram);
            Assert.Null(without.Histogram);
            Assert.Equal(RangeSelector.Select(withBins, RangeMethod.MinMax), RangeSelector.Select(without, RangeMethod.MinMax));
            var error = Assert.Throws<InvalidOperationException>(() => RangeSelector.Select(without, RangeMethod.Percentile));
            Assert.Contains($"'{name}' was calibrated without a histogram, which the percentile method needs", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Per_channel_abs_max_of_an_activation_matches_the_full_tensor()
    {
        OnnxModel model = DataSourceTests.SampleModel();
        using var data = NpyDataSource.Single("input", TestFiles.Sample("calibration.npy"));
        CalibrationResult result = Calibrator.Run(model, data, new CalibrationRequest
        {
            Tensors = new[] { FirstRelu },
            ChannelAxes = new Dictionary<string, int> { [FirstRelu] = 1 },
            BatchSize = 50,
            MaxSamples = 100,
        });

        using var session = new InferenceSession(Calibrator.Augment(model, new[] { FirstRelu }));
        DenseTensor input = TensorRows.Slice(NpyReader.Read(TestFiles.Sample("calibration.npy")), 0, 100);
        DenseTensor relu = session.Run(new Dictionary<string, DenseTensor> { ["input"] = input }, new[] { FirstRelu })[FirstRelu];
        int channels = (int)relu.Shape[1];
        int plane = (int)(relu.Shape[2] * relu.Shape[3]);
        var expected = new float[channels];
        ReadOnlySpan<float> v = relu.AsSpan<float>();
        for (int i = 0; i < v.Length; i++)
        {
            int c = i / plane % channels;
            expected[c] = Math.Max(expected[c], Math.Abs(v[i]));
        }

        Assert.Equal(100, result.Samples);
        Assert.Equal(expected, result.Observers[FirstRelu].ChannelAbsMax.ToArray());
    }

    [Fact]
    public void Calibration_never_changes_the_model_it_augments()
    {
        OnnxModel model = DataSourceTests.SampleModel();
        byte[] before = OnnxModelSaver.SaveToBytes(model);
        using var data = NpyDataSource.Single("input", TestFiles.Sample("calibration.npy"));
        Calibrator.Run(model, data, new CalibrationRequest { Tensors = new[] { FirstRelu }, MaxSamples = 8 });
        Assert.Equal(before, OnnxModelSaver.SaveToBytes(model));
    }
}
