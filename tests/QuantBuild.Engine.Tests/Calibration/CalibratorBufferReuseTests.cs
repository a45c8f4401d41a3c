using QuantBuild.Abstractions.Data;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Calibration;
using QuantBuild.Engine.Data;
using QuantBuild.Engine.Sessions;
using QuantBuild.Engine.Tests.Quantization;
using QuantBuild.Runtime;

namespace QuantBuild.Engine.Tests.Calibration;

/// <summary>
/// The calibrator observes each batch's outputs in the memory ONNX Runtime wrote them into, on a worker, while ORT runs
/// the next batch (two batches in flight); with a memory budget, the probe's run is observed as batch 0. Against the
/// plain path, a fresh copy of every output of every batch observed in order on the calling thread, every statistic
/// must be identical, bit for bit: memory read after ORT reused it, a batch observed twice or skipped, or a short
/// last batch read wrongly would each change one.
/// </summary>
public sealed class CalibratorBufferReuseTests
{
    private static readonly string[] Tensors = ["x", "c1", "r1", "p1", "c2", "r2", "f", "logits"];
    private static readonly Dictionary<string, int> Channels = new() { ["c1"] = 1, ["r2"] = 1 };

    [Theory]
    [InlineData(8)]  // 45 = 5 × 8 + 5: four batches into reused buffers, both slots twice, then a short one
    [InlineData(13)] // 45 = 3 × 13 + 6
    [InlineData(44)] // one full batch (copied out) and a last batch of one sample
    public void Reused_buffers_give_the_ranges_of_fresh_copies_whatever_the_batch_size(int batchSize)
    {
        OnnxModel model = TestGraphs.SmallConvNet();
        using IDataSource data = new InMemoryDataSource("test",
            [("x", DenseTensor.FromFloats(TestGraphs.Normal(11, 45 * 3 * 16 * 16, 1.5f), 45, 3, 16, 16))]);

        CalibrationResult reused = Calibrator.Run(model, data, new CalibrationRequest { Tensors = Tensors, BatchSize = batchSize, ChannelAxes = Channels });
        Dictionary<string, TensorObserver> plain = PlainPath(model, data, batchSize);

        Assert.Equal(45, reused.Samples);
        foreach (string name in Tensors)
        {
            TensorObserver a = plain[name], b = reused.Observers[name];
            Assert.Equal(BitConverter.SingleToInt32Bits(a.Min), BitConverter.SingleToInt32Bits(b.Min));
            Assert.Equal(BitConverter.SingleToInt32Bits(a.Max), BitConverter.SingleToInt32Bits(b.Max));
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

        Assert.Equal(45L * 8 * 16 * 16, plain["c1"].Count);
        Assert.Equal(8, plain["c1"].ChannelAbsMax.Length);
    }

    [Theory]
    [InlineData(8, false)] // the probe runs batch 0 (8 rows), which the pass observes instead of running it again
    [InlineData(8, true)]  // the batch derived from the budget: the probe runs one sample and is not observed
    [InlineData(64, false)] // fewer samples than a batch: the probe's 45 rows are the only batch
    public void With_a_budget_the_probe_s_run_gives_the_ranges_of_fresh_copies(int batchSize, bool derive)
    {
        OnnxModel model = TestGraphs.SmallConvNet();
        using IDataSource data = new InMemoryDataSource("test",
            [("x", DenseTensor.FromFloats(TestGraphs.Normal(14, 45 * 3 * 16 * 16, 1.5f), 45, 3, 16, 16))]);
        var request = new CalibrationRequest
        {
            Tensors = Tensors, BatchSize = batchSize, ChannelAxes = Channels, ActivationBudgetBytes = 1L << 30, BatchSizeFromBudget = derive,
        };

        CalibrationResult budgeted = Calibrator.Run(model, data, request);
        Dictionary<string, TensorObserver> plain = PlainPath(model, data, budgeted.BatchSize);

        Assert.Equal(1, budgeted.Groups);
        Assert.Equal(batchSize, budgeted.BatchSize);
        foreach (string name in Tensors)
        {
            TensorObserver a = plain[name], b = budgeted.Observers[name];
            Assert.Equal(BitConverter.SingleToInt32Bits(a.Min), BitConverter.SingleToInt32Bits(b.Min));
            Assert.Equal(BitConverter.SingleToInt32Bits(a.Max), BitConverter.SingleToInt32Bits(b.Max));
            Assert.Equal(a.Count, b.Count);
            Assert.Equal(a.Histogram!.Counts.ToArray(), b.Histogram!.Counts.ToArray());
            Assert.Equal(a.ChannelAbsMax.ToArray(), b.ChannelAbsMax.ToArray());
        }

        Assert.Equal(45L * 8 * 16 * 16, budgeted.Observers["c1"].Count);
    }

    [Fact]
    public void A_relu_after_an_observed_tensor_gets_the_min_max_observing_it_gives_without_being_fetched()
    {
        OnnxModel model = TestGraphs.SmallConvNet();
        using IDataSource data = new InMemoryDataSource("test",
            [("x", DenseTensor.FromFloats(TestGraphs.Normal(12, 45 * 3 * 16 * 16, 1.5f), 45, 3, 16, 16))]);
        var request = new CalibrationRequest { Tensors = Tensors, BatchSize = 8, Bins = 0 };

        CalibrationResult derived = Calibrator.Run(model, data, request);
        Dictionary<string, TensorObserver> plain = PlainPath(model, data, 8);

        Assert.Equal(new Dictionary<string, string> { ["r1"] = "c1", ["r2"] = "c2" }, Calibrator.DerivableRelus(model, Tensors, new Dictionary<string, int>()));
        Assert.True(derived.Observers["c1"].Min < 0, "the Conv output reaches below zero, so the Relu's min is a clamp");
        foreach (string name in Tensors)
        {
            TensorObserver a = plain[name], b = derived.Observers[name];
            Assert.Equal(BitConverter.SingleToInt32Bits(a.Min), BitConverter.SingleToInt32Bits(b.Min));
            Assert.Equal(BitConverter.SingleToInt32Bits(a.Max), BitConverter.SingleToInt32Bits(b.Max));
            Assert.Equal(a.Count, b.Count);
        }

        Assert.Equal(1, derived.Groups);
    }

    [Fact]
    public void A_relu_whose_input_saw_non_finite_values_is_observed_after_all()
    {
        OnnxModel model = TestGraphs.SmallConvNet();
        float[] values = TestGraphs.Normal(13, 20 * 3 * 16 * 16, 1.5f);
        values[5 * 768 + 100] = float.PositiveInfinity; // sample 5: +inf through conv1 → ±inf / NaN in c1
        using IDataSource data = new InMemoryDataSource("test", [("x", DenseTensor.FromFloats(values, 20, 3, 16, 16))]);

        CalibrationResult derived = Calibrator.Run(model, data, new CalibrationRequest { Tensors = Tensors, BatchSize = 8, Bins = 0 });
        Dictionary<string, TensorObserver> plain = PlainPath(model, data, 8);

        Assert.True(plain["c1"].NonFinite > 0);
        Assert.Equal(2, derived.Groups); // one pass, then one for the Relus that could not be derived
        foreach (string name in Tensors)
        {
            TensorObserver a = plain[name], b = derived.Observers[name];
            Assert.Equal(BitConverter.SingleToInt32Bits(a.Min), BitConverter.SingleToInt32Bits(b.Min));
            Assert.Equal(BitConverter.SingleToInt32Bits(a.Max), BitConverter.SingleToInt32Bits(b.Max));
            Assert.Equal(a.Count, b.Count);
            Assert.Equal(a.NonFinite, b.NonFinite);
            Assert.Equal(a.NaNCount, b.NaNCount);
        }
    }

    // One session exposing the same outputs (so ORT fuses the same nodes), Run per batch, every output a new array.
    private static Dictionary<string, TensorObserver> PlainPath(OnnxModel model, IDataSource data, int batchSize)
    {
        string[] outputs = Tensors.Where(n => n != "x").ToArray();
        var observers = Tensors.ToDictionary(n => n, n => new TensorObserver(n, Channels.TryGetValue(n, out int axis) ? axis : null));
        using InferenceSession session = ModelSessions.Open(model, null, outputs);
        for (long done = 0; done < data.SampleCount;)
        {
            int rows = (int)Math.Min(batchSize, data.SampleCount - done);
            IReadOnlyDictionary<string, DenseTensor> batch = data.Read(done, rows);
            IReadOnlyDictionary<string, DenseTensor> values = session.Run(batch, outputs);
            foreach (string name in outputs)
            {
                observers[name].Observe(values[name].AsSpan<float>(), values[name].Shape);
            }

            observers["x"].Observe(batch["x"].AsSpan<float>(), batch["x"].Shape);
            done += rows;
        }

        return observers;
    }
}
