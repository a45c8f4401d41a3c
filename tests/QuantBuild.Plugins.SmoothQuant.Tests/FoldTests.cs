using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Onnx;
using QuantBuild.Runtime;
using Xunit.Abstractions;

namespace QuantBuild.Plugins.SmoothQuant.Tests;

/// <summary>
/// The producers the transformer sample does not have, on a small hand-built graph run through ONNX Runtime:
/// a decomposed norm's Mul(γ)/Add(β), a MatMul+Add linear before the next one, and a Gemm (transB = 1) before a Gemm.
/// </summary>
public sealed class FoldTests(ITestOutputHelper output)
{
    private const int Samples = 24;
    private const int Seq = 6;
    private const int K = 8;

    [Fact]
    public void DecomposedNormPrecedingMatMulAndGemmAreFoldedAndTheFunctionIsKept()
    {
        OnnxModel original = Build();
        OnnxModel model = Build();
        int nodes = model.Graph.Nodes.Count;

        SmoothQuantResult result = SmoothQuantPass.Smooth(TestContext.For(model, Inputs()), new SmoothQuantOptions { Alpha = 0.5 });

        foreach (GroupResult g in result.Groups)
        {
            output.WriteLine($"{string.Join("/", g.Linears)}: {g.Fold} {g.FoldDescription}; s = [{string.Join(", ", g.Scales.Select(s => s.ToString("0.###")))}]");
        }

        GroupResult norm = result.Groups.Single(g => g.Linears.SequenceEqual(["mm1"]));
        Assert.Equal(FoldKind.Producer, norm.Fold);
        Assert.Equal("Mul gamma_mul constant + Add beta_add constant", norm.FoldDescription);

        GroupResult linear = result.Groups.Single(g => g.Linears.SequenceEqual(["mm3"]));
        Assert.Equal(FoldKind.Producer, linear.Fold);
        Assert.Equal("MatMul mm2 weight columns + Add bias_add constant", linear.FoldDescription);

        GroupResult gemm = result.Groups.Single(g => g.Linears.SequenceEqual(["gemm1"]));
        Assert.Equal(FoldKind.Producer, gemm.Fold);
        Assert.StartsWith("Gemm gemm0", gemm.FoldDescription);

        // mm0 and mm2 both read the graph input x: one group, one s, one inserted Mul; gemm0 reads x2: another.
        GroupResult input = result.Groups.Single(g => g.Activation == "x");
        Assert.Equal(["mm0", "mm2"], input.Linears);
        Assert.Equal(FoldKind.InsertedMul, input.Fold);
        Assert.Equal(FoldKind.InsertedMul, result.Groups.Single(g => g.Activation == "x2").Fold);
        Assert.Equal(2, Array.IndexOf(input.Scales, input.Scales.Max())); // the planted outlier channel
        Assert.Equal(nodes + 2, model.Graph.Nodes.Count);
        AssertSameFunction(original, model);
    }

    [Fact]
    public void NormOnlyFoldsTheDecomposedNormAndInsertsMulsBeforeTheLinears()
    {
        OnnxModel original = Build();
        OnnxModel model = Build();
        int nodes = model.Graph.Nodes.Count;

        SmoothQuantResult result = SmoothQuantPass.Smooth(TestContext.For(model, Inputs()), new SmoothQuantOptions { Fold = FoldPolicy.NormOnly, Alpha = 0.7 });

        Assert.Equal(FoldKind.Producer, result.Groups.Single(g => g.Linears.SequenceEqual(["mm1"])).Fold);
        Assert.Equal(FoldKind.InsertedMul, result.Groups.Single(g => g.Linears.SequenceEqual(["mm3"])).Fold);
        Assert.Equal(FoldKind.InsertedMul, result.Groups.Single(g => g.Linears.SequenceEqual(["gemm1"])).Fold);
        Assert.Equal(nodes + 4, model.Graph.Nodes.Count); // x, x2, h4 and h5 each get a Mul
        AssertSameFunction(original, model);
    }

    private void AssertSameFunction(OnnxModel original, OnnxModel smoothed)
    {
        IReadOnlyDictionary<string, DenseTensor> a = Run(original);
        IReadOnlyDictionary<string, DenseTensor> b = Run(smoothed);
        foreach (string name in new[] { "outA", "outB", "outC" })
        {
            double relative = SmoothQuant.Tests.Samples.RelativeDifference(a[name].AsSpan<float>().ToArray(), b[name].AsSpan<float>().ToArray());
            output.WriteLine($"{name}: relative difference {relative:E2}");
            Assert.True(relative < 1e-5, $"{name}: {relative:E2}");
        }
    }

    private static IReadOnlyDictionary<string, DenseTensor> Run(OnnxModel model)
    {
        using var session = new InferenceSession(OnnxModelSaver.SaveToBytes(model));
        return session.Run(Inputs().ToDictionary(i => i.Name, i => DenseTensor.FromFloats(i.Values, i.Shape)));
    }

    /// <summary>x [S,6,8] and x2 [S,8], channel 2 of each about 40x the rest.</summary>
    private static List<(string Name, float[] Values, long[] Shape)> Inputs()
    {
        var random = new Random(7);
        float[] Make(int count) => Enumerable.Range(0, count).Select(i => (float)((random.NextDouble() * 2 - 1) * (i % K == 2 ? 40 : 1 + i % 3))).ToArray();
        return [("x", Make(Samples * Seq * K), [Samples, Seq, K]), ("x2", Make(Samples * K), [Samples, K])];
    }

    private static OnnxModel Build()
    {
        var random = new Random(11);
        var model = new OnnxModel { IrVersion = 8, ProducerName = "smoothquant-test" };
        model.OpsetImports.Add(new OpsetImport(string.Empty, 17));
        Graph g = model.Graph;
        g.Name = "folds";
        void Constant(string name, int rows, int cols)
        {
            float[] values = Enumerable.Range(0, rows * cols).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
            g.Initializers.Add(rows == 1 ? TensorValue.FromFloats(name, values, cols) : TensorValue.FromFloats(name, values, rows, cols));
        }

        void Op(string name, string op, string[] inputs, string outputName, params NodeAttribute[] attributes)
        {
            var node = new Node { Name = name, OpType = op };
            node.Inputs.AddRange(inputs);
            node.Outputs.Add(outputName);
            node.Attributes.AddRange(attributes);
            g.Nodes.Add(node);
        }

        // A: x → MatMul W0 → Mul γ → Add β → MatMul W1 (a decomposed norm's affine end).
        Constant("W0", K, K);
        Constant("gamma", 1, K);
        Constant("beta", 1, K);
        Constant("W1", K, 4);
        Op("mm0", "MatMul", ["x", "W0"], "h0");
        Op("gamma_mul", "Mul", ["h0", "gamma"], "h1");
        Op("beta_add", "Add", ["h1", "beta"], "h2");
        Op("mm1", "MatMul", ["h2", "W1"], "outA");

        // B: x → MatMul W2 → Add b2 → MatMul W3 (a Linear before a Linear).
        Constant("W2", K, K);
        Constant("b2", 1, K);
        Constant("W3", K, 4);
        Op("mm2", "MatMul", ["x", "W2"], "h3");
        Op("bias_add", "Add", ["h3", "b2"], "h4");
        Op("mm3", "MatMul", ["h4", "W3"], "outB");

        // C: x2 → Gemm(B [8,8] transposed, C) → Gemm(B [4,8] transposed, C).
        Constant("G0", K, K);
        Constant("c0", 1, K);
        Constant("G1", 4, K);
        Constant("c1", 1, 4);
        Op("gemm0", "Gemm", ["x2", "G0", "c0"], "h5", NodeAttribute.FromInt("transB", 1));
        Op("gemm1", "Gemm", ["h5", "G1", "c1"], "outC", NodeAttribute.FromInt("transB", 1));

        g.Inputs.Add(Value("x", Dimension.Symbolic("n"), Dimension.Fixed(Seq), Dimension.Fixed(K)));
        g.Inputs.Add(Value("x2", Dimension.Symbolic("n"), Dimension.Fixed(K)));
        g.Outputs.Add(Value("outA", Dimension.Symbolic("n"), Dimension.Fixed(Seq), Dimension.Fixed(4)));
        g.Outputs.Add(Value("outB", Dimension.Symbolic("n"), Dimension.Fixed(Seq), Dimension.Fixed(4)));
        g.Outputs.Add(Value("outC", Dimension.Symbolic("n"), Dimension.Fixed(4)));
        return model;
    }

    private static ValueInfo Value(string name, params Dimension[] dims)
    {
        var shape = new TensorShape();
        shape.Dims.AddRange(dims);
        return new ValueInfo { Name = name, Type = new TensorTypeInfo { ElementType = ElementType.Float, Shape = shape } };
    }
}
