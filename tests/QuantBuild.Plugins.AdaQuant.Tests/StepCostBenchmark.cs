using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Passes;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Onnx;
using Xunit.Abstractions;

namespace QuantBuild.Plugins.AdaQuant.Tests;

/// <summary>
/// Per layer of the CNN: the time to build H, one H-based AdaRound step, and one step of the naive per-sample
/// formulation (Ŵ·X and its gradient over every input row), extrapolated to 10,000 full-batch iterations.
/// A measurement for docs/benchmarks.md, not a check: it is compiled only with -p:AdaQuantBench=true (see the csproj),
/// so the normal test run neither runs nor skips it.
/// </summary>
public sealed class StepCostBenchmark(ITestOutputHelper output)
{
    [Fact]
    public void MeasureStepCosts()
    {
        string sample = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "samples", "fashion-mnist");
        OnnxModel model = OnnxModelLoader.Load(Path.Combine(sample, "model.onnx"));
        var context = SampleContext.For(model, Path.Combine(sample, "data", "calibration.npy"), 64, new TargetWeightFormat(4, true, null));
        var index = new QuantBuild.PassKit.GraphIndex(model);
        List<Node> nodes = model.Graph.Nodes.Where(n => n.OpType is "Conv" or "Gemm").ToList();
        IReadOnlyDictionary<string, DenseTensor> x = context.CaptureActivations(nodes.Select(n => n.Inputs[0]).Distinct().ToList(), 256);
        output.WriteLine("| layer | out×in | input rows N | H build | H step | naive step (measured over) | 10,000 H steps | 10,000 naive steps |");
        output.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- |");
        foreach (Node node in nodes)
        {
            LayerShape layer = LayerShape.TryCreate(index, node, out _)!;
            var clock = Stopwatch.StartNew();
            var m = new Moments(layer.K, layer.Groups, false);
            layer.Accumulate(x[node.Inputs[0]], x[node.Inputs[0]], m, CancellationToken.None);
            LayerObjective obj = LayerObjective.Build(m, layer.Matrix(), layer.Rows, centered: true);
            double build = clock.Elapsed.TotalSeconds;

            var grid = Grid.Signed(4, layer.K);
            var settings = new OptimizerSettings { Mode = AdaQuantMode.Adaround, ScaleSearch = false, Iterations = 0 };
            clock.Restart();
            RoundingOptimizer.Solve(obj, grid, settings);
            double fixedCost = clock.Elapsed.TotalSeconds;
            int hIters = 200;
            clock.Restart();
            RoundingOptimizer.Solve(obj, grid, settings with { Iterations = hIters });
            double hStep = Math.Max(0, clock.Elapsed.TotalSeconds - fixedCost) / hIters;

            // Naive: rows X [N, K] kept in memory; per step every output channel recomputes (Ŵ−W)·x_n for every row and
            // accumulates the gradient Σ_n e_n·x_n: 4·out·K·N flops, what a per-sample (autograd) implementation does.
            float[] rows = Rows(layer, x[node.Inputs[0]], (int)m.N);
            long n = m.N;
            int naiveIters = (int)Math.Clamp(2e9 / (4.0 * layer.Rows * layer.K * n), 2, 300);
            float[] d = TestData.Gaussian(new Random(1), (long)layer.Rows * layer.K, 0.01f);
            var grad = new float[d.Length];
            clock.Restart();
            for (int it = 0; it < naiveIters; it++)
            {
                Parallel.For(0, layer.Rows, o =>
                {
                    Span<float> g = grad.AsSpan(o * layer.K, layer.K);
                    ReadOnlySpan<float> dr = d.AsSpan(o * layer.K, layer.K);
                    g.Clear();
                    for (long r = 0; r < n; r++)
                    {
                        ReadOnlySpan<float> xr = rows.AsSpan((int)(r * layer.K), layer.K);
                        float e = TensorPrimitives.Dot(dr, xr);
                        TensorPrimitives.MultiplyAdd(xr, e, g, g);
                    }
                });
            }

            double naiveStep = clock.Elapsed.TotalSeconds / naiveIters;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {layer.Name} | {layer.Rows}×{layer.K} | {n} | {build:0.00} s | {hStep * 1e3:0.00} ms | {naiveStep * 1e3:0.0} ms ({naiveIters} its) | {hStep * 1e4:0.0} s | {naiveStep * 1e4 / 60:0.0} min |"));
        }
    }

    private static float[] Rows(LayerShape layer, DenseTensor input, int n)
    {
        // Reuse the patch extraction: a Moments that keeps every row.
        var m = new Moments(layer.K, 1, false);
        m.Retain(n);
        layer.Accumulate(input, input, m, CancellationToken.None);
        return m.Kept[0]!;
    }
}
