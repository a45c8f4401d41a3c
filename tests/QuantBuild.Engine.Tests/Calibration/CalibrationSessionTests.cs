using System.Runtime.Intrinsics.X86;
using QuantBuild.Abstractions.Data;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Calibration;
using QuantBuild.Engine.Data;
using QuantBuild.Engine.Tests.Quantization;

namespace QuantBuild.Engine.Tests.Calibration;

/// <summary>
/// Tensors ONNX Runtime computes in its blocked channel layout (NCHWc, on x64 with AVX2 or AVX-512) are taken in that
/// layout instead of being reordered to NCHW for being graph outputs. The same values in another order: every
/// per-tensor statistic must be what the plain session gives, bit for bit, and a block ORT padded must not be read.
/// </summary>
public sealed class CalibrationSessionTests
{
    // c2 and r2 have 16 channels (taken); c1, r1 and p1 have 8, which AVX-512's blocks of 16 pad (not taken).
    private static readonly string[] Tensors = ["x", "c1", "r1", "p1", "c2", "r2", "f", "logits"];

    [Theory]
    [InlineData(2048, null)]
    [InlineData(0, null)]
    [InlineData(2048, 1L << 30)] // with a budget: the probe's run is observed as batch 0
    public void Tensors_taken_in_the_blocked_layout_give_the_statistics_of_the_plain_session_bit_for_bit(int bins, long? budget)
    {
        OnnxModel model = TestGraphs.SmallConvNet();
        using IDataSource data = new InMemoryDataSource("test",
            [("x", DenseTensor.FromFloats(TestGraphs.Normal(21, 45 * 3 * 16 * 16, 1.5f), 45, 3, 16, 16))]);
        var request = new CalibrationRequest { Tensors = Tensors, BatchSize = 8, Bins = bins, ActivationBudgetBytes = budget, BatchSizeFromBudget = false,
            BlockedLayoutMinimumValues = 0 };

        CalibrationResult blocked = Calibrator.Run(model, data, request);
        CalibrationResult plain = Calibrator.Run(model, data, request with { BlockedLayout = false });

        Assert.Equal(0, plain.BlockedLayoutTensors);
        // ORT lays out Conv networks in blocks only where MLAS has NCHWc kernels (AVX2 and up).
        Assert.True(!Avx2.IsSupported || blocked.BlockedLayoutTensors > 0, $"{blocked.BlockedLayoutTensors} tensors taken in the blocked layout");
        AssertSame(plain, blocked);
    }

    [Fact]
    public void A_calibration_too_small_to_pay_for_a_second_session_stays_on_the_plain_one()
    {
        OnnxModel model = TestGraphs.SmallConvNet();
        using IDataSource data = new InMemoryDataSource("test",
            [("x", DenseTensor.FromFloats(TestGraphs.Normal(23, 24 * 3 * 16 * 16, 1.5f), 24, 3, 16, 16))]);
        var request = new CalibrationRequest { Tensors = Tensors, BatchSize = 8, Bins = 0 };

        // 24 samples expose a few thousand values each, far below the default minimum: no second session.
        CalibrationResult small = Calibrator.Run(model, data, request);
        CalibrationResult forced = Calibrator.Run(model, data, request with { BlockedLayoutMinimumValues = 1 });

        Assert.Equal(0, small.BlockedLayoutTensors);
        Assert.True(!Avx2.IsSupported || forced.BlockedLayoutTensors > 0, $"{forced.BlockedLayoutTensors} tensors taken in the blocked layout");
        AssertSame(small, forced);
    }

    /// <summary>
    /// A session told to write its optimized graph takes 1.5–2 times as long to open, so the graph is written only when
    /// the first batch shows the calibration's values pay for the switch, not for every calibration of a Conv model.
    /// </summary>
    [Fact]
    public void The_optimized_graph_is_written_only_when_the_first_batch_shows_the_switch_pays()
    {
        OnnxModel model = TestGraphs.SmallConvNet();
        string[] outputs = ["c2", "r2"];
        var anyOrder = new HashSet<string>(outputs, StringComparer.Ordinal);
        var batch = new Dictionary<string, DenseTensor>(StringComparer.Ordinal)
        {
            ["x"] = DenseTensor.FromFloats(TestGraphs.Normal(24, 8 * 3 * 16 * 16, 1.5f), 8, 3, 16, 16),
        };

        using CalibrationSession small = CalibrationSession.Open(model, new QuantBuild.Runtime.SessionOptions(), outputs, anyOrder, samples: 24);
        using CalibrationSession forced = CalibrationSession.Open(model, new QuantBuild.Runtime.SessionOptions(), outputs, anyOrder, samples: 24, minimumValues: 1);
        foreach (CalibrationSession session in new[] { small, forced })
        {
            Assert.False(session.WroteOptimizedGraph); // nothing written before the first batch is seen
            session.RunOwned(batch, outputs).Dispose();
            session.RunOwned(batch, outputs).Dispose();
        }

        Assert.False(small.WroteOptimizedGraph);
        Assert.Equal(0, small.BlockedCount);
        Assert.True(forced.WroteOptimizedGraph);
        Assert.True(!Avx2.IsSupported || forced.BlockedCount > 0, $"{forced.BlockedCount} tensors taken in the blocked layout");
    }

