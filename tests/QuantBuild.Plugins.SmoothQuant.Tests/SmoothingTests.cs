using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.PassKit;
using Xunit.Abstractions;

namespace QuantBuild.Plugins.SmoothQuant.Tests;

/// <summary>The pass called directly on the tiny transformer sample and its outlier variant.</summary>
public sealed class SmoothingTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("model.onnx", 0.5, false)]
    [InlineData("model_outliers.onnx", 0.5, false)]
    [InlineData("model_outliers.onnx", 0.85, true)]
    public void SmoothedFp32ModelComputesTheSameFunction(string file, double alpha, bool insertMulEverywhere)
    {
        OnnxModel original = Samples.Load(file);
        OnnxModel smoothed = Samples.Load(file);
        var options = new SmoothQuantOptions { Alpha = alpha, Fold = insertMulEverywhere ? FoldPolicy.InsertMul : FoldPolicy.Auto };
        SmoothQuantResult result = SmoothQuantPass.Smooth(TestContext.For(smoothed, Samples.Calibration), options);

        // Q/K/V, proj, fc1, fc2 per block and the head: 9 activations, 13 linears.
        Assert.Equal(9, result.Groups.Count);
        Assert.Equal(13, result.Groups.Sum(g => g.Linears.Count));
        Assert.Contains(result.Groups, g => g.Scales.Any(s => Math.Abs(s - 1) > 0.05f));

        double relative = Samples.RelativeDifference(Samples.Logits(original), Samples.Logits(smoothed));
        output.WriteLine($"{file} alpha {alpha}: max |Δlogit| / max |logit| = {relative:E2}");
        Assert.True(relative < 1e-4, $"smoothing changed the function: relative difference {relative:E2}");
    }

    [Fact]
    public void QueryKeyAndValueShareOneSmoothingVectorFromAllThreeWeights()
    {
        OnnxModel model = Samples.Load("model_outliers.onnx");
        var before = new GraphIndex(model);
        Node[] qkv = model.Graph.Nodes.Where(n => n.Name is "/blocks.0/q/MatMul" or "/blocks.0/k/MatMul" or "/blocks.0/v/MatMul").ToArray();
        Assert.Equal(3, qkv.Length);
        float[][] old = qkv.Select(n => before.FloatConstant(n.Inputs[1], out _)!).ToArray();

        SmoothQuantResult result = SmoothQuantPass.Smooth(TestContext.For(model, Samples.Calibration), new SmoothQuantOptions { Alpha = 0.5 });

        GroupResult group = result.Groups.Single(g => g.Linears.Contains("/blocks.0/q/MatMul"));
        Assert.Equal(["/blocks.0/q/MatMul", "/blocks.0/k/MatMul", "/blocks.0/v/MatMul"], group.Linears);
        var after = new GraphIndex(model);
        float[][] updated = qkv.Select(n => after.FloatConstant(n.Inputs[1], out _)!).ToArray();
        const int k = 64, n = 64;

        // Row j of each of the three weights was multiplied by the same s_j.
        for (int j = 0; j < k; j++)
        {
            for (int w = 0; w < 3; w++)
            {
                int col = Enumerable.Range(0, n).First(c => Math.Abs(old[w][j * n + c]) > 1e-6f);
                float ratio = updated[w][j * n + col] / old[w][j * n + col];
                Assert.Equal(group.Scales[j], ratio, group.Scales[j] * 1e-5f);
            }
        }

        // And s was computed from the maximum over all three weights' row j.
        var weightMax = new float[k];
        for (int j = 0; j < k; j++)
        {
            for (int w = 0; w < 3; w++)
            {
                for (int c = 0; c < n; c++)
                {
                    weightMax[j] = Math.Max(weightMax[j], Math.Abs(old[w][j * n + c]));
                }
            }
        }

        float[] activationMax = TestContext.For(Samples.Load("model_outliers.onnx"), Samples.Calibration)
            .CollectStatistics([group.Activation], -1)[group.Activation].ChannelAbsMax.ToArray();
        float[] expected = Smoother.Scales(activationMax, weightMax, 0.5, 1e-5);
        for (int j = 0; j < k; j++)
        {
            Assert.Equal(expected[j], group.Scales[j], expected[j] * 1e-5f);
        }

        // The outlier channels (3, 17, 40, 58 were scaled 30-80x) get the largest factors.
        int[] top = Enumerable.Range(0, k).OrderByDescending(j => group.Scales[j]).Take(4).Order().ToArray();
        Assert.Equal([3, 17, 40, 58], top);
    }

    [Fact]
    public void LayerNormOutputsFoldIntoTheNormWhileTheAttentionOutputGetsAMul()
    {
        OnnxModel model = Samples.Load("model_outliers.onnx");
        int mulsBefore = model.Graph.Nodes.Count(n => n.OpType == "Mul");
        var before = new GraphIndex(model);
        Node ln = model.Graph.Nodes.Single(n => n.Name == "/blocks.1/ln1/LayerNormalization");
        float[] gamma = before.FloatConstant(ln.Inputs[1], out _)!;
        float[] beta = before.FloatConstant(ln.Inputs[2], out _)!;

        SmoothQuantResult result = SmoothQuantPass.Smooth(TestContext.For(model, Samples.Calibration), new SmoothQuantOptions { Alpha = 0.5 });

        GroupResult norm = result.Groups.Single(g => g.Activation == ln.Outputs[0]);
        Assert.Equal(FoldKind.Producer, norm.Fold);
        Assert.Contains("LayerNormalization", norm.FoldDescription);
        var after = new GraphIndex(model);
        float[] newGamma = after.FloatConstant(ln.Inputs[1], out _)!;
        float[] newBeta = after.FloatConstant(ln.Inputs[2], out _)!;
        for (int j = 0; j < gamma.Length; j++)
        {
            Assert.Equal(gamma[j] / norm.Scales[j], newGamma[j], Math.Abs(gamma[j] / norm.Scales[j]) * 1e-5f + 1e-12f);
            Assert.Equal(beta[j] / norm.Scales[j], newBeta[j], Math.Abs(beta[j] / norm.Scales[j]) * 1e-5f + 1e-12f);
        }

        // proj reads the attention output (Transpose → Reshape): nothing to fold into, so a Mul by 1/s goes in front.
        GroupResult proj = result.Groups.Single(g => g.Linears.SequenceEqual(["/blocks.1/proj/MatMul"]));
        Assert.Equal(FoldKind.InsertedMul, proj.Fold);
        Node projNode = model.Graph.Nodes.Single(n => n.Name == "/blocks.1/proj/MatMul");
        Node mul = after.Producer(projNode.Inputs[0])!;
        Assert.Equal("Mul", mul.OpType);
        Assert.Equal(proj.Activation, mul.Inputs[0]);
        float[] inverse = after.FloatConstant(mul.Inputs[1], out _)!;
        Assert.Equal(1f / proj.Scales[5], inverse[5], 1e-6f / proj.Scales[5]);
        Assert.True(model.Graph.Nodes.IndexOf(mul) < model.Graph.Nodes.IndexOf(projNode));

        // fc2 reads GELU's last Mul by the scalar 0.5: that constant becomes the per-channel 0.5/s.
        GroupResult fc2 = result.Groups.Single(g => g.Linears.SequenceEqual(["/blocks.1/fc2/MatMul"]));
        Assert.Equal(FoldKind.Producer, fc2.Fold);
        Assert.StartsWith("Mul", fc2.FoldDescription);

        // Only the two attention outputs got a new node; GELU's 0.5 Constant nodes became initializers.
        Assert.Equal(mulsBefore + 2, model.Graph.Nodes.Count(n => n.OpType == "Mul"));
    }

    [Fact]
    public void InsertMulPolicyLeavesTheNormsAlone()
    {
        OnnxModel model = Samples.Load("model_outliers.onnx");
        int mulsBefore = model.Graph.Nodes.Count(n => n.OpType == "Mul");
        Node ln = model.Graph.Nodes.Single(n => n.Name == "/blocks.0/ln1/LayerNormalization");
        string gammaName = ln.Inputs[1];

        SmoothQuantResult result = SmoothQuantPass.Smooth(TestContext.For(model, Samples.Calibration), new SmoothQuantOptions { Fold = FoldPolicy.InsertMul });

        Assert.All(result.Groups, g => Assert.Equal(FoldKind.InsertedMul, g.Fold));
        Assert.Equal(mulsBefore + 9, model.Graph.Nodes.Count(n => n.OpType == "Mul"));
        Assert.Equal(gammaName, ln.Inputs[1]);
    }

    [Fact]
    public void NormOnlyPolicyFoldsIntoNormsAndInsertsMulsElsewhere()
    {
        OnnxModel model = Samples.Load("model.onnx");
        SmoothQuantResult result = SmoothQuantPass.Smooth(TestContext.For(model, Samples.Calibration), new SmoothQuantOptions { Fold = FoldPolicy.NormOnly });
        Assert.Equal(5, result.Groups.Count(g => g.Fold == FoldKind.Producer && g.FoldDescription.StartsWith("LayerNormalization", StringComparison.Ordinal)));
        Assert.Equal(4, result.Groups.Count(g => g.Fold == FoldKind.InsertedMul));

        OnnxModel skipping = Samples.Load("model.onnx");
        SmoothQuantResult skipped = SmoothQuantPass.Smooth(TestContext.For(skipping, Samples.Calibration), new SmoothQuantOptions { Fold = FoldPolicy.FoldOrSkip });
        Assert.Equal(7, skipped.Groups.Count);
        Assert.DoesNotContain(skipped.Groups, g => g.Fold != FoldKind.Producer);
    }

    [Fact]
    public void AlphaSearchPicksAnAlphaInRangeThatBeatsAlphaZeroAndNoSmoothing()
    {
        OnnxModel model = Samples.Load("model_outliers.onnx");
        var options = new SmoothQuantOptions { Search = new AlphaSearchOptions { AlphaMin = 0, AlphaMax = 1, AlphaStep = 0.1, Samples = 16, MaxRows = 1024 } };
        SmoothQuantResult result = SmoothQuantPass.Smooth(TestContext.For(model, Samples.Calibration), options);

        double alpha = result.Groups[0].Alpha;
        Assert.All(result.Groups, g => Assert.Equal(alpha, g.Alpha));
        Assert.InRange(alpha, 0.1, 1.0);
        Assert.Equal(0, Math.Round(alpha * 10) - alpha * 10, 6);
        double total(Func<(double[] Alphas, double[] Errors, double Unsmoothed), double> pick) => result.SearchErrors.Values.Sum(pick);
        double atChosen = total(e => e.Errors[Array.IndexOf(e.Alphas, alpha)]);
        double atZero = total(e => e.Errors[0]);
        double unsmoothed = total(e => e.Unsmoothed);
        output.WriteLine($"alpha {alpha}: summed block error {atChosen:0.#####}, at alpha 0: {atZero:0.#####}, unsmoothed {unsmoothed:0.#####}");
        Assert.True(atChosen < atZero, $"alpha {alpha} ({atChosen}) does not beat alpha 0 ({atZero})");
        Assert.True(atChosen < 0.25 * unsmoothed, $"alpha {alpha} ({atChosen}) is not well below no smoothing ({unsmoothed})");
        foreach ((double[] alphas, double[] errors, _) in result.SearchErrors.Values)
        {
            Assert.Equal(11, alphas.Length);
        }

        // Per layer, each activation gets its own minimiser, which is also in range.
        OnnxModel perLayerModel = Samples.Load("model_outliers.onnx");
        options.Search.PerLayer = true;
        options.Search.AlphaMin = 0.2;
        options.Search.AlphaMax = 0.8;
        SmoothQuantResult perLayer = SmoothQuantPass.Smooth(TestContext.For(perLayerModel, Samples.Calibration), options);
        foreach (GroupResult g in perLayer.Groups)
        {
            Assert.InRange(g.Alpha, 0.2, 0.8 + 1e-9);
            (double[] a, double[] e, _) = perLayer.SearchErrors[g.Activation];
            Assert.Equal(e.Min(), e[Array.IndexOf(a, g.Alpha)]);
        }
    }

    [Fact]
    public void FakeQuantizationMatchesTheEncodersGrids()
    {
        float[] x = [-1f, 0f, 0.5f, 3f];
        BlockError.FakeQuantizeActivations(x, QuantSpec.Default);
        // Asymmetric uint8 over [-1, 3]: zero point round(1/scale) = 64, so -1 lands on the nearest grid point.
        float scale = 4f / 255f;
        Assert.Equal(-64 * scale, x[0], 1e-6f);
        Assert.Equal(0f, x[1], 1e-6f);
        Assert.Equal(MathF.Round(0.5f / scale) * scale, x[2], 1e-6f);
        Assert.Equal(3f, x[3], 2e-2f);

        float[] w = [0.5f, -1f, 0.25f, 2f, 0.005f, 1f];
        BlockError.FakeQuantizeWeights(w, 2, 3, QuantSpec.Default);
        Assert.Equal(-1f, w[1], 1e-6f);
        Assert.Equal(MathF.Round(0.5f * 127) / 127, w[0], 1e-6f);
        Assert.Equal(2f, w[3], 1e-6f);
        Assert.Equal(0f, w[4], 1e-6f);
    }

    [Fact]
    public void TheSearchQuantizesWeightsAtTheTargetsWidth()
    {
        OnnxModel model = Samples.Load("model.onnx");
        Assert.Equal(127, SmoothQuantPass.WeightQMax(TestContext.For(model, Samples.Calibration)));
        Assert.Equal(63, SmoothQuantPass.WeightQMax(TestContext.For(model, Samples.Calibration, device: "cpu-x64-avx2")));
        Assert.Equal(7, SmoothQuantPass.WeightQMax(TestContext.For(model, Samples.Calibration, weights: new(4, true, 32))));
    }

    [Fact]
    public void ScalesFollowTheFormulaAndLeaveDeadChannelsAlone()
    {
        float[] s = Smoother.Scales([4f, 0f, 100f], [0.25f, 1f, 0f], 0.5, 1e-5);
        Assert.Equal(4f, s[0], 1e-5f);   // sqrt(4) / sqrt(0.25)
        Assert.Equal(1f, s[1]);          // no activation
        Assert.Equal(1f, s[2]);          // no weight
        float[] strong = Smoother.Scales([16f], [4f], 0.75, 1e-5);
        Assert.Equal(MathF.Pow(16, 0.75f) / MathF.Pow(4, 0.25f), strong[0], 1e-4f);
    }
}