    [Fact]
    public void A_block_ORT_padded_is_found_on_the_first_batch_and_calibration_runs_again_on_the_plain_session()
    {
        OnnxModel model = TestGraphs.SmallConvNet();
        using IDataSource data = new InMemoryDataSource("test",
            [("x", DenseTensor.FromFloats(TestGraphs.Normal(22, 20 * 3 * 16 * 16, 1.5f), 20, 3, 16, 16))]);
        // Any channel count taken: c1's 8 channels fill half a block of 16 under AVX-512.
        var request = new CalibrationRequest { Tensors = Tensors, BatchSize = 8, BlockedChannelMultiple = 1, BlockedLayoutMinimumValues = 0 };

        CalibrationResult any = Calibrator.Run(model, data, request);
        CalibrationResult plain = Calibrator.Run(model, data, request with { BlockedLayout = false });

        AssertSame(plain, any);
        if (Avx512F.IsSupported)
        {
            Assert.Equal(0, any.BlockedLayoutTensors); // the padded block was seen, and everything ran again plainly
        }
        else
        {
            Assert.True(!Avx2.IsSupported || any.BlockedLayoutTensors > 0, "blocks of 8 hold 8 channels without padding");
        }
    }

    [Fact]
    public void Only_reorders_of_tensors_taken_in_any_order_with_whole_blocks_are_taken_off()
    {
        Graph g = TestGraphs.NewModel().Graph;
        g.Inputs.Add(TestGraphs.Value("x", ElementType.Float, "n", 32, 8, 8));
        foreach (string name in new[] { "a", "b", "c", "d", "e", "f", "raw_f", "y" })
        {
            g.Outputs.Add(TestGraphs.Value(name, ElementType.Float));
        }

        g.AddNode("ReorderInput", "in", ["x"], ["xb"]);
        void Reorder(string output, long channels, long channelsLast = 0)
        {
            g.AddNode("Conv", "conv_" + output, ["xb"], ["raw_" + output]);
            g.AddNode("ReorderOutput", "to_" + output, ["raw_" + output], [output],
                NodeAttribute.FromInt("channels", channels), NodeAttribute.FromInt("channels_last", channelsLast));
        }

        Reorder("a", 32);
        Reorder("b", 24); // a block of 16 would pad it
        Reorder("c", 32, channelsLast: 1);
        Reorder("d", 16);
        Reorder("e", 32); // not observed in any order (per-channel)
        Reorder("f", 64); // its blocked tensor is a graph output already
        g.AddNode("Flatten", "flatten", ["d"], ["y"]);
        foreach (Node n in g.Nodes.Where(n => n.OpType != "Flatten"))
        {
            n.Domain = CalibrationSession.NchwcDomain;
        }

        Dictionary<string, (string Fetch, long Channels)> taken = CalibrationSession.Unreorder(g, new HashSet<string>(["a", "b", "c", "d", "f"]));

        Assert.Equal(["a", "d"], taken.Keys.Order());
        Assert.Equal(("raw_a", 32L), taken["a"]);
        Assert.Equal(("raw_d", 16L), taken["d"]);
        Assert.DoesNotContain(g.Nodes, n => n.Name == "to_a"); // nothing else read it
        Assert.Contains(g.Nodes, n => n.Name == "to_d"); // Flatten still reads the NCHW tensor
        Assert.Equal(["raw_a", "b", "c", "raw_d", "e", "f", "raw_f", "y"], g.Outputs.Select(o => o.Name));
    }

    private static void AssertSame(CalibrationResult expected, CalibrationResult actual)
    {
        Assert.Equal(expected.Samples, actual.Samples);
        foreach (string name in Tensors)
        {
            TensorObserver a = expected.Observers[name], b = actual.Observers[name];
            Assert.Equal(BitConverter.SingleToInt32Bits(a.Min), BitConverter.SingleToInt32Bits(b.Min));
            Assert.Equal(BitConverter.SingleToInt32Bits(a.Max), BitConverter.SingleToInt32Bits(b.Max));
            Assert.Equal(a.Count, b.Count);
            Assert.Equal(a.NonFinite, b.NonFinite);
            Assert.Equal(a.Histogram is null, b.Histogram is null);
            if (a.Histogram is not null)
            {
                Assert.Equal(a.Histogram.Start, b.Histogram!.Start);
                Assert.Equal(a.Histogram.BinWidth, b.Histogram.BinWidth);
                Assert.Equal(a.Histogram.Counts.ToArray(), b.Histogram.Counts.ToArray());
            }
        }

        Assert.True(expected.Observers["c2"].Count > 0);
    }
}
